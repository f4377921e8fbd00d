/**
 * XLSX writer on exceljs's streaming WorkbookWriter: each row is committed (serialised into the
 * zip stream) as soon as it is added and inline strings replace the shared-strings table, so
 * memory stays flat however many rows are written.
 *
 * Layout: one sheet, bold header row frozen at the top, column widths from the header and the
 * first rows (a streaming writer must emit widths before any row). Numbers are numbers, dates
 * and timestamps are real Excel dates (yyyy-mm-dd / yyyy-mm-dd hh:mm:ss), booleans are
 * booleans. Formula-like text keeps its value and gets Excel's `quotePrefix` cell style (see
 * ../safe-cells.ts and docs/exports.md); CSV instead prefixes a visible `'`.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import ExcelJS from 'exceljs';
import type { DuckDBValue } from '@duckdb/node-api';
import { defuseFormula, isFormulaLike } from '../safe-cells.js';
import { displayWidth, formatCount } from '../../util/format.js';
import {
  MS_PER_DAY,
  dateDays,
  decimalToNumber,
  isInfiniteDate,
  isInfiniteTimestamp,
  timestampMicros,
  type BatchWriter,
  type ColumnBatch,
  type OutputColumn,
  type ValueKind,
} from './types.js';

export interface XlsxOptions {
  sheetName?: string;
}

/** Excel's hard limits: rows per sheet (incl. the header) and characters per cell. */
export const XLSX_MAX_ROWS = 1_048_576;
export const XLSX_MAX_CELL_CHARS = 32_767;
const SHEET_NAME_MAX = 31;

/** Rows inspected to size the columns, and the width bounds (in characters). */
const WIDTH_SAMPLE_ROWS = 1000;
const MIN_WIDTH = 6;
const MAX_WIDTH = 60;
const WIDTH_PADDING = 2;

/**
 * Backpressure: exceljs hands each committed row's XML to the zip archiver without waiting, so
 * producing rows faster than zlib compresses them buffers the whole sheet in memory (~900 MB
 * for a million rows). We pause while more than this many bytes wait for compression.
 */
const MAX_QUEUED_ZIP_BYTES = 8 << 20;
const BACKPRESSURE_POLL_MS = 2;

/**
 * Bytes of this sheet's XML queued at the archiver's input. Reads exceljs / readable-stream
 * internals (`stream.pipes`, `_writableState`); if they change, this returns 0 and the writer
 * still works, only without the memory bound.
 */
function queuedZipBytes(sheet: ExcelJS.Worksheet): number {
  type Pipe = { _writableState?: { length?: number } };
  const pipes = (sheet as unknown as { stream?: { pipes?: Pipe[] } }).stream?.pipes ?? [];
  let n = 0;
  for (const p of pipes) n += p._writableState?.length ?? 0;
  return n;
}

const NUM_FMT: Partial<Record<ValueKind, string>> = {
  date: 'yyyy-mm-dd',
  timestamp: 'yyyy-mm-dd hh:mm:ss',
  timestamptz: 'yyyy-mm-dd hh:mm:ss',
};
const FIXED_WIDTH: Partial<Record<ValueKind, number>> = { date: 10, timestamp: 19, timestamptz: 19 };

/** Excel's date system starts in 1900 and its serials before 1900-03-01 are off by its leap-year bug. */
const FIRST_EXCEL_SAFE_DAY = Date.UTC(1900, 2, 1) / MS_PER_DAY;
const LAST_EXCEL_DAY = Date.UTC(9999, 11, 31) / MS_PER_DAY;

/** A sheet name Excel accepts: no []:*?/\, not quoted, 1–31 characters. */
export function safeSheetName(name: string | undefined, fallback = 'Export'): string {
  const cleaned = (name ?? '')
    .replace(/[[\]:*?/\\]/g, '_')
    .replace(/[\u0000-\u001f]/g, '')
    .trim()
    .replace(/^'+|'+$/g, '');
  const cut = Array.from(cleaned);
  let out = '';
  for (const ch of cut) {
    if ((out + ch).length > SHEET_NAME_MAX) break;
    out += ch;
  }
  return out || fallback;
}

type CellValue = string | number | boolean | Date | null;

