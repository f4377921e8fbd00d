/**
 * `crm ingest transactions|customers|contracts|owners|merges FILE...`: read each file, stage and validate it, then
 * load all of them in one transaction. Phase 1 (hash, detect, stage) writes nothing to the
 * store; phase 2 copies the stages and records `loads`. An error or a kill at any point
 * leaves the store exactly as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CrmConfig } from '../config.js';
import { ident, literal, Store } from '../store/db.js';
import { refreshOwnersInEffect } from '../store/owners.js';
import { CrmError, inputError, usageError } from '../util/errors.js';
import { formatBytes, formatCount } from '../util/format.js';
import type { Reporter } from '../util/log.js';
import type { Progress } from '../util/progress.js';
import { detectFormat, isGzip, readHead, type FileFormat } from './detect.js';
import { TABLE_OF, type DatasetKind } from './fields.js';
import { hashFile, LineEndCounter, type FileDigest, type LineEndStyle } from './file-scan.js';
import { numberStage, stageRows, writeStage, type Numbering } from './load.js';
import { TRANSACTION_TABLES } from '../store/transactions.js';
import { describeMapping, parseMapFlags, resolveMapping, type Mapping } from './mapping.js';
import { checkIngestOptions } from './options.js';
import { findOverlap, OVERLAP_REFUSAL_SHARE, overlapKeyOf, storedRows, type OverlapKey, type OverlapSource } from './overlap.js';
import { openSource, readFailure, type OpenedSource, type SourceTable } from './sources.js';
import { buildStage, DEFAULT_RETURN_PATTERN, detectConventions, isNarrowStage, rejectColumnSql, type Conventions, type StageCounts } from './stage.js';
import { parseDecimalSeparatorFlag, type DecimalSeparator } from './values.js';

export interface IngestOptions {
  kind: DatasetKind;
  files: string[];
  storePath: string;
  format?: string;
  encoding?: string;
  sheet?: string;
  delimiter?: string;
  /** `target=source` pairs from --map. */
  map?: string[];
  dateFormat?: string;
  /** `.` or `,` (also point/comma): the decimal mark of every decimal column (default: decided from the values). */
  decimalSeparator?: string;
  returnPattern?: string;
  /** Swap the rows of an earlier load of the same path for this version. */
  replace?: boolean;
  /** Load a changed file whose path was loaded before, keeping the earlier rows too; also loads rows that overlap earlier loads. */
  append?: boolean;
  /** Transactions and contracts: load only the rows not loaded before from other files (the others are rejected as already_loaded). */
  skipOverlap?: boolean;
  config?: CrmConfig;
  reporter: Reporter;
  progress: Progress;
}

export interface TableReport {
  sheet: string | null;
  mapping: Mapping;
  unmapped: string[];
  date_formats: Record<string, string>;
  rows_read: number;
  rows_loaded: number;
  rows_rejected: number;
  rejected_by_reason: Record<string, number>;
}

export interface FileReport {
  file: string;
  status: 'loaded' | 'unchanged';
  load_id: number;
  sha256: string;
  bytes: number;
  format: FileFormat | null;
  encoding: string | null;
  sheets: string[] | null;
  rows_read: number;
  rows_loaded: number;
  rows_rejected: number;
  rejected_by_reason: Record<string, number>;
  /** Customers only: rows that replaced a customer loaded earlier. */
  customers_updated?: number;
  /** Owners only: customers this file gives another owner than the one they had. */
  owners_changed?: number;
  replaced_loads: number[];
  /** Transactions and contracts: rows that repeat rows loaded before from other files, and what was done with them. */
  overlap?: OverlapReport;
  tables: TableReport[];
  notes: string[];
  timings_ms: Record<string, number>;
}

export interface OverlapReport {
  /** Rows of this file that repeat rows loaded before from other files (counted with multiplicity). */
  rows: number;
  /** The file's valid rows (the base of the share). */
  valid_rows: number;
  share: number;
  /** none: no overlap; loaded: below the refusal share, loaded; appended: --append; skipped: --skip-overlap (rejected as already_loaded). */
  decision: 'none' | 'loaded' | 'appended' | 'skipped';
  /** The earlier files the overlapping rows repeat (load_id null: earlier in this command; `sheet` set: an earlier sheet of this workbook). */
  earlier: OverlapSource[];
}

export interface IngestReport {
  kind: DatasetKind;
  store: string;
  files: FileReport[];
  totals: { rows_read: number; rows_loaded: number; rows_rejected: number; rejected_by_reason: Record<string, number> };
}

