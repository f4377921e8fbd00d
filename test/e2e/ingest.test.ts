/**
 * `crm ingest` end to end: the real CLI on real files. Every fixture checks that rows read =
 * rows loaded + rows rejected, in the command's report and in the store.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { crm, REAL_XLSX, sql, tempDir } from '../helpers/cli.js';

interface FileReport {
  file: string;
  status: string;
  load_id: number;
  rows_read: number;
  rows_loaded: number;
  rows_rejected: number;
  rejected_by_reason: Record<string, number>;
  tables: { sheet: string | null; rows_read: number; rows_loaded: number; rows_rejected: number; rejected_by_reason: Record<string, number>; mapping: Record<string, string> }[];
  replaced_loads: number[];
  customers_updated?: number;
  overlap?: { rows: number; valid_rows: number; decision: string; earlier: { load_id: number | null; file: string; sheet?: string; rows: number }[] };
  notes: string[];
}

function ingestJson(db: string, args: string[], cwd?: string): { files: FileReport[]; totals: { rows_read: number; rows_loaded: number; rows_rejected: number } } {
  const r = crm(['--db', db, '-q', 'ingest', ...args, '--json'], { cwd });
  if (r.code !== 0) throw new Error(`ingest failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The store agrees with itself: per load, rows in transactions/customers + rejects = rows_read. */
function expectStoreReconciles(db: string): void {
  const rows = sql<{ load_id: number; rows_read: number; rows_loaded: number; rows_rejected: number; loaded: number; rejected: number }>(
    db,
    `SELECT l.load_id, l.rows_read, l.rows_loaded, l.rows_rejected,
            (SELECT count(*) FROM transactions t WHERE t.load_id = l.load_id) + (SELECT count(*) FROM customers c WHERE c.load_id = l.load_id) AS loaded,
            (SELECT count(*) FROM rejects r WHERE r.load_id = l.load_id) AS rejected
     FROM loads l WHERE l.status = 'loaded' ORDER BY l.load_id`,
  );
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows) {
    expect(r.rows_read).toBe(r.rows_loaded + r.rows_rejected);
    expect(r.loaded).toBe(r.rows_loaded);
    expect(r.rejected).toBe(r.rows_rejected);
  }
}

