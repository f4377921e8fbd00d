/**
 * The contract backtest of a run with --holdout-end: a holdout uses only what was known by
 * $holdout_end, like a forecast made at as-of and checked on that day. Counted: every contract
 * active at $as_of, scored by a fit (p_renew), whose renewal decision is fully observable in the
 * holdout — the last day a renewal may start under the renewal rule of contract-spells.ts (a gap
 * of at most $grace_days uncovered days: renewal_due + $grace_days + 1) is on or before
 * $holdout_end. A contract due later may still renew after the holdout: counting it as lapsed
 * would bias the actual rate down, so it is left out. Predicted: its p_renew; actual: 1 when the
 * store has a next period of the contract starting after as-of, within the grace period of
 * renewal_due and on or before $holdout_end (a period starting later is data the holdout did not
 * have), else 0.
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
    -- the decision's last day (the last start of a renewal) falls in the holdout
    AND renewal_due + CAST($grace_days AS INTEGER) + 1 <= CAST($holdout_end AS DATE)
),
renewals AS (
  SELECT DISTINCT d.contract_id
  FROM decisions d
  JOIN contracts c
    ON c.contract_id = d.contract_id
   AND c.period_start > CAST($as_of AS DATE)
   AND c.period_start - d.renewal_due - 1 <= CAST($grace_days AS INTEGER)
   AND c.period_start <= CAST($holdout_end AS DATE)
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
