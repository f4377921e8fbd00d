/**
 * The cohort triangle (relations/cohorts.ts) from the purchase days, as of 2024-04-15:
 *
 *   A  2024-01-10 100, 2024-01-25 50, 2024-03-05 80, return 2024-04-02 −30
 *   B  2024-01-20 60
 *   C  2024-02-14 200, return 2024-02-20 −20
 *   G  return 2024-03-01 −20 only     (never a purchase: in no cohort)
 *
 * Cohort 2024-01 (A, B) is followed for 4 months: February has no activity (a 0, not a gap);
 * in April A only returned (revenue −30, not active). Cohort 2024-02 (C) for 3 months.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlined } from '../../../src/models/relation.js';
import { cohorts } from '../../../src/models/relations/cohorts.js';
import { customerBase } from '../../../src/models/relations/customer-base.js';
import { orders } from '../../../src/models/relations/orders.js';
import { purchaseDays } from '../../../src/models/relations/purchase-days.js';
import { trendWindows } from '../../../src/models/relations/trend-windows.js';
import { chainDb, type ChainDb, type Line } from './chain-db.js';

const LINES: Line[] = [
  ['A', 'A1', '2024-01-10', 100, null],
  ['A', 'A2', '2024-01-25', 50, null],
  ['A', 'A3', '2024-03-05', 80, null],
  ['A', 'A4', '2024-04-02', -30, null],
  ['B', 'B1', '2024-01-20', 60, null],
  ['C', 'C1', '2024-02-14', 200, null],
  ['C', 'C2', '2024-02-20', -20, null],
  ['G', 'G1', '2024-03-01', -20, null],
];

let db: ChainDb;
beforeAll(async () => {
  db = await chainDb();
  await db.load(LINES);
  const p = { as_of: '2024-04-15', since: null, trend_window_days: 365 };
  await db.materialize(trendWindows, p);
  await db.materialize(inlined(purchaseDays.narrow, [orders.narrow]), p);
  await db.materialize(customerBase.narrow, p);
  await db.materialize(cohorts, p);
});
afterAll(() => db.close());

describe('cohorts', () => {
  it('every (cohort, month) up to the as-of month; empty months are 0; returns are revenue, not activity', async () => {
    const rows = await db.rows(`SELECT CAST(cohort_month AS VARCHAR) AS cohort_month, months_since, cohort_size, active_customers, retention, revenue, revenue_per_customer
                                FROM run_cohorts ORDER BY cohort_month, months_since`);
    expect(rows).toEqual([
      { cohort_month: '2024-01-01', months_since: 0, cohort_size: 2, active_customers: 2, retention: 1, revenue: 210, revenue_per_customer: 105 },
      { cohort_month: '2024-01-01', months_since: 1, cohort_size: 2, active_customers: 0, retention: 0, revenue: 0, revenue_per_customer: 0 },
      { cohort_month: '2024-01-01', months_since: 2, cohort_size: 2, active_customers: 1, retention: 0.5, revenue: 80, revenue_per_customer: 40 },
      { cohort_month: '2024-01-01', months_since: 3, cohort_size: 2, active_customers: 0, retention: 0, revenue: -30, revenue_per_customer: -15 },
      { cohort_month: '2024-02-01', months_since: 0, cohort_size: 1, active_customers: 1, retention: 1, revenue: 180, revenue_per_customer: 180 },
      { cohort_month: '2024-02-01', months_since: 1, cohort_size: 1, active_customers: 0, retention: 0, revenue: 0, revenue_per_customer: 0 },
      { cohort_month: '2024-02-01', months_since: 2, cohort_size: 1, active_customers: 0, retention: 0, revenue: 0, revenue_per_customer: 0 },
    ]);
  });

  it('months since acquisition count across a year end (November → January is 2, as date_diff counts months)', async () => {
    const year = await chainDb();
    try {
      await year.load([
        ['Y', 'Y1', '2023-11-30', 40, null],
        ['Y', 'Y2', '2024-01-01', 10, null],
        ['Z', 'Z1', '2023-12-31', 25, null],
      ]);
      const p = { as_of: '2024-01-31', since: null, trend_window_days: 30 };
      await year.materialize(trendWindows, p);
      await year.materialize(inlined(purchaseDays.narrow, [orders.narrow]), p);
      await year.materialize(customerBase.narrow, p);
      await year.materialize(cohorts, p);
      expect(await year.rows('SELECT CAST(cohort_month AS VARCHAR) AS cohort_month, months_since, active_customers, revenue FROM run_cohorts ORDER BY ALL')).toEqual([
        { cohort_month: '2023-11-01', months_since: 0, active_customers: 1, revenue: 40 },
        { cohort_month: '2023-11-01', months_since: 1, active_customers: 0, revenue: 0 },
        { cohort_month: '2023-11-01', months_since: 2, active_customers: 1, revenue: 10 },
        { cohort_month: '2023-12-01', months_since: 0, active_customers: 1, revenue: 25 },
        { cohort_month: '2023-12-01', months_since: 1, active_customers: 0, revenue: 0 },
      ]);
    } finally {
      year.close();
    }
  });

  it("the columns keep cohort_retention's types", async () => {
    const types = await db.rows<{ column_name: string; column_type: string }>('SELECT column_name, column_type FROM (DESCRIBE run_cohorts)');
    expect(types.map((t) => `${t.column_name} ${t.column_type}`)).toEqual([
      'cohort_month DATE', 'months_since INTEGER', 'cohort_size BIGINT', 'active_customers BIGINT', 'retention DOUBLE', 'revenue DOUBLE', 'revenue_per_customer DOUBLE',
    ]);
  });
});
