/**
 * The fixed vocabularies of metrics_customers' ENUM columns (store/schema.ts: migrations 6, 19
 * and 23 define them in the store), as the relations produce them. The run's relations give these
 * columns their store type where the values are made — the churn tier once per purchase history
 * (predictions.ts), the ABC class once per revenue level (customer-metrics.ts) — instead of
 * DuckDB casting VARCHAR to ENUM for each of the 2.5M customers as they are inserted.
 * vocabularies.test.ts checks each equals the store column's type: a store widening one must
 * widen it here too (a narrower type here would fail the cast, a wider one cast on insert again).
 */
export const CHURN_TIER_TYPE = "ENUM('low', 'medium', 'high')";
export const CHURN_METHOD_TYPE = "ENUM('bgnbd', 'recency', 'pareto_nbd', 'mbgnbd', 'bgbb')";
export const ABC_CLASS_TYPE = "ENUM('A', 'B', 'C')";
/**
 * metrics_customers.at_risk_codes' codes, in the order a customer's reasons are listed
 * (customer-metrics.ts, the at-risk rule), and the column's type: a list of them.
 */
export const AT_RISK_CODES = ['revenue_down', 'churn_risk_up', 'churn_risk_high'] as const;
export const AT_RISK_CODES_TYPE = `ENUM(${AT_RISK_CODES.map((c) => `'${c}'`).join(', ')})[]`;
