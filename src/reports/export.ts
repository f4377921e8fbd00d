/**
 * Export writers: a SELECT (or a model segment) to CSV, XLSX, Parquet, Arrow IPC or JSON, for
 * marketing's e-mail and call tools. See docs/exports.md for the user-facing rules.
 *
 * Pipeline: describe the query → choose/mask/narrow columns in SQL (export-sql.ts, pii.ts) →
 * write to a temporary file next to the target → fsync → rename into place (atomic-file.ts).
 * CSV, Parquet and JSON are written by DuckDB's own COPY (for CSV the formula defusing is done
 * in the SELECT): 3–14 s for a million rows, where formatting them cell by cell in JS took 39 s.
 * XLSX and Arrow are written by the JS writers in ./writers/, fed one DuckDB chunk (2,048
 * rows) at a time.
 *
 * Why the row writers read a *materialized* result rather than DuckDB's streaming one: through
 * the C API (and so @duckdb/node-api), a streaming query that fails part-way simply ends — its
 * later chunks are empty, exactly as at a normal end, and the error is never reported. An
 * export of "At Risk" would then be silently truncated. A materialized result reports every
 * error before the first row is written. Its rows are held by DuckDB (native memory, not the JS
 * heap), and the JS side still converts one chunk at a time; see docs/exports.md for numbers.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DuckDBMaterializedResult } from '@duckdb/node-api';
import { literal, type Store } from '../store/db.js';
import { CrmError, outputError, queryError, storeError, usageError, messageOf } from '../util/errors.js';
import { formatCount } from '../util/format.js';
import type { Tick } from '../util/progress.js';
import { checkTarget, scratchFileFor, stageAtomically, type StagedFile } from './atomic-file.js';
import { CONTACT_COLUMNS, latestContactsSql } from './contacts.js';
import { checkOwner, ownerBookCondition } from './owner-filter.js';
import { chooseColumns, describeQuery, exportSelect, type SelectedColumn } from './export-sql.js';
import { resolvePiiColumns, type PiiColumns } from './pii.js';
import { openArrowWriter } from './writers/arrow.js';
import { kindOfType, type BatchWriter, type OutputColumn } from './writers/types.js';
import { XLSX_MAX_ROWS, openXlsxWriter } from './writers/xlsx.js';
import { parseFormat, type ExportFormat } from './export-options.js';

export { EXPORT_FORMATS, formatFromPath, parseColumns, parseFormat, type ExportFormat } from './export-options.js';

export interface ExportOptions {
  format: ExportFormat;
  /** The file to write (parent directories are created). */
  out: string;
  /** Columns to export, in this order (default: all, in query order). */
  columns?: string[];
  /** Mask e-mail and phone columns (see pii.ts). */
  maskPii?: boolean;
  /** Which column names hold e-mails / phone numbers (default: `email` / `phone`). */
  piiColumns?: Partial<PiiColumns>;
  /** Replace an existing file. */
  force?: boolean;
  /** CSV only: start with a UTF-8 byte-order mark so that Excel reads Chinese text correctly. */
  bom?: boolean;
  /** XLSX only: the sheet name (default: the file name without extension). */
  sheetName?: string;
  /** Progress in [0, 1] with a short detail ("12,288 rows"). */
  onProgress?: Tick;
  /**
   * Leave the written file staged under its temporary name (result.staged): the caller moves it
   * into place once the hand-out is audited (store/audit.ts, auditHandOut). Default false: the
   * file is at `out` when the call returns.
   */
  stage?: boolean;
}

export interface ExportResult {
  /** Data rows written (the header is not counted). */
  rows: number;
  columns: string[];
  /** Size of the written file. */
  bytes: number;
  /** Absolute path of the written file. */
  path: string;
  format: ExportFormat;
  /** Columns whose values were masked. */
  maskedColumns: string[];
  /** Things worth telling the user about the file (e.g. truncated XLSX cells). */
  warnings: string[];
  /** With `stage`: the file, not yet at `path` (commit or discard it). */
  staged?: StagedFile;
}

