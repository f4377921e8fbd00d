/**
 * Zip bombs are refused before a workbook is read; real workbooks, including the real Online
 * Retail II export, pass; a damaged directory is left to the reader's own error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHEET_HEAD, SHEET_TAIL, workbook, workbookFromXml } from '../../scripts/fixtures/xlsx.js';
import { checkZipInflation, zipParts } from '../../src/ingest/zip-guard.js';
import { CrmError } from '../../src/util/errors.js';
import { REAL_XLSX, tempDir } from '../helpers/cli.js';

function write(name: string, bytes: Buffer): string {
  const file = path.join(tempDir('crm-zip-'), name);
  fs.writeFileSync(file, bytes);
  return file;
}

describe('checkZipInflation', () => {
  it('refuses a part that inflates past 64 MB at more than 200×, naming file, part and sizes (exit 3)', () => {
    const bomb = write('bomb.xlsx', workbookFromXml([{ name: 'S', xml: Buffer.concat([Buffer.from(SHEET_HEAD), Buffer.alloc(80 * 1024 * 1024, ' '), Buffer.from(SHEET_TAIL)]) }]));
    let error: unknown;
    try {
      checkZipInflation(bomb, 'bomb.xlsx');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CrmError);
    expect((error as CrmError).exitCode).toBe(3);
    expect((error as CrmError).message).toMatch(/^bomb\.xlsx: the workbook part xl\/worksheets\/sheet1\.xml would inflate from [\d.]+ KB to 80 MB \(\d+×\): refused as a likely zip bomb$/);
  });

  it('lets ordinary and real workbooks through', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => [`X${i}`, `K${i % 9}`, '2024-03-01', i]);
    const ordinary = write('ok.xlsx', workbook([{ name: 'S', rows: [['Invoice', 'Customer ID', 'InvoiceDate', 'Amount'], ...rows] }]));
    expect(() => checkZipInflation(ordinary, 'ok.xlsx')).not.toThrow();
    expect(zipParts(REAL_XLSX)?.length).toBeGreaterThan(3);
    expect(() => checkZipInflation(REAL_XLSX, 'real')).not.toThrow();
  });

  it('leaves a damaged zip to the reader: no directory, no verdict', () => {
    const whole = workbook([{ name: 'S', rows: [['a'], ['b']] }]);
    const cut = write('cut.xlsx', whole.subarray(0, Math.floor(whole.length * 0.6)));
    expect(zipParts(cut)).toBeNull();
    expect(() => checkZipInflation(cut, 'cut.xlsx')).not.toThrow();
  });
});
