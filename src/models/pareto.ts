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
 */
import { literal } from '../store/db.js';

export interface ParetoSettings {
  asOf: string;
  since: string | null;
  share: number;
  bShare: number;
  trendWindowDays: number;
}

/** SQL: per customer of `base` — window revenue, rank, shares, class, trend windows. */
export function paretoSql(base: string, s: ParetoSettings): string {
  const asOf = `DATE ${literal(s.asOf)}`;
  const windowStart = s.since ? `DATE ${literal(s.since)}` : null;
  const trendDays = s.since ? `date_diff('day', DATE ${literal(s.since)}, ${asOf}) + 1` : String(s.trendWindowDays);
  return `
WITH window_revenue AS (
  SELECT customer_id,
         sum(amount) ${windowStart ? `FILTER (WHERE order_date >= ${windowStart})` : ''} AS net_revenue,
         sum(amount) FILTER (WHERE order_date > ${asOf} - (${trendDays})::INTEGER) AS revenue_current,
         sum(amount) FILTER (WHERE order_date <= ${asOf} - (${trendDays})::INTEGER
                               AND order_date > ${asOf} - 2 * (${trendDays})::INTEGER) AS revenue_previous
  FROM transactions
  WHERE order_date <= ${asOf}
  GROUP BY customer_id
),
-- Revenue stays DECIMAL (exact) through the sums below: a DOUBLE sum depends on the order
-- DuckDB's threads add the rows in, so shares — and a class right at a boundary — could change
-- between two runs of the same data. Shares divide two exact sums (one rounding).
customers_in_run AS (
  SELECT b.customer_id,
         coalesce(w.net_revenue, 0) AS revenue,
         CAST(coalesce(w.revenue_current, 0) AS DOUBLE) AS revenue_current,
         CAST(coalesce(w.revenue_previous, 0) AS DOUBLE) AS revenue_previous
  FROM ${base} b LEFT JOIN window_revenue w USING (customer_id)
),
positive_total AS (
  SELECT sum(revenue) AS total FROM customers_in_run WHERE revenue > 0
),
ranked AS (
  SELECT customer_id,
         rank() OVER by_revenue AS revenue_rank,
         -- RANGE frames include every customer tied with the current one.
         sum(revenue) OVER (by_revenue RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative_revenue,
         sum(revenue) OVER (PARTITION BY revenue) AS tied_revenue
  FROM customers_in_run
  WHERE revenue > 0
  WINDOW by_revenue AS (ORDER BY revenue DESC)
)
SELECT c.customer_id,
       CAST(c.revenue AS DOUBLE) AS net_revenue,
       r.revenue_rank,
       CASE WHEN c.revenue > 0 THEN c.revenue / t.total ELSE 0 END AS revenue_share,
       r.cumulative_revenue / t.total AS cumulative_share,
       CASE
         WHEN c.revenue <= 0 THEN 'C'
         WHEN (r.cumulative_revenue - r.tied_revenue) / t.total < ${s.share} THEN 'A'
         WHEN (r.cumulative_revenue - r.tied_revenue) / t.total < ${s.bShare} THEN 'B'
         ELSE 'C'
       END AS abc_class,
       c.revenue_current,
       c.revenue_previous,
       CASE WHEN c.revenue_previous > 0 THEN c.revenue_current / c.revenue_previous - 1 END AS revenue_trend
FROM customers_in_run c
CROSS JOIN positive_total t
LEFT JOIN ranked r USING (customer_id)`;
}