interface PreparedTable {
  source: SourceTable;
  stage: string;
  counts: StageCounts;
  numbering: Numbering;
  report: TableReport;
  /** A stage of a load for transactions_narrow, without the columns that table has not (stage.ts: isNarrowStage). */
  narrow: boolean;
  /** Temp table of this table's rows that overlap earlier loads (`ord`, the earlier row), or null. */
  overlapTable: string | null;
  /** SQL of a reject's column_name (stage.ts: rejectColumnSql). */
  rejectColumn: string;
}

interface PreparedFile {
  report: FileReport;
  absPath: string;
  opened: OpenedSource | null;
  tables: PreparedTable[];
  conventions: Record<string, Conventions>;
  started: Date;
  /** The --sheet selection (part of a load's identity: the same bytes read differently are another load). */
  sheetOption: string | null;
}

let stageCounter = 0;

/** Kinds whose loads (and --replace) can change the owner in effect (customer_owners). */
const CHANGES_OWNERS: ReadonlySet<DatasetKind> = new Set<DatasetKind>(['customers', 'owners']);

export async function ingest(opts: IngestOptions): Promise<IngestReport> {
  if (opts.files.length === 0) throw inputError('no files given');
  checkLoadFlags(opts);
  await checkIngestOptions(opts);
  const store = await Store.open(opts.storePath, { create: true });
  const prepared: PreparedFile[] = [];
  try {
    for (const file of opts.files) prepared.push(await prepareFile(store, file, opts, prepared));
    const toLoad = prepared.filter((p) => p.report.status === 'loaded');
    if (toLoad.length) {
      await opts.progress.step(`loading ${toLoad.length === 1 ? toLoad[0].report.file : `${toLoad.length} files`}`, async () => {
        await store.transaction(async () => {
          for (const p of toLoad) await loadPrepared(store, p, opts.kind);
          // customers.account_owner, team and owner_email follow the owner in effect, which these loads may change.
          if (CHANGES_OWNERS.has(opts.kind)) await refreshOwnersInEffect(store);
        });
      });
    }
    return summarise(opts, prepared);
  } finally {
    for (const p of prepared) await cleanupPrepared(store, p);
    store.close();
  }
}

/** --replace, --append and --skip-overlap say what to do with rows loaded before: at most one answer each. */
function checkLoadFlags(opts: IngestOptions): void {
  if (opts.replace && opts.append) {
    throw usageError('--replace and --append exclude each other', ['--replace swaps the earlier rows of this file for the new ones; --append keeps both.']);
  }
  if (opts.skipOverlap && opts.append) {
    throw usageError('--skip-overlap and --append exclude each other', ['--skip-overlap loads only rows not loaded before; --append loads all rows, keeping both copies.']);
  }
  if (opts.skipOverlap && !overlapKeyOf(opts.kind)) {
    throw usageError('--skip-overlap applies to transactions and contracts only', ['Customer and owner rows loaded again replace the same ids (the later load wins).']);
  }
}

async function prepareFile(store: Store, file: string, opts: IngestOptions, earlier: PreparedFile[]): Promise<PreparedFile> {
  const absPath = path.resolve(file); // checked by checkIngestOptions: a readable file
  const started = new Date();
  const timings: Record<string, number> = {};
  const size = fs.statSync(absPath).size;
  const tag = `ingest_${process.pid}_${++stageCounter}`;
  const ahead = await readAhead(store, absPath, file, size, opts, earlier, tag);
  const t0 = performance.now();
  const digest: FileDigest = await opts.progress.step(`hashing ${file} (${formatBytes(size)})`, (tick) => hashFile(absPath, (f) => tick(f)));
  timings.hash = Math.round(performance.now() - t0);
  // Whatever the checks below decide, the read ahead is settled first (its statements done).
  const early = ahead ? await ahead.settled : null;
  let used = false;
  try {
    return await prepareHashed(store, file, absPath, opts, earlier, { started, timings, tag, digest, early: early && 'ok' in early ? early.ok : null, use: () => (used = true) });
  } finally {
    if (early && 'ok' in early && !used) await early.ok.opened.cleanup();
  }
}

/** What `readAhead` read of a CSV while the file was being hashed. */
interface ReadAhead {
  opened: OpenedSource;
  mapped: ReturnType<typeof resolveMapping>;
  conventions: Conventions;
  /** The line ends it assumed (those of the file's head). */
  lineEnds: LineEndStyle;
}

