/**
 * customer_metrics of one run (run_customer_metrics): every stored column (metrics_customers) but
 * value_tier, whose boundaries depend on these rows (value-tiers.ts adds it on the way into the
 * store), plus tier_value, the value the tiers rank. The run computes tier_value alone first, from
 * the narrower TIER_VALUES below (for the boundaries), then every row as it is inserted
 * (value-tiers.ts: METRICS_CUSTOMERS).
 *
 * Reads the chain's relations: temp.run_base (one row per customer), temp.run_predictions (per
 * purchase history, predictions.ts) and temp.run_pareto_levels (per distinct 80/20 revenue), the
 * previous run's churn risk from metrics_customers (customer_metrics' stored columns), and the
 * run's contract_metrics rows (customer-contracts.ts, inlined).
 *
 * Rules defined here, once:
 * - RFM scores: score = 1 + #{k : value > cut_k} over the run's cut lists (models/rfm.ts:
 *   rfmScoreCuts; recency on −recency_days), so tied values share a score; the segment is the
 *   rule table's cell ($segment_cells, models/rfm.ts: segmentCells). bins ≤ 10 (settings), so at
 *   most 9 cuts: a cut past the list's end is NULL and counts for nothing.
 * - Expected order value: the Gamma-Gamma posterior mean E[M | x, m] = p(v + x·m)/(p·x + q − 1)
 *   (models/gamma-gamma.ts: conditionalExpectedValue, tested against this SQL), or, when the
 *   spend model was fitted at its homogeneous-spend limit ($gg_nu set, $gg_q and $gg_v NULL:
 *   models/gamma-gamma-limits.ts, q → ∞ with v/(q − 1) → 1/ν), that posterior mean's limit, the
 *   population mean p/ν (spendModelExpectedValue):
 *     repeat customers with m > 0: their x repeat purchases and mean m;
 *     everyone else with a positive first purchase day: that day as one observation (x = 1). The
 *       textbook choice, the prior mean p·v/(q − 1), explodes as q nears 1 (seen on heavy-tailed
 *       real spend: ~20× the observed order values); one observed purchase keeps it anchored;
 *     otherwise, or without a usable Gamma-Gamma fit ($gg_p NULL): their own mean net value per
 *       purchase day (≥ 0).
 * - CLV = discounted expected purchases × expected order value (NULL without a fitted BG/NBD).
 * - Intervals (models/intervals.ts, the delta method on the log scale): expected purchases'
 *   bounds per history (run_predictions); CLV's clv · exp(∓ $z · sd) with
 *   sd² = discounted_log_sd² + g' Σ g, g = ∇ ln E[M] in (ln p, ln q, ln v) at the x the expected
 *   order value used — (q − 1)/(p x + q − 1), −q/(p x + q − 1), v p/(E (p x + q − 1)) — and Σ
 *   the Gamma-Gamma's covariance ($gg_covariance, row by row; NULL: no spend term, as for the
 *   customers whose value is their own mean, and at the homogeneous-spend limit). $z NULL: no intervals (all four NULL).
 * - Every customer once: the purchase part (customers in run_base) and the contract part
 *   (customer-contracts.ts: customers in the run's contract_metrics) joined on customer_id. A
 *   customer with contracts only has NULL purchase columns — dates, counts, money, RFM, churn
 *   (p_alive, risk, tier, method), 80/20 (net_revenue, revenue_share, abc_class), trend — since
 *   the purchase models do not apply to them; a customer without contracts has NULL contract
 *   columns. Their at-risk codes are NULL (the purchase flags need purchases; renewal risk is
 *   renewal_probability).
 * - The value the tiers rank: the purchase value — CLV when the models are fitted, else net
 *   revenue (value_basis, the run's) — plus, for a customer with contracts, the contracts'
 *   residual value over the same horizon (contract_residual_value: discounted expected premiums,
 *   comparable with CLV); a missing part counts 0. Customers without contracts rank exactly as
 *   before contracts existed.
 * - At risk (any customer): reason codes, in this order, NULL when none —
 *     revenue_down     revenue_trend ≤ −$revenue_drop (NULL trend: not enough history, no flag);
 *     churn_risk_up    churn_risk − previous_churn_risk ≥ $churn_risk_rise (scored in the previous run);
 *     churn_risk_high  the high churn tier.
 *   The store words them (customer_metrics.at_risk_reason) and derives at_risk from them.
 */
