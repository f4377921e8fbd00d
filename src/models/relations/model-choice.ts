/**
 * `crm run --model auto` with a holdout (models/model-choice.ts): every fitted model's holdout
 * predictions per distinct history, in temp.run_choice_predictions (model_index — the model's
 * place in PURCHASE_MODEL_KEYS —, x, t_x_days, T_days, predicted, churn_risk, p_no_purchase;
 * written by the run), joined back to the run's customers on history_key and compared with the
 * days they bought on in the holdout (backtest.ts's HOLDOUT_ACTUALS): per model, the
 * calibration-frequency buckets (as the backtest's) and the AUCs of its two risk scores.
 */
import type { Relation } from '../relation.js';
import { AUC_OVER_SCORES, HOLDOUT_ACTUALS } from './backtest.js';
import { historyKey } from './histories.js';

const OUTCOMES = `
WITH ${HOLDOUT_ACTUALS},
predictions AS (
  SELECT CAST(model_index AS INTEGER) AS model_index, ${historyKey('x', 't_x_days', 'T_days')} AS history_key, predicted, churn_risk, p_no_purchase
  FROM temp.run_choice_predictions
),
outcomes AS (
  SELECT p.model_index, b.bgnbd_x, p.predicted, coalesce(a.actual, 0) AS actual, p.churn_risk, p.p_no_purchase
  FROM temp.run_base b
  JOIN predictions p USING (history_key)
  LEFT JOIN actuals a USING (customer_id)
)`;

export type ChoiceBucketRow = { model_index: number; bucket_x: number; customers: number; predicted: number; actual: number };

export const CHOICE_BUCKETS: Relation<'as_of' | 'holdout_end'> = {
  name: 'temp.run_choice_buckets',
  grain: 'one row per model and calibration frequency bucket (x = 0 … 6, 7+)',
  sql: `${OUTCOMES}
SELECT model_index, least(bgnbd_x, 7) AS bucket_x, count(*) AS customers, sum(predicted) AS predicted, sum(actual) AS actual
FROM outcomes
GROUP BY model_index, bucket_x
ORDER BY model_index, bucket_x`,
  params: ['as_of', 'holdout_end'],
};

/** score is '<model_index>:churn_risk' or '<model_index>:p_no_purchase'. */
export type ChoiceAucRow = { score: string; n_pos: number; n_neg: number; auc: number | null };

export const CHOICE_AUC: Relation<'as_of' | 'holdout_end'> = {
  name: 'temp.run_choice_auc',
  grain: 'one row per model and risk score (churn_risk, p_no_purchase)',
  sql: `${OUTCOMES},
scores AS (
  SELECT model_index || ':churn_risk' AS score_name, churn_risk AS score, actual = 0 AS pos FROM outcomes
  UNION ALL
  SELECT model_index || ':p_no_purchase' AS score_name, p_no_purchase AS score, actual = 0 AS pos FROM outcomes
),${AUC_OVER_SCORES}`,
  params: ['as_of', 'holdout_end'],
};