/**
 * Hashing reads every byte of the file in this process, on one core, while DuckDB waits (~0.7 s
 * at 9.8M lines). A delimited file that cannot be one loaded before (no load of this kind has
 * its size, so none has its SHA-256, and the unchanged-file check that needs the hash cannot
 * skip it) is opened and sampled meanwhile, by DuckDB on its own threads. The read assumes the
 * line ends of the file's head, which the hash's full count confirms or not; what else the
 * hash's scan decides (plain bytes, quote characters) does not change what the sample reads and
 * is given to the opened source afterwards (`settleRawBytes`). The result is used only when the
 * checks after hashing load the file and the line ends agree; any error is left for the same
 * steps to meet again, in their usual order. Null: no read ahead.
 */
async function readAhead(
  store: Store,
  absPath: string,
  file: string,
  size: number,
  opts: IngestOptions,
  earlier: PreparedFile[],
  tag: string,
): Promise<{ settled: Promise<{ ok: ReadAhead } | { err: unknown }> } | null> {
  if (opts.replace || earlier.some((p) => p.report.bytes === size)) return null;
  const head = readHead(absPath);
  let format: FileFormat;
  try {
    format = detectFormat(file, head, opts.format);
  } catch {
    return null;
  }
  if ((format !== 'csv' && format !== 'tsv') || isGzip(head)) return null;
  const ends = new LineEndCounter();
  ends.add(head.subarray(0, head.lastIndexOf(0x0a) + 1));
  const lineEnds = ends.style();
  if (lineEnds !== 'lf' && lineEnds !== 'crlf') return null;
  const sameSize = await store.value<boolean>(`SELECT EXISTS (SELECT 1 FROM loads WHERE kind = $1 AND bytes = $2 AND status = 'loaded')`, [opts.kind, size]);
  if (sameSize) return null;
  const sourceConfig = opts.config?.ingest?.[opts.kind] ?? {};
  const read = async (): Promise<ReadAhead> => {
    const opened = await openSource(store, absPath, {
      format,
      encoding: opts.encoding ?? sourceConfig.encoding,
      delimiter: opts.delimiter ?? sourceConfig.delimiter,
      tag,
      label: file,
      rawLineEnds: lineEnds,
    });
    try {
      const source = opened.tables[0];
      const mapped = resolveMapping({
        kind: opts.kind,
        headers: source.headers,
        fileHeaders: source.fileHeaders,
        firstRow: source.firstRow,
        explicit: parseMapFlags(opts.map, opts.kind),
        configured: sourceConfig.map,
        sourceLabel: source.label,
      });
      const conventions = await detectConventions(store, source, opts.kind, mapped.mapping, ...conventionFlags(opts), `${tag}_sample_1`);
      return { opened, mapped, conventions, lineEnds };
    } catch (err) {
      await opened.cleanup();
      throw err;
    }
  };
  // Not awaited here (an object, not a promise, so that the caller's await does not wait for it).
  return {
    settled: read().then(
      (ok) => ({ ok }),
      (err: unknown) => ({ err }),
    ),
  };
}

/** --date-format and --decimal-separator, or their crm.config.json settings. */
function conventionFlags(opts: IngestOptions): [string | undefined, DecimalSeparator | undefined] {
  const sourceConfig = opts.config?.ingest?.[opts.kind] ?? {};
  const decimalFlag = opts.decimalSeparator ?? sourceConfig.decimalSeparator;
  // Checked before the store was opened (options.ts): parsing cannot fail here.
  return [opts.dateFormat ?? sourceConfig.dateFormat, decimalFlag === undefined ? undefined : parseDecimalSeparatorFlag(decimalFlag)];
}