/** A cell style with Excel's "quote prefix" flag (`<xf quotePrefix="1">`), which exceljs 4 does not model. */
type CellStyle = Partial<ExcelJS.Style> & { quotePrefix?: boolean };

/**
 * exceljs 4 has no `quotePrefix` style: teach this workbook's style table to write one. A style
 * object carrying `quotePrefix: true` gets its own `<xf>` record, a copy of the record exceljs
 * builds for the same style with `quotePrefix="1"` added. Returns false when the exceljs
 * internals this relies on (`styles.addStyleModel`, the `model.styles` XML records and the
 * `index.style` lookup, stable through exceljs 4.x) are not there; the caller then falls back
 * to a visible `'` prefix, which is just as safe.
 */
export function enableQuotePrefix(workbook: ExcelJS.stream.xlsx.WorkbookWriter): boolean {
  type StylesTable = {
    addStyleModel?: (model: CellStyle | undefined, cellType?: unknown) => number;
    model?: { styles?: unknown };
    index?: { style?: Record<string, number> };
  };
  const styles = (workbook as unknown as { styles?: StylesTable }).styles;
  const addStyleModel = styles?.addStyleModel;
  const records = styles?.model?.styles;
  const index = styles?.index?.style;
  if (!styles || typeof addStyleModel !== 'function' || !Array.isArray(records) || !index || typeof records[0] !== 'string') {
    return false;
  }
  const ids = new WeakMap<object, number>();
  styles.addStyleModel = (model, cellType) => {
    if (!model?.quotePrefix) return addStyleModel.call(styles, model, cellType);
    const known = ids.get(model);
    if (known !== undefined) return known;
    const plainId = addStyleModel.call(styles, { ...model, quotePrefix: undefined }, cellType);
    const plain = records[plainId];
    if (typeof plain !== 'string' || !plain.startsWith('<xf ')) {
      throw new Error(`internal: unexpected exceljs style record ${String(plain).slice(0, 80)}`);
    }
    const xml = plain.replace(/^<xf /, '<xf quotePrefix="1" ');
    let id = index[xml];
    if (id === undefined) {
      id = index[xml] = records.length;
      records.push(xml);
    }
    ids.set(model, id);
    return id;
  };
  return true;
}

interface CellContext {
  truncated: number;
  /** Defuse with a visible `'` (only when the quotePrefix style is unavailable). */
  visiblePrefix: boolean;
}

function cellConverter(kind: ValueKind, ctx: CellContext): (v: DuckDBValue) => CellValue {
  switch (kind) {
    case 'text':
      return (v) => {
        const s = ctx.visiblePrefix ? defuseFormula(v as string) : (v as string);
        if (s.length <= XLSX_MAX_CELL_CHARS) return s;
        ctx.truncated++;
        return s.slice(0, XLSX_MAX_CELL_CHARS);
      };
    case 'bool':
      return (v) => v as boolean;
    case 'int':
    case 'float':
      // Excel cannot store NaN or ±Infinity as numbers; keep them readable as text.
      return (v) => (Number.isFinite(v as number) ? (v as number) : String(v));
    case 'bigint':
    case 'hugeint':
      return (v) => Number(v as bigint);
    case 'decimal':
      return (v) => decimalToNumber(v);
    case 'date':
      return (v) => {
        const days = dateDays(v);
        if (days < FIRST_EXCEL_SAFE_DAY || days > LAST_EXCEL_DAY || isInfiniteDate(days)) return String(v);
        return new Date(days * MS_PER_DAY);
      };
    case 'timestamp':
    case 'timestamptz':
      return (v) => {
        const micros = timestampMicros(v);
        if (isInfiniteTimestamp(micros)) return String(v);
        const ms = Number(micros / 1000n);
        const days = ms / MS_PER_DAY;
        if (days < FIRST_EXCEL_SAFE_DAY || days > LAST_EXCEL_DAY + 1) return String(v);
        return new Date(ms);
      };
  }
}

function cellWidth(v: CellValue): number {
  if (v === null) return 0;
  if (v instanceof Date) return 10;
  return displayWidth(String(v));
}