import type { SpendModel } from '../gamma-gamma-limits.js';
import type { Relation } from '../relation.js';
import { DUCKDB, type SqlDialect } from './dialect.js';
import { CUSTOMER_CONTRACTS, NO_CUSTOMER_CONTRACTS_SQL } from './customer-contracts.js';
import { REVENUE_TREND_SQL } from './trend-windows.js';
import { ABC_CLASS_TYPE, AT_RISK_CODES, AT_RISK_CODES_TYPE } from './vocabularies.js';

/** SQL: 1 + the number of cuts in `cuts` (a DOUBLE[] list, ≤ 9 long) that `value` exceeds (the RFM score rule). */
export function scoreSql(value: string, cuts: string, d: SqlDialect = DUCKDB): string {
  const terms = Array.from({ length: 9 }, (_, i) => d.countTrue(`${value} > ${d.element(cuts, String(i + 1))}`));
  return d.tinyint(`1 + ${terms.join('\n                   + ')}`);
}

/** SQL: the RFM segment of scores r, f, m — the rule table's cell (`cells`, models/rfm.ts segmentCells; `bins` per score). */
export function segmentSql(r: string, f: string, m: string, cells: string, bins: string, d: SqlDialect = DUCKDB): string {
  return d.element(cells, `(${r} - 1) * ${bins} * ${bins} + (${f} - 1) * ${bins} + ${m}`);
}

/** SQL: CLV — discounted expected purchases × expected order value (NULL without a fitted purchase model). */
export function clvSql(discountedPurchases: string, expectedOrderValue: string): string {
  return `${discountedPurchases} * ${expectedOrderValue}`;
}

/** SQL: the purchase value the tiers rank — CLV when the models are fitted, else net revenue to date (monetary). */
export function purchaseValueSql(fitted: string): string {
  return `CASE WHEN ${fitted} THEN clv ELSE monetary END`;
}

/**
 * SQL: the value the tiers rank (tier_value), from a customer's columns and `fitted` (a boolean
 * SQL expression: the run's models were fitted). The purchase value — lifetime value, or net
 * revenue to date (monetary) without the models — plus the residual value of the customer's
 * contracts; without contracts, the purchase value alone (exactly as before contracts existed).
 * One home: the run cuts the tiers on it, the report (report_tiered_customers) shows it.
 */
export function tierValueSql(fitted: string): string {
  return `CASE WHEN contracts_in_force IS NULL THEN ${purchaseValueSql(fitted)}
            ELSE coalesce(${purchaseValueSql(fitted)}, 0) + coalesce(contract_residual_value, 0) END`;
}

/**
 * SQL: the expected order value of a customer of run_base (alias `b`) under the spend model
 * `gg`.p, .q, .v, .nu (p NULL: no usable fit; nu set: the homogeneous-spend limit) — the rule
 * stated in this module's header, its one home (CUSTOMER_METRICS writes it; history-values.ts
 * sums it per history for the run's stored projection).
 */
export function expectedOrderValueSql(b: string, gg: string): string {
  return expectedOrderValueOf((column) => `${b}.${column}`, { p: `${gg}.p`, q: `${gg}.q`, v: `${gg}.v`, nu: `${gg}.nu` });
}

/** The spend model's parameters as SQL expressions: p, q, v of the Gamma-Gamma, or p and nu of its homogeneous-spend limit (the others NULL). */
export interface SpendModelSql {
  p: string;
  q: string;
  v: string;
  nu: string;
}

