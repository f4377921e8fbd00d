/**
 * `crm run`: every customer model, as of a date, recorded as one run.
 *
 * Steps (the SQL is a chain of relations in src/models/relations/, each materialised as the temp
 * table of its name, or inlined into the one relation that reads it; the statistics in
 * TypeScript on compressed data):
 *   1. chain     — trend windows → orders → purchase days → customer base (run_base), and the
 *                  customers with only returns (counted, not scored); lines are read as the
 *                  history of their customer after the merges in effect (relations/merged-history.ts)
 *   2. rfm       — score cut points; scores and segments are expressions in step 6 (models/rfm.ts)
 *   3. bgnbd     — fit on the distinct histories (x, t_x, T) (or the model --model names,
 *                  models/purchase-models.ts; --model bgbb: the BG/BB on the distinct period
 *                  histories of relations/period-histories.ts); P(alive), expected purchases,
 *                  discounted expected purchases and churn tier per history (models/bgnbd.ts,
 *                  clv.ts), while DuckDB ranks the 80/20 levels (relations/revenue-levels.ts)
 *   4. gamma     — Gamma-Gamma on repeat customers' mean repeat value (models/gamma-gamma.ts),
 *                  while DuckDB builds the cohort triangle (relations/cohorts.ts)
 *   6. write     — one transaction: metrics_customers (customer_metrics' stored columns,
 *                  joining 1–5, with value tiers),
 *                  cohort_retention, segment_migration, backtest, and the runs row last.
 * Everything heavy is staged in temp tables before the transaction, but the customer rows, which
 * are computed as they are written; a failed or killed run leaves the store as it was. Same store + as-of + options ⇒ the same customer_metrics.
 */
