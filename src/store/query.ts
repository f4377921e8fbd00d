/**
 * `crm query "SQL"`: read-only ad-hoc SQL against the store, and the locks every piece of user
 * SQL runs under (notebook cells too, see reports/notebook.ts):
 * - the store is opened READ_ONLY;
 * - `lockToStore` then closes the file system: no file, URL or other database can be opened
 *   (DuckDB's enable_external_access = false, except under folders a notebook is given with
 *   --allow-files), and lock_configuration keeps SQL from undoing it. No extension is installed
 *   or loaded on demand either (Store.open turns autoloading off).
 * - every statement is prepared and refused unless it only reads (SELECT, EXPLAIN, PRAGMA,
 *   CALL), so a write gets a clear message instead of a DuckDB error.
 * The lock comes before any statement is prepared because binding may already touch the file
 * system (binding EXPORT DATABASE creates its folder): locked, a refused statement leaves no trace.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { StatementType } from './duckdb.js';
import { queryError, messageOf, CrmError } from '../util/errors.js';
import { hasTerminalControl, jsonText, renderTable } from '../util/format.js';
import { literal } from './sql.js';
import { readerObjects, Store, type Row } from './db.js';

export type QueryFormat = 'table' | 'csv' | 'json';

const READ_ONLY_TYPES = new Set<number>([StatementType.SELECT, StatementType.EXPLAIN, StatementType.PRAGMA, StatementType.CALL]);

export interface QueryResult {
  columns: string[];
  rows: Row[];
}

/** Run read-only SQL (one or more statements); returns each statement's result. */
export async function runReadOnlyQuery(storePath: string, sql: string): Promise<QueryResult[]> {
  if (!sql.trim()) throw queryError('no SQL given');
  const store = await Store.open(storePath, { readOnly: true });
  try {
    await lockToStore(store);
    let extracted;
    try {
      extracted = await store.conn.extractStatements(sql);
    } catch (err) {
      throw queryError(cleanDuckDbMessage(err));
    }
    // One statement can be named before it is prepared: a write is refused without binding it.
    if (extracted.count === 1 && (await isQueryOnly(store.conn, sql)) === false) {
      const keyword = leadingKeyword(sql);
      if (keyword !== undefined && !READ_ONLY_KEYWORDS.has(keyword)) throw readOnlyError(keyword);
    }
    const results: QueryResult[] = [];
    for (let i = 0; i < extracted.count; i++) {
      let prepared;
      try {
        prepared = await extracted.prepare(i);
      } catch (err) {
        throw lockedOutError(err) ?? queryError(cleanDuckDbMessage(err));
      }
      const type = prepared.statementType;
      if (!READ_ONLY_TYPES.has(type)) throw readOnlyError(StatementType[type]);
      try {
        const reader = await prepared.runAndReadAll();
        results.push({ columns: reader.deduplicatedColumnNames(), rows: readerObjects(reader) });
      } catch (err) {
        throw lockedOutError(err) ?? queryError(cleanDuckDbMessage(err));
      }
    }
    return results;
  } catch (err) {
    if (err instanceof CrmError) throw err;
    throw queryError(cleanDuckDbMessage(err));
  } finally {
    store.close();
  }
}

/** The first keywords of the statements crm query runs besides queries (see READ_ONLY_TYPES). */
const READ_ONLY_KEYWORDS = new Set(['EXPLAIN', 'PRAGMA', 'CALL']);

function readOnlyError(statement: string | undefined): CrmError {
  return queryError(`crm query is read-only: ${statement ?? 'this'} statements are refused`, [
    'Tables are written by crm ingest and crm run; to change the store by hand, open it with DuckDB directly.',
  ]);
}

/**
 * A statement's first keyword (after comments and parentheses), upper-cased, to name a refused
 * statement before it is prepared; undefined for WITH, whose statement comes later.
 */
