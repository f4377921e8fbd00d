/**
 * The customer base, the customers with only returns and the distinct histories
 * (relations/customer-base.ts, histories.ts) on hand-made lines, as of 2024-12-31:
 *
 *   A  O1 2024-01-10 100 (cost 60) + 50 (no cost), O2 2024-01-10 30 (cost 10), O3 2024-06-01 80 (cost 30),
 *      R1 2024-06-05 −20 (cost −12), O4 2024-12-31 10
 *   B  no order id: 2024-03-01 40 + 20, 2024-09-15 25
 *   C  only a return, R9 2024-05-01 −15        — not in the base; counted apart
 *   D  2023-06-01 50, return 2024-08-01 −5      — its purchases never reach its returns' date: still one purchase day
 *   E  2023-06-01 70                            — the same history as D
 *
 * A: 4 orders on 3 purchase days; gross 270, returns 20, net 250; margin over the costed lines
 * (100 + 30 + 80 − 20) − (60 + 10 + 30 − 12) = 102; first day 180, repeat mean (250 − 180) / 2 = 35.
 * 180-day trend windows: current 2024-07-05 … 2024-12-31, previous 2024-01-07 … 2024-07-04; the
 * data (from 2023-06-01) covers both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlined } from '../../../src/models/relation.js';
import { customerBase, returnOnlyCustomers } from '../../../src/models/relations/customer-base.js';
import { histories } from '../../../src/models/relations/histories.js';
import { orders } from '../../../src/models/relations/orders.js';
import { purchaseDays } from '../../../src/models/relations/purchase-days.js';
import { trendWindows } from '../../../src/models/relations/trend-windows.js';
import { chainDb, type ChainDb, type Line } from './chain-db.js';

const LINES: Line[] = [
  ['A', 'O1', '2024-01-10', 100, 60],
  ['A', 'O1', '2024-01-10', 50, null],
  ['A', 'O2', '2024-01-10', 30, 10],
  ['A', 'O3', '2024-06-01', 80, 30],
  ['A', 'R1', '2024-06-05', -20, -12],
  ['A', 'O4', '2024-12-31', 10, null],
  ['B', null, '2024-03-01', 40, null],
  ['B', null, '2024-03-01', 20, null],
  ['B', null, '2024-09-15', 25, null],
  ['C', 'R9', '2024-05-01', -15, null],
  ['D', 'D1', '2023-06-01', 50, null],
  ['D', 'D2', '2024-08-01', -5, null],
  ['E', 'E1', '2023-06-01', 70, null],
];

const COLUMNS = `customer_id, CAST(first_purchase AS VARCHAR) AS first_purchase, CAST(last_purchase AS VARCHAR) AS last_purchase,
  recency_days, tenure_days, frequency, purchase_days, monetary, gross_revenue, returns_value, return_lines, avg_order_value,
  margin, bgnbd_x, t_x_days, T_days, repeat_mean_value, first_day_value, CAST(cohort_month AS VARCHAR) AS cohort_month,
  history_key, pareto_revenue, trend_current, trend_previous`;

/** x·2⁴⁰ + t_x·2²⁰ + T */
const key = (x: number, tx: number, T: number) => x * 2 ** 40 + tx * 2 ** 20 + T;

let db: ChainDb;
beforeAll(async () => {
  db = await chainDb();
  await db.load(LINES);
});
afterAll(() => db.close());

async function base(width: 'narrow' | 'wide', params: { since: string | null; trend_window_days: number }) {
  const p = { as_of: '2024-12-31', ...params };
  await db.materialize(trendWindows, p);
  await db.materialize(inlined(purchaseDays[width], [orders[width]]), p);
  await db.materialize(customerBase[width], p);
  return db.rows<Record<string, unknown>>(`SELECT ${COLUMNS} FROM run_base ORDER BY customer_id`);
}