import type { CrmConfig } from '../config.js';
import { readNumericColumns, writeDoubleTable } from '../store/columnar.js';
import { literal, Store } from '../store/db.js';
import { inputError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import type { Progress } from '../util/progress.js';
import { TOOL_VERSION } from '../version.js';
import { BUCKET_CAP, type Backtest } from '../models/backtest.js';
import type { BgNbdParams } from '../models/bgnbd.js';
import { fitPurchaseModel, meanPurchaseRate, type BgNbdBoundary, type PurchaseModelFit } from '../models/bgnbd-limits.js';
import {
  discountedPurchasesAll,
  fitBgBbModel,
  fitChosenPurchaseModel,
  predictBgBbHistories,
  type BgBbModelFit,
  type ModelKey,
  fitChosenPurchaseModelInWorker,
  PURCHASE_MODEL_KEYS,
  fromBgNbd,
  PURCHASE_MODEL_NAMES,
  type FittedPurchaseModel,
  type PurchaseModelChoiceFit,
  type PurchaseModelKey,
  type PurchaseModelReport,
} from '../models/purchase-models.js';
import { discountedExpectedPurchasesAll } from '../models/clv.js';
import { computeForecast, type ForecastHistories, type RunRow } from './forecast.js';
import { HISTORY_VALUES } from '../models/relations/history-values.js';
import {
  bgbbHistoryIntervals,
  bgnbdUncertainty,
  intervalRows,
  intervalRowsSplit,
  perturbedModels,
  sharedIntervalRowsOutput,
  spendUncertainty,
  zOfLevel,
  type DiscountedBy,
  type PurchaseUncertainty,
  type SpendUncertainty,
} from '../models/intervals.js';
import { inWorker } from '../models/worker-client.js';
import type { IntervalRowsDone } from '../models/worker-tasks.js';
import { mapShared } from '../models/shared-arrays.js';
import { collectGarbage } from '../util/memory.js';
import { chooseModel, type ModelChoice } from '../models/model-choice.js';
import { CHOICE_AUC, CHOICE_BUCKETS, type ChoiceAucRow, type ChoiceBucketRow } from '../models/relations/model-choice.js';
import type { RfmSummary } from '../models/rfm-data.js';
import { fitGammaGamma, type GammaGammaFit } from '../models/gamma-gamma.js';
import { boundParams, inlined, insertInto, materialize, rowsOf, type RelationParams } from '../models/relation.js';
import { BACKTEST_AUC, BACKTEST_BUCKETS, type BacktestAucRow, type BacktestBucketRow } from '../models/relations/backtest.js';
import { cohorts as cohortRelation, cohortsFromSource } from '../models/relations/cohorts.js';
import type { Relation } from '../models/relation.js';
import { customerBase, customerBaseFromSource, returnOnlyCustomers, returnOnlyFromSource } from '../models/relations/customer-base.js';
import { type CustomerMetricsParam } from '../models/relations/customer-metrics.js';
import { histories } from '../models/relations/histories.js';
import { periodHistories, periodHistoryCounts } from '../models/relations/period-histories.js';
import { MONEY_TYPES, moneyScale, type MoneyWidth } from '../models/relations/money.js';
import { orders, ordersUncosted } from '../models/relations/orders.js';
import { PREDICTIONS, RECENCY_PREDICTIONS } from '../models/relations/predictions.js';
import { purchaseDays, purchaseDaysUncosted } from '../models/relations/purchase-days.js';
import { revenueLevels } from '../models/relations/revenue-levels.js';
import { RUN_SUMMARY, type RunSummaryRow } from '../models/relations/run-summary.js';
import { SEGMENT_MIGRATION } from '../models/relations/segment-migration.js';
import { TREND_WINDOWS_ROW_SQL, trendWindows, trendWindowsFromSource, type TrendWindows } from '../models/relations/trend-windows.js';
import { rfmCuts, rfmScoreCuts, segmentCells } from '../models/rfm.js';
import { NO_DATA_MESSAGE, NO_PURCHASES_CODE, noPurchasesFallback, writeCustomerRows } from './customers.js';
import type { BgBbPeriodUnit, ChurnBasis } from '../models/settings.js';
import { checkDatesAgainstData, resolveRunOptions, UNIT_DAYS, type RunFlags, type RunOptions } from './settings.js';
import { LAST_TRANSACTION_DATE, lastDataDate, prepareContracts, writeContracts, type ContractsReport, type DataEnd } from './contracts.js';
import { runCovariateStep, type CovariatesReport } from './covariates.js';
import { checkSourceTable, loadSourceSums, resolveSource, sourceExtent, writeBackMetrics, type RunSource } from './source.js';
import { usageError } from '../util/errors.js';

const DAYS_PER_YEAR = 365.25;
/** DuckDB's cap for crm run: the same 1 GB as every command since the fits' worker threads (measured below). */
const RUN_MEMORY_LIMIT = '1GB';

/** Temp tables of one run (gone when its connection closes). */
const T = {
  base: 'temp.run_base',
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
  /** Key of the purchase model used (bgnbd, pareto_nbd, mbgnbd, bgbb); null when none was fitted. */
  model?: ModelKey | null;
  /** The chosen model's report when it is not the BG/NBD (--model; models/purchase-models.ts); with --model auto every fitted model's. */
  pareto_nbd?: PurchaseModelReport;
  mbgnbd?: PurchaseModelReport;
  /** --model bgbb: the BG/BB fitted on period histories (alpha, beta, gamma, delta; models/bgbb.ts). */
  bgbb?: PurchaseModelReport;
  /** --model auto: the comparison table and the basis of the choice (models/model-choice.ts; runs.model_choice). */
  model_choice?: ModelChoice;
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
    /** --covariates: the model refitted with them (run/covariates.ts); under the Pareto/NBD's or MBG/NBD's key likewise. */
    covariates?: CovariatesReport;
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
  /** The contract part (runs.contracts); null when the store has no contract period by as-of. */
  contracts: ContractsReport | null;
  /** crm run --source only: where the lines were summarised and what crossed the network (runs.input). */
  source?: {
    url: string;
    shards: number;
    transactions_used: number;
    /** Bytes over the network (gzipped); csv_bytes_*: the same rows as CSV. */
    bytes_from_source: number;
    bytes_to_source: number;
    csv_bytes_from_source: number;
    csv_bytes_to_source: number;
  };
  timings_ms: Record<string, number>;
}

/**
 * Why a run fell back to the recency score, as a code that reports word in plain language
 * (src/reports/i18n.ts, `fallback.*`); runs.fallback_reason keeps the technical message.
 */
export const FALLBACK_CODES = ['too_few_customers', 'no_repeat_purchases', 'fit_failed'] as const;
/** No purchase by as-of, only contracts: a code of its own (run/customers.ts), worded too. */
export { NO_PURCHASES_CODE };
export type FallbackCode = (typeof FALLBACK_CODES)[number] | typeof NO_PURCHASES_CODE;

export interface RunSummary {
  segments: { segment: string; customers: number; net_revenue: number }[];
  value_tiers: { tier: string; customers: number; clv: number | null; net_revenue: number }[];
  churn_tiers: { tier: string; customers: number }[];
  /**
   * What the churn tiers were cut from: the fitted model's p_no_purchase (the default) or
   * churn_risk = 1 − P(alive) (models.churn_tiers.basis, --churn-basis), or the recency rule
   * when the models were not fitted (models/relations/predictions.ts).
   */
  churn_basis: ChurnBasis | 'recency';
  key_accounts: { customers: number; customer_share: number; revenue_share: number; at_risk: number };
  net_revenue: number;
  expected_purchases: number | null;
  clv_total: number | null;
  /** Customers with a purchase by as-of: those RFM, the purchase models and the 80/20 score. */
  customers_with_purchases: number;
  /** Customers with a contract in the run (customer_metrics.contracts_in_force not NULL); those without a purchase are the rest of the customers. */
  customers_with_contracts: number;
  /** Σ customer_metrics.contract_residual_value: the contracts' expected premiums over the horizon, discounted (null without modelled contracts). */
  contract_residual_value: number | null;
  /** Customers with return lines but no purchase on or before as-of: not scored (no purchase history), counted here. */
  customers_only_returns: number;
  /** Up to RETURN_ONLY_EXAMPLES of their ids, in id order. */
  customers_only_returns_examples: string[];
  /** --model bgbb: the period the opportunities are counted in (month or year). */
  bgbb_period?: string;
  /** --model bgbb: customers with a purchase in the as-of period when it is not over (not counted as an opportunity; relations/period-histories.ts). */
  bgbb_partial_period_customers?: number;
}

/** How many ids of return-only customers the run summary lists. */
const RETURN_ONLY_EXAMPLES = 5;

export async function runModels(input: RunModelsInput): Promise<RunResult> {
  const options = resolveRunOptions(input.flags, input.config);
  // --source: the lines live on a ClickHouse cluster (run/source.ts); resolved before the store
  // is opened, so a refused source (a password in the URL, an unknown name) changes nothing.
  if (input.flags.map?.length && input.flags.source === undefined) {
    throw usageError('--map is for --source: it names the source table\'s own columns (a local run reads the store, whose columns ingest already mapped)');
  }
  const source = input.flags.source !== undefined ? resolveSource(input.flags.source, input.config, process.env, input.flags.map ?? []) : null;
  if (source && options.holdoutEnd) {
    throw usageError(`--holdout-end with --source: the backtest compares predictions with the holdout purchases line by line, and those lines stay on ${source.label}`, [
      'Run the backtest on a local store (crm ingest transactions, then crm run --holdout-end).',
    ]);
  }
  if (source && options.model === 'bgbb') {
    throw usageError(`--model bgbb with --source: the BG/BB counts purchase periods from the lines, and those lines stay on ${source.label}`, [
      'Run the BG/BB on a local store (crm ingest transactions, then crm run --model bgbb).',
    ]);
  }
  if (source && options.covariates.includes('channel')) {
    throw usageError(`--covariates channel with --source: the first purchase channel is read from the lines, and those lines stay on ${source.label}`, [
      'Use --covariates region (the customers file, loaded here), or run on a local store.',
    ]);
  }
  // Scoring 2.5M customers aggregates wider than loading them, so the run's own cap is above the
  // 1 GB default; but DuckDB's cap is not the process's peak (JS arrays of the fits, allocator
  // slack): at 2 GB the run peaked at 1.98–2.26 GB RSS on 9.8M lines, at 1.5 GB at 1.83 GB, within
  // the 2 GB target (2026-12-07, one pair each, load 4–5: 5.6× and 4.7× the bare summary, i.e.
  // no measurable loss). With the fits' worker threads and the cohorts built during the fits the
  // peak rose to 2.02 GB at 1.5 GB; at 1.2 GB it was 1.74 GB, in no more time (one run each, load
  // 10–12), but the idle bench still saw 2,075 MB once on the dirty store. At 1 GB, alternated
  // with 1.2 GB on the bench's stores (idle, 2 rounds each): dirty 1.52/1.64 GB against
  // 1.85/1.91 GB, clean 1.72/1.74 against 1.77/1.77 GB, and no slower (dirty 24.7/21.0 s against
  // 23.8/21.4 s, clean 25.3/21.4 s against 27.3/25.0 s). --memory-limit and CRM_MEMORY_LIMIT still win.
  // The source's tables checked (columns, types; exit 3) before a store is opened or created.
  const sourceTable = source ? await checkSources(source) : null;
  // A run from a source may start a store of its own (its runs and customer_metrics).
  const store = await Store.open(input.storePath, { memoryLimit: RUN_MEMORY_LIMIT, create: source !== null });
  try {
    return await runWithStore(store, options, input, source, sourceTable);
  } finally {
    // The temp tables live and die with this connection: closing frees them.
    store.close();
  }
}

async function runWithStore(store: Store, options: RunOptions, input: RunModelsInput, source: RunSource | null, sourceTable: { hasCost: boolean } | null): Promise<RunResult> {
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

  const dataEnd = source ? await sourceDataEnd(source, sourceTable!.hasCost) : await lastDataDate(store);
  if (!dataEnd) throw inputError(source ? `the source ${source.label} has no transactions` : NO_DATA_MESSAGE);
  const asOf = checkDatesAgainstData(options, dataEnd);
  // Contracts (run/contracts.ts): runs of renewals and the sBG fits, staged before the transaction.
  // A source holds transactions only: its run has no contract part. Contracts in the store are
  // left out, and the run says so (exit 0; a run without --source scores them).
  const contracts = source ? null : await prepareContracts({ store, asOf, holdoutEnd: options.holdoutEnd, settings, progress, timed });
  if (source) {
    const periods = (await store.value<number>('SELECT CAST(count(*) AS INTEGER) FROM contracts WHERE period_start <= CAST($as_of AS DATE)', { as_of: asOf })) ?? 0;
    if (periods > 0) {
      input.reporter.warn(`the store's ${periods.toLocaleString('en-US')} contract periods are not in this run: a run from ${source.label} scores that source's transactions only (no contract_metrics, renewal probabilities or contract values; value tiers rank purchases alone). Run crm run without --source for the contract part.`);
    }
  }
  const unitDays = UNIT_DAYS[settings.time_unit];
  const horizonUnits = (settings.horizon_months * DAYS_PER_YEAR) / 12 / unitDays;

  // 1. The chain up to the customer base (models/relations/): trend windows → orders (inlined:
  // read once) → purchase days → customer base; customers with only returns counted apart.
  const chain = {
    as_of: asOf,
    since: options.since,
    trend_window_days: settings.key_accounts.trend_window_days,
    share: settings.key_accounts.share,
    b_share: settings.key_accounts.b_share,
    examples: RETURN_ONLY_EXAMPLES,
  };
  // The seam: a per-customer base (temp.run_base) and what the cohorts read, from the store or
  // from the source; everything after it is the same run.
  const base = source
    ? await sourceBase(store, source, sourceTable!.hasCost, chain, { progress, timed })
    : await localBase(store, chain, { progress, timed });
  const { trend, onlyReturns } = base;
  // Customers with a purchase; none: the contract part alone, if there are contracts (run/customers.ts).
  const customers = (await store.value<number>(`SELECT count(*) FROM ${T.base}`)) ?? 0;
  const noPurchases = customers === 0 ? noPurchasesFallback(contracts !== null, asOf) : null;

  // 2. RFM score boundaries (the scores themselves are computed in step 6)
  const rfm = rfmScoreCuts(settings.rfm, await timed('rfm', () => rfmCuts(store, T.base, settings.rfm)));

  // 3. BG/NBD
  let fallbackReason: string | null = null;
  let fallbackCode: FallbackCode | null = null;
  let bgnbd: PurchaseModelFit | null = null;
  // In shared buffers: the model workers read them without a copy (models/shared-arrays.ts).
  const triples = await timed('read_triples', () => readNumericColumns(store, histories.sql, { shared: true }));
  const data = {
    x: triples.x,
    tx: mapShared(triples.t_x_days, (d) => d / unitDays),
    T: mapShared(triples.T_days, (d) => d / unitDays),
    weight: triples.customers,
  };
  // Read off the distinct histories already in hand (x > 0: a repeat purchase), not recounted.
  const repeaters = triples.x.some((x) => x > 0);
  // (Everyone buying first on the as-of date is covered by "nobody repeats": T = 0 forces x = 0.)
  if (noPurchases) [fallbackCode, fallbackReason] = noPurchases;
  else if (customers < settings.min_customers) [fallbackCode, fallbackReason] = ['too_few_customers', `only ${customers} customer${customers === 1 ? '' : 's'} (the models need at least ${settings.min_customers})`];
  else if (!repeaters) [fallbackCode, fallbackReason] = ['no_repeat_purchases', 'no customer has bought on more than one day, so purchase rates and drop-out cannot be told apart'];
  // What the Gamma-Gamma fits (step 4), read now: the fit may run while the purchase models' do.
  // (let: dropped once fitted, so that the repeat customers' two columns are not held through the write.)
  let spendData = fallbackReason
    ? null
    : await timed('read_spend', () =>
        // Sorted so the fit sums in the same order every run (rows equal in both are interchangeable).
        readNumericColumns(store, `SELECT bgnbd_x AS x, repeat_mean_value AS m FROM ${T.base} WHERE bgnbd_x > 0 AND repeat_mean_value > 0 ORDER BY x, m`),
      );
  const excludedSpend = fallbackReason ? 0 : ((await store.value<number>(`SELECT count(*) FROM ${T.base} WHERE bgnbd_x > 0 AND NOT (repeat_mean_value > 0)`)) ?? 0);
  // The Gamma-Gamma fit, made once (in the model step with --model auto, while the worker
  // finishes); used only when a purchase model is (`fitted`), as before.
  // Inside another progress step (ownStep false), it shows no line of its own.
  const spendFits = spendData !== null && spendData.x.length >= 2;
  let spendFit: Promise<GammaGammaFit | null> | null = null;
  const fitSpend = (ownStep = true): Promise<GammaGammaFit | null> => {
    if (!spendFits) return Promise.resolve(null);
    const fit = () =>
      timed('gamma_fit', async () => {
        const take = () => {
          const spend = { x: spendData!.x, m: spendData!.m };
          spendData = null;
          return spend;
        };
        const gammaFit = fitGammaGamma(take());
        // Its input and work arrays (~450 MB at 100M lines) freed now, not at V8's leisure (util/memory.ts).
        collectGarbage();
        return gammaFit;
      });
    return (spendFit ??= ownStep ? progress.step(`fitting Gamma-Gamma on ${spendData!.x.length.toLocaleString('en-US')} repeat customers`, fit) : fit());
  };
  /** Lets DuckDB's finished statements call back, so that the next one starts while this thread computes. */
  const letDuckDbGo = () => new Promise<void>((resolve) => setImmediate(resolve));
  // Step 5 (80/20), then the cohort triangle (inserted in step 6), run in DuckDB's threads while
  // the fits run here (pure JS, no store access).
  const inDuckDb = (async () => {
    // A run from a source may have ranked the levels on the cluster already (run/source.ts).
    if (!base.levelsLoaded) await timed('pareto', () => materialize(store, revenueLevels, chain));
    await timed('cohorts', () => materialize(store, base.cohorts, chain));
  })();
  // Awaited below; a failure here is reported there, not as an unhandled rejection meanwhile.
  inDuckDb.catch(() => undefined);
  // --model other than the BG/NBD (models/purchase-models.ts): fitted instead of it, same outputs.
  let chosen: PurchaseModelChoiceFit | null = null;
  // --model auto (models/model-choice.ts): all three fitted, compared, one used.
  let modelChoice: ModelChoice | null = null;
  let otherReports: Partial<Record<'pareto_nbd' | 'mbgnbd', PurchaseModelReport>> = {};
  // --model bgbb: the BG/BB on period histories (relations/period-histories.ts), fitted instead of
  // the continuous-time models; its predictions are keyed by the period history.
  let bgbb: BgBbStep | null = null;
  if (!fallbackReason && options.model === 'bgbb') {
    const unit = settings.time_unit as BgBbPeriodUnit;
    bgbb = await bgbbStep(store, { asOf, unit }, { progress, timed });
    if (bgbb.fallback) [fallbackCode, fallbackReason] = bgbb.fallback;
  } else if (!fallbackReason && options.model === 'auto') {
    const alsoSpend = spendFits ? ` (and Gamma-Gamma on ${spendData!.x.length.toLocaleString('en-US')} repeat customers)` : '';
    const auto = await progress.step(`fitting BG/NBD, Pareto/NBD and MBG/NBD on ${triples.x.length.toLocaleString('en-US')} distinct histories${alsoSpend}`, () =>
      timed('model_fit', async () => {
        // The Pareto/NBD (the slowest: its likelihood's hypergeometric series) on the other core
        // while this thread fits the BG/NBD and the MBG/NBD: the same fits, in less time.
        const paretoNbd = fitChosenPurchaseModelInWorker('pareto_nbd', data);
        paretoNbd.catch(() => undefined); // awaited below, where a failure is reported
        const bgnbdFit = await timed('bgnbd_fit', async () => fitPurchaseModel(data));
        await letDuckDbGo();
        const mbgnbd = await timed('mbgnbd_fit', async () => fitChosenPurchaseModel('mbgnbd', data));
        await letDuckDbGo();
        // This thread's share is done before the worker's: the Gamma-Gamma meanwhile.
        await fitSpend(false);
        return { bgnbd: bgnbdFit, others: [await paretoNbd, mbgnbd] };
      }),
    );
    modelChoice = await timed('model_choice', () => compareModels(store, auto.bgnbd, auto.others, data, triples, customers, { asOf, holdoutEnd: options.holdoutEnd, unitDays, horizonUnits }));
    otherReports = Object.fromEntries(auto.others.map((f) => [f.key, f.report]));
    bgnbd = auto.bgnbd;
    chosen = auto.others.find((f) => f.key === modelChoice!.chosen) ?? null;
    if (modelChoice.chosen === null) {
      [fallbackCode, fallbackReason] = ['fit_failed', `no purchase model converged: ${modelChoice.models.map((m) => `${PURCHASE_MODEL_NAMES[m.key]} ${m.excluded}`).join('; ')}`];
    }
  } else if (!fallbackReason && options.model !== 'bgnbd' && options.model !== 'auto' && options.model !== 'bgbb') {
    const key = options.model;
    const name = PURCHASE_MODEL_NAMES[key];
    chosen = await progress.step(`fitting ${name} on ${triples.x.length.toLocaleString('en-US')} distinct histories`, () =>
      timed('model_fit', async () => fitChosenPurchaseModel(key, data)),
    );
    if (chosen.model === null) [fallbackCode, fallbackReason] = ['fit_failed', `the ${name} fit did not converge: ${chosen.report.message}`];
  } else if (!fallbackReason) {
    bgnbd = await progress.step(`fitting BG/NBD on ${triples.x.length.toLocaleString('en-US')} distinct histories`, () =>
      timed('bgnbd_fit', async () => fitPurchaseModel(data)),
    );
    // A maximum at the boundary of the parameter space is a fit too (its limiting model).
    if (bgnbd.model === null) [fallbackCode, fallbackReason] = ['fit_failed', `the BG/NBD fit did not converge: ${bgnbd.message}`];
  }
  await inDuckDb;
  // The BG/NBD's own CLV path when it is the model used (with --model auto it may be fitted and not chosen).
  const bgModel = fallbackReason === null && chosen === null ? (bgnbd?.model ?? null) : null;
  const model: FittedPurchaseModel | null = fallbackReason !== null ? null : chosen ? chosen.model : bgModel ? fromBgNbd(bgModel) : null;
  const bgbbModel = fallbackReason === null ? (bgbb?.fit?.model ?? null) : null;
  const fitted = model !== null || bgbbModel !== null;
  /** The key of the model that scored the customers (null: the recency fallback). */
  const modelKey: ModelKey | null = model ? model.key : bgbbModel ? 'bgbb' : null;
  let uncertainty: PurchaseUncertainty | null = null;
  // --model bgbb: the BG/BB's estimate and covariance when its intervals were computed (run_intervals; no forecast reads them).
  let bgbbUncertainty: IntervalModel | null = null;
  // With intervals: each of their models' P(alive) per distinct history, which the run's forecast reuses.
  let forecastEvaluated: { data: RfmSummary; alive: Float64Array[] } | null = null;
  if (bgbb && bgbbModel) {
    const covariance = bgbb.fit!.covariance;
    await timed('bgbb_predict', () =>
      predictBgBbStep(store, bgbb!, bgbbModel, {
        unit: settings.time_unit as BgBbPeriodUnit,
        horizonMonths: settings.horizon_months,
        discountRate: settings.discount_rate,
        tiers: { tier_basis: settings.churn_tiers.basis, high: settings.churn_tiers.high, medium: settings.churn_tiers.medium },
        intervals: covariance ? { covariance, level: settings.interval } : null,
      }),
    );
    if (covariance) bgbbUncertainty = { key: 'bgbb', params: { ...bgbbModel.params }, covariance };
  } else if (model) {
    await timed('bgnbd_predict', async () => {
      const clvOptions = { horizon: horizonUnits, unitsPerYear: DAYS_PER_YEAR / unitDays, annualDiscountRate: settings.discount_rate };
      // Intervals per distinct history from the parameters' uncertainty (models/intervals.ts);
      // NULL without a covariance (a BG/NBD boundary limit).
      uncertainty = chosen ? chosen.uncertainty : bgnbd ? bgnbdUncertainty(bgnbd) : null;
      const u = uncertainty;
      const n = triples.x.length;
      // The rows of the k + 1 models of the intervals split between a worker (the later rows, all
      // k + 1 models) and this thread, chunk by chunk into shared arrays (intervalRows). The first
      // model is the estimate's own: the model predicting here has the same parameters (u is its
      // fit's), so on this thread's rows its prediction and discounted purchases are the
      // intervals' first evaluation, not computed again.
      const k = u ? perturbedModels(u).length - 1 : 0;
      const split = intervalRowsSplit(n, k);
      const rows = u ? sharedIntervalRowsOutput(n, k) : null;
      const discountedBy: DiscountedBy = (m, d, alive) => discountedPurchasesAll(m, d, clvOptions, alive);
      const far = u ? inWorker<IntervalRowsDone>({ task: 'interval-rows', u, data, horizon: horizonUnits, level: settings.interval, clv: clvOptions, out: rows!, from: split, to: n }) : null;
      // Awaited below; a failure is reported there, not as an unhandled rejection meanwhile.
      far?.catch(() => undefined);
      const prediction = model.predict(data, horizonUnits);
      const discounted = bgModel ? discountedExpectedPurchasesAll(bgModel, data, clvOptions) : discountedBy(model, data, prediction.pAlive);
      const bounds = u
        ? await timed('intervals', async () => {
            // (The BG/NBD's own CLV path above is the same sum, but NaN-guards rows the intervals never had: its dep is computed apart.)
            intervalRows(u, data, horizonUnits, settings.interval, discountedBy, rows!, 0, split, { expected: prediction.expectedPurchases, alive: prediction.pAlive, ...(bgModel ? {} : { dep: discounted }) });
            await far;
            // The forecast (writeRunForecast) projects the same k + 1 models: their P(alive) is kept for it.
            forecastEvaluated = { data, alive: [prediction.pAlive, ...rows!.alive] };
            return rows!;
          })
        : { expectedPurchasesLow: new Float64Array(n).fill(NaN), expectedPurchasesHigh: new Float64Array(n).fill(NaN), discountedLogSd: new Float64Array(n).fill(NaN) };
      await writeDoubleTable(store, 'run_predictions_raw', {
        x: triples.x,
        t_x_days: triples.t_x_days,
        T_days: triples.T_days,
        p_alive: prediction.pAlive,
        p_no_purchase: prediction.pNoPurchase,
        expected_purchases: prediction.expectedPurchases,
        discounted_purchases: discounted,
        expected_purchases_low: bounds.expectedPurchasesLow,
        expected_purchases_high: bounds.expectedPurchasesHigh,
        discounted_log_sd: bounds.discountedLogSd,
      });
      // Per distinct history (~4× fewer than customers on the bench), keyed like run_base.
      await materialize(store, PREDICTIONS, { tier_basis: settings.churn_tiers.basis, high: settings.churn_tiers.high, medium: settings.churn_tiers.medium, churn_method: model.key });
      await store.run('DROP TABLE temp.run_predictions_raw');
    });
  } else {
    await timed('recency_predict', () => materialize(store, RECENCY_PREDICTIONS, { high: settings.churn_tiers.high, medium: settings.churn_tiers.medium }));
  }

  // --covariates (run/covariates.ts): the model used, refitted with covariates; when that fit
  // converges its predictions replace the ones above (same columns), the customers keyed by cell.
  let covariates: CovariatesReport | null = null;
  if (model && options.covariates.length > 0) {
    const base = chosen ? chosen.report : describeBgNbd(bgnbd!);
    const unrestricted = chosen ? null : (bgnbd!.model?.boundary ? bgnbd!.full.params : null);
    covariates = await progress.step(`fitting ${PURCHASE_MODEL_NAMES[model.key]} with covariates ${options.covariates.join(', ')}`, () =>
      timed('covariates', () =>
        runCovariateStep({
          store,
          names: options.covariates,
          model: model.key,
          baseParams: { ...(base as unknown as Record<string, number>), ...(unrestricted ?? {}) },
          baseLogLikelihood: base.log_likelihood,
          asOf,
          unitDays,
          horizonUnits,
          holdoutUnits: options.holdoutEnd ? daysBetween(asOf, options.holdoutEnd) / unitDays : null,
          clv: { horizon: horizonUnits, unitsPerYear: DAYS_PER_YEAR / unitDays, annualDiscountRate: settings.discount_rate },
          tiers: { tier_basis: settings.churn_tiers.basis, high: settings.churn_tiers.high, medium: settings.churn_tiers.medium },
        }),
      ),
    );
  }

  // The intervals and the stored projection describe the model without covariates: a run whose
  // customers carry the covariate model's predictions has neither (NULL bounds, no run_forecast).
  if (covariates?.used) uncertainty = null;
  /** The model whose intervals the customer rows carry (z not NULL), if any. */
  const intervalModel: IntervalModel | null = uncertainty ?? bgbbUncertainty;

  // 4. Gamma-Gamma on the mean value of repeat purchases (read and maybe fitted above)
  const gamma: GammaGammaFit | null = fitted ? await fitSpend() : null;
  // The purchase days are read by nothing after the cohorts: freed before the rows are assembled.
  await store.run(`DROP TABLE IF EXISTS temp.${purchaseDays.narrow.name}`);
  const gammaUsable = gamma !== null && gamma.converged && gamma.finiteMean;

  // Backtest predictions need the holdout length in units; prepared before the transaction.
  // (The covariate step wrote the covariate model's own, keyed by cell.)
  if (options.holdoutEnd && model && !covariates?.used) {
    await timed('backtest_predict', async () => {
      const holdoutUnits = daysBetween(asOf, options.holdoutEnd!) / unitDays;
      const p = model.predict(data, holdoutUnits);
      await writeDoubleTable(store, 'run_holdout_predictions', { x: triples.x, t_x_days: triples.t_x_days, T_days: triples.T_days, predicted: p.expectedPurchases });
    });
  }

  // 6. Write the run atomically. This process holds the store's write lock, so the run id
  // chosen here stays free.
  const runId = ((await store.value<number>('SELECT coalesce(max(run_id), 0) FROM runs')) ?? 0) + 1;
  // "Previous" is the latest run of an earlier as-of date: rerunning the same date compares
  // with the same earlier period, so reruns reproduce their results exactly.
  const previousRunId = (await store.value<number | null>(`SELECT max(run_id) FROM runs WHERE as_of < DATE ${literal(asOf)}`)) ?? null;
  // The customer rows are computed and written inside the transaction (run/customers.ts).
  const gg = gammaUsable ? gamma!.params : null;
  const spend = spendUncertainty(gammaUsable ? gamma : null);
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
    // The intervals (models/intervals.ts): z NULL without them; the spend term needs the Gamma-Gamma's covariance.
    z: intervalModel ? zOfLevel(settings.interval) : null,
    gg_covariance: intervalModel && spend ? spend.covariance.flat() : null,
    revenue_drop: settings.key_accounts.revenue_drop,
    churn_risk_rise: settings.key_accounts.churn_risk_rise,
  };
  // The model steps' arrays that nothing holds any more, freed before DuckDB's largest step (util/memory.ts).
  collectGarbage();
  const result = await progress.step('writing customer_metrics', () =>
    timed('write', () =>
      store.transaction(async () => {
        // Before the customer rows: they read contract_metrics of this run (value tiers rank CLV plus contract residual value).
        const contractsReport = contracts ? await writeContracts(contracts, runId) : null;
        // Every customer once, purchases and contracts.
        const scored = await writeCustomerRows(store, metricsParams, settings.value_tiers, timed);
        await store.run(`INSERT INTO cohort_retention SELECT ${runId}, * FROM ${T.cohorts}`);
        if (intervalModel) await writeRunIntervals(store, runId, settings.interval, intervalModel, spend);
        // --model bgbb: each customer's period history, which crm forecast projects (bgbb_histories).
        if (bgbbModel) {
          await store.run(`INSERT INTO bgbb_histories SELECT ${runId}, customer_id, x, t_x, n FROM temp.${periodHistories.name}`);
          await store.run(`DROP TABLE temp.${periodHistories.name}`);
        }
        await timed('segment_migration', () => insertInto(store, 'segment_migration', SEGMENT_MIGRATION, { run_id: runId, previous_run_id: previousRunId }));
        // The 12-month projection of all customers, for the report (run/forecast.ts; run_forecast);
        // a BG/BB run's only in months (a run in years projects whole years: crm forecast --by year).
        if ((model && !covariates?.used) || (bgbbModel && settings.time_unit === 'month')) {
          await timed('forecast', () =>
            writeRunForecast(store, {
              run_id: runId,
              as_of: asOf,
              time_unit: settings.time_unit,
              horizon_months: settings.horizon_months,
              model: modelKey!,
              model_status: 'fitted',
              discount_rate: settings.discount_rate,
              bgnbd: bgnbd ? JSON.stringify(describeBgNbd(bgnbd)) : null,
              purchase_model: chosen ? JSON.stringify(chosen.report) : bgbb?.fit ? JSON.stringify(bgbb.fit.report) : null,
              covariates_used: false,
            }, gg, forecastEvaluated),
          );
        }
        const backtest = options.holdoutEnd ? await timed('backtest', () => computeBacktest(store, runId, asOf, options.holdoutEnd!, model?.key ?? null)) : null;
        // --model bgbb: the customers with a purchase in a partial as-of period, not counted as an opportunity (relations/period-histories.ts).
        const bgbbSummary = bgbb ? { bgbb_period: settings.time_unit, bgbb_partial_period_customers: bgbb.partialPeriodCustomers } : {};
        const summary: RunSummary = {
          ...(await timed('summary', () => summarise(store, runId, fitted))),
          churn_basis: fitted ? settings.churn_tiers.basis : 'recency',
          customers_only_returns: onlyReturns.customers,
          customers_only_returns_examples: [...(onlyReturns.examples ?? [])],
          ...bgbbSummary,
        };
        const report: RunResult = {
          run_id: runId,
          as_of: asOf,
          since: options.since,
          holdout_end: options.holdoutEnd,
          time_unit: settings.time_unit,
          horizon_months: settings.horizon_months,
          customers: scored,
          model_status: fitted ? 'fitted' : 'fallback',
          fallback_reason: fallbackReason,
          fallback_code: fallbackCode,
          trend,
          model: modelKey,
          bgnbd: bgnbd ? describeBgNbd(bgnbd) : null,
          ...otherReports,
          ...(chosen ? { [chosen.key]: chosen.report } : {}),
          ...(bgbb?.fit ? { bgbb: bgbb.fit.report } : {}),
          ...(modelChoice ? { model_choice: modelChoice } : {}),
          // --covariates: under the model's own key (crm model show reads runs.covariates back there).
          ...(covariates && model ? { [model.key]: { ...(model.key === 'bgnbd' ? describeBgNbd(bgnbd!) : chosen!.report), covariates } } : {}),
          gamma_gamma: gamma ? describeGamma(gamma, excludedSpend) : null,
          backtest,
          summary,
          contracts: contractsReport,
          timings_ms: timings,
        };
        // The scores back to the cluster, inside the transaction: if it refuses, the run is not recorded.
        const sent = source ? await timed('write_back', () => writeBackMetrics(store, source, runId)) : null;
        timings.total = Date.now() - started.getTime();
        const toSource = sent ? { bytes_to_source: sent.sent, csv_bytes_to_source: sent.csv } : {};
        if (source) {
          const read = base.input as { shards: number; transactions_used: number; bytes_from_source: number; csv_bytes_from_source: number };
          report.source = { url: source.label, shards: read.shards, transactions_used: read.transactions_used, bytes_from_source: read.bytes_from_source, csv_bytes_from_source: read.csv_bytes_from_source, bytes_to_source: sent!.sent, csv_bytes_to_source: sent!.csv };
        }
        const inputInfo = source ? { ...base.input, ...toSource } : await store.one(
          `SELECT (SELECT list(load_id ORDER BY load_id) FROM loads WHERE status = 'loaded') AS loads,
                  (SELECT count(*) FROM transactions WHERE order_date <= DATE ${literal(asOf)}) AS transactions_used,
                  -- The merges the run read (customer_merges): another set of merges scores other customers.
                  (SELECT list(merge_id ORDER BY merge_id) FROM customer_merges) AS merges`,
        );
        // The data's first date and the trend windows it was compared over ("not enough history" when not comparable).
        const input = { ...inputInfo, trend };
        await store.run(
          `INSERT INTO runs (run_id, created_at, as_of, since, holdout_end, time_unit, horizon_months, params, input, customers, model_status, fallback_reason, bgnbd, gamma_gamma, backtest, summary, timings, tool_version, fallback_code, contracts, model, purchase_model, model_choice, covariates) VALUES ($1, $2::TIMESTAMP, $3::DATE, $4::DATE, $5::DATE, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`,
          [
            runId,
            started.toISOString().replace('T', ' ').replace('Z', ''),
            asOf,
            options.since,
            options.holdoutEnd,
            settings.time_unit,
            settings.horizon_months,
            JSON.stringify({ as_of: asOf, since: options.since, holdout_end: options.holdoutEnd, ...settings, model: options.model, ...(options.covariates.length > 0 ? { covariates: options.covariates } : {}), ...(source ? { source: source.label } : {}) }),
            JSON.stringify(input),
            scored,
            report.model_status,
            fallbackReason,
            // (without the covariates: runs.covariates holds them)
            report.bgnbd ? JSON.stringify({ ...report.bgnbd, covariates: undefined }) : null,
            report.gamma_gamma ? JSON.stringify(report.gamma_gamma) : null,
            backtest ? JSON.stringify(backtest) : null,
            JSON.stringify(summary),
            JSON.stringify(timings),
            TOOL_VERSION,
            fallbackCode,
            contractsReport ? JSON.stringify(contractsReport) : null,
            report.model ?? null,
            chosen ? JSON.stringify(chosen.report) : bgbb?.fit ? JSON.stringify(bgbb.fit.report) : null,
            // The other models' reports ride along, so each keeps its key in crm model show.
            modelChoice ? JSON.stringify({ ...modelChoice, reports: otherReports }) : null,
            covariates ? JSON.stringify(covariates) : null,
          ],
        );
        return report;
      }),
    ),
  );
  result.timings_ms = timings;
  return result;
}

