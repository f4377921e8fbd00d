/**
 * Typed numbers (spreadsheet number cells, JSON numbers, Parquet numeric columns) are numbers,
 * not text in a decimal convention: they read exactly whatever separator the column's text
 * uses, and are no evidence about it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { ingestFiles } from '../helpers/ingest.js';

/** An .xlsx whose amount column holds `amounts` as given: numbers as number cells, strings as text cells. */
async function workbook(amounts: (number | string)[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Sales');
  ws.addRow(['customer_id', 'order_date', 'amount']);
  amounts.forEach((a, i) => ws.addRow([`C${i + 1}`, '2024-01-05', a]));
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function loadedAmounts(amounts: (number | string)[], opts: Parameters<typeof ingestFiles>[1] = {}) {
  const run = await ingestFiles({ 'sales.xlsx': await workbook(amounts) }, opts);
  return {
    totals: run.report.totals,
    amounts: (await run.query<{ amount: string }>('SELECT CAST(amount AS VARCHAR) AS amount FROM transactions ORDER BY source_row')).map((r) => r.amount),
  };
}

describe('XLSX number cells', () => {
  it('beside comma-decimal text cells: the text reads as comma decimals, the numbers exactly, no conflict', async () => {
    const r = await loadedAmounts([10.5, '7,5', 3, '1.234,50', 0.25, 1234.5]);
    expect(r.amounts).toEqual(['10.5000', '7.5000', '3.0000', '1234.5000', '0.2500', '1234.5000']);
    expect(r.totals).toMatchObject({ rows_loaded: 6, rows_rejected: 0 });
  });

  it('beside point-decimal text cells: both read', async () => {
    const r = await loadedAmounts([10.5, '7.25', '1,234.50']);
    expect(r.amounts).toEqual(['10.5000', '7.2500', '1234.5000']);
  });

  it('with --decimal-separator , the numbers still read exactly', async () => {
    const r = await loadedAmounts([10.5, '7,5', 0.125], { decimalSeparator: ',' });
    expect(r.amounts).toEqual(['10.5000', '7.5000', '0.1250']);
  });

  it('only numbers: read exactly', async () => {
    const r = await loadedAmounts([10.5, 1234.5, -3]);
    expect(r.amounts).toEqual(['10.5000', '1234.5000', '-3.0000']);
  });
});

describe('JSON and Parquet numbers', () => {
  it('JSON numbers beside comma-decimal strings: both read, no conflict', async () => {
    const lines = [10.5, '7,5', 0.25, '1.234,50'].map((a, i) => JSON.stringify({ customer_id: `C${i + 1}`, order_date: '2024-01-05', amount: a }));
    const run = await ingestFiles({ 'tx.ndjson': lines.join('\n') + '\n' });
    expect((await run.query<{ a: string }>('SELECT CAST(amount AS VARCHAR) AS a FROM transactions ORDER BY source_row')).map((r) => r.a)).toEqual([
      '10.5000',
      '7.5000',
      '0.2500',
      '1234.5000',
    ]);
  });

  it('a Parquet DOUBLE column reads exactly under --decimal-separator ,', async () => {
    const dir = tempDir('crm-parquet-');
    const file = path.join(dir, 'tx.parquet');
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    await conn.run(`COPY (SELECT 'C' || i AS customer_id, DATE '2024-01-05' AS order_date, i + 0.5 AS amount FROM range(1, 4) t(i)) TO '${file}' (FORMAT parquet)`);
    conn.closeSync();
    const run = await ingestFiles({ 'tx.parquet': fs.readFileSync(file) }, { decimalSeparator: ',' });
    expect((await run.query<{ a: string }>('SELECT CAST(amount AS VARCHAR) AS a FROM transactions ORDER BY source_row')).map((r) => r.a)).toEqual([
      '1.5000',
      '2.5000',
      '3.5000',
    ]);
  });
});
