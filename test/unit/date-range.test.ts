/**
 * Dates DuckDB reads but no one can store (issue #8 §7): a year outside 1000–9999 (99999, -44
 * for 45 BC, 0), `infinity`, `epoch`. Each is rejected as invalid_order_date /
 * invalid_signup_date with a sentence naming why; before, they loaded silently.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellText } from '../../src/ingest/sources.js';
import { planDates, timestampExpr, unstorableDateExpr } from '../../src/ingest/values.js';
import { literal } from '../../src/store/db.js';
import { ingestFiles } from '../helpers/ingest.js';

let conn: DuckDBConnection;
beforeAll(async () => {
  conn = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => conn.closeSync());

const NO_EVIDENCE = { candidates: 0, maxFirst: 0, maxSecond: 0 };

interface Reject {
  source_row: number;
  reason: string;
  detail: string;
}

async function loadDates(kind: 'transactions' | 'customers', dates: string[]) {
  const csv =
    kind === 'transactions'
      ? ['customer_id,order_date,amount', ...dates.map((d, i) => `C${i + 1},${d},1.00`)]
      : ['customer_id,name,signup_date', ...dates.map((d, i) => `C${i + 1},N${i + 1},${d}`)];
  const run = await ingestFiles({ 'in.csv': csv.join('\n') + '\n' }, { kind });
  const column = kind === 'transactions' ? 'order_date' : 'signup_date';
  const table = kind === 'transactions' ? 'transactions' : 'customers';
  const stored = await run.query<{ source_row: number; d: string | null }>(`SELECT source_row, CAST(${column} AS VARCHAR) AS d FROM ${table} ORDER BY source_row`);
  const rejects = await run.query<Reject>('SELECT source_row, reason, detail FROM rejects ORDER BY source_row');
  return { stored, rejects, report: run.report };
}

describe('the storable range of a date, in SQL', () => {
  it('names the year of a parsed timestamp outside 1000–9999, and nothing for one inside', async () => {
    const plan = planDates(NO_EVIDENCE);
    const values = ['99999-01-01', '-0044-03-15', '0000-01-01', '0999-12-31', '10000-01-01', '1000-01-01', '9999-12-31 23:59:59', '2024-01-05', 'infinity', '-infinity', 'epoch', '1970-01-01', 'n/a'];
    const rows = values.map((v, i) => `(${i}, ${literal(v)})`).join(', ');
    const reader = await conn.runAndReadAll(
      `SELECT ${unstorableDateExpr(timestampExpr('v', plan), 'v')} AS why FROM (VALUES ${rows}) t(i, v) ORDER BY i`,
    );
    expect(reader.getRowObjectsJS().map((r) => r.why)).toEqual([
      'year 99999 is out of range (1000–9999)',
      'year -44 is out of range (1000–9999)',
      'year 0 is out of range (1000–9999)',
      'year 999 is out of range (1000–9999)',
      'year 10000 is out of range (1000–9999)',
      null,
      null,
      null,
      'a word, not a date',
      'a word, not a date',
      'a word, not a date',
      null,
      null,
    ]);
  });
});

describe('ingest rejects dates outside 1000–9999 with the year named', () => {
  it('order dates: 5-digit, negative, year 0, 3-digit years, infinity and epoch are rejected; the bounds load', async () => {
    const { stored, rejects, report } = await loadDates('transactions', [
      '99999-01-01',
      '-0044-03-15',
      '0000-01-01',
      '0999-12-31',
      '05-Jan-0005',
      'infinity',
      'epoch',
      '1000-01-01',
      '9999-12-31 23:59:59',
      '1970-01-01',
      '2024-02-29',
    ]);
    expect(stored).toEqual([
      { source_row: 9, d: '1000-01-01' },
      { source_row: 10, d: '9999-12-31' },
      { source_row: 11, d: '1970-01-01' },
      { source_row: 12, d: '2024-02-29' },
    ]);
    expect(rejects).toEqual([
      { source_row: 2, reason: 'invalid_order_date', detail: 'order_date: "99999-01-01": year 99999 is out of range (1000–9999)' },
      { source_row: 3, reason: 'invalid_order_date', detail: 'order_date: "-0044-03-15": year -44 is out of range (1000–9999)' },
      { source_row: 4, reason: 'invalid_order_date', detail: 'order_date: "0000-01-01": year 0 is out of range (1000–9999)' },
      { source_row: 5, reason: 'invalid_order_date', detail: 'order_date: "0999-12-31": year 999 is out of range (1000–9999)' },
      { source_row: 6, reason: 'invalid_order_date', detail: 'order_date: "05-Jan-0005": year 5 is out of range (1000–9999)' },
      { source_row: 7, reason: 'invalid_order_date', detail: 'order_date: "infinity": a word, not a date' },
      { source_row: 8, reason: 'invalid_order_date', detail: 'order_date: "epoch": a word, not a date' },
    ]);
    expect(report.totals.rows_read).toBe(report.totals.rows_loaded + report.totals.rows_rejected);
  });

  it('a number outside the Excel serial range is rejected saying which numbers are read as dates', async () => {
    const { stored, rejects } = await loadDates('transactions', ['2958466', '-5', '45296']);
    expect(stored).toEqual([{ source_row: 4, d: '2024-01-05' }]);
    expect(rejects.map((r) => r.detail)).toEqual([
      'order_date: cannot read "2958466" as a date (a number is read as an Excel serial day only from 20000 to 80000: 1954-10-03 to 2119-01-11)',
      'order_date: cannot read "-5" as a date (a number is read as an Excel serial day only from 20000 to 80000: 1954-10-03 to 2119-01-11)',
    ]);
  });

  it('signup dates: year 99999 is rejected as invalid_signup_date; an empty one still loads', async () => {
    const { stored, rejects } = await loadDates('customers', ['99999-01-01', '', '2023-01-05', '-0001-06-01']);
    expect(stored).toEqual([
      { source_row: 3, d: null },
      { source_row: 4, d: '2023-01-05' },
    ]);
    expect(rejects).toEqual([
      { source_row: 2, reason: 'invalid_signup_date', detail: 'signup_date: "99999-01-01": year 99999 is out of range (1000–9999)' },
      { source_row: 5, reason: 'invalid_signup_date', detail: 'signup_date: "-0001-06-01": year -1 is out of range (1000–9999)' },
    ]);
  });
});

describe('spreadsheet date cells beyond 9999', () => {
  it('a Date cell is written with its real year, as DuckDB reads it', () => {
    expect(cellText(new Date(Date.UTC(10000, 0, 1)))).toBe('10000-01-01');
    expect(cellText(new Date(Date.UTC(275760, 8, 13)))).toBe('275760-09-13');
    expect(cellText(new Date('-000044-03-15T12:30:00Z'))).toBe('-0044-03-15 12:30:00');
    expect(cellText(new Date(Date.UTC(2024, 0, 5, 8, 26)))).toBe('2024-01-05 08:26:00');
  });

  it('a date-formatted cell of year 10000 in a workbook is rejected naming the year', async () => {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('Sheet1');
    sheet.addRow(['Customer ID', 'InvoiceDate', 'Amount']);
    sheet.addRow(['C1', new Date(Date.UTC(10000, 0, 1)), 1]);
    sheet.addRow(['C2', new Date(Date.UTC(2024, 0, 5)), 2]);
    sheet.getColumn(2).numFmt = 'yyyy-mm-dd';
    const run = await ingestFiles({ 'dates.xlsx': Buffer.from(await book.xlsx.writeBuffer()) });
    expect(await run.query('SELECT CAST(order_date AS VARCHAR) AS d FROM transactions')).toEqual([{ d: '2024-01-05' }]);
    expect(await run.query('SELECT source_row, reason, detail FROM rejects')).toEqual([
      { source_row: 2, reason: 'invalid_order_date', detail: 'InvoiceDate: "10000-01-01": year 10000 is out of range (1000–9999)' },
    ]);
  });
});
