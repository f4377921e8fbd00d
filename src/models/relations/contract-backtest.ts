/**
 * The contract backtest of a run with --holdout-end: every contract active at $as_of whose
 * renewal falls due in the holdout (renewal_due ≤ $holdout_end) and that a fit scored. Predicted:
 * its p_renew; actual: 1 when the store has a next period of the contract starting after as-of
 * and within the grace period of renewal_due (the renewal rule of contract-spells.ts), else 0.
 * The outcome is read from every period in the store (a renewal inside the grace period may
 * start after --holdout-end: the decision itself fell in the holdout).
 *
 * Rows: the whole book, each plan, and each tenth of p_renew (the calibration: in a calibrated
 * model the actual renewal rate of a band lies within it); with the Brier score, the mean of
 * (actual − p_renew)².
 */
import type { Relation } from '../relation.js';

export type ContractBacktestRow = {
  grouped_by: 'book' | 'plan' | 'band';
  /** The plan ('plan' rows), else null. */
  plan: string | null;
  /** The p_renew band [band_low, band_high) ('band' rows; the last includes 1), else null. */
  band_low: number | null;
  band_high: number | null;
  decisions: number;
  predicted: number;
  actual: number;
  brier: number | null;
};

export const CONTRACT_BACKTEST: Relation<'run_id' | 'as_of' | 'holdout_end' | 'grace_days'> = {
  name: 'run_contract_backtest',
  grain: 'one row for the whole book, one per plan, one per tenth of p_renew',
  sql: `
WITH decisions AS (
  SELECT contract_id, plan, p_renew, renewal_due
  FROM contract_metrics
  WHERE run_id = $run_id
    AND status = 'active'
    AND p_renew IS NOT NULL
    AND renewal_due <= CAST($holdout_end AS DATE)
),
renewals AS (
  SELECT DISTINCT d.contract_id
  FROM decisions d
  JOIN contracts c
    ON c.contract_id = d.contract_id
   AND c.period_start > CAST($as_of AS DATE)
   AND c.period_start - d.renewal_due - 1 <= CAST($grace_days AS INTEGER)
),
outcomes AS (
  SELECT d.plan, d.p_renew,
         CASE WHEN r.contract_id IS NULL THEN 0 ELSE 1 END AS renewed,
         least(CAST(floor(d.p_renew * 10) AS INTEGER), 9) AS band
  FROM decisions d LEFT JOIN renewals r USING (contract_id)
),
book AS (
  SELECT 'book' AS grouped_by, NULL::VARCHAR AS plan, NULL::DOUBLE AS band_low, NULL::DOUBLE AS band_high,
         count(*) AS decisions, coalesce(sum(p_renew), 0) AS predicted, coalesce(sum(renewed), 0) AS actual,
         avg((renewed - p_renew) ^ 2) AS brier
  FROM outcomes
),
plans AS (
  SELECT 'plan' AS grouped_by, plan, NULL::DOUBLE AS band_low, NULL::DOUBLE AS band_high,
         count(*) AS decisions, sum(p_renew) AS predicted, sum(renewed) AS actual,
         avg((renewed - p_renew) ^ 2) AS brier
  FROM outcomes
  WHERE plan IS NOT NULL
  GROUP BY plan
),
bands AS (
  SELECT 'band' AS grouped_by, NULL::VARCHAR AS plan, band / 10 AS band_low, (band + 1) / 10 AS band_high,
         count(*) AS decisions, sum(p_renew) AS predicted, sum(renewed) AS actual,
         avg((renewed - p_renew) ^ 2) AS brier
  FROM outcomes
  GROUP BY band
),
all_rows AS (
  SELECT * FROM book UNION ALL SELECT * FROM plans UNION ALL SELECT * FROM bands
)
SELECT grouped_by, plan, band_low, band_high,
       CAST(decisions AS INTEGER) AS decisions, CAST(predicted AS DOUBLE) AS predicted,
       CAST(actual AS INTEGER) AS actual, brier
FROM all_rows
ORDER BY CASE grouped_by WHEN 'book' THEN 0 WHEN 'plan' THEN 1 ELSE 2 END, plan, band_low`,
  params: ['run_id', 'holdout_end', 'as_of', 'grace_days'],
};
