/**
 * Readers: turn an input file into one or more `SourceTable`s — a relation DuckDB can select
 * from, with one text column per source column — and say how each row's number in the file
 * is recovered. Delimited text, JSON and Parquet are read by DuckDB itself; XLSX is streamed
 * by exceljs into a temporary table (DuckDB's own Excel reader is an extension that cannot
 * be downloaded here, and exceljs also writes our XLSX exports).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
// Types only: exceljs itself is loaded when a workbook is read (openXlsx). Loading it took
// ~0.3 CPU-s of every `crm ingest`, CSV or not.
import type ExcelJS from 'exceljs';
import type { Store } from '../store/db.js';
import { ident, literal } from '../store/db.js';
import { describeMemory, duckdbShare } from '../store/memory.js';
import { inputError, messageOf } from '../util/errors.js';
import {
  dedupeHeaders,
  detectEncoding,
  isGzip,
  readHead,
  sniffCsv,
  type FileFormat,
} from './detect.js';
import { blanksToTabs, lineEndStyle, normaliseLineEnds, transcodeToUtf8, type LineEndStyle } from './file-scan.js';
import { damaged, endsEarly, failIfStalled, inspectGzip, readZipEntry, verifyZip, type ZipEntry } from './integrity.js';

/** How a staged row's position maps back to its row number in the source. */
export type RowNumbering =
  /** The relation has a `__row` column (spreadsheets: the worksheet row number). */
  | { kind: 'column' }
  /** The n-th row read is record n (JSON, Parquet). */
  | { kind: 'ordinal' }
  /** Delimited text: rows are records after the header, minus blank and malformed ones. */
  | {
      kind: 'csv';
      file: string;
      gzip: boolean;
      /** Physical lines of `file`, when a pass over it already counted them (a .gz's check). */
      lines?: number;
      quote: string | null;
      headerRecord: number;
      rejectsTable: string;
      rejectsScan: string;
    };

export interface SourceTable {
  /** For messages: the file, and the sheet when there is one. */
  label: string;
  sheet: string | null;
  /** Unique column names of `relation`. */
  headers: string[];
  /** The headers as the file writes them, same order (repeats and blanks included), when they differ. */
  fileHeaders?: string[];
  /** Spreadsheets: columns with a header and no value in any row, left out of `headers` and `relation`. */
  emptyColumns?: string[];
  /** Set when the file has no header line (columns are column1…N): its first data row, for messages. */
  firstRow?: string[];
  /** A relation for staging (for CSV it records malformed lines in `rejectsTable`). */
  relation: string;
  /** The same rows for cheap sampling (no side effects). */
  sampleRelation: string;
  numbering: RowNumbering;
  /**
   * Set when the source has typed numbers (spreadsheet number cells, numeric JSON and Parquet
   * values): the column `"__numbers"` of `relation` then holds, per row, one character per
   * column of `headers`, '1' where that value was a number (its text is in plain point notation,
   * whatever convention the file's text uses), '0' or NULL elsewhere.
   */
  numberCells?: true;
  /**
   * Set when every value of the source is printable ASCII and tabs: a delimited file read as it
   * is whose bytes are printable ASCII, tabs and line ends (no lone CR) and that holds no quote
   * character, so no field spans lines (see `PlainBytes`). Staging then skips the per-value
   * control-character check of ids, which could not fire, and tests an id's ends for white
   * space more cheaply (`idExpr`).
   */
  plainFields?: true;
  /** How a rejected row's `raw` text is rebuilt from its fields. */
  raw: { kind: 'delimited'; delimiter: string; quote: string | null } | { kind: 'json' };
}

export interface ReadOptions {
  format: FileFormat;
  encoding?: string;
  sheet?: string;
  delimiter?: string;
  /** A unique prefix for temporary objects of this file. */
  tag: string;
  /** The file as the user named it, for messages. */
  label: string;
  onProgress?: (fraction: number | null, detail?: string) => void;
  /** The line ends of the file's raw bytes, when already known (hashFile reads every byte). */
  rawLineEnds?: LineEndStyle;
  /** What hashFile saw of the raw bytes: plain text (see `PlainBytes`) and the quote characters present. */
  rawBytes?: { plainBytes: boolean; quoteChars: string };
}

