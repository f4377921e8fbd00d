/**
 * crm_customer_metrics computed ON the cluster (issue #13: "send the per-history scores back and
 * join them on the cluster"). `crm run --source` fits locally; what goes back is one row per
 * distinct purchase history (x, t_x, T: its key, P(alive), churn risk, expected and discounted
 * purchases, churn tier — ~858k rows for 2.5M customers at 10M lines) plus the run's parameters,
 * and one INSERT … SELECT on the cluster joins them to its own per-customer summary.
 *
 * Every per-customer rule here is RENDERED from its one definition for ClickHouse (dialect.ts),
 * not written a second time:
 * - the base's columns (recency, frequency, monetary, x, t_x, T, Gamma-Gamma's m, the history
 *   key): customer-base.ts `baseColumnsSql`, over the same per-customer sums the run downloaded
 *   (clickhouse-summary.ts `clickhouseCustomerSums`, merges and mapping applied the same way);
 * - RFM scores and segment: customer-metrics.ts `scoreSql`, `segmentSql` with the run's cuts
 *   and rule cells;
 * - expected order value (Gamma-Gamma posterior mean or the customer's own mean) and CLV:
 *   `expectedOrderValueOf`, `clvSql`, with the run's p, q, v;
 * - the value the tiers rank and the tier: `purchaseValueSql` (a source run has no contracts,
 *   run/index.ts) and value-tiers.ts `valueTierSql`, with the run's cuts (models/tiers.ts);
 * - net revenue: the 80/20 window's revenue as a double, as the local relation casts it.
 * The 80/20 class is the local run's level table (ranked on the cluster or, for wide money,
 * locally), which is monotone in revenue: a customer with positive revenue is A from the least
 * A level up, B from the least B level up, else C (revenue-levels.ts's rule gives no other
 * order), so two exact Decimal bounds replace the join on every level.
 *
 * ClickHouse 18.16: one join per SELECT (the histories' join; every other step is a nested
 * SELECT), explicit Int64 on both sides of the join key, aliases distinct from the columns they
 * read (the sums' columns are renamed s_* first: a ClickHouse alias is visible across its whole
 * SELECT), values bound as `{name:Type}` (store/clickhouse.ts bindValues: floats as their IEEE
 * bits, strings through quoteString). test/run/clickhouse-source.test.ts compares the result
 * column by column with the local customer_metrics.
 */
import { chDate, chDecimal, quoteIdentifier, quoteString, type ChValue } from '../../store/clickhouse.js';
import { clickhouseCustomerSums, type SourceReading } from './clickhouse-summary.js';
import { baseColumnsSql } from './customer-base.js';
import { clvSql, expectedOrderValueOf, purchaseValueSql, scoreSql, segmentSql } from './customer-metrics.js';
import { CLICKHOUSE } from './dialect.js';
import { valueTierSql } from './value-tiers.js';

/** The per-history scores table's columns (ClickHouse types), as the run sends them. */
export const HISTORY_SCORES_COLUMNS = {
  history_key: 'Int64',
  p_alive: 'Nullable(Float64)',
  churn_risk: 'Nullable(Float64)',
  expected_purchases: 'Nullable(Float64)',
  discounted_purchases: 'Nullable(Float64)',
  churn_tier: 'Nullable(String)',
} as const;

/** The run's parameters the per-customer rules read. */
export interface ClusterMetricsRun {
  run_id: number;
  as_of: string;
  /** The run's 80/20 window start (--since); null: all history. The trend windows: only for the shared sums query. */
  pareto_start: string | null;
  current_start: string;
  previous_start: string;
  fitted: boolean;
  r_cuts: number[];
  f_cuts: number[];
  m_cuts: number[];
  rfm_bins: number;
  segment_cells: string[];
  /** The spend model: the Gamma-Gamma's p, q, v, or its homogeneous-spend limit's p and nu (q, v null); null: none. */
  gg: { p: number; q: number | null; v: number | null; nu: number | null } | null;
  tier_names: string[];
  /** Each tier's least value but the last's; Infinity: nobody reaches it. */
  tier_cuts: number[];
  /** The least 80/20 revenue of class A and of class B (exact decimal text); null: no such class. */
  a_least: string | null;
  b_least: string | null;
}

/** A list of doubles as a ClickHouse array of bound values (Infinity as `inf`: bindValues takes finite values only). */
function doubles(name: string, values: number[], params: Record<string, ChValue>): string {
  if (values.length === 0) return 'emptyArrayFloat64()';
  return `[${values
    .map((value, i) => {
      if (value === Infinity) return 'inf';
      if (value === -Infinity) return '-inf';
      params[`${name}_${i}`] = value;
      return `{${name}_${i}:Float64}`;
    })
    .join(', ')}]`;
}

function strings(values: string[]): string {
  return values.length === 0 ? 'emptyArrayString()' : `[${values.map(quoteString).join(', ')}]`;
}

/**
 * The INSERT … SELECT that writes one run's crm_customer_metrics on the cluster: the cluster's
 * per-customer sums — the table the run's read step staged them in (`staged`), else computed
 * again over the source's main table (a `SourceReading`) — joined with `scores` (the run's
 * per-history scores table) on the history key. Returns the SQL with `{name:Type}` placeholders
 * and their values (ClickHouseClient.run binds them).
 */