/**
 * SQL: E[M | x, m] under the spend model — the Gamma-Gamma posterior mean, or at the limit
 * (nu not NULL) its limit p/ν, whatever the history.
 */
function posteriorMeanSql(x: string, m: string, gg: SpendModelSql): string {
  return `CASE WHEN ${gg.nu} IS NOT NULL THEN ${gg.p} / ${gg.nu}
                     ELSE ${gg.p} * (${gg.v} + ${x} * ${m}) / (${gg.p} * ${x} + ${gg.q} - 1) END`;
}

/**
 * The same rule over any spelling of the customer's columns (`column`: bgnbd_x,
 * repeat_mean_value, first_day_value, monetary, purchase_days) and of the parameters (SQL
 * expressions, NULL: no usable fit): the text is plain SQL both engines run, so the cluster's
 * crm_customer_metrics (cluster-metrics.ts) renders it from here too.
 */
export function expectedOrderValueOf(column: (name: string) => string, gg: SpendModelSql): string {
  const [x, m, first] = [column('bgnbd_x'), column('repeat_mean_value'), column('first_day_value')];
  return `CASE WHEN ${gg.p} IS NOT NULL AND ${x} > 0 AND ${m} > 0
                THEN ${posteriorMeanSql(x, m, gg)}
              WHEN ${gg.p} IS NOT NULL AND ${first} > 0
                THEN ${posteriorMeanSql('1', first, gg)}
              ELSE greatest(${column('monetary')} / ${column('purchase_days')}, 0) END`;
}

/**
 * SQL: a customer's at-risk reason codes from its three flags (BOOLEAN expressions; NULL counts
 * as false), in AT_RISK_CODES' order, NULL when none. Every combination of the flags is one of
 * eight lists, written once as a constant of the store's type (vocabularies.ts) and picked by
 * the flags as bits: no list built, concatenated and cast to the ENUM list per customer
 * (the bench run's 2.5M customers' flags into a temp table, 5 alternated pairs at load ~8, 2026-12-07: median
 * 0.17 CPU-s and 0.33 s against 0.39 CPU-s and 1.16 s, the same lists).
 */
export function atRiskCodesSql(...flags: [string, string, string]): string {
  const combinations = Array.from({ length: 1 << AT_RISK_CODES.length }, (_, bits) => {
    const codes = AT_RISK_CODES.filter((_, i) => bits & (1 << i));
    return codes.length === 0 ? 'NULL' : `[${codes.map((c) => `'${c}'`).join(', ')}]`;
  });
  const index = flags.map((flag, i) => `${1 << i} * coalesce(${flag}, false)::INTEGER`).join(' + ');
  return `(CAST([${combinations.join(', ')}] AS ${AT_RISK_CODES_TYPE}[]))[1 + ${index}]`;
}

/**
 * The spend model as the relations' parameters: the Gamma-Gamma's p, q, v (gg_nu NULL), its
 * homogeneous-spend limit's p and ν (gg_q, gg_v NULL), or all NULL (each customer's own mean).
 */
export function spendModelParams(model: SpendModel | null): { gg_p: number | null; gg_q: number | null; gg_v: number | null; gg_nu: number | null } {
  if (model === null) return { gg_p: null, gg_q: null, gg_v: null, gg_nu: null };
  if (model.boundary === 'homogeneous_spend') return { gg_p: model.params.p, gg_q: null, gg_v: null, gg_nu: model.params.nu };
  return { gg_p: model.params.p, gg_q: model.params.q, gg_v: model.params.v, gg_nu: null };
}

export type CustomerMetricsParam =
  | 'run_id'
  | 'previous_run_id'
  | 'as_of'
  | 'time_unit_days'
  | 'fitted'
  | 'r_cuts'
  | 'f_cuts'
  | 'm_cuts'
  | 'rfm_bins'
  | 'segment_cells'
  | 'gg_p'
  | 'gg_q'
  | 'gg_v'
  | 'gg_nu'
  | 'z'
  | 'gg_covariance'
  | 'revenue_drop'
  | 'churn_risk_rise';

