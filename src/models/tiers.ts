/**
 * Value tiers (default Platinum / Gold / Silver / Bronze) from predicted lifetime value.
 *
 * By share (default): customers ranked by value, largest first; a customer's position is the
 * share of customers with strictly more value, so tied customers share a tier. The first tier
 * whose `top_share` exceeds the position is the customer's (Platinum: top 5 %, Gold: to 20 %,
 * Silver: to 50 %, Bronze: the rest). By amount: the first tier whose `min_clv` the value
 * reaches. When the models fall back (no CLV), the same rules apply to net revenue and the
 * run says so (`value_basis`).
 */
import { literal, sqlNumber } from '../store/db.js';
import type { ValueTierRule } from '../run/settings.js';

/** SQL CASE over `value` (and `position`, the share of customers ranked above). */
export function valueTierSql(value: string, position: string, tiers: ValueTierRule[]): string {
  const last = tiers[tiers.length - 1];
  const body = tiers.slice(0, -1);
  const whens = body
    .map((t) =>
      t.top_share !== undefined
        ? `WHEN ${position} < ${sqlNumber(t.top_share)} THEN ${literal(t.name)}`
        : `WHEN ${value} >= ${sqlNumber(t.min_clv!)} THEN ${literal(t.name)}`,
    )
    .join(' ');
  return body.length ? `CASE ${whens} ELSE ${literal(last.name)} END` : literal(last.name);
}

/** Position of a customer: share of customers with strictly more `value` (ties share it). */
export function positionSql(value: string): string {
  return `(rank() OVER (ORDER BY ${value} DESC) - 1) / count(*) OVER ()`;
}
