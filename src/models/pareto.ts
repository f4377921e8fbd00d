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
 * (the --since window, else `trend_window_days`) — only when the data covers the whole of both
 * windows (`trendWindowsSql`); otherwise the previous revenue and the trend are NULL ("not enough
 * history"), never a ratio of a full window to a sliver of one.
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

/** The trend windows of a run (a row of trendWindowsSql): `days` long, the current one ending at as-of. */
// A type (not an interface) so that it is a store row.
export type TrendWindows = {
  days: number;
  /** First day of the current window (it ends at as-of, inclusive). */
  current_start: string;
  /** First day of the previous window (it ends the day before current_start). */
  previous_start: string;
  /** The first transaction date of the data the run reads. */
  data_start: string | null;
  /** Whether the data covers both windows whole. */
  comparable: boolean;
};

/**
 * SQL: the trend windows of a run as one row (days, current_start, previous_start, data_start,
 * comparable), dates as ISO text. `data_start` is the first transaction date of the data the run
 * reads (all transactions of the loads in the store, up to as-of).
 *
 * "The data covers a period" is defined here and only here: its first transaction date is on or
 * before the period's first day. It decides every period comparison: the run's trend columns
 * (revenue_previous, revenue_trend), hence the key accounts' "revenue down" flag, and the
 * report's revenue-against-the-period-before figure, which reads those columns. A window the
 * data only partly covers would compare a full period with a sliver of one (a store whose data
 * started 9 days before the current window showed "+2,539.9 %"). Date arithmetic is DuckDB's,
 * so any date the store holds works.
 */
export function trendWindowsSql(s: Pick<ParetoSettings, 'asOf' | 'since' | 'trendWindowDays'>): string {
  const asOf = `DATE ${literal(s.asOf)}`;
  const days = s.since ? `CAST(date_diff('day', DATE ${literal(s.since)}, ${asOf}) + 1 AS INTEGER)` : String(Math.trunc(s.trendWindowDays));
  return `
WITH w AS (
  SELECT ${days} AS days,
         (SELECT min(order_date) FROM transactions WHERE order_date <= ${asOf}) AS data_start
),
d AS (SELECT days, data_start, ${asOf} - (days - 1) AS current_start, ${asOf} - (2 * days - 1) AS previous_start FROM w)
SELECT days,
       CAST(current_start AS VARCHAR) AS current_start,
       CAST(previous_start AS VARCHAR) AS previous_start,
       CAST(data_start AS VARCHAR) AS data_start,
       coalesce(data_start <= previous_start, false) AS comparable
FROM d`;
}

/**
 * The revenue windows as SQL conditions on `order_date` (of rows up to as-of): `pareto` is the
 * 80/20 window (null when it is all history up to as-of: every row counts), `current` and
 * `previous` the trend windows; `previous` is null when the data does not cover both windows,
 * and the caller then sums nothing for it (NULL). The caller sums its money column under these
 * FILTERs in the same pass as the customer base, so the revenue is read once.
 */
export function paretoWindows(s: Pick<ParetoSettings, 'since'>, trend: TrendWindows): { pareto: string | null; current: string; previous: string | null } {
  return {
    pareto: s.since ? `order_date >= DATE ${literal(s.since)}` : null,
    current: `order_date >= DATE ${literal(trend.current_start)}`,
    previous: trend.comparable ? `order_date >= DATE ${literal(trend.previous_start)} AND order_date < DATE ${literal(trend.current_start)}` : null,
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
 * no level: no rank, share 0, class C. trend_previous is NULL when the data does not cover the
 * previous window: revenue_previous and revenue_trend are then NULL too.
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
