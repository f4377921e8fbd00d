/**
 * The SELECT that feeds every export writer. The caller's query is wrapped, never edited:
 *
 *   SELECT <chosen columns, masked and type-normalised> FROM (<caller's query>) AS src
 *
 * so --columns and --mask-pii apply identically to every format, the per-format details (CSV
 * formula defusing, type narrowing for the JS writers) live in one place, and DuckDB keeps the
 * inner query's ORDER BY (a projection over an ordered subquery does not reorder rows; the
 * tests check the order of every format).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBTypeId } from '../store/duckdb.js';
import { ident } from '../store/db.js';
import { usageError } from '../util/errors.js';
import { maskSql, piiKindOf, type PiiColumns, type PiiKind } from './pii.js';
import { defuseFormula, defuseFormulaSql } from './safe-cells.js';
import { kindOfType } from './writers/types.js';

export interface SourceColumn {
  name: string;
  typeId: DuckDBTypeId;
}

export interface SelectedColumn extends SourceColumn {
  /** Set when the column's values are masked. */
  pii: PiiKind | null;
}

/** The caller's SQL without trailing semicolons, so that it can be used as a subquery. */
export function asSubquery(sql: string): string {
  return sql.trim().replace(/;+\s*$/, '');
}

/** Column names and types of a query, as the wrapping SELECT sees them, without running it. */
export async function describeQuery(conn: DuckDBConnection, sql: string): Promise<SourceColumn[]> {
  const prepared = await conn.prepare(`SELECT * FROM (\n${asSubquery(sql)}\n) AS src`);
  try {
    const columns: SourceColumn[] = [];
    for (let i = 0; i < prepared.columnCount; i++) {
      columns.push({ name: prepared.columnName(i), typeId: prepared.columnTypeId(i) });
    }
    return columns;
  } finally {
    prepared.destroySync();
  }
}

/**
 * The columns to export: all of them in query order, or `wanted` in the given order. Names match
 * exactly first, then case-insensitively; anything else is a usage error listing what exists.
 */
export function chooseColumns(
  available: SourceColumn[],
  wanted: string[] | undefined,
  mask: PiiColumns | null,
): SelectedColumn[] {
  const withPii = (c: SourceColumn): SelectedColumn => ({ ...c, pii: mask ? piiKindOf(c.name, mask) : null });
  if (!wanted || wanted.length === 0) return available.map(withPii);
  const unknown: string[] = [];
  const chosen: SelectedColumn[] = [];
  for (const name of wanted) {
    const exact = available.find((c) => c.name === name);
    const folded = available.filter((c) => c.name.toLowerCase() === name.toLowerCase());
    const match = exact ?? (folded.length === 1 ? folded[0] : undefined);
    if (match) chosen.push(withPii(match));
    else unknown.push(name);
  }
  if (unknown.length > 0) {
    throw usageError(
      `unknown column${unknown.length > 1 ? 's' : ''} for --columns: ${unknown.join(', ')}`,
      [`Available columns: ${available.map((c) => c.name).join(', ')}`],
    );
  }
  const seen = new Set<string>();
  for (const c of chosen) {
    if (seen.has(c.name)) throw usageError(`column ${c.name} is listed twice in --columns`);
    seen.add(c.name);
  }
  return chosen;
}

const NESTED_TYPES = new Set<DuckDBTypeId>([
  DuckDBTypeId.LIST,
  DuckDBTypeId.STRUCT,
  DuckDBTypeId.MAP,
  DuckDBTypeId.ARRAY,
  DuckDBTypeId.UNION,
  DuckDBTypeId.VARIANT,
]);

/**
 * Narrow a column for the XLSX/Arrow writers to a type they take as it is (`kindOfType`):
 * nested values become JSON text, timestamps of other precisions become TIMESTAMP, UINTEGER
 * becomes BIGINT, everything else unusual (TIME, INTERVAL, UUID, ENUM, BLOB, ...) its text form.
 */
function narrowForWriters(expr: string, typeId: DuckDBTypeId): string {
  if (kindOfType(typeId) !== null) return expr;
  if (NESTED_TYPES.has(typeId)) return `CAST(to_json(${expr}) AS VARCHAR)`;
  switch (typeId) {
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return `CAST(${expr} AS TIMESTAMP)`;
    case DuckDBTypeId.UINTEGER:
      return `CAST(${expr} AS BIGINT)`;
    default:
      return `CAST(${expr} AS VARCHAR)`;
  }
}

/** True when DuckDB's CSV writer prints the type as a plain number, boolean, date or timestamp. */
function csvPrintsNatively(typeId: DuckDBTypeId): boolean {
  switch (typeId) {
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return true;
    default: {
      const kind = kindOfType(typeId);
      // TIMESTAMPTZ would follow the session time zone: it is printed as UTC text instead.
      return kind !== null && kind !== 'text' && kind !== 'timestamptz';
    }
  }
}

/**
 * A column for DuckDB's CSV writer: numbers, booleans, dates and timestamps as DuckDB prints
 * them; everything else as text, defused against formula injection. TIMESTAMPTZ is printed in
 * UTC (`... +00`) so that the file does not depend on the exporting machine's time zone.
 */
function csvExpr(col: string, typeId: DuckDBTypeId, masked: boolean): string {
  if (!masked && csvPrintsNatively(typeId)) return col;
  let text: string;
  if (masked || typeId === DuckDBTypeId.VARCHAR) text = col;
  else if (typeId === DuckDBTypeId.TIMESTAMP_TZ) text = `CAST(timezone('UTC', ${col}) AS VARCHAR) || '+00'`;
  else if (NESTED_TYPES.has(typeId)) text = `CAST(to_json(${col}) AS VARCHAR)`;
  else text = `CAST(${col} AS VARCHAR)`;
  return defuseFormulaSql(text);
}

/**
 * Who consumes the SELECT: DuckDB's COPY to Parquet/JSON (native types), DuckDB's COPY to CSV
 * (text defused, header names defused), or the JS writers for XLSX/Arrow (narrowed types).
 */
export type SqlTarget = 'copy-native' | 'copy-csv' | 'row-writers';

/** The export SELECT over the caller's query. */
export function exportSelect(sql: string, columns: SelectedColumn[], target: SqlTarget): string {
  const list = columns.map((c) => {
    const col = `src.${ident(c.name)}`;
    // Masked values are VARCHAR already.
    const value = c.pii ? maskSql(c.pii, col) : col;
    let expr: string;
    let alias = c.name;
    switch (target) {
      case 'copy-native':
        expr = value;
        break;
      case 'copy-csv':
        expr = csvExpr(value, c.typeId, c.pii !== null);
        alias = defuseFormula(c.name); // DuckDB writes the header from the aliases
        break;
      case 'row-writers':
        expr = c.pii ? value : narrowForWriters(col, c.typeId);
        break;
    }
    return `  ${expr} AS ${ident(alias)}`;
  });
  return `SELECT\n${list.join(',\n')}\nFROM (\n${asSubquery(sql)}\n) AS src`;
}
