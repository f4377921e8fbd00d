/**
 * The contract part of `crm run` (docs/models.md, "Contracts"): runs of renewals from the
 * contract periods (relations/contract-spells.ts), sBG fits per plan and for the whole book per
 * period unit with their predictions per distinct (fit, renewals) (models/contracts.ts), then —
 * inside the run's write transaction, before the customer rows, which read them —
 * contract_metrics (stored as contract_metrics_stored and contract_predictions, read through the
 * view contract_metrics: store migration 13), contract_retention and runs.contracts (relations/contract-metrics.ts,
 * contract-backtest.ts). A store without contract periods on or before as-of skips it all:
 * runs.contracts stays NULL and no contract rows are written.
 */
import { writeTempRows } from '../store/columnar.js';
import type { Store } from '../store/db.js';
import type { Progress } from '../util/progress.js';
import {
  contractPredictions,
  describeContractFit,
  fitContracts,
  fittedCurves,
  type ContractFit,
  type ContractRunSettings,
  type FitInputRow,
  type SbgReport,
} from '../models/contracts.js';
import { insertInto, materialize, rowsOf } from '../models/relation.js';
import { CONTRACT_BACKTEST, type ContractBacktestRow } from '../models/relations/contract-backtest.js';
import { CONTRACT_METRICS, CONTRACT_PREDICTIONS, CONTRACT_RETENTION, CONTRACT_SUMMARY, type ContractSummaryRow } from '../models/relations/contract-metrics.js';
import { CONTRACT_FIT_INPUT, CONTRACT_SPELLS } from '../models/relations/contract-spells.js';
import type { ModelSettings } from '../models/settings.js';

/** Temp tables the step writes from TypeScript (read by relations/contract-metrics.ts). */
const PREDICTIONS_TABLE = 'run_contract_predictions';
const CURVES_TABLE = 'run_contract_curves';

export interface ContractBacktest {
  holdout_start: string;
  holdout_end: string;
  /** Renewal decisions a fit scored that were decided within the holdout (renewal_due + grace_days + 1 ≤ holdout_end: contract-backtest.ts). */
  decisions: number;
  predicted_renewals: number;
  actual_renewals: number;
  /** Mean of (actual − p_renew)²; null without decisions. */
  brier: number | null;
  by_plan: { plan: string; decisions: number; predicted: number; actual: number; brier: number | null }[];
  /** Per tenth of p_renew: [band_low, band_high). */
  calibration: { band_low: number; band_high: number; decisions: number; predicted: number; actual: number }[];
}

/** runs.contracts. */
export interface ContractsReport extends ContractRunSettings {
  discount_rate: number;
  horizon_months: number;
  summary: ContractSummaryRow;
  sbg: SbgReport[];
  backtest: ContractBacktest | null;
}

export interface ContractStepInput {
  store: Store;
  asOf: string;
  holdoutEnd: string | null;
  settings: ModelSettings;
  progress: Progress;
  /** Runs `fn` and records its time in runs.timings under `name`. */
  timed: <R>(name: string, fn: () => Promise<R>) => Promise<R>;
}

/** What the step prepared before the transaction. */
export interface PreparedContracts {
  input: ContractStepInput;
  fits: ContractFit[];
}

/** The data's last date and the words that name it in messages. */
export interface DataEnd {
  date: string;
  /** LAST_TRANSACTION_DATE without contracts, else DATA_LAST_DATE. */
  described: string;
  /** What the date is the latest of (DATA_LAST_DATE_DETAIL) when not transactions only, else null. */
  detail: string | null;
  /** Whether the store holds contract periods (a backtest also reads renewals then). */
  contracts: boolean;
}

/** How a message names the data's last date: by what defines it. */
export const LAST_TRANSACTION_DATE = 'the last transaction date';
export const DATA_LAST_DATE = "the data's last date";
export const DATA_LAST_DATE_DETAIL = 'the latest transaction, contract period start or cancellation';

/**
 * The last date of the data, for the default as-of: the last transaction date, or a later
 * contract period start or cancellation (periods are often recorded ahead: their ends are not
 * counted). Null for an empty store.
 */
export async function lastDataDate(store: Store): Promise<DataEnd | null> {
  const row = await store.one<{ date: string | null; contracts: boolean }>(
    `SELECT CAST(greatest((SELECT max(order_date) FROM transactions),
                          (SELECT max(period_start) FROM contracts),
                          (SELECT max(cancel_date) FROM contracts)) AS VARCHAR) AS date,
            EXISTS (SELECT 1 FROM contracts) AS contracts`,
  );
  if (!row?.date) return null;
  return row.contracts
    ? { date: row.date, described: DATA_LAST_DATE, detail: DATA_LAST_DATE_DETAIL, contracts: true }
    : { date: row.date, described: LAST_TRANSACTION_DATE, detail: null, contracts: false };
}

/**
 * Runs of renewals, their compressed counts and the fits; the predictions and fitted curves
 * written to temp tables. Null when no contract period starts on or before as-of.
 */