const DEFAULTS = {
  maskPii: false,
  force: false,
  bom: false,
  /** How often DuckDB's progress estimate is polled while a query runs. */
  progressPollMs: 200,
} as const;

function validateOptions(store: Store, opts: ExportOptions): { out: string; format: ExportFormat } {
  const format = parseFormat(String(opts.format ?? ''));
  if (!opts.out || !opts.out.trim()) throw usageError('an output file is required (--out FILE)');
  if (opts.bom && format !== 'csv') throw usageError('--bom applies to CSV exports only');
  const out = path.resolve(opts.out);
  const storeFile = path.resolve(store.path);
  if (out === storeFile || out === storeFile + '.wal') {
    throw outputError(`refusing to write the export over the store itself (${out})`);
  }
  return { out, format };
}

/**
 * Write the result of `sql` (one SELECT; its ORDER BY is kept) to `opts.out` atomically.
 * Throws CrmError: usage (bad format/columns), output (file exists without force, write
 * failure), query (the SQL failed).
 */
export async function exportQuery(store: Store, sql: string, opts: ExportOptions): Promise<ExportResult> {
  const { out, format } = validateOptions(store, opts);
  const tick: Tick = opts.onProgress ?? (() => undefined);
  // Fail fast, before a possibly long query; writeAtomically checks again when committing.
  checkTarget(out, { force: opts.force ?? DEFAULTS.force });

  const mask = (opts.maskPii ?? DEFAULTS.maskPii) ? resolvePiiColumns(opts.piiColumns) : null;
  let available;
  try {
    available = await describeQuery(store.conn, sql);
  } catch (err) {
    throw asQueryError(err);
  }
  const columns = chooseColumns(available, opts.columns, mask);

  const { result, bytes, staged } = await stageAtomically(out, { force: opts.force ?? DEFAULTS.force }, async (tmp) => {
    const written =
      format === 'xlsx' || format === 'arrow'
        ? await writeRows(store, exportSelect(sql, columns, 'row-writers'), tmp, format, opts, tick)
        : await copyWithDuckDB(store, exportSelect(sql, columns, format === 'csv' ? 'copy-csv' : 'copy-native'), {
            tmp,
            out,
            format,
            bom: opts.bom ?? DEFAULTS.bom,
            tick,
          });
    // Still inside the atomic write: a callback that throws here leaves no file behind.
    tick(1, `${formatCount(written.rows)} rows`);
    return written;
  });
  if (!opts.stage) await staged.commit();
  return {
    rows: result.rows,
    columns: columns.map((c) => c.name),
    bytes,
    path: out,
    format,
    maskedColumns: maskedNames(columns),
    warnings: result.warnings,
    ...(opts.stage ? { staged } : {}),
  };
}

function maskedNames(columns: SelectedColumn[]): string[] {
  return columns.filter((c) => c.pii !== null).map((c) => c.name);
}

/** A DuckDB failure while running the export: an I/O error is about the output, anything else the SQL. */
function asQueryError(err: unknown, out?: string): unknown {
  if (err instanceof CrmError) return err;
  if ((err as NodeJS.ErrnoException | undefined)?.code) return err; // fs errors: atomic-file.ts reports them
  const msg = messageOf(err);
  if (out && /^IO Error/i.test(msg)) return outputError(`cannot write ${out}: ${msg.split('\n')[0]}`);
  return queryError(`the export query failed: ${msg.split('\n')[0]}`, msg.includes('\n') ? msg.split('\n').slice(1) : []);
}

interface WriteOutcome {
  rows: number;
  warnings: string[];
}

/**
 * Run `fn` while forwarding DuckDB's progress estimate for the running statement. The callback
 * runs from a timer, where a throw would crash the process: instead the query is interrupted
 * and the callback's error is rethrown once DuckDB has stopped.
 */
