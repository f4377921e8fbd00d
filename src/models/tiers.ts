/**
 * Value tiers (default Platinum / Gold / Silver / Bronze) from predicted lifetime value.
 *
 * By share (default): customers ranked by value, largest first; a customer's position is the
 * share of customers with strictly more value, so tied customers share a tier. The first tier
 * whose `top_share` exceeds the position is the customer's (Platinum: top 5 %, Gold: to 20 %,
 * Silver: to 50 %, Bronze: the rest). By amount: the first tier whose `min_clv` the value
 * reaches. When the models fall back (no CLV), the same rules apply to net revenue and the
 * run says so (`value_basis`). A value ≤ 0 always falls to the last tier. The tiers themselves
 * are assigned in SQL (models/relations/value-tiers.ts).
 */
import { DOUBLE, LIST, listValue } from '../store/duckdb.js';
import type { ParamTypes, Params, Store } from '../store/db.js';

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
export async function valueTierCuts(
  store: Store,
  relation: string,
  value: string,
  tiers: ValueTierRule[],
  bound: { values: Params; types: ParamTypes } = { values: {}, types: {} },
): Promise<number[]> {
  const body = tiers.slice(0, -1);
  if (body.every((t) => t.min_clv !== undefined)) return body.map((t) => t.min_clv!);
  // The values once, in a narrow temp table: counted, then selected from. `relation` may be a
  // parenthesised query with parameters (`bound`): only the value column is computed.
  await store.run(`CREATE OR REPLACE TEMP TABLE tier_values AS SELECT ${value} AS v FROM ${relation}`, bound.values, bound.types);
  try {
    const counts = await store.one<{ n: number; valued: number }>('SELECT count(*) AS n, count(v) AS valued FROM temp.tier_values');
    const { n, valued } = counts ?? { n: 0, valued: 0 };
    if (valued === 0) return body.map(() => Infinity);
    const fractions = body.map((t) => {
      const k = Math.min(valued, Math.max(1, Math.ceil(t.top_share! * n - 1e-9)));
      return (valued - k + 0.5) / valued;
    });
    const cuts = await store.one<{ cuts: number[] }>('SELECT quantile_disc(v, $fractions) AS cuts FROM temp.tier_values', { fractions: listValue(fractions) }, { fractions: LIST(DOUBLE) });
    return cuts!.cuts.map(Number);
  } finally {
    await store.run('DROP TABLE IF EXISTS temp.tier_values');
  }
}