/** A model's estimate and covariance of ln params, as run_intervals stores them: a continuous-time model's (PurchaseUncertainty) or the BG/BB's. */
type IntervalModel = Omit<PurchaseUncertainty, 'key'> & { key: ModelKey };

/** --model bgbb: the period histories the BG/BB was fitted on, and the fit. */
interface BgBbStep {
  /** The distinct period histories: x, t_x, n (in T) and how many customers share each (weight). */
  data: RfmSummary;
  /** null when no customer bought in a whole period after the first (then `fallback` says so). */
  fit: BgBbModelFit | null;
  fallback: [FallbackCode, string] | null;
  partialPeriodCustomers: number;
}

/**
 * The BG/BB's period histories (relations/period-histories.ts, per customer in
 * temp.run_period_histories; read while the purchase days are still there) and its fit on the
 * distinct ones. No customer with a purchase in a whole period after the first: nothing to fit.
 */
async function bgbbStep(store: Store, at: { asOf: string; unit: BgBbPeriodUnit }, { progress, timed }: StepTools): Promise<BgBbStep> {
  await timed('period_histories', async () => {
    await materialize(store, periodHistories, { as_of: at.asOf, period_unit: at.unit });
    await materialize(store, periodHistoryCounts, {});
  });
  const h = await readNumericColumns(store, `SELECT x, t_x, n, customers FROM temp.${periodHistoryCounts.name} ORDER BY x, t_x, n`);
  await store.run(`DROP TABLE temp.${periodHistoryCounts.name}`);
  const partialPeriodCustomers = (await store.value<number>(`SELECT count(*) FROM temp.${periodHistories.name} WHERE partial_period_purchase`)) ?? 0;
  const data: RfmSummary = { x: h.x, tx: h.t_x, T: h.n, weight: h.customers };
  if (!h.x.some((x) => x > 0)) {
    const reason = `no customer has bought in a whole ${at.unit} after their first ${at.unit}, so the BG/BB cannot tell the purchase probability from drop-out`;
    return { data, fit: null, fallback: ['no_repeat_purchases', reason], partialPeriodCustomers };
  }
  const fit = await progress.step(`fitting BG/BB on ${h.x.length.toLocaleString('en-US')} distinct period histories (${at.unit}s)`, () =>
    timed('model_fit', async () => fitBgBbModel(data)),
  );
  return { data, fit, fallback: fit.model ? null : ['fit_failed', `the BG/BB fit did not converge: ${fit.report.message}`], partialPeriodCustomers };
}

