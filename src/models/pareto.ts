/**
 * 80/20: the Pareto curve of customers' net revenue, key accounts and ABC classes.
 *
 * Net revenue per customer over a window (all history up to the as-of date, or from --since).
 * Only customers with net revenue > 0 can be key accounts, and shares are of the sum of
 * positive net revenue (a customer who returned more than they bought does not shrink the
 * total the others are measured against).
 *
 * Customers are ranked by net revenue, largest first. For customer i let before_i be the share
 * of revenue of all customers with strictly more revenue. Then
 *   A (key account)  when before_i < share        (default 0.8)
 *   B                when before_i < b_share      (default 0.95)
 *   C                otherwise, and every customer with net revenue ≤ 0.
 * This is the smallest set reaching the share, except that customers tied with the last key
 * account are key accounts too: a tie is never broken arbitrarily (e.g. by id).
 *
 * Trend: revenue in the window ending at as-of versus the window of equal length before it
 * (the --since window, else `trend_window_days`).
 *
 * Sums stay DECIMAL (exact, so independent of the order parallel threads add them in) and
 * become DOUBLE only in the final ratios: reruns give bit-identical shares.
 */
import { literal, sqlNumber } from '../store/db.js';

export interface ParetoSettings {
  asOf: string;
  since: string | null;
  share: number;
  bShare: number;
  trendWindowDays: number;
}

/**
 * The window sums, as aggregate expressions over transactions (or order-level sums) grouped by
 * customer — computed in the same pass as the customer base, so the revenue is read once:
 * pareto_revenue (the 80/20 window), trend_current and trend_previous (DECIMAL, exact).
 */
export function paretoWindowSums(s: Pick<ParetoSettings, 'asOf' | 'since' | 'trendWindowDays'>): string {
  const asOf = `DATE ${literal(s.asOf)}`;
  const windowStart = s.since ? `DATE ${literal(s.since)}` : null;
  const trendDays = s.since ? `(date_diff('day', DATE ${literal(s.since)}, ${asOf}) + 1)` : String(s.trendWindowDays);
  return `coalesce(sum(amount) ${windowStart ? `FILTER (WHERE order_date >= ${windowStart})` : ''}, 0) AS pareto_revenue,
         coalesce(sum(amount) FILTER (WHERE order_date > ${asOf} - ${trendDays}), 0) AS trend_current,
         coalesce(sum(amount) FILTER (WHERE order_date <= ${asOf} - ${trendDays} AND order_date > ${asOf} - 2 * ${trendDays}), 0) AS trend_previous`;
}

/**
 * SQL: per customer of `base` (with pareto_revenue, trend_current, trend_previous from
 * paretoWindowSums) — rank, shares, class and trend.
 */
export function paretoSql(base: string, s: Pick<ParetoSettings, 'share' | 'bShare'>): string {
  return `
WITH customers_in_run AS (
  SELECT customer_id,
         pareto_revenue AS net_revenue,
         trend_current AS revenue_current,
         trend_previous AS revenue_previous
  FROM ${base}
),
positive_total AS (
  SELECT sum(net_revenue) AS total FROM customers_in_run WHERE net_revenue > 0
),
ranked AS (
  SELECT customer_id,
         rank() OVER by_revenue AS revenue_rank,
         -- RANGE frames include every customer tied with the current one.
         sum(net_revenue) OVER (by_revenue RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative_revenue,
         sum(net_revenue) OVER (PARTITION BY net_revenue) AS tied_revenue
  FROM customers_in_run
  WHERE net_revenue > 0
  WINDOW by_revenue AS (ORDER BY net_revenue DESC)
)
SELECT c.customer_id,
       CAST(c.net_revenue AS DOUBLE) AS net_revenue,
       r.revenue_rank,
       CASE WHEN c.net_revenue > 0 THEN CAST(c.net_revenue AS DOUBLE) / CAST(t.total AS DOUBLE) ELSE 0 END AS revenue_share,
       CAST(r.cumulative_revenue AS DOUBLE) / CAST(t.total AS DOUBLE) AS cumulative_share,
       CASE
         WHEN c.net_revenue <= 0 THEN 'C'
         WHEN CAST(r.cumulative_revenue - r.tied_revenue AS DOUBLE) / CAST(t.total AS DOUBLE) < ${sqlNumber(s.share)} THEN 'A'
         WHEN CAST(r.cumulative_revenue - r.tied_revenue AS DOUBLE) / CAST(t.total AS DOUBLE) < ${sqlNumber(s.bShare)} THEN 'B'
         ELSE 'C'
       END AS abc_class,
       CAST(c.revenue_current AS DOUBLE) AS revenue_current,
       CAST(c.revenue_previous AS DOUBLE) AS revenue_previous,
       CASE WHEN c.revenue_previous > 0 THEN CAST(c.revenue_current AS DOUBLE) / CAST(c.revenue_previous AS DOUBLE) - 1 END AS revenue_trend
FROM customers_in_run c
CROSS JOIN positive_total t
LEFT JOIN ranked r USING (customer_id)`;
}