describe('Online Retail II workbook (data/online-retail-ii)', () => {
  let db: string;
  let report: ReturnType<typeof ingestJson>;
  beforeAll(() => {
    db = path.join(tempDir(), 'retail.duckdb');
    report = ingestJson(db, ['transactions', REAL_XLSX]);
  });

  it('reads both sheets with the counts its README gives', () => {
    const [file] = report.files;
    expect(file.tables.map((t) => [t.sheet, t.rows_read, t.rejected_by_reason.missing_customer_id])).toEqual([
      ['Year 2009-2010', 14_269, 169],
      ['Year 2010-2011', 20_497, 432],
    ]);
    expect(file.rows_read).toBe(34_766);
    expect(file.rows_loaded + file.rows_rejected).toBe(file.rows_read);
    expect(file.rejected_by_reason).toEqual({ missing_customer_id: 601 });
    expectStoreReconciles(db);
  });

  it('maps the headers without help', () => {
    expect(report.files[0].tables[0].mapping).toEqual({
      customer_id: 'Customer ID',
      order_date: 'InvoiceDate',
      quantity: 'Quantity',
      unit_price: 'Price',
      order_id: 'Invoice',
      product: 'StockCode',
      region: 'Country',
    });
  });

  it('keeps distinct customers, invoices and cancellations of each sheet', () => {
    const perSheet = sql<{ sheet: string; customers: number; invoices: number; cancellations: number }>(
      db,
      `WITH loaded AS (
         SELECT source_sheet AS sheet, customer_id, order_id, order_id LIKE 'C%' AS cancelled FROM transactions
       ),
       rejected AS (
         SELECT source_sheet AS sheet, NULL AS customer_id, raw::JSON->>'Invoice' AS order_id, (raw::JSON->>'Invoice') LIKE 'C%' AS cancelled FROM rejects
       )
       SELECT sheet, count(DISTINCT customer_id) AS customers, count(DISTINCT order_id) AS invoices, count(*) FILTER (WHERE cancelled) AS cancellations
       FROM (SELECT * FROM loaded UNION ALL SELECT * FROM rejected) GROUP BY sheet ORDER BY sheet`,
    );
    expect(perSheet).toEqual([
      { sheet: 'Year 2009-2010', customers: 159, invoices: 759, cancellations: 420 },
      { sheet: 'Year 2010-2011', customers: 215, invoices: 1_006, cancellations: 341 },
    ]);
  });

  it('stores typed values: text ids, timestamps, amount = quantity × price, returns negative', () => {
    const first = sql(db, `SELECT source_sheet, source_row, customer_id, order_id, order_date, order_ts, quantity, unit_price, amount, product, region, is_return, attributes->>'Description' AS description
                           FROM transactions WHERE source_sheet = 'Year 2009-2010' AND source_row = 2`);
    expect(first).toEqual([
      {
        source_sheet: 'Year 2009-2010',
        source_row: 2,
        customer_id: '12417',
        order_id: '490397',
        order_date: '2009-12-06',
        order_ts: '2009-12-06 10:30:00',
        quantity: 6,
        unit_price: 2.95,
        amount: 17.7,
        product: '21844',
        region: 'Belgium',
        is_return: false,
        description: 'RETRO SPOT MUG',
      },
    ]);
    const returns = sql<{ n: number; positive: number; not_flagged: number }>(
      db,
      `SELECT count(*) FILTER (WHERE is_return) AS n, count(*) FILTER (WHERE is_return AND amount >= 0) AS positive,
              count(*) FILTER (WHERE order_id LIKE 'C%' AND NOT is_return) AS not_flagged FROM transactions`,
    );
    expect(returns[0].positive).toBe(0);
    expect(returns[0].not_flagged).toBe(0);
  });

  it('names the sheet and row of every reject, with the original row', () => {
    const [r] = sql<{ source_sheet: string; source_row: number; reason: string; column_name: string; raw: string }>(
      db,
      `SELECT source_sheet, source_row, reason, column_name, raw FROM rejects ORDER BY source_sheet, source_row LIMIT 1`,
    );
    expect(r.reason).toBe('missing_customer_id');
    expect(r.column_name).toBe('Customer ID');
    expect(r.source_row).toBeGreaterThan(1);
    expect(JSON.parse(r.raw)).toHaveProperty('Invoice');
  });

  it('notes the lines both sheets hold (2010-12-01 … 2010-12-09) and loads them; --skip-overlap loads each once', () => {
    // Counted here without the overlap code: per content key, how often each sheet holds it.
    const perKey = `SELECT customer_id, order_id, order_ts, product, quantity, amount, min(order_date) AS day,
                           count(*) FILTER (WHERE source_sheet = 'Year 2009-2010') AS a, count(*) FILTER (WHERE source_sheet = 'Year 2010-2011') AS b
                    FROM transactions GROUP BY ALL`;
    const [expected] = sql<{ repeated: number; first: string; last: string; once: string }>(
      db,
      `SELECT sum(least(a, b)) AS repeated, min(day) FILTER (WHERE least(a, b) > 0) AS first, max(day) FILTER (WHERE least(a, b) > 0) AS last,
              CAST(CAST(sum(amount * greatest(a, b)) * 10000 AS HUGEINT) AS VARCHAR) AS once
       FROM (${perKey})`,
    );
    expect(expected).toMatchObject({ repeated: 441, first: '2010-12-01', last: '2010-12-09' });
    const [file] = report.files;
    expect(file.overlap).toEqual({ rows: 441, valid_rows: 34_165, share: 441 / 34_165, decision: 'loaded', earlier: [{ load_id: null, file: REAL_XLSX, sheet: 'Year 2009-2010', rows: 441 }] });
    expect(file.notes).toContain(
      '441 rows (1.3 %) repeat rows of sheet "Year 2009-2010" earlier in this workbook (441 rows): loaded again (fewer than 50.0 % of the file): both copies count; crm quality reports them',
    );
    const quality = JSON.parse(crm(['--db', db, 'quality', '--json']).stdout);
    expect(quality.overlaps).toEqual({ rows: 441, loads: [{ load_id: 1, file: REAL_XLSX, rows: 441, from_earlier_sheets: 441 }] });

    const once = path.join(tempDir(), 'once.duckdb');
    const skipped = ingestJson(once, ['transactions', REAL_XLSX, '--skip-overlap']);
    // Rows read per sheet are as the README gives them; the repeated lines are rejected, not lost.
    expect(skipped.files[0].tables.map((t) => [t.sheet, t.rows_read, t.rows_loaded, t.rejected_by_reason])).toEqual([
      ['Year 2009-2010', 14_269, 14_100, { missing_customer_id: 169 }],
      ['Year 2010-2011', 20_497, 20_065 - 441, { missing_customer_id: 432, already_loaded: 441 }],
    ]);
    expectStoreReconciles(once);
    const [{ revenue }] = sql<{ revenue: string }>(once, 'SELECT CAST(CAST(sum(amount) * 10000 AS HUGEINT) AS VARCHAR) AS revenue FROM transactions');
    expect(revenue).toBe(expected.once);
    // Each rejected row names the row of the first sheet it repeats, and that row holds the same line.
    const pairs = sql<{ row: number; earlier: number }>(
      once,
      `SELECT source_row AS row, CAST(regexp_extract(detail, 'is in an earlier sheet of this workbook: sheet "Year 2009-2010" row (\\d+)$', 1) AS INTEGER) AS earlier
       FROM rejects WHERE reason = 'already_loaded' AND source_sheet = 'Year 2010-2011'`,
    );
    expect(pairs).toHaveLength(441);
    const [check] = sql<{ n: number; same: number; earlier_rows: number }>(
      db,
      `WITH p(row, earlier) AS (VALUES ${pairs.map((p) => `(${p.row}, ${p.earlier})`).join(', ')})
       SELECT count(*) AS n, count(DISTINCT p.earlier) AS earlier_rows,
              count(*) FILTER (WHERE (d.customer_id, d.order_id, d.order_ts, d.product, d.quantity, d.amount) IS NOT DISTINCT FROM (e.customer_id, e.order_id, e.order_ts, e.product, e.quantity, e.amount)) AS same
       FROM p JOIN transactions d ON d.source_sheet = 'Year 2010-2011' AND d.source_row = p.row
              JOIN transactions e ON e.source_sheet = 'Year 2009-2010' AND e.source_row = p.earlier`,
    );
    expect(check).toEqual({ n: 441, same: 441, earlier_rows: 441 });
  });

  it('is a reported no-op when loaded again', () => {
    const before = sql<{ n: number }>(db, 'SELECT count(*) AS n FROM transactions')[0].n;
    const r = crm(['--db', db, 'ingest', 'transactions', REAL_XLSX]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/unchanged — already loaded as load 1/);
    expect(sql<{ n: number }>(db, 'SELECT count(*) AS n FROM transactions')[0].n).toBe(before);
    expect(sql<{ n: number }>(db, 'SELECT count(*) AS n FROM loads')[0].n).toBe(1);
  });

  it('reads one sheet with --sheet, and names the sheets when it is wrong', () => {
    const other = path.join(tempDir(), 'one.duckdb');
    const one = ingestJson(other, ['transactions', REAL_XLSX, '--sheet', 'Year 2010-2011']);
    expect(one.files[0].rows_read).toBe(20_497);
    // The same bytes with another sheet selection are another load, not a no-op; since its
    // rows overlap the first load, it must replace it explicitly.
    const refused = crm(['--db', other, 'ingest', 'transactions', REAL_XLSX]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('was loaded before with another sheet selection (sheet "Year 2010-2011") (load 1)');
    const both = ingestJson(other, ['transactions', REAL_XLSX, '--replace']);
    expect(both.files[0]).toMatchObject({ status: 'loaded', rows_read: 34_766, replaced_loads: [1] });
    const bad = crm(['--db', other, 'ingest', 'transactions', REAL_XLSX, '--sheet', 'Nope', '--replace']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('no sheet named "Nope"');
    expect(bad.stderr).toContain('"Year 2009-2010", "Year 2010-2011"');
  });
});

describe('a dirty CSV export', () => {
  const lines = [
    '\uFEFFSales export;;;;', // a title line above the header
    'Invoice;Customer ID;InvoiceDate;Amount;Note',
    '1001;00042;05/01/2024;€1.234,50;ok', // row 3: leading zeros kept, decimal comma
    '1002;13607.0;13/01/2024;(12,00);refund', // 4: spreadsheet id, DMY decided by 13, negative
    '', // 5: blank line
    '1003;C7;14/01/2024;"7,25";"multi', // 6: a quoted field spanning two lines: one row
    'line; with delimiter"',
    'C1001;00042;15/01/2024;1 234,00;return', // 7: return by order id → amount negative
    '1004;;16/01/2024;5;no customer', // 8
    '1005;C8;31/02/2024;5;bad date', // 9
    '1006;C9;17/01/2024;12,5O;bad amount', // 10
    '1007;C10;18/01/2024;5;extra;column', // 11: malformed
    '1008;C11;19/01/2024;9,99;last', // 12
  ];
  let db: string;
  let report: ReturnType<typeof ingestJson>;
  beforeAll(() => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'dirty.csv'), lines.join('\r\n') + '\r\n');
    db = path.join(dir, 'crm.duckdb');
    report = ingestJson(db, ['transactions', 'dirty.csv'], dir);
  });

  it('loads what it can and rejects the rest with reasons that reconcile', () => {
    const [f] = report.files;
    expect(f.rows_read).toBe(9);
    expect(f.rows_loaded).toBe(5);
    expect(f.rejected_by_reason).toEqual({ missing_customer_id: 1, invalid_order_date: 1, invalid_amount: 1, malformed_row: 1 });
    expectStoreReconciles(db);
  });

  it('parses ids, day-first dates, decimal commas and returns', () => {
    // Row numbers are the file's rows as a spreadsheet shows them: a quoted field spanning two
    // lines is one row (as in Excel), the blank line 5 is a row without data.
    expect(sql(db, 'SELECT source_row, order_id, customer_id, order_date, amount, is_return FROM transactions ORDER BY source_row')).toEqual([
      { source_row: 3, order_id: '1001', customer_id: '00042', order_date: '2024-01-05', amount: 1234.5, is_return: false },
      { source_row: 4, order_id: '1002', customer_id: '13607', order_date: '2024-01-13', amount: -12, is_return: true },
      { source_row: 6, order_id: '1003', customer_id: 'C7', order_date: '2024-01-14', amount: 7.25, is_return: false },
      { source_row: 7, order_id: 'C1001', customer_id: '00042', order_date: '2024-01-15', amount: -1234, is_return: true },
      { source_row: 12, order_id: '1008', customer_id: 'C11', order_date: '2024-01-19', amount: 9.99, is_return: false },
    ]);
    expect(sql(db, "SELECT attributes->>'Note' AS note FROM transactions WHERE source_row = 6")).toEqual([{ note: 'multi\r\nline; with delimiter' }]);
  });

  it('names file, row and column of each reject and keeps the original row', () => {
    const rejects = sql(db, 'SELECT source_file, source_row, reason, column_name, detail, raw FROM rejects ORDER BY source_row');
    expect(rejects).toEqual([
      { source_file: 'dirty.csv', source_row: 8, reason: 'missing_customer_id', column_name: 'Customer ID', detail: 'Customer ID: no customer id', raw: '1004;;16/01/2024;5;no customer' },
      { source_file: 'dirty.csv', source_row: 9, reason: 'invalid_order_date', column_name: 'InvoiceDate', detail: 'InvoiceDate: cannot read "31/02/2024" as a date', raw: '1005;C8;31/02/2024;5;bad date' },
      { source_file: 'dirty.csv', source_row: 10, reason: 'invalid_amount', column_name: 'Amount', detail: 'Amount: cannot read "12,5O" as an amount', raw: '1006;C9;17/01/2024;12,5O;bad amount' },
      { source_file: 'dirty.csv', source_row: 11, reason: 'malformed_row', column_name: null, detail: 'Expected Number of Columns: 5 Found: 6', raw: '1007;C10;18/01/2024;5;extra;column' },
    ]);
  });
});

