/**
 * Zip bombs are refused by verifyZip before anything is inflated; real workbooks, including the
 * real Online Retail II export, pass; a cut workbook "ends early".
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHEET_HEAD, SHEET_TAIL, workbook, workbookFromXml } from '../../scripts/fixtures/xlsx.js';
import { verifyZip } from '../../src/ingest/integrity.js';
import { CrmError } from '../../src/util/errors.js';
import { REAL_XLSX, tempDir } from '../helpers/cli.js';

function write(name: string, bytes: Buffer): string {
  const file = path.join(tempDir('crm-zip-'), name);
  fs.writeFileSync(file, bytes);
  return file;
}

describe('verifyZip: zip bombs', () => {
  it('refuses a part that inflates past 64 MB at more than 200×, naming file, part and sizes (exit 3)', async () => {
    const bomb = write('bomb.xlsx', workbookFromXml([{ name: 'S', xml: Buffer.concat([Buffer.from(SHEET_HEAD), Buffer.alloc(80 * 1024 * 1024, ' '), Buffer.from(SHEET_TAIL)]) }]));
    let error: unknown;
    try {
      await verifyZip(bomb, 'bomb.xlsx');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CrmError);
    expect((error as CrmError).exitCode).toBe(3);
    expect((error as CrmError).message).toMatch(/^bomb\.xlsx: the workbook part xl\/worksheets\/sheet1\.xml would inflate from [\d.]+ KB to 80 MB \(\d+×\): refused as a likely zip bomb$/);
  });

  it('lets ordinary and real workbooks through', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => [`X${i}`, `K${i % 9}`, '2024-03-01', i]);
    const ordinary = write('ok.xlsx', workbook([{ name: 'S', rows: [['Invoice', 'Customer ID', 'InvoiceDate', 'Amount'], ...rows] }]));
    await expect(verifyZip(ordinary, 'ok.xlsx')).resolves.toBeDefined();
    expect((await verifyZip(REAL_XLSX, 'real')).length).toBeGreaterThan(3);
  });

  it('says a cut workbook ends early rather than guessing its sizes', async () => {
    const whole = workbook([{ name: 'S', rows: [['a'], ['b']] }]);
    const cut = write('cut.xlsx', whole.subarray(0, Math.floor(whole.length * 0.6)));
    await expect(verifyZip(cut, 'cut.xlsx')).rejects.toThrow(/cut\.xlsx: the file ends early/);
  });
});
