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

export interface ValueTierRule {
  name: string;
  /** Customers ranked by predicted lifetime value: this tier takes them up to this cumulative share. */
  top_share?: number;
  /** Or: customers whose CLV is at least this amount. The last tier takes everyone left. */
  min_clv?: number;
}

/**
 * The least value of each tier but the last. By share: a customer is within the top share s
 * when fewer than s·N customers have strictly more value, i.e. when its value is at least
 * v_k, the k-th largest value with k = ⌈s·N⌉ (so tied customers share a tier).
 *
 * All v_k come from one discrete-quantile pass (a selection, not a sort of every customer):
 * quantile_disc(v, q) is the value at ascending position ⌈q·n⌉ (1-based) among the n non-NULL
 * values, so q = (n − k + ½)/n lands on position n − k + 1, the k-th largest, with half a
 * position to spare for rounding. NULL values (none in practice) rank last, as they would in a
 * descending sort.
 */
export async function valueTierCuts(store: Store, relation: string, value: string, tiers: ValueTierRule[]): Promise<number[]> {
  const body = tiers.slice(0, -1);
  if (body.every((t) => t.min_clv !== undefined)) return body.map((t) => t.min_clv!);
  // The values once, in a narrow temp table: counted, then selected from.
  await store.run(`CREATE OR REPLACE TEMP TABLE tier_values AS SELECT ${value} AS v FROM ${relation}`);
  try {
    const counts = await store.one<{ n: number; valued: number }>('SELECT count(*) AS n, count(v) AS valued FROM temp.tier_values');
    const { n, valued } = counts ?? { n: 0, valued: 0 };
    if (valued === 0) return body.map(() => Infinity);
    const fractions = body.map((t) => {
      const k = Math.min(valued, Math.max(1, Math.ceil(t.top_share! * n - 1e-9)));
      return (valued - k + 0.5) / valued;
    });
    const cuts = await store.value<number[]>(`SELECT quantile_disc(v, [${fractions.map(sqlNumber).join(', ')}]) FROM temp.tier_values`);
    return cuts!.map(Number);
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