export function leadingKeyword(sql: string): string | undefined {
  const code = sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
  const word = /^[\s(]*([A-Za-z]+)/.exec(code)?.[1]?.toUpperCase();
  return word === 'WITH' ? undefined : word;
}

function cleanDuckDbMessage(err: unknown): string {
  return messageOf(err).trim();
}

/** crm query's own words for what the lock refused: a file or URL, or an extension; else null. */
function lockedOutError(err: unknown): CrmError | null {
  const message = messageOf(err);
  const file = refusedPath(message);
  if (file !== null) {
    return queryError(`crm query reads only the store: it cannot open "${file}"`, [
      'Files, URLs and other databases are locked. Load files with crm ingest; to read others, use DuckDB directly.',
    ]);
  }
  const extension = neededExtension(message);
  if (extension !== null) {
    return queryError(`${message.split('\n')[0].trim()}`, [
      `crm query does not install or load DuckDB extensions (this needs '${extension}'); use DuckDB directly for that.`,
    ]);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The lock for user SQL

/** The folders each locked instance allows (a lock cannot be changed once set). */
const lockedInstances = new WeakMap<object, string>();

/**
 * Lock a store's DuckDB instance before user SQL is prepared on it: no file, URL or database
 * other than the open store can be read or written, except under `allowedDirectories` (absolute
 * folders; DuckDB resolves `..` and symbolic links before comparing), and no setting can change
 * any more, so SQL cannot undo the lock. Instance-wide and for good: every connection of the
 * store is locked until it closes. Locking again with the same folders is a no-op.
 */
export async function lockToStore(store: Store, allowedDirectories: readonly string[] = []): Promise<void> {
  const key = JSON.stringify(allowedDirectories);
  const locked = lockedInstances.get(store.instance);
  if (locked === key) return;
  if (locked !== undefined) throw new Error(`lockToStore: the store is already locked to ${locked}, not ${key}`);
  const folders = allowedDirectories.map((d) => literal(d)).join(', ');
  await store.conn.run(
    `SET allowed_directories = [${folders}]::VARCHAR[]; SET enable_external_access = false; SET lock_configuration = true`,
  );
  lockedInstances.set(store.instance, key);
}

/** The file or URL the lock refused, from DuckDB's Permission Error; null for any other error. */
export function refusedPath(message: string): string | null {
  const m = /Cannot access (?:file|directory) "([^"]*)" - file system operations are disabled/.exec(message);
  return m ? m[1] : null;
}

/** The extension a statement needs that is not loaded ("… exists in the tpch extension"); else null. */
export function neededExtension(message: string): string | null {
  const m = /exists in the (\w+) extension/.exec(message);
  return m ? m[1] : null;
}

/**
 * Parse-only: whether `sql` holds nothing but queries (SELECT, FROM …, WITH … SELECT, VALUES,
 * DESCRIBE, SUMMARIZE, SHOW, PIVOT … IN). DuckDB's json_serialize_sql parses without binding,
 * so nothing runs and no file is touched; it serialises only query statements. Null when the
 * text does not parse (prepare it to get DuckDB's own error, with its LINE).
 */
export async function isQueryOnly(conn: DuckDBConnection, sql: string): Promise<boolean | null> {
  const reader = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS tree', [sql]);
  const tree = JSON.parse(String(readerObjects(reader)[0]?.tree)) as { error?: boolean; error_message?: string };
  if (!tree.error) return true;
  return /^Only SELECT statements/.test(tree.error_message ?? '') ? false : null;
}

/** Text of a value for table and CSV output. */
export function cellString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * RFC 4180 CSV: fields with a comma, quote, line break or other control character are quoted
 * (the value stays exact); quotes doubled.
 */
export function toCsv(result: QueryResult): string {
  const esc = (s: string) => (/[",]/.test(s) || hasTerminalControl(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [result.columns.map(esc).join(',')];
  for (const row of result.rows) lines.push(result.columns.map((c) => esc(cellString(row[c]))).join(','));
  return lines.join('\n') + '\n';
}

export function formatQueryResult(result: QueryResult, format: QueryFormat): string {
  switch (format) {
    case 'csv':
      return toCsv(result);
    case 'json':
      return jsonText(result.rows) + '\n';
    case 'table': {
      const body = renderTable(
        result.columns,
        result.rows.map((r) => result.columns.map((c) => cellString(r[c]))),
      );
      return `${body}\n(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})\n`;
    }
  }
}
