/**
 * The sample exports in data/ through the real CLI, checked against the expectations their
 * READMEs document (worked out independently of the ingest code, by the sample script).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { crm, ROOT, sql, tempDir } from '../helpers/cli.js';

const DATA = path.join(ROOT, 'data');

function ingest(db: string, args: string[]) {
  const r = crm(['--db', db, '-q', 'ingest', ...args, '--json']);
  if (r.code !== 0) throw new Error(`ingest failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout).files[0] as { rows_read: number; rows_loaded: number; rows_rejected: number; rejected_by_reason: Record<string, number> };
}

describe('data/dirty: a messy European spreadsheet export', () => {
  let db: string;
  let report: ReturnType<typeof ingest>;
  beforeAll(() => {
    db = path.join(tempDir(), 'crm.duckdb');
    report = ingest(db, ['transactions', path.join(DATA, 'dirty/transactions_dirty.csv')]);
  });

  it('has the documented totals', () => {
    expect(report).toMatchObject({
      rows_read: 44,
      rows_loaded: 38,
      rows_rejected: 6,
      rejected_by_reason: { missing_customer_id: 2, invalid_order_date: 2, invalid_amount: 1, malformed_row: 1 },
    });
    expect(sql(db, 'SELECT sum(amount) AS total, count(DISTINCT customer_id) AS customers, count(*) FILTER (WHERE is_return) AS returns FROM transactions')).toEqual([
      { total: 9934.28, customers: 19, returns: 3 },
    ]);
  });

  it('treats every line as its README says', () => {
    const readme = fs.readFileSync(path.join(DATA, 'dirty/README.md'), 'utf8');
    const expected = [...readme.matchAll(/^\| (\d+) \| [^|]*\| (load|skip|reject: `(\w+)`) \|/gm)].map((m) => ({
      line: Number(m[1]),
      fate: m[3] ?? m[2],
    }));
    expect(expected.length).toBe(45); // every line but the header
    const loaded = new Set(sql<{ source_row: number }>(db, 'SELECT source_row FROM transactions').map((r) => r.source_row));
    const rejected = new Map(sql<{ source_row: number; reason: string }>(db, 'SELECT source_row, reason FROM rejects').map((r) => [r.source_row, r.reason]));
    const actual = expected.map(({ line }) => ({ line, fate: loaded.has(line) ? 'load' : (rejected.get(line) ?? 'skip') }));
    expect(actual).toEqual(expected);
  });
});

describe('data/zh: a GB18030 export with Chinese headers', () => {
  it('needs --encoding, says so, and then loads with the documented totals', () => {
    const dir = tempDir();
    const db = path.join(dir, 'crm.duckdb');
    const file = path.join(DATA, 'zh/交易记录_gb18030.csv');
    const refused = crm(['--db', db, 'ingest', 'transactions', file]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('is not valid UTF-8');
    expect(refused.stderr).toContain('--encoding gb18030');

    const r = ingest(db, ['transactions', file, '--encoding', 'gb18030']);
    expect(r).toMatchObject({ rows_read: 40, rows_loaded: 39, rows_rejected: 1, rejected_by_reason: { missing_customer_id: 1 } });
    expect(sql(db, 'SELECT sum(amount) AS total, count(DISTINCT customer_id) AS customers, count(*) FILTER (WHERE is_return) AS returns, min(order_date) AS first, max(order_date) AS last FROM transactions')).toEqual([
      { total: 146940, customers: 12, returns: 1, first: '2024-01-05', last: '2024-04-12' },
    ]);
    expect(sql(db, "SELECT source_row, column_name FROM rejects")).toEqual([{ source_row: 17, column_name: '客户编号' }]);
    expect(sql(db, 'SELECT mapping FROM loads')[0].mapping).toBe(
      JSON.stringify({ customer_id: '客户编号', order_date: '下单日期', amount: '金额', order_id: '订单编号', product: '产品' }),
    );
  });

  it('loads the customers file with gbk (a GB18030 subset) and keeps Chinese text', () => {
    const db = path.join(tempDir(), 'crm.duckdb');
    const r = ingest(db, ['customers', path.join(DATA, 'zh/客户_gb18030.csv'), '--encoding', 'gbk']);
    expect(r.rows_read).toBe(r.rows_loaded + r.rows_rejected);
    const regions = sql<{ region: string }>(db, 'SELECT DISTINCT region FROM customers ORDER BY region').map((x) => x.region);
    expect(regions.every((x) => /^[\u4e00-\u9fff]+$/.test(x))).toBe(true);
    expect(regions.length).toBeGreaterThan(1);
  });
});

describe('data/json and data/sample', () => {
  it('load the NDJSON and array forms of the same records identically', () => {
    const dir = tempDir();
    const a = path.join(dir, 'a.duckdb');
    const b = path.join(dir, 'b.duckdb');
    expect(ingest(a, ['transactions', path.join(DATA, 'json/transactions.ndjson')])).toMatchObject({ rows_read: 20, rows_loaded: 20 });
    expect(ingest(b, ['transactions', path.join(DATA, 'json/transactions.json')])).toMatchObject({ rows_read: 20, rows_loaded: 20 });
    const q = 'SELECT source_row, customer_id, order_id, order_date, amount FROM transactions ORDER BY source_row';
    expect(sql(a, q)).toEqual(sql(b, q));
  });

  it('reconciles the generated sample and finds its planted problems', () => {
    const db = path.join(tempDir(), 'crm.duckdb');
    const tx = ingest(db, ['transactions', path.join(DATA, 'sample/transactions.csv')]);
    const cu = ingest(db, ['customers', path.join(DATA, 'sample/customers.csv')]);
    // The sample script planted 4 missing ids, 3 invalid dates and 4 invalid amounts (in the
    // unit price column, since the file has no amount column).
    expect(tx).toMatchObject({ rows_read: 1_953, rows_rejected: 11, rejected_by_reason: { missing_customer_id: 4, invalid_order_date: 3, invalid_unit_price: 4 } });
    expect(cu).toMatchObject({ rows_read: 500, rows_loaded: 500 });
    const q = crm(['--db', db, 'quality', '--json', '--as-of', '2025-12-31']);
    expect(q.code).toBe(0);
    const report = JSON.parse(q.stdout);
    expect(report.invalid.emails.count).toBe(7);
    expect(report.orphans.customers_without_transactions.count).toBeGreaterThanOrEqual(14);
    expect(report.duplicates.customers_by_email.groups + report.duplicates.customers_by_phone.groups).toBeGreaterThanOrEqual(2);
  });
});
