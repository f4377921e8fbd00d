/**
 * The contract part of a customer's row (customer_metrics' contract columns, store/schema.ts
 * migration 8): one row per customer with a contract in the run's contract_metrics (written by the
 * run's contract step inside the run's write transaction, before the customers are). Inlined
 * into customer-metrics.ts, which joins it to the purchase part so that every customer appears
 * once: purchase only, contracts only, or both.
 *
 * Rules defined here, once:
 * - In force: a contract whose status at as-of is active or in_grace (its current period runs, or
 *   it ended within the grace days and may still be renewed).
 * - Premium per period: premiums of monthly and annual contracts do not add up, so
 *   contract_premium is the sum over the contracts in force only when they share one period unit
 *   (contract_period_unit names it; 'mixed' and a NULL premium otherwise; 0 with nothing in
 *   force), and annual_premium adds every contract in force on one scale: premium × periods per
 *   year (month 12, quarter 4, half year 2, year 1; an irregular period 365.25 / its length in
 *   days).
 * - Renewal probability: the contracts in force's P(renew at the next renewal date), weighted by
 *   their annual premium — the expected share of the customer's yearly premium that renews at each
 *   contract's next renewal (a big annual policy weighs more than a small monthly add-on); the
 *   plain mean when those premiums sum to 0; NULL when none in force is modelled.
 * - Residual value: Σ residual_value_horizon, the expected future premiums over the run's horizon,
 *   discounted — the same horizon and discount rate as clv, so the two add up (value tiers,
 *   customer-metrics.ts). Lapsed and cancelled contracts add nothing; NULL when no contract of the
 *   customer is modelled.
 * - Next renewal: the earliest renewal_due of the contracts in force.
 *
 * Money is summed as DECIMAL(38, 9) (exact, so independent of the order threads add rows in) and
 * returned as DOUBLE: reruns give the same values.
 */
import type { Relation } from '../relation.js';

/** Periods per year of a contract_metrics row's period unit (an irregular period: by its length). */
const PERIODS_PER_YEAR_SQL = `CASE period_unit WHEN 'month' THEN 12 WHEN 'quarter' THEN 4 WHEN 'half_year' THEN 2 WHEN 'year' THEN 1
              ELSE 365.25 / greatest(period_end - period_start + 1, 1) END`;

const exact = (expression: string) => `CAST(${expression} AS DECIMAL(38, 9))`;

export const CUSTOMER_CONTRACTS: Relation<'run_id'> = {
  name: 'run_customer_contracts',
  grain: 'one row per customer with a contract in the run (contract_metrics)',
  params: ['run_id'],
  sql: `
SELECT customer_id,
       CAST(count(*) FILTER (WHERE in_force) AS INTEGER) AS contracts_in_force,
       CAST(CASE WHEN count(DISTINCT period_unit) FILTER (WHERE in_force) <= 1
                 THEN coalesce(sum(${exact('premium')}) FILTER (WHERE in_force), 0) END AS DOUBLE) AS contract_premium,
       CASE count(DISTINCT period_unit) FILTER (WHERE in_force)
         WHEN 0 THEN NULL
         WHEN 1 THEN min(period_unit) FILTER (WHERE in_force)
         ELSE 'mixed' END AS contract_period_unit,
       CAST(coalesce(sum(${exact('annual_premium')}) FILTER (WHERE in_force), 0) AS DOUBLE) AS annual_premium,
       CAST(CASE WHEN sum(${exact('annual_premium')}) FILTER (WHERE in_force AND p_renew IS NOT NULL) > 0
                 THEN sum(${exact('annual_premium * p_renew')}) FILTER (WHERE in_force AND p_renew IS NOT NULL)
                      / sum(${exact('annual_premium')}) FILTER (WHERE in_force AND p_renew IS NOT NULL)
                 ELSE avg(${exact('p_renew')}) FILTER (WHERE in_force) END AS DOUBLE) AS renewal_probability,
       CAST(sum(${exact('residual_value_horizon')}) AS DOUBLE) AS contract_residual_value,
       min(renewal_due) FILTER (WHERE in_force) AS next_renewal_due
FROM (
  SELECT customer_id, period_unit, premium, p_renew, residual_value_horizon, renewal_due,
         status IN ('active', 'in_grace') AS in_force,
         premium * ${PERIODS_PER_YEAR_SQL} AS annual_premium
  FROM contract_metrics
  WHERE run_id = $run_id
) run_contracts
GROUP BY customer_id`,
};

/**
 * The contract part of a customer without contracts: one row of CUSTOMER_CONTRACTS' columns (but
 * customer_id), all NULL, with the same types. A run with no contract rows (no contract period by
 * as-of, or a --source run) joins every customer to this row instead of FULL OUTER JOINing
 * CUSTOMER_CONTRACTS (customer-metrics.ts: the purchases-only variant): the same rows, without the
 * join's cost (~1 CPU-s at 2.5M customers). customer-contracts.test.ts checks the types match.
 */
export const NO_CUSTOMER_CONTRACTS_SQL = `
SELECT CAST(NULL AS INTEGER) AS contracts_in_force,
       CAST(NULL AS DOUBLE) AS contract_premium,
       CAST(NULL AS VARCHAR) AS contract_period_unit,
       CAST(NULL AS DOUBLE) AS annual_premium,
       CAST(NULL AS DOUBLE) AS renewal_probability,
       CAST(NULL AS DOUBLE) AS contract_residual_value,
       CAST(NULL AS DATE) AS next_renewal_due`;
