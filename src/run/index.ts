/**
 * `crm run`: every customer model, as of a date, recorded as one run.
 *
 * Steps (each a small SQL statement over named temp tables, the statistics in TypeScript on
 * compressed data):
 *   0. orders    — transaction lines up to as-of grouped into orders (SQL)
 *   1. base      — per customer: first/last purchase, orders, purchase days, money, the 80/20
 *                  and trend window sums (SQL)
 *   2. rfm       — score cut points; scores and segments are expressions in step 6 (models/rfm.ts)
 *   3. bgnbd     — fit on distinct (x, t_x, T) histories; P(alive), expected purchases,
 *                  discounted expected purchases and churn tier per history (models/bgnbd.ts,
 *                  clv.ts), while DuckDB ranks the 80/20 levels (step 5)
 *   4. gamma     — Gamma-Gamma on repeat customers' mean repeat value (models/gamma-gamma.ts),
 *                  while DuckDB builds the cohort triangle (models/cohorts.ts)
 *   5. pareto    — 80/20 ranks per distinct revenue amount, ABC, trend (models/pareto.ts, SQL)
 *   6. write     — one transaction: metrics_customers (customer_metrics' stored columns,
 *                  joining 1–5, with value tiers),
 *                  cohort_retention, segment_migration, backtest, and the runs row last.
 * Everything heavy is staged in temp tables before the transaction, but the customer rows, which
 * are computed as they are written; a failed or killed run leaves the store as it was. Same store + as-of + options ⇒ the same customer_metrics.
 */
