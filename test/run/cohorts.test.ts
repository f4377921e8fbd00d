/**
 * Acquisition cohorts (cohort_retention) and segment migration between runs
 * (src/models/relations/cohorts.ts), on a hand-made store:
 *
 *   A  2024-01-10 100, 2024-01-25 50, 2024-03-05 80, return 2024-04-02 −30
 *   B  2024-01-20 60, 2024-05-10 40
 *   C  2024-02-14 200
 *   D  2024-02-01 10, 2024-02-28 10, 2024-04-01 10
 *   E  2024-04-10 70
 *   F  2024-05-20 90                  (first purchase after the first run's as-of)
 *   G  return 2024-03-01 −20 only     (never a purchase: never scored, in no cohort)
 *
 * Run 1 as of 2024-04-15, run 2 as of 2024-06-30.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type RunJson, type TestStore, type TxRow } from '../helpers/run.js';

const ROWS: TxRow[] = [
  { customer_id: 'A', order_date: '2024-01-10', amount: 100 },
  { customer_id: 'A', order_date: '2024-01-25', amount: 50 },
  { customer_id: 'A', order_date: '2024-03-05', amount: 80 },
  { customer_id: 'A', order_date: '2024-04-02', amount: -30 },
  { customer_id: 'B', order_date: '2024-01-20', amount: 60 },
  { customer_id: 'B', order_date: '2024-05-10', amount: 40 },
  { customer_id: 'C', order_date: '2024-02-14', amount: 200 },
  { customer_id: 'D', order_date: '2024-02-01', amount: 10 },
  { customer_id: 'D', order_date: '2024-02-28', amount: 10 },
  { customer_id: 'D', order_date: '2024-04-01', amount: 10 },
  { customer_id: 'E', order_date: '2024-04-10', amount: 70 },
  { customer_id: 'F', order_date: '2024-05-20', amount: 90 },
  { customer_id: 'G', order_date: '2024-03-01', amount: -20 },
];

interface Cell {
  cohort_month: string;
  months_since: number;
  cohort_size: number;
  active_customers: number;
  retention: number;
  revenue: number;
  revenue_per_customer: number;
}
interface Migration {
  run_id: number;
  previous_run_id: number | null;
  from_segment: string | null;
  to_segment: string | null;
  customers: number;
}

let store: TestStore;
let run1: RunJson;
let run2: RunJson;
const cells = (runId: number) => store.query<Cell>(`SELECT * EXCLUDE (run_id) FROM cohort_retention WHERE run_id = ${runId} ORDER BY cohort_month, months_since`);
const migration = (runId: number) => store.query<Migration>(`SELECT * FROM segment_migration WHERE run_id = ${runId} ORDER BY from_segment NULLS FIRST, to_segment`);

beforeAll(async () => {
  store = await createStore(ROWS, 'crm-cohorts-');
  run1 = store.json<RunJson>(['run', '--as-of', '2024-04-15']);
  run2 = store.json<RunJson>(['run', '--as-of', '2024-06-30']);
});
afterAll(() => store?.cleanup());

describe('cohort_retention', () => {
  it('first run: the exact triangle, every month up to as-of (zeros included), returns in revenue but not in activity', async () => {
    const c = (cohort: string, k: number, size: number, active: number, revenue: number): Cell => ({
      cohort_month: cohort,
      months_since: k,
      cohort_size: size,
      active_customers: active,
      retention: active / size,
      revenue,
      revenue_per_customer: revenue / size,
    });
    expect(await cells(run1.run_id)).toEqual([
      c('2024-01-01', 0, 2, 2, 210),
      c('2024-01-01', 1, 2, 0, 0),
      c('2024-01-01', 2, 2, 1, 80),
      c('2024-01-01', 3, 2, 0, -30), // A's April return: revenue, but not an active customer
      c('2024-02-01', 0, 2, 2, 220),
      c('2024-02-01', 1, 2, 0, 0),
      c('2024-02-01', 2, 2, 1, 10),
      c('2024-04-01', 0, 1, 1, 70),
    ]);
    expect(run1.customers).toBe(5);
  });

  it('both runs: month-0 retention is exactly 1, cohort sizes sum to the customers, the grid is complete', async () => {
    for (const run of [run1, run2]) {
      const rows = await cells(run.run_id);
      const cohorts = [...new Set(rows.map((r) => r.cohort_month))];
      const asOfMonth = run.as_of.slice(0, 7);
      let sizes = 0;
      for (const cohort of cohorts) {
        const own = rows.filter((r) => r.cohort_month === cohort);
        const months = (Number(asOfMonth.slice(0, 4)) - Number(cohort.slice(0, 4))) * 12 + Number(asOfMonth.slice(5, 7)) - Number(cohort.slice(5, 7));
        expect(own.map((r) => r.months_since), cohort).toEqual(Array.from({ length: months + 1 }, (_, k) => k));
        expect(own[0].retention, cohort).toBe(1);
        expect(new Set(own.map((r) => r.cohort_size)).size).toBe(1);
        sizes += own[0].cohort_size;
      }
      expect(sizes).toBe(run.customers);
    }
    expect(run2.customers).toBe(6);
    const later = await cells(run2.run_id);
    expect(later.filter((r) => r.cohort_month === '2024-01-01').map((r) => r.active_customers)).toEqual([2, 0, 1, 0, 1, 0]);
    expect(later.filter((r) => r.cohort_month === '2024-05-01').map((r) => [r.months_since, r.retention, r.revenue])).toEqual([
      [0, 1, 90],
      [1, 0, 0],
    ]);
  });
});

describe('segment_migration', () => {
  it('first run: previous run and from_segment are NULL, counts are the segment sizes', async () => {
    const m = await migration(run1.run_id);
    expect(m.every((r) => r.previous_run_id === null && r.from_segment === null && r.to_segment !== null)).toBe(true);
    const sizes = await store.query<{ to_segment: string; customers: number }>(
      `SELECT rfm_segment AS to_segment, count(*) AS customers FROM customer_metrics WHERE run_id = ${run1.run_id} GROUP BY 1 ORDER BY 1`,
    );
    expect(m.map((r) => ({ to_segment: r.to_segment, customers: r.customers }))).toEqual(sizes);
    expect(m.reduce((a, r) => a + r.customers, 0)).toBe(run1.customers);
  });

  it('second run: every customer of either run once — from the first run’s segment (NULL: new) to the second’s', async () => {
    const m = await migration(run2.run_id);
    expect(m.every((r) => r.previous_run_id === run1.run_id)).toBe(true);
    const total = m.reduce((a, r) => a + r.customers, 0);
    const fromCount = m.filter((r) => r.from_segment !== null).reduce((a, r) => a + r.customers, 0);
    const toCount = m.filter((r) => r.to_segment !== null).reduce((a, r) => a + r.customers, 0);
    // History only grows: run 2's customers are run 1's plus F, so nobody has a NULL to_segment.
    expect([total, fromCount, toCount]).toEqual([6, run1.customers, run2.customers]);
    // The counts are the join of the two runs' segments.
    const pairs = await store.query<{ from_segment: string | null; to_segment: string; customers: number }>(`
      SELECT b.rfm_segment AS from_segment, n.rfm_segment AS to_segment, count(*) AS customers
      FROM (SELECT * FROM customer_metrics WHERE run_id = ${run2.run_id}) n
      LEFT JOIN (SELECT * FROM customer_metrics WHERE run_id = ${run1.run_id}) b USING (customer_id)
      GROUP BY ALL ORDER BY from_segment NULLS FIRST, to_segment`);
    expect(m.map(({ from_segment, to_segment, customers }) => ({ from_segment, to_segment, customers }))).toEqual(pairs);
    const [f] = await store.query<{ rfm_segment: string }>(`SELECT rfm_segment FROM customer_metrics WHERE run_id = ${run2.run_id} AND customer_id = 'F'`);
    expect(m.filter((r) => r.from_segment === null)).toEqual([{ run_id: run2.run_id, previous_run_id: run1.run_id, from_segment: null, to_segment: f.rfm_segment, customers: 1 }]);
  });

  it('second run: previous_churn_risk is the first run’s churn risk (NULL for the new customer)', async () => {
    const rows = await store.query<{ customer_id: string; previous_churn_risk: number | null; before: number | null }>(`
      SELECT n.customer_id, n.previous_churn_risk, b.churn_risk AS before
      FROM (SELECT * FROM customer_metrics WHERE run_id = ${run2.run_id}) n
      LEFT JOIN (SELECT * FROM customer_metrics WHERE run_id = ${run1.run_id}) b USING (customer_id) ORDER BY 1`);
    expect(rows.map((r) => r.customer_id)).toEqual(['A', 'B', 'C', 'D', 'E', 'F']);
    for (const r of rows) expect(r.previous_churn_risk, r.customer_id).toBe(r.before);
    expect(rows[5].previous_churn_risk).toBeNull();
  });
});
