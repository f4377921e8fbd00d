/**
 * Intervals from the parameters' sampling uncertainty (issue #12 §3): how far a customer's
 * expected purchases and CLV could move if the model's parameters were re-estimated on another
 * sample of the same size.
 *
 * Method: the delta method on the log scale. The maximum-likelihood estimate of θ = ln params is
 * asymptotically normal with covariance Σ = the inverse observed information (mle.ts, bgnbd.ts,
 * gamma-gamma.ts keep it: `covariance`). For a positive prediction f(θ) (E[X(H) | history],
 * discounted expected purchases, E[M | x, m̄], a sum of them over customers),
 *   ln f(θ̂) ≈ ln f(θ) + ∇ln f · (θ̂ − θ)  ⇒  sd(ln f) = √(∇ln f' Σ ∇ln f),
 * and the interval at level p is f · exp(∓ z sd), z = Φ⁻¹((1 + p)/2) (Oehlert 1992, "A note on
 * the delta method", The American Statistician 46(1); the log scale keeps the bounds positive
 * and follows the right skew of a rate's sampling distribution). ∇ln f is a forward difference
 * in each ln parameter (step DELTA_STEP): k + 1 evaluations of the model per distinct history for
 * k parameters, against 200 for 200 draws from N(θ̂, Σ) — the cost that keeps this within the
 * run at 1.5M distinct histories. docs/models.md says why, and what the test of coverage found
 * (test/models/intervals.test.ts).
 *
 * The purchase model and the Gamma-Gamma are fitted apart (Fader, Hardie & Lee 2005 assume spend
 * independent of the transaction process): their estimates are treated as independent, so
 * var(ln CLV) = var(ln DEP) + var(ln E[M]). The Gamma-Gamma's gradient is analytic:
 * E[M | x, m̄] = p (v + x m̄) / (p x + q − 1) (Fader, Hardie & Lee 2005 "RFM and CLV", eq. 5 of
 * the Gamma-Gamma note), so ∂ln E/∂ln p = (q − 1)/(p x + q − 1), ∂ln E/∂ln q = −q/(p x + q − 1),
 * ∂ln E/∂ln v = v p / (E (p x + q − 1)) — the run computes it per customer as it writes the row
 * (models/relations/customer-metrics.ts), the forecast summed per history (run/forecast.ts).
 */
import { bgbbModelDiscountedExpectedPurchases, bgbbModelParameterNames, bgbbModelScaled, predictBgBbModel, type BgBbModel } from './bgbb-limits.js';
import type { BgNbdParams } from './bgnbd.js';
import type { PurchaseModelFit } from './bgnbd-limits.js';
import type { GammaGammaFit } from './gamma-gamma.js';
import type { MleFit } from './mle.js';
import { fromBgNbd, fromMbgNbd, fromParetoNbd, type FittedPurchaseModel, type PurchaseModelKey } from './purchase-models.js';
import type { MbgNbdParams } from './mbgnbd.js';
import type { ParetoNbdParams } from './pareto-nbd.js';
import type { RfmSummary } from './rfm-data.js';
import { sharedFloat64 } from './shared-arrays.js';

/** Default level of the intervals (crm run --interval, models.interval). */
export const DEFAULT_INTERVAL = 0.9;

/** Step of the forward differences in ln params: small against any sd(ln param) the data allow, large against rounding. */
export const DELTA_STEP = 1e-4;

/** Each model's parameters in the order of its θ (and of its covariance). */
export const PARAMETER_ORDER: Record<PurchaseModelKey, readonly string[]> = {
  bgnbd: ['r', 'alpha', 'a', 'b'],
  pareto_nbd: ['r', 'alpha', 's', 'beta'],
  mbgnbd: ['r', 'alpha', 'a', 'b'],
};

/** The purchase model's estimate and its uncertainty: what the intervals need. */
export interface PurchaseUncertainty {
  key: PurchaseModelKey;
  /** Parameters by name (PARAMETER_ORDER). */
  params: Record<string, number>;
  /** Covariance of ln params, in PARAMETER_ORDER. */
  covariance: number[][];
}

/** The Gamma-Gamma's estimate and the covariance of (ln p, ln q, ln v). */
export interface SpendUncertainty {
  p: number;
  q: number;
  v: number;
  covariance: number[][];
}