export interface OpenedSource {
  tables: SourceTable[];
  encoding: string | null;
  sheets: string[] | null;
  /** Remove temporary files and tables. */
  cleanup(): Promise<void>;
  /**
   * Delimited text opened before the raw bytes were scanned (ingest hashes the file while it
   * samples it): give what the scan saw, to set `plainFields` as `ReadOptions.rawBytes` would have.
   */
  settleRawBytes?(rawBytes: { plainBytes: boolean; quoteChars: string }): void;
}

export async function openSource(store: Store, file: string, opts: ReadOptions): Promise<OpenedSource> {
  switch (opts.format) {
    case 'csv':
    case 'tsv':
      return openDelimited(store, file, opts);
    case 'json':
    case 'ndjson':
      return openJson(store, file, opts);
    case 'parquet':
      return openParquet(store, file, opts);
    case 'xlsx':
      return openXlsx(store, file, opts);
  }
}

// ---------------------------------------------------------------------------------------
// Delimited text

async function openDelimited(store: Store, file: string, opts: ReadOptions): Promise<OpenedSource> {
  const head = readHead(file);
  const gzip = isGzip(head);
  let readPath = file;
  let tmpDir: string | null = null;
  let encoding = 'utf-8';
  if (!gzip) {
    const choice = detectEncoding(opts.label, head, opts.encoding);
    encoding = choice.encoding;
    if (choice.encoding !== 'utf-8') {
      // DuckDB reads UTF-8 (and a few others via an extension we cannot download): re-encode.
      tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-ingest-'));
      readPath = path.join(tmpDir, 'utf8.csv');
      opts.onProgress?.(null, `re-encoding from ${choice.encoding}`);
      await transcodeToUtf8(file, readPath, choice.encoding, choice.bomBytes);
    }
  } else if (opts.encoding && opts.encoding.toLowerCase().replace('-', '') !== 'utf8') {
    throw inputError(`${file}: --encoding is not supported for gzip-compressed files; decompress it first`);
  }
  const gzipText = gzip ? await inspectGzip(file, opts.label) : null;
  const sample = gzipText ? gzipText.head : readHead(readPath).toString('utf8');
  const dialect = sniffCsv(sample, file, opts.delimiter, opts.format === 'tsv');
  let compressed = gzip;
  // The raw bytes' line ends are the text's unless the file is compressed (its decompression
  // above counted them) or UTF-16 (whose LF is two bytes); GB18030, Big5, Shift_JIS and
  // single-byte encodings never use 0x0A/0x0D otherwise.
  const rawUsable = opts.rawLineEnds !== undefined && !gzip && !encoding.startsWith('utf-16');
  const lineEnds = gzipText ? gzipText.lineEnds : rawUsable ? opts.rawLineEnds! : await lineEndStyle(readPath, compressed);
  if (lineEnds === 'mixed' || lineEnds === 'cr') {
    // DuckDB takes one kind of line end from the first line and fails (or drops rows) on the
    // others: read a copy whose records all end with LF.
    tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'crm-ingest-'));
    const normalised = path.join(tmpDir, 'lf.csv');
    opts.onProgress?.(null, lineEnds === 'cr' ? 'lines ending in CR' : 'mixed line ends');
    await normaliseLineEnds(readPath, normalised, dialect.quote, compressed);
    readPath = normalised;
    compressed = false;
  }
  if (dialect.blankSeparated) {
    // DuckDB splits on one character: read a copy with each run of blanks made one tab.
    tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'crm-ingest-'));
    const tabbed = path.join(tmpDir, 'tabbed.tsv');
    opts.onProgress?.(null, 'columns separated by blanks');
    await blanksToTabs(readPath, tabbed, compressed);
    readPath = tabbed;
    compressed = false;
  }
  const columns = `{${dialect.headers.map((h) => `${literal(h)}: 'VARCHAR'`).join(', ')}}`;
  const rejectsTable = `${opts.tag}_csv_errors`;
  const rejectsScan = `${opts.tag}_csv_scans`;
  const base = [
    literal(readPath),
    'auto_detect = false',
    `header = ${dialect.hasHeader}`,
    `skip = ${dialect.hasHeader ? dialect.headerRecord - 1 : dialect.headerRecord}`,
    `delim = ${literal(dialect.delimiter)}`,
    // An empty quote (and escape) turns quoting off in DuckDB's read_csv.
    `quote = ${literal(dialect.quote ?? '')}`,
    `escape = ${literal(dialect.quote ?? '')}`,
    `columns = ${columns}`,
    `compression = ${compressed ? "'gzip'" : "'none'"}`,
    'max_line_size = 16777216',
    ...(lineEnds === 'mixed' || lineEnds === 'cr' ? ["new_line = '\\n'"] : []),
  ];
  // Read as it is (not decompressed, re-encoded or rewritten), plain bytes, no lone CR, and no
  // quote character of the dialect: no field can hold a control character.
  const plainEligible = readPath === file && rawUsable && (lineEnds === 'lf' || lineEnds === 'crlf' || lineEnds === 'none');
  const plainWith = (raw: { plainBytes: boolean; quoteChars: string }) =>
    plainEligible && raw.plainBytes && (dialect.quote === null || !raw.quoteChars.includes(dialect.quote));
  const plainFields = opts.rawBytes !== undefined && plainWith(opts.rawBytes);
  const relation = `read_csv(${[...base, 'store_rejects = true', `rejects_table = ${literal(rejectsTable)}`, `rejects_scan = ${literal(rejectsScan)}`].join(', ')})`;
  const sampleRelation = `read_csv(${[...base, 'ignore_errors = true'].join(', ')})`;
  const table: SourceTable = {
    label: opts.label,
    sheet: null,
    headers: dialect.headers,
    fileHeaders: dialect.fileHeaders,
    relation,
    sampleRelation,
    firstRow: dialect.firstRow,
    numbering: { kind: 'csv', file: readPath, gzip: compressed, lines: readPath === file ? gzipText?.lines : undefined, quote: dialect.quote, headerRecord: dialect.headerRecord, rejectsTable, rejectsScan },
    raw: { kind: 'delimited', delimiter: dialect.delimiter, quote: dialect.quote },
    ...(plainFields ? { plainFields: true as const } : {}),
  };
  return {
    tables: [table],
    encoding: gzip ? 'utf-8' : encoding,
    sheets: null,
    cleanup: async () => {
      await store.run(`DROP TABLE IF EXISTS temp.${ident(rejectsTable)}`).catch(() => 0);
      await store.run(`DROP TABLE IF EXISTS temp.${ident(rejectsScan)}`).catch(() => 0);
      if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
    },
    settleRawBytes: (raw) => {
      if (plainWith(raw)) table.plainFields = true;
      else delete table.plainFields;
    },
  };
}

