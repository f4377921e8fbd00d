/**
 * One interface over the continuous-time purchase models a user can choose — BG/NBD (with its
 * boundary limits, bgnbd-limits.ts), Pareto/NBD (pareto-nbd.ts) and MBG/NBD (mbgnbd.ts) — so that
 * the run can fit the chosen one and write the same per-history outputs whichever it is:
 * P(alive), expected purchases over the horizon, P(no purchase) and the discounted expected
 * purchases CLV multiplies by the value per transaction (clv.ts's convention: monthly steps,
 * each step's purchases valued at its end).
 *
 * Each model is described under its own key with the figures `crm model show --json` shows:
 * its parameters, `log_likelihood`, `converged`, `standard_errors` (bgnbd.{r, alpha, a, b},
 * pareto_nbd.{r, alpha, s, beta}, mbgnbd.{r, alpha, a, b}).
 *
 * The BG/BB (bgbb.ts) counts discrete opportunities: it is fitted on period histories (x, t_x, n
 * in whole months or years, relations/period-histories.ts), not on (x, t_x, T) in a time unit, so
 * it is not a `FittedPurchaseModel` and --model auto never picks it; `fitBgBbModel` and
 * `predictBgBbHistories` give the run the same per-history outputs, and its report sits under
 * the key `bgbb` (alpha, beta, gamma, delta).
 */
import { bgbbModelDiscountedExpectedPurchases, fitBgBbFamily, predictBgBbModel, type BgBbModel } from './bgbb-limits.js';
import type { BgNbdParams } from './bgnbd.js';
import { fitPurchaseModel, modelExpectedPurchasesIfAlive, modelPAliveAll, predictPurchases, type PurchaseModel } from './bgnbd-limits.js';
import { discountSchedule, type ClvOptions } from './clv.js';
import { fitMbgNbd, mbgnbdExpectedPurchasesIfAlive, predictMbgNbd, type MbgNbdFit, type MbgNbdParams } from './mbgnbd.js';
import { bgnbdUncertainty, mleUncertainty, type PurchaseUncertainty } from './intervals.js';
import type { MleFit } from './mle.js';
import { fitParetoNbd, paretoNbdExpectedPurchasesIfAlive, predictParetoNbd, type ParetoNbdFit, type ParetoNbdParams } from './pareto-nbd.js';
import { groupPairs, type RfmSummary } from './rfm-data.js';
import { inWorker } from './worker-client.js';

/** The models' names for people, by key. */
export const PURCHASE_MODEL_NAMES: Record<ModelKey, string> = { bgnbd: 'BG/NBD', pareto_nbd: 'Pareto/NBD', mbgnbd: 'MBG/NBD', bgbb: 'BG/BB' };

/**
 * Each model's parameters as its report (runs.bgnbd, runs.purchase_model) names them, in the order
 * people read them. The BG/NBD fitted at a boundary of its parameter space (bgnbd-limits.ts)
 * reports its limiting model's — p (one dropout probability for all) — with the parameters the
 * limit does not have NULL; its `rate` (one purchase rate for all) is a parameter only at a
 * homogeneous-rates boundary (run/format.ts: bgnbdModelLine), so it is not listed here.
 */
export const PURCHASE_MODEL_PARAMETERS: Record<ModelKey, readonly string[]> = {
  bgnbd: ['r', 'alpha', 'a', 'b', 'p'],
  pareto_nbd: ['r', 'alpha', 's', 'beta'],
  mbgnbd: ['r', 'alpha', 'a', 'b'],
  bgbb: ['alpha', 'beta', 'gamma', 'delta'],
};

/** The continuous-time models by their keys (the JSON keys of `crm model show`): the ones --model auto compares. */
export const PURCHASE_MODEL_KEYS = ['bgnbd', 'pareto_nbd', 'mbgnbd'] as const;
export type PurchaseModelKey = (typeof PURCHASE_MODEL_KEYS)[number];

/** Every model a run can use: the continuous-time ones and the BG/BB (discrete periods; never chosen by auto). */
export const MODEL_KEYS = [...PURCHASE_MODEL_KEYS, 'bgbb'] as const;
export type ModelKey = (typeof MODEL_KEYS)[number];

/** `--model` spells the keys with hyphens: pareto-nbd → pareto_nbd. */
export function purchaseModelKey(choice: string): PurchaseModelKey | null {
  const key = choice.replace(/-/g, '_');
  return (PURCHASE_MODEL_KEYS as readonly string[]).includes(key) ? (key as PurchaseModelKey) : null;
}

/** Per-history outputs of any purchase model. */
export interface HistoryPredictions {
  pAlive: Float64Array;
  /** E[purchases in (T, T + horizon]]. */
  expectedPurchases: Float64Array;
  /** P(no purchase in (T, T + horizon]). */
  pNoPurchase: Float64Array;
}

