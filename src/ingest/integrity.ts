/**
 * Is an input file whole? Compressed containers can be cut off (an interrupted download or
 * copy) or damaged, and the readers downstream do not always notice: exceljs's streaming
 * unzip waits forever for the rest of a cut workbook (the process then ends with nothing
 * loaded and exit 0), and DuckDB reads a cut .gz up to where it stops. So before a reader
 * sees such a file it is checked here, completely, against its own checksums — the same test
 * `unzip -t` and `gzip -t` make — and a failure is an input error (exit 3) naming the file.
 */
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { CrmError, inputError, messageOf } from '../util/errors.js';
import { formatBytes } from '../util/format.js';
import { LineEndCounter, type LineEndStyle } from './file-scan.js';

/** "the file ends early": the file is shorter than its own structure says. */
export const endsEarly = (label: string, detail: string) =>
  inputError(`${label}: the file ends early (${detail}); nothing was loaded`, ['The file is incomplete: copy or download it again.']);

/** "the file is damaged": bytes inside the file are wrong. */
export const damaged = (label: string, detail: string) =>
  inputError(`${label}: the file is damaged (${detail}); nothing was loaded`, ['Copy or export the file again.']);

// ---------------------------------------------------------------------------------------
// ZIP (XLSX)

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

interface ZipDirectory {
  entries: ZipEntry[];
  /** Where the central directory starts: every entry's data ends before it. */
  directoryOffset: number;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = fs.readSync(fd, buf, 0, length, position);
  return buf.subarray(0, n);
}

const u64 = (buf: Buffer, at: number) => Number(buf.readBigUInt64LE(at));

/** The end-of-central-directory record: the last thing in a ZIP file, so the first to go when it is cut. */
function readDirectory(fd: number, size: number, label: string): ZipDirectory {
  const tailLength = Math.min(size, 22 + U16_MAX);
  const tail = readAt(fd, size - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    const head = readAt(fd, 0, 4);
    if (head.length === 4 && head.readUInt32LE(0) === LOCAL_SIG) throw endsEarly(label, 'the workbook is cut off: its ZIP directory is missing');
    throw damaged(label, 'it is not a ZIP file, as an .xlsx workbook is');
  }
  const eocdOffset = size - tailLength + at;
  let count = tail.readUInt16LE(at + 10);
  let directorySize = tail.readUInt32LE(at + 12);
  let directoryOffset = tail.readUInt32LE(at + 16);
  let directoryEnd = eocdOffset;
  if (count === U16_MAX || directorySize === U32_MAX || directoryOffset === U32_MAX) {
    const locator = readAt(fd, eocdOffset - 20, 20);
    if (locator.length < 20 || locator.readUInt32LE(0) !== ZIP64_LOCATOR_SIG) throw damaged(label, 'its ZIP64 directory locator is missing');
    const zip64Offset = u64(locator, 8);
    const record = readAt(fd, zip64Offset, 56);
    if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw damaged(label, 'its ZIP64 directory record is missing');
    count = u64(record, 32);
    directorySize = u64(record, 40);
    directoryOffset = u64(record, 48);
    directoryEnd = zip64Offset;
  }
  if (directoryOffset + directorySize > directoryEnd) throw endsEarly(label, 'its ZIP directory points past the data that is there');
  const dir = readAt(fd, directoryOffset, directorySize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL_SIG) throw damaged(label, `ZIP directory entry ${i + 1} of ${count} is unreadable`);
    const nameLength = dir.readUInt16LE(p + 28);
    const extraLength = dir.readUInt16LE(p + 30);
    const commentLength = dir.readUInt16LE(p + 32);
    const entry: ZipEntry = {
      name: dir.toString('utf8', p + 46, p + 46 + nameLength),
      flags: dir.readUInt16LE(p + 8),
      method: dir.readUInt16LE(p + 10),
      crc32: dir.readUInt32LE(p + 16),
      compressedSize: dir.readUInt32LE(p + 20),
      size: dir.readUInt32LE(p + 24),
      localOffset: dir.readUInt32LE(p + 42),
    };
    applyZip64Extra(entry, dir.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return { entries, directoryOffset };
}

/** Sizes and offsets that do not fit 32 bits live in the ZIP64 extra field, in this order. */
function applyZip64Extra(entry: ZipEntry, extra: Buffer): void {
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(p);
    const length = extra.readUInt16LE(p + 2);
    if (id === 0x0001) {
      let q = p + 4;
      const next = () => {
        const v = q + 8 <= p + 4 + length ? u64(extra, q) : NaN;
        q += 8;
        return v;
      };
      if (entry.size === U32_MAX) entry.size = next();
      if (entry.compressedSize === U32_MAX) entry.compressedSize = next();
      if (entry.localOffset === U32_MAX) entry.localOffset = next();
    }
    p += 4 + length;
  }
}

/** Real worksheets compress 5–30×; even uniform columns stay below ~100×. Deflate's limit is ~1,030×. */
export const MAX_INFLATION_RATIO = 200;
/** Below this, a high ratio cannot hurt: the part fits in memory whatever it holds. */
export const MAX_HARMLESS_BYTES = 64 * 1024 * 1024;