/** The model of `key` at `params` (the BG/NBD's interior model: intervals are not given at its boundary limits). */
export function purchaseModelAt(key: PurchaseModelKey, params: Record<string, number>): FittedPurchaseModel {
  if (key === 'bgnbd') return fromBgNbd({ boundary: null, params: params as unknown as BgNbdParams });
  if (key === 'pareto_nbd') return fromParetoNbd(params as unknown as ParetoNbdParams);
  return fromMbgNbd(params as unknown as MbgNbdParams);
}

/**
 * The estimate's model first, then one model per parameter with ln param raised by DELTA_STEP:
 * the k + 1 models whose predictions give ∇ln f by forward differences.
 */
export function perturbedModels(u: PurchaseUncertainty): FittedPurchaseModel[] {
  const names = PARAMETER_ORDER[u.key];
  return [
    purchaseModelAt(u.key, u.params),
    ...names.map((name) => purchaseModelAt(u.key, { ...u.params, [name]: u.params[name] * Math.exp(DELTA_STEP) })),
  ];
}

/**
 * sd(ln f) per row by the delta method: values[0] holds f at the estimate, values[1 + i] f with
 * ln param i raised by DELTA_STEP. Rows where f is not positive and finite get NaN.
 */
export function logSdByDelta(values: readonly Float64Array[], covariance: readonly (readonly number[])[]): Float64Array {
  const k = values.length - 1;
  const n = values[0].length;
  const out = new Float64Array(n);
  const gradient = new Float64Array(k);
  for (let row = 0; row < n; row++) {
    const base = values[0][row];
    if (!(base > 0) || !Number.isFinite(base)) {
      out[row] = NaN;
      continue;
    }
    const logBase = Math.log(base);
    for (let i = 0; i < k; i++) gradient[i] = (Math.log(values[1 + i][row]) - logBase) / DELTA_STEP;
    out[row] = Math.sqrt(quadraticForm(gradient, covariance));
  }
  return out;
}

/** g' Σ g (≥ 0 up to rounding; clipped at 0). */
export function quadraticForm(g: ArrayLike<number>, covariance: readonly (readonly number[])[]): number {
  let total = 0;
  for (let i = 0; i < g.length; i++) for (let j = 0; j < g.length; j++) total += g[i] * covariance[i][j] * g[j];
  return Math.max(total, 0);
}

/**
 * Φ⁻¹(p): Acklam's rational approximation (relative error < 1.2e-9, far below what an interval
 * needs), with its central and tail regions.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1) (got ${p})`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** z of a two-sided interval at `level` (0.9 → 1.645). */
export function zOfLevel(level: number): number {
  return normalQuantile((1 + level) / 2);
}

/** The bounds f · exp(∓ z sd). */
export function logNormalBounds(value: number, logSd: number, z: number): [number, number] {
  return [value * Math.exp(-z * logSd), value * Math.exp(z * logSd)];
}

/** Per distinct history: the expected purchases' bounds and sd(ln discounted expected purchases). */
export interface HistoryIntervals {
  expectedPurchasesLow: Float64Array;
  expectedPurchasesHigh: Float64Array;
  /** sd of ln(discounted expected purchases): CLV's purchase-side spread (the view adds the spend side). */
  discountedLogSd: Float64Array;
}

/**
 * The intervals of every row of `data` (distinct histories): E[X(H) | history] and the
 * discounted expected purchases `discounted(model, data)` evaluated under the k + 1 models of
 * perturbedModels, propagated by logSdByDelta.
 */
export function historyIntervals(
  u: PurchaseUncertainty,
  data: RfmSummary,
  horizon: number,
  level: number,
  discounted: DiscountedBy,
): HistoryIntervals {
  const all = perturbedModels(u).map((_, i) => i);
  const { expected, dep } = intervalEvaluations(u, all, data, horizon, discounted);
  return combineIntervals(u, { expected, dep }, level);
}

/** Evaluations of some of perturbedModels(u) (by index): E[X(H) | history] and the discounted expected purchases per row. */
export interface IntervalEvaluations {
  expected: Float64Array[];
  dep: Float64Array[];
  /** Each model's P(alive) per row (the run's forecast projects the same models: run/forecast.ts). */
  alive: Float64Array[];
}

/**
 * The discounted expected purchases of `model` per row of `data` (purchase-models.ts
 * discountedPurchasesAll with the run's horizon and rate); `alive` is the model's P(alive) per row,
 * from its prediction, so that it is computed once per model.
 */
export type DiscountedBy = (model: FittedPurchaseModel, data: RfmSummary, alive: Float64Array) => Float64Array;