async function prepareHashed(
  store: Store,
  file: string,
  absPath: string,
  opts: IngestOptions,
  earlier: PreparedFile[],
  h: { started: Date; timings: Record<string, number>; tag: string; digest: FileDigest; early: ReadAhead | null; use: () => void },
): Promise<PreparedFile> {
  const { started, timings, tag, digest } = h;
  const report: FileReport = {
    file,
    status: 'loaded',
    load_id: 0,
    sha256: digest.sha256,
    bytes: digest.bytes,
    format: null,
    encoding: null,
    sheets: null,
    rows_read: 0,
    rows_loaded: 0,
    rows_rejected: 0,
    rejected_by_reason: {},
    replaced_loads: [],
    tables: [],
    notes: [],
    timings_ms: timings,
  };
  const prep: PreparedFile = { report, absPath, opened: null, tables: [], conventions: {}, started, sheetOption: null };

  // The same bytes read the same way (same sheet selection), loaded before or earlier in this
  // command, are a no-op — unless --replace asks to load them again (e.g. with another mapping).
  const sourceConfig = opts.config?.ingest?.[opts.kind] ?? {};
  const format = detectFormat(file, readHead(absPath, 4096), opts.format);
  report.format = format;
  // Only a workbook has sheets: a `sheet` in crm.config.json is no part of a CSV's identity
  // (--sheet on another format is refused by checkIngestOptions).
  const sheetOption = format === 'xlsx' ? (opts.sheet ?? sourceConfig.sheet ?? null) : null;
  prep.sheetOption = sheetOption;
  const same = await store.one<{ load_id: number; finished_at: string }>(
    `SELECT load_id, finished_at FROM loads
     WHERE kind = $1 AND sha256 = $2 AND status = 'loaded' AND coalesce(options->>'sheet', '') = $3
     ORDER BY load_id DESC LIMIT 1`,
    [opts.kind, digest.sha256, sheetOption ?? ''],
  );
  const sameInRun = earlier.find((p) => p.report.sha256 === digest.sha256 && p.report.status === 'loaded' && p.sheetOption === sheetOption);
  if (sameInRun || (same && !opts.replace)) {
    report.status = 'unchanged';
    report.load_id = same?.load_id ?? 0;
    report.notes.push(
      sameInRun
        ? `same content as ${sameInRun.report.file} in this command: nothing to do`
        : `already loaded as load ${same!.load_id} (${same!.finished_at}): same content, nothing to do (--replace loads it again)`,
    );
    return prep;
  }

  const previous = await store.all<{ load_id: number; sha256: string; sheet: string | null }>(
    `SELECT load_id, sha256, options->>'sheet' AS sheet FROM loads WHERE kind = $1 AND path = $2 AND status = 'loaded' ORDER BY load_id`,
    [opts.kind, absPath],
  );
  if (previous.length && !opts.replace && !opts.append && !opts.skipOverlap) {
    const how = previous.every((p) => p.sha256 === digest.sha256)
      ? `with another sheet selection (${previous.map((p) => (p.sheet ? `sheet ${JSON.stringify(p.sheet)}` : 'all sheets')).join(', ')})`
      : 'with different content';
    throw inputError(`${file} was loaded before ${how} (load ${previous.map((p) => p.load_id).join(', ')})`, [
      'Pass --replace to swap its earlier rows for this version, --append to keep both, or --skip-overlap to add only the rows not loaded before.',
    ]);
  }
  if (opts.replace) {
    const ids = new Set([...previous.map((p) => p.load_id), ...(same ? [same.load_id] : [])]);
    report.replaced_loads = [...ids].sort((a, b) => a - b);
    if (!ids.size) report.notes.push('--replace: no earlier load of this file; loaded as a new file');
  }

  const t1 = performance.now();
  // Read ahead with the line ends the file has: only the raw bytes' facts are still to give.
  const early = h.early && h.early.lineEnds === digest.lineEnds ? h.early : null;
  if (early) {
    h.use();
    early.opened.settleRawBytes?.({ plainBytes: digest.plainBytes, quoteChars: digest.quoteChars });
  }
  const opened = await opts.progress.step(`reading ${file}`, (tick) =>
    early ? Promise.resolve(early.opened) : openSource(store, absPath, {
      format,
      encoding: opts.encoding ?? sourceConfig.encoding,
      sheet: sheetOption ?? undefined,
      delimiter: opts.delimiter ?? sourceConfig.delimiter,
      tag,
      label: file,
      rawLineEnds: digest.lineEnds,
      rawBytes: { plainBytes: digest.plainBytes, quoteChars: digest.quoteChars },
      onProgress: tick,
    }),
  );
  prep.opened = opened;
  timings.read = Math.round(performance.now() - t1);
  report.encoding = opened.encoding;
  report.sheets = opened.sheets;

  const explicit = parseMapFlags(opts.map, opts.kind);
  const returnPattern = opts.returnPattern ?? sourceConfig.returnPattern ?? DEFAULT_RETURN_PATTERN;
  const [dateFormat, decimalSeparator] = conventionFlags(opts);
  timings.stage = 0;
  timings.number = 0;
  for (const [i, source] of opened.tables.entries()) {
    const mapped =
      early?.mapped ??
      resolveMapping({
        kind: opts.kind,
        headers: source.headers,
        fileHeaders: source.fileHeaders,
        firstRow: source.firstRow,
        explicit,
        configured: sourceConfig.map,
        sourceLabel: source.label,
      });
    opts.reporter.info(`${source.label}: ${describeMapping(mapped).join(', ')}`);
    if (source.emptyColumns?.length) report.notes.push(`${source.label}: ${emptyColumnsNote(source.emptyColumns)}`);
    const conventions =
      early?.conventions ??
      (await reading(format, file, () => detectConventions(store, source, opts.kind, mapped.mapping, dateFormat, decimalSeparator, `${tag}_sample_${i + 1}`)));
    prep.conventions[source.sheet ?? ''] = conventions;
    const stage = `${tag}_stage_${i + 1}`;
    const ts = performance.now();
    const plan = { kind: opts.kind, source, mapping: mapped.mapping, unmapped: mapped.unmapped, conventions, returnPattern, table: stage };
    const counts = await opts.progress.step(`validating ${source.label}`, (tick) => reading(format, file, () => buildStage(store, plan, tick)));
    timings.stage += Math.round(performance.now() - ts);
    const tn = performance.now();
    // Physical lines, as counted by a pass that read every byte already (hashing, or a .gz's check).
    const n = source.numbering;
    const physicalLines = n.kind !== 'csv' ? null : (n.lines ?? (n.file === absPath && !n.gzip ? digest.lines : null));
    const narrow = isNarrowStage({ kind: opts.kind, mapping: mapped.mapping, unmapped: mapped.unmapped, source });
    const numbering = await numberStage(store, source, stage, counts.staged, `${tag}_${i + 1}`, physicalLines, narrow);
    timings.number += Math.round(performance.now() - tn);
    if (numbering.note) report.notes.push(`${source.label}: ${numbering.note}`);
    const byReason = { ...counts.byReason };
    if (numbering.malformed) byReason.malformed_row = (byReason.malformed_row ?? 0) + numbering.malformed;
    const rowsRead = counts.staged + numbering.malformed;
    const rejected = Object.values(byReason).reduce((a, b) => a + b, 0);
    const tableReport: TableReport = {
      sheet: source.sheet,
      mapping: mapped.mapping,
      unmapped: mapped.unmapped,
      date_formats: Object.fromEntries(Object.entries(conventions.datePlans).map(([f, p]) => [f, p.note])),
      rows_read: rowsRead,
      rows_loaded: rowsRead - rejected,
      rows_rejected: rejected,
      rejected_by_reason: byReason,
    };
    prep.tables.push({ source, stage, counts, numbering, report: tableReport, narrow, overlapTable: null, rejectColumn: rejectColumnSql(plan) });
    report.tables.push(tableReport);
  }
  const overlapKey = overlapKeyOf(opts.kind);
  if (overlapKey) {
    const to = performance.now();
    await opts.progress.step(`comparing ${file} with earlier loads`, () => checkOverlap(store, prep, opts, earlier, overlapKey));
    timings.overlap = Math.round(performance.now() - to);
  }
  return prep;
}