describe.each(['narrow', 'wide'] as const)('the customer base (%s money)', (width) => {
  it('returns netted in, never purchases; first day value; margin only where costed; trend windows the data covers', async () => {
    const [a, b, d, e, ...rest] = await base(width, { since: null, trend_window_days: 180 });
    expect(rest).toEqual([]);
    expect(a).toEqual({
      customer_id: 'A', first_purchase: '2024-01-10', last_purchase: '2024-12-31', recency_days: 0, tenure_days: 356,
      frequency: 4, purchase_days: 3, monetary: 250, gross_revenue: 270, returns_value: 20, return_lines: 1, avg_order_value: 67.5,
      margin: 102, bgnbd_x: 2, t_x_days: 356, T_days: 356, repeat_mean_value: 35, first_day_value: 180, cohort_month: '2024-01-01',
      history_key: key(2, 356, 356), pareto_revenue: 250, trend_current: 10, trend_previous: 240,
    });
    expect(b).toEqual({
      customer_id: 'B', first_purchase: '2024-03-01', last_purchase: '2024-09-15', recency_days: 107, tenure_days: 305,
      frequency: 2, purchase_days: 2, monetary: 85, gross_revenue: 85, returns_value: 0, return_lines: 0, avg_order_value: 42.5,
      margin: null, bgnbd_x: 1, t_x_days: 198, T_days: 305, repeat_mean_value: 25, first_day_value: 60, cohort_month: '2024-03-01',
      history_key: key(1, 198, 305), pareto_revenue: 85, trend_current: 25, trend_previous: 60,
    });
    expect(d).toEqual({
      customer_id: 'D', first_purchase: '2023-06-01', last_purchase: '2023-06-01', recency_days: 579, tenure_days: 579,
      frequency: 1, purchase_days: 1, monetary: 45, gross_revenue: 50, returns_value: 5, return_lines: 1, avg_order_value: 50,
      margin: null, bgnbd_x: 0, t_x_days: 0, T_days: 579, repeat_mean_value: null, first_day_value: 50, cohort_month: '2023-06-01',
      history_key: key(0, 0, 579), pareto_revenue: 45, trend_current: -5, trend_previous: 0,
    });
    expect(e).toMatchObject({ customer_id: 'E', monetary: 70, history_key: key(0, 0, 579) });
  });

  it('--since: the 80/20 revenue is the window from it; the trend windows take its length (214 days)', async () => {
    const rows = await base(width, { since: '2024-06-01', trend_window_days: 180 });
    expect(rows.map((r) => [r.customer_id, r.pareto_revenue, r.trend_current, r.trend_previous])).toEqual([
      ['A', 70, 70, 180],
      ['B', 25, 25, 60],
      ['D', -5, -5, 0],
      ['E', 0, 0, 0],
    ]);
  });

  it('a previous window the data does not cover: no previous revenue (NULL), never a sliver of it', async () => {
    // 365 days: the previous window starts 2023-01-02, before the data (2023-06-01).
    const rows = await base(width, { since: null, trend_window_days: 365 });
    expect(rows.map((r) => [r.customer_id, r.trend_current, r.trend_previous])).toEqual([
      ['A', 250, null],
      ['B', 85, null],
      ['D', -5, null],
      ['E', 0, null],
    ]);
  });

  it("the base's column types are the run's contract with the relations after it", async () => {
    await base(width, { since: null, trend_window_days: 180 });
    const types = await db.rows<{ column_name: string; column_type: string }>('SELECT column_name, column_type FROM (DESCRIBE run_base)');
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({
      customer_id: 'VARCHAR', first_purchase: 'DATE', last_purchase: 'DATE', recency_days: 'BIGINT', tenure_days: 'BIGINT',
      frequency: 'INTEGER', purchase_days: 'INTEGER', monetary: 'DOUBLE', gross_revenue: 'DOUBLE', returns_value: 'DOUBLE',
      return_lines: 'INTEGER', avg_order_value: 'DOUBLE', margin: 'DOUBLE', bgnbd_x: 'INTEGER', t_x_days: 'BIGINT', T_days: 'BIGINT',
      repeat_mean_value: 'DOUBLE', first_day_value: 'DOUBLE', cohort_month: 'DATE', history_key: 'BIGINT',
      pareto_revenue: width === 'narrow' ? 'DECIMAL(18,4)' : 'DECIMAL(38,4)', trend_current: 'DECIMAL(38,4)', trend_previous: 'DECIMAL(38,4)',
    });
  });
});

describe('beside the base', () => {
  it('customers with only returns: counted, the first ids named, in id order', async () => {
    await base('narrow', { since: null, trend_window_days: 180 });
    expect(await db.select(returnOnlyCustomers, { examples: 5 })).toEqual([{ customers: 1, examples: ['C'] }]);
    await db.conn.run(`INSERT INTO run_purchase_days (customer_id, order_date, is_return) VALUES ('Z', DATE '2024-01-01', true), ('Y', DATE '2024-01-01', true), ('Y', DATE '2024-02-01', true)`);
    expect(await db.select(returnOnlyCustomers, { examples: 2 })).toEqual([{ customers: 3, examples: ['C', 'Y'] }]);
  });

  it('histories: each distinct (x, t_x, T) once, with how many customers share it', async () => {
    await base('narrow', { since: null, trend_window_days: 180 });
    expect(await db.rows(histories.sql)).toEqual([
      { x: 0, t_x_days: 0, T_days: 579, customers: 2 },
      { x: 1, t_x_days: 198, T_days: 305, customers: 1 },
      { x: 2, t_x_days: 356, T_days: 356, customers: 1 },
    ]);
  });
});
