/**
 * Whole-file checks of compressed inputs: a cut or damaged workbook or .gz is an input error
 * (exit 3) saying so, before any reader sees it.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inspectGzip, verifyZip } from '../../src/ingest/integrity.js';
import { REAL_XLSX, tempDir } from '../helpers/cli.js';

const dir = tempDir('crm-integrity-');
const write = (name: string, bytes: Buffer) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
};
const workbook = fs.readFileSync(REAL_XLSX);

async function failure(work: Promise<unknown>): Promise<{ message: string; exitCode?: number }> {
  try {
    await work;
  } catch (err) {
    return err as { message: string; exitCode?: number };
  }
  throw new Error('expected an error');
}

describe('verifyZip (XLSX)', () => {
  it('passes the real workbook and lists its parts', async () => {
    const entries = await verifyZip(REAL_XLSX, 'real.xlsx');
    expect(entries.map((e) => e.name)).toContain('xl/worksheets/sheet2.xml');
  });

  it.each([100, 500_000, workbook.length - 10])('a workbook cut after %i bytes ends early', async (bytes) => {
    const err = await failure(verifyZip(write(`cut-${bytes}.xlsx`, workbook.subarray(0, bytes)), 'cut.xlsx'));
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/^cut\.xlsx: the file ends early/);
  });

  it('a changed byte inside a sheet is damage, found by the checksum', async () => {
    const bytes = Buffer.from(workbook);
    for (let i = 300_000; i < 300_064; i++) bytes[i] ^= 0x5a;
    const err = await failure(verifyZip(write('damaged.xlsx', bytes), 'damaged.xlsx'));
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/^damaged\.xlsx: the file is damaged \(xl\/worksheets\/sheet\d\.xml/);
  });

  it('a file that is no ZIP at all is damaged, not cut', async () => {
    const err = await failure(verifyZip(write('text.xlsx', Buffer.from('customer_id,amount\nA,1\n')), 'text.xlsx'));
    expect(err.message).toMatch(/the file is damaged \(it is not a ZIP file/);
  });
});

describe('inspectGzip', () => {
  const text = Array.from({ length: 20_000 }, (_, i) => `C${i},2024-01-01,${i}.5`).join('\n');
  const gz = zlib.gzipSync(Buffer.from(`customer_id,order_date,amount\n${text}\n`));

  it('returns the start of the text of a whole file', async () => {
    expect((await inspectGzip(write('ok.csv.gz', gz), 'ok.csv.gz')).head).toMatch(/^customer_id,order_date,amount\nC0,/);
  });

  it.each([20, Math.floor(gz.length / 2), gz.length - 4])('a .gz cut after %i bytes ends early', async (bytes) => {
    const err = await failure(inspectGzip(write(`cut-${bytes}.csv.gz`, gz.subarray(0, bytes)), 'cut.csv.gz'));
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/^cut\.csv\.gz: the file ends early \(the gzip stream is cut off\)/);
  });

  it('a damaged .gz fails its checksum', async () => {
    const bytes = Buffer.from(gz);
    bytes[bytes.length - 6] ^= 0xff; // inside the CRC-32 trailer
    const err = await failure(inspectGzip(write('damaged.csv.gz', bytes), 'damaged.csv.gz'));
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/^damaged\.csv\.gz: the file is damaged \(gzip: /);
  });
});