/** DuckDB reads JSON and Parquet inside the staging statements: damage found there names the file. */
async function reading<T>(format: FileFormat, file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof CrmError || (format !== 'parquet' && format !== 'json' && format !== 'ndjson')) throw err;
    throw readFailure(err, file) ?? err;
  }
}

/**
 * Rows of this file already loaded from other files — earlier loads (minus those this command
 * replaces) and the files before it in this command — or repeated from an earlier sheet of
 * this workbook, and the decision: refuse when at least half of its valid rows overlap, unless
 * --append (load all) or --skip-overlap (load the rest).
 */
async function checkOverlap(store: Store, prep: PreparedFile, opts: IngestOptions, earlier: PreparedFile[], key: OverlapKey): Promise<void> {
  const loading = earlier.filter((p) => p.report.status === 'loaded');
  const replaced = [...new Set([...loading, prep].flatMap((p) => p.report.replaced_loads))];
  const earlierFiles = [
    storedRows(replaced, key),
    ...loading.flatMap((p, i) => p.tables.map((t) => commandRows(p, t, 2 ** 40 + i, { sameFile: false, skipped: p.report.overlap?.decision === 'skipped' }, key))),
  ];
  // Nothing loaded before (a first load, as in the benchmark): nothing to compare with but earlier sheets.
  const anyEarlier = loading.some((p) => p.tables.length) || (await store.value<boolean>(`SELECT EXISTS (${storedRows(replaced, key)})`));
  let valid = 0;
  let rows = 0;
  const bySource = new Map<string, OverlapSource>();
  for (const [i, t] of prep.tables.entries()) {
    const validRows = t.counts.staged - Object.values(t.counts.byReason).reduce((a, b) => a + b, 0);
    valid += validRows;
    // A sheet is compared with the sheets before it too: with --skip-overlap, with the rows they will load.
    const earlierSheets = prep.tables.slice(0, i).map((s, j) => commandRows(prep, s, 2 ** 41 + j, { sameFile: true, skipped: Boolean(opts.skipOverlap) }, key));
    const against = [...(anyEarlier ? earlierFiles : []), ...earlierSheets];
    if (!against.length) continue;
    const table = `${t.stage}_overlap`;
    const found = await findOverlap(store, { newRows: stageRows(t.stage, t.narrow), earlier: against.join('\nUNION ALL\n'), table, valid: validRows, key });
    t.overlapTable = table;
    rows += found.rows;
    for (const s of found.bySource) {
      const key = `${s.load_id}\u0000${s.file}\u0000${s.sheet ?? ''}`;
      const seen = bySource.get(key);
      if (seen) seen.rows += s.rows;
      else bySource.set(key, { ...s });
    }
  }
  const sources = [...bySource.values()];
  const share = valid ? rows / valid : 0;
  const decision: OverlapReport['decision'] = rows === 0 ? 'none' : opts.skipOverlap ? 'skipped' : opts.append ? 'appended' : 'loaded';
  const r = prep.report;
  r.overlap = { rows, valid_rows: valid, share, decision, earlier: sources };
  if (rows === 0) return;
  const count = (n: number) => `${formatCount(n)} ${n === 1 ? 'row' : 'rows'}`;
  const files = sources
    .filter((s) => s.sheet === undefined)
    .map((s) => `${s.file} (${s.load_id === null ? 'earlier in this command' : `load ${s.load_id}`}, ${count(s.rows)})`)
    .join(', ');
  const sheets = sources
    .filter((s) => s.sheet !== undefined)
    .map((s) => `sheet ${JSON.stringify(s.sheet)} earlier in this workbook (${count(s.rows)})`)
    .join(', ');
  if (decision === 'loaded' && share >= OVERLAP_REFUSAL_SHARE) {
    const where = [files && `were loaded before from other files: ${files}`, sheets && `repeat rows of ${sheets}`].filter(Boolean).join(', or ');
    throw inputError(`${r.file}: ${formatCount(rows)} of its ${formatCount(valid)} rows (${formatShare(share)}) ${where}; nothing was loaded`, [
      `Rows count as the same when ${key.words.replace(/, ([^,]+)$/, ' and $1')} are equal (${key.columns.join(', ')}).`,
      `The same export saved again? --skip-overlap loads only the ${formatCount(valid - rows)} new rows (the others are rejected as already_loaded).`,
      `--append loads all ${formatCount(valid)} rows anyway, keeping both copies (${key.twice}).`,
    ]);
  }
  if (decision === 'skipped') {
    for (const t of prep.tables) {
      if (!t.overlapTable) continue;
      const skipped = Number((await store.value<number>(`SELECT count(*) FROM temp.${ident(t.overlapTable)}`)) ?? 0);
      if (!skipped) continue;
      t.report.rejected_by_reason.already_loaded = skipped;
      t.report.rows_rejected += skipped;
      t.report.rows_loaded -= skipped;
    }
  }
  const what =
    decision === 'skipped'
      ? 'not loaded again (rejected as already_loaded)'
      : decision === 'appended'
        ? 'loaded again (--append): both copies count; crm quality reports them'
        : `loaded again (fewer than ${formatShare(OVERLAP_REFUSAL_SHARE)} of the file): both copies count; crm quality reports them`;
  const repeated = [files && `loaded before from ${files}`, sheets && `of ${sheets}`].filter(Boolean).join(' and ');
  r.notes.push(`${formatCount(rows)} rows (${formatShare(share)}) repeat rows ${repeated}: ${what}`);
}