/**
 * The BG/BB's predictions per distinct period history over the horizon in whole periods (12
 * months = 12 monthly or 1 yearly opportunity), each period's expected purchases discounted at
 * its end ((1 + rate)^(−k/12) for month k, (1 + rate)^(−k) for year k: clv.ts's convention), into
 * temp.run_predictions; the customers keyed by their period history (temp.run_base.history_key
 * ← period_key), so the one tier rule and the customer rows read them as any model's. With the
 * fit's covariance, the intervals per history as the other models' (intervals.ts).
 */
async function predictBgBbStep(
  store: Store,
  step: BgBbStep,
  model: NonNullable<BgBbModelFit['model']>,
  o: {
    unit: BgBbPeriodUnit;
    horizonMonths: number;
    discountRate: number;
    tiers: { tier_basis: ChurnBasis; high: number; medium: number };
    /** The fit's covariance of ln params and the level; null: no intervals (NULL bounds). */
    intervals: { covariance: number[][]; level: number } | null;
  },
): Promise<void> {
  const monthsPerPeriod = o.unit === 'year' ? 12 : 1;
  const periods = o.horizonMonths / monthsPerPeriod;
  const discount = Float64Array.from({ length: periods }, (_, k) => Math.pow(1 + o.discountRate, -((k + 1) * monthsPerPeriod) / 12));
  const p = predictBgBbHistories(model, step.data, periods, discount);
  const none = new Float64Array(step.data.x.length).fill(NaN);
  const bounds = o.intervals
    ? bgbbHistoryIntervals(model, o.intervals.covariance, step.data, periods, discount, o.intervals.level)
    : { expectedPurchasesLow: none, expectedPurchasesHigh: none, discountedLogSd: none };
  // The period history passes through the fields of a day history (histories.ts: historyKey), as the covariate keys do.
  await writeDoubleTable(store, 'run_predictions_raw', {
    x: step.data.x,
    t_x_days: step.data.tx,
    T_days: step.data.T,
    p_alive: p.pAlive,
    p_no_purchase: p.pNoPurchase,
    expected_purchases: p.expectedPurchases,
    discounted_purchases: p.discounted,
    expected_purchases_low: bounds.expectedPurchasesLow,
    expected_purchases_high: bounds.expectedPurchasesHigh,
    discounted_log_sd: bounds.discountedLogSd,
  });
  await store.run(`UPDATE temp.run_base SET history_key = h.period_key FROM temp.${periodHistories.name} h WHERE run_base.customer_id = h.customer_id`);
  await materialize(store, PREDICTIONS, { ...o.tiers, churn_method: 'bgbb' });
  await store.run('DROP TABLE temp.run_predictions_raw');
}