export async function openXlsxWriter(
  file: string,
  columns: OutputColumn[],
  opts: XlsxOptions = {},
): Promise<BatchWriter> {
  const out = fs.createWriteStream(file, { flags: 'wx' });
  await once(out, 'open');
  // Until commit() takes over, a stream error must not crash the process as unhandled.
  let streamError: Error | null = null;
  out.on('error', (err) => {
    streamError = err;
  });
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet(safeSheetName(opts.sheetName), {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  const quotePrefix = enableQuotePrefix(workbook);
  const ctx: CellContext = { truncated: 0, visiblePrefix: !quotePrefix };
  const converters = columns.map((c) => cellConverter(c.kind, ctx));
  const headers = columns.map((c) => (quotePrefix ? c.name : defuseFormula(c.name)));
  const warnings: string[] = [];

  // Rows held back until the column widths are known (at most WIDTH_SAMPLE_ROWS).
  let sample: CellValue[][] | null = [];
  let finished = false;
  // One style object per column, shared by all its cells: exceljs caches style ids by object
  // identity, and otherwise serialises every cell's (fresh, merged) style to find its id —
  // about a third of the run time for a million rows.
  const columnStyles: CellStyle[] = columns.map((c) => {
    const numFmt = NUM_FMT[c.kind];
    return numFmt ? { numFmt } : {};
  });
  // The same per column for text a spreadsheet would evaluate if it were typed in.
  const quotedStyles: CellStyle[] = columnStyles.map((s) => ({ ...s, quotePrefix: true }));
  const styleFor = (c: number, v: CellValue): CellStyle =>
    quotePrefix && typeof v === 'string' && isFormulaLike(v) ? quotedStyles[c] : columnStyles[c];
  const addDataRow = (values: CellValue[]) => {
    const row = sheet.addRow(values);
    for (let c = 0; c < values.length; c++) row.getCell(c + 1).style = styleFor(c, values[c]) as Partial<ExcelJS.Style>;
    row.commit();
  };

  const startSheet = () => {
    const widths = headers.map((h) => displayWidth(h));
    for (const row of sample ?? []) {
      for (let c = 0; c < row.length; c++) widths[c] = Math.max(widths[c], cellWidth(row[c]));
    }
    sheet.columns = columns.map((col, c) => ({
      width: Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, FIXED_WIDTH[col.kind] ?? 0, widths[c]) + WIDTH_PADDING),
      style: columnStyles[c],
    }));
    const header = sheet.addRow(headers);
    header.font = { bold: true };
    headers.forEach((h, c) => {
      if (quotePrefix && isFormulaLike(h)) {
        const cell = header.getCell(c + 1);
        cell.style = { ...cell.style, quotePrefix: true } as Partial<ExcelJS.Style>;
      }
    });
    header.commit();
    for (const row of sample ?? []) addDataRow(row);
    sample = null;
  };

  const toRows = (batch: ColumnBatch): CellValue[][] => {
    const rows: CellValue[][] = [];
    for (let r = 0; r < batch.rowCount; r++) {
      const row: CellValue[] = new Array(columns.length);
      for (let c = 0; c < columns.length; c++) {
        const v = batch.columns[c][r];
        row[c] = v === null || v === undefined ? null : converters[c](v);
      }
      rows.push(row);
    }
    return rows;
  };

  return {
    warnings,
    async write(batch) {
      if (streamError) throw streamError;
      const rows = toRows(batch);
      if (sample) {
        sample.push(...rows);
        if (sample.length >= WIDTH_SAMPLE_ROWS) startSheet();
        return;
      }
      for (const row of rows) addDataRow(row);
      while (queuedZipBytes(sheet) > MAX_QUEUED_ZIP_BYTES && !streamError && !out.destroyed) {
        await sleep(BACKPRESSURE_POLL_MS);
      }
    },
    async finish() {
      if (sample) startSheet();
      sheet.commit();
      await workbook.commit();
      finished = true;
      if (!out.closed) await once(out, 'close');
      if (streamError) throw streamError;
      if (ctx.truncated > 0) {
        warnings.push(
          `${formatCount(ctx.truncated)} text cell(s) longer than Excel's limit of ${formatCount(XLSX_MAX_CELL_CHARS)} characters were truncated; use csv or parquet for the full text`,
        );
      }
    },
    async abort() {
      if (finished || out.closed) return;
      const closed = once(out, 'close').catch(() => undefined);
      out.destroy();
      await closed;
    },
  };
}
