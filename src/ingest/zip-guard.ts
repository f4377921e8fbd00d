/**
 * A workbook is a zip, and a zip can be a bomb: a few hundred KB that inflate to gigabytes and
 * exhaust memory long after reading began. Before exceljs opens an XLSX, its central directory
 * (the list of parts with their sizes, at the end of the file) is checked: a part whose
 * declared size is both large and far beyond what real spreadsheets compress to is refused.
 * A truncated or unreadable directory is left to the reader, which reports damage itself.
 */
import fs from 'node:fs';
import { formatBytes } from '../util/format.js';
import { inputError } from '../util/errors.js';

/** Real worksheets compress 5–30×; even uniform columns stay below ~100×. Deflate's limit is ~1,030×. */
export const MAX_INFLATION_RATIO = 200;
/** Below this, a high ratio cannot hurt: the part fits in memory whatever it holds. */
export const MAX_HARMLESS_BYTES = 64 * 1024 * 1024;

export interface ZipPart {
  name: string;
  compressed: number;
  uncompressed: number;
}

/** The parts listed in a zip's central directory, or null when it cannot be found or read. */
export function zipParts(file: string): ZipPart[] | null {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    // The end-of-central-directory record: 22 bytes plus a comment of up to 64 KB.
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLength);
    fs.readSync(fd, tail, 0, tailLength, size - tailLength);
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) return null;
    const count = tail.readUInt16LE(eocd + 10);
    const dirSize = tail.readUInt32LE(eocd + 12);
    const dirOffset = tail.readUInt32LE(eocd + 16);
    if (dirOffset + dirSize > size) return null;
    const dir = Buffer.alloc(dirSize);
    fs.readSync(fd, dir, 0, dirSize, dirOffset);
    const parts: ZipPart[] = [];
    for (let p = 0, n = 0; n < count; n++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== 0x02014b50) return null;
      const nameLength = dir.readUInt16LE(p + 28);
      parts.push({
        name: dir.subarray(p + 46, p + 46 + nameLength).toString('utf8'),
        compressed: dir.readUInt32LE(p + 20),
        uncompressed: dir.readUInt32LE(p + 24),
      });
      p += 46 + nameLength + dir.readUInt16LE(p + 30) + dir.readUInt16LE(p + 32);
    }
    return parts;
  } finally {
    fs.closeSync(fd);
  }
}

/** Refuse (exit 3) a workbook with a part that inflates like a zip bomb. */
export function checkZipInflation(file: string, label: string): void {
  for (const part of zipParts(file) ?? []) {
    const ratio = part.uncompressed / Math.max(1, part.compressed);
    if (part.uncompressed > MAX_HARMLESS_BYTES && ratio > MAX_INFLATION_RATIO) {
      throw inputError(
        `${label}: the workbook part ${part.name} would inflate from ${formatBytes(part.compressed)} to ${formatBytes(part.uncompressed)} (${Math.round(ratio)}×): refused as a likely zip bomb`,
        ['Real spreadsheets compress far less. If the file is genuine, save it as CSV and ingest that.'],
      );
    }
  }
}