/** A fitted model to predict with. */
export interface FittedPurchaseModel {
  key: PurchaseModelKey;
  predict(data: RfmSummary, horizon: number): HistoryPredictions;
  /** P(alive at T) per row. */
  pAlive(data: RfmSummary): Float64Array;
  /** E[purchases in (T, T+t] | alive at T, x, T]. */
  expectedPurchasesIfAlive(t: number, x: number, T: number): number;
}

/** What `crm model show --json` holds under the model's key. */
export interface PurchaseModelReport {
  [parameter: string]: unknown;
  log_likelihood: number;
  converged: boolean;
  standard_errors: Record<string, number> | null;
  customers: number;
  triples: number;
  message: string;
}

export interface PurchaseModelChoiceFit {
  key: PurchaseModelKey;
  /** null when the fit failed (the report's message says why). */
  model: FittedPurchaseModel | null;
  report: PurchaseModelReport;
  /** The estimate and covariance of ln params, for the intervals (intervals.ts); null when not available. */
  uncertainty: PurchaseUncertainty | null;
}

/** The BG/NBD (or its boundary limit) behind the interface. */
export function fromBgNbd(model: PurchaseModel): FittedPurchaseModel {
  return {
    key: 'bgnbd',
    predict: (data, horizon) => predictPurchases(model, data, horizon),
    pAlive: (data) => modelPAliveAll(model, data),
    expectedPurchasesIfAlive: (t, x, T) => modelExpectedPurchasesIfAlive(model, t, x, T),
  };
}

export function fromParetoNbd(params: ParetoNbdParams): FittedPurchaseModel {
  return {
    key: 'pareto_nbd',
    predict: (data, horizon) => predictParetoNbd(params, data, horizon),
    pAlive: (data) => predictParetoNbd(params, data, 0).pAlive,
    expectedPurchasesIfAlive: (t, x, T) => paretoNbdExpectedPurchasesIfAlive(params, t, x, T),
  };
}

export function fromMbgNbd(params: MbgNbdParams): FittedPurchaseModel {
  return {
    key: 'mbgnbd',
    predict: (data, horizon) => predictMbgNbd(params, data, horizon),
    pAlive: (data) => predictMbgNbd(params, data, 0).pAlive,
    expectedPurchasesIfAlive: (t, x, T) => mbgnbdExpectedPurchasesIfAlive(params, t, x, T),
  };
}

/** What every fit reports besides its parameters (an MLE fit, or a BG/NBD or BG/BB family fit). */
type FitSummary = {
  logLikelihood: number;
  converged: boolean;
  standardErrors: object | null;
  customers: number;
  rows: number;
  message: string;
};

/**
 * A fit's report: its parameters, then `boundary` when the model family has limits (null
 * inside), then the figures every fit has.
 */
function reportOf(fit: FitSummary, params: Record<string, number | null>, boundary?: string | null): PurchaseModelReport {
  return {
    ...params,
    ...(boundary === undefined ? {} : { boundary }),
    log_likelihood: fit.logLikelihood,
    converged: fit.converged,
    standard_errors: fit.standardErrors ? { ...(fit.standardErrors as Record<string, number>) } : null,
    customers: fit.customers,
    triples: fit.rows,
    message: fit.message,
  };
}

/**
 * Fit the chosen model to compressed histories. The BG/NBD is fitted as the run always has
 * (fitPurchaseModel: a boundary maximum is a fit of its limiting model); the others by maximum
 * likelihood with standard errors. A model that does not converge is not used (model null).
 */
export function fitChosenPurchaseModel(key: PurchaseModelKey, data: RfmSummary): PurchaseModelChoiceFit {
  if (key === 'bgnbd') {
    const fit = fitPurchaseModel(data);
    const params = fit.model ? (fit.model.params as unknown as Record<string, number>) : (fit.full.params as unknown as Record<string, number>);
    return {
      key,
      model: fit.model ? fromBgNbd(fit.model) : null,
      uncertainty: bgnbdUncertainty(fit),
      report: reportOf(fit, params, fit.model?.boundary ?? null),
    };
  }
  return choiceFitOf(key, key === 'pareto_nbd' ? fitParetoNbd(data) : fitMbgNbd(data));
}

function choiceFitOf(key: Exclude<PurchaseModelKey, 'bgnbd'>, fit: ParetoNbdFit | MbgNbdFit): PurchaseModelChoiceFit {
  if (key === 'pareto_nbd') {
    const f = fit as ParetoNbdFit;
    return { key, model: f.converged ? fromParetoNbd(f.params) : null, report: reportOf(f, f.params as unknown as Record<string, number>), uncertainty: mleUncertainty(key, f) };
  }
  const f = fit as MbgNbdFit;
  return { key, model: f.converged ? fromMbgNbd(f.params) : null, report: reportOf(f, f.params as unknown as Record<string, number>), uncertainty: mleUncertainty(key, f) };
}

