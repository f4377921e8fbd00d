/**
 * The last step of `crm run`: the run written atomically, in one transaction — the contract part,
 * every customer's row of metrics_customers (customer_metrics' stored columns, with value tiers;
 * run/customers.ts), cohort_retention, run_intervals, bgbb_histories, segment_migration,
 * run_forecast, the backtest, the summary, the scores back to a source, and the runs row last.
 * A failed or killed run leaves the store as it was.
 */
import { spendUncertainty, zOfLevel, type SpendUncertainty } from '../../models/intervals.js';
import { insertInto, materialize, rowsOf, type RelationParams } from '../../models/relation.js';
import { spendModelParams, type CustomerMetricsParam } from '../../models/relations/customer-metrics.js';
import { HISTORY_VALUES } from '../../models/relations/history-values.js';
import { periodHistories } from '../../models/relations/period-histories.js';
import { RUN_SUMMARY, type RunSummaryRow } from '../../models/relations/run-summary.js';
import { SEGMENT_MIGRATION } from '../../models/relations/segment-migration.js';
import type { RfmSummary } from '../../models/rfm-data.js';
import { segmentCells } from '../../models/rfm.js';
import { readNumericColumns } from '../../store/columnar.js';
import { literal, type Store } from '../../store/db.js';
import { collectGarbage } from '../../util/memory.js';
import { writeContracts, type PreparedContracts } from '../contracts.js';
import type { CovariatesReport } from '../covariates.js';
import { writeCustomerRows } from '../customers.js';
import { computeForecast, type ForecastHistories, type RunRow } from '../forecast.js';
import type { RunResult, RunSummary } from '../result.js';
import type { RunOptions } from '../settings.js';
import { writeBackMetrics, type RunSource } from '../source.js';
import { computeBacktest } from './backtest.js';
import type { CustomerBase } from './base.js';
import { describeBgNbd } from './describe.js';
import type { PurchaseFits, UsedModels } from './fit.js';
import { COHORTS_TABLE } from './levels-cohorts.js';
import type { ForecastEvaluated, IntervalModel } from './predict.js';
import { insertRunsRow, runReport, runsRow } from './record.js';
import type { RfmScoreCuts } from './rfm.js';
import type { SpendStep } from './spend.js';
import type { StepTools } from './tools.js';

export interface WriteRunInput {
  options: RunOptions;
  source: RunSource | null;
  asOf: string;
  unitDays: number;
  /** When the run started (runs.created_at; timings.total runs from it). */
  started: Date;
  /** The tools' timings: runs.timings, total added here. */
  timings: Record<string, number>;
  contracts: PreparedContracts | null;
  base: Pick<CustomerBase, 'trend' | 'onlyReturns' | 'input'>;
  rfm: RfmScoreCuts;
  fits: PurchaseFits;
  used: UsedModels;
  /** The model whose intervals the customer rows carry (z not NULL), if any. */
  intervalModel: IntervalModel | null;
  forecastEvaluated: ForecastEvaluated | null;
  covariates: CovariatesReport | null;
  spend: SpendStep & { excluded: number };
}

export async function writeRun(store: Store, w: WriteRunInput, { progress, timed }: StepTools): Promise<RunResult> {
  const { options, source, asOf, unitDays, timings, contracts, rfm, fits, intervalModel, covariates } = w;
  const { settings } = options;
  const { trend, onlyReturns } = w.base;
  const { bgnbd, chosen, bgbb } = fits;
  const { fitted, model, bgbbModel, modelKey } = w.used;
  const { gamma, model: spendModel } = w.spend;
  // Write the run atomically. This process holds the store's write lock, so the run id
  // chosen here stays free.
  const runId = ((await store.value<number>('SELECT coalesce(max(run_id), 0) FROM runs')) ?? 0) + 1;
  // "Previous" is the latest run of an earlier as-of date: rerunning the same date compares
  // with the same earlier period, so reruns reproduce their results exactly.
  const previousRunId = (await store.value<number | null>(`SELECT max(run_id) FROM runs WHERE as_of < DATE ${literal(asOf)}`)) ?? null;
  // The customer rows are computed and written inside the transaction (run/customers.ts).
  // The spend model's parameters (spend step: the Gamma-Gamma, its homogeneous-spend limit, or none).
  const gg = spendModelParams(spendModel);
  // The spend term of the intervals: the Gamma-Gamma's covariance; none at its limit (p/ν from
  // all the repeat transactions: its own error is negligible beside the purchase side's).
  const spend = spendUncertainty(spendModel?.boundary === null ? gamma!.full : null);
  const metricsParams: RelationParams<CustomerMetricsParam> = {
    run_id: runId,
    previous_run_id: previousRunId,
    as_of: asOf,
    time_unit_days: unitDays,
    fitted,
    ...rfm,
    rfm_bins: settings.rfm.bins,
    segment_cells: segmentCells(settings.rfm),
    ...gg,
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
        const { customers: scored, tierCuts } = await writeCustomerRows(store, metricsParams, settings.value_tiers, timed);
        await store.run(`INSERT INTO cohort_retention SELECT ${runId}, * FROM ${COHORTS_TABLE}`);
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
            }, gg, w.forecastEvaluated),
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
        const record = { runId, asOf, options, scored, trend, fits, used: w.used, covariates, gamma, excludedSpend: w.spend.excluded, backtest, summary, contractsReport, timings };
        const report = runReport(record);
        // The scores back to the cluster, inside the transaction: if it refuses, the run is not recorded.
        const sent = source ? await timed('write_back', () => writeBackMetrics(store, source, runId, { metrics: metricsParams, tiers: settings.value_tiers, tierCuts, timed })) : null;
        timings.total = Date.now() - w.started.getTime();
        const toSource = sent ? { bytes_to_source: sent.sent, csv_bytes_to_source: sent.csv } : {};
        if (source) {
          const read = w.base.input as { shards: number; transactions_used: number; bytes_from_source: number; csv_bytes_from_source: number };
          report.source = { url: source.label, shards: read.shards, transactions_used: read.transactions_used, bytes_from_source: read.bytes_from_source, csv_bytes_from_source: read.csv_bytes_from_source, bytes_to_source: sent!.sent, csv_bytes_to_source: sent!.csv };
        }
        const inputInfo = source ? { ...w.base.input, ...toSource } : await store.one(
          `SELECT (SELECT list(load_id ORDER BY load_id) FROM loads WHERE status = 'loaded') AS loads,
                  (SELECT count(*) FROM transactions WHERE order_date <= DATE ${literal(asOf)}) AS transactions_used,
                  -- The merges the run read (customer_merges): another set of merges scores other customers.
                  (SELECT list(merge_id ORDER BY merge_id) FROM customer_merges) AS merges`,
        );
        // The data's first date and the trend windows it was compared over ("not enough history" when not comparable).
        const input = { ...inputInfo, trend };
        await insertRunsRow(store, runsRow(record, report, { started: w.started, source, input }));
        return report;
      }),
    ),
  );
  result.timings_ms = timings;
  return result;
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
  gg: ReturnType<typeof spendModelParams>,
  evaluated: { data: RfmSummary; alive: Float64Array[] } | null,
): Promise<void> {
  await materialize(store, HISTORY_VALUES, gg);
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