/**
 * A zip bomb — a few hundred KB that inflate to gigabytes — would exhaust memory long after
 * reading began. A part whose declared size is both large and far beyond what real spreadsheets
 * compress to is refused before anything is inflated (a part inflating past its declared size
 * is caught as damage by verifyEntry).
 */
function checkInflation(entry: ZipEntry, label: string): void {
  const ratio = entry.size / Math.max(1, entry.compressedSize);
  if (entry.size > MAX_HARMLESS_BYTES && ratio > MAX_INFLATION_RATIO) {
    throw inputError(
      `${label}: the workbook part ${entry.name} would inflate from ${formatBytes(entry.compressedSize)} to ${formatBytes(entry.size)} (${Math.round(ratio)}×): refused as a likely zip bomb`,
      ['Real spreadsheets compress far less. If the file is genuine, save it as CSV and ingest that.'],
    );
  }
}

/** Inflate one entry and compare its CRC-32 and size with the directory's. */
async function verifyEntry(file: string, fd: number, entry: ZipEntry, directoryOffset: number, label: string): Promise<void> {
  const local = readAt(fd, entry.localOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_SIG) throw damaged(label, `${entry.name}: its ZIP header is missing`);
  const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (!(dataStart + entry.compressedSize <= directoryOffset)) throw endsEarly(label, `${entry.name} is cut off`);
  if (entry.flags & 0x1) throw inputError(`${label}: the workbook is encrypted`, ['Save it again without a password.']);
  if (entry.method !== 0 && entry.method !== 8) throw damaged(label, `${entry.name} uses an unknown compression method (${entry.method})`);
  let crc = 0;
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      crc = zlib.crc32(chunk, crc);
      size += chunk.length;
      // More than the directory declared: stop inflating now (a lying directory could hide a bomb).
      if (size > entry.size) done(damaged(label, `${entry.name} holds more than its ZIP directory declares`));
      else done();
    },
  });
  const data = fs.createReadStream(file, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
  try {
    if (entry.compressedSize === 0) data.destroy();
    else if (entry.method === 8) await pipeline(data, zlib.createInflateRaw(), sink);
    else await pipeline(data, sink);
  } catch (err) {
    if (err instanceof CrmError) throw err;
    throw damaged(label, `${entry.name}: ${messageOf(err)}`);
  }
  if (crc !== entry.crc32 || size !== entry.size) throw damaged(label, `${entry.name} fails its checksum`);
}

/** One entry of a ZIP file, inflated whole (for small parts such as xl/workbook.xml; call after verifyZip). */
export async function readZipEntry(file: string, entry: ZipEntry): Promise<Buffer> {
  const fd = fs.openSync(file, 'r');
  try {
    const local = readAt(fd, entry.localOffset, 30);
    const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const data = readAt(fd, dataStart, entry.compressedSize);
    return entry.method === 8 ? zlib.inflateRawSync(data) : data;
  } finally {
    fs.closeSync(fd);
  }
}

/** Check a ZIP container (an .xlsx workbook) completely: structure, then every entry's checksum. */
export async function verifyZip(file: string, label: string): Promise<ZipEntry[]> {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const { entries, directoryOffset } = readDirectory(fd, size, label);
    for (const entry of entries) checkInflation(entry, label);
    for (const entry of entries) {
      if (entry.name.endsWith('/')) continue;
      await verifyEntry(file, fd, entry, directoryOffset, label);
    }
    return entries;
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------
// gzip

/** What one full decompression of a .gz file tells: the start of its text, its lines and line ends. */
export interface GzipText {
  head: string;
  lines: number;
  lineEnds: LineEndStyle;
}

/**
 * Decompress a whole .gz file (gzip checks its CRC-32 and length at the end of each member),
 * keeping the start of its text for dialect sniffing and counting its lines on the way, so no
 * later step decompresses it again for them.
 */
export async function inspectGzip(file: string, label: string, headBytes = 256 * 1024): Promise<GzipText> {
  const head: Buffer[] = [];
  const ends = new LineEndCounter();
  let kept = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      ends.add(chunk);
      if (kept < headBytes) {
        head.push(chunk);
        kept += chunk.length;
      }
      done();
    },
  });
  try {
    await pipeline(fs.createReadStream(file), zlib.createGunzip(), sink);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR') throw endsEarly(label, 'the gzip stream is cut off');
    if (code?.startsWith('Z_')) throw damaged(label, `gzip: ${messageOf(err)}`);
    throw err;
  }
  return { head: Buffer.concat(head).subarray(0, headBytes).toString('utf8'), lines: ends.lines(), lineEnds: ends.style() };
}

// ---------------------------------------------------------------------------------------
// Streams that stop without ending

/**
 * Run `work`, failing with `stalled()` if the process runs out of things to do before it
 * settles: a stream that stops without 'end' or 'error' (exceljs's unzip on a cut file)
 * otherwise leaves the promise pending, and Node exits 0 with nothing done.
 */
export function failIfStalled<T>(work: Promise<T>, stalled: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onIdle = () => reject(stalled());
    process.once('beforeExit', onIdle);
    work.then(resolve, reject).finally(() => process.off('beforeExit', onIdle));
  });
}
