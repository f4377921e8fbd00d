/**
 * Value tiers (default Platinum / Gold / Silver / Bronze) from predicted lifetime value.
 *
 * By share (default): customers ranked by value, largest first; a customer's position is the
 * share of customers with strictly more value, so tied customers share a tier. The first tier
 * whose `top_share` exceeds the position is the customer's (Platinum: top 5 %, Gold: to 20 %,
 * Silver: to 50 %, Bronze: the rest). By amount: the first tier whose `min_clv` the value
 * reaches. When the models fall back (no CLV), the same rules apply to net revenue and the
 * run says so (`value_basis`). A value ≤ 0 always falls to the last tier.
 */
import { literal, sqlNumber, type Store } from '../store/db.js';
import type { ValueTierRule } from '../run/settings.js';

/**
 * The least value of each tier but the last. By share: a customer is within the top share s
 * when fewer than s·N customers have strictly more value, i.e. when its value is at least
 * v_k, the k-th largest value with k = ⌈s·N⌉ (so tied customers share a tier). One top-k
 * query per tier, instead of ranking every customer.
 */
export async function valueTierCuts(store: Store, relation: string, value: string, tiers: ValueTierRule[]): Promise<number[]> {
  const body = tiers.slice(0, -1);
  if (body.every((t) => t.min_clv !== undefined)) return body.map((t) => t.min_clv!);
  // The values once, in a narrow temp table: each top-k below then scans one column.
  await store.run(`CREATE OR REPLACE TEMP TABLE tier_values AS SELECT ${value} AS v FROM ${relation}`);
  try {
    const n = (await store.value<number>('SELECT count(*) FROM temp.tier_values')) ?? 0;
    const cuts: number[] = [];
    for (const t of body) {
      const k = Math.max(1, Math.ceil(t.top_share! * n - 1e-9));
      const v = await store.value<number | null>(`SELECT min(v) FROM (SELECT v FROM temp.tier_values ORDER BY v DESC LIMIT ${k})`);
      cuts.push(v ?? Infinity);
    }
    return cuts;
  } finally {
    await store.run('DROP TABLE IF EXISTS temp.tier_values');
  }
}

/** SQL CASE naming the tier of `value`, given the tiers' least values. */
export function valueTierSql(value: string, tiers: ValueTierRule[], cuts: number[]): string {
  const last = tiers[tiers.length - 1];
  const whens = cuts
    // A customer worth nothing (or less) is never in an upper tier, however many share that value.
    .map((c, i) => (Number.isFinite(c) ? `WHEN ${value} >= ${sqlNumber(c)} AND ${value} > 0 THEN ${literal(tiers[i].name)}` : ''))
    .join(' ');
  return whens.trim() ? `CASE ${whens} ELSE ${literal(last.name)} END` : literal(last.name);
}