import type { CrmConfig } from '../config.js';
import { readNumericColumns, writeDoubleTable } from '../store/columnar.js';
import { literal, sqlNumber, Store } from '../store/db.js';
import { inputError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import type { Progress } from '../util/progress.js';
import { TOOL_VERSION } from '../version.js';
import { BUCKET_CAP, type Backtest } from '../models/backtest.js';
import type { BgNbdParams } from '../models/bgnbd.js';
import { fitPurchaseModel, meanPurchaseRate, predictPurchases, type BgNbdBoundary, type PurchaseModelFit } from '../models/bgnbd-limits.js';
import { discountedExpectedPurchasesAll } from '../models/clv.js';
import { cohortSql } from '../models/cohorts.js';
import { fitGammaGamma, type GammaGammaFit } from '../models/gamma-gamma.js';
import { paretoColumns, paretoLevelsSql, paretoWindows, trendWindowsSql, type TrendWindows } from '../models/pareto.js';
import { bindParams, insertInto, materialize, rowsOf, type RelationParams } from '../models/relation.js';
import { BACKTEST_AUC, BACKTEST_BUCKETS, type BacktestAucRow, type BacktestBucketRow } from '../models/relations/backtest.js';
import { CUSTOMER_METRICS, type CustomerMetricsParam } from '../models/relations/customer-metrics.js';
import { PREDICTIONS, RECENCY_PREDICTIONS } from '../models/relations/predictions.js';
import { RUN_SUMMARY, type RunSummaryRow } from '../models/relations/run-summary.js';
import { SEGMENT_MIGRATION } from '../models/relations/segment-migration.js';
import { METRICS_CUSTOMERS } from '../models/relations/value-tiers.js';
import { rfmCuts, rfmScoreCuts, segmentCells } from '../models/rfm.js';
import { valueTierCuts } from '../models/tiers.js';
import { checkDatesAgainstData, resolveRunOptions, UNIT_DAYS, type RunFlags, type RunOptions } from './settings.js';

const DAYS_PER_YEAR = 365.25;
const RUN_MEMORY_LIMIT = '2GB';

/** Temp tables of one run (gone when its connection closes). */
const T = {
  orderDays: 'temp.run_order_days',
  base: 'temp.run_base',
  pred: 'temp.run_predictions',
  paretoLevels: 'temp.run_pareto_levels',
  holdout: 'temp.run_holdout_predictions',
  cohorts: 'temp.run_cohorts',
} as const;

export interface RunModelsInput {
  storePath: string;
  flags: RunFlags;
  config?: CrmConfig;
  reporter: Reporter;
  progress: Progress;
}

/** A parameter of the BG/NBD, null when the fit is at a limit that has no such parameter. */
type LimitParam = number | null;

export interface ModelReport {
  bgnbd: {
    /** null: an interior fit; otherwise the boundary whose limiting model was fitted (models/bgnbd-limits.ts). */
    boundary: BgNbdBoundary | null;
    r: LimitParam;
    alpha: LimitParam;
    a: LimitParam;
    b: LimitParam;
    /** The one dropout probability of the homogeneous-dropout limits (null otherwise). */
    p: LimitParam;
    /** Mean purchase rate per time unit: r/alpha, or the one rate of the homogeneous limits. */
    rate: number | null;
    log_likelihood: number;
    converged: boolean;
    /** By parameter name (r, alpha, a, b; rate and p for the homogeneous limits). */
    standard_errors: Record<string, number> | null;
    customers: number;
    triples: number;
    message: string;
    iterations: number;
    /** Where the unrestricted BG/NBD optimiser stopped (boundary fits only). */
    unrestricted?: BgNbdParams & { log_likelihood: number };
  } | null;
  gamma_gamma: {
    p: number;
    q: number;
    v: number;
    log_likelihood: number;
    converged: boolean;
    standard_errors: { p: number; q: number; v: number } | null;
    customers: number;
    excluded_non_positive: number;
    message: string;
  } | null;
}

export interface RunResult extends ModelReport {
  run_id: number;
  as_of: string;
  since: string | null;
  holdout_end: string | null;
  time_unit: string;
  horizon_months: number;
  customers: number;
  model_status: 'fitted' | 'fallback';
  fallback_reason: string | null;
  /** The same as a code (reports word it in plain language); null when fitted. */
  fallback_code: FallbackCode | null;
  /** The trend windows compared and whether the data covers them (else trends are NULL). */
  trend: TrendWindows;
  backtest: Backtest | null;
  summary: RunSummary;
  timings_ms: Record<string, number>;
}

/**
 * Why a run fell back to the recency score, as a code that reports word in plain language
 * (src/reports/i18n.ts, `fallback.*`); runs.fallback_reason keeps the technical message.
 */
export const FALLBACK_CODES = ['too_few_customers', 'no_repeat_purchases', 'fit_failed'] as const;
export type FallbackCode = (typeof FALLBACK_CODES)[number];

export interface RunSummary {
  segments: { segment: string; customers: number; net_revenue: number }[];
  value_tiers: { tier: string; customers: number; clv: number | null; net_revenue: number }[];
  churn_tiers: { tier: string; customers: number }[];
  key_accounts: { customers: number; customer_share: number; revenue_share: number; at_risk: number };
  net_revenue: number;
  expected_purchases: number | null;
  clv_total: number | null;
  /** Customers with return lines but no purchase on or before as-of: not scored (no purchase history), counted here. */
  customers_only_returns: number;
  /** Up to RETURN_ONLY_EXAMPLES of their ids, in id order. */
  customers_only_returns_examples: string[];
}

/** How many ids of return-only customers the run summary lists. */
const RETURN_ONLY_EXAMPLES = 5;

export async function runModels(input: RunModelsInput): Promise<RunResult> {
  const options = resolveRunOptions(input.flags, input.config);
  // Scoring 2.5M customers aggregates wider than loading them: a 2 GB cap (CRM_MEMORY_LIMIT still
  // wins) keeps DuckDB from spilling its hash tables, measured 1.5 s faster on the bench.
  const store = await Store.open(input.storePath, { memoryLimit: process.env.CRM_MEMORY_LIMIT ?? RUN_MEMORY_LIMIT });
  try {
    return await runWithStore(store, options, input);
  } finally {
    // The temp tables live and die with this connection: closing frees them.
    store.close();
  }
}

async function runWithStore(store: Store, options: RunOptions, input: RunModelsInput): Promise<RunResult> {
  const { settings } = options;
  const { progress } = input;
  const timings: Record<string, number> = {};
  const timed = async <R>(name: string, fn: () => Promise<R>): Promise<R> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = Math.round(performance.now() - t0);
    }
  };
  const started = new Date();

  const lastDate = await store.value<string | null>('SELECT CAST(max(order_date) AS VARCHAR) FROM transactions');
  if (!lastDate) throw inputError('the store has no transactions: load some with `crm ingest transactions FILE`');
  const asOf = checkDatesAgainstData(options, lastDate);
  const unitDays = UNIT_DAYS[settings.time_unit];
  const horizonUnits = (settings.horizon_months * DAYS_PER_YEAR) / 12 / unitDays;

  // 1. Customer base
  let trend!: TrendWindows;
  await progress.step(`summarising customers as of ${asOf}`, async (tick) => {
    const scale = await timed('money_scale', () =>
      store.one<{ with_cost: boolean; narrow: boolean }>(
        `SELECT count(cost) > 0 AS with_cost, coalesce(sum(abs(amount)), 0) + coalesce(sum(abs(cost)), 0) < 1e14 AS narrow
         FROM transactions WHERE order_date <= DATE ${literal(asOf)}`,
      ),
    );
    const withCost = Boolean(scale?.with_cost);
    const money = moneySum(Boolean(scale?.narrow));
    await timed('order_days', () => store.runWithProgress(`CREATE OR REPLACE TEMP TABLE run_order_days AS ${orderDaysSql(asOf, withCost, money)}`, (f) => tick(f === null ? null : f * 0.7)));
    trend = (await store.one<TrendWindows>(trendWindowsSql({ asOf, since: options.since, trendWindowDays: settings.key_accounts.trend_window_days })))!;
    const windows = paretoWindows({ since: options.since }, trend);
    await timed('base', () => store.runWithProgress(`CREATE OR REPLACE TEMP TABLE run_base AS ${baseSql(asOf, windows, withCost, money)}`, (f) => tick(f === null ? null : 0.7 + f * 0.3)));
  });
  const customers = (await store.value<number>(`SELECT count(*) FROM ${T.base}`)) ?? 0;
  if (customers === 0) throw inputError(`no customer has a purchase on or before ${asOf}`);
  // Customers whose only lines up to as-of are returns have no purchase history to score; they
  // are counted (and a few named) in the summary rather than silently dropped.
  const onlyReturns = (await store.one<{ customers: number; examples: string[] | null }>(
    `SELECT count(*) AS customers, list(customer_id ORDER BY customer_id)[1:${RETURN_ONLY_EXAMPLES}] AS examples
     FROM (SELECT customer_id FROM ${T.orderDays} GROUP BY customer_id HAVING bool_and(is_return))`,
  ))!;

  // 2. RFM score boundaries (the scores themselves are computed in step 6)
  const rfm = rfmScoreCuts(settings.rfm, await timed('rfm', () => rfmCuts(store, T.base, settings.rfm)));

  // 3. BG/NBD
  let fallbackReason: string | null = null;
  let fallbackCode: FallbackCode | null = null;
  let bgnbd: PurchaseModelFit | null = null;
  const triples = await timed('read_triples', () =>
    readNumericColumns(store, `SELECT bgnbd_x AS x, t_x_days, T_days, count(*) AS weight FROM ${T.base} GROUP BY ALL ORDER BY ALL`),
  );
  const data = {
    x: triples.x,
    tx: triples.t_x_days.map((d) => d / unitDays),
    T: triples.T_days.map((d) => d / unitDays),
    weight: triples.weight,
  };
  const repeaters = await store.value<number>(`SELECT count(*) FROM ${T.base} WHERE bgnbd_x > 0`);
  // (Everyone buying first on the as-of date is covered by "nobody repeats": T = 0 forces x = 0.)
  if (customers < settings.min_customers) [fallbackCode, fallbackReason] = ['too_few_customers', `only ${customers} customer${customers === 1 ? '' : 's'} (the models need at least ${settings.min_customers})`];
  else if (!repeaters) [fallbackCode, fallbackReason] = ['no_repeat_purchases', 'no customer has bought on more than one day, so purchase rates and drop-out cannot be told apart'];
  // Step 5 (80/20) runs in DuckDB's threads while the BG/NBD fit runs here (pure JS, no store access).
  const pareto = timed('pareto', () =>
    store.run(
      `CREATE OR REPLACE TEMP TABLE run_pareto_levels AS ${paretoLevelsSql(T.base, { share: settings.key_accounts.share, bShare: settings.key_accounts.b_share })}`,
    ),
  );
  if (!fallbackReason) {
    bgnbd = await progress.step(`fitting BG/NBD on ${triples.x.length.toLocaleString('en-US')} distinct histories`, () =>
      timed('bgnbd_fit', async () => fitPurchaseModel(data)),
    );
    // A maximum at the boundary of the parameter space is a fit too (its limiting model).
    if (bgnbd.model === null) [fallbackCode, fallbackReason] = ['fit_failed', `the BG/NBD fit did not converge: ${bgnbd.message}`];
  }
  await pareto;
  const model = fallbackReason === null ? (bgnbd?.model ?? null) : null;
  const fitted = model !== null;
  if (model) {
    await timed('bgnbd_predict', async () => {
      const prediction = predictPurchases(model, data, horizonUnits);
      const discounted = discountedExpectedPurchasesAll(model, data, {
        horizon: horizonUnits,
        unitsPerYear: DAYS_PER_YEAR / unitDays,
        annualDiscountRate: settings.discount_rate,
      });
      await writeDoubleTable(store, 'run_predictions_raw', {
        x: triples.x,
        t_x_days: triples.t_x_days,
        T_days: triples.T_days,
        p_alive: prediction.pAlive,
        p_no_purchase: prediction.pNoPurchase,
        expected_purchases: prediction.expectedPurchases,
        discounted_purchases: discounted,
      });
      // Per distinct history (~4× fewer than customers on the bench), keyed like run_base.
      await materialize(store, PREDICTIONS, { tier_basis: settings.churn_tiers.basis, high: settings.churn_tiers.high, medium: settings.churn_tiers.medium });
      await store.run('DROP TABLE temp.run_predictions_raw');
    });
  } else {
    await timed('recency_predict', () => materialize(store, RECENCY_PREDICTIONS, { high: settings.churn_tiers.high, medium: settings.churn_tiers.medium }));
  }

  // 4. Gamma-Gamma on the mean value of repeat purchases
  let gamma: GammaGammaFit | null = null;
  let excludedSpend = 0;
  if (fitted) {
    const spend = await timed('read_spend', () =>
      // Sorted so the fit sums in the same order every run (rows equal in both are interchangeable).
      readNumericColumns(store, `SELECT bgnbd_x AS x, repeat_mean_value AS m FROM ${T.base} WHERE bgnbd_x > 0 AND repeat_mean_value > 0 ORDER BY x, m`),
    );
    excludedSpend = (await store.value<number>(`SELECT count(*) FROM ${T.base} WHERE bgnbd_x > 0 AND NOT (repeat_mean_value > 0)`)) ?? 0;
    if (spend.x.length >= 2) {
      gamma = await progress.step(`fitting Gamma-Gamma on ${spend.x.length.toLocaleString('en-US')} repeat customers`, async () => {
        // The cohort triangle is built in DuckDB's threads meanwhile (inserted in step 6).
        const cohorts = timed('cohorts', () => store.run(`CREATE OR REPLACE TEMP TABLE run_cohorts AS ${cohortSql(T.base, T.orderDays, asOf)}`));
        const fit = await timed('gamma_fit', async () => fitGammaGamma({ x: spend.x, m: spend.m }));
        await cohorts;
        return fit;
      });
    }
  }
  if (!(await store.value<number>("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'run_cohorts'"))) {
    await timed('cohorts', () => store.run(`CREATE OR REPLACE TEMP TABLE run_cohorts AS ${cohortSql(T.base, T.orderDays, asOf)}`));
  }
  const gammaUsable = gamma !== null && gamma.converged && gamma.finiteMean;

  // Backtest predictions need the holdout length in units; prepared before the transaction.
  if (options.holdoutEnd && model) {
    await timed('backtest_predict', async () => {
      const holdoutUnits = daysBetween(asOf, options.holdoutEnd!) / unitDays;
      const p = predictPurchases(model, data, holdoutUnits);
      await writeDoubleTable(store, 'run_holdout_predictions', { x: triples.x, t_x_days: triples.t_x_days, T_days: triples.T_days, predicted: p.expectedPurchases });
    });
  }

  // 6. Write the run atomically. This process holds the store's write lock, so the run id
  // chosen here stays free.
  const runId = ((await store.value<number>('SELECT coalesce(max(run_id), 0) FROM runs')) ?? 0) + 1;
  // "Previous" is the latest run of an earlier as-of date: rerunning the same date compares
  // with the same earlier period, so reruns reproduce their results exactly.
  const previousRunId = (await store.value<number | null>(`SELECT max(run_id) FROM runs WHERE as_of < DATE ${literal(asOf)}`)) ?? null;
  // The value-tier boundaries from the values the tiers rank (only that column of the customer
  // metrics is computed), then the rows computed and written in one pass inside the transaction.
  const gg = gammaUsable ? gamma!.params : null;
  const metricsParams: RelationParams<CustomerMetricsParam> = {
    run_id: runId,
    previous_run_id: previousRunId,
    as_of: asOf,
    time_unit_days: unitDays,
    fitted,
    ...rfm,
    rfm_bins: settings.rfm.bins,
    segment_cells: segmentCells(settings.rfm),
    gg_p: gg?.p ?? null,
    gg_q: gg?.q ?? null,
    gg_v: gg?.v ?? null,
    revenue_drop: settings.key_accounts.revenue_drop,
    churn_risk_rise: settings.key_accounts.churn_risk_rise,
  };
  const tierCuts = await timed('value_tiers', () =>
    valueTierCuts(store, `(${CUSTOMER_METRICS.sql})`, 'tier_value', settings.value_tiers, bindParams(CUSTOMER_METRICS, metricsParams)),
  );
  const result = await progress.step('writing customer_metrics', () =>
    timed('write', () =>
      store.transaction(async () => {
        await timed('write_metrics', () =>
          insertInto(store, 'metrics_customers', METRICS_CUSTOMERS, { ...metricsParams, tier_names: settings.value_tiers.map((t) => t.name), tier_cuts: tierCuts }),
        );
        await store.run(`INSERT INTO cohort_retention SELECT ${runId}, * FROM ${T.cohorts}`);
        await timed('segment_migration', () => insertInto(store, 'segment_migration', SEGMENT_MIGRATION, { run_id: runId, previous_run_id: previousRunId }));
        const backtest = options.holdoutEnd ? await timed('backtest', () => computeBacktest(store, runId, asOf, options.holdoutEnd!, fitted)) : null;
        const summary: RunSummary = {
          ...(await timed('summary', () => summarise(store, runId, fitted))),
          customers_only_returns: onlyReturns.customers,
          customers_only_returns_examples: [...(onlyReturns.examples ?? [])],
        };
        const report: RunResult = {
          run_id: runId,
          as_of: asOf,
          since: options.since,
          holdout_end: options.holdoutEnd,
          time_unit: settings.time_unit,
          horizon_months: settings.horizon_months,
          customers,
          model_status: fitted ? 'fitted' : 'fallback',
          fallback_reason: fallbackReason,
          fallback_code: fallbackCode,
          trend,
          bgnbd: bgnbd ? describeBgNbd(bgnbd) : null,
          gamma_gamma: gamma ? describeGamma(gamma, excludedSpend) : null,
          backtest,
          summary,
          timings_ms: timings,
        };
        timings.total = Date.now() - started.getTime();
        const inputInfo = await store.one(
          `SELECT (SELECT list(load_id ORDER BY load_id) FROM loads WHERE status = 'loaded') AS loads,
                  (SELECT count(*) FROM transactions WHERE order_date <= DATE ${literal(asOf)}) AS transactions_used`,
        );
        // The data's first date and the trend windows it was compared over ("not enough history" when not comparable).
        const input = { ...inputInfo, trend };
        await store.run(
          `INSERT INTO runs VALUES ($1, $2::TIMESTAMP, $3::DATE, $4::DATE, $5::DATE, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
          [
            runId,
            started.toISOString().replace('T', ' ').replace('Z', ''),
            asOf,
            options.since,
            options.holdoutEnd,
            settings.time_unit,
            settings.horizon_months,
            JSON.stringify({ as_of: asOf, since: options.since, holdout_end: options.holdoutEnd, ...settings }),
            JSON.stringify(input),
            customers,
            report.model_status,
            fallbackReason,
            report.bgnbd ? JSON.stringify(report.bgnbd) : null,
            report.gamma_gamma ? JSON.stringify(report.gamma_gamma) : null,
            backtest ? JSON.stringify(backtest) : null,
            JSON.stringify(summary),
            JSON.stringify(timings),
            TOOL_VERSION,
            fallbackCode,
          ],
        );
        return report;
      }),
    ),
  );
  result.timings_ms = timings;
  return result;
}

function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86_400_000);
}

/**
 * Order, day and customer sums back in the lines' DECIMAL(18, 4) (DuckDB widens every sum to 38
 * digits): 64-bit sums downstream are ~30 % faster than 128-bit ones. Only when `narrow`: the
 * absolute amounts and costs of all the lines add up to less than 10^14, so no partial sum can
 * overflow 18 digits; otherwise (low-value currencies, huge stores) the sums stay 38 digits wide.
 */
function moneySum(narrow: boolean): (sum: string) => string {
  return narrow ? (sum) => `CAST(${sum} AS DECIMAL(18, 4))` : (sum) => sum;
}

/**
 * A customer's purchase history (x, t_x, T in days) as one BIGINT, x·2⁴⁰ + t_x·2²⁰ + T: the
 * predictions made per distinct history are joined back to customers on one 64-bit key instead
 * of three columns. Exact while T < 2²⁰ days (2,870 years) and x < 2²³.
 */
function historyKey(x: string, txDays: string, tDays: string): string {
  return `(CAST(${x} AS BIGINT) * 1099511627776 + CAST(${txDays} AS BIGINT) * 1048576 + CAST(${tDays} AS BIGINT))`;
}

/**
 * Step 0: transactions up to as-of, one row per customer order (lines sharing an order id; rows
 * without one form an order per day), returns apart. An order is one purchase occasion, dated by
 * its first line. ~2× fewer rows than lines; every later step (base, cohorts) reads this instead
 * of rescanning the lines, and counting orders is counting rows.
 *
 * Each aggregate costs about as much as the grouping itself at this size, so the cost sums are
 * only computed when some line carries a cost (`withCost`).
 */

function orderDaysSql(asOf: string, withCost: boolean, money: (sum: string) => string): string {
  return `
SELECT customer_id, is_return,
       min(order_date) AS order_date,
       ${money('sum(amount)')} AS amount,
       count(*) AS lines${withCost ? `,
       ${money('sum(cost)')} AS cost,
       ${money('sum(amount) FILTER (WHERE cost IS NOT NULL)')} AS costed_amount` : ''}
FROM transactions
WHERE order_date <= DATE ${literal(asOf)}
GROUP BY customer_id, order_id, CASE WHEN order_id IS NULL THEN order_date END, is_return`;
}

/**
 * Step 1: one row per customer with a purchase on or before as-of. Orders are distinct order
 * ids (or days, for rows without one); purchase days drive BG/NBD; returns are netted into
 * money but never count as purchases.
 *
 * Purchases are summed per day, then per customer; returns (a few percent of orders) apart, then
 * joined: fewer aggregates over the millions of orders than one pass with a FILTER per measure.
 */
function baseSql(asOf: string, windows: ReturnType<typeof paretoWindows>, withCost: boolean, money: (sum: string) => string): string {
  const d = `DATE ${literal(asOf)}`;
  // The 80/20 window is all history unless --since narrows it: then it is the net revenue.
  const windowSums = (column: string) =>
    `${windows.pareto ? `sum(${column}) FILTER (WHERE ${windows.pareto})` : 'NULL::DECIMAL(38, 4)'} AS pareto_revenue,
         sum(${column}) FILTER (WHERE ${windows.current}) AS trend_current,
         ${windows.previous ? `sum(${column}) FILTER (WHERE ${windows.previous})` : 'NULL::DECIMAL(38, 4)'} AS trend_previous`;
  // Purchase-side plus return-side sum, NULL only when both are (no line of the customer).
  const both = (col: string) => `CASE WHEN p.${col} IS NOT NULL OR r.${col} IS NOT NULL THEN coalesce(p.${col}, 0) + coalesce(r.${col}, 0) END`;
  const netRevenue = 'p.gross_revenue + coalesce(r.returned, 0)';
  return `
WITH purchase_days AS (
  SELECT customer_id, order_date, count(*) AS day_orders, ${money('sum(amount)')} AS day_value${withCost ? `, ${money('sum(cost)')} AS cost, ${money('sum(costed_amount)')} AS costed_amount` : ''}
  FROM ${T.orderDays} WHERE NOT is_return GROUP BY customer_id, order_date
),
purchases AS (
  SELECT customer_id,
         count(*) AS purchase_days,
         min(order_date) AS first_purchase,
         max(order_date) AS last_purchase,
         arg_min(day_value, order_date) AS first_day_value,
         sum(day_orders) AS orders,
         sum(day_value) AS gross_revenue,
         ${windowSums('day_value')}${withCost ? ', sum(cost) AS cost, sum(costed_amount) AS costed_amount' : ''}
  FROM purchase_days GROUP BY customer_id
),
returns AS (
  SELECT customer_id,
         sum(amount) AS returned,
         sum(lines) AS return_lines,
         ${windowSums('amount')}${withCost ? ', sum(cost) AS cost, sum(costed_amount) AS costed_amount' : ''}
  FROM ${T.orderDays} WHERE is_return GROUP BY customer_id
)
SELECT p.customer_id,
       p.first_purchase,
       p.last_purchase,
       date_diff('day', p.last_purchase, ${d}) AS recency_days,
       date_diff('day', p.first_purchase, ${d}) AS tenure_days,
       CAST(p.orders AS INTEGER) AS frequency,
       CAST(p.purchase_days AS INTEGER) AS purchase_days,
       CAST(${netRevenue} AS DOUBLE) AS monetary,
       CAST(p.gross_revenue AS DOUBLE) AS gross_revenue,
       CAST(coalesce(-r.returned, 0) AS DOUBLE) AS returns_value,
       CAST(coalesce(r.return_lines, 0) AS INTEGER) AS return_lines,
       CAST(p.gross_revenue AS DOUBLE) / p.orders AS avg_order_value,
       -- Margin only over lines that carry a cost; NULL when none does.
       ${withCost ? `CAST(${both('costed_amount')} - ${both('cost')} AS DOUBLE)` : 'NULL::DOUBLE'} AS margin,
       CAST(p.purchase_days - 1 AS INTEGER) AS bgnbd_x,
       date_diff('day', p.first_purchase, p.last_purchase) AS t_x_days,
       date_diff('day', p.first_purchase, ${d}) AS T_days,
       -- Mean net value of the repeat purchases: everything after the first purchase day,
       -- returns netted in (Gamma-Gamma's m; customers with m ≤ 0 are left out of its fit).
       CASE WHEN p.purchase_days > 1 THEN CAST(${netRevenue} - p.first_day_value AS DOUBLE) / (p.purchase_days - 1) END AS repeat_mean_value,
       CAST(p.first_day_value AS DOUBLE) AS first_day_value,
       CAST(date_trunc('month', p.first_purchase) AS DATE) AS cohort_month,
       ${historyKey('p.purchase_days - 1', "date_diff('day', p.first_purchase, p.last_purchase)", `date_diff('day', p.first_purchase, ${d})`)} AS history_key,
       ${money(windows.pareto ? 'coalesce(p.pareto_revenue, 0) + coalesce(r.pareto_revenue, 0)' : netRevenue)} AS pareto_revenue,
       coalesce(p.trend_current, 0) + coalesce(r.trend_current, 0) AS trend_current,
       -- NULL when the data does not cover the previous window: not enough history to compare.
       ${windows.previous ? 'coalesce(p.trend_previous, 0) + coalesce(r.trend_previous, 0)' : 'NULL::DECIMAL(38, 4)'} AS trend_previous
FROM purchases p LEFT JOIN returns r USING (customer_id)`;
}

async function computeBacktest(store: Store, runId: number, asOf: string, holdoutEnd: string, fitted: boolean): Promise<Backtest> {
  // Without a fitted model there are no holdout predictions: every customer's is 0.
  await store.run('CREATE TEMP TABLE IF NOT EXISTS run_holdout_predictions (x DOUBLE, t_x_days DOUBLE, T_days DOUBLE, predicted DOUBLE)');
  const params = { as_of: asOf, holdout_end: holdoutEnd, run_id: runId };
  const buckets = await rowsOf<BacktestBucketRow, keyof typeof params>(store, BACKTEST_BUCKETS, params);
  const aucs = await rowsOf<BacktestAucRow, keyof typeof params>(store, BACKTEST_AUC, params);
  const auc = aucs.find((a) => a.score === 'churn_risk');
  const aucNoPurchase = aucs.find((a) => a.score === 'p_no_purchase');
  return {
    holdout_start: asOf,
    holdout_end: holdoutEnd,
    holdout_days: daysBetween(asOf, holdoutEnd),
    customers: buckets.reduce((a, b) => a + b.customers, 0),
    predicted_total: buckets.reduce((a, b) => a + b.predicted, 0),
    actual_total: buckets.reduce((a, b) => a + b.actual, 0),
    by_frequency: buckets.map((b) => ({
      bucket: b.bucket_x >= BUCKET_CAP ? `${BUCKET_CAP}+` : String(b.bucket_x),
      customers: b.customers,
      predicted: b.predicted,
      actual: b.actual,
    })),
    auc: auc?.auc ?? null,
    auc_p_no_purchase: aucNoPurchase?.auc ?? null,
    buyers: auc?.n_neg ?? 0,
    non_buyers: auc?.n_pos ?? 0,
    method: fitted ? 'bgnbd' : 'recency',
  };
}

/** The run summary from one pass over the run's rows (models/relations/run-summary.ts). */
async function summarise(store: Store, runId: number, fitted: boolean): Promise<Omit<RunSummary, 'customers_only_returns' | 'customers_only_returns_examples'>> {
  const rows = await rowsOf<RunSummaryRow, 'run_id'>(store, RUN_SUMMARY, { run_id: runId });
  const of = (group: RunSummaryRow['grouped_by']) => rows.filter((r) => r.grouped_by === group);
  const t = of('total')[0];
  return {
    segments: of('segment').map((r) => ({ segment: r.name!, customers: r.customers, net_revenue: r.net_revenue })),
    value_tiers: of('value_tier').map((r) => ({ tier: r.name!, customers: r.customers, clv: r.clv, net_revenue: r.net_revenue })),
    churn_tiers: of('churn_tier').map((r) => ({ tier: r.name!, customers: r.customers })),
    key_accounts: {
      customers: t.key_customers,
      customer_share: t.customers ? t.key_customers / t.customers : 0,
      revenue_share: t.positive_revenue ? (t.key_revenue ?? 0) / t.positive_revenue : 0,
      at_risk: t.key_at_risk,
    },
    net_revenue: t.net_revenue,
    expected_purchases: fitted ? t.expected_purchases : null,
    clv_total: fitted ? t.clv : null,
  };
}

/** runs.bgnbd: the fitted model's parameters (null where its limit has none), or the failed fit's. */
function describeBgNbd(fit: PurchaseModelFit): NonNullable<ModelReport['bgnbd']> {
  const model = fit.model;
  const params: Record<string, number> = model ? { ...model.params } : { ...fit.full.params };
  const param = (name: string): LimitParam => params[name] ?? null;
  return {
    boundary: model?.boundary ?? null,
    r: param('r'),
    alpha: param('alpha'),
    a: param('a'),
    b: param('b'),
    p: param('p'),
    rate: model ? meanPurchaseRate(model) : fit.full.params.r / fit.full.params.alpha,
    log_likelihood: fit.logLikelihood,
    converged: fit.converged,
    standard_errors: model ? fit.standardErrors : fit.full.standardErrors ? { ...fit.full.standardErrors } : null,
    customers: fit.customers,
    triples: fit.rows,
    iterations: fit.iterations,
    message: fit.message,
    ...(model?.boundary ? { unrestricted: { ...fit.full.params, log_likelihood: fit.full.logLikelihood } } : {}),
  };
}

function describeGamma(fit: GammaGammaFit, excluded: number): NonNullable<ModelReport['gamma_gamma']> {
  return {
    ...fit.params,
    log_likelihood: fit.logLikelihood,
    converged: fit.converged && fit.finiteMean,
    standard_errors: fit.standardErrors,
    customers: fit.customers,
    excluded_non_positive: excluded,
    message: fit.message,
  };
}
