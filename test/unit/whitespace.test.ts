/**
 * Columns separated by runs of blanks (legacy systems, published data sets such as CDNOW's
 * CDNOW_master.txt, CRLF lines), and files without a header line.
 */
import { describe, expect, it } from 'vitest';
import { sniffCsv } from '../../src/ingest/detect.js';
import { ingestError, ingestFiles } from '../helpers/ingest.js';

/** CDNOW_master.txt's layout: id, yyyymmdd, quantity, amount, right-aligned in blanks, CRLF. */
const CDNOW = ['    1 19970101  1   11.77', '    2 19970112  1   12.00', '', '    2 19970112  5   77.00', '    3 19970102  2   20.76'].join('\r\n') + '\r\n';
const CDNOW_MAP = ['customer_id=column1', 'order_date=column2', 'quantity=column3', 'amount=column4'];

describe('whitespace-separated text', () => {
  it('is detected when no delimiter fits and every line has the same number of blank-separated fields', () => {
    const d = sniffCsv(CDNOW, 'CDNOW_master.txt');
    expect(d).toMatchObject({ blankSeparated: true, hasHeader: false, headerRecord: 0, headers: ['column1', 'column2', 'column3', 'column4'] });
  });

  it('without a header line, stops asking for --map and showing the first row', async () => {
    // Before: one column named after the first line, and "no column found".
    const err = await ingestError({ 'CDNOW_master.txt': CDNOW });
    expect(err.exitCode).toBe(3);
    const details = err.details!.join('\n');
    expect(details).toContain('The file has no header line: its first row is data ("1", "19970101", "1", "11.77"), so its columns are named column1, column2, column3, column4.');
    expect(details).toContain('--map customer_id=column1');
  });

  it('loads with --map, row numbers counting the blank line', async () => {
    const run = await ingestFiles({ 'CDNOW_master.txt': CDNOW }, { map: CDNOW_MAP });
    expect(
      await run.query('SELECT source_row, customer_id, CAST(order_date AS VARCHAR) AS d, CAST(quantity AS INTEGER) AS q, CAST(amount AS VARCHAR) AS a FROM transactions ORDER BY source_row'),
    ).toEqual([
      { source_row: 1, customer_id: '1', d: '1997-01-01', q: 1, a: '11.7700' },
      { source_row: 2, customer_id: '2', d: '1997-01-12', q: 1, a: '12.0000' },
      { source_row: 4, customer_id: '2', d: '1997-01-12', q: 5, a: '77.0000' },
      { source_row: 5, customer_id: '3', d: '1997-01-02', q: 2, a: '20.7600' },
    ]);
  });

  it('--delimiter whitespace reads a header line and rejects a line with another number of fields', async () => {
    const text = 'customer_id   order_date   amount\nC1   2024-01-05   10.5\nC2 2024-01-06\t7\nC3 2024-01-07 7 extra\n';
    const run = await ingestFiles({ 'tx.txt': text }, { delimiter: 'whitespace' });
    expect(run.report.totals).toMatchObject({ rows_read: 3, rows_loaded: 2, rows_rejected: 1, rejected_by_reason: { malformed_row: 1 } });
    expect(await run.query('SELECT source_row FROM rejects')).toEqual([{ source_row: 4 }]);
  });
  it('a double quote inside a value is text, not a quote: row numbers stay right past a blank and a malformed line', async () => {
    // CDNOW-style product codes ending in an inch mark: before, the quote opened a quoted field
    // in the record scan, so blank lines after it were not counted and rows were misnumbered.
    const text = ['    1 19970101 Pipe_12"  1   11.77', '', '    2 19970112 Pipe_14"  1   12.00', '    3 19970102 Hose_3"  2', '    4 19970112 Pipe_12"  5   77.00', '', '    5 19970102 "Hose  2   20.76'].join('\n') + '\n';
    const run = await ingestFiles({ 'CDNOW_master.txt': text }, { delimiter: 'whitespace', map: ['customer_id=column1', 'order_date=column2', 'product=column3', 'quantity=column4', 'amount=column5'] });
    expect(run.report.totals).toMatchObject({ rows_read: 5, rows_loaded: 4, rows_rejected: 1, rejected_by_reason: { malformed_row: 1 } });
    expect(await run.query('SELECT source_row, customer_id, product FROM transactions ORDER BY source_row')).toEqual([
      { source_row: 1, customer_id: '1', product: 'Pipe_12"' },
      { source_row: 3, customer_id: '2', product: 'Pipe_14"' },
      { source_row: 5, customer_id: '4', product: 'Pipe_12"' },
      { source_row: 7, customer_id: '5', product: '"Hose' },
    ]);
    expect(await run.query('SELECT source_row FROM rejects')).toEqual([{ source_row: 4 }]);
  });
});

describe('files without a header line', () => {
  it('a comma file whose first row is data gets column1…N', () => {
    const d = sniffCsv('C1,2024-01-05,10.5\nC2,2024-01-06,7\n', 'f.csv');
    expect(d).toMatchObject({ delimiter: ',', hasHeader: false, headerRecord: 0, headers: ['column1', 'column2', 'column3'] });
  });

  it('a header with a year among names stays a header', () => {
    expect(sniffCsv('customer_id,order_date,amount,2023\nC1,2024-01-05,10,1\n', 'f.csv').hasHeader).toBe(true);
  });
});
