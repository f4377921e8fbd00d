/**
 * What the JS writers (XLSX, Arrow) receive: column-major batches of DuckDB values whose types
 * have been narrowed, in SQL, to a small set of kinds (`exportSelect(..., 'row-writers')` in
 * ../export-sql.ts). Keeping the set small keeps each writer a plain switch over kinds.
 * CSV, Parquet and JSON are written by DuckDB itself and never come through here.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { DuckDBTypeId } from '../../store/duckdb.js';

/**
 * - text: VARCHAR (also JSON, and anything exotic cast to text in SQL)
 * - int: up to 32-bit integers, JS number
 * - bigint: BIGINT, JS bigint (exact)
 * - hugeint: UBIGINT / HUGEINT / UHUGEINT, JS bigint (a double in XLSX and Arrow)
 * - float: FLOAT / DOUBLE, JS number
 * - decimal: DECIMAL, DuckDBDecimalValue (a double in XLSX and Arrow)
 * - date / timestamp / timestamptz: DuckDB date and timestamp values
 */
export type ValueKind =
  | 'text'
  | 'bool'
  | 'int'
  | 'bigint'
  | 'hugeint'
  | 'float'
  | 'decimal'
  | 'date'
  | 'timestamp'
  | 'timestamptz';

export interface OutputColumn {
  name: string;
  kind: ValueKind;
}

export interface ColumnBatch {
  rowCount: number;
  /** One array per column, `rowCount` values each (null for SQL NULL). */
  columns: DuckDBValue[][];
}

export interface BatchWriter {
  write(batch: ColumnBatch): Promise<void>;
  /** Flush and close the file. */
  finish(): Promise<void>;
  /** Close the file without completing it; the caller deletes it. Never throws. */
  abort(): Promise<void>;
  /** Things the user should know about the written file (truncated cells, ...). */
  readonly warnings: string[];
}

/** The kind of a result column, or null for a type the SQL layer should have cast away. */
export function kindOfType(typeId: DuckDBTypeId): ValueKind | null {
  switch (typeId) {
    case DuckDBTypeId.VARCHAR:
      return 'text';
    case DuckDBTypeId.BOOLEAN:
      return 'bool';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
      return 'int';
    case DuckDBTypeId.BIGINT:
      return 'bigint';
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return 'hugeint';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return 'float';
    case DuckDBTypeId.DECIMAL:
      return 'decimal';
    case DuckDBTypeId.DATE:
      return 'date';
    case DuckDBTypeId.TIMESTAMP:
      return 'timestamp';
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'timestamptz';
    default:
      return null;
  }
}

export const MS_PER_DAY = 86_400_000;

/** DuckDB's date/timestamp values as the underlying numbers (no Date allocation per call site). */
export function dateDays(v: DuckDBValue): number {
  return (v as { days: number }).days;
}

export function timestampMicros(v: DuckDBValue): bigint {
  return (v as { micros: bigint }).micros;
}

export function decimalToNumber(v: DuckDBValue): number {
  return (v as { toDouble(): number }).toDouble();
}

/** DuckDB's ±infinity dates and timestamps (INT32_MAX / INT64_MAX sentinels). */
const INFINITE_DAYS = 2_147_483_647;
const INFINITE_MICROS = 9_223_372_036_854_775_807n;

/** True for `infinity` / `-infinity`, which no spreadsheet or Arrow reader can represent. */
export function isInfiniteDate(days: number): boolean {
  return days >= INFINITE_DAYS || days <= -INFINITE_DAYS;
}

export function isInfiniteTimestamp(micros: bigint): boolean {
  return micros >= INFINITE_MICROS || micros <= -INFINITE_MICROS;
}
