/**
 * Columnar exchange between DuckDB and typed arrays, for the model steps that run in
 * TypeScript (BG/NBD and Gamma-Gamma over millions of customers). Reading goes chunk by
 * chunk into Float64Arrays; writing fills DuckDB data chunks and appends them whole — far
 * cheaper than a value-at-a-time round trip.
 */
import type { DuckDBVector } from '@duckdb/node-api';
import { DOUBLE, DuckDBDataChunk } from './duckdb.js';
import { ident, type Store } from './db.js';

/**
 * Run `sql` and return each column as a Float64Array (NULL becomes NaN). Every column is cast
 * to DOUBLE by DuckDB first, so the copy is a plain number loop. `shared`: the arrays'
 * buffers are SharedArrayBuffers.
 */
export async function readNumericColumns(store: Store, sql: string, opts: { shared?: boolean } = {}): Promise<Record<string, Float64Array>> {
  // The connection is this read's until its last chunk (Store.exclusive).
  return store.exclusive(() => readColumns(store, sql, opts));
}

async function readColumns(store: Store, sql: string, opts: { shared?: boolean }): Promise<Record<string, Float64Array>> {
  const described = await store.all<{ column_name: string }>(`DESCRIBE SELECT * FROM (${sql})`);
  const names = described.map((d) => d.column_name);
  const result = await store.conn.run(`SELECT ${names.map((n) => `CAST(${ident(n)} AS DOUBLE) AS ${ident(n)}`).join(', ')} FROM (${sql})`);
  // The result is materialised, so its row count is known: each column is allocated once at its
  // size (growing by doubling and trimming held up to 3× the column at once: at 100M lines the
  // Gamma-Gamma input, 13.9M rows, is 111 MB per column). shared: in SharedArrayBuffers, which
  // the model workers read without a copy (models/shared-arrays.ts).
  const total = result.rowCount;
  const columns = names.map(() => (opts.shared ? new Float64Array(new SharedArrayBuffer(total * Float64Array.BYTES_PER_ELEMENT)) : new Float64Array(total)));
  let length = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const rows = chunk.rowCount;
    if (length + rows > total) throw new Error(`readNumericColumns: more rows than the result's count ${total}`);
    for (let c = 0; c < names.length; c++) {
      const vector = chunk.getColumnVector(c) as DuckDBVector<number>;
      const out = columns[c];
      for (let r = 0; r < rows; r++) {
        const v = vector.getItem(r);
        out[length + r] = v === null ? NaN : v;
      }
    }
    length += rows;
  }
  if (length !== total) throw new Error(`readNumericColumns: ${length} rows read of the result's ${total}`);
  return Object.fromEntries(names.map((n, i) => [n, columns[i]]));
}

const CHUNK_ROWS = 2048;

/**
 * Create (or replace) a temporary table of DOUBLE columns from typed arrays of equal length.
 */
export async function writeDoubleTable(store: Store, table: string, columns: Record<string, Float64Array>): Promise<void> {
  // The connection is this appender's until it is closed (Store.exclusive).
  return store.exclusive(() => appendDoubles(store, table, columns));
}

async function appendDoubles(store: Store, table: string, columns: Record<string, Float64Array>): Promise<void> {
  const names = Object.keys(columns);
  const n = names.length ? columns[names[0]].length : 0;
  for (const name of names) {
    if (columns[name].length !== n) throw new Error(`writeDoubleTable: column ${name} has ${columns[name].length} rows, expected ${n}`);
  }
  await store.run(`CREATE OR REPLACE TEMP TABLE ${ident(table)} (${names.map((c) => `${ident(c)} DOUBLE`).join(', ')})`);
  const appender = await store.conn.createAppender(table, 'main', 'temp');
  const types = names.map(() => DOUBLE);
  for (let start = 0; start < n; start += CHUNK_ROWS) {
    const rows = Math.min(CHUNK_ROWS, n - start);
    const chunk = DuckDBDataChunk.create(types, rows);
    for (let c = 0; c < names.length; c++) {
      const vector = chunk.getColumnVector(c) as DuckDBVector<number>;
      const source = columns[names[c]];
      for (let r = 0; r < rows; r++) {
        const v = source[start + r];
        vector.setItem(r, Number.isFinite(v) ? v : null);
      }
      vector.flush();
    }
    chunk.rowCount = rows;
    appender.appendDataChunk(chunk);
  }
  appender.closeSync();
}

/** A column of writeTempRows: its SQL type and values (null, or a non-finite number, is NULL). */
export type TempColumn =
  | { type: 'VARCHAR'; values: readonly (string | null)[] }
  | { type: 'DOUBLE' | 'INTEGER'; values: ArrayLike<number> };

/**
 * Create (or replace) a small temporary table from columns of equal length, text and numbers
 * (the run's per-key model outputs: hundreds of rows, appended row by row).
 */
export async function writeTempRows(store: Store, table: string, columns: Record<string, TempColumn>): Promise<void> {
  return store.exclusive(() => appendRows(store, table, columns));
}

async function appendRows(store: Store, table: string, columns: Record<string, TempColumn>): Promise<void> {
  const names = Object.keys(columns);
  const n = names.length ? columns[names[0]].values.length : 0;
  for (const name of names) {
    if (columns[name].values.length !== n) throw new Error(`writeTempRows: column ${name} has ${columns[name].values.length} rows, expected ${n}`);
  }
  await store.run(`CREATE OR REPLACE TEMP TABLE ${ident(table)} (${names.map((c) => `${ident(c)} ${columns[c].type}`).join(', ')})`);
  const appender = await store.conn.createAppender(table, 'main', 'temp');
  for (let r = 0; r < n; r++) {
    for (const name of names) {
      const column = columns[name];
      const v = column.values[r];
      if (v === null || (typeof v === 'number' && !Number.isFinite(v))) appender.appendNull();
      else if (column.type === 'VARCHAR') appender.appendVarchar(v as string);
      else if (column.type === 'INTEGER') appender.appendInteger(v as number);
      else appender.appendDouble(v as number);
    }
    appender.endRow();
  }
  appender.closeSync();
}
