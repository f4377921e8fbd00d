/**
 * Contract metrics and the retention curves of a run, from the runs of renewals
 * (contract-spells.ts) and the sBG predictions the run made in TypeScript (models/contracts.ts).
 *
 * The predictions depend on a contract only through (the fit that scores it, its renewals
 * survived), so the run computes them once per distinct (plan, period_unit, renewals) of the
 * censored current runs and writes them to temp.run_contract_predictions:
 *   plan, period_unit, renewals — the key (plan NULL: contracts without a plan);
 *   model_plan, model_kind      — the fit used (model_plan NULL: the whole book of the unit;
 *                                 model_kind sbg | geometric, the limit of a boundary fit);
 *   p_renew, derl               — P(renew at the next renewal), DERL in periods;
 *   value_per_premium, value_per_premium_horizon — residual value per unit of premium, without
 *                                 and with the run's horizon (NULL where the sum diverges).
 * Its fitted survival curves S(t), t = 0, 1, … per plan and for the whole book (plan NULL), per
 * unit, are in temp.run_contract_curves (plan, period_unit, period, fitted_survival).
 */
import type { Relation } from '../relation.js';

/**
 * One row per contract: its current run of renewals, the values that are the contract's own
 * (into contract_metrics_stored). The view contract_metrics (store migration 13, the one home of
 * the derived columns) adds renewals, renewal_due and, joined on (run_id, plan, period_unit,
 * renewals) from contract_predictions (CONTRACT_PREDICTIONS), the model's values: lapsed and
 * cancelled contracts expect no more premiums (DERL and values 0) and have no renewal
 * probability; contracts no fit scores (irregular periods, no usable fit) have NULLs.
 *
 * Why split (issue #10 §5: the contract part under 5 s at 1M contracts): writing every column
 * of the view was a third of the contract part, most of it compressing columns that repeat
 * others — the predictions depend on a contract only through its key, so they are stored once
 * per key and run (a few hundred rows), and status and period_unit are stored as ENUMs.
 */
export const CONTRACT_METRICS: Relation<'run_id' | 'as_of'> = {
  name: 'contract_metrics_stored',
  grain: 'one row per contract (its current run of renewals)',
  sql: `
SELECT CAST($run_id AS INTEGER) AS run_id,
       contract_id, customer_id, plan, channel, region, period_unit, first_start, period_start, period_end,
       periods, premium, total_premium, status,
       CAST($as_of AS DATE) AS as_of
FROM temp.run_contract_spells
WHERE is_current`,
  params: ['run_id', 'as_of'],
};

/** The run's predictions per (plan, period_unit, renewals) (into contract_predictions, read by the view contract_metrics). */
export const CONTRACT_PREDICTIONS: Relation<'run_id'> = {
  name: 'contract_predictions',
  grain: 'one row per (plan, period_unit, renewals) of a censored current run that a fit scores',
  sql: `
SELECT CAST($run_id AS INTEGER) AS run_id,
       plan, period_unit, renewals, model_plan, model_kind, p_renew, derl, value_per_premium, value_per_premium_horizon
FROM temp.run_contract_predictions`,
  params: ['run_id'],
};

/**
 * Retention per plan (and the whole book, plan NULL) and unit, by renewals made t = 0, 1, …:
 * the runs of renewals at risk of the t-th decision and the product-limit (Kaplan–Meier)
 * estimate of S(t) with right-censoring — a run that left after n renewals is a departure at
 * decision n+1; a censored one was last seen after decision n — beside the fitted S(t). Rows run
 * to the longer of the data and the fitted curve; beyond the data observed_survival is NULL.
 * Contracts without a plan count in the whole book only.
 */