async function withQueryProgress<T>(store: Store, tick: (f: number) => void, fn: () => Promise<T>): Promise<T> {
  const callback: { failed: boolean; error?: unknown } = { failed: false };
  const timer = setInterval(() => {
    const p = store.conn.progress;
    if (p.percentage < 0) return;
    try {
      tick(p.percentage / 100);
    } catch (error) {
      Object.assign(callback, { failed: true, error });
      clearInterval(timer);
      store.conn.interrupt();
    }
  }, DEFAULTS.progressPollMs);
  try {
    const result = await fn();
    if (callback.failed) throw callback.error;
    return result;
  } catch (err) {
    throw callback.failed ? callback.error : err;
  } finally {
    clearInterval(timer);
  }
}

/** DuckDB COPY options per format. CSV: RFC 4180 with CRLF line ends, written out explicitly. */
const COPY_OPTIONS = {
  csv: `FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"', ESCAPE '"', NULLSTR '', NEW_LINE '\\r\\n'`,
  parquet: 'FORMAT parquet',
  json: 'FORMAT json, ARRAY true',
} as const;

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

interface CopyTarget {
  tmp: string;
  /** The final path, for error messages. */
  out: string;
  format: 'csv' | 'parquet' | 'json';
  bom: boolean;
  tick: Tick;
}

/** CSV / Parquet / JSON: DuckDB writes the temporary file itself (this works on a read-only store too). */
async function copyWithDuckDB(store: Store, select: string, t: CopyTarget): Promise<WriteOutcome> {
  // DuckDB cannot write a BOM: COPY to a scratch file, then BOM + that file into the temp file.
  const scratch = t.bom ? scratchFileFor(t.out) : null;
  const copyTo = scratch ? scratch.path : t.tmp;
  try {
    const copy = `COPY (\n${select}\n) TO ${literal(copyTo)} (${COPY_OPTIONS[t.format]})`;
    const result = await withQueryProgress(
      store,
      (f) => t.tick(f, 'writing'),
      () => store.conn.run(copy).catch((err: unknown) => Promise.reject(asQueryError(err, t.out))),
    );
    if (scratch) {
      await fsp.writeFile(t.tmp, UTF8_BOM, { flag: 'wx' });
      await pipeline(fs.createReadStream(scratch.path), fs.createWriteStream(t.tmp, { flags: 'a' }));
    }
    return { rows: result.rowsChanged, warnings: [] };
  } finally {
    await scratch?.release();
  }
}

async function openRowWriter(
  format: 'xlsx' | 'arrow',
  tmp: string,
  columns: OutputColumn[],
  opts: ExportOptions,
): Promise<BatchWriter> {
  return format === 'xlsx'
    ? openXlsxWriter(tmp, columns, { sheetName: opts.sheetName ?? path.basename(opts.out, path.extname(opts.out)) })
    : openArrowWriter(tmp, columns);
}

/** XLSX / Arrow: run the query to completion, then hand its chunks to the writer. */
async function writeRows(
  store: Store,
  select: string,
  tmp: string,
  format: 'xlsx' | 'arrow',
  opts: ExportOptions,
  tick: Tick,
): Promise<WriteOutcome> {
  // The query takes the first half of the progress bar, writing the second.
  const result: DuckDBMaterializedResult = await withQueryProgress(
    store,
    (f) => tick(f / 2, 'querying'),
    () => store.conn.run(select).catch((err: unknown) => Promise.reject(asQueryError(err))),
  );
  const total = result.rowCount;
  if (format === 'xlsx' && total + 1 > XLSX_MAX_ROWS) {
    throw outputError(
      `the export has ${formatCount(total)} rows but an Excel sheet holds at most ${formatCount(XLSX_MAX_ROWS - 1)} below its header`,
      ['Export as csv or parquet instead, or narrow the selection.'],
    );
  }
  const columns: OutputColumn[] = result.columnNames().map((name, i) => {
    const kind = kindOfType(result.columnTypeId(i));
    // export-sql.ts narrows every type to one the writers know; reaching this is a bug.
    if (kind === null) throw new Error(`internal: column ${name} has unsupported type ${result.columnType(i)}`);
    return { name, kind };
  });

  const writer = await openRowWriter(format, tmp, columns, opts);
  let rows = 0;
  try {
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      await writer.write({ rowCount: chunk.rowCount, columns: columns.map((_, i) => chunk.getColumnValues(i)) });
      rows += chunk.rowCount;
      tick(0.5 + (0.5 * rows) / Math.max(1, total), `${formatCount(rows)} rows`);
    }
    if (rows !== total) {
      throw new Error(`internal: read ${rows} of ${total} result rows; the export was not written`);
    }
    await writer.finish();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return { rows, warnings: writer.warnings };
}

