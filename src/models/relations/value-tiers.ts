/**
 * Value tiers (default Platinum / Gold / Silver / Bronze) of the customer metrics, on the way
 * into the store: `VALUE_TIERS` is run_customer_metrics (customer-metrics.ts) with value_tier in
 * place of tier_value, the row the run inserts into metrics_customers (customer_metrics' stored
 * columns, store/schema.ts migration 6). `METRICS_CUSTOMERS` is the two composed, the run's
 * INSERT: DuckDB computes and appends the rows in one pass, 1–1.5 s faster on 640k customers than
 * staging them in a temp table first (CTAS 2.6–3.8 s, most of it the temp table's own write).
 *
 * The rule (its one home): a customer is in the first tier whose least value ($tier_cuts, one per
 * tier but the last, non-increasing) its tier_value reaches; a value ≤ 0 (or NULL) is always in
 * the last tier, however many share it. The cuts (models/tiers.ts: valueTierCuts) are the
 * `min_clv` amounts, or by share the k-th largest value with k = ⌈share·N⌉, so tied customers
 * share a tier. Infinity: nobody reaches the tier.
 *
 * Cuts are non-increasing, so a positive value reaching cut i reaches every later one: its tier's
 * position is 1 + the number of cuts it does not reach.
 */
import type { Relation } from '../relation.js';
import { DUCKDB, type SqlDialect } from './dialect.js';
import { byContractPart, customerMetrics, type CustomerMetricsParam } from './customer-metrics.js';

/**
 * SQL: the value tier of `value` (this module's rule): `names` the tiers' names, `cuts` each
 * tier's least value but the last's (lists). Rendered for DuckDB here and for ClickHouse by
 * cluster-metrics.ts.
 */
export function valueTierSql(value: string, names: string, cuts: string, d: SqlDialect = DUCKDB): string {
  return `CASE WHEN ${value} > 0 THEN ${d.element(names, `1 + ${d.countWhere(cuts, 'cut', `NOT ${value} >= cut`)}`)}
            ELSE ${d.element(names, d.length(names))} END`;
}

export const VALUE_TIERS: Relation<'tier_cuts' | 'tier_names'> = {
  name: 'temp.run_customer_metrics_tiered',
  grain: 'one row per customer with a purchase on or before as-of or a contract in the run',
  sql: `
SELECT run_id, customer_id, first_purchase, last_purchase, frequency, purchase_days,
       monetary, gross_revenue, returns_value, return_lines, margin,
       r_score, f_score, m_score, rfm_segment,
       p_alive, churn_risk, p_no_purchase, churn_tier, churn_method,
       expected_purchases, expected_order_value, clv,
       ${valueTierSql('tier_value', '$tier_names', '$tier_cuts')} AS value_tier,
       value_basis,
       net_revenue, revenue_rank, revenue_share, cumulative_share, abc_class,
       revenue_current, revenue_previous, previous_churn_risk,
       as_of, time_unit_days, at_risk_codes,
       contracts_in_force, contract_premium, contract_period_unit, annual_premium, renewal_probability,
       contract_residual_value, next_renewal_due,
       expected_purchases_low, expected_purchases_high, clv_low, clv_high,
       churn_basis
FROM run_customer_metrics`,
  params: ['tier_names', 'tier_cuts'],
};

/**
 * run_customer_metrics with its value tiers, computed as it is inserted into metrics_customers:
 * one per contract part (customer-metrics.ts ContractPart; the run takes `purchases_only` when it
 * has no contract rows). METRICS_CUSTOMERS is the one with contracts, right for any run.
 */
export const metricsCustomers = byContractPart<CustomerMetricsParam | 'tier_cuts' | 'tier_names'>((part) => ({
  name: 'metrics_customers',
  grain: 'one row per customer with a purchase on or before as-of or a contract in the run',
  sql: `
WITH run_customer_metrics AS (${customerMetrics[part].sql}
)${VALUE_TIERS.sql}`,
  params: [...customerMetrics[part].params, ...VALUE_TIERS.params],
}));
export const METRICS_CUSTOMERS = metricsCustomers.with_contracts;
