/**
 * `crm query "SQL"`: read-only ad-hoc SQL against the store. Two locks keep it read-only:
 * the store is opened READ_ONLY, and every statement is prepared first and refused unless it
 * only reads (SELECT, EXPLAIN, PRAGMA, CALL) — so a write gets a clear message instead of a
 * DuckDB error, and COPY … TO, ATTACH or EXPORT cannot write files either.
 */
import { StatementType } from '@duckdb/node-api';
import { queryError, messageOf, CrmError } from '../util/errors.js';
import { hasTerminalControl, jsonText, renderTable } from '../util/format.js';
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
    let extracted;
    try {
      extracted = await store.conn.extractStatements(sql);
    } catch (err) {
      throw queryError(cleanDuckDbMessage(err));
    }
    const results: QueryResult[] = [];
    for (let i = 0; i < extracted.count; i++) {
      let prepared;
      try {
        prepared = await extracted.prepare(i);
      } catch (err) {
        throw queryError(cleanDuckDbMessage(err));
      }
      const type = prepared.statementType;
      if (!READ_ONLY_TYPES.has(type)) {
        throw queryError(`crm query is read-only: ${StatementType[type] ?? 'this'} statements are refused`, [
          'Tables are written by crm ingest and crm run; to change the store by hand, open it with DuckDB directly.',
        ]);
      }
      try {
        const reader = await prepared.runAndReadAll();
        results.push({ columns: reader.deduplicatedColumnNames(), rows: readerObjects(reader) });
      } catch (err) {
        throw queryError(cleanDuckDbMessage(err));
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

function cleanDuckDbMessage(err: unknown): string {
  return messageOf(err).trim();
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
