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
 * The two revenue windows as SQL conditions on `order_date`: `pareto` is the 80/20 window (null
 * when it is all history up to as-of: every row counts), `current` and `previous` the trend
 * windows of equal length ending at as-of and before it. The caller sums its money column under
 * these FILTERs in the same pass as the customer base, so the revenue is read once.
 */
export function paretoWindows(s: Pick<ParetoSettings, 'asOf' | 'since' | 'trendWindowDays'>): { pareto: string | null; current: string; previous: string } {
  const asOf = `DATE ${literal(s.asOf)}`;
  // DATE − INTEGER is a date; date_diff gives a BIGINT, which DuckDB cannot subtract from one.
  const trendDays = s.since ? `CAST(date_diff('day', DATE ${literal(s.since)}, ${asOf}) + 1 AS INTEGER)` : String(s.trendWindowDays);
  return {
    pareto: s.since ? `order_date >= DATE ${literal(s.since)}` : null,
    current: `order_date > ${asOf} - ${trendDays}`,
    previous: `order_date <= ${asOf} - ${trendDays} AND order_date > ${asOf} - 2 * ${trendDays}`,
  };
}

/**
 * SQL: one row per distinct positive net revenue among the customers of `base` (which has
 * pareto_revenue, summed over the paretoWindows), largest first, with
 *   revenue_rank        1 + customers with strictly more revenue (rank(): ties share it)
 *   cumulative_revenue  revenue of every customer with at least this much (ties included)
 *   abc_class           from before = cumulative − this level's revenue, i.e. strictly more
 * Customers tied on revenue get identical rows, so ranking the distinct levels (far fewer than
 * customers: amounts repeat) instead of every customer gives the same result for less work;
 * each customer then finds its level by an equi-join on the exact DECIMAL revenue.
 */
export function paretoLevelsSql(base: string, s: Pick<ParetoSettings, 'share' | 'bShare'>): string {
  return `
WITH levels AS (
  SELECT pareto_revenue AS net_revenue, count(*) AS customers, sum(pareto_revenue) AS level_revenue
  FROM ${base}
  WHERE pareto_revenue > 0
  GROUP BY pareto_revenue
),
cumulated AS (
  SELECT net_revenue,
         CAST(sum(customers) OVER by_revenue - customers + 1 AS BIGINT) AS revenue_rank,
         sum(level_revenue) OVER by_revenue AS cumulative_revenue,
         level_revenue,
         sum(level_revenue) OVER () AS positive_total
  FROM levels
  WINDOW by_revenue AS (ORDER BY net_revenue DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT net_revenue,
       revenue_rank,
       CAST(cumulative_revenue AS DOUBLE) / CAST(positive_total AS DOUBLE) AS cumulative_share,
       CAST(positive_total AS DOUBLE) AS positive_total,
       CASE
         WHEN CAST(cumulative_revenue - level_revenue AS DOUBLE) / CAST(positive_total AS DOUBLE) < ${sqlNumber(s.share)} THEN 'A'
         WHEN CAST(cumulative_revenue - level_revenue AS DOUBLE) / CAST(positive_total AS DOUBLE) < ${sqlNumber(s.bShare)} THEN 'B'
         ELSE 'C'
       END AS abc_class
FROM cumulated`;
}

/**
 * Select expressions of the per-customer 80/20 columns, for a row of the base (alias `b`, with
 * pareto_revenue, trend_current, trend_previous) left-joined to its level (alias `pl`, from
 * paretoLevelsSql ON pl.net_revenue = b.pareto_revenue). Customers with net revenue ≤ 0 have
 * no level: no rank, share 0, class C.
 */
export function paretoColumns(b = 'b', pl = 'pl'): string {
  return `CAST(${b}.pareto_revenue AS DOUBLE) AS net_revenue,
         CAST(${pl}.revenue_rank AS INTEGER) AS revenue_rank,
         CASE WHEN ${b}.pareto_revenue > 0 THEN CAST(${b}.pareto_revenue AS DOUBLE) / ${pl}.positive_total ELSE 0 END AS revenue_share,
         ${pl}.cumulative_share,
         coalesce(${pl}.abc_class, 'C') AS abc_class,
         CAST(${b}.trend_current AS DOUBLE) AS revenue_current,
         CAST(${b}.trend_previous AS DOUBLE) AS revenue_previous,
         CASE WHEN ${b}.trend_previous > 0 THEN CAST(${b}.trend_current AS DOUBLE) / CAST(${b}.trend_previous AS DOUBLE) - 1 END AS revenue_trend`;
}