/**
 * Whether the run has contract rows (contract_metrics of the run): `with_contracts` joins the
 * purchase part to the contract part (CUSTOMER_CONTRACTS) with a FULL OUTER JOIN, every customer
 * once; `purchases_only` gives every customer the contract part of a customer without contracts
 * (NO_CUSTOMER_CONTRACTS_SQL: one all-NULL row). On a run without contract rows both give the
 * same rows (relations/customer-contracts.test.ts); the second skips the join and its projections
 * (measured at 2.5M customers: see run/customers.ts). Both texts come from one template: only the
 * contract part's CTE and the FROM clause differ.
 */
export type ContractPart = 'with_contracts' | 'purchases_only';
export const CONTRACT_PARTS: readonly ContractPart[] = ['with_contracts', 'purchases_only'];

/** A relation per contract part, from one template (as money.ts byMoneyWidth does per money width). */
export function byContractPart<P extends string>(build: (part: ContractPart) => Relation<P>): Record<ContractPart, Relation<P>> {
  return { with_contracts: build('with_contracts'), purchases_only: build('purchases_only') };
}

/** The contract part's CTE (named customer_contracts) and the FROM clause that joins `purchases` to it. */
function contractPart(part: ContractPart, purchases: string): { cte: string; from: string } {
  return part === 'with_contracts'
    ? {
        cte: `customer_contracts AS (${CUSTOMER_CONTRACTS.sql}\n)`,
        from: `FROM ${purchases}
-- Every customer once: purchase only (no contract row), contracts only (NULL purchase columns), or both.
FULL OUTER JOIN customer_contracts USING (customer_id)`,
      }
    : {
        cte: `customer_contracts AS (${NO_CUSTOMER_CONTRACTS_SQL}\n)`,
        from: `FROM ${purchases}
-- No contract rows in this run: every customer has the contract part of a customer without contracts.
CROSS JOIN customer_contracts`,
      };
}

