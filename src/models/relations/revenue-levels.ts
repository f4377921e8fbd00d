/**
 * 80/20: the Pareto curve of customers' net revenue, key accounts and ABC classes — the rule's
 * one home (the run's abc_class, and `crm keyaccounts --share X`, which binds its own share).
 *
 * Net revenue per customer over the 80/20 window (all history up to as-of, or from --since):
 * `pareto_revenue` of run_base. Only customers with net revenue > 0 can be key accounts, and
 * shares are of the sum of positive net revenue (a customer who returned more than they bought
 * does not shrink the total the others are measured against).
 *
 * Customers are ranked by net revenue, largest first. For customer i let before_i be the share of
 * revenue of all customers with strictly more revenue. Then
 *   A (key account)  when before_i < $share      (default 0.8)
 *   B                when before_i < $b_share    (default 0.95)
 *   C                otherwise, and every customer with net revenue ≤ 0 (who has no level).
 * This is the smallest set reaching the share, except that customers tied with the last key
 * account are key accounts too: a tie is never broken arbitrarily (e.g. by id).
 *
 * Customers tied on revenue get identical rows, so the distinct revenue levels (far fewer than
 * customers: amounts repeat) are ranked instead of every customer; each customer finds its level
 * by an equi-join on the exact DECIMAL revenue. Sums stay DECIMAL (exact, so independent of the
 * order parallel threads add them in) and become DOUBLE only in the final ratios: reruns give
 * bit-identical shares.
 */
import type { Relation } from '../relation.js';

export const revenueLevels: Relation<'share' | 'b_share'> = {
  name: 'run_pareto_levels',
  grain: 'one row per distinct positive net revenue among the customers',
  params: ['share', 'b_share'],
  sql: `
WITH levels AS (
  SELECT pareto_revenue AS net_revenue, count(*) AS customers, sum(pareto_revenue) AS level_revenue
  FROM run_base
  WHERE pareto_revenue > 0
  GROUP BY pareto_revenue
),
cumulated AS (
  -- revenue_rank: 1 + customers with strictly more revenue (ties share it);
  -- cumulative_revenue: revenue of every customer with at least this much (ties included).
  SELECT net_revenue,
         CAST(sum(customers) OVER by_revenue - customers + 1 AS BIGINT) AS revenue_rank,
         sum(level_revenue) OVER by_revenue AS cumulative_revenue,
         level_revenue,
         sum(level_revenue) OVER () AS positive_total
  FROM levels
  WINDOW by_revenue AS (ORDER BY net_revenue DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
shares AS (
  SELECT net_revenue, revenue_rank,
         CAST(cumulative_revenue AS DOUBLE) / CAST(positive_total AS DOUBLE) AS cumulative_share,
         -- The share of revenue of the customers with strictly more revenue.
         CAST(cumulative_revenue - level_revenue AS DOUBLE) / CAST(positive_total AS DOUBLE) AS share_before,
         CAST(positive_total AS DOUBLE) AS positive_total
  FROM cumulated
)
SELECT net_revenue,
       revenue_rank,
       cumulative_share,
       positive_total,
       CASE
         WHEN share_before < $share THEN 'A'
         WHEN share_before < $b_share THEN 'B'
         ELSE 'C'
       END AS abc_class
FROM shares`,
};
