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

/**
 * Write a zip of deflated entries in exactly the order given: to build valid workbooks whose
 * parts come in an order a given writer happens not to produce.
 */
export function writeZipInOrder(file: string, entries: [name: string, data: Buffer][]): void {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = zlib.crc32(data);
    const packed = zlib.deflateRawSync(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  fs.writeFileSync(file, Buffer.concat([...locals, directory, end]));
}