function customerMetricsOf(part: ContractPart): Relation<CustomerMetricsParam> {
  const contracts = contractPart(part, 'flagged');
  return {
    name: 'temp.run_customer_metrics',
    grain: 'one row per customer with a purchase on or before as-of or a contract in the run',
    sql: `
WITH ${contracts.cte},
gamma_gamma AS (
  -- NULL parameters: no usable Gamma-Gamma fit; nu set (q, v NULL): its homogeneous-spend limit.
  -- z NULL: no intervals; covariance NULL: no spend term.
  SELECT CAST($gg_p AS DOUBLE) AS p, CAST($gg_q AS DOUBLE) AS q, CAST($gg_v AS DOUBLE) AS v, CAST($gg_nu AS DOUBLE) AS nu,
         CAST($z AS DOUBLE) AS z, CAST($gg_covariance AS DOUBLE[]) AS c
),
previous AS (
  SELECT customer_id, churn_risk AS previous_churn_risk
  FROM metrics_customers
  WHERE run_id = $previous_run_id
),
scored AS (
  SELECT b.customer_id, b.first_purchase, b.last_purchase, b.frequency, b.purchase_days,
         b.monetary, b.gross_revenue, b.returns_value, b.return_lines, b.margin,
         ${scoreSql('-b.recency_days', '$r_cuts')} AS r_score,
         ${scoreSql('b.frequency', '$f_cuts')} AS f_score,
         ${scoreSql('b.monetary', '$m_cuts')} AS m_score,
         pr.p_alive, pr.churn_risk, pr.p_no_purchase, pr.churn_tier, pr.churn_basis, pr.churn_method,
         pr.expected_purchases, pr.discounted_purchases,
         ${expectedOrderValueSql('b', 'gg')} AS expected_order_value,
         -- The x of the Gamma-Gamma formula above (NULL: the value is the customer's own mean, no spend term).
         CASE WHEN gg.p IS NOT NULL AND b.bgnbd_x > 0 AND b.repeat_mean_value > 0 THEN b.bgnbd_x
              WHEN gg.p IS NOT NULL AND b.first_day_value > 0 THEN 1 END AS gg_x,
         pr.expected_purchases_low, pr.expected_purchases_high, pr.discounted_log_sd,
         gg.z, gg.c, gg.p AS gg_p, gg.q AS gg_q, gg.v AS gg_v,
         ${DUCKDB.double('b.pareto_revenue')} AS net_revenue,
         CAST(pl.revenue_rank AS INTEGER) AS revenue_rank,
         CASE WHEN b.pareto_revenue > 0 THEN CAST(b.pareto_revenue AS DOUBLE) / pl.positive_total ELSE 0 END AS revenue_share,
         pl.cumulative_share,
         coalesce(pl.abc_class, CAST('C' AS ${ABC_CLASS_TYPE})) AS abc_class,
         CAST(b.trend_current AS DOUBLE) AS revenue_current,
         CAST(b.trend_previous AS DOUBLE) AS revenue_previous,
         prev.previous_churn_risk
  FROM temp.run_base b
  JOIN temp.run_predictions pr USING (history_key)
  -- abc_class typed as the store's column (vocabularies.ts) once per revenue level, not per customer.
  LEFT JOIN (SELECT * REPLACE (CAST(abc_class AS ${ABC_CLASS_TYPE}) AS abc_class) FROM temp.run_pareto_levels) pl ON pl.net_revenue = b.pareto_revenue
  LEFT JOIN previous prev USING (customer_id)
  CROSS JOIN gamma_gamma gg
),
valued AS (
  SELECT *,
         ${segmentSql('r_score', 'f_score', 'm_score', '$segment_cells', '$rfm_bins')} AS rfm_segment,
         ${clvSql('discounted_purchases', 'expected_order_value')} AS clv,
         -- g = ∇ ln E[M] in (ln p, ln q, ln v); its quadratic form with the covariance (row by row).
         (gg_q - 1) / (gg_p * gg_x + gg_q - 1) AS g_p,
         -gg_q / (gg_p * gg_x + gg_q - 1) AS g_q,
         gg_v * gg_p / (expected_order_value * (gg_p * gg_x + gg_q - 1)) AS g_v,
         -- The stored view's own expression (one home: relations/trend-windows.ts).
         ${REVENUE_TREND_SQL} AS revenue_trend
  FROM scored
),
flagged AS (
  SELECT *,
         -- sd of ln CLV: the purchase side, plus the spend side where the value is a Gamma-Gamma mean.
         sqrt(discounted_log_sd * discounted_log_sd + coalesce(greatest(
           g_p * g_p * c[1] + g_q * g_q * c[5] + g_v * g_v * c[9]
           + 2 * (g_p * g_q * c[2] + g_p * g_v * c[3] + g_q * g_v * c[6]), 0), 0)) AS clv_log_sd,
         coalesce(revenue_trend <= -CAST($revenue_drop AS DOUBLE), false) AS revenue_down,
         coalesce(churn_risk - previous_churn_risk >= CAST($churn_risk_rise AS DOUBLE), false) AS churn_risk_up,
         churn_tier = 'high' AS churn_risk_high
  FROM valued
)
SELECT CAST($run_id AS INTEGER) AS run_id, customer_id, first_purchase, last_purchase, frequency, purchase_days,
       monetary, gross_revenue, returns_value, return_lines, margin,
       r_score, f_score, m_score, rfm_segment,
       p_alive, churn_risk, p_no_purchase, churn_tier, churn_basis, churn_method,
       expected_purchases, expected_order_value, clv,
       CASE WHEN $fitted THEN 'clv' ELSE 'net_revenue' END AS value_basis,
       CASE WHEN z IS NOT NULL THEN expected_purchases_low END AS expected_purchases_low,
       CASE WHEN z IS NOT NULL THEN expected_purchases_high END AS expected_purchases_high,
       clv * exp(-z * clv_log_sd) AS clv_low,
       clv * exp(z * clv_log_sd) AS clv_high,
       net_revenue, revenue_rank, revenue_share, cumulative_share, abc_class,
       revenue_current, revenue_previous, previous_churn_risk,
       ${atRiskCodesSql('revenue_down', 'churn_risk_up', 'churn_risk_high')} AS at_risk_codes,
       CAST($as_of AS DATE) AS as_of,
       CAST($time_unit_days AS DOUBLE) AS time_unit_days,
       contracts_in_force, contract_premium, contract_period_unit, annual_premium, renewal_probability,
       contract_residual_value, next_renewal_due,
       ${tierValueSql('$fitted')} AS tier_value
${contracts.from}`,
    params: [
      'gg_p', 'gg_q', 'gg_v', 'gg_nu', 'z', 'gg_covariance', 'previous_run_id', 'r_cuts', 'f_cuts', 'm_cuts', 'segment_cells', 'rfm_bins',
      'revenue_drop', 'churn_risk_rise', 'run_id', 'fitted', 'as_of', 'time_unit_days',
    ],
  };
}