/** The chain's parameters (step 1), bound by name in every relation that reads them. */
interface ChainParams {
  as_of: string;
  since: string | null;
  trend_window_days: number;
  share: number;
  b_share: number;
  examples: number;
}

interface StepTools {
  progress: Progress;
  timed: <R>(name: string, fn: () => Promise<R>) => Promise<R>;
}

/**
 * What step 1 leaves for the rest of the run — the seam between where the lines are and the
 * models: temp.run_trend_windows and temp.run_base (one row per customer with a purchase), the
 * return-only count, the cohort relation to materialise (it reads the purchase days locally, the
 * source's activity otherwise) and what runs.input records of the lines read.
 */
interface CustomerBase {
  trend: TrendWindows;
  onlyReturns: { customers: number; examples: string[] | null };
  cohorts: Relation<'as_of'>;
  /** runs.input for a run from a source (the local run's is read in the write transaction). */
  input: Record<string, unknown>;
  /** temp.run_pareto_levels is loaded already (ranked on the cluster). */
  levelsLoaded: boolean;
}

/** Step 1 on the store: trend windows → orders (inlined: read once) → purchase days → customer base. */
async function localBase(store: Store, chain: ChainParams, { progress, timed }: StepTools): Promise<CustomerBase> {
  let trend!: TrendWindows;
  await progress.step(`summarising customers as of ${chain.as_of}`, async (tick) => {
    await timed('trend_windows', () => materialize(store, trendWindows, chain));
    trend = (await store.one<TrendWindows>(TREND_WINDOWS_ROW_SQL))!;
    const { money_width: money, costed } = (await timed('money_scale', () =>
      store.one<{ money_width: MoneyWidth; costed: boolean }>(moneyScale.sql, boundParams(moneyScale, chain)),
    ))!;
    // No line with a cost: the orders and days without the margin's sums (every margin is NULL).
    const days = costed ? inlined(purchaseDays[money], [orders[money]]) : inlined(purchaseDaysUncosted[money], [ordersUncosted[money]]);
    await timed('purchase_days', () => materialize(store, days, chain, (f) => tick(f === null ? null : f * 0.6)));
    await timed('base', () => materialize(store, customerBase[money], chain, (f) => tick(f === null ? null : 0.6 + f * 0.4)));
  });
  const onlyReturns = (await timed('return_only', () =>
    store.one<{ customers: number; examples: string[] | null }>(returnOnlyCustomers.sql, boundParams(returnOnlyCustomers, chain)),
  ))!;
  return { trend, onlyReturns, cohorts: cohortRelation, input: {}, levelsLoaded: false };
}