describe('JSON, NDJSON and Parquet', () => {
  it('load with the same mapping and row numbers', () => {
    const dir = tempDir();
    const records = [
      { customerId: 'A1', orderId: 'O1', date: '2024-03-01', amount: 10.5 },
      { customerId: 'A2', orderId: 'O2', date: '2024-03-02', amount: '7.00' },
      { customerId: null, orderId: 'O3', date: '2024-03-03', amount: 3 },
    ];
    fs.writeFileSync(path.join(dir, 'tx.json'), JSON.stringify(records));
    fs.writeFileSync(path.join(dir, 'tx.ndjson'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const db = path.join(dir, 'crm.duckdb');
    const json = ingestJson(db, ['transactions', 'tx.json', '--map', 'customer_id=customerId', '--map', 'order_date=date'], dir);
    expect(json.files[0]).toMatchObject({ rows_read: 3, rows_loaded: 2, rows_rejected: 1 });
    expect(sql(db, "SELECT source_row, reason, raw FROM rejects")).toEqual([
      { source_row: 3, reason: 'missing_customer_id', raw: '{"customerId":null,"orderId":"O3","date":"2024-03-03","amount":"3"}' },
    ]);
    // The same records again, as NDJSON: different bytes, but the same rows — loaded again only with --append.
    const nd = ingestJson(db, ['transactions', 'tx.ndjson', '--map', 'customer_id=customerId', '--map', 'order_date=date', '--append'], dir);
    expect(nd.files[0]).toMatchObject({ status: 'loaded', rows_read: 3, rows_loaded: 2, overlap: { rows: 2, decision: 'appended' } });
  });

  it('Parquet loads typed columns as text and numbers rows from 1', async () => {
    const dir = tempDir();
    const pq = path.join(dir, 'tx.parquet');
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    await conn.run(
      `COPY (SELECT * FROM (VALUES ('00007', DATE '2024-03-01', 10.5::DECIMAL(10,2)), (NULL, DATE '2024-03-02', 2.0), ('00009', DATE '2024-03-03', -1.25)) t(customer_id, order_date, amount))
       TO '${pq}' (FORMAT parquet)`,
    );
    conn.closeSync();
    const db = path.join(dir, 'crm.duckdb');
    const p = ingestJson(db, ['transactions', pq]);
    expect(p.files[0]).toMatchObject({ rows_read: 3, rows_loaded: 2, rows_rejected: 1 });
    expect(sql(db, 'SELECT source_row, customer_id, order_date, amount, is_return FROM transactions ORDER BY source_row')).toEqual([
      { source_row: 1, customer_id: '00007', order_date: '2024-03-01', amount: 10.5, is_return: false },
      { source_row: 3, customer_id: '00009', order_date: '2024-03-03', amount: -1.25, is_return: true },
    ]);
    expect(sql(db, 'SELECT source_row, reason FROM rejects')).toEqual([{ source_row: 2, reason: 'missing_customer_id' }]);
  });
});

describe('re-ingest, replace and append', () => {
  it('refuses a changed file without --replace/--append, swaps it with --replace', () => {
    const dir = tempDir();
    const f = path.join(dir, 'tx.csv');
    const db = path.join(dir, 'crm.duckdb');
    fs.writeFileSync(f, 'customer_id,order_date,amount\nA,2024-01-01,1\nB,2024-01-02,2\n');
    ingestJson(db, ['transactions', 'tx.csv'], dir);
    fs.writeFileSync(f, 'customer_id,order_date,amount\nA,2024-01-01,1\nB,2024-01-02,2\nC,2024-01-03,x\nD,2024-01-04,4\n');
    const refused = crm(['--db', db, 'ingest', 'transactions', 'tx.csv'], { cwd: dir });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('tx.csv was loaded before with different content (load 1)');
    expect(refused.stderr).toContain('--replace');
    expect(sql(db, 'SELECT count(*) AS n FROM transactions')).toEqual([{ n: 2 }]);

    const replaced = ingestJson(db, ['transactions', 'tx.csv', '--replace'], dir);
    expect(replaced.files[0]).toMatchObject({ load_id: 2, replaced_loads: [1], rows_read: 4, rows_loaded: 3, rows_rejected: 1 });
    expect(sql(db, 'SELECT load_id, status, replaced_by FROM loads ORDER BY load_id')).toEqual([
      { load_id: 1, status: 'replaced', replaced_by: 2 },
      { load_id: 2, status: 'loaded', replaced_by: null },
    ]);
    expect(sql(db, 'SELECT customer_id FROM transactions ORDER BY customer_id')).toEqual([{ customer_id: 'A' }, { customer_id: 'B' }, { customer_id: 'D' }]);
    expectStoreReconciles(db);

    fs.appendFileSync(f, 'E,2024-01-05,5\n');
    const appended = ingestJson(db, ['transactions', 'tx.csv', '--append'], dir);
    expect(appended.files[0].rows_loaded).toBe(4);
    expect(sql(db, 'SELECT count(*) AS n FROM transactions')).toEqual([{ n: 7 }]);
  });

  it('stores a four-column load in transactions_narrow and a wider one in transactions_wide; --replace moves a load between them; the view reads the same either way', () => {
    const dir = tempDir();
    const db = path.join(dir, 'crm.duckdb');
    const f = path.join(dir, 'tx.csv');
    fs.writeFileSync(f, 'order_id,customer_id,order_date,amount\nO1,A,2024-01-01,10.50\nC2,B,2024-01-02,3\n');
    fs.writeFileSync(path.join(dir, 'wide.csv'), 'customer_id,order_date,amount,product,note\nC,2024-01-03,3,P1,hello\n');
    ingestJson(db, ['transactions', 'tx.csv', 'wide.csv'], dir);
    const where = `SELECT (SELECT list(DISTINCT load_id ORDER BY load_id) FROM transactions_narrow) AS narrow,
                          (SELECT list(DISTINCT load_id ORDER BY load_id) FROM transactions_wide) AS wide`;
    expect(sql(db, where)).toEqual([{ narrow: [1], wide: [2] }]);
    const all = `SELECT load_id, source_sheet, source_row, customer_id, order_id, order_date, CAST(order_ts AS VARCHAR) AS order_ts, quantity, amount,
                        product, is_return, CAST(attributes AS VARCHAR) AS attributes
                 FROM transactions ORDER BY load_id, source_row`;
    expect(sql(db, all)).toEqual([
      { load_id: 1, source_sheet: null, source_row: 2, customer_id: 'A', order_id: 'O1', order_date: '2024-01-01', order_ts: '2024-01-01 00:00:00', quantity: null, amount: 10.5, product: null, is_return: false, attributes: null },
      { load_id: 1, source_sheet: null, source_row: 3, customer_id: 'B', order_id: 'C2', order_date: '2024-01-02', order_ts: '2024-01-02 00:00:00', quantity: null, amount: -3, product: null, is_return: true, attributes: null },
      { load_id: 2, source_sheet: null, source_row: 2, customer_id: 'C', order_id: null, order_date: '2024-01-03', order_ts: '2024-01-03 00:00:00', quantity: null, amount: 3, product: 'P1', is_return: false, attributes: '{"note":"hello"}' },
    ]);
    // The same file with a quantity column: its load goes to transactions_wide, load 1 leaves transactions_narrow.
    fs.writeFileSync(f, 'order_id,customer_id,order_date,amount,quantity\nO1,A,2024-01-01,10.50,2\n');
    ingestJson(db, ['transactions', 'tx.csv', '--replace'], dir);
    expect(sql(db, where)).toEqual([{ narrow: null, wide: [2, 3] }]);
    expect(sql(db, 'SELECT load_id, customer_id, quantity, amount FROM transactions ORDER BY load_id')).toEqual([
      { load_id: 2, customer_id: 'C', quantity: null, amount: 3 },
      { load_id: 3, customer_id: 'A', quantity: 2, amount: 10.5 },
    ]);
    expectStoreReconciles(db);
  });

  it('loads nothing when one file of several fails', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'good.csv'), 'customer_id,order_date,amount\nA,2024-01-01,1\n');
    fs.writeFileSync(path.join(dir, 'bad.csv'), 'who,when\nA,2024-01-01\n');
    const db = path.join(dir, 'crm.duckdb');
    const r = crm(['--db', db, 'ingest', 'transactions', 'good.csv', 'bad.csv'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('bad.csv: no column found for customer_id, order_date, amount (or quantity and unit_price)');
    expect(r.stderr).toContain('The file\'s headers: "who", "when"');
    expect(sql(db, 'SELECT (SELECT count(*) FROM transactions) AS tx, (SELECT count(*) FROM loads) AS loads')).toEqual([{ tx: 0, loads: 0 }]);
  });
});

describe('customers', () => {
  it('keeps other columns, rejects repeated ids and updates customers from a later file', () => {
    const dir = tempDir();
    const db = path.join(dir, 'crm.duckdb');
    fs.writeFileSync(
      path.join(dir, 'c1.csv'),
      'Customer ID,Name,E-mail,Phone,Signup Date,Tier Code\nC1,Anna,anna@example.com,+49 30 1234567,2023-01-05,A\nC2,Ben,ben@,555,2023-13-45,B\nC1,Anna S.,anna@example.com,,2023-01-06,A\nC3,Chen,chen@example.cn,13812345678,,C\n',
    );
    const r1 = ingestJson(db, ['customers', 'c1.csv'], dir);
    expect(r1.files[0]).toMatchObject({ rows_read: 4, rows_loaded: 2, rows_rejected: 2, rejected_by_reason: { invalid_signup_date: 1, duplicate_customer_id: 1 } });
    expect(sql(db, 'SELECT customer_id, name, signup_date, source_row, attributes FROM customers ORDER BY customer_id')).toEqual([
      { customer_id: 'C1', name: 'Anna S.', signup_date: '2023-01-06', source_row: 4, attributes: '{"Tier Code":"A"}' },
      { customer_id: 'C3', name: 'Chen', signup_date: null, source_row: 5, attributes: '{"Tier Code":"C"}' },
    ]);
    expect(sql(db, "SELECT source_row, detail FROM rejects WHERE reason = 'duplicate_customer_id'")).toEqual([
      { source_row: 2, detail: 'customer_id "C1" appears again at row 4; the last row is kept' },
    ]);
    fs.writeFileSync(path.join(dir, 'c2.csv'), 'customer_id,name\nC3,Chen Wei\nC4,Dora\n');
    const r2 = ingestJson(db, ['customers', 'c2.csv'], dir);
    expect(r2.files[0]).toMatchObject({ rows_loaded: 2, customers_updated: 1 });
    expect(sql(db, 'SELECT customer_id, name FROM customers ORDER BY customer_id')).toEqual([
      { customer_id: 'C1', name: 'Anna S.' },
      { customer_id: 'C3', name: 'Chen Wei' },
      { customer_id: 'C4', name: 'Dora' },
    ]);
  });
});

describe('errors users can fix', () => {
  it('exit with a code and a message naming the problem, never a stack trace', () => {
    const dir = tempDir();
    const db = path.join(dir, 'crm.duckdb');
    const missing = crm(['--db', db, 'ingest', 'transactions', 'nope.csv'], { cwd: dir });
    expect(missing).toMatchObject({ code: 3 });
    expect(missing.stderr).toBe('crm: error: nope.csv: no such file\n');
    const kind = crm(['--db', db, 'ingest', 'orders', 'x.csv'], { cwd: dir });
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('unknown kind "orders"');
    const flag = crm(['--db', db, 'ingest', 'transactions', 'x.csv', '--bogus'], { cwd: dir });
    expect(flag.code).toBe(2);
    const noStore = crm(['--db', path.join(dir, 'none.duckdb'), 'query', 'SELECT 1']);
    expect(noStore.code).toBe(4);
    expect(noStore.stderr).toContain('no store at');
    for (const r of [missing, kind, flag, noStore]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('crm.config.json, gzip and TSV', () => {
  it('maps columns and reads dates from the config file; flags win', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'de.tsv'), 'Kunde\tDatum\tBetrag\nA\t05.01.2024\t1.234,50\nB\t03.02.2024\t7,00\n');
    fs.writeFileSync(
      path.join(dir, 'crm.config.json'),
      JSON.stringify({ ingest: { transactions: { map: { customer_id: 'Kunde', order_date: 'Datum', amount: 'Betrag' }, dateFormat: 'DMY' } } }),
    );
    const db = path.join(dir, 'crm.duckdb');
    // Both dates are ambiguous on their own (day and month ≤ 12): the config's DMY decides.
    expect(ingestJson(db, ['transactions', 'de.tsv'], dir).files[0]).toMatchObject({ rows_read: 2, rows_loaded: 2 });
    expect(sql(db, 'SELECT customer_id, order_date, amount FROM transactions ORDER BY customer_id')).toEqual([
      { customer_id: 'A', order_date: '2024-01-05', amount: 1234.5 },
      { customer_id: 'B', order_date: '2024-02-03', amount: 7 },
    ]);
    const other = path.join(dir, 'other.duckdb');
    expect(ingestJson(other, ['transactions', 'de.tsv', '--date-format', 'MDY'], dir).files[0].rows_loaded).toBe(2);
    expect(sql(other, 'SELECT order_date FROM transactions ORDER BY customer_id')).toEqual([{ order_date: '2024-05-01' }, { order_date: '2024-03-02' }]);
  });

  it('refuses an invalid config file, naming every problem', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'x.csv'), 'customer_id,order_date,amount\nA,2024-01-01,1\n');
    fs.writeFileSync(path.join(dir, 'crm.config.json'), JSON.stringify({ ingest: { transactions: { mapp: {} } }, models: { horizon_month: 6 } }));
    const r = crm(['--db', path.join(dir, 'crm.duckdb'), 'ingest', 'transactions', 'x.csv'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('does not match the configuration schema');
    expect(r.stderr).toContain('/ingest/transactions: must NOT have additional properties ("mapp")');
    expect(r.stderr).toContain('/models: must NOT have additional properties ("horizon_month")');
    const broken = crm(['--db', path.join(dir, 'crm.duckdb'), '--config', path.join(dir, 'missing.json'), 'ingest', 'transactions', 'x.csv'], { cwd: dir });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toContain('missing.json does not exist');
  });

  it('reads gzip-compressed CSV directly', () => {
    const dir = tempDir();
    const csv = 'customer_id,order_date,amount\nA,2024-01-01,1\n\nB,2024-01-02,x\nC,2024-01-03,3\n';
    fs.writeFileSync(path.join(dir, 'tx.csv.gz'), zlib.gzipSync(csv));
    const db = path.join(dir, 'crm.duckdb');
    expect(ingestJson(db, ['transactions', 'tx.csv.gz'], dir).files[0]).toMatchObject({ rows_read: 3, rows_loaded: 2, rows_rejected: 1 });
    expect(sql(db, 'SELECT source_row, reason FROM rejects')).toEqual([{ source_row: 4, reason: 'invalid_amount' }]);
    expect(sql(db, 'SELECT source_row FROM transactions ORDER BY source_row')).toEqual([{ source_row: 2 }, { source_row: 5 }]);
  });
});
