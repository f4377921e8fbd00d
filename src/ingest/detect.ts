/**
 * What a file is: its format (from the flag, its first bytes, then its extension), its text
 * encoding (BOM, else UTF-8 checked on a sample, with a hint when it is not), and for
 * delimited text its dialect (delimiter, header line). We sniff the dialect ourselves on the
 * first records so the rules are explicit and the same for every file; DuckDB then reads
 * with fixed options.
 */
import fs from 'node:fs';
import path from 'node:path';
import { inputError, usageError } from '../util/errors.js';

export type FileFormat = 'csv' | 'tsv' | 'parquet' | 'json' | 'ndjson' | 'xlsx';
export const FORMATS: FileFormat[] = ['csv', 'tsv', 'parquet', 'json', 'ndjson', 'xlsx'];

const SNIFF_BYTES = 256 * 1024;

export function readHead(file: string, bytes = SNIFF_BYTES): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = fs.readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export function detectFormat(file: string, head: Buffer, flag?: string): FileFormat {
  if (flag) {
    const f = flag.toLowerCase();
    if (!FORMATS.includes(f as FileFormat)) {
      throw usageError(`--format ${flag}: unknown format`, [`Formats: ${FORMATS.join(', ')}`]);
    }
    return f as FileFormat;
  }
  if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) return 'xlsx';
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  if (head.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]))) {
    throw inputError(`${file}: this is a legacy Excel 97-2003 (.xls) workbook, which is not supported`, [
      'Save it as .xlsx (Excel: File › Save As › Excel Workbook) or as CSV, then ingest that file.',
    ]);
  }
  const name = path.basename(file).toLowerCase().replace(/\.gz$/, '');
  const ext = path.extname(name);
  if (ext === '.xlsx' || ext === '.xlsm') return 'xlsx';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (!isGzip(head)) {
    const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
    if (ext === '.json' || text.startsWith('[') || text.startsWith('{')) {
      if (text.startsWith('[')) return 'json';
      if (text.startsWith('{')) return 'ndjson';
    }
  } else if (ext === '.json') return 'json';
  return 'csv';
}

// ---------------------------------------------------------------------------------------
// Encodings

/** Encodings accepted by --encoding, mapped to the WHATWG names Node's TextDecoder knows. */
const ENCODING_ALIASES: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  gb18030: 'gb18030',
  // GBK and GB2312 are subsets of GB18030; decoding with the superset reads them all.
  gbk: 'gb18030',
  gb2312: 'gb18030',
  cp936: 'gb18030',
  'utf-16': 'utf-16le',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
  latin1: 'windows-1252',
  'iso-8859-1': 'windows-1252',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  big5: 'big5',
  shift_jis: 'shift_jis',
  sjis: 'shift_jis',
};

export function normaliseEncoding(flag: string): string {
  const e = ENCODING_ALIASES[flag.toLowerCase()];
  if (!e) {
    throw usageError(`--encoding ${flag}: unknown encoding`, [`Encodings: ${Object.keys(ENCODING_ALIASES).join(', ')}`]);
  }
  return e;
}

export interface EncodingChoice {
  /** WHATWG encoding name. */
  encoding: string;
  /** Length of the byte-order mark to skip. */
  bomBytes: number;
}

export function detectEncoding(file: string, head: Buffer, flag?: string): EncodingChoice {
  const bom = bomOf(head);
  if (flag) {
    const encoding = normaliseEncoding(flag);
    return { encoding, bomBytes: bom && bom.encoding === encoding ? bom.bytes : 0 };
  }
  if (bom) return { encoding: bom.encoding, bomBytes: bom.bytes };
  // UTF-16 text of mostly Latin letters is also valid UTF-8 (with a NUL byte beside each
  // letter), so it is recognised before the UTF-8 check.
  const utf16 = utf16WithoutBom(head);
  if (utf16) return { encoding: utf16, bomBytes: 0 };
  const invalidAt = firstInvalidUtf8(head);
  if (invalidAt >= 0) {
    const line = head.subarray(0, invalidAt).toString('latin1').split('\n').length;
    const guess = guessLegacyEncoding(head);
    const name = guess === 'windows-1252' ? 'windows-1252 (latin1)' : guess;
    const mixed = guess === 'windows-1252' && hasUtf8Sequences(head.subarray(0, invalidAt));
    throw inputError(`${file}: line ${line} is not valid UTF-8 (byte offset ${invalidAt}: 0x${head[invalidAt].toString(16).toUpperCase().padStart(2, '0')})`, [
      mixed
        ? `The lines before it are UTF-8 and this byte looks like ${name}: the file mixes encodings. Re-save it as UTF-8; --encoding ${guess} would misread the UTF-8 part.`
        : `It looks like ${name}: pass --encoding ${guess} (or set "encoding" in crm.config.json).`,
      'Other encodings: gbk, gb18030, utf-16, latin1, windows-1252, big5, shift_jis.',
    ]);
  }
  return { encoding: 'utf-8', bomBytes: 0 };
}