// ---------------------------------------------------------------------------------------------
// Segment exports over the model tables (customer_latest + customers)
// ---------------------------------------------------------------------------------------------

/** Contact fields taken from `customers` (contacts.ts), then model metrics from `customer_latest`, in file order. */
export { CONTACT_COLUMNS };
export const METRIC_COLUMNS = [
  'rfm_segment',
  'value_tier',
  'r_score',
  'f_score',
  'm_score',
  'recency_days',
  'frequency',
  'monetary',
  'last_purchase',
  'p_alive',
  'churn_risk',
  'p_no_purchase',
  'churn_tier',
  'churn_reason',
  'clv',
  'net_revenue',
  'abc_class',
  'is_key_account',
] as const;
export const SEGMENT_EXPORT_COLUMNS: readonly string[] = ['customer_id', ...CONTACT_COLUMNS, ...METRIC_COLUMNS];

/** Reserved targets; anything else names an RFM segment. */
export type ExportTarget =
  | { kind: 'segment'; segment: string }
  | { kind: 'keyaccounts' }
  | { kind: 'customers' };

export interface SegmentExportResult extends ExportResult {
  target: ExportTarget;
}

export interface SegmentCount {
  segment: string;
  customers: number;
}

const MODEL_VIEW = 'customer_latest';
const RUN_FIRST = 'Run `crm run` first to build RFM segments, churn risk, lifetime value and key accounts.';

