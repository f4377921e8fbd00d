/**
 * The backtest of a run (models/backtest.ts explains it): for every customer scored in run
 * $run_id, predicted repeat purchases in the holdout ($as_of, $holdout_end] against the days
 * they actually bought on, by calibration frequency; and the AUC of the risk scores for "no
 * purchase in the holdout".
 *
 * Predictions per history come from temp.run_holdout_predictions (x, t_x_days, T_days,
 * predicted; the BG/NBD's, written by the run), joined on run_base.history_key; without a fitted
 * model that table is empty and every prediction is 0.
 */
import type { Relation } from '../relation.js';
import { historyKey } from './histories.js';
import { historyOwner } from './merged-history.js';

const owner = historyOwner('t');

/**
 * CTE \`actuals\`: per customer, the days with a purchase in the holdout ($as_of, $holdout_end]
 * (the backtest's and --model auto's one definition of "actual").
 */
export const HOLDOUT_ACTUALS = `actuals AS (
  -- By the customer whose history the line is, as the run's orders (merged-history.ts).
  SELECT ${owner.customerId} AS customer_id, count(DISTINCT t.order_date) AS actual
  FROM transactions t ${owner.join}
  WHERE t.order_date > CAST($as_of AS DATE) AND t.order_date <= CAST($holdout_end AS DATE) AND NOT t.is_return
  GROUP BY 1
)`;

/**
 * The AUC (Mann–Whitney, ties one half) per score_name, over a CTE \`scores\` (score_name, score,
 * pos) that must precede it: one row per score_name with n_pos, n_neg and auc (NULL when one side
 * is empty). The one home of the formula (the backtest and --model auto use it).
 */
export const AUC_OVER_SCORES = `
ranked AS (
  SELECT score_name, pos,
         rank() OVER (PARTITION BY score_name ORDER BY score) AS low_rank,
         count(*) OVER (PARTITION BY score_name, score) AS ties
  FROM scores
),
totals AS (
  SELECT score_name, count(*) FILTER (WHERE pos) AS n_pos, count(*) FILTER (WHERE NOT pos) AS n_neg FROM scores GROUP BY score_name
)
SELECT score_name AS score, n_pos, n_neg,
       CASE WHEN n_pos > 0 AND n_neg > 0 THEN
         (sum(low_rank + (ties - 1) / 2.0) FILTER (WHERE pos) - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
       END AS auc
FROM ranked JOIN totals USING (score_name)
GROUP BY score_name, n_pos, n_neg
ORDER BY score_name`;

/** Customers with x ≥ BUCKET_CAP repeat purchase days share the last bucket ("7+"). */
const SCORED = `
WITH ${HOLDOUT_ACTUALS},
holdout AS (
  -- The same key as run_base.history_key (histories.ts: historyKey).
  SELECT ${historyKey('x', 't_x_days', 'T_days')} AS history_key, predicted
  FROM temp.run_holdout_predictions
),
scored AS (
  SELECT m.customer_id, m.bgnbd_x, coalesce(h.predicted, 0.0) AS predicted, m.churn_risk, m.p_no_purchase
  FROM customer_metrics m
  JOIN temp.run_base b USING (customer_id)
  LEFT JOIN holdout h USING (history_key)
  WHERE m.run_id = $run_id
),
outcomes AS (
  SELECT s.bgnbd_x, s.predicted, coalesce(a.actual, 0) AS actual, s.churn_risk, s.p_no_purchase
  FROM scored s LEFT JOIN actuals a USING (customer_id)
)`;

// Types (not interfaces) so that they are store rows.
export type BacktestBucketRow = {
  bucket_x: number;
  customers: number;
  predicted: number;
  actual: number;
};

export const BACKTEST_BUCKETS: Relation<'as_of' | 'holdout_end' | 'run_id'> = {
  name: 'temp.run_backtest_buckets',
  grain: 'one row per calibration frequency bucket (x = 0 … 6, 7+)',
  sql: `${SCORED}
SELECT least(bgnbd_x, 7) AS bucket_x, count(*) AS customers, sum(predicted) AS predicted, sum(actual) AS actual
FROM outcomes
GROUP BY bucket_x
ORDER BY bucket_x`,
  params: ['as_of', 'holdout_end', 'run_id'],
};

export type BacktestAucRow = {
  score: 'churn_risk' | 'p_no_purchase';
  /** Customers who did not buy in the holdout (the positive event) / who did. */
  n_pos: number;
  n_neg: number;
  /** NULL when everyone (or no one) bought. */
  auc: number | null;
};

/**
 * AUC of each score for "no purchase in the holdout" (Mann–Whitney: the chance that a customer
 * who did not buy has a higher score than one who did, ties counting one half). p_no_purchase
 * only where it exists (fitted runs): without it there is no row for it.
 */
export const BACKTEST_AUC: Relation<'as_of' | 'holdout_end' | 'run_id'> = {
  name: 'temp.run_backtest_auc',
  grain: 'one row per risk score (churn_risk, p_no_purchase)',
  sql: `${SCORED},
scores AS (
  SELECT 'churn_risk' AS score_name, churn_risk AS score, actual = 0 AS pos FROM outcomes
  UNION ALL
  SELECT 'p_no_purchase' AS score_name, p_no_purchase AS score, actual = 0 AS pos FROM outcomes WHERE p_no_purchase IS NOT NULL
),${AUC_OVER_SCORES}`,
  params: ['as_of', 'holdout_end', 'run_id'],
};
