/**
 * Period histories for the BG/BB (relations/period-histories.ts) on hand-made lines, through the
 * run's own chain (orders → purchase days → period histories), in years and in months:
 *
 *   A  1995-03-01, 1996-05-01 + 1996-09-01 (two in one year), 1998-02-01
 *   B  1995-07-01 only
 *   C  1995-01-01, a return only in 1999, 2000-06-01           — the returns-only year is no purchase
 *   D  2001-11-01 only                                          — first period = the as-of year
 *   E  1996-01-01, 2001-12-31                                   — a purchase on the as-of date
 *   F  only a return in 1997                                    — no purchase: not a customer here
 *   G  1997-01-01, 2001-03-01                                   — a purchase in the as-of year
 *   H  2002-01-01                                               — after every as-of: not read
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlined, parametersOf } from '../../../src/models/relation.js';
import { orders } from '../../../src/models/relations/orders.js';
import { periodHistories, periodHistoryCounts } from '../../../src/models/relations/period-histories.js';
import { purchaseDays } from '../../../src/models/relations/purchase-days.js';
import { chainDb, type ChainDb, type Line } from './chain-db.js';

const LINES: Line[] = [
  ['A', 'A1', '1995-03-01', 10, null],
  ['A', 'A2', '1996-05-01', 10, null],
  ['A', 'A3', '1996-09-01', 10, null],
  ['A', 'A4', '1998-02-01', 10, null],
  ['B', 'B1', '1995-07-01', 10, null],
  ['C', 'C1', '1995-01-01', 10, null],
  ['C', 'C2', '1999-04-01', -5, null],
  ['C', 'C3', '2000-06-01', 10, null],
  ['D', 'D1', '2001-11-01', 10, null],
  ['E', 'E1', '1996-01-01', 10, null],
  ['E', 'E2', '2001-12-31', 10, null],
  ['F', 'F1', '1997-05-05', -7, null],
  ['G', 'G1', '1997-01-01', 10, null],
  ['G', 'G2', '2001-03-01', 10, null],
  ['H', 'H1', '2002-01-01', 10, null],
];

type Row = { customer_id: string; x: number; t_x: number; n: number; partial_period_purchase: boolean; period_key: number };

let db: ChainDb;
beforeAll(async () => {
  db = await chainDb();
  await db.load(LINES);
});
afterAll(() => db.close());

async function histories(asOf: string, unit: 'month' | 'year'): Promise<Omit<Row, 'period_key'>[]> {
  await db.materialize(inlined(purchaseDays.narrow, [orders.narrow]), { as_of: asOf });
  await db.materialize(periodHistories, { as_of: asOf, period_unit: unit });
  return db.rows('SELECT customer_id, x, t_x, n, partial_period_purchase FROM run_period_histories ORDER BY customer_id');
}

describe('period histories (BG/BB)', () => {
  it('binds exactly the parameters it lists', () => {
    expect(parametersOf(periodHistories.sql).sort()).toEqual([...periodHistories.params].sort());
    expect(parametersOf(periodHistoryCounts.sql)).toEqual([]);
  });

  it('years, as-of the last day of a year (2001 is a whole period): x, t_x, n counted from the first year', async () => {
    expect(await histories('2001-12-31', 'year')).toEqual([
      // 1996 (twice: one opportunity) and 1998 after 1995: x = 2, last at 3, six whole years after 1995.
      { customer_id: 'A', x: 2, t_x: 3, n: 6, partial_period_purchase: false },
      { customer_id: 'B', x: 0, t_x: 0, n: 6, partial_period_purchase: false },
      // 1999 has only a return: not a purchase year.
      { customer_id: 'C', x: 1, t_x: 5, n: 6, partial_period_purchase: false },
      // First year = the as-of year: no opportunity after it.
      { customer_id: 'D', x: 0, t_x: 0, n: 0, partial_period_purchase: false },
      // The purchase on the as-of date is in a whole year: counted.
      { customer_id: 'E', x: 1, t_x: 5, n: 5, partial_period_purchase: false },
      { customer_id: 'G', x: 1, t_x: 4, n: 4, partial_period_purchase: false },
    ]);
    // The key is the history's (x·2⁴⁰ + t_x·2²⁰ + n), as run_base.history_key is built.
    const [a] = await db.rows<{ period_key: bigint | number }>("SELECT period_key FROM run_period_histories WHERE customer_id = 'A'");
    expect(Number(a.period_key)).toBe(2 * 2 ** 40 + 3 * 2 ** 20 + 6);
    await db.materialize(periodHistoryCounts, {});
    expect(await db.rows('SELECT x, t_x, n, customers FROM run_period_history_counts')).toEqual([
      { x: 0, t_x: 0, n: 0, customers: 1 },
      { x: 0, t_x: 0, n: 6, customers: 1 },
      { x: 1, t_x: 4, n: 4, customers: 1 },
      { x: 1, t_x: 5, n: 5, customers: 1 },
      { x: 1, t_x: 5, n: 6, customers: 1 },
      { x: 2, t_x: 3, n: 6, customers: 1 },
    ]);
  });

  it('years, as-of inside a year (2001 partial): the last whole year is 2000; a purchase in 2001 is flagged, not counted', async () => {
    expect(await histories('2001-06-30', 'year')).toEqual([
      { customer_id: 'A', x: 2, t_x: 3, n: 5, partial_period_purchase: false },
      { customer_id: 'B', x: 0, t_x: 0, n: 5, partial_period_purchase: false },
      { customer_id: 'C', x: 1, t_x: 5, n: 5, partial_period_purchase: false },
      // E's 2001-12-31 is after as-of: not read.
      { customer_id: 'E', x: 0, t_x: 0, n: 4, partial_period_purchase: false },
      // G bought in 2001, which is not over: not an observed opportunity.
      { customer_id: 'G', x: 0, t_x: 0, n: 3, partial_period_purchase: true },
    ]);
  });

  it('years, first purchase in the partial as-of year: n = 0, and the first purchase is no flagged one', async () => {
    expect((await histories('2001-11-15', 'year')).find((r) => r.customer_id === 'D')).toEqual({ customer_id: 'D', x: 0, t_x: 0, n: 0, partial_period_purchase: false });
  });

  it('months: whole months from the first month; the as-of month counts when as-of is its last day (29 February too)', async () => {
    await db.load([
      ['M', 'M1', '2024-01-15', 10, null],
      ['M', 'M2', '2024-01-20', 10, null],
      ['M', 'M4', '2024-03-05', 10, null],
      ['M', 'M3', '2024-03-31', 10, null],
      ['N', 'N1', '2023-12-31', 10, null],
      ['N', 'N2', '2024-02-10', -3, null],
    ]);
    try {
      expect(await histories('2024-03-31', 'month')).toEqual([
        { customer_id: 'M', x: 1, t_x: 2, n: 2, partial_period_purchase: false },
        { customer_id: 'N', x: 0, t_x: 0, n: 3, partial_period_purchase: false },
      ]);
      expect(await histories('2024-03-15', 'month')).toEqual([
        // March 5 is in March, which is not over on the 15th.
        { customer_id: 'M', x: 0, t_x: 0, n: 1, partial_period_purchase: true },
        { customer_id: 'N', x: 0, t_x: 0, n: 2, partial_period_purchase: false },
      ]);
      expect(await histories('2024-02-29', 'month')).toEqual([
        { customer_id: 'M', x: 0, t_x: 0, n: 1, partial_period_purchase: false },
        { customer_id: 'N', x: 0, t_x: 0, n: 2, partial_period_purchase: false },
      ]);
    } finally {
      await db.load(LINES);
    }
  });
});
