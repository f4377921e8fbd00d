/**
 * The customer base of `crm run` (orders, purchase days, money, margin, the 80/20 and trend
 * windows) on a hand-made store with exact expected values:
 *
 *   A  O1 2024-01-10: 100 (cost 60) + 50 (no cost)   — one order of two lines, partly costed
 *      O2 2024-01-10: 30 (cost 10)                     — a second order the same day
 *      O3 2024-06-01: 80 (cost 30)
 *      R1 2024-06-05: −20 (cost −12)                   — a return
 *      O4 2024-12-31: 10                               — on the as-of day
 *      O5 2025-01-05: 999                              — after as-of: ignored
 *   B  no order id: 2024-03-01 40 + 20 (one order: the day), 2024-09-15 25; no cost anywhere
 *   C  only a return (2024-05-01 −15): never a purchase, never scored
 *
 * As of 2024-12-31. A: 4 orders on 3 purchase days; gross 270, returns 20, net 250; margin over
 * the lines with a cost (100 + 30 + 80 − 20) − (60 + 10 + 30 − 12) = 102 (the uncosted 50 and 10
 * count in neither); first day 180, so the repeat mean is (250 − 180) / 2 = 35.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type TestStore } from '../helpers/run.js';

const CSV = `customer_id,order_id,order_date,amount,cost
A,O1,2024-01-10,100,60
A,O1,2024-01-10,50,
A,O2,2024-01-10,30,10
A,O3,2024-06-01,80,30
A,R1,2024-06-05,-20,-12
A,O4,2024-12-31,10,
A,O5,2025-01-05,999,
B,,2024-03-01,40,
B,,2024-03-01,20,
B,,2024-09-15,25,
C,R9,2024-05-01,-15,
`;

interface Metrics {
  customer_id: string;
  first_purchase: string;
  last_purchase: string;
  recency_days: number;
  tenure_days: number;
  frequency: number;
  purchase_days: number;
  monetary: number;
  gross_revenue: number;
  returns_value: number;
  return_lines: number;
  avg_order_value: number;
  margin: number | null;
  bgnbd_x: number;
  churn_reason: string;
  net_revenue: number;
  revenue_current: number;
  revenue_previous: number | null;
  revenue_trend: number | null;
}

let store: TestStore;
const metrics = (runId: number) =>
  store.query<Metrics>(
    `SELECT customer_id, CAST(first_purchase AS VARCHAR) AS first_purchase, CAST(last_purchase AS VARCHAR) AS last_purchase,
            recency_days, tenure_days, frequency, purchase_days, monetary, gross_revenue, returns_value, return_lines,
            avg_order_value, margin, bgnbd_x, churn_reason, net_revenue, revenue_current, revenue_previous, revenue_trend
     FROM customer_metrics WHERE run_id = ${runId} ORDER BY customer_id`,
  );

beforeAll(async () => {
  store = await createStore(CSV, 'crm-base-');
});
afterAll(() => store.cleanup());

describe('the customer base', () => {
  it('orders, purchase days, money, margin and reasons are exact; return-only customers are not scored', async () => {
    const run = store.json<{ run_id: number; customers: number }>(['run', '--as-of', '2024-12-31']);
    expect(run.customers).toBe(2);
    const [a, b] = await metrics(run.run_id);
    expect(a).toEqual({
      customer_id: 'A',
      first_purchase: '2024-01-10',
      last_purchase: '2024-12-31',
      recency_days: 0,
      tenure_days: 356,
      frequency: 4,
      purchase_days: 3,
      monetary: 250,
      gross_revenue: 270,
      returns_value: 20,
      return_lines: 1,
      avg_order_value: 67.5,
      margin: 102,
      bgnbd_x: 2,
      churn_reason: 'last purchase today; usually buys every 178 days',
      net_revenue: 250,
      // Trend windows of 365 days: all of 2024 is the current one; the data (from 2024-01-10)
      // does not cover the previous one, so there is nothing to compare with (NULL, not 0).
      revenue_current: 250,
      revenue_previous: null,
      revenue_trend: null,
    });
    expect(b).toEqual({
      customer_id: 'B',
      first_purchase: '2024-03-01',
      last_purchase: '2024-09-15',
      recency_days: 107,
      tenure_days: 305,
      frequency: 2,
      purchase_days: 2,
      monetary: 85,
      gross_revenue: 85,
      returns_value: 0,
      return_lines: 0,
      avg_order_value: 42.5,
      margin: null,
      bgnbd_x: 1,
      churn_reason: 'last purchase 107 days ago; usually buys every 198 days',
      net_revenue: 85,
      revenue_current: 85,
      revenue_previous: null,
      revenue_trend: null,
    });
  });

  it('--since narrows the 80/20 window and sets the trend windows to its length; the trend only where the data covers both', async () => {
    const run = store.json<{ run_id: number }>(['run', '--as-of', '2024-12-31', '--since', '2024-06-01']);
    const rows = await metrics(run.run_id);
    // Window from 2024-06-01 (214 days): A 80 − 20 + 10 = 70, B 25. The previous 214 days
    // (2023-10-31 … 2024-05-31) start before the data (2024-01-10): no previous revenue, no trend.
    // Lifetime money is unchanged.
    expect(rows.map((r) => [r.customer_id, r.monetary, r.net_revenue, r.revenue_current, r.revenue_previous, r.revenue_trend])).toEqual([
      ['A', 250, 70, 70, null, null],
      ['B', 85, 25, 25, null, null],
    ]);
    // From 2024-09-01 (122 days): A 10, B 25; the previous 122 days (2024-05-02 … 2024-08-31),
    // covered by the data: A 80 − 20 = 60, B nothing (0: no trend from zero).
    const covered = await metrics(store.json<{ run_id: number }>(['run', '--as-of', '2024-12-31', '--since', '2024-09-01']).run_id);
    expect(covered.map((r) => [r.customer_id, r.net_revenue, r.revenue_current, r.revenue_previous])).toEqual([
      ['A', 10, 10, 60],
      ['B', 25, 25, 0],
    ]);
    expect(covered[0].revenue_trend).toBeCloseTo(10 / 60 - 1, 12);
    expect(covered[1].revenue_trend).toBeNull();
  });
});

describe('amounts too large for 64-bit sums', () => {
  it('a currency with huge amounts (lines of 6·10^13, customer totals over 10^14) is summed in 38 digits, exactly', async () => {
    // Each line fits the lines' DECIMAL(18, 4); an order, a day and a customer total do not.
    const big = '60000000000000';
    const rows = ['customer_id,order_id,order_date,amount'];
    for (let c = 1; c <= 25; c++) {
      const id = `V${String(c).padStart(2, '0')}`;
      rows.push(`${id},${id}-1,2024-01-0${1 + (c % 5)},${big}`, `${id},${id}-1,2024-01-0${1 + (c % 5)},${big}`, `${id},${id}-2,2024-03-15,${big}`, `${id},${id}-3,2024-06-${10 + (c % 9)},${big}`);
    }
    const vnd = await createStore(rows.join('\n') + '\n', 'crm-base-wide-');
    try {
      const run = vnd.json<{ run_id: number; customers: number }>(['run', '--as-of', '2024-12-31']);
      expect(run.customers).toBe(25);
      const sums = await vnd.query<{ customers: number; least: number; most: number; frequency: number; abc: string }>(
        `SELECT count(*) AS customers, min(monetary) AS least, max(monetary) AS most, min(frequency) AS frequency, min(CAST(abc_class AS VARCHAR)) AS abc
         FROM customer_metrics WHERE run_id = ${run.run_id}`,
      );
      // All equal, so all tie for the 80/20 rank: every one is a key account.
      expect(sums).toEqual([{ customers: 25, least: 2.4e14, most: 2.4e14, frequency: 3, abc: 'A' }]);
    } finally {
      vnd.cleanup();
    }
  });
});