/**
 * The rows an earlier file of this command, or an earlier sheet of this file, will load, as
 * `storedRows` gives the store's (`seq` orders them after the store's loads); `skipped`: its
 * rows repeating earlier ones will be rejected, so they are not there to repeat.
 */
function commandRows(p: PreparedFile, t: PreparedTable, seq: number, how: { sameFile: boolean; skipped: boolean }, key: OverlapKey): string {
  const skipped = how.skipped && t.overlapTable ? `ANTI JOIN temp.${ident(t.overlapTable)} o USING (ord)` : '';
  const sheet = t.source.sheet === null ? 'CAST(NULL AS VARCHAR)' : literal(t.source.sheet);
  return `SELECT CAST(${seq} AS BIGINT) AS seq, CAST(NULL AS INTEGER) AS load_id, ${literal(p.report.file)} AS file, ${sheet} AS sheet, ${how.sameFile} AS same_file, r.source_row, ${key.columns.map((c) => `r.${c}`).join(', ')}
FROM ${t.numbering.relation} r ${skipped} WHERE r.reason IS NULL`;
}

/** Columns with a header and no value in any row: named (the first few), since they are not in `attributes`. */
function emptyColumnsNote(columns: string[]): string {
  const shown = columns.slice(0, 5).map((c) => JSON.stringify(c));
  const more = columns.length > shown.length ? `, … (${formatCount(columns.length - shown.length)} more)` : '';
  return `${formatCount(columns.length)} ${columns.length === 1 ? 'column has' : 'columns have'} a header and no value in any row, left out: ${shown.join(', ')}${more}`;
}

