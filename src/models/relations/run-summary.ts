/**
 * The run's summary (runs.summary, the reports' headline figures): customers and net revenue per
 * RFM segment, per value tier (with CLV) and per churn tier, and the totals (key accounts, their
 * revenue share, key accounts at risk, expected purchases, CLV) — in one pass over the run's rows
 * of customer_metrics, whose columns is_key_account and key_account_at_risk are the homes of
 * those rules: exact sums per (segment, value tier, churn tier) cell, then the cells added up
 * per grouping set (four grouping sets over the customers cost twice as much).
 *
 * Sums of DOUBLEs do not depend on the order threads add them in: each value is fixed to 9
 * decimals as a DECIMAL, summed exactly, then returned as DOUBLE.
 *
 * Rows: `grouped_by` = 'segment' | 'value_tier' | 'churn_tier' | 'total', in that order, each
 * group in its reading order — segments by customers (most first), value tiers by their largest
 * value (CLV, else net revenue, plus contract residual value), churn tiers high, medium, low.
 * Customers with contracts only (no purchase: no segment, no churn tier) are in the value tiers
 * and the total; the total also counts the customers with purchases and those with contracts.
 */
import type { Relation } from '../relation.js';

// A type (not an interface) so that it is a store row.
export type RunSummaryRow = {
  grouped_by: 'segment' | 'value_tier' | 'churn_tier' | 'total';
  /** The segment's or tier's name; NULL for the total. */
  name: string | null;
  customers: number;
  net_revenue: number;
  clv: number | null;
  key_customers: number;
  key_revenue: number | null;
  positive_revenue: number | null;
  key_at_risk: number;
  expected_purchases: number | null;
  /** Customers with a purchase by as-of (those the purchase models and the 80/20 rank). */
  purchase_customers: number;
  /** Customers with a contract in the run, and their contracts' residual value over the horizon. */
  contract_customers: number;
  contract_residual_value: number | null;
};

export const RUN_SUMMARY: Relation<'run_id'> = {
  name: 'temp.run_summary',
  grain: 'one row per segment, value tier, churn tier, and one for all customers',
  sql: `
WITH run_rows AS (
  SELECT rfm_segment, value_tier, churn_tier, monetary, clv, net_revenue, expected_purchases,
         is_key_account, key_account_at_risk, first_purchase, contracts_in_force, contract_residual_value
  FROM customer_metrics
  WHERE run_id = $run_id
),
cells AS (
  -- The one pass over the customers: exact sums per (segment, value tier, churn tier), at most a
  -- few hundred cells, which the grouping sets below add up.
  SELECT rfm_segment, value_tier, churn_tier,
         count(*) AS customers,
         sum(CAST(monetary AS DECIMAL(38, 9))) AS net_revenue,
         sum(CAST(clv AS DECIMAL(38, 9))) AS clv,
         -- The tiers' reading order: their largest value (customer-metrics.ts ranks purchase value plus residual value).
         max(coalesce(clv, monetary, 0) + coalesce(contract_residual_value, 0)) AS top_value,
         count(*) FILTER (WHERE is_key_account) AS key_customers,
         sum(CAST(net_revenue AS DECIMAL(38, 9))) FILTER (WHERE is_key_account) AS key_revenue,
         sum(CAST(net_revenue AS DECIMAL(38, 9))) FILTER (WHERE net_revenue > 0) AS positive_revenue,
         count(*) FILTER (WHERE key_account_at_risk) AS key_at_risk,
         sum(CAST(expected_purchases AS DECIMAL(38, 9))) AS expected_purchases,
         count(first_purchase) AS purchase_customers,
         count(contracts_in_force) AS contract_customers,
         sum(CAST(contract_residual_value AS DECIMAL(38, 9))) AS contract_residual_value
  FROM run_rows
  GROUP BY rfm_segment, value_tier, churn_tier
),
grouped AS (
  SELECT CASE WHEN grouping(rfm_segment) = 0 THEN 'segment'
              WHEN grouping(value_tier) = 0 THEN 'value_tier'
              WHEN grouping(churn_tier) = 0 THEN 'churn_tier'
              ELSE 'total' END AS grouped_by,
         coalesce(rfm_segment, value_tier, CAST(churn_tier AS VARCHAR)) AS name,
         CAST(sum(customers) AS BIGINT) AS customers,
         CAST(sum(net_revenue) AS DOUBLE) AS net_revenue,
         CAST(sum(clv) AS DOUBLE) AS clv,
         max(top_value) AS top_value,
         CAST(churn_tier AS VARCHAR) AS churn_tier_name,
         CAST(sum(key_customers) AS BIGINT) AS key_customers,
         CAST(sum(key_revenue) AS DOUBLE) AS key_revenue,
         CAST(sum(positive_revenue) AS DOUBLE) AS positive_revenue,
         CAST(sum(key_at_risk) AS BIGINT) AS key_at_risk,
         CAST(sum(expected_purchases) AS DOUBLE) AS expected_purchases,
         CAST(sum(purchase_customers) AS BIGINT) AS purchase_customers,
         CAST(sum(contract_customers) AS BIGINT) AS contract_customers,
         CAST(sum(contract_residual_value) AS DOUBLE) AS contract_residual_value
  FROM cells
  GROUP BY GROUPING SETS ((rfm_segment), (value_tier), (churn_tier), ())
)
SELECT grouped_by, name, customers, net_revenue, clv, key_customers, key_revenue, positive_revenue, key_at_risk, expected_purchases,
       purchase_customers, contract_customers, contract_residual_value
FROM grouped
-- Customers with contracts only have no segment and no churn tier: counted in the value tiers and the total only.
WHERE name IS NOT NULL OR grouped_by = 'total'
ORDER BY list_position(['segment', 'value_tier', 'churn_tier', 'total'], grouped_by),
         CASE grouped_by WHEN 'segment' THEN -customers END,
         CASE grouped_by WHEN 'value_tier' THEN -top_value END,
         CASE grouped_by WHEN 'churn_tier' THEN list_position(['high', 'medium', 'low'], churn_tier_name) END,
         name`,
  params: ['run_id'],
};
