/**
 * The 80/20 levels (relations/revenue-levels.ts) on a hand-made base. Net revenue per customer
 * (positive total exactly 1000):
 *
 *   K1 570 | K2 K3 K4 120 each | K5 20 | K6 K7 15 each | K8 K9 10 each | N1 0 | N2 −30
 *
 * before = share of revenue of customers with strictly more: K1 0 → A; K2–K4 0.57 → A (tied:
 * never broken by id); K5 0.93 → B; K6, K7 0.95 → C (B needs before < 0.95 exactly); K8, K9
 * 0.98 → C; N1, N2 (≤ 0) have no level (class C when joined).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revenueLevels } from '../../../src/models/relations/revenue-levels.js';
import { chainDb, type ChainDb } from './chain-db.js';

const NET: [string, number][] = [
  ['K1', 570], ['K2', 120], ['K3', 120], ['K4', 120], ['K5', 20], ['K6', 15], ['K7', 15], ['K8', 10], ['K9', 10], ['N1', 0], ['N2', -30],
];

interface Level {
  net_revenue: number;
  revenue_rank: number;
  cumulative_share: number;
  positive_total: number;
  abc_class: string;
}

let db: ChainDb;
beforeAll(async () => {
  db = await chainDb();
  await db.conn.run('CREATE TEMP TABLE run_base (customer_id VARCHAR, pareto_revenue DECIMAL(18, 4))');
  for (const [id, net] of NET) await db.conn.run('INSERT INTO run_base VALUES ($1, $2)', [id, net]);
});
afterAll(() => db.close());

describe('80/20 revenue levels', () => {
  it('one row per distinct positive revenue: ties share a level and a rank; ≤ 0 has none', async () => {
    const levels = await db.select<'share' | 'b_share', Level>(revenueLevels, { share: 0.8, b_share: 0.95 });
    const rows = levels.map((l) => ({ ...l, cumulative_share: Math.round(l.cumulative_share * 1e9) / 1e9 })).sort((x, y) => y.net_revenue - x.net_revenue);
    expect(rows).toEqual([
      { net_revenue: 570, revenue_rank: 1, cumulative_share: 0.57, positive_total: 1000, abc_class: 'A' },
      { net_revenue: 120, revenue_rank: 2, cumulative_share: 0.93, positive_total: 1000, abc_class: 'A' },
      { net_revenue: 20, revenue_rank: 5, cumulative_share: 0.95, positive_total: 1000, abc_class: 'B' },
      { net_revenue: 15, revenue_rank: 6, cumulative_share: 0.98, positive_total: 1000, abc_class: 'C' },
      { net_revenue: 10, revenue_rank: 8, cumulative_share: 1, positive_total: 1000, abc_class: 'C' },
    ]);
  });

  it('$share is bound, not built in: at 0.5 only K1 is a key account, and K2–K4 stay together in B', async () => {
    const rows = await db.select<'share' | 'b_share', { net_revenue: number; abc_class: string }>(revenueLevels, { share: 0.5, b_share: 0.95 });
    expect(rows.sort((a, b) => b.net_revenue - a.net_revenue).map((r) => [r.net_revenue, r.abc_class])).toEqual([
      [570, 'A'], [120, 'B'], [20, 'B'], [15, 'C'], [10, 'C'],
    ]);
  });

  it('at share 0.57 exactly, K1 alone reaches it: K2–K4 (before = 0.57) are not key accounts', async () => {
    const rows = await db.select<'share' | 'b_share', { net_revenue: number; abc_class: string }>(revenueLevels, { share: 0.57, b_share: 0.57 });
    expect(rows.filter((r) => r.abc_class === 'A').map((r) => r.net_revenue)).toEqual([570]);
  });
});