/**
 * UTF-16 without a byte-order mark, from where its NUL bytes fall: text in Latin script has a
 * zero high byte in nearly every code unit (odd offsets for little-endian, even for big-endian)
 * and next to none in the other position. Returns null for anything else.
 */
export function utf16WithoutBom(head: Buffer): 'utf-16le' | 'utf-16be' | null {
  const units = Math.min(head.length, 64 * 1024) >> 1;
  if (units < 2) return null;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < units; i++) {
    if (head[2 * i] === 0) evenZeros++;
    if (head[2 * i + 1] === 0) oddZeros++;
  }
  const mostly = (n: number) => n >= units * 0.4;
  const hardly = (n: number) => n <= units * 0.05;
  if (mostly(oddZeros) && hardly(evenZeros)) return 'utf-16le';
  if (mostly(evenZeros) && hardly(oddZeros)) return 'utf-16be';
  return null;
}

/** Whether `buf` holds at least one well-formed multi-byte UTF-8 sequence. */
function hasUtf8Sequences(buf: Buffer): boolean {
  return /[\u0080-\uFFFF]/.test(buf.toString('utf8').replace(/\uFFFD/g, ''));
}

function bomOf(head: Buffer): { encoding: string; bytes: number } | null {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bytes: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bytes: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bytes: 2 };
  return null;
}

/** Offset of the first byte that breaks UTF-8 in `buf` (a sequence cut by the buffer's end is fine), or -1. */
export function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const len = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b <= 0xdf ? 2 : 0;
    if (len === 0 || (b >= 0xf0 && b > 0xf4)) return i;
    for (let k = 1; k < len; k++) {
      if (i + k >= buf.length) return -1;
      if ((buf[i + k] & 0xc0) !== 0x80) return i;
    }
    i += len;
  }
  return -1;
}

/**
 * A best guess for a non-UTF-8 file. Chinese text in GB18030 writes every character as two
 * or more bytes above 0x7F side by side; Windows-1252 (Latin-1) writes é, ü or € as one such
 * byte between ASCII letters. So: GB18030 when most runs of high bytes are longer than one
 * byte and the text decodes to CJK characters, else Windows-1252.
 */
function guessLegacyEncoding(head: Buffer): string {
  const sample = head.subarray(0, 64 * 1024);
  let runs = 0;
  let singles = 0;
  for (let i = 0; i < sample.length; ) {
    if (sample[i] < 0x80) {
      i++;
      continue;
    }
    let j = i;
    while (j < sample.length && sample[j] >= 0x80) j++;
    runs++;
    if (j - i === 1) singles++;
    i = j;
  }
  if (runs > 0 && singles * 2 < runs) {
    try {
      const text = new TextDecoder('gb18030', { fatal: true }).decode(sample, { stream: true });
      if (/[\u4e00-\u9fff]/.test(text)) return 'gb18030';
    } catch {
      /* not GB18030 */
    }
  }
  return 'windows-1252';
}

// ---------------------------------------------------------------------------------------
// CSV dialect

export interface CsvDialect {
  delimiter: string;
  /**
   * The quote character, or null when fields are never quoted: in columns separated by blanks a
   * `"` is part of a value (CDNOW's product codes such as `Pipe_12"`), not the start of a field.
   */
  quote: string | null;
  /**
   * Columns are separated by runs of blanks (spaces, tabs), not one character: the file is read
   * through a copy with each run turned into one tab (`delimiter` is then a tab).
   */
  blankSeparated: boolean;
  /** False when the first record is already data; the columns are then named column1…columnN. */
  hasHeader: boolean;
  /** Records before the first data row: title lines and the header line. */
  headerRecord: number;
  /** Unique column names (see `dedupeHeaders`). */
  headers: string[];
  /** The header line as written (trimmed), same order. */
  fileHeaders: string[];
  /** Without a header line: the first data row as read, for messages. */
  firstRow?: string[];
}

const DELIMITERS = [',', ';', '\t', '|'];
const SNIFF_RECORDS = 200;

/** Split the start of a text into records and fields, honouring double-quoted fields. */
export function splitRecords(text: string, delimiter: string, quote = '"', maxRecords = SNIFF_RECORDS): string[][] {
  const records: string[][] = [];
  let field = '';
  let fields: string[] = [];
  let inQuotes = false;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    records.push(fields);
    fields = [];
    field = '';
  };
  while (i < text.length && records.length < maxRecords) {
    const c = text[i];
    if (inQuotes) {
      if (c === quote) {
        if (text[i + 1] === quote) {
          field += quote;
          i += 2;
          continue;
        }
        inQuotes = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === quote && field.trim() === '') {
      inQuotes = true;
      field = '';
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
    } else field += c;
    i++;
  }
  // The sample may end mid-record; only complete records count.
  return records;
}

/**
 * Choose the delimiter whose most common field count (above one) covers the most records;
 * the header is the first record with that count (title lines above it are skipped).
 */