/**
 * fitChosenPurchaseModel for the Pareto/NBD or MBG/NBD in a worker thread (worker-client.ts), so
 * that the caller's thread can fit another model (or wait on DuckDB) meanwhile: the same fit.
 */
export async function fitChosenPurchaseModelInWorker(key: Exclude<PurchaseModelKey, 'bgnbd'>, data: RfmSummary): Promise<PurchaseModelChoiceFit> {
  return choiceFitOf(key, await inWorker<ParetoNbdFit | MbgNbdFit>({ task: 'fit', key, data }));
}

/**
 * Discounted expected purchases over the horizon for every row (clv.ts's convention), for any
 * model: P(alive) × Σ_i ΔE_i(alive) d_i, the sum once per distinct (x, T). `alive`: the model's
 * P(alive) per row of `data` when the caller has it already (its `predict`'s pAlive, the same
 * numbers), so that it is not computed twice.
 */
export function discountedPurchasesAll(model: FittedPurchaseModel, data: RfmSummary, opts: ClvOptions, alive: Float64Array = model.pAlive(data)): Float64Array {
  const schedule = discountSchedule(opts);
  const pairs = groupPairs(data.x, data.T);
  const perPair = new Float64Array(pairs.groupCount);
  for (let g = 0; g < pairs.groupCount; g++) {
    const row = pairs.firstRow[g];
    let total = 0;
    let previous = 0;
    for (let i = 0; i < schedule.stepEnds.length; i++) {
      const cumulative = model.expectedPurchasesIfAlive(schedule.stepEnds[i], data.x[row], data.T[row]);
      total += (cumulative - previous) * schedule.discountFactors[i];
      previous = cumulative;
    }
    perPair[g] = total;
  }
  const out = new Float64Array(alive.length);
  for (let i = 0; i < out.length; i++) out[i] = alive[i] * perPair[pairs.groupOf[i]];
  return out;
}

/**
 * A model of the interface at given parameters (an interior BG/NBD for `bgnbd`): the covariate
 * model (covariates.ts) predicts each covariate cell with that cell's own parameters.
 */
export function purchaseModelAt(key: PurchaseModelKey, params: Record<string, number>): FittedPurchaseModel {
  if (key === 'pareto_nbd') return fromParetoNbd(params as unknown as ParetoNbdParams);
  if (key === 'mbgnbd') return fromMbgNbd(params as unknown as MbgNbdParams);
  return fromBgNbd({ boundary: null, params: params as unknown as BgNbdParams });
}

/** The BG/BB fitted on period histories (x, t_x, n = T, weight): its report under `bgbb`, and its model when it fitted. */
export interface BgBbModelFit {
  key: 'bgbb';
  /** The BG/BB or its no-dropout limit (bgbb-limits.ts); null when neither fitted (the report's message says why). */
  model: BgBbModel | null;
  /** Covariance of the model's ln params (bgbbModelParameterNames' order), for the intervals (intervals.ts bgbbHistoryIntervals); null without one. */
  covariance: number[][] | null;
  report: PurchaseModelReport;
}

/**
 * Fit the BG/BB family (bgbb-limits.ts fitBgBbFamily). The report holds alpha, beta, gamma,
 * delta and `boundary` (null inside; 'no_dropout' at the limit, where gamma and delta are null:
 * the limit has no dropout parameters); when nothing fitted, the unrestricted fit's parameters.
 */
export function fitBgBbModel(data: RfmSummary): BgBbModelFit {
  const fit = fitBgBbFamily(data);
  const shown: Record<string, number | null> = fit.model
    ? { gamma: null, delta: null, ...(fit.model.params as unknown as Record<string, number>) }
    : { ...(fit.full.params as unknown as Record<string, number>) };
  const { alpha, beta, gamma, delta } = shown;
  const report = reportOf(fit, { alpha, beta, gamma, delta }, fit.model?.boundary ?? null);
  // The unrestricted fit where its optimiser stopped, for a boundary fit (as the BG/NBD's `unrestricted`).
  if (fit.model?.boundary) report.unrestricted = { ...(fit.full.params as unknown as Record<string, number>), log_likelihood: fit.full.logLikelihood };
  return { key: 'bgbb', model: fit.model, covariance: fit.converged ? fit.covariance : null, report };
}

/**
 * The BG/BB's per-history outputs over `periods` whole periods: P(alive at the next opportunity),
 * expected purchases (purchase periods), P(no purchase) and the discounted expected purchases
 * (period k weighted by `discount[k − 1]`; the run values a period at its end), n in `T`.
 */
export function predictBgBbHistories(model: BgBbModel, data: RfmSummary, periods: number, discount: Float64Array): HistoryPredictions & { discounted: Float64Array } {
  const p = predictBgBbModel(model, data, periods);
  const discounted = Float64Array.from(data.x, (x, i) => bgbbModelDiscountedExpectedPurchases(model, discount, x, data.tx[i], data.T[i]));
  return { ...p, discounted };
}
