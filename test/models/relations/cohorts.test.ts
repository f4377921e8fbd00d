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

  it('active customers by purchase-day count: 1, 2 (same or different months) and 3+ days (repeats in a month, gaps, returns-only months)', async () => {
    // As of 2024-04-30. Customers with one or two purchase days take their months from run_base
    // (first and last purchase); three or more from their days, de-duplicated per month.
    //   D  4 days: Jan 5, Jan 20, Mar 10, Mar 25; return Feb 14 (a returns-only month: revenue, not active)
    //   E  2 days in one month (Jan 3, Jan 28): active in January only, once
    //   F  2 days in two months (Jan 15, Apr 1); return Mar 2
    //   H  1 day (Feb 10); return Jan 20, before the first purchase (before the cohort: in no row)
    //   I  3 days in one month (Feb 1, 11, 21)
    //   J  3 days in three months (Feb 5, Mar 6, Apr 30); return Apr 10 (a month with both)
    const mixed = await chainDb();
    try {
      await mixed.load([
        ['D', 'D1', '2024-01-05', 10, null], ['D', 'D2', '2024-01-20', 20, null], ['D', 'D3', '2024-03-10', 30, null],
        ['D', 'D4', '2024-03-25', 40, null], ['D', 'D5', '2024-02-14', -5, null],
        ['E', 'E1', '2024-01-03', 7, null], ['E', 'E2', '2024-01-28', 8, null],
        ['F', 'F1', '2024-01-15', 100, null], ['F', 'F2', '2024-04-01', 50, null], ['F', 'F3', '2024-03-02', -10, null],
        ['H', 'H1', '2024-01-20', -3, null], ['H', 'H2', '2024-02-10', 60, null],
        ['I', 'I1', '2024-02-01', 1, null], ['I', 'I2', '2024-02-11', 2, null], ['I', 'I3', '2024-02-21', 3, null],
        ['J', 'J1', '2024-02-05', 5, null], ['J', 'J2', '2024-03-06', 6, null], ['J', 'J3', '2024-04-30', 9, null], ['J', 'J4', '2024-04-10', -1, null],
      ]);
      const p = { as_of: '2024-04-30', since: null, trend_window_days: 30 };
      await mixed.materialize(trendWindows, p);
      await mixed.materialize(inlined(purchaseDays.narrow, [orders.narrow]), p);
      await mixed.materialize(customerBase.narrow, p);
      await mixed.materialize(cohorts, p);
      const rows = await mixed.rows(`SELECT CAST(cohort_month AS VARCHAR) AS cohort_month, months_since, cohort_size, active_customers, retention, revenue, revenue_per_customer
                                     FROM run_cohorts ORDER BY cohort_month, months_since`);
      expect(rows).toEqual([
        { cohort_month: '2024-01-01', months_since: 0, cohort_size: 3, active_customers: 3, retention: 1, revenue: 145, revenue_per_customer: 145 / 3 },
        { cohort_month: '2024-01-01', months_since: 1, cohort_size: 3, active_customers: 0, retention: 0, revenue: -5, revenue_per_customer: -5 / 3 },
        { cohort_month: '2024-01-01', months_since: 2, cohort_size: 3, active_customers: 1, retention: 1 / 3, revenue: 60, revenue_per_customer: 20 },
        { cohort_month: '2024-01-01', months_since: 3, cohort_size: 3, active_customers: 1, retention: 1 / 3, revenue: 50, revenue_per_customer: 50 / 3 },
        { cohort_month: '2024-02-01', months_since: 0, cohort_size: 3, active_customers: 3, retention: 1, revenue: 71, revenue_per_customer: 71 / 3 },
        { cohort_month: '2024-02-01', months_since: 1, cohort_size: 3, active_customers: 1, retention: 1 / 3, revenue: 6, revenue_per_customer: 2 },
        { cohort_month: '2024-02-01', months_since: 2, cohort_size: 3, active_customers: 1, retention: 1 / 3, revenue: 8, revenue_per_customer: 8 / 3 },
      ]);
    } finally {
      mixed.close();
    }
  });

  it("the columns keep cohort_retention's types", async () => {
    const types = await db.rows<{ column_name: string; column_type: string }>('SELECT column_name, column_type FROM (DESCRIBE run_cohorts)');
    expect(types.map((t) => `${t.column_name} ${t.column_type}`)).toEqual([
      'cohort_month DATE', 'months_since INTEGER', 'cohort_size BIGINT', 'active_customers BIGINT', 'retention DOUBLE', 'revenue DOUBLE', 'revenue_per_customer DOUBLE',
    ]);
  });
});