export function sniffCsv(text: string, file: string, delimiterFlag?: string, tsv = false): CsvDialect {
  const body = text.replace(/^\uFEFF/, '');
  if (delimiterFlag !== undefined && delimiterFlag.trim().toLowerCase() === WHITESPACE) {
    const records = splitOnBlanks(body);
    if (records.length === 0) throw inputError(`${file}: the file is empty`);
    return dialectFrom(records, records[0].length, '\t', true);
  }
  const candidates = delimiterFlag ? [unescapeDelimiter(delimiterFlag)] : tsv ? ['\t'] : DELIMITERS;
  let best: { delimiter: string; count: number; support: number; records: string[][] } | null = null;
  for (const delimiter of candidates) {
    const records = splitRecords(body, delimiter).filter((r) => !(r.length === 1 && r[0].trim() === ''));
    const counts = new Map<number, number>();
    for (const r of records) counts.set(r.length, (counts.get(r.length) ?? 0) + 1);
    for (const [count, support] of counts) {
      if (count < 2 && !delimiterFlag && candidates.length > 1) continue;
      if (!best || support > best.support || (support === best.support && count > best.count)) {
        best = { delimiter, count, support, records };
      }
    }
  }
  if (!best && !delimiterFlag && !tsv) {
    // No delimiter character fits: columns separated by runs of blanks, when every line has
    // the same number of them (legacy systems, published data sets such as CDNOW's).
    const records = splitOnBlanks(body);
    const width = records[0]?.length ?? 0;
    if (width >= 2 && records.every((r) => r.length === width)) return dialectFrom(records, width, '\t', true);
  }
  if (!best) {
    // One column only: a file with a single field per line.
    const records = splitRecords(body, candidates[0]);
    if (records.length === 0) throw inputError(`${file}: the file is empty`);
    best = { delimiter: candidates[0], count: 1, support: records.length, records };
  }
  return dialectFrom(splitRecords(body, best.delimiter), best.count, best.delimiter, false);
}

/**
 * The header is the first record of the usual width whose names are mostly filled in: a title
 * line like "Sales export;;;;" has the width but not the names. When that record is data
 * (mostly numbers and dates), there is no header line.
 */
function dialectFrom(records: string[][], width: number, delimiter: string, blankSeparated: boolean): CsvDialect {
  const named = (r: string[]) => r.filter((f) => f.trim() !== '').length * 2 >= r.length;
  let headerIndex = records.findIndex((r) => r.length === width && named(r));
  if (headerIndex < 0) headerIndex = records.findIndex((r) => r.length === width);
  const first = records[headerIndex].map((h) => h.trim());
  const quote = blankSeparated ? null : '"';
  if (looksLikeData(first)) {
    const headers = first.map((_, i) => `column${i + 1}`);
    return { delimiter, quote, blankSeparated, hasHeader: false, headerRecord: headerIndex, headers, fileHeaders: headers, firstRow: first };
  }
  return { delimiter, quote, blankSeparated, hasHeader: true, headerRecord: headerIndex + 1, headers: dedupeHeaders(first), fileHeaders: first };
}

const NUMBER_OR_DATE = /^[-+(]?[$€£¥]?\d[\d.,:/ -]*\)?$/;

/** A record is data, not names, when at least half of its filled-in fields are numbers or dates. */
export function looksLikeData(fields: string[]): boolean {
  const filled = fields.filter((f) => f !== '');
  return filled.length > 0 && filled.filter((f) => NUMBER_OR_DATE.test(f)).length * 2 >= filled.length;
}

/** The --delimiter value for columns separated by runs of blanks. */
export const WHITESPACE = 'whitespace';

/**
 * Complete lines of the text (ended by LF, CRLF or CR) split on runs of blanks (spaces and
 * tabs; leading and trailing ones ignored); blank lines are left out.
 */
export function splitOnBlanks(text: string, maxRecords = SNIFF_RECORDS): string[][] {
  const lines = text.split(/\r\n|\r|\n/);
  // The sample may end mid-line; only complete lines count (a text that is all one line counts).
  if (lines.length > 1) lines.pop();
  return lines
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(0, maxRecords)
    .map((l) => l.split(/[ \t]+/));
}

function unescapeDelimiter(flag: string): string {
  if (flag === '\\t' || flag.toLowerCase() === 'tab') return '\t';
  if (flag.length !== 1) throw usageError(`--delimiter ${JSON.stringify(flag)}: give one character, "tab" or "${WHITESPACE}"`);
  return flag;
}

/**
 * Unique column names for DuckDB: an empty header becomes column_N (its position), a repeated
 * one gets _2, _3 …, never a name another header already has. The file's own names are kept
 * beside them (`fileHeaders`) so a repeated header is still recognised as what it says.
 */
export function dedupeHeaders(headers: string[]): string[] {
  const taken = new Set(headers.filter((h) => h !== ''));
  const firstSeen = new Set<string>();
  return headers.map((h, i) => {
    if (h !== '' && !firstSeen.has(h)) {
      firstSeen.add(h);
      return h;
    }
    const base = h === '' ? `column_${i + 1}` : h;
    if (h === '' && !taken.has(base)) {
      taken.add(base);
      return base;
    }
    let n = 2;
    while (taken.has(`${base}_${n}`)) n++;
    taken.add(`${base}_${n}`);
    return `${base}_${n}`;
  });
}
