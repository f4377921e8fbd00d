/**
 * `crm run`: every customer model, as of a date, recorded as one run.
 *
 * This module only sequences the steps (run/steps/, one module each, each taking its input and
 * returning its result), records their timings (runs.timings) and writes the run. The SQL is a
 * chain of relations in src/models/relations/, each materialised as the temp table of its name or
 * inlined into the one relation that reads it; the statistics run in TypeScript on compressed data.
 *
 *   prepare     as-of checked against the data; the contract part staged (steps/prepare.ts)
 *   base        trend windows → orders → purchase days → customer base (temp.run_base), and the
 *               customers with only returns; from the store or a ClickHouse source (steps/base.ts)
 *   rfm         score cut points; scores and segments are expressions of the rows (steps/rfm.ts)
 *   histories   the distinct histories (x, t_x, T), read once; the fallback before any fit
 *               (steps/histories.ts); the Gamma-Gamma's input read (steps/spend.ts)
 *   fit         the purchase model(s) (steps/fit.ts), while DuckDB ranks the 80/20 levels and
 *               builds the cohort triangle (steps/levels-cohorts.ts)
 *   predict     P(alive), expected and discounted purchases, intervals per history (steps/predict.ts)
 *   covariates  --covariates: the model refitted with them (steps/covariates.ts)
 *   spend       Gamma-Gamma on repeat customers' mean repeat value (steps/spend.ts)
 *   backtest    --holdout-end: holdout predictions per history (steps/backtest.ts)
 *   write       one transaction: contracts, metrics_customers, cohort_retention, run_intervals,
 *               segment_migration, run_forecast, backtest, summary, the runs row last (steps/write.ts)
 *
 * Everything heavy is staged in temp tables before the transaction, but the customer rows, which
 * are computed as they are written; a failed or killed run leaves the store as it was. Same store + as-of + options ⇒ the same customer_metrics.
 */
import type { CrmConfig } from '../config.js';
import { Store } from '../store/db.js';
import type { Reporter } from '../util/log.js';
import type { Progress } from '../util/progress.js';
import { usageError } from '../util/errors.js';
import type { RunResult } from './result.js';
import { resolveRunOptions, type RunFlags, type RunOptions } from './settings.js';
import { resolveSource, withStagedCleanup, type RunSource } from './source.js';
import { backtestPredictions } from './steps/backtest.js';
import { baseStep, chainParams, checkSources } from './steps/base.js';
import { covariatesStep, intervalModelOf } from './steps/covariates.js';
import { fitPurchaseModels, usedModels } from './steps/fit.js';
import { fallbackBeforeFit, readHistories } from './steps/histories.js';
import { startLevelsAndCohorts } from './steps/levels-cohorts.js';
import { predict } from './steps/predict.js';
import { prepareRun } from './steps/prepare.js';
import { rfmStep } from './steps/rfm.js';
import { readSpend, spendStep } from './steps/spend.js';
import { stepTools } from './steps/tools.js';
import { writeRun } from './steps/write.js';

export { FALLBACK_CODES, type FallbackCode, type ModelReport, type RunResult, type RunSummary } from './result.js';
/** No purchase by as-of, only contracts: a code of its own (run/customers.ts), worded too. */
export { NO_PURCHASES_CODE } from './customers.js';

/** DuckDB's cap for crm run: the same 1 GB as every command since the fits' worker threads (measured below). */
const RUN_MEMORY_LIMIT = '1GB';

export interface RunModelsInput {
  storePath: string;
  flags: RunFlags;
  config?: CrmConfig;
  reporter: Reporter;
  progress: Progress;
}

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
    // Whatever the run staged on the cluster is dropped however it ends (run/source.ts).
    return await withStagedCleanup(source, () => runWithStore(store, options, input, source, sourceTable));
  } finally {
    // The temp tables live and die with this connection: closing frees them.
    store.close();
  }
}

/** The run as a chain of steps; each step's result is the next ones' input. */
async function runWithStore(store: Store, options: RunOptions, input: RunModelsInput, source: RunSource | null, sourceTable: { hasCost: boolean } | null): Promise<RunResult> {
  const { settings } = options;
  const { timings, ...tools } = stepTools(input.progress);
  const started = new Date();
  const sourceHasCost = sourceTable?.hasCost ?? false;

  const { asOf, contracts, unitDays, horizonUnits } = await prepareRun(store, { options, source, sourceHasCost, reporter: input.reporter }, tools);
  const chain = chainParams(asOf, options);
  const base = await baseStep(store, { chain, source, sourceHasCost, hasContracts: contracts !== null }, tools);
  const rfm = await rfmStep(store, settings.rfm, tools);
  const histories = await readHistories(store, unitDays, tools);
  const fallback = fallbackBeforeFit(base.noPurchases, base.customers, settings.min_customers, histories.repeaters);
  const spendInput = await readSpend(store, fallback !== null, tools);

  // The 80/20 levels and the cohort triangle run in DuckDB's threads while the models are fitted here.
  const inDuckDb = startLevelsAndCohorts(store, base, chain, tools);
  const fits = await fitPurchaseModels(store, { fallback, options, asOf, unitDays, horizonUnits, customers: base.customers, histories, spend: spendInput }, tools);
  await inDuckDb;
  const used = usedModels(fits);

  const predicted = await predict(store, { settings, unitDays, horizonUnits, histories, fits, used }, tools);
  const covariates = await covariatesStep(store, { options, asOf, unitDays, horizonUnits, fits, model: used.model }, tools);
  const spend = await spendStep(store, spendInput, used.fitted);
  await backtestPredictions(store, { asOf, holdoutEnd: options.holdoutEnd, unitDays, model: used.model, covariates, histories }, tools);

  return writeRun(
    store,
    {
      options,
      source,
      asOf,
      unitDays,
      started,
      timings,
      contracts,
      base,
      rfm,
      fits,
      used,
      intervalModel: intervalModelOf(predicted, covariates),
      forecastEvaluated: predicted.forecastEvaluated,
      covariates,
      spend: { ...spend, excluded: spendInput.excluded },
    },
    tools,
  );
}