/**
 * Step 1 on a source (run/source.ts): the windows from the source's first date, the per-customer
 * sums and cohort activity computed on the cluster and loaded, then the same customer base over
 * them (relations/customer-base.ts customerBaseFromSource).
 */
async function sourceBase(store: Store, source: RunSource, hasCost: boolean, chain: ChainParams, { progress, timed }: StepTools): Promise<CustomerBase> {
  const extent = await timed('source_extent', () => sourceExtent(source, hasCost, chain.as_of));
  // The store's merges in effect (customer_merges, as a local run reads them): applied on the cluster.
  const merges = await store.all<{ merge_id: number; duplicate_id: string; surviving_id: string }>('SELECT merge_id, duplicate_id, surviving_id FROM customer_merges ORDER BY merge_id');
  let trend!: TrendWindows;
  let bytes = { bytes: 0, csvBytes: 0 };
  let levels = false;
  await progress.step(`summarising customers as of ${chain.as_of} on ${source.label}`, async () => {
    await timed('trend_windows', () => materialize(store, trendWindowsFromSource, { ...chain, data_start: extent.firstDate }));
    trend = (await store.one<TrendWindows>(TREND_WINDOWS_ROW_SQL))!;
    const windows = (await store.one<{ current_start: string; previous_start: string }>(TREND_WINDOWS_ROW_SQL))!;
    // The money width by the same rule as moneyScale (money.ts), on the source's absolute total.
    const money: MoneyWidth = extent.absoluteTotal < 1e14 ? 'narrow' : 'wide';
    // The 80/20 levels are ranked on the cluster in exact 64-bit units: narrow money only; wide
    // money (totals of 10^14 and more) ranks them here, on the per-customer sums that come back.
    levels = money === 'narrow';
    bytes = (
      await timed('source_sums', () =>
        loadSourceSums(
          store,
          source,
          hasCost,
          { as_of: chain.as_of, pareto_start: chain.since, current_start: windows.current_start, previous_start: windows.previous_start },
          MONEY_TYPES[money],
          merges.map(({ duplicate_id, surviving_id }) => ({ duplicate_id, surviving_id })),
          levels ? { share: chain.share, b_share: chain.b_share } : null,
        ),
      )
    );
    await timed('base', () => materialize(store, customerBaseFromSource[money], chain));
  });
  const onlyReturns = (await timed('return_only', () =>
    store.one<{ customers: number; examples: string[] | null }>(returnOnlyFromSource.sql, boundParams(returnOnlyFromSource, chain)),
  ))!;
  return {
    trend,
    onlyReturns,
    cohorts: cohortsFromSource,
    input: {
      source: source.label,
      shards: source.targets.length,
      ...(Object.keys(source.mapped).length > 0 ? { map: source.mapped } : {}),
      transactions_used: extent.lines,
      bytes_from_source: bytes.bytes,
      csv_bytes_from_source: bytes.csvBytes,
      loads: [],
      // The merges the run applied on the cluster (customer_merges), as a local run records them.
      merges: merges.map((m) => m.merge_id),
    },
    levelsLoaded: levels,
  };
}