export async function prepareContracts(input: ContractStepInput): Promise<PreparedContracts | null> {
  const { store, asOf, settings, progress, timed } = input;
  const c = settings.contracts;
  const started = await store.value<number>('SELECT count(*) FROM contracts WHERE period_start <= CAST($as_of AS DATE)', { as_of: asOf });
  if (!started) return null;
  await progress.step(`detecting contract renewals as of ${asOf} (grace ${c.grace_days} days)`, () =>
    timed('contracts_spells', () => materialize(store, CONTRACT_SPELLS, { as_of: asOf, grace_days: c.grace_days, period: c.period })),
  );
  const rows = await timed('contracts_fit_input', () => rowsOf<FitInputRow, string>(store, CONTRACT_FIT_INPUT, {}));
  const runs = rows.reduce((sum, r) => sum + r.contracts, 0);
  const fits = await progress.step(`fitting sBG retention on ${runs.toLocaleString('en-US')} contract runs`, () =>
    timed('contracts_fit', async () => fitContracts(rows, c.min_contracts)),
  );
  await timed('contracts_predict', async () => {
    // Censored current runs are exactly the active rows of the fit input (earlier runs all ended).
    const keys = rows.filter((r) => r.active === 1);
    const prediction = contractPredictions(fits, keys, { annualDiscountRate: settings.discount_rate, horizonMonths: settings.horizon_months });
    await writeTempRows(store, PREDICTIONS_TABLE, {
      plan: { type: 'VARCHAR', values: prediction.plan },
      period_unit: { type: 'VARCHAR', values: prediction.period_unit },
      renewals: { type: 'INTEGER', values: prediction.renewals },
      model_plan: { type: 'VARCHAR', values: prediction.model_plan },
      model_kind: { type: 'VARCHAR', values: prediction.model_kind },
      p_renew: { type: 'DOUBLE', values: prediction.p_renew },
      derl: { type: 'DOUBLE', values: prediction.derl },
      value_per_premium: { type: 'DOUBLE', values: prediction.value_per_premium },
      value_per_premium_horizon: { type: 'DOUBLE', values: prediction.value_per_premium_horizon },
    });
    const curves = fittedCurves(fits, settings.horizon_months);
    await writeTempRows(store, CURVES_TABLE, {
      plan: { type: 'VARCHAR', values: curves.plan },
      period_unit: { type: 'VARCHAR', values: curves.period_unit },
      period: { type: 'INTEGER', values: curves.period },
      fitted_survival: { type: 'DOUBLE', values: curves.fitted_survival },
    });
  });
  return { input, fits };
}

/**
 * Inside the run's write transaction: contract_metrics (its stored rows and predictions) and contract_retention for `runId`, the
 * backtest (with --holdout-end) and the summary; returns runs.contracts.
 */
export async function writeContracts(prepared: PreparedContracts, runId: number): Promise<ContractsReport> {
  const { store, asOf, holdoutEnd, settings, timed } = prepared.input;
  const c = settings.contracts;
  await timed('contracts_write_metrics', async () => {
    // The stored part of contract_metrics (a view: store migration 13) and the predictions it joins.
    await insertInto(store, 'contract_predictions', CONTRACT_PREDICTIONS, { run_id: runId });
    return insertInto(store, 'contract_metrics_stored', CONTRACT_METRICS, { run_id: runId, as_of: asOf });
  });
  await timed('contracts_write_retention', () => insertInto(store, 'contract_retention', CONTRACT_RETENTION, { run_id: runId }));
  const backtest = holdoutEnd
    ? await timed('contracts_backtest', () => contractBacktest(store, runId, asOf, holdoutEnd, c.grace_days))
    : null;
  const [summary] = await timed('contracts_summary', () => rowsOf<ContractSummaryRow, 'run_id'>(store, CONTRACT_SUMMARY, { run_id: runId }));
  return {
    grace_days: c.grace_days,
    period: c.period,
    min_contracts: c.min_contracts,
    discount_rate: settings.discount_rate,
    horizon_months: settings.horizon_months,
    summary,
    sbg: prepared.fits.map((f) => describeContractFit(f, settings.discount_rate)),
    backtest,
  };
}

async function contractBacktest(store: Store, runId: number, asOf: string, holdoutEnd: string, graceDays: number): Promise<ContractBacktest> {
  const rows = await rowsOf<ContractBacktestRow, 'run_id' | 'as_of' | 'holdout_end' | 'grace_days'>(store, CONTRACT_BACKTEST, {
    run_id: runId,
    as_of: asOf,
    holdout_end: holdoutEnd,
    grace_days: graceDays,
  });
  const book = rows.find((r) => r.grouped_by === 'book')!;
  return {
    holdout_start: asOf,
    holdout_end: holdoutEnd,
    decisions: book.decisions,
    predicted_renewals: book.predicted,
    actual_renewals: book.actual,
    brier: book.brier,
    by_plan: rows
      .filter((r) => r.grouped_by === 'plan')
      .map((r) => ({ plan: r.plan!, decisions: r.decisions, predicted: r.predicted, actual: r.actual, brier: r.brier })),
    calibration: rows
      .filter((r) => r.grouped_by === 'band')
      .map((r) => ({ band_low: r.band_low!, band_high: r.band_high!, decisions: r.decisions, predicted: r.predicted, actual: r.actual })),
  };
}
