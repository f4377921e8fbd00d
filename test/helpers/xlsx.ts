/**
 * Look inside an .xlsx (a zip of XML parts) for what exceljs's reader does not report: the
 * `quotePrefix` flag of each cell's style, and the raw text of every part (to prove that no
 * clear-text value hides anywhere in the file).
 */
import fs from 'node:fs';
import zlib from 'node:zlib';

/** Every entry of a zip file, decompressed. Handles stored and deflated entries (no zip64). */
export function readZip(file: string): Map<string, Buffer> {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const entries = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let n = 0; n < entries; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`${file}: bad local header for ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + compressed);
    if (method === 0) out.set(name, Buffer.from(data));
    else if (method === 8) out.set(name, zlib.inflateRawSync(data));
    else throw new Error(`${file}: ${name} uses compression method ${method}`);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** All XML parts of an xlsx as one string (for "this text is nowhere in the file" checks). */
export function xlsxText(file: string): string {
  return [...readZip(file).values()].map((b) => b.toString('utf8')).join('\n');
}

/**
 * The cells of the first sheet whose style has `quotePrefix="1"`, as A1 references
 * (e.g. ['B1', 'B2']), in sheet order.
 */
export function quotePrefixedCells(file: string): string[] {
  const parts = readZip(file);
  const styles = parts.get('xl/styles.xml')?.toString('utf8');
  const sheet = parts.get('xl/worksheets/sheet1.xml')?.toString('utf8');
  if (!styles || !sheet) throw new Error(`${file}: no styles or no first sheet`);
  const cellXfs = /<cellXfs[^>]*>([\s\S]*?)<\/cellXfs>/.exec(styles)?.[1] ?? '';
  const quoted = [...cellXfs.matchAll(/<xf\b([^>]*)>/g)].map((m) => /\bquotePrefix="(1|true)"/.test(m[1]));
  const cells: string[] = [];
  for (const m of sheet.matchAll(/<c\b([^>]*)>/g)) {
    const ref = /\br="([A-Z]+\d+)"/.exec(m[1])?.[1];
    const s = /\bs="(\d+)"/.exec(m[1])?.[1];
    if (ref && s !== undefined && quoted[Number(s)]) cells.push(ref);
  }
  return cells;
}
