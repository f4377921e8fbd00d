/**
 * `crm forget`'s rules (src/store/forget.ts) on a small hand-made store: pseudonyms numbered on
 * from those already there, order and contract numbers renamed per person (the same in contracts
 * and contract_metrics; another customer's equal order number untouched), personal columns
 * emptied, rejected lines found by id (as a whole field), e-mail, phone digits and a CJK name,
 * JSON the store wrote rewritten, rows kept in their order, the audit row, the file's
 * permissions, and refusals that change nothing.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { forget, freshPathFor, searchableText } from '../../src/store/forget.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const SETUP = `
INSERT INTO customers (customer_id, name, email, phone, region, attributes, load_id, source_file, source_row) VALUES
  ('c-1', '张伟', 'zw@mail.example.cn', '+86 138 0000 1111', 'East', '{"plate":"沪A12345"}', 1, 'customers.csv', 2),
  ('c-2', 'Other Person', 'other@example.com', NULL, 'West', '{"referred_by":"c-1"}', 1, 'customers.csv', 3),
  ('forgotten-4', NULL, NULL, NULL, 'East', NULL, 1, 'customers.csv', 4);
INSERT INTO transactions_wide (load_id, source_file, source_row, customer_id, order_id, order_date, amount, is_return, attributes) VALUES
  (2, 't.csv', 2, 'c-1', 'o-9', DATE '2025-01-02', 10.50, false, '{"note":"ring twice"}'),
  (2, 't.csv', 3, 'c-2', 'o-9', DATE '2025-01-03', 20.00, false, NULL),
  (2, 't.csv', 4, 'c-1', 'o-10', DATE '2025-02-01', 5.25, false, NULL),
  (2, 't.csv', 5, 'c-3', 'o-11', DATE '2025-02-02', 7.00, false, NULL),
  (2, 't.csv', 6, 'c-1', 'o-9', DATE '2025-01-02', -1.50, true, NULL);
INSERT INTO contracts (load_id, source_file, source_row, customer_id, contract_id, period_start, period_end, amount, attributes) VALUES
  (3, 'k.csv', 2, 'c-1', 'K-1', DATE '2024-01-01', DATE '2024-12-31', 100, '{"vin":"LFV123"}'),
  (3, 'k.csv', 3, 'c-1', 'K-1', DATE '2025-01-01', DATE '2025-12-31', 110, NULL),
  (3, 'k.csv', 4, 'c-2', 'K-2', DATE '2025-01-01', DATE '2025-12-31', 90, NULL);
INSERT INTO contract_metrics_stored (run_id, contract_id, customer_id, period_unit, first_start, period_start, period_end, periods, premium, total_premium, status, as_of) VALUES
  (1, 'K-1', 'c-1', 'year', DATE '2024-01-01', DATE '2025-01-01', DATE '2025-12-31', 2, 110, 210, 'active', DATE '2025-06-30');
INSERT INTO runs (run_id, created_at, as_of, time_unit, horizon_months, params, input, customers, model_status, summary, timings, tool_version) VALUES
  (1, TIMESTAMP '2025-07-01 00:00:00', DATE '2025-06-30', 'week', 12, '{}', '{"loads":[1,2,3]}', 3, 'fitted',
   '{"customers_only_returns_examples":["c-3"],"net_revenue":41.25}', '{}', 'test');
INSERT INTO metrics_customers (run_id, customer_id, value_tier, value_basis, as_of, time_unit_days, monetary) VALUES
  (1, 'c-1', 'Gold', 'net_revenue', DATE '2025-06-30', 7, 14.25),
  (1, 'c-2', 'Silver', 'net_revenue', DATE '2025-06-30', 7, 20),
  (1, 'c-3', 'Bronze', 'net_revenue', DATE '2025-06-30', 7, 7);
-- A table added later that pairs customer ids (as a merge of duplicates does), without a customer_id column.
CREATE TABLE pairs_for_test (duplicate_id VARCHAR, surviving_id VARCHAR, note VARCHAR);
INSERT INTO pairs_for_test VALUES ('c-1', 'c-2', 'same phone'), ('c-2', 'c-9', 'same name');
INSERT INTO rejects (load_id, kind, source_file, source_row, reason, detail, raw) VALUES
  (2, 'transactions', 't.csv', 7, 'invalid_order_date', 'order_date: cannot read "x"', 'o-12,c-1,x,1'),
  (2, 'transactions', 't.csv', 8, 'invalid_order_date', 'order_date: cannot read "x"', 'o-13,c-10,x,1'),
  (2, 'transactions', 't.csv', 9, 'invalid_order_date', 'order_date: cannot read "x"', 'o-14,xc-1,x,1'),
  (1, 'customers', 'customers.csv', 5, 'missing_customer_id', 'no customer id', ',Someone,ZW@mail.example.cn,'),
  (1, 'customers', 'customers.csv', 6, 'missing_customer_id', 'no customer id', ',Someone,,86-138-0000-1111'),
  (1, 'customers', 'customers.csv', 7, 'missing_customer_id', 'no customer id', ',张伟,,'),
  (1, 'customers', 'customers.csv', 8, 'missing_customer_id', 'no customer id', ',Other Person,,');
`;

async function smallStore(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-forget-'));
  dirs.push(dir);
  const file = path.join(dir, 'crm.duckdb');
  const store = await Store.open(file, { create: true });
  try {
    await store.run(SETUP);
  } finally {
    store.close();
  }
  fs.chmodSync(file, 0o600);
  return file;
}

async function read<T extends Record<string, unknown>>(file: string, sql: string): Promise<T[]> {
  const store = await Store.open(file, { readOnly: true });
  try {
    return await store.all<T>(sql);
  } finally {
    store.close();
  }
}

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('forget', () => {
  it('pseudonymises ids, renames order and contract numbers per person, empties personal columns', async () => {
    const file = await smallStore();
    const result = await forget(file, ['c-1', 'c-3'], { reason: 'ticket 9' });
    expect(result.customers).toBe(2);
    expect(Object.fromEntries(result.tables.map((t) => [t.table, t.rows_changed]))).toEqual({
      contract_metrics_stored: 1, // the view contract_metrics reads it
      contracts: 2,
      customers: 2, // c-1's row, and c-2's attributes naming c-1
      metrics_customers: 2,
      pairs_for_test: 1,
      rejects: 4,
      runs: 1,
      transactions: 4,
    });

    // Numbered on from the pseudonyms already in the store, in the order the ids were given.
    expect(await read(file, 'SELECT customer_id, name, email, phone, region, CAST(attributes AS VARCHAR) AS attributes FROM customers ORDER BY source_row')).toEqual([
      { customer_id: 'forgotten-5', name: null, email: null, phone: null, region: 'East', attributes: null },
      { customer_id: 'c-2', name: 'Other Person', email: 'other@example.com', phone: null, region: 'West', attributes: '{"referred_by":"forgotten-5"}' },
      { customer_id: 'forgotten-4', name: null, email: null, phone: null, region: 'East', attributes: null },
    ]);
    // Rows keep their order; the other customer's equal order number is left alone.
    expect(await read(file, 'SELECT source_row, customer_id, order_id, CAST(amount AS DOUBLE) AS amount, CAST(attributes AS VARCHAR) AS attributes FROM transactions')).toEqual([
      { source_row: 2, customer_id: 'forgotten-5', order_id: 'forgotten-5/order-2', amount: 10.5, attributes: null },
      { source_row: 3, customer_id: 'c-2', order_id: 'o-9', amount: 20, attributes: null },
      { source_row: 4, customer_id: 'forgotten-5', order_id: 'forgotten-5/order-1', amount: 5.25, attributes: null },
      { source_row: 5, customer_id: 'forgotten-6', order_id: 'forgotten-6/order-1', amount: 7, attributes: null },
      { source_row: 6, customer_id: 'forgotten-5', order_id: 'forgotten-5/order-2', amount: -1.5, attributes: null },
    ]);
    // One contract number, the same pseudonym wherever it is stored.
    expect(await read(file, "SELECT DISTINCT contract_id FROM contracts WHERE customer_id = 'forgotten-5' UNION ALL SELECT contract_id FROM contract_metrics")).toEqual([
      { contract_id: 'forgotten-5/contract-1' },
      { contract_id: 'forgotten-5/contract-1' },
    ]);
    expect(await read(file, "SELECT count(*) AS n FROM contracts WHERE attributes IS NOT NULL")).toEqual([{ n: 0 }]);
    expect(await read(file, 'SELECT customer_id, monetary FROM metrics_customers ORDER BY customer_id')).toEqual([
      { customer_id: 'c-2', monetary: 20 },
      { customer_id: 'forgotten-5', monetary: 14.25 },
      { customer_id: 'forgotten-6', monetary: 7 },
    ]);
    expect(await read(file, 'SELECT duplicate_id, surviving_id FROM pairs_for_test')).toEqual([
      { duplicate_id: 'forgotten-5', surviving_id: 'c-2' },
      { duplicate_id: 'c-2', surviving_id: 'c-9' },
    ]);
    expect(await read(file, "SELECT summary->>'$.customers_only_returns_examples[0]' AS example, CAST(summary->'$.net_revenue' AS DOUBLE) AS net FROM runs")).toEqual([{ example: 'forgotten-6', net: 41.25 }]);
  });

  it('scrubs the rejected lines that name a person (id as a whole field, e-mail, phone digits, CJK name), keeps their reasons', async () => {
    const file = await smallStore();
    await forget(file, ['c-1']);
    expect(await read(file, 'SELECT source_row, reason, detail, raw FROM rejects ORDER BY load_id DESC, source_row')).toEqual([
      { source_row: 7, reason: 'invalid_order_date', detail: null, raw: null },
      { source_row: 8, reason: 'invalid_order_date', detail: 'order_date: cannot read "x"', raw: 'o-13,c-10,x,1' },
      { source_row: 9, reason: 'invalid_order_date', detail: 'order_date: cannot read "x"', raw: 'o-14,xc-1,x,1' },
      { source_row: 5, reason: 'missing_customer_id', detail: null, raw: null },
      { source_row: 6, reason: 'missing_customer_id', detail: null, raw: null },
      { source_row: 7, reason: 'missing_customer_id', detail: null, raw: null },
      { source_row: 8, reason: 'missing_customer_id', detail: 'no customer id', raw: ',Other Person,,' },
    ]);
  });

  it('records the erasure (count and reason, no ids), keeps the audit ids going and the file private', async () => {
    const file = await smallStore();
    const first = await forget(file, ['c-3'], { reason: 'request #1' });
    const second = await forget(file, ['c-2'], { reason: 'request #2' });
    expect(second.audit_id).toBe(first.audit_id + 1);
    const rows = await read<{ command: string; what: string; customers: number; details: string }>(file, 'SELECT command, what, customers, CAST(details AS VARCHAR) AS details FROM audit ORDER BY audit_id');
    expect(rows.map((r) => [r.command, r.what, r.customers])).toEqual([
      ['forget', '1 customer', 1],
      ['forget', '1 customer', 1],
    ]);
    expect(JSON.parse(rows[1].details)).toMatchObject({ reason: 'request #2' });
    expect(rows.map((r) => r.details).join()).not.toMatch(/c-2|c-3|Other Person|other@example/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(freshPathFor(file))).toBe(false);
    // The second erasure numbered on from the first.
    expect(await read(file, "SELECT customer_id FROM customers WHERE customer_id LIKE 'forgotten-%' ORDER BY customer_id")).toEqual([
      { customer_id: 'forgotten-4' },
      { customer_id: 'forgotten-6' },
    ]);
  });

  it('unknown ids (exit 3, all named) and a reason naming the person (exit 2) change nothing', async () => {
    const file = await smallStore();
    const before = sha(file);
    const unknown = await forget(file, ['c-1', 'nobody', 'c-99']).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(CrmError);
    expect((unknown as CrmError).exitCode).toBe(ExitCode.input);
    expect((unknown as CrmError).message).toBe('no customer "c-99", "nobody" in the store: nothing was erased');
    const reason = await forget(file, ['c-1'], { reason: 'customer 张伟 asked' }).catch((e: unknown) => e);
    expect((reason as CrmError).exitCode).toBe(ExitCode.usage);
    expect(sha(file)).toBe(before);
    expect(fs.existsSync(freshPathFor(file))).toBe(false);
  });

  it('a leftover copy of a killed forget is removed by the next one', async () => {
    const file = await smallStore();
    fs.writeFileSync(freshPathFor(file), 'a half-written copy');
    await forget(file, ['c-3']);
    expect(fs.existsSync(freshPathFor(file))).toBe(false);
  });
});

describe('searchableText', () => {
  it('searches names of 3 characters or more, 2 in CJK characters', () => {
    expect(searchableText('Li')).toBe(false);
    expect(searchableText('Ann')).toBe(true);
    expect(searchableText('张伟')).toBe(true);
    expect(searchableText('张')).toBe(false);
    expect(searchableText(null)).toBe(false);
  });
});
