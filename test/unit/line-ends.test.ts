/**
 * Line ends: LF, CRLF, old-Mac CR, and files that mix them (two exports concatenated, a header
 * written by another tool). Every record is read, no value keeps a stray CR, and row numbers
 * stay those of the file.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ingestFiles } from '../helpers/ingest.js';

const HEADER = 'customer_id,order_date,amount,product';
// Row 3 (the header is row 1) has an unreadable date: its reject names the row.
// A blank line (row 4) is skipped but still counts.
const DATA = ['C1,2024-01-05,10.50,Lamp', 'C2,not a date,7,Chair', '', 'C3,2024-01-07,3,Desk', 'C4,2024-01-08,4,"Shelf, oak"'];

async function loaded(text: string | Buffer, name = 'tx.csv') {
  const run = await ingestFiles({ [name]: text });
  const rows = await run.query<{ source_row: number; customer_id: string; product: string }>(
    'SELECT source_row, customer_id, product FROM transactions ORDER BY source_row',
  );
  const rejects = await run.query<{ source_row: number; reason: string }>('SELECT source_row, reason FROM rejects ORDER BY source_row');
  return { totals: run.report.totals, rows, rejects };
}

const EXPECTED_ROWS = [
  { source_row: 2, customer_id: 'C1', product: 'Lamp' },
  { source_row: 5, customer_id: 'C3', product: 'Desk' },
  { source_row: 6, customer_id: 'C4', product: 'Shelf, oak' },
];
const EXPECTED_REJECTS = [{ source_row: 3, reason: 'invalid_order_date' }];

describe('line ends', () => {
  it.each([
    ['LF header, CRLF data', HEADER + '\n' + DATA.join('\r\n') + '\r\n'],
    ['CRLF header, LF data', HEADER + '\r\n' + DATA.join('\n') + '\n'],
    ['CRLF lines, then LF lines (two files concatenated)', [HEADER, ...DATA.slice(0, 2)].join('\r\n') + '\r\n' + DATA.slice(2).join('\n') + '\n'],
    ['CR only (old Mac)', [HEADER, ...DATA].join('\r') + '\r'],
    ['CRLF, last line without a newline', [HEADER, ...DATA].join('\r\n')],
    ['LF, last line without a newline', [HEADER, ...DATA].join('\n')],
    ['CRLF, ending in a blank line', [HEADER, ...DATA].join('\r\n') + '\r\n\r\n'],
    ['LF header, CRLF data, ending in a blank CRLF line', HEADER + '\n' + DATA.join('\r\n') + '\r\n\r\n'],
  ])('%s: every record read, no stray CR, row numbers kept', async (_name, text) => {
    const r = await loaded(text);
    expect(r.rows).toEqual(EXPECTED_ROWS);
    expect(r.rejects).toEqual(EXPECTED_REJECTS);
    expect(r.totals).toMatchObject({ rows_read: 4, rows_loaded: 3, rows_rejected: 1 });
  });

  it('a gzip-compressed file mixing line ends is read the same way', async () => {
    const text = HEADER + '\n' + DATA.join('\r\n') + '\r\n';
    const r = await loaded(zlib.gzipSync(Buffer.from(text)), 'tx.csv.gz');
    expect(r.rows).toEqual(EXPECTED_ROWS);
    expect(r.rejects).toEqual(EXPECTED_REJECTS);
  });

  it('line breaks inside a quoted field are the value’s own and kept as written', async () => {
    const text = HEADER + '\n' + 'C1,2024-01-05,10.50,"two\r\nlines"\r\nC2,2024-01-06,7,"bare\rreturn"\r\nC3,2024-01-07,3,Desk\n';
    const r = await loaded(text);
    expect(r.rows).toEqual([
      { source_row: 2, customer_id: 'C1', product: 'two\r\nlines' },
      { source_row: 3, customer_id: 'C2', product: 'bare\rreturn' },
      { source_row: 4, customer_id: 'C3', product: 'Desk' },
    ]);
  });

  it('a whitespace-separated file with CR-only lines is read', async () => {
    // A quote in such text is just a character (12" = 12 inches), not the start of a quoted field.
    const text = ['customer_id  order_date  amount  product', 'C1  2024-01-05  10.50  Pipe_12"', 'C2  2024-01-06  7  Pipe_3/4"'].join('\r') + '\r';
    const run = await ingestFiles({ 'tx.txt': text });
    expect(await run.query('SELECT source_row, customer_id, CAST(amount AS VARCHAR) AS a, product FROM transactions ORDER BY source_row')).toEqual([
      { source_row: 2, customer_id: 'C1', a: '10.5000', product: 'Pipe_12"' },
      { source_row: 3, customer_id: 'C2', a: '7.0000', product: 'Pipe_3/4"' },
    ]);
  });

  it('a gzip-compressed whitespace-separated file mixing line ends is read (its copies chain)', async () => {
    const text = 'customer_id  order_date  amount  product\nC1  2024-01-05  10.50  Lamp\r\nC2  2024-01-06  7  Chair\r\n';
    const run = await ingestFiles({ 'tx.txt.gz': zlib.gzipSync(Buffer.from(text)) });
    expect(await run.query('SELECT source_row, customer_id, product FROM transactions ORDER BY source_row')).toEqual([
      { source_row: 2, customer_id: 'C1', product: 'Lamp' },
      { source_row: 3, customer_id: 'C2', product: 'Chair' },
    ]);
  });

  it('UTF-16 text mixing line ends is read (its raw bytes do not tell its line ends)', async () => {
    const text = HEADER + '\n' + DATA.join('\r\n') + '\r\n';
    const r = await loaded(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expect(r.rows).toEqual(EXPECTED_ROWS);
    expect(r.rejects).toEqual(EXPECTED_REJECTS);
  });
});
