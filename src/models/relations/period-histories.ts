/**
 * Period histories for the BG/BB (models/bgbb.ts; crm run --model bgbb): a customer's purchases
 * counted in whole periods (months or years, $period_unit) from the customer's first period.
 *
 * Rules (defined here, once):
 * - A period is a calendar month or year; its number is year·12 + month − 1 (months) or the year.
 * - The customer's first period holds the first purchase (opportunity 0; more purchases in it
 *   count for nothing). Opportunities 1, 2, … are the periods after it.
 * - Only whole periods are opportunities: the as-of period counts when as-of is its last day,
 *   else the last whole period is the one before it. n = the number of whole periods after the
 *   first period (0 when the first period is the as-of period, whole or not).
 * - x = the number of opportunities 1…n with a purchase; t_x = the opportunity of the last one
 *   (0 when x = 0). A period with only returns has no purchase: it is not counted.
 * - A purchase in a partial as-of period is not an observed opportunity (the period is not
 *   over): it is not in x, and `partial_period_purchase` says so (the run counts those
 *   customers). A customer whose first purchase is in that period has n = 0 and no such flag.
 * The customers are those with a purchase on or before as-of (run_purchase_days reads up to
 * as-of): the customers of run_base. `period_key` is the history as one BIGINT (histories.ts
 * historyKey over (x, t_x, n)), which the run joins its per-history predictions on.
 */
import type { Relation } from '../relation.js';
import { historyKey } from './histories.js';

export type PeriodHistoryParam = 'as_of' | 'period_unit';

export const periodHistories: Relation<PeriodHistoryParam> = {
  name: 'run_period_histories',
  grain: 'one row per customer with a purchase on or before as-of',
  params: ['as_of', 'period_unit'],
  sql: `
WITH settings AS (
  SELECT CAST($as_of AS DATE) AS as_of,
         CAST($period_unit AS VARCHAR) = 'month' AS monthly
),
as_of_period AS (
  -- The as-of period's number, and the last whole period's: the as-of period itself when
  -- as-of is its last day (the next day opens another period).
  SELECT monthly,
         CASE WHEN monthly THEN year(as_of) * 12 + month(as_of) - 1 ELSE year(as_of) END AS as_of_number,
         CASE WHEN monthly THEN year(as_of + 1) * 12 + month(as_of + 1) - 1 ELSE year(as_of + 1) END AS next_day_number
  FROM settings
),
bounds AS (
  SELECT monthly, as_of_number,
         CASE WHEN next_day_number > as_of_number THEN as_of_number ELSE as_of_number - 1 END AS last_whole
  FROM as_of_period
),
purchase_periods AS (
  -- One row per customer and period with a purchase (return days are not purchases).
  SELECT DISTINCT d.customer_id,
         CASE WHEN b.monthly THEN year(d.order_date) * 12 + month(d.order_date) - 1 ELSE year(d.order_date) END AS period_number
  FROM run_purchase_days d CROSS JOIN bounds b
  WHERE NOT d.is_return
),
customer_periods AS (
  SELECT p.customer_id,
         min(p.period_number) AS first_period,
         -- Opportunities: whole periods after the first.
         count(*) FILTER (WHERE p.period_number <= b.last_whole) - 1 AS purchase_opportunities,
         max(p.period_number) FILTER (WHERE p.period_number <= b.last_whole) AS last_observed,
         -- A purchase period after the last whole one (the as-of period) that is not the first period.
         max(p.period_number) > b.last_whole AND max(p.period_number) > min(p.period_number) AS partial_period_purchase,
         b.last_whole
  FROM purchase_periods p CROSS JOIN bounds b
  GROUP BY p.customer_id, b.last_whole
),
histories AS (
  -- A first period after the last whole one (the partial as-of period): nothing observed yet.
  SELECT customer_id,
         CAST(greatest(coalesce(purchase_opportunities, -1), 0) AS INTEGER) AS x,
         CAST(CASE WHEN purchase_opportunities > 0 THEN last_observed - first_period ELSE 0 END AS INTEGER) AS t_x,
         CAST(greatest(last_whole - first_period, 0) AS INTEGER) AS n,
         partial_period_purchase
  FROM customer_periods
)
SELECT customer_id, x, t_x, n, partial_period_purchase,
       ${historyKey('x', 't_x', 'n')} AS period_key
FROM histories`,
};

/** The distinct period histories (x, t_x, n) with how many customers share each: what the BG/BB is fitted on. */
export const periodHistoryCounts: Relation = {
  name: 'run_period_history_counts',
  grain: 'one row per distinct period history (x, t_x, n)',
  params: [],
  sql: `
WITH customer_histories AS (
  SELECT x, t_x, n FROM run_period_histories
)
SELECT x, t_x, n, count(*) AS customers
FROM customer_histories
GROUP BY x, t_x, n
ORDER BY x, t_x, n`,
};
