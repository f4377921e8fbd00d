/**
 * Property-based tests (fast-check) of the scan that hashing makes of a file's bytes
 * (src/ingest/file-scan.ts: `hashFile`, with `PlainBytes` counting the LFs as it checks the bytes
 * and `LineEndCounter` counting the rest): on random byte strings rich in CR, LF, quotes, tabs,
 * control characters and UTF-8 characters, cut into chunks anywhere (a CRLF or a UTF-8
 * character across two chunks, chunks at any alignment), the digest equals that of a
 * straightforward byte-by-byte reference over the whole file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashFile, LineEndCounter, PlainBytes, plainLineFeeds, type FileDigest } from '../../src/ingest/file-scan.js';
import { tempDir } from '../helpers/cli.js';

/** The digest, one byte at a time over the whole file: what every scan must give. */
function reference(bytes: Uint8Array): Omit<FileDigest, 'lineEnds'> & { lineEnds: string } {
  let lf = 0;
  let cr = 0;
  let crlf = 0;
  let plain = true;
  let quotes = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x0a) lf++;
    if (b === 0x0d) {
      cr++;
      if (bytes[i + 1] === 0x0a) crlf++;
    }
    if (!((b >= 0x20 && b <= 0x7e) || b === 0x09 || b === 0x0a || b === 0x0d)) plain = false;
  }
  if (bytes.includes(0x22)) quotes += '"';
  if (bytes.includes(0x27)) quotes += "'";
  const lineEnds = cr === 0 ? (lf === 0 ? 'none' : 'lf') : lf === 0 ? 'cr' : cr === crlf && lf === crlf ? 'crlf' : 'mixed';
  return {
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    lines: lf + (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a ? 1 : 0),
    lineEnds,
    plainBytes: plain,
    quoteChars: quotes,
  };
}

const utf8 = (s: string) => [...Buffer.from(s, 'utf8')];
/** Pieces of text a file is made of, weighted towards what the scan looks at. */
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...['C1', ',', 'abcdefgh', '2024-01-05', '10.50', ' ', 'Z'].map(utf8)) },
  { weight: 5, arbitrary: fc.constantFrom([0x0a], [0x0d], [0x0d, 0x0a], [0x22], [0x27], [0x09]) },
  { weight: 2, arbitrary: fc.constantFrom(...['é', '王芳', '\u00a0', '\u009b', '\u3000', '😀'].map(utf8)) },
  { weight: 1, arbitrary: fc.constantFrom([0x00], [0x01], [0x1b], [0x1f], [0x7f], [0x80], [0xff], [0xef, 0xbb, 0xbf]) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((b) => [b]) },
);
const fileBytes = (maxPieces: number) => fc.array(piece, { maxLength: maxPieces }).map((ps) => Uint8Array.from(ps.flat()));
/** Plain text only (the word loop runs to the end of every chunk). */
const plainBytes = fc
  .array(fc.constantFrom(...['C1', ',', 'abcdefgh', '2024-01-05', '10.50', ' ', '"', "'", '\t', '\n', '\r\n', '\r'].map(utf8)), { maxLength: 400 })
  .map((ps) => Uint8Array.from(ps.flat()));

/** The scan hashFile makes, over the given chunks, each copied to `align` bytes past a word boundary. */
function scanChunks(chunks: Uint8Array[], align: number) {
  const ends = new LineEndCounter();
  const plain = new PlainBytes();
  for (const c of chunks) {
    const buf = Buffer.alloc(c.length + align);
    buf.set(c, align);
    const chunk = buf.subarray(align);
    ends.add(chunk, plain.add(chunk));
  }
  return { lines: ends.lines(), lineEnds: ends.style(), plainBytes: plain.plain, quoteChars: plain.quoteChars() };
}

function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(start, p));
    start = p;
  }
  return out;
}

const withoutHash = ({ sha256: _s, bytes: _b, ...rest }: ReturnType<typeof reference>) => rest;

describe('the scan of a file while hashing, against a byte-by-byte reference', () => {
  it('chunks cut anywhere, at any alignment (empty chunks included)', () => {
    fc.assert(
      fc.property(fc.oneof(fileBytes(300), plainBytes), fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 0, max: 7 }), (bytes, at, align) => {
        expect(scanChunks(cut(bytes, at), align)).toEqual(withoutHash(reference(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it('plainLineFeeds: the LFs of a plain chunk, -1 for any other', () => {
    fc.assert(
      fc.property(fc.oneof(fileBytes(200), plainBytes), fc.integer({ min: 0, max: 7 }), (bytes, align) => {
        const buf = Buffer.alloc(bytes.length + align);
        buf.set(bytes, align);
        const ref = reference(bytes);
        expect(plainLineFeeds(buf.subarray(align))).toBe(ref.plainBytes ? bytes.filter((b) => b === 0x0a).length : -1);
      }),
      { numRuns: 2000 },
    );
  });

  it('hashFile, read in chunks of 1 to 64 bytes: the same digest as the reference', async () => {
    const dir = tempDir('crm-file-scan-');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fileBytes(120), plainBytes), fc.integer({ min: 1, max: 64 }), async (bytes, chunkBytes) => {
        const file = path.join(dir, `f${n++}.csv`);
        fs.writeFileSync(file, bytes);
        expect(await hashFile(file, undefined, chunkBytes)).toEqual(reference(bytes));
        fs.rmSync(file);
      }),
      { numRuns: 300 },
    );
  });

  it('hashFile at its own chunk size: one odd byte anywhere in 2.5 MB of plain lines, past the head and across chunks', async () => {
    const dir = tempDir('crm-file-scan-');
    const line = Buffer.from('C000123,O0004567,2024-01-05,10.50\n');
    const body = Buffer.concat(Array.from({ length: Math.ceil(2_500_000 / line.length) }, () => line));
    await fc.assert(
      fc.asyncProperty(
        // Anywhere, or right at the end of the 256 KB head or of the first 1 MiB chunks.
        fc.oneof(fc.integer({ min: 0, max: body.length - 1 }), fc.constantFrom(262_143, 262_144, 1_048_575, 1_048_576, 2_097_151, 2_097_152)),
        fc.constantFrom([0x0d], [0x0d, 0x0a], [0x22], [0x00], [0x7f], ...['é', '王', '\u00a0'].map(utf8), [0x41]),
        fc.boolean(),
        async (at, odd, trailingNewline) => {
          const bytes = Buffer.concat([body.subarray(0, at), Buffer.from(odd), body.subarray(at, trailingNewline ? body.length : body.length - 1)]);
          const file = path.join(dir, 'big.csv');
          fs.writeFileSync(file, bytes);
          expect(await hashFile(file)).toEqual(reference(bytes));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('an empty file', async () => {
    const file = path.join(tempDir('crm-file-scan-'), 'empty.csv');
    fs.writeFileSync(file, '');
    expect(await hashFile(file)).toEqual(reference(new Uint8Array()));
  });
});
