/**
 * Predictions per distinct purchase history (x, t_x, T): churn risk, P(alive), and with a fitted
 * BG/NBD the expected purchases over the horizon, their discounted sum (for CLV) and the
 * probability of no purchase; plus the churn tier. Customers with the same history get the same
 * predictions, so they are made once per history (~4× fewer rows than customers on the bench)
 * and joined back on run_base.history_key.
 *
 * Two sources, one rule for the tier:
 * - fitted (`PREDICTIONS`): the purchase model's numbers per history ($churn_method names it:
 *   bgnbd, pareto_nbd or mbgnbd, models/purchase-models.ts), written by the run into
 *   temp.run_predictions_raw (x, t_x_days, T_days, p_alive, p_no_purchase, expected_purchases,
 *   discounted_purchases, and the intervals' expected_purchases_low/high and discounted_log_sd —
 *   NULL without them, models/intervals.ts) — the maths is in TypeScript (models/bgnbd*.ts, clv.ts);
 *   a BG/BB run (--model bgbb) writes its period histories (x, t_x, n in periods) in the same
 *   three fields, and keys run_base by them (period-histories.ts period_key);
 * - recency fallback (`RECENCY_PREDICTIONS`, when the models cannot be fitted): churn risk is the
 *   percent rank of recency_days among all scored customers (models/churn.ts). Recency is
 *   T − t_x, a function of the history, so this too is one row per history: the rank is counted
 *   over customers (weights), exactly as percent_rank() over every customer would.
 *
 * Churn tier (the one home of the rule): high when the tier's risk ≥ $high, medium when ≥
 * $medium, else low. The tier's risk is churn_risk, or p_no_purchase when $tier_basis is
 * 'p_no_purchase' (fitted runs only: the fallback has no such probability).
 */
import type { Relation } from '../relation.js';
import { historyKey } from './histories.js';
import { CHURN_METHOD_TYPE, CHURN_TIER_TYPE } from './vocabularies.js';

/** The history key is run_base.history_key's own expression (histories.ts: historyKey). */
const TIERED = `
SELECT history_key,
       p_alive,
       churn_risk,
       p_no_purchase,
       expected_purchases,
       discounted_purchases,
       expected_purchases_low,
       expected_purchases_high,
       discounted_log_sd,
       -- Typed as the store's column (vocabularies.ts): cast once per history, not per customer.
       CAST(CASE WHEN tier_risk >= CAST($high AS DOUBLE) THEN 'high'
                 WHEN tier_risk >= CAST($medium AS DOUBLE) THEN 'medium'
                 ELSE 'low' END AS ${CHURN_TIER_TYPE}) AS churn_tier,
       churn_basis,
       CAST(churn_method AS ${CHURN_METHOD_TYPE}) AS churn_method
FROM risks`;

export const PREDICTIONS: Relation<'tier_basis' | 'high' | 'medium' | 'churn_method'> = {
  name: 'temp.run_predictions',
  grain: 'one row per distinct purchase history (x, t_x, T)',
  sql: `
WITH histories AS (
  SELECT CAST(x AS BIGINT) AS x, CAST(t_x_days AS BIGINT) AS t_x_days, CAST(T_days AS BIGINT) AS T_days,
         p_alive, p_no_purchase, expected_purchases, discounted_purchases,
         expected_purchases_low, expected_purchases_high, discounted_log_sd
  FROM temp.run_predictions_raw
),
risks AS (
  SELECT ${historyKey('x', 't_x_days', 'T_days')} AS history_key,
         p_alive,
         1 - p_alive AS churn_risk,
         p_no_purchase,
         expected_purchases,
         discounted_purchases,
         expected_purchases_low,
         expected_purchases_high,
         discounted_log_sd,
         CASE WHEN $tier_basis = 'p_no_purchase' THEN p_no_purchase ELSE 1 - p_alive END AS tier_risk,
         -- What the tier was cut from (the customer_metrics view words the at-risk reason with it).
         CASE WHEN $tier_basis = 'p_no_purchase' THEN 'p_no_purchase' ELSE 'churn_risk' END AS churn_basis,
         CAST($churn_method AS VARCHAR) AS churn_method
  FROM histories
)${TIERED}`,
  params: ['tier_basis', 'high', 'medium', 'churn_method'],
};

export const RECENCY_PREDICTIONS: Relation<'high' | 'medium'> = {
  name: 'temp.run_predictions',
  grain: 'one row per distinct purchase history (x, t_x, T)',
  sql: `
WITH histories AS (
  SELECT history_key, any_value(recency_days) AS recency_days, count(*) AS customers
  FROM temp.run_base
  GROUP BY history_key
),
recencies AS (
  SELECT recency_days, sum(customers) AS customers FROM histories GROUP BY recency_days
),
ranked AS (
  -- percent_rank over customers: (customers who bought more recently) / (customers − 1), 0 for one customer.
  SELECT recency_days,
         sum(customers) OVER (ORDER BY recency_days ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - customers AS more_recent,
         sum(customers) OVER () AS scored
  FROM recencies
),
recency_risks AS (
  SELECT recency_days,
         CASE WHEN scored > 1 THEN CAST(more_recent AS DOUBLE) / CAST(scored - 1 AS DOUBLE) ELSE 0 END AS recency_risk
  FROM ranked
),
risks AS (
  SELECT h.history_key,
         1 - r.recency_risk AS p_alive,
         r.recency_risk AS churn_risk,
         NULL::DOUBLE AS p_no_purchase,
         NULL::DOUBLE AS expected_purchases,
         NULL::DOUBLE AS discounted_purchases,
         NULL::DOUBLE AS expected_purchases_low,
         NULL::DOUBLE AS expected_purchases_high,
         NULL::DOUBLE AS discounted_log_sd,
         r.recency_risk AS tier_risk,
         'recency' AS churn_basis,
         'recency' AS churn_method
  FROM histories h JOIN recency_risks r USING (recency_days)
)${TIERED}`,
  params: ['high', 'medium'],
};
