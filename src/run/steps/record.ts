/**
 * What a run records of itself: the result `crm run` returns (RunResult) and the runs row, built
 * as one named object (column → value) and inserted by its column names, so no value can land in
 * its neighbour's column.
 */
import type { Backtest } from '../../models/backtest.js';
import type { SpendModelFit } from '../../models/gamma-gamma-limits.js';
import type { Store } from '../../store/db.js';
import { TOOL_VERSION } from '../../version.js';
import type { ContractsReport } from '../contracts.js';
import type { CovariatesReport } from '../covariates.js';
import type { RunResult, RunSummary } from '../result.js';
import type { RunOptions } from '../settings.js';
import type { RunSource } from '../source.js';
import type { CustomerBase } from './base.js';
import { describeBgNbd, describeGamma } from './describe.js';
import type { PurchaseFits, UsedModels } from './fit.js';

/** What the run's result and its runs row are made of (run/steps/write.ts). */
export interface RunRecord {
  runId: number;
  asOf: string;
  options: RunOptions;
  /** Customers written (runs.customers). */
  scored: number;
  trend: CustomerBase['trend'];
  fits: PurchaseFits;
  used: Pick<UsedModels, 'fitted' | 'model' | 'modelKey'>;
  covariates: CovariatesReport | null;
  gamma: SpendModelFit | null;
  /** Repeat customers the Gamma-Gamma left out (mean repeat value not above 0). */
  excludedSpend: number;
  backtest: Backtest | null;
  summary: RunSummary;
  contractsReport: ContractsReport | null;
  timings: Record<string, number>;
}

/** The result `crm run` returns (and prints with --json). */
export function runReport(r: RunRecord): RunResult {
  const { options, fits, used } = r;
  const { settings } = options;
  const { bgnbd, chosen, bgbb, modelChoice, otherReports, fallback } = fits;
  const { fitted, model, modelKey } = used;
  const covariates = r.covariates;
  return {
    run_id: r.runId,
    as_of: r.asOf,
    since: options.since,
    holdout_end: options.holdoutEnd,
    time_unit: settings.time_unit,
    horizon_months: settings.horizon_months,
    customers: r.scored,
    model_status: fitted ? 'fitted' : 'fallback',
    fallback_reason: fallback?.[1] ?? null,
    fallback_code: fallback?.[0] ?? null,
    trend: r.trend,
    model: modelKey,
    bgnbd: bgnbd ? describeBgNbd(bgnbd) : null,
    ...otherReports,
    ...(chosen ? { [chosen.key]: chosen.report } : {}),
    ...(bgbb?.fit ? { bgbb: bgbb.fit.report } : {}),
    ...(modelChoice ? { model_choice: modelChoice } : {}),
    // --covariates: under the model's own key (crm model show reads runs.covariates back there).
    ...(covariates && model ? { [model.key]: { ...(model.key === 'bgnbd' ? describeBgNbd(bgnbd!) : chosen!.report), covariates } } : {}),
    gamma_gamma: r.gamma ? describeGamma(r.gamma, r.excludedSpend) : null,
    backtest: r.backtest,
    summary: r.summary,
    contracts: r.contractsReport,
    timings_ms: r.timings,
  };
}

/** One row of `runs` (store/schema.ts), by column; JSON columns as their text. */
export interface RunsRow {
  run_id: number;
  /** 'YYYY-MM-DD HH:MM:SS.mmm' (UTC). */
  created_at: string;
  as_of: string;
  since: string | null;
  holdout_end: string | null;
  time_unit: string;
  horizon_months: number;
  params: string;
  input: string;
  customers: number;
  model_status: string;
  fallback_reason: string | null;
  bgnbd: string | null;
  gamma_gamma: string | null;
  backtest: string | null;
  summary: string;
  timings: string;
  tool_version: string;
  fallback_code: string | null;
  contracts: string | null;
  model: string | null;
  purchase_model: string | null;
  model_choice: string | null;
  covariates: string | null;
}

/** The run's row of `runs`: the result `report`, with when it started, where it came from and what it read (`input`). */
export function runsRow(r: RunRecord, report: RunResult, at: { started: Date; source: RunSource | null; input: Record<string, unknown> }): RunsRow {
  const { options, fits, asOf } = r;
  const { settings } = options;
  const { chosen, bgbb, modelChoice, otherReports, fallback } = fits;
  const covariates = r.covariates;
  return {
    run_id: r.runId,
    created_at: at.started.toISOString().replace('T', ' ').replace('Z', ''),
    as_of: asOf,
    since: options.since,
    holdout_end: options.holdoutEnd,
    time_unit: settings.time_unit,
    horizon_months: settings.horizon_months,
    params: JSON.stringify({ as_of: asOf, since: options.since, holdout_end: options.holdoutEnd, ...settings, model: options.model, ...(options.covariates.length > 0 ? { covariates: options.covariates } : {}), ...(at.source ? { source: at.source.label } : {}) }),
    input: JSON.stringify(at.input),
    customers: r.scored,
    model_status: report.model_status,
    fallback_reason: fallback?.[1] ?? null,
    // (without the covariates: runs.covariates holds them)
    bgnbd: report.bgnbd ? JSON.stringify({ ...report.bgnbd, covariates: undefined }) : null,
    gamma_gamma: report.gamma_gamma ? JSON.stringify(report.gamma_gamma) : null,
    backtest: r.backtest ? JSON.stringify(r.backtest) : null,
    summary: JSON.stringify(r.summary),
    timings: JSON.stringify(r.timings),
    tool_version: TOOL_VERSION,
    fallback_code: fallback?.[0] ?? null,
    contracts: r.contractsReport ? JSON.stringify(r.contractsReport) : null,
    model: report.model ?? null,
    purchase_model: chosen ? JSON.stringify(chosen.report) : bgbb?.fit ? JSON.stringify(bgbb.fit.report) : null,
    // The other models' reports ride along, so each keeps its key in crm model show.
    model_choice: modelChoice ? JSON.stringify({ ...modelChoice, reports: otherReports }) : null,
    covariates: covariates ? JSON.stringify(covariates) : null,
  };
}

/** runs' columns whose parameter is cast (the rest bind as they are). */
const RUNS_CASTS: Partial<Record<keyof RunsRow, string>> = { created_at: '::TIMESTAMP', as_of: '::DATE', since: '::DATE', holdout_end: '::DATE' };

/** The INSERT of one runs row: its columns named, each value bound at its own column's place. */
export function runsInsert(row: RunsRow): { sql: string; params: RunsRow[keyof RunsRow][] } {
  const columns = Object.keys(row) as (keyof RunsRow)[];
  return {
    sql: `INSERT INTO runs (${columns.join(', ')}) VALUES (${columns.map((c, i) => `$${i + 1}${RUNS_CASTS[c] ?? ''}`).join(', ')})`,
    params: columns.map((c) => row[c]),
  };
}

export async function insertRunsRow(store: Store, row: RunsRow): Promise<void> {
  const { sql, params } = runsInsert(row);
  await store.run(sql, params);
}