export function clusterCustomerMetrics(
  sums: SourceReading | { staged: string },
  scores: string,
  target: string,
  columns: readonly string[],
  run: ClusterMetricsRun,
): { sql: string; params: Record<string, ChValue> } {
  const staged = 'staged' in sums;
  const params: Record<string, ChValue> = {
    run_id: run.run_id,
    as_of: chDate(run.as_of),
    // The windows: only the sums' own query reads them.
    ...(staged
      ? {}
      : {
          pareto_start: run.pareto_start === null ? null : chDate(run.pareto_start),
          current_start: chDate(run.current_start),
          previous_start: chDate(run.previous_start),
        }),
    fitted: run.fitted ? 1 : 0,
    gg_p: run.gg?.p ?? null,
    gg_q: run.gg?.q ?? null,
    gg_v: run.gg?.v ?? null,
    gg_nu: run.gg?.nu ?? null,
    a_least: run.a_least === null ? null : chDecimal(run.a_least),
    b_least: run.b_least === null ? null : chDecimal(run.b_least),
  };
  const base = baseColumnsSql(CLICKHOUSE, (name) => `s_${name}`);
  const gg = { p: '{gg_p:Nullable(Float64)}', q: '{gg_q:Nullable(Float64)}', v: '{gg_v:Nullable(Float64)}', nu: '{gg_nu:Nullable(Float64)}' };
  const rCuts = doubles('r_cut', run.r_cuts, params);
  const fCuts = doubles('f_cut', run.f_cuts, params);
  const mCuts = doubles('m_cut', run.m_cuts, params);
  const tierCuts = doubles('tier_cut', run.tier_cuts, params);
  const keys = Object.keys(HISTORY_SCORES_COLUMNS).filter((c) => c !== 'history_key');
  const sql = `
INSERT INTO ${quoteIdentifier(target)} (${columns.map(quoteIdentifier).join(', ')})
SELECT {run_id:UInt32} AS run_id, {as_of:Date} AS as_of, customer_id, rfm_segment, churn_tier, value_tier, abc_class,
       p_alive, churn_risk, expected_purchases, clv, net_revenue
FROM (
  -- The value tier of the value the tiers rank (value-tiers.ts).
  SELECT customer_id, rfm_segment, churn_tier, abc_class, p_alive, churn_risk, expected_purchases, clv, net_revenue,
         ${valueTierSql('tier_value', strings(run.tier_names), tierCuts, CLICKHOUSE)} AS value_tier
  FROM (
    -- Segment, CLV, the tiers' value, net revenue and the 80/20 class (customer-metrics.ts).
    SELECT customer_id, churn_tier, p_alive, churn_risk, expected_purchases,
           ${segmentSql('r_score', 'f_score', 'm_score', strings(run.segment_cells), String(Number(run.rfm_bins)), CLICKHOUSE)} AS rfm_segment,
           ${clvSql('discounted_purchases', 'expected_order_value')} AS clv,
           ${purchaseValueSql('{fitted:UInt8}')} AS tier_value,
           ${CLICKHOUSE.double('pareto_revenue')} AS net_revenue,
           CASE WHEN coalesce(pareto_revenue >= CAST({a_least:Nullable(String)} AS Nullable(Decimal(38, 4))), 0) THEN 'A'
                WHEN coalesce(pareto_revenue >= CAST({b_least:Nullable(String)} AS Nullable(Decimal(38, 4))), 0) THEN 'B'
                ELSE 'C' END AS abc_class
    FROM (
      -- RFM scores and the expected order value (customer-metrics.ts).
      SELECT customer_id, churn_tier, p_alive, churn_risk, expected_purchases, discounted_purchases, monetary, pareto_revenue,
             ${scoreSql('-recency_days', rCuts, CLICKHOUSE)} AS r_score,
             ${scoreSql('frequency', fCuts, CLICKHOUSE)} AS f_score,
             ${scoreSql('monetary', mCuts, CLICKHOUSE)} AS m_score,
             ${expectedOrderValueOf((name) => name, gg)} AS expected_order_value
      FROM (
        -- Each customer with the scores of their purchase history: the one join.
        SELECT *
        FROM (
          -- The customer base (customer-base.ts).
          SELECT customer_id,
                 ${base.recency_days} AS recency_days,
                 ${base.frequency} AS frequency,
                 ${base.purchase_days} AS purchase_days,
                 ${base.monetary} AS monetary,
                 ${base.bgnbd_x} AS bgnbd_x,
                 ${base.repeat_mean_value} AS repeat_mean_value,
                 ${base.first_day_value} AS first_day_value,
                 toInt64(${base.history_key}) AS history_key,
                 s_pareto_revenue AS pareto_revenue
          FROM (
            SELECT customer_id, purchase_days AS s_purchase_days, assumeNotNull(first_purchase) AS s_first_purchase,
                   assumeNotNull(last_purchase) AS s_last_purchase, orders AS s_orders,
                   assumeNotNull(gross_revenue) + returned AS s_net_revenue, assumeNotNull(first_day_value) AS s_first_day_value,
                   {as_of:Date} AS s_as_of, pareto_revenue AS s_pareto_revenue
            FROM (${staged ? `SELECT * FROM ${quoteIdentifier(sums.staged)}` : clickhouseCustomerSums(sums)}
            )
            -- Customers whose only lines are returns have no purchase history: not scored.
            WHERE purchase_days > 0
          )
        )
        ANY INNER JOIN (
          SELECT toInt64(history_key) AS history_key, ${keys.join(', ')}
          FROM ${quoteIdentifier(scores)}
        ) USING history_key
      )
    )
  )
)`;
  return { sql, params };
}