function formatShare(share: number): string {
  return `${(share * 100).toFixed(share < 0.001 && share > 0 ? 2 : 1)} %`;
}

async function loadPrepared(store: Store, p: PreparedFile, kind: DatasetKind): Promise<void> {
  const t0 = performance.now();
  const loadId = ((await store.value<number>('SELECT coalesce(max(load_id), 0) FROM loads')) ?? 0) + 1;
  p.report.load_id = loadId;
  if (p.report.replaced_loads.length) {
    const ids = p.report.replaced_loads.join(', ');
    // Transactions: the lines are under the view, in one of its tables (src/store/transactions.ts).
    for (const table of kind === 'transactions' ? TRANSACTION_TABLES : [TABLE_OF[kind]]) {
      await store.run(`DELETE FROM ${ident(table)} WHERE load_id IN (${ids})`);
    }
    await store.run(`DELETE FROM rejects WHERE load_id IN (${ids})`);
    await store.run(`UPDATE loads SET status = 'replaced', replaced_by = ${loadId} WHERE load_id IN (${ids})`);
  }
  let updated = 0;
  for (const t of p.tables) {
    const counts = await writeStage(
      store,
      {
        loadId,
        kind,
        sourceFile: p.report.file,
        sheet: t.source.sheet,
        numbering: t.numbering,
        alreadyLoaded: p.report.overlap?.decision === 'skipped' ? t.overlapTable : null,
        rejectColumn: t.rejectColumn,
        mapping: t.report.mapping,
        unmapped: t.report.unmapped,
      },
      `${t.stage}_w`,
    );
    // Duplicate customer ids are only known after numbering: fold them into the table's counts.
    if (counts.duplicates) {
      t.report.rejected_by_reason.duplicate_customer_id = counts.duplicates;
      t.report.rows_rejected += counts.duplicates;
      t.report.rows_loaded -= counts.duplicates;
    }
    for (const [reason, n] of Object.entries(counts.rejectedWhileLoading ?? {})) {
      t.report.rejected_by_reason[reason] = (t.report.rejected_by_reason[reason] ?? 0) + n;
      t.report.rows_rejected += n;
      t.report.rows_loaded -= n;
    }
    if (counts.loaded !== t.report.rows_loaded || counts.rejected !== t.report.rows_rejected) {
      throw new Error(
        `ingest bookkeeping mismatch for ${t.source.label}: staged ${t.report.rows_loaded}/${t.report.rows_rejected}, wrote ${counts.loaded}/${counts.rejected}`,
      );
    }
    updated += counts.updated;
  }
  const r = p.report;
  for (const t of r.tables) {
    r.rows_read += t.rows_read;
    r.rows_loaded += t.rows_loaded;
    r.rows_rejected += t.rows_rejected;
    for (const [k, v] of Object.entries(t.rejected_by_reason)) r.rejected_by_reason[k] = (r.rejected_by_reason[k] ?? 0) + v;
  }
  if (kind === 'customers') r.customers_updated = updated;
  if (kind === 'owners') r.owners_changed = updated;
  if (kind === 'merges' && r.rows_loaded > 0) r.notes.push(`${formatCount(r.rows_loaded)} ${r.rows_loaded === 1 ? 'merge' : 'merges'} recorded: the next crm run scores each surviving id with its duplicates' history (crm merges lists them)`);
  r.timings_ms.write = Math.round(performance.now() - t0);
  const finished = new Date();
  r.timings_ms.total = finished.getTime() - p.started.getTime();
  const mapping = r.tables.length === 1 ? r.tables[0].mapping : Object.fromEntries(r.tables.map((t) => [t.sheet ?? '', t.mapping]));
  const options = {
    sheet: p.sheetOption,
    date_formats: Object.fromEntries(r.tables.map((t) => [t.sheet ?? 'file', t.date_formats])),
    decimal_separators: Object.fromEntries(Object.entries(p.conventions).map(([k, c]) => [k || 'file', c.decimalSeparators])),
    ...(r.overlap ? { overlap: r.overlap } : {}),
  };
  await store.run(
    `INSERT INTO loads (load_id, kind, path, file_name, sha256, bytes, format, encoding, sheets, mapping, options,
                        rows_read, rows_loaded, rows_rejected, status, replaced_by, started_at, finished_at, timings)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ${r.sheets ? `[${r.sheets.map(literal).join(', ')}]` : 'NULL'}, $9, $10,
             $11, $12, $13, 'loaded', NULL, $14::TIMESTAMP, $15::TIMESTAMP, $16)`,
    [
      loadId,
      kind,
      p.absPath,
      r.file,
      r.sha256,
      r.bytes,
      r.format ?? '',
      r.encoding,
      JSON.stringify(mapping),
      JSON.stringify(options),
      r.rows_read,
      r.rows_loaded,
      r.rows_rejected,
      p.started.toISOString().replace('T', ' ').replace('Z', ''),
      finished.toISOString().replace('T', ' ').replace('Z', ''),
      JSON.stringify(r.timings_ms),
    ],
  );
}