/**
 * The evaluations behind historyIntervals for the models of perturbedModels(u) at `indices`:
 * the run splits the k + 1 models between its thread and a worker (models/worker-tasks.ts), and
 * takes the estimate's (index 0) from its own prediction. One prediction per model gives both
 * E[X(H) | history] and, through its P(alive), the discounted expected purchases.
 */
export function intervalEvaluations(
  u: PurchaseUncertainty,
  indices: readonly number[],
  data: RfmSummary,
  horizon: number,
  discounted: DiscountedBy,
): IntervalEvaluations {
  const all = perturbedModels(u);
  const out: IntervalEvaluations = { expected: [], dep: [], alive: [] };
  for (const i of indices) {
    const prediction = all[i].predict(data, horizon);
    out.alive.push(prediction.pAlive);
    out.expected.push(prediction.expectedPurchases);
    out.dep.push(discounted(all[i], data, prediction.pAlive));
  }
  return out;
}

/** historyIntervals from the evaluations of all k + 1 models, in perturbedModels' order. */
export function combineIntervals(u: PurchaseUncertainty, { expected, dep }: Pick<IntervalEvaluations, 'expected' | 'dep'>, level: number): HistoryIntervals {
  const epSd = logSdByDelta(expected, u.covariance);
  const depSd = logSdByDelta(dep, u.covariance);
  const z = zOfLevel(level);
  const n = expected[0].length;
  const low = new Float64Array(n);
  const high = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // E = 0 (nothing expected, e.g. a zero horizon) has a zero-width interval.
    if (expected[0][i] === 0) continue;
    [low[i], high[i]] = logNormalBounds(expected[0][i], epSd[i], z);
  }
  return { expectedPurchasesLow: low, expectedPurchasesHigh: high, discountedLogSd: depSd };
}

/**
 * The BG/BB's intervals per distinct period history (x, t_x, n = T), the same method as
 * historyIntervals: E[purchases in the next `periods` periods] and the discounted expected
 * purchases (`discount` per period) under the estimate and the models with one ln parameter of
 * the model's own raised by DELTA_STEP (α, β, γ, δ; α, β at the no-dropout limit,
 * bgbb-limits.ts), propagated by logSdByDelta with the fit's covariance of those ln params.
 */
export function bgbbHistoryIntervals(
  model: BgBbModel,
  covariance: readonly (readonly number[])[],
  data: RfmSummary,
  periods: number,
  discount: Float64Array,
  level: number,
): HistoryIntervals {
  const models: BgBbModel[] = [model, ...bgbbModelParameterNames(model).map((name) => bgbbModelScaled(model, name, Math.exp(DELTA_STEP)))];
  const expected = models.map((m) => predictBgBbModel(m, data, periods).expectedPurchases);
  const dep = models.map((m) => Float64Array.from(data.x, (x, i) => bgbbModelDiscountedExpectedPurchases(m, discount, x, data.tx[i], data.T[i])));
  const epSd = logSdByDelta(expected, covariance);
  const z = zOfLevel(level);
  const n = data.x.length;
  const low = new Float64Array(n);
  const high = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (expected[0][i] === 0) continue;
    [low[i], high[i]] = logNormalBounds(expected[0][i], epSd[i], z);
  }
  return { expectedPurchasesLow: low, expectedPurchasesHigh: high, discountedLogSd: logSdByDelta(dep, covariance) };
}

/**
 * ∇ ln E[M | x, m̄] in (ln p, ln q, ln v) at the estimate, from E itself (see the header): the
 * customer_metrics view's expression, in TypeScript for the tests and the forecast's checks.
 */
export function spendLogGradient(s: Pick<SpendUncertainty, 'p' | 'q' | 'v'>, x: number, expectedValue: number): [number, number, number] {
  const denominator = s.p * x + s.q - 1;
  return [(s.q - 1) / denominator, -s.q / denominator, (s.v * s.p) / (expectedValue * denominator)];
}

/** The BG/NBD's uncertainty when its fit is interior (null at a boundary limit, or without a covariance). */
export function bgnbdUncertainty(fit: PurchaseModelFit): PurchaseUncertainty | null {
  if (fit.model === null || fit.model.boundary !== null || fit.full.covariance === null) return null;
  return { key: 'bgnbd', params: { ...fit.full.params }, covariance: fit.full.covariance };
}

/** A Pareto/NBD or MBG/NBD fit's uncertainty (null when it did not converge). */
export function mleUncertainty(key: Exclude<PurchaseModelKey, 'bgnbd'>, fit: MleFit<ParetoNbdParams> | MleFit<MbgNbdParams>): PurchaseUncertainty | null {
  if (!fit.converged || fit.covariance === null) return null;
  return { key, params: { ...(fit.params as unknown as Record<string, number>) }, covariance: fit.covariance };
}

