/**
 * A SQL expression evaluated on each of some text values in DuckDB (the ingest's value
 * expressions, src/ingest/values.ts), results as text in the values' order: NULL stays null.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { literal } from '../../src/store/db.js';

export async function evalExpr(conn: DuckDBConnection, values: string[], expr: (col: string) => string): Promise<(string | null)[]> {
  const rows = values.map((v, i) => `(${i}, ${literal(v)})`).join(', ');
  const reader = await conn.runAndReadAll(`SELECT CAST(${expr('v')} AS VARCHAR) AS out FROM (VALUES ${rows}) t(i, v) ORDER BY i`);
  return reader.getRowObjectsJS().map((r) => (r.out === null ? null : String(r.out)));
}