/** Refuse clearly when the model has not been built (or was built to an older contract). */
async function ensureModel(store: Store): Promise<void> {
  const rows = await store.all<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = $1`,
    [MODEL_VIEW],
  );
  if (rows.length === 0) {
    throw storeError(`no model results in ${store.path}: ${MODEL_VIEW} does not exist`, [RUN_FIRST]);
  }
  const present = new Set(rows.map((r) => r.column_name));
  const missing = ['customer_id', ...METRIC_COLUMNS].filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw storeError(`${MODEL_VIEW} in ${store.path} lacks column(s) ${missing.join(', ')}`, [
      'The model results predate this version of crm-analytics. ' + RUN_FIRST,
    ]);
  }
  // The schema creates the view with the store; it is empty until the first `crm run`.
  const runsTable = await store.value<number>(
    `SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'runs'`,
  );
  if (runsTable && !(await store.value<number>('SELECT count(*) FROM runs'))) {
    throw storeError(`no model run in ${store.path} yet`, [RUN_FIRST]);
  }
}

/** The RFM segments of the latest model run, with their sizes. */
export async function listSegments(store: Store): Promise<SegmentCount[]> {
  await ensureModel(store);
  return store.all<SegmentCount & Record<string, unknown>>(
    `SELECT rfm_segment AS segment, count(*) AS customers
     FROM ${MODEL_VIEW} WHERE rfm_segment IS NOT NULL
     GROUP BY rfm_segment ORDER BY rfm_segment`,
  );
}

/** Case, spaces, dashes and underscores do not matter: "at-risk" finds "At Risk". */
function normalizeName(s: string): string {
  return s.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
}

/** Resolve `keyaccounts`, `customers` or a segment name against the segments in the store. */
export async function resolveTarget(store: Store, target: string): Promise<ExportTarget> {
  const wanted = normalizeName(target);
  if (wanted.replace(/ /g, '') === 'keyaccounts') return { kind: 'keyaccounts' };
  if (wanted === 'customers') return { kind: 'customers' };
  const segments = await listSegments(store);
  const matches = segments.filter((s) => normalizeName(s.segment) === wanted);
  if (matches.length === 1) return { kind: 'segment', segment: matches[0].segment };
  const present = segments.length
    ? `Segments in the store: ${segments.map((s) => `${s.segment} (${formatCount(s.customers)})`).join(', ')}`
    : `The latest model run assigned no segments (${MODEL_VIEW} is empty).`;
  const why = matches.length > 1 ? `ambiguous segment "${target}"` : `unknown segment "${target}"`;
  throw usageError(why, [present, 'Or export `keyaccounts` or `customers`.']);
}

/**
 * The export SQL for a target: contacts joined to the latest model metrics. Segments and
 * `customers` are ordered by lifetime value, key accounts by net revenue (highest first);
 * customer_id breaks ties so that repeated exports are identical.
 */
export function segmentExportSql(target: ExportTarget, owner?: string, { ownerColumns = false } = {}): string {
  const kept =
    target.kind === 'segment'
      ? `rfm_segment = ${literal(target.segment)}`
      : target.kind === 'keyaccounts'
        ? 'is_key_account'
        : 'TRUE';
  // --owner: only the customers whose owner in effect is this one (their book; see owner-filter.ts).
  const filter = owner === undefined ? kept : `${kept} AND ${ownerBookCondition(literal(owner))}`;
  const orderBy = target.kind === 'keyaccounts' ? 'net_revenue' : 'clv';
  return `WITH
  -- One contact row per customer: the most recent customer load wins.
  contacts AS (
    ${latestContactsSql()}
  ),
  -- The latest model run's metrics for the customers being exported.
  selected AS (
    SELECT customer_id, ${METRIC_COLUMNS.join(', ')}
    FROM ${MODEL_VIEW}
    WHERE ${filter}
  )
SELECT
  s.customer_id,
  ${CONTACT_COLUMNS.map((c) => `c.${c}`).join(', ')},${ownerColumns ? '\n  o.team, o.owner_email,' : ''}
  ${METRIC_COLUMNS.map((c) => `s.${c}`).join(', ')}
FROM selected AS s
LEFT JOIN contacts AS c ON c.customer_id = s.customer_id${ownerColumns ? '\nLEFT JOIN customer_owners AS o ON o.customer_id = s.customer_id' : ''}
ORDER BY s.${orderBy} DESC NULLS LAST, s.customer_id`;
}

function targetLabel(target: ExportTarget): string {
  return target.kind === 'segment' ? target.segment : target.kind === 'keyaccounts' ? 'Key accounts' : 'Customers';
}

/**
 * Export an RFM segment (case-insensitive name, e.g. "At Risk"), `keyaccounts` or `customers`
 * with contact fields and model metrics. Unknown segments are a usage error listing the
 * segments present; a store without model results is a store error asking for `crm run`.
 */
export async function exportSegment(
  store: Store,
  target: string,
  opts: ExportOptions & { owner?: string },
): Promise<SegmentExportResult> {
  validateOptions(store, opts);
  await ensureModel(store);
  const resolved = await resolveTarget(store, target);
  if (opts.owner !== undefined) await checkOwner(store, opts.owner);
  const result = await exportQuery(store, segmentExportSql(resolved, opts.owner), {
    ...opts,
    sheetName: opts.sheetName ?? targetLabel(resolved),
  });
  return { ...result, target: resolved };
}