/** Every table the run reads on the source checked (the main table and each shard's); whether they have a cost column (all must agree). */
async function checkSources(source: RunSource): Promise<{ hasCost: boolean }> {
  const main = await checkSourceTable(source.main, source.label, source.columns);
  const shards = await Promise.all(source.targets.filter((t) => t !== source.main).map((t) => checkSourceTable(t, source.label, source.columns)));
  return { hasCost: main.hasCost && shards.every((s) => s.hasCost) };
}

/** The source's last date (the default as-of), as the store's lastDataDate says it for transactions. */
async function sourceDataEnd(source: RunSource, hasCost: boolean): Promise<DataEnd | null> {
  const { lastDate } = await sourceExtent(source, hasCost, null);
  return lastDate ? { date: lastDate, described: LAST_TRANSACTION_DATE, detail: null, contracts: false } : null;
}

/**
 * --model auto: the comparison table (models/model-choice.ts). With a holdout every usable model
 * predicts each distinct history's holdout purchases, P(alive) and P(no purchase over the
 * horizon) — in TS on the compressed histories —; the comparison with what customers bought is
 * SQL (models/relations/model-choice.ts).
 */
async function compareModels(
  store: Store,
  bgnbd: PurchaseModelFit,
  others: PurchaseModelChoiceFit[],
  data: RfmSummary,
  triples: Record<string, Float64Array>,
  customers: number,
  at: { asOf: string; holdoutEnd: string | null; unitDays: number; horizonUnits: number },
): Promise<ModelChoice> {
  const fits: { key: PurchaseModelKey; report: PurchaseModelReport; model: FittedPurchaseModel | null }[] = [
    { key: 'bgnbd', report: describeBgNbd(bgnbd) as unknown as PurchaseModelReport, model: bgnbd.model ? fromBgNbd(bgnbd.model) : null },
    ...others,
  ];
  if (!at.holdoutEnd) return chooseModel(fits.map((f) => ({ key: f.key, report: f.report, usable: f.model !== null })), 'bic', customers);
  const holdoutUnits = daysBetween(at.asOf, at.holdoutEnd) / at.unitDays;
  const n = triples.x.length;
  const usable = fits.filter((f) => f.model !== null);
  const columns = ['model_index', 'x', 't_x_days', 'T_days', 'predicted', 'churn_risk', 'p_no_purchase'] as const;
  const table = Object.fromEntries(columns.map((c) => [c, new Float64Array(n * usable.length)])) as Record<(typeof columns)[number], Float64Array>;
  usable.forEach((f, m) => {
    const holdout = f.model!.predict(data, holdoutUnits);
    const horizon = f.model!.predict(data, at.horizonUnits);
    const offset = m * n;
    table.model_index.fill(PURCHASE_MODEL_KEYS.indexOf(f.key), offset, offset + n);
    table.x.set(triples.x, offset);
    table.t_x_days.set(triples.t_x_days, offset);
    table.T_days.set(triples.T_days, offset);
    table.predicted.set(holdout.expectedPurchases, offset);
    table.churn_risk.set(horizon.pAlive.map((p) => 1 - p), offset);
    table.p_no_purchase.set(horizon.pNoPurchase, offset);
  });
  await writeDoubleTable(store, 'run_choice_predictions', table);
  const params = { as_of: at.asOf, holdout_end: at.holdoutEnd };
  const buckets = await rowsOf<ChoiceBucketRow, keyof typeof params>(store, CHOICE_BUCKETS, params);
  const aucs = await rowsOf<ChoiceAucRow, keyof typeof params>(store, CHOICE_AUC, params);
  await store.run('DROP TABLE temp.run_choice_predictions');
  return chooseModel(
    fits.map((f) => {
      const index = PURCHASE_MODEL_KEYS.indexOf(f.key);
      const auc = (score: string) => aucs.find((a) => a.score === `${index}:${score}`)?.auc ?? null;
      return {
        key: f.key,
        report: f.report,
        usable: f.model !== null,
        buckets: buckets.filter((b) => b.model_index === index),
        auc: auc('churn_risk'),
        auc_p_no_purchase: auc('p_no_purchase'),
      };
    }),
    'holdout',
    customers,
  );
}