// ---------------------------------------------------------------------------------------
// JSON and Parquet: DuckDB reads them; every column is turned into text so the same value
// parsers apply. Nested values become JSON text.

async function describeColumns(store: Store, relation: string, label: string): Promise<{ name: string; type: string }[]> {
  try {
    const rows = await store.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${relation}`);
    return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  } catch (err) {
    throw readFailure(err, label) ?? inputError(`${label}: cannot read the file: ${messageOf(err).split('\n')[0]}`);
  }
}

/**
 * DuckDB reads JSON and Parquet files while staging, so damage found deep inside such a file
 * surfaces there, as a DuckDB error: this turns those into input errors naming the file
 * (null for any other error, which stays a bug).
 */
export function readFailure(err: unknown, label: string): Error | null {
  const message = messageOf(err).split('\n')[0].replace(/[.\s]+$/, '');
  if (/No magic bytes found at end of file/.test(message)) return endsEarly(label, 'its Parquet footer is missing');
  if (/Unexpected end of file|unexpected end of data|end of file reached|truncated/i.test(message)) {
    return inputError(`${label}: the file ends early or is damaged: ${message}; nothing was loaded`, ['Copy or export the file again.']);
  }
  if (/^(IO|Invalid|Invalid Input|Serialization) Error: .*(parquet|json|corrupt|compress|thrift|footer|page|dictionary|magic)/i.test(message)) {
    return damaged(label, message);
  }
  return null;
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)\b/;
const NUMERIC_JSON = "('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT')";

/**
 * The `"__numbers"` column (see `SourceTable.numberCells`): a numeric column is all numbers; a
 * JSON column of mixed types is decided value by value.
 */
function numberCellsColumn(columns: { name: string; type: string }[]): string {
  const flags = columns.map(({ name, type }) =>
    type === 'JSON' ? `CASE WHEN json_type(${ident(name)}) IN ${NUMERIC_JSON} THEN '1' ELSE '0' END` : NUMERIC_TYPE.test(type) ? "'1'" : "'0'",
  );
  return `concat(${flags.join(', ')}) AS "__numbers"`;
}

function textColumns(columns: { name: string; type: string }[]): string {
  return columns
    .map(({ name, type }) => {
      // A column of mixed JSON types arrives as JSON: ->>'$' gives strings without their quotes.
      const expr =
        type === 'JSON'
          ? `(${ident(name)} ->> '$')`
          : /STRUCT|\[\]|MAP|UNION/.test(type)
            ? `CAST(to_json(${ident(name)}) AS VARCHAR)`
            : `CAST(${ident(name)} AS VARCHAR)`;
      return `${expr} AS ${ident(name)}`;
    })
    .join(', ');
}

async function openJson(store: Store, file: string, opts: ReadOptions): Promise<OpenedSource> {
  const reader = `read_json(${literal(file)}, format = ${opts.format === 'json' ? "'array'" : "'newline_delimited'"}, sample_size = -1, maximum_object_size = 67108864)`;
  const columns = await describeColumns(store, reader, opts.label);
  if (columns.length === 1 && columns[0].name === 'json') {
    throw inputError(`${file}: expected records (objects with fields), found plain JSON values`);
  }
  const relation = `(SELECT ${textColumns(columns)}, ${numberCellsColumn(columns)} FROM ${reader})`;
  return {
    tables: [{ label: opts.label, sheet: null, headers: columns.map((c) => c.name), relation, sampleRelation: relation, numbering: { kind: 'ordinal' }, numberCells: true, raw: { kind: 'json' } }],
    encoding: 'utf-8',
    sheets: null,
    cleanup: async () => undefined,
  };
}

async function openParquet(store: Store, file: string, opts: ReadOptions): Promise<OpenedSource> {
  const reader = `read_parquet(${literal(file)})`;
  const columns = await describeColumns(store, reader, opts.label);
  const relation = `(SELECT ${textColumns(columns)}, ${numberCellsColumn(columns)} FROM ${reader})`;
  return {
    tables: [{ label: opts.label, sheet: null, headers: columns.map((c) => c.name), relation, sampleRelation: relation, numbering: { kind: 'ordinal' }, numberCells: true, raw: { kind: 'json' } }],
    encoding: null,
    sheets: null,
    cleanup: async () => undefined,
  };
}

// ---------------------------------------------------------------------------------------
// XLSX

type CellValue = ExcelJS.CellValue;

/** Whether a spreadsheet cell holds a number (or a formula whose result is one), not text. */
export function isNumberCell(v: CellValue | undefined): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (v !== null && typeof v === 'object' && !(v instanceof Date) && 'result' in v) return isNumberCell((v as { result?: CellValue }).result);
  return false;
}

/** The text of a spreadsheet cell as a person sees it (dates as ISO, numbers in full). */
export function cellText(v: CellValue | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return isoDateTime(v);
  if (typeof v === 'object') {
    const o = v as unknown as Record<string, unknown>;
    if (Array.isArray(o.richText)) return (o.richText as { text: string }[]).map((r) => r.text).join('');
    if ('result' in o || 'formula' in o || 'sharedFormula' in o) return cellText(o.result as CellValue);
    if ('text' in o) return cellText(o.text as CellValue);
    if ('error' in o) return String(o.error);
  }
  return String(v);
}

/**
 * Excel times have no zone: exceljs gives them as UTC instants of the wall-clock time. A year
 * outside 0000–9999 (`+010000-01-01T…`) is written as DuckDB reads it (`10000-01-01`,
 * `-0044-03-15`), so ingest rejects it naming the year rather than as unreadable text.
 */
function isoDateTime(d: Date): string {
  if (Number.isNaN(d.getTime())) return '';
  const iso = d.toISOString();
  const dayEnd = iso.indexOf('T');
  const date = iso.slice(0, dayEnd).replace(/^([+-])0{0,2}/, (_, sign: string) => (sign === '-' ? '-' : ''));
  const time = iso.slice(dayEnd + 1, dayEnd + 9);
  return time === '00:00:00' ? date : `${date} ${time}`;
}

/**
 * Worksheets the workbook lists that the stream did not deliver. exceljs only reads parts named
 * xl/worksheets/sheetN.xml and skips any other silently; a sheet it skipped would be a silent
 * loss. (Chart sheets are listed too, but have no rows: only worksheet relationships count.)
 */
function unreadWorksheets(reader: ExcelJS.stream.xlsx.WorkbookReader, seen: (string | undefined)[]): string[] {
  const book = reader as unknown as {
    model?: { sheets?: { name: string; rId: string }[] };
    workbookRels?: { Id: string; Type: string }[];
  };
  const worksheetRels = new Set((book.workbookRels ?? []).filter((r) => /\/worksheet$/.test(r.Type)).map((r) => r.Id));
  const listed = (book.model?.sheets ?? []).filter((s) => worksheetRels.has(s.rId)).map((s) => s.name);
  const unnamed = seen.some((name) => name === undefined) ? ['(unnamed)'] : [];
  return [...listed.filter((name) => !seen.includes(name)), ...unnamed];
}

/**
 * exceljs's streaming reader parses a worksheet as soon as it meets it once the shared strings
 * and the workbook's relations are known, but takes the sheet's name from xl/workbook.xml. A ZIP
 * may store that part after the worksheets (exceljs's own writer does, depending on which part
 * its asynchronous zipping finishes first), and every sheet then fails with "Cannot read
 * properties of undefined (reading 'sheets')": a valid workbook refused. The part is small, so
 * when it comes after a worksheet it is read first, through the reader's own parser (exceljs
 * parses it again, to the same model, when it meets it).
 */
async function readWorkbookPartFirst(reader: ExcelJS.stream.xlsx.WorkbookReader, file: string, entries: ZipEntry[]): Promise<void> {
  const workbookPart = entries.find((e) => e.name === 'xl/workbook.xml');
  const worksheetOffsets = entries.filter((e) => /^xl\/worksheets\/sheet\d+\.xml$/.test(e.name)).map((e) => e.localOffset);
  if (!workbookPart || worksheetOffsets.length === 0 || workbookPart.localOffset < Math.min(...worksheetOffsets)) return;
  const xml = await readZipEntry(file, workbookPart);
  await (reader as unknown as { _parseWorkbook(entry: Readable): Promise<void> })._parseWorkbook(Readable.from([xml]));
}

type Appender = Awaited<ReturnType<Store['conn']['createAppender']>>;

/**
 * One worksheet's rows as a temporary table holding only the columns that have a value. A sheet
 * can name all 16,384 columns (A…XFD) and fill four: a VARCHAR column per header would make
 * DuckDB's appender hold 16,384 vectors of 2,048 strings — half a gigabyte — for a few thousand
 * rows. So a column joins the table the first time a row has a value in it (ALTER TABLE between
 * two appenders, once per column), and a column empty in every row is never stored.
 */
class SheetTable {
  /** Header positions of the stored columns, in the table's order (after "__row" and "__extra"). */
  private readonly stored: number[] = [];
  private readonly isStored = new Set<number>();
  private appender: Appender | null = null;
  private rows = 0;

  constructor(
    private readonly store: Store,
    private readonly table: string,
  ) {}

  async create(): Promise<void> {
    await this.store.run(`CREATE TEMP TABLE ${ident(this.table)} ("__row" BIGINT, "__extra" VARCHAR, "__numpos" VARCHAR)`);
  }

  /**
   * One row: its worksheet row number, its cells by header position, the JSON of cells beyond
   * the header, and the header positions of its number cells (kept as ",3,7,": the columns a
   * sheet stores are only known at its end, see `numbersColumn`).
   */
  async append(rowNumber: bigint, cells: Map<number, string>, extra: string | null, numbers: number[], headers: string[]): Promise<void> {
    const added = [...cells.keys()].filter((c) => !this.isStored.has(c)).sort((a, b) => a - b);
    if (added.length) {
      this.appender?.closeSync();
      this.appender = null;
      for (const c of added) {
        await this.store.run(`ALTER TABLE temp.${ident(this.table)} ADD COLUMN ${ident(headers[c])} VARCHAR`);
        this.stored.push(c);
        this.isStored.add(c);
      }
    }
    const appender = (this.appender ??= await this.store.conn.createAppender(this.table, 'main', 'temp'));
    appender.appendBigInt(rowNumber);
    if (extra === null) appender.appendNull();
    else appender.appendVarchar(extra);
    if (numbers.length) appender.appendVarchar(`,${numbers.join(',')},`);
    else appender.appendNull();
    for (const c of this.stored) {
      const text = cells.get(c);
      if (text === undefined) appender.appendNull();
      else appender.appendVarchar(text);
    }
    appender.endRow();
    this.rows++;
  }

  /**
   * Flush the rows; the header positions the table keeps, in header order. A sheet without
   * rows keeps every header column: nothing says they are empty, and its columns still map.
   */
  async finish(headers: string[]): Promise<number[]> {
    this.appender?.closeSync();
    this.appender = null;
    if (this.rows > 0) return [...this.stored].sort((a, b) => a - b);
    await this.store.run(
      `CREATE OR REPLACE TEMP TABLE ${ident(this.table)} (${headers.map((h) => `${ident(h)} VARCHAR`).join(', ')}, "__row" BIGINT, "__extra" VARCHAR, "__numpos" VARCHAR)`,
    );
    return headers.map((_, c) => c);
  }

  /** The `"__numbers"` column (see `SourceTable.numberCells`) over the kept header positions. */
  static numbersColumn(kept: number[]): string {
    const flags = kept.map((c) => `CASE WHEN contains("__numpos", ',${c},') THEN '1' ELSE '0' END`);
    return `CASE WHEN "__numpos" IS NOT NULL THEN concat(${flags.length ? flags.join(', ') : "''"}) END AS "__numbers"`;
  }
}

/** DuckDB ran out of its memory cap (its message then gives tuning advice meant for SQL users). */
function outOfMemory(err: unknown): boolean {
  return /could not allocate|Out of Memory Error|failed to allocate/i.test(messageOf(err));
}

/** The names of `headers` not at the given positions. */
function withoutPositions(headers: string[], positions: number[]): string[] {
  const keep = new Set(positions);
  return headers.filter((_, c) => !keep.has(c));
}

async function openXlsx(store: Store, file: string, opts: ReadOptions): Promise<OpenedSource> {
  // exceljs streams the workbook and never notices a cut, damaged or bomb-like one: check it whole first.
  opts.onProgress?.(null, 'checking the workbook');
  const entries = await verifyZip(file, opts.label);
  const tables: SourceTable[] = [];
  const created: string[] = [];
  const sheetsSeen: (string | undefined)[] = [];
  const { default: excel } = await import('exceljs');
  let reader: ExcelJS.stream.xlsx.WorkbookReader;
  try {
    reader = new excel.stream.xlsx.WorkbookReader(file, {
      sharedStrings: 'cache',
      hyperlinks: 'ignore',
      worksheets: 'emit',
      styles: 'cache',
      entries: 'emit',
    });
  } catch (err) {
    throw inputError(`${file}: cannot open the workbook: ${messageOf(err)}`);
  }
  await readWorkbookPartFirst(reader, file, entries);
  let rowsRead = 0;
  /** The sheet being read and its header's width, for a message if memory runs out. */
  let reading = null as { name: string; columns: number } | null;
  const readSheets = async () => {
    for await (const ws of reader as unknown as AsyncIterable<ExcelJS.stream.xlsx.WorksheetReader & { name: string }>) {
      const name = ws.name;
      sheetsSeen.push(name);
      if (opts.sheet && name !== opts.sheet) {
        for await (const _ of ws as unknown as AsyncIterable<unknown>) void _;
        continue;
      }
      const table = `${opts.tag}_sheet_${tables.length + 1}`;
      const sheet = new SheetTable(store, table);
      let headers: string[] | null = null;
      let fileHeaders: string[] = [];
      for await (const row of ws as unknown as AsyncIterable<ExcelJS.Row>) {
        const values = row.values as CellValue[];
        if (!headers) {
          const texts = values.slice(1).map((v) => (cellText(v) ?? '').trim());
          if (texts.every((t) => t === '')) continue;
          // Trailing empty header cells are formatting, not columns.
          while (texts.length && texts[texts.length - 1] === '') texts.pop();
          headers = dedupeHeaders(texts);
          fileHeaders = texts;
          await sheet.create();
          created.push(table);
          reading = { name, columns: headers.length };
          continue;
        }
        // Only the cells the row holds (exceljs leaves holes for absent ones): column → text.
        const cells = new Map<number, string>();
        // Cells right of the header's last column are data without a column: carried along
        // so the row is rejected visibly instead of losing them.
        const extra: string[] = [];
        const numbers: number[] = [];
        values.forEach((v, i) => {
          const text = i >= 1 ? cellText(v) : null;
          if (text === null || text === '') return;
          if (i > headers!.length) return void extra.push(text);
          cells.set(i - 1, text);
          if (isNumberCell(v)) numbers.push(i - 1);
        });
        if (extra.length === 0 && cells.size === 0) continue; // a formatted but empty row
        await sheet.append(BigInt(row.number), cells, extra.length ? JSON.stringify(extra) : null, numbers, headers);
        if (++rowsRead % 5000 === 0) opts.onProgress?.(null, `${rowsRead.toLocaleString('en-US')} rows`);
      }
      if (!headers) continue;
      const kept = await sheet.finish(headers);
      const relation = `(SELECT ${[...kept.map((c) => ident(headers![c])), '"__row"', '"__extra"', SheetTable.numbersColumn(kept)].join(', ')} FROM temp.${ident(table)})`;
      tables.push({
        label: `${opts.label} [${name}]`,
        sheet: name,
        headers: kept.map((c) => headers![c]),
        fileHeaders: kept.map((c) => fileHeaders[c]),
        ...(kept.length < headers.length ? { emptyColumns: withoutPositions(headers, kept) } : {}),
        relation,
        sampleRelation: relation,
        numbering: { kind: 'column' },
        numberCells: true,
        raw: { kind: 'json' },
      });
    }
  };
  try {
    await failIfStalled(readSheets(), () => damaged(opts.label, 'the workbook stopped before its end while being read'));
    const unread = unreadWorksheets(reader, sheetsSeen);
    if (unread.length) {
      throw inputError(`${opts.label}: cannot read ${unread.map((m) => `sheet ${JSON.stringify(m)}`).join(', ')}: the workbook lists it, but its part was not found or not recognised; nothing was loaded`, [
        'Open the workbook in a spreadsheet program and save it again as .xlsx.',
      ]);
    }
  } catch (err) {
    for (const t of created) await store.run(`DROP TABLE IF EXISTS temp.${ident(t)}`).catch(() => 0);
    if ((err as { exitCode?: number }).exitCode) throw err;
    if (outOfMemory(err)) {
      const where = reading ? ` (sheet ${JSON.stringify(reading.name)}, ${reading.columns.toLocaleString('en-US')} columns)` : '';
      throw inputError(`${opts.label}: the workbook is too large to read within the memory limit${where}; nothing was loaded`, [
        'Save the sheet as CSV (UTF-8) in your spreadsheet program and load the .csv file: CSV is read as a stream.',
        `Or delete the columns and rows that hold nothing, or give the command more memory with --memory-limit (now: ${describeMemory(store.memory)}; e.g. --memory-limit 4GB, of which DuckDB gets ${duckdbShare('4GB')}).`,
      ]);
    }
    throw inputError(`${opts.label}: cannot read the workbook: ${messageOf(err)}`);
  }
  if (opts.sheet && !sheetsSeen.includes(opts.sheet)) {
    throw inputError(`${file}: no sheet named ${JSON.stringify(opts.sheet)}`, [`Sheets: ${sheetsSeen.map((s) => JSON.stringify(s)).join(', ')}`]);
  }
  if (tables.length === 0) throw inputError(`${file}: the workbook has no sheet with data`);
  return {
    tables,
    encoding: null,
    sheets: tables.map((t) => t.sheet!),
    cleanup: async () => {
      for (const t of created) await store.run(`DROP TABLE IF EXISTS temp.${ident(t)}`).catch(() => 0);
    },
  };
}