export const CONTRACT_RETENTION: Relation<'run_id'> = {
  name: 'contract_retention',
  grain: 'one row per plan (NULL: whole book), period unit and renewals made',
  sql: `
WITH modelled_spells AS (
  SELECT plan, period_unit, renewals, active
  FROM temp.run_contract_spells
  WHERE period_unit <> 'irregular'
),
last_decisions AS (
  -- The last decision each run was seen at, and whether it left there.
  SELECT plan, period_unit,
         CASE WHEN active = 1 THEN renewals ELSE renewals + 1 END AS last_decision,
         1 - active AS departed
  FROM modelled_spells
),
grouped AS (
  SELECT plan, period_unit, last_decision, departed FROM last_decisions WHERE plan IS NOT NULL
  UNION ALL
  SELECT NULL AS plan, period_unit, last_decision, departed FROM last_decisions
),
per_decision AS (
  SELECT plan, period_unit, last_decision AS period, count(*) AS ending, sum(departed) AS departures
  FROM grouped
  GROUP BY plan, period_unit, last_decision
),
grid AS (
  SELECT plan, period_unit, CAST(unnest(range(0, max(period) + 1)) AS INTEGER) AS period
  FROM per_decision
  GROUP BY plan, period_unit
),
filled AS (
  SELECT g.plan, g.period_unit, g.period,
         coalesce(d.ending, 0) AS ending,
         coalesce(d.departures, 0) AS departures
  FROM grid g
  LEFT JOIN per_decision d ON d.plan IS NOT DISTINCT FROM g.plan AND d.period_unit = g.period_unit AND d.period = g.period
),
at_risk AS (
  -- Facing decision t: every run last seen at t or later.
  SELECT *, sum(ending) OVER (PARTITION BY plan, period_unit ORDER BY period DESC ROWS UNBOUNDED PRECEDING) AS contracts_at_risk
  FROM filled
),
observed AS (
  SELECT plan, period_unit, period, contracts_at_risk,
         product(1 - CAST(departures AS DOUBLE) / contracts_at_risk)
           OVER (PARTITION BY plan, period_unit ORDER BY period ROWS UNBOUNDED PRECEDING) AS observed_survival
  FROM at_risk
),
curves AS (
  SELECT plan, period_unit, CAST(period AS INTEGER) AS period, fitted_survival
  FROM temp.run_contract_curves
)
SELECT CAST($run_id AS INTEGER) AS run_id,
       coalesce(o.plan, c.plan) AS plan,
       coalesce(o.period_unit, c.period_unit) AS period_unit,
       coalesce(o.period, c.period) AS period,
       CAST(coalesce(o.contracts_at_risk, 0) AS INTEGER) AS contracts_at_risk,
       o.observed_survival,
       c.fitted_survival
FROM observed o
FULL OUTER JOIN curves c
  ON c.plan IS NOT DISTINCT FROM o.plan AND c.period_unit = o.period_unit AND c.period = o.period`,
  params: ['run_id'],
};

export type ContractSummaryRow = {
  contracts: number;
  runs_of_renewals: number;
  active: number;
  in_grace: number;
  lapsed: number;
  cancelled: number;
  irregular: number;
  scored: number;
  premium_in_force: number;
  residual_value: number;
  residual_value_horizon: number;
  value_at_risk: number;
};

/** The run's contracts in one row (runs.contracts.summary): by status, and their values. */
export const CONTRACT_SUMMARY: Relation<'run_id'> = {
  name: 'run_contract_summary',
  grain: 'one row: the contracts of run $run_id',
  sql: `
WITH run_contracts AS (
  SELECT status, period_unit, p_renew, premium, residual_value, residual_value_horizon, value_at_risk
  FROM contract_metrics
  WHERE run_id = $run_id
),
spells AS (
  SELECT count(*) AS runs_of_renewals FROM temp.run_contract_spells
)
SELECT CAST(count(*) AS INTEGER) AS contracts,
       CAST((SELECT runs_of_renewals FROM spells) AS INTEGER) AS runs_of_renewals,
       CAST(count(*) FILTER (WHERE status = 'active') AS INTEGER) AS active,
       CAST(count(*) FILTER (WHERE status = 'in_grace') AS INTEGER) AS in_grace,
       CAST(count(*) FILTER (WHERE status = 'lapsed') AS INTEGER) AS lapsed,
       CAST(count(*) FILTER (WHERE status = 'cancelled') AS INTEGER) AS cancelled,
       CAST(count(*) FILTER (WHERE period_unit = 'irregular') AS INTEGER) AS irregular,
       CAST(count(p_renew) AS INTEGER) AS scored,
       -- Summed as exact decimals (each value to 1e-6): a sum of DOUBLEs depends on the order
       -- DuckDB's threads finish in, and a rerun of the same as-of must give the same totals.
       CAST(coalesce(sum(CAST(premium AS DECIMAL(38, 6))) FILTER (WHERE status IN ('active', 'in_grace')), 0) AS DOUBLE) AS premium_in_force,
       CAST(coalesce(sum(CAST(residual_value AS DECIMAL(38, 6))), 0) AS DOUBLE) AS residual_value,
       CAST(coalesce(sum(CAST(residual_value_horizon AS DECIMAL(38, 6))), 0) AS DOUBLE) AS residual_value_horizon,
       CAST(coalesce(sum(CAST(value_at_risk AS DECIMAL(38, 6))), 0) AS DOUBLE) AS value_at_risk
FROM run_contracts`,
  params: ['run_id'],
};