/**
 * The run's row of run_intervals (store/schema.ts migration 18): the level and both models'
 * estimates and covariances, which crm forecast reads to draw the band of any group.
 */
async function writeRunIntervals(store: Store, runId: number, level: number, u: IntervalModel, spend: SpendUncertainty | null): Promise<void> {
  await store.run(
    `INSERT INTO run_intervals (run_id, level, z, method, model, purchase_params, purchase_covariance, gg_p, gg_q, gg_v, gg_covariance)
     VALUES ($1, $2, $3, 'delta_log', $4, $5, $6::DOUBLE[], $7, $8, $9, $10::DOUBLE[])`,
    [
      runId,
      level,
      zOfLevel(level),
      u.key,
      JSON.stringify(u.params),
      JSON.stringify(u.covariance.flat()),
      spend?.p ?? null,
      spend?.q ?? null,
      spend?.v ?? null,
      spend ? JSON.stringify(spend.covariance.flat()) : null,
    ],
  );
}

/** Months of the projection each run stores for its report (run_forecast). */
const RUN_FORECAST_MONTHS = 12;

/**
 * The run's 12-month projection of all its customers (crm forecast's computation) into
 * run_forecast; the customers' values summed per history from the customer base
 * (relations/history-values.ts), not read back from the rows just written.
 */
async function writeRunForecast(
  store: Store,
  run: RunRow,
  gg: GammaGammaFit['params'] | null,
  evaluated: { data: RfmSummary; alive: Float64Array[] } | null,
): Promise<void> {
  await materialize(store, HISTORY_VALUES, { gg_p: gg?.p ?? null, gg_q: gg?.q ?? null, gg_v: gg?.v ?? null });
  const histories = (await readNumericColumns(store, `SELECT * FROM ${HISTORY_VALUES.name} ORDER BY x, t_x_days, T_days`)) as unknown as ForecastHistories;
  await store.run(`DROP TABLE ${HISTORY_VALUES.name}`);
  const f = await computeForecast(store, { by: 'month', scope: { kind: 'all' }, months: RUN_FORECAST_MONTHS, run, histories, ...(evaluated ? { evaluated } : {}) });
  const rows = [...f.periods.map((p) => ({ ...p, month: p.period as number | null, month_end: p.end as string | null })), { ...f.total, month: null, month_end: null }];
  for (const r of rows) {
    await store.run(
      `INSERT INTO run_forecast VALUES ($1, $2, $3::DATE, $4, $5, $6, $7, $8, $9)`,
      [run.run_id, r.month, r.month_end, r.expected_purchases, r.expected_purchases_low, r.expected_purchases_high, r.value, r.value_low, r.value_high],
    );
  }
}

function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86_400_000);
}

async function computeBacktest(store: Store, runId: number, asOf: string, holdoutEnd: string, method: PurchaseModelKey | null): Promise<Backtest> {
  // Without a fitted model (method null) there are no holdout predictions: every customer's is 0.
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
    method: method ?? 'recency',
  };
}

/** The run summary from one pass over the run's rows (models/relations/run-summary.ts). */
async function summarise(store: Store, runId: number, fitted: boolean): Promise<Omit<RunSummary, 'customers_only_returns' | 'customers_only_returns_examples' | 'churn_basis'>> {
  const rows = await rowsOf<RunSummaryRow, 'run_id'>(store, RUN_SUMMARY, { run_id: runId });
  const of = (group: RunSummaryRow['grouped_by']) => rows.filter((r) => r.grouped_by === group);
  const t = of('total')[0];
  return {
    segments: of('segment').map((r) => ({ segment: r.name!, customers: r.customers, net_revenue: r.net_revenue })),
    value_tiers: of('value_tier').map((r) => ({ tier: r.name!, customers: r.customers, clv: r.clv, net_revenue: r.net_revenue })),
    churn_tiers: of('churn_tier').map((r) => ({ tier: r.name!, customers: r.customers })),
    key_accounts: {
      customers: t.key_customers,
      // Of the customers the 80/20 ranks: those with purchases (customers with contracts only have no class).
      customer_share: t.purchase_customers ? t.key_customers / t.purchase_customers : 0,
      revenue_share: t.positive_revenue ? (t.key_revenue ?? 0) / t.positive_revenue : 0,
      at_risk: t.key_at_risk,
    },
    net_revenue: t.net_revenue,
    expected_purchases: fitted ? t.expected_purchases : null,
    clv_total: fitted ? t.clv : null,
    customers_with_purchases: t.purchase_customers,
    customers_with_contracts: t.contract_customers,
    contract_residual_value: t.contract_residual_value,
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