/** CUSTOMER_METRICS per contract part (ContractPart); the run chooses by whether it has contract rows. */
export const customerMetrics = byContractPart(customerMetricsOf);
/** The relation with the contract part joined (any run): customerMetrics.with_contracts. */
export const CUSTOMER_METRICS: Relation<CustomerMetricsParam> = customerMetrics.with_contracts;

/**
 * The value the tiers rank (tier_value) of every customer of CUSTOMER_METRICS, and nothing else:
 * what the run cuts the value tiers on (models/tiers.ts: valueTierCuts) before it inserts the rows.
 * CUSTOMER_METRICS's tier_value with only what it needs — run_base ⋈ run_predictions (CLV from
 * the same expected order value and discounted purchases, the same doubles) and the contract
 * part, joined the same way (every customer once) — without the RFM scores, the 80/20 levels,
 * the previous run's rows or the intervals, which the full relation joins and computes for the
 * other columns (~1 s at 2.5M customers). relations.test.ts checks both give the same values.
 */
function tierValuesOf(part: ContractPart): Relation<TierValuesParam> {
  const contracts = contractPart(part, 'valued');
  return {
    name: 'temp.run_tier_values',
    grain: 'one row per customer with a purchase on or before as-of or a contract in the run',
    sql: `
WITH ${contracts.cte},
gamma_gamma AS (
  SELECT CAST($gg_p AS DOUBLE) AS p, CAST($gg_q AS DOUBLE) AS q, CAST($gg_v AS DOUBLE) AS v, CAST($gg_nu AS DOUBLE) AS nu
),
valued AS (
  SELECT b.customer_id, b.monetary,
         ${clvSql('pr.discounted_purchases', `(${expectedOrderValueSql('b', 'gg')})`)} AS clv
  FROM temp.run_base b
  JOIN temp.run_predictions pr USING (history_key)
  CROSS JOIN gamma_gamma gg
)
SELECT customer_id, ${tierValueSql('$fitted')} AS tier_value
${contracts.from}`,
    // $run_id picks the run's contract rows: without a contract part, nothing reads it.
    params: part === 'with_contracts' ? ['gg_p', 'gg_q', 'gg_v', 'gg_nu', 'fitted', 'run_id'] : ['gg_p', 'gg_q', 'gg_v', 'gg_nu', 'fitted'],
  };
}

type TierValuesParam = 'gg_p' | 'gg_q' | 'gg_v' | 'gg_nu' | 'fitted' | 'run_id';
/** TIER_VALUES per contract part (as customerMetrics). */
export const tierValues = byContractPart(tierValuesOf);
export const TIER_VALUES: Relation<TierValuesParam> = tierValues.with_contracts;