async function cleanupPrepared(store: Store, p: PreparedFile): Promise<void> {
  for (const t of p.tables) {
    for (const suffix of ['', '_w', '_overlap']) await store.run(`DROP TABLE IF EXISTS temp."${t.stage}${suffix}"`).catch(() => 0);
  }
  await p.opened?.cleanup();
}

function summarise(opts: IngestOptions, prepared: PreparedFile[]): IngestReport {
  const totals = { rows_read: 0, rows_loaded: 0, rows_rejected: 0, rejected_by_reason: {} as Record<string, number> };
  for (const p of prepared) {
    if (p.report.status !== 'loaded') continue;
    totals.rows_read += p.report.rows_read;
    totals.rows_loaded += p.report.rows_loaded;
    totals.rows_rejected += p.report.rows_rejected;
    for (const [k, v] of Object.entries(p.report.rejected_by_reason)) totals.rejected_by_reason[k] = (totals.rejected_by_reason[k] ?? 0) + v;
  }
  return { kind: opts.kind, store: opts.storePath, files: prepared.map((p) => p.report), totals };
}

/** Lines for people: one block per file. */
export function formatIngestReport(report: IngestReport): string[] {
  const lines: string[] = [];
  for (const f of report.files) {
    if (f.status === 'unchanged') {
      lines.push(`${f.file}: unchanged — ${f.notes[0]}`);
      continue;
    }
    const replaced = f.replaced_loads.length ? `, replaced load ${f.replaced_loads.join(', ')}` : '';
    lines.push(
      `${f.file}: ${formatCount(f.rows_read)} rows read = ${formatCount(f.rows_loaded)} loaded + ${formatCount(f.rows_rejected)} rejected (load ${f.load_id}${replaced})`,
    );
    if (f.tables.length > 1) {
      for (const t of f.tables) {
        lines.push(`  sheet ${JSON.stringify(t.sheet)}: ${formatCount(t.rows_read)} read = ${formatCount(t.rows_loaded)} loaded + ${formatCount(t.rows_rejected)} rejected`);
      }
    }
    // Ties by name: the counts come from a GROUP BY, whose order DuckDB does not fix.
    const reasons = Object.entries(f.rejected_by_reason).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (reasons.length) lines.push(`  rejected by reason: ${reasons.map(([k, v]) => `${k} ${formatCount(v)}`).join(', ')}`);
    if (f.customers_updated) lines.push(`  ${formatCount(f.customers_updated)} customers updated (loaded earlier from another file)`);
    if (f.owners_changed) lines.push(`  ${formatCount(f.owners_changed)} customers change owner (the latest load wins)`);
    for (const n of f.notes) lines.push(`  note: ${n}`);
  }
  if (report.files.filter((f) => f.status === 'loaded').length > 1) {
    const t = report.totals;
    lines.push(`total: ${formatCount(t.rows_read)} rows read = ${formatCount(t.rows_loaded)} loaded + ${formatCount(t.rows_rejected)} rejected`);
  }
  if (report.totals.rows_rejected > 0) lines.push('See the rejected rows and why: crm query "SELECT * FROM rejects ORDER BY load_id, source_row"');
  return lines;
}