/** The Gamma-Gamma's uncertainty (null without a usable fit). */
export function spendUncertainty(fit: GammaGammaFit | null): SpendUncertainty | null {
  if (fit === null || !fit.converged || !fit.finiteMean || fit.covariance === null) return null;
  return { ...fit.params, covariance: fit.covariance };
}

/**
 * Rows evaluated together by intervalRows: each perturbed model's arrays exist for this many rows
 * at a time, not for every distinct history (at 100M lines, 6.5M histories × 8 bytes × 3 arrays
 * × k + 1 models was most of the run's JavaScript memory).
 */
export const INTERVAL_CHUNK_ROWS = 1 << 16;

/** The estimate's own evaluation (index 0 of perturbedModels) per row of `data`, when the caller has it. */
export interface EstimateEvaluation {
  expected: Float64Array;
  alive: Float64Array;
  /** The discounted expected purchases; computed from `alive` when absent. */
  dep?: Float64Array;
}

/** Where intervalRows writes, each of the data's length: the bounds and each perturbed model's P(alive) (index j − 1 for model j ≥ 1). */
export interface IntervalRowsOutput extends HistoryIntervals {
  alive: Float64Array[];
}

/**
 * historyIntervals for rows [from, to) of `data`, written into `out` at those rows, plus each
 * perturbed model's P(alive) (the run's forecast projects the same models). The rows go
 * INTERVAL_CHUNK_ROWS at a time through all k + 1 models: every figure is a function of its own
 * row (and of its (x, T), evaluated by the same code on the same numbers), so the result is
 * bit for bit combineIntervals of intervalEvaluations over all rows, without k + 1 full arrays
 * of each quantity. `estimate` gives model 0's evaluation (the run's own prediction) instead of
 * evaluating it again. The run splits the rows between its thread and a worker (worker-tasks.ts),
 * both writing into shared arrays.
 */
export function intervalRows(
  u: PurchaseUncertainty,
  data: RfmSummary,
  horizon: number,
  level: number,
  discounted: DiscountedBy,
  out: IntervalRowsOutput,
  from = 0,
  to = data.x.length,
  estimate: EstimateEvaluation | null = null,
  chunkRows = INTERVAL_CHUNK_ROWS,
): void {
  const models = perturbedModels(u);
  for (let start = from; start < to; start += chunkRows) {
    const end = Math.min(to, start + chunkRows);
    const chunk: RfmSummary = {
      x: data.x.subarray(start, end),
      tx: data.tx.subarray(start, end),
      T: data.T.subarray(start, end),
      weight: data.weight.subarray(start, end),
    };
    const expected: Float64Array[] = [];
    const dep: Float64Array[] = [];
    for (let j = 0; j < models.length; j++) {
      if (j === 0 && estimate) {
        const alive = estimate.alive.subarray(start, end);
        expected.push(estimate.expected.subarray(start, end));
        dep.push(estimate.dep ? estimate.dep.subarray(start, end) : discounted(models[0], chunk, alive));
        continue;
      }
      const prediction = models[j].predict(chunk, horizon);
      if (j > 0) out.alive[j - 1].set(prediction.pAlive, start);
      expected.push(prediction.expectedPurchases);
      dep.push(discounted(models[j], chunk, prediction.pAlive));
    }
    const bounds = combineIntervals(u, { expected, dep }, level);
    out.expectedPurchasesLow.set(bounds.expectedPurchasesLow, start);
    out.expectedPurchasesHigh.set(bounds.expectedPurchasesHigh, start);
    out.discountedLogSd.set(bounds.discountedLogSd, start);
  }
}

/** intervalRows' output arrays for `n` rows and `k` perturbed parameters, shared with a worker. */
export function sharedIntervalRowsOutput(n: number, k: number): IntervalRowsOutput {
  return {
    expectedPurchasesLow: sharedFloat64(n),
    expectedPurchasesHigh: sharedFloat64(n),
    discountedLogSd: sharedFloat64(n),
    alive: Array.from({ length: k }, () => sharedFloat64(n)),
  };
}

/**
 * The first row of the worker's share in intervalRows: the run's thread predicts every row with
 * the estimate (its own prediction) and evaluates k models on rows [0, split); the worker k + 1 on
 * [split, n): equal work at split = k n / (2k + 1).
 */
export function intervalRowsSplit(n: number, k: number): number {
  return Math.floor((k * n) / (2 * k + 1));
}
