/**
 * BG/NBD ("beta-geometric / negative binomial distribution") model of repeat purchasing:
 * Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
 * Pareto/NBD Model", Marketing Science 24(2), 275–284.
 *
 * Assumptions (per customer, time measured from the customer's first purchase):
 *  1. While active, purchases follow a Poisson process with rate λ.
 *  2. λ varies across customers as Gamma(shape r, rate α).
 *  3. Right after each repeat purchase the customer drops out for good with probability p
 *     (a customer is always active right after the first purchase).
 *  4. p varies across customers as Beta(a, b), independently of λ.
 *
 * Data per customer: x repeat purchases, the last at t_x, observed until T (see rfm-data.ts).
 *
 * Likelihood (paper eq. 6), with δ = 1 if x > 0:
 *   L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
 *     + δ B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))
 * so that, with A(x) = ln Γ(r+x) - ln Γ(r) + r ln α + ln Γ(a+b) + ln Γ(b+x) - ln Γ(b) - ln Γ(a+b+x),
 *   ln L = A(x) - (r+x) ln(α+T) + δ ln(1 + a/(b+x-1) · ((α+T)/(α+t_x))^(r+x)).
 * The fit maximises Σ weight · ln L over θ = (ln r, ln α, ln a, ln b); the gradient is analytic
 * (digamma for the Γ terms). Evaluation cost: A(x) once per distinct x, ln(α+T) once per
 * distinct T, ln(α+t_x) once per distinct t_x, and for the dropout term one pass over the
 * triples with x > 0, grouped by x. Within a group, e^d = P[T]·Q[t_x] is tabulated per distinct
 * T and t_x when that is cheaper than one exp per row (dates on a daily grid), and the logs of
 * 1 + e^d are accumulated as a running product, so a row costs a few multiplications and one
 * division. Large inputs run the multi-start phase on a weighted subsample (see fitBgNbd).
 *
 * Per-customer quantities (paper eqs. 9, 10 and the P(alive) expression of the technical note
 * "Computing P(alive) using the BG/NBD model", Fader, Hardie & Lee 2008):
 *   P(alive | x, t_x, T) = 1 / (1 + δ a/(b+x-1) ((α+T)/(α+t_x))^(r+x))
 *   E[X(t)] = (a+b-1)/(a-1) · [1 - (α/(α+t))^r · 2F1(r, b; a+b-1; t/(α+t))]
 *   E[Y(t) | x, t_x, T] = P(alive) · (a+b+x-1)/(a-1)
 *                        · [1 - ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; t/(α+T+t))]
 * The bracket of eq. 10 vanishes at a = 1 and its 2F1 terms grow like (1-z)^(-x). With
 * z = t/(α+T+t), c = a+b+x-1 and Euler's transformation
 *   (1-z)^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z)
 * whose numerator parameters do not depend on x, and (a-1)_k = (a-1)(a)_(k-1), the factor
 * 1/(a-1) cancels exactly:
 *   c/(a-1) · [bracket] = -c L · (e^((a-1)L) - 1)/((a-1)L) - e^((a-1)L) Σ_{k>=1} u_k,
 *   L = ln(1-z),  u_1 = (a+b-1-r) z,  u_(k+1) = u_k z (a+b-1-r+k)(a-1+k) / ((c+k)(k+1)),
 * which is what `expectedPurchasesIfAlive` evaluates: stable at a ≈ 1, for large x (the
 * series then converges in a few terms) and for a+b < 1 at x = 0 (where c <= 0).
 *
 * Inspired by the documentation of the Python packages lifetimes and PyMC-Marketing; no code
 * was taken from them.
 */

import { invertSymmetric, minimizeBfgs, numericHessian, type MinimizeOptions, type MinimizeResult } from './optimize.js';
import type { LogLikelihood } from './mle.js';
import { Rng } from './random.js';
import {
  type RfmSummary,
  groupDistinct,
  groupIntegers,
  groupPairs,
  pickRows,
  validateRfmSummary,
  weightedSubsample,
} from './rfm-data.js';
import { digamma, exprel, hypergeometricTailSum, lgamma, logSumExp2 } from './special.js';

export type { RfmSummary } from './rfm-data.js';
export { compressRfm, validateRfmSummary } from './rfm-data.js';

/** BG/NBD parameters: λ ~ Gamma(r, rate alpha), p ~ Beta(a, b); all > 0. */
export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** One starting point of the multi-start fit and where it ended. */
export interface BgNbdStart {
  /** Where the optimiser started. */
  initial: BgNbdParams;
  /** Where it stopped. */
  params: BgNbdParams;
  /** Log-likelihood at `params` on the data the start was run on (see `onSubsample`). */
  logLikelihood: number;
  converged: boolean;
  iterations: number;
  /** True when this start was run on the weighted subsample (large inputs). */
  onSubsample: boolean;
}

export interface BgNbdFit {
  /** Maximum-likelihood estimates (NaN when no fit was possible, see `message`). */
  params: BgNbdParams;
  /** Weighted log-likelihood at `params` on the full data. */
  logLikelihood: number;
  /** True only if the optimiser converged, no parameter ran away and the information matrix is positive definite. */
  converged: boolean;
  /** BFGS iterations of the chosen start (subsample phase plus full-data phase). */
  iterations: number;
  /** Objective evaluations over the whole fit (all starts, full data and Hessian). */
  evaluations: number;
  starts: BgNbdStart[];
  /** Asymptotic standard errors (inverse observed information, delta method), or null. */
  standardErrors: BgNbdParams | null;
  /** Inverse observed information in ln params (parameter order): the asymptotic covariance of ln params (intervals.ts). */
  covariance: number[][] | null;
  /** Human-readable outcome; names the problem when converged is false. */
  message: string;
  /** Largest |∂(mean log-likelihood)/∂ln θ| at the estimate. */
  gradientNorm: number;
  /** Σ weight: number of customers. */
  customers: number;
  /** Distinct triples with positive weight. */
  rows: number;
  /** Wall-clock milliseconds per phase (diagnostics). */
  timings: BgNbdFitTimings;
}

/** Where a fit spent its time, in milliseconds. */
export interface BgNbdFitTimings {
  /** Validation and regrouping of the data (and of the subsample, if any). */
  prepare: number;
  /** All starting points (on the subsample for large inputs). */
  starts: number;
  /** Refinement of the best start on the full data (0 without subsample). */
  refine: number;
  /** Numeric Hessian for the standard errors. */
  information: number;
}

export interface BgNbdFitOptions {
  /** Extra starting points, tried in addition to the built-in ones. */
  starts?: BgNbdParams[];
  /** Gradient tolerance on the mean log-likelihood per customer w.r.t. log-parameters. */
  gradientTolerance?: number;
  maxIterations?: number;
  /**
   * Inputs with more distinct triples than twice this run the starts on a weighted random
   * subsample of about this many triples, then refine only the best start on the full data.
   * 0 disables subsampling.
   */
  subsampleRows?: number;
  /** Seed of the subsample draw (the fit is deterministic for a given seed). */
  seed?: number;
  /** Progress callback of the full-data refinement (diagnostics). */
  onIteration?: MinimizeOptions['onIteration'];
}

/** Parameter order inside the optimiser (θ = ln of these). */
const PARAM_NAMES = ['r', 'alpha', 'a', 'b'] as const;
const DEFAULT_GRADIENT_TOLERANCE = 1e-8;
const DEFAULT_MAX_ITERATIONS = 300;
const DEFAULT_SUBSAMPLE_ROWS = 60_000;
const DEFAULT_SEED = 20050101;
/**
 * Starts on a subsample stop at this gradient (mean log-likelihood scale): the subsample optimum
 * differs from the full one by sampling noise far larger than the remaining optimisation error,
 * and the full-data refinement finishes the job anyway.
 */
const SUBSAMPLE_GRADIENT_TOLERANCE = 1e-6;
/** Central-difference step (in log-parameters) for the observed information. */
const HESSIAN_STEP = 1e-4;
/**
 * r, a and b beyond these bounds mean the likelihood keeps improving towards a boundary:
 * e.g. a, b → ∞ (no heterogeneity in dropout) or a → 0 (nobody drops out).
 */
const RUNAWAY_MAX = 1e4;
const RUNAWAY_MIN = 1e-4;
/** Same for alpha relative to the mean observation length T. */
const RUNAWAY_ALPHA_RATIO = 1e6;
/**
 * The optimiser stops once a log-parameter passes ±ABORT_LOG_PARAMETER (r, a, b beyond e^±14 ≈
 * 1.2e6, alpha/mean T likewise): far past the runaway bounds, so the report is the same and no
 * evaluations are wasted following the likelihood to infinity.
 */
const ABORT_LOG_PARAMETER = 14;
/** Beyond d = 36 (e^d = 4e15), ln(1 + e^d) = d + e^-d to double precision. */
const LOGISTIC_SPLIT = 36;
const LOGISTIC_SPLIT_VALUE = Math.exp(LOGISTIC_SPLIT);
/**
 * The running product of (1 + e^d) factors (each below e^36) is folded into the log-sum once it
 * passes this, far from overflow.
 */
const PRODUCT_FLUSH = 1e250;
/** Largest |exponent| allowed in the tabulated e^d split (e^±700 is a finite normal double). */
const TABLE_EXPONENT_LIMIT = 700;

function assertParams(params: BgNbdParams): void {
  for (const name of PARAM_NAMES) {
    const value = params[name];
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new RangeError(`BG/NBD parameter ${name} must be finite and > 0 (got ${value})`);
    }
  }
}

const paramsFromLog = (theta: ArrayLike<number>): BgNbdParams => ({
  r: Math.exp(theta[0]),
  alpha: Math.exp(theta[1]),
  a: Math.exp(theta[2]),
  b: Math.exp(theta[3]),
});

const logOfParams = (p: BgNbdParams): Float64Array =>
  Float64Array.of(Math.log(p.r), Math.log(p.alpha), Math.log(p.a), Math.log(p.b));

const NAN_PARAMS: BgNbdParams = { r: NaN, alpha: NaN, a: NaN, b: NaN };

// ---------------------------------------------------------------------------------------------
// Likelihood
// ---------------------------------------------------------------------------------------------

/**
 * Weighted BG/NBD log-likelihood Σ weight · ln L(r, α, a, b | x, t_x, T), straight from the
 * paper's expression, one row at a time. Rows with weight 0 are skipped; rows are not validated
 * (an invalid row makes the result NaN; see validateRfmSummary).
 */
export function bgnbdLogLikelihood(params: BgNbdParams, data: RfmSummary): number {
  assertParams(params);
  const { r, alpha, a, b } = params;
  const constant = r * Math.log(alpha) - lgamma(r) + lgamma(a + b) - lgamma(b);
  let total = 0;
  for (let i = 0; i < data.x.length; i++) {
    const w = data.weight[i];
    if (w === 0) continue;
    const x = data.x[i];
    const common = constant + lgamma(r + x) + lgamma(b + x) - lgamma(a + b + x);
    const stillActive = -(r + x) * Math.log(alpha + data.T[i]);
    const droppedOut =
      x > 0 ? Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + data.tx[i]) : -Infinity;
    total += w * (common + logSumExp2(stillActive, droppedOut));
  }
  return total;
}

/**
 * The data regrouped for fast repeated likelihood evaluation: per distinct x, per distinct T,
 * per distinct t_x, and the rows with x > 0 ordered by x with indices into those tables.
 */
interface PreparedData {
  rows: number;
  totalWeight: number;
  /** Weighted mean of T (time scale for the runaway check on alpha). */
  meanT: number;
  xValues: Float64Array;
  xWeight: Float64Array;
  tValues: Float64Array;
  tWeight: Float64Array;
  tWeightedX: Float64Array;
  txValues: Float64Array;
  /** Groups of rows with x > 0 by x: rows of group g are groupStart[g] .. groupStart[g+1]-1. */
  groupX: Float64Array;
  groupStart: Uint32Array;
  rowT: Uint32Array;
  rowTx: Uint32Array;
  rowWeight: Float64Array;
  /** Smallest and largest of all T and t_x values (for the tabulation bounds). */
  minTime: number;
  maxTime: number;
  // Scratch, reused by every evaluation: [ln(α+v), 1/(α+v)] interleaved; per-group power tables; group sums.
  tScratch: Float64Array;
  txScratch: Float64Array;
  tPower: Float64Array;
  txPower: Float64Array;
  groupSums: Float64Array;
}

function minOf(values: Float64Array): number {
  let m = Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] < m) m = values[i];
  return m;
}

function maxOf(values: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

/** Regroups valid data (see validateRfmSummary) for `evaluateLogLikelihood`. O(rows). */
function prepareData(data: RfmSummary): PreparedData {
  // Keep rows with positive weight (copying only if some weight is 0).
  const n = data.x.length;
  let kept = 0;
  for (let i = 0; i < n; i++) if (data.weight[i] > 0) kept++;
  let { x, tx, T, weight: w } = data;
  if (kept < n) {
    x = new Float64Array(kept);
    tx = new Float64Array(kept);
    T = new Float64Array(kept);
    w = new Float64Array(kept);
    for (let i = 0, j = 0; i < n; i++) {
      if (!(data.weight[i] > 0)) continue;
      x[j] = data.x[i];
      tx[j] = data.tx[i];
      T[j] = data.T[i];
      w[j] = data.weight[i];
      j++;
    }
  }

  const xGroups = groupIntegers(x);
  const tGroups = groupDistinct([T]);
  const txGroups = groupDistinct([tx]);
  const xValues = new Float64Array(xGroups.groupCount);
  for (let g = 0; g < xGroups.groupCount; g++) xValues[g] = x[xGroups.firstRow[g]];
  const xWeight = new Float64Array(xGroups.groupCount);
  const tValues = new Float64Array(tGroups.groupCount);
  for (let g = 0; g < tGroups.groupCount; g++) tValues[g] = T[tGroups.firstRow[g]];
  const tWeight = new Float64Array(tGroups.groupCount);
  const tWeightedX = new Float64Array(tGroups.groupCount);
  const txValues = new Float64Array(txGroups.groupCount);
  for (let g = 0; g < txGroups.groupCount; g++) txValues[g] = tx[txGroups.firstRow[g]];

  let totalWeight = 0;
  let weightedT = 0;
  // Counting sort of rows with x > 0 by their x group.
  const countPerX = new Uint32Array(xGroups.groupCount);
  for (let i = 0; i < kept; i++) {
    const gx = xGroups.groupOf[i];
    const gt = tGroups.groupOf[i];
    xWeight[gx] += w[i];
    tWeight[gt] += w[i];
    tWeightedX[gt] += w[i] * x[i];
    totalWeight += w[i];
    weightedT += w[i] * T[i];
    if (x[i] > 0) countPerX[gx]++;
  }
  // Groups with x > 0 only, in x-group order.
  const positiveGroups: number[] = [];
  for (let g = 0; g < xGroups.groupCount; g++) if (xValues[g] > 0) positiveGroups.push(g);
  const groupX = new Float64Array(positiveGroups.length);
  const groupStart = new Uint32Array(positiveGroups.length + 1);
  const offsetOfXGroup = new Uint32Array(xGroups.groupCount);
  let offset = 0;
  positiveGroups.forEach((g, k) => {
    groupX[k] = xValues[g];
    groupStart[k] = offset;
    offsetOfXGroup[g] = offset;
    offset += countPerX[g];
  });
  groupStart[positiveGroups.length] = offset;
  const rowT = new Uint32Array(offset);
  const rowTx = new Uint32Array(offset);
  const rowWeight = new Float64Array(offset);
  for (let i = 0; i < kept; i++) {
    if (!(x[i] > 0)) continue;
    const position = offsetOfXGroup[xGroups.groupOf[i]]++;
    rowT[position] = tGroups.groupOf[i];
    rowTx[position] = txGroups.groupOf[i];
    rowWeight[position] = w[i];
  }
  return {
    rows: kept,
    totalWeight,
    meanT: totalWeight > 0 ? weightedT / totalWeight : 0,
    xValues,
    xWeight,
    tValues,
    tWeight,
    tWeightedX,
    txValues,
    groupX,
    groupStart,
    rowT,
    rowTx,
    rowWeight,
    minTime: Math.min(minOf(tValues), minOf(txValues)),
    maxTime: Math.max(maxOf(tValues), maxOf(txValues)),
    tScratch: new Float64Array(2 * tValues.length),
    txScratch: new Float64Array(2 * txValues.length),
    tPower: new Float64Array(tValues.length),
    txPower: new Float64Array(txValues.length),
    groupSums: new Float64Array(4),
  };
}

/**
 * Sums over the rows start..end-1 of one x group into prep.groupSums:
 * [Σ w ln(1+e^d), Σ w σ, Σ w σ ln((α+T)/(α+t_x)), Σ w σ (1/(α+T) − 1/(α+t_x))], σ = e^d/(1+e^d).
 * One exp per row. The first sum is skipped (left 0) when withValue is false.
 */
function dropoutSumsDirect(
  prep: PreparedData,
  start: number,
  end: number,
  offset: number,
  shape: number,
  withValue: boolean,
): void {
  const { rowT, rowTx, rowWeight, tScratch, txScratch } = prep;
  let sumSoftplus = 0;
  let product = 1;
  let sumSigma = 0;
  let sumSigmaLogRatio = 0;
  let sumSigmaInverseGap = 0;
  for (let i = start; i < end; i++) {
    const jT = 2 * rowT[i];
    const jTx = 2 * rowTx[i];
    const w = rowWeight[i];
    const logRatio = tScratch[jT] - txScratch[jTx];
    const d = offset + shape * logRatio;
    let sigma: number;
    if (d < LOGISTIC_SPLIT) {
      const e = Math.exp(d);
      sigma = e / (1 + e);
      if (withValue) {
        // Σ ln(1+e) over unit-weight rows as the log of a running product: one log per few
        // hundred rows instead of one per row, same absolute accuracy.
        if (w === 1) {
          product *= 1 + e;
          if (product > PRODUCT_FLUSH) {
            sumSoftplus += Math.log(product);
            product = 1;
          }
        } else {
          sumSoftplus += w * Math.log(1 + e);
        }
      }
    } else {
      const e = Math.exp(-d);
      sigma = 1 / (1 + e);
      if (withValue) sumSoftplus += w * (d + e);
    }
    const ws = w * sigma;
    sumSigma += ws;
    sumSigmaLogRatio += ws * logRatio;
    sumSigmaInverseGap += ws * (tScratch[jT + 1] - txScratch[jTx + 1]);
  }
  const out = prep.groupSums;
  out[0] = sumSoftplus + Math.log(product);
  out[1] = sumSigma;
  out[2] = sumSigmaLogRatio;
  out[3] = sumSigmaInverseGap;
}

/**
 * Same sums as dropoutSumsDirect without an exp per row: e^d = P[T] · Q[t_x] with
 * P[T] = exp(offset + shape (ln(α+T) − middle)) and Q[t_x] = exp(shape (middle − ln(α+t_x))),
 * tabulated once per group for every distinct T and t_x. The caller guarantees both exponents
 * stay within ±TABLE_EXPONENT_LIMIT, so neither table overflows or underflows; a product beyond
 * the logistic split falls back to d itself.
 */
function dropoutSumsTabulated(
  prep: PreparedData,
  start: number,
  end: number,
  offset: number,
  shape: number,
  middle: number,
  withValue: boolean,
): void {
  const { rowT, rowTx, rowWeight, tScratch, txScratch, tPower, txPower } = prep;
  for (let j = 0; j < tPower.length; j++) tPower[j] = Math.exp(offset + shape * (tScratch[2 * j] - middle));
  for (let k = 0; k < txPower.length; k++) txPower[k] = Math.exp(shape * (middle - txScratch[2 * k]));
  let sumSoftplus = 0;
  let product = 1;
  let sumSigma = 0;
  let sumSigmaLogRatio = 0;
  let sumSigmaInverseGap = 0;
  for (let i = start; i < end; i++) {
    const iT = rowT[i];
    const iTx = rowTx[i];
    const w = rowWeight[i];
    const jT = 2 * iT;
    const jTx = 2 * iTx;
    const logRatio = tScratch[jT] - txScratch[jTx];
    const e = tPower[iT] * txPower[iTx];
    let sigma: number;
    if (e < LOGISTIC_SPLIT_VALUE) {
      sigma = e / (1 + e);
      if (withValue) {
        if (w === 1) {
          product *= 1 + e;
          if (product > PRODUCT_FLUSH) {
            sumSoftplus += Math.log(product);
            product = 1;
          }
        } else {
          sumSoftplus += w * Math.log(1 + e);
        }
      }
    } else {
      sigma = 1 / (1 + 1 / e);
      if (withValue) sumSoftplus += w * (offset + shape * logRatio + 1 / e);
    }
    const ws = w * sigma;
    sumSigma += ws;
    sumSigmaLogRatio += ws * logRatio;
    sumSigmaInverseGap += ws * (tScratch[jT + 1] - txScratch[jTx + 1]);
  }
  const out = prep.groupSums;
  out[0] = sumSoftplus + Math.log(product);
  out[1] = sumSigma;
  out[2] = sumSigmaLogRatio;
  out[3] = sumSigmaInverseGap;
}

/**
 * Weighted log-likelihood at θ = (ln r, ln α, ln a, ln b); writes ∂LL/∂θ into `gradient`.
 * One pass over the prepared tables. With withValue = false only the gradient is exact (the
 * returned value omits the dropout term), which saves a log per row in the numeric Hessian.
 */
function evaluateLogLikelihood(
  prep: PreparedData,
  theta: ArrayLike<number>,
  gradient: Float64Array,
  withValue = true,
): number {
  const r = Math.exp(theta[0]);
  const alpha = Math.exp(theta[1]);
  const a = Math.exp(theta[2]);
  const b = Math.exp(theta[3]);
  const logAlpha = Math.log(alpha);
  const logA = Math.log(a);
  let ll = 0;
  let dR = 0;
  let dAlpha = 0;
  let dA = 0;
  let dB = 0;

  // Terms that depend on x only: Σ_x W_x A(x).
  const lgammaR = lgamma(r);
  const lgammaAB = lgamma(a + b);
  const lgammaB = lgamma(b);
  const digammaR = digamma(r);
  const digammaAB = digamma(a + b);
  const digammaB = digamma(b);
  for (let g = 0; g < prep.xValues.length; g++) {
    const x = prep.xValues[g];
    const wx = prep.xWeight[g];
    if (x === 0) {
      ll += wx * r * logAlpha; // every Γ ratio is 1 at x = 0
      dR += wx * logAlpha;
      dAlpha += (wx * r) / alpha;
      continue;
    }
    ll +=
      wx *
      (lgamma(r + x) - lgammaR + r * logAlpha + lgammaAB + lgamma(b + x) - lgammaB - lgamma(a + b + x));
    const digammaABX = digamma(a + b + x);
    dR += wx * (digamma(r + x) - digammaR + logAlpha);
    dAlpha += (wx * r) / alpha;
    dA += wx * (digammaAB - digammaABX);
    dB += wx * (digammaAB + digamma(b + x) - digammaB - digammaABX);
  }

  // -(r + x) ln(α + T), summed per distinct T: -(r W_T + X_T) ln(α + T).
  const tScratch = prep.tScratch;
  for (let j = 0; j < prep.tValues.length; j++) {
    const shifted = alpha + prep.tValues[j];
    const logShifted = Math.log(shifted);
    const inverse = 1 / shifted;
    tScratch[2 * j] = logShifted;
    tScratch[2 * j + 1] = inverse;
    const coefficient = r * prep.tWeight[j] + prep.tWeightedX[j];
    ll -= coefficient * logShifted;
    dR -= prep.tWeight[j] * logShifted;
    dAlpha -= coefficient * inverse;
  }
  const txScratch = prep.txScratch;
  for (let j = 0; j < prep.txValues.length; j++) {
    const shifted = alpha + prep.txValues[j];
    txScratch[2 * j] = Math.log(shifted);
    txScratch[2 * j + 1] = 1 / shifted;
  }

  // Dropout term per row with x > 0: ln(1 + e^d), d = ln a - ln(b+x-1) + (r+x) ln((α+T)/(α+t_x)).
  const { groupX, groupStart, groupSums } = prep;
  // Reference point for the split e^d = P[T] · Q[t_x] (see dropoutSumsTabulated).
  const logLow = Math.log(alpha + prep.minTime);
  const logHigh = Math.log(alpha + prep.maxTime);
  const middle = (logLow + logHigh) / 2;
  const halfSpan = (logHigh - logLow) / 2;
  const tableCost = prep.tValues.length + prep.txValues.length;
  for (let g = 0; g < groupX.length; g++) {
    const x = groupX[g];
    const shape = r + x;
    const bx1 = b + x - 1;
    const offset = logA - Math.log(bx1);
    const start = groupStart[g];
    const end = groupStart[g + 1];
    if (end - start > tableCost && shape * halfSpan + Math.abs(offset) < TABLE_EXPONENT_LIMIT) {
      dropoutSumsTabulated(prep, start, end, offset, shape, middle, withValue);
    } else {
      dropoutSumsDirect(prep, start, end, offset, shape, withValue);
    }
    ll += groupSums[0];
    dR += groupSums[2];
    dAlpha += shape * groupSums[3];
    dA += groupSums[1] / a;
    dB -= groupSums[1] / bx1;
  }

  // Chain rule to log-parameters: ∂/∂ln θ = θ ∂/∂θ.
  gradient[0] = r * dR;
  gradient[1] = alpha * dAlpha;
  gradient[2] = a * dA;
  gradient[3] = b * dB;
  return ll;
}

/**
 * Weighted log-likelihood and its analytic gradient with respect to the log-parameters
 * (ln r, ln α, ln a, ln b), computed by the same grouped evaluation the fit uses.
 */
export function bgnbdLogLikelihoodGradient(
  params: BgNbdParams,
  data: RfmSummary,
): { logLikelihood: number; gradient: Float64Array } {
  assertParams(params);
  const problem = validateRfmSummary(data);
  if (problem !== null) throw new RangeError(`bgnbdLogLikelihoodGradient: ${problem}`);
  const gradient = new Float64Array(4);
  const logLikelihood = evaluateLogLikelihood(prepareData(data), logOfParams(params), gradient);
  return { logLikelihood, gradient };
}

/**
 * The weighted log-likelihood of `data` as a function of θ = ln(r, α, a, b), with its analytic
 * gradient (the grouped evaluation the fit uses), for models built on the BG/NBD's — the
 * covariate model (covariates.ts) sums it over covariate cells. Data must be valid
 * (validateRfmSummary).
 */
export function bgnbdLogLikelihoodFunction(data: RfmSummary): LogLikelihood {
  const prep = prepareData(data);
  return { customers: prep.totalWeight, evaluate: (theta, gradient) => evaluateLogLikelihood(prep, theta, gradient) };
}

// ---------------------------------------------------------------------------------------------
// Fitting
// ---------------------------------------------------------------------------------------------

/** Method-of-moments style start: rates from x/T, dropout from apparently lapsed repeaters. */
function dataDrivenStart(data: RfmSummary): BgNbdParams | null {
  let weight = 0;
  let rateSum = 0;
  let rateSquares = 0;
  let repeaters = 0;
  let lapsed = 0;
  let repeatPurchases = 0;
  for (let i = 0; i < data.x.length; i++) {
    const w = data.weight[i];
    const T = data.T[i];
    if (!(w > 0) || !(T > 0)) continue;
    const x = data.x[i];
    const rate = x / T;
    weight += w;
    rateSum += w * rate;
    rateSquares += w * rate * rate;
    if (x > 0) {
      repeaters += w;
      repeatPurchases += w * x;
      // Silent for more than twice the customer's own mean gap looks like a dropout.
      if (data.T[i] - data.tx[i] > (2 * data.tx[i]) / x) lapsed += w;
    }
  }
  if (!(weight > 0) || !(rateSum > 0)) return null;
  const meanRate = rateSum / weight;
  const rateVariance = Math.max(rateSquares / weight - meanRate * meanRate, 1e-12);
  const r = Math.min(10, Math.max(0.1, (meanRate * meanRate) / rateVariance));
  const meanRepeats = repeaters > 0 ? repeatPurchases / repeaters : 1;
  const lapsedShare = repeaters > 0 ? Math.min(0.95, Math.max(0.05, lapsed / repeaters)) : 0.5;
  // P(dropped out after x purchases) = 1 - (1 - p)^x  ⇒  p ≈ 1 - (1 - share)^(1/x̄).
  const p = Math.min(0.9, Math.max(0.01, 1 - Math.pow(1 - lapsedShare, 1 / meanRepeats)));
  return { r, alpha: r / meanRate, a: 1, b: (1 - p) / p };
}

/** Built-in starting points, the first data-driven, all scaled to the data's purchase rate. */
function startingPoints(data: RfmSummary, prep: PreparedData, extra: BgNbdParams[]): BgNbdParams[] {
  const meanRate = prep.meanT > 0 ? weightedMeanX(prep) / prep.meanT : 1;
  const rate = meanRate > 0 ? meanRate : 1;
  const starts: BgNbdParams[] = [];
  const driven = dataDrivenStart(data);
  if (driven) starts.push(driven);
  starts.push({ r: 1, alpha: 1 / rate, a: 1, b: 1 });
  starts.push({ r: 0.3, alpha: 0.3 / rate, a: 0.7, b: 2.5 });
  starts.push({ r: 3, alpha: 3 / rate, a: 2, b: 10 });
  for (const s of extra) starts.push(s);
  return starts;
}

function weightedMeanX(prep: PreparedData): number {
  let s = 0;
  for (let g = 0; g < prep.xValues.length; g++) s += prep.xValues[g] * prep.xWeight[g];
  return prep.totalWeight > 0 ? s / prep.totalWeight : 0;
}

/** A Horvitz–Thompson weighted subsample of the triples (see rfm-data.ts). */
function subsampleOf(data: RfmSummary, targetRows: number, seed: number): RfmSummary {
  const rng = new Rng(seed);
  const sample = weightedSubsample(data.weight, targetRows, () => rng.uniform());
  return {
    x: pickRows(data.x, sample.rows),
    tx: pickRows(data.tx, sample.rows),
    T: pickRows(data.T, sample.rows),
    weight: sample.weight,
  };
}

/** The optimiser's objective: mean negative log-likelihood per customer (scale-free). */
function objectiveOf(prep: PreparedData) {
  const scale = 1 / prep.totalWeight;
  return (theta: Float64Array, gradient: Float64Array): number => {
    const ll = evaluateLogLikelihood(prep, theta, gradient);
    for (let i = 0; i < 4; i++) gradient[i] *= -scale;
    return -ll * scale;
  };
}

/** Gradient of the mean negative log-likelihood only (for the numeric Hessian). */
function objectiveGradientOf(prep: PreparedData) {
  const scale = 1 / prep.totalWeight;
  return (theta: Float64Array): Float64Array => {
    const gradient = new Float64Array(4);
    evaluateLogLikelihood(prep, theta, gradient, false);
    for (let i = 0; i < 4; i++) gradient[i] *= -scale;
    return gradient;
  };
}

/** Names and values of parameters beyond the runaway bounds, or null. */
function runawayParameters(params: BgNbdParams, meanT: number): string | null {
  const problems: string[] = [];
  for (const name of ['r', 'a', 'b'] as const) {
    const v = params[name];
    if (v > RUNAWAY_MAX || v < RUNAWAY_MIN) problems.push(`${name}=${v.toPrecision(4)}`);
  }
  const scale = meanT > 0 ? meanT : 1;
  const alphaRatio = params.alpha / scale;
  if (alphaRatio > RUNAWAY_ALPHA_RATIO || alphaRatio < 1 / RUNAWAY_ALPHA_RATIO) {
    problems.push(`alpha=${params.alpha.toPrecision(4)}`);
  }
  if (problems.length === 0) return null;
  const hints: string[] = [];
  if (params.a > RUNAWAY_MAX && params.b > RUNAWAY_MAX) {
    hints.push('a and b diverge together: dropout heterogeneity is not identified (every customer behaves as if p = a/(a+b))');
  } else if (params.b > RUNAWAY_MAX || params.a < RUNAWAY_MIN) {
    hints.push('the data show no sign of dropout (p → 0)');
  }
  if (params.r > RUNAWAY_MAX) hints.push('r → ∞: purchase rates look homogeneous (Poisson limit)');
  return `parameters ran away to extreme values (${problems.join(', ')})${hints.length ? ': ' + hints.join('; ') : ''}`;
}

/** Stop rule for the optimiser: a reason once θ = ln params is far beyond the runaway bounds. */
function runawayStop(meanT: number): (theta: Float64Array) => string | null {
  const logScale = Math.log(meanT > 0 ? meanT : 1);
  return (theta) => {
    const shifted = [theta[0], theta[1] - logScale, theta[2], theta[3]];
    const i = shifted.findIndex((v) => Math.abs(v) > ABORT_LOG_PARAMETER);
    return i === -1 ? null : `stopped: parameter ${PARAM_NAMES[i]} is running away (ln ${PARAM_NAMES[i]} = ${theta[i].toFixed(1)})`;
  };
}

/** Reason the data cannot identify the model at all, or null. */
function degenerateDataReason(prep: PreparedData): string | null {
  if (prep.rows === 0 || !(prep.totalWeight > 0)) return 'no customers (no rows with positive weight)';
  if (prep.groupX.length === 0) {
    return 'no customer made a repeat purchase (all x = 0): purchase rates and dropout are not identifiable';
  }
  let anyTime = false;
  for (let j = 0; j < prep.tValues.length; j++) if (prep.tValues[j] > 0) anyTime = true;
  if (!anyTime) return 'every customer has T = 0: there is no observation time to learn from';
  return null;
}

function failedFit(message: string, rows: number, customers: number): BgNbdFit {
  return {
    params: { ...NAN_PARAMS },
    logLikelihood: NaN,
    converged: false,
    iterations: 0,
    evaluations: 0,
    starts: [],
    standardErrors: null,
    covariance: null,
    message,
    gradientNorm: NaN,
    customers,
    rows,
    timings: { prepare: 0, starts: 0, refine: 0, information: 0 },
  };
}

/**
 * Maximum-likelihood fit of the BG/NBD model to compressed (x, t_x, T, weight) data.
 *
 * Optimises the log-parameters by BFGS from several starting points (one data-driven, three
 * generic ones scaled to the data's purchase rate, plus `opts.starts`) and keeps the best.
 * For more than 2 × `subsampleRows` distinct triples the starts run on a weighted subsample and
 * the best one is then refined on the full data. Standard errors come from the inverse observed
 * information (numeric Hessian of the analytic gradient in log-parameters, mapped to the
 * natural scale by the delta method: se(θ) = θ · se(ln θ)).
 *
 * Never throws on bad or degenerate data: returns `converged: false` and a `message` naming the
 * problem (invalid rows, no repeat purchases, T = 0 everywhere, runaway parameters, singular
 * information matrix, no convergence).
 *
 * Input: rows in any order; the fit regroups them in O(rows) (hash tables, no sort).
 */
export function fitBgNbd(data: RfmSummary, opts: BgNbdFitOptions = {}): BgNbdFit {
  const timings: BgNbdFitTimings = { prepare: 0, starts: 0, refine: 0, information: 0 };
  let lap = performance.now();
  const elapsed = () => {
    const now = performance.now();
    const ms = now - lap;
    lap = now;
    return ms;
  };
  const problem = validateRfmSummary(data);
  if (problem !== null) return failedFit(`invalid input: ${problem}`, data.x.length, NaN);
  const prep = prepareData(data);
  const degenerate = degenerateDataReason(prep);
  if (degenerate !== null) return failedFit(degenerate, prep.rows, prep.totalWeight);

  const gradientTolerance = opts.gradientTolerance ?? DEFAULT_GRADIENT_TOLERANCE;
  const maxIterations = opts.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  const subsampleRows = opts.subsampleRows ?? DEFAULT_SUBSAMPLE_ROWS;
  const useSubsample = subsampleRows > 0 && prep.rows > 2 * subsampleRows;
  const startPrep = useSubsample
    ? prepareData(subsampleOf(data, subsampleRows, opts.seed ?? DEFAULT_SEED))
    : prep;
  timings.prepare = elapsed();

  const startObjective = objectiveOf(startPrep);
  const stopWhen = runawayStop(prep.meanT);
  const starts: BgNbdStart[] = [];
  let best: MinimizeResult | null = null;
  let evaluations = 0;
  for (const initial of startingPoints(data, prep, opts.starts ?? [])) {
    if (!PARAM_NAMES.every((name) => initial[name] > 0 && Number.isFinite(initial[name]))) {
      // Only a user-supplied start can be invalid; record it and move on.
      starts.push({ initial, params: { ...NAN_PARAMS }, logLikelihood: NaN, converged: false, iterations: 0, onSubsample: useSubsample });
      continue;
    }
    const run = minimizeBfgs(startObjective, logOfParams(initial), {
      gradientTolerance: useSubsample ? Math.max(gradientTolerance, SUBSAMPLE_GRADIENT_TOLERANCE) : gradientTolerance,
      maxIterations,
      stopWhen,
    });
    evaluations += run.evaluations;
    starts.push({
      initial,
      params: paramsFromLog(run.x),
      logLikelihood: -run.f * startPrep.totalWeight,
      converged: run.converged,
      iterations: run.iterations,
      onSubsample: useSubsample,
    });
    if (Number.isFinite(run.f) && (best === null || run.f < best.f)) best = run;
  }
  if (best === null) return failedFit('no starting point gave a finite likelihood', prep.rows, prep.totalWeight);
  timings.starts = elapsed();

  let final = best;
  let iterations = best.iterations;
  let skippedRefinement = false;
  const objective = objectiveOf(prep);
  const runawayOnSubsample = useSubsample && runawayParameters(paramsFromLog(best.x), prep.meanT) !== null;
  if (runawayOnSubsample) {
    // Following a runaway on the full data would cost many full evaluations for the same
    // verdict: report the subsample solution, with its log-likelihood on all the data.
    const gradient = new Float64Array(4);
    final = { ...best, f: objective(best.x, gradient), gradient, gradNorm: Math.max(...gradient.map(Math.abs)) };
    evaluations++;
    skippedRefinement = true;
  } else if (useSubsample) {
    // The subsample's observed curvature at its optimum is a much better first inverse Hessian
    // than the BFGS approximation: the refinement then takes Newton-like steps from the start.
    const subsampleCurvature = invertSymmetric(numericHessian(objectiveGradientOf(startPrep), best.x, HESSIAN_STEP));
    evaluations += 8;
    const initialInverseHessian = subsampleCurvature ? Float64Array.from(subsampleCurvature.flat()) : best.inverseHessian;
    final = minimizeBfgs(objective, best.x, {
      gradientTolerance,
      maxIterations,
      initialInverseHessian,
      stopWhen,
      onIteration: opts.onIteration,
    });
    evaluations += final.evaluations;
    iterations += final.iterations;
  }
  timings.refine = elapsed();

  const params = paramsFromLog(final.x);
  const logLikelihood = -final.f * prep.totalWeight;
  const messages: string[] = [];
  let converged = final.converged;
  if (!final.converged) messages.push(`optimiser did not converge: ${final.message}`);
  const runaway = runawayParameters(params, prep.meanT);
  if (runaway !== null) {
    converged = false;
    messages.push(runaway);
  }

  // Observed information in log-parameters: W × Hessian of the mean negative log-likelihood.
  const gradientOnly = objectiveGradientOf(prep);
  const gradientAt = (theta: Float64Array) => {
    evaluations++;
    return gradientOnly(theta);
  };
  const hessian = numericHessian(gradientAt, final.x, HESSIAN_STEP);
  const information = hessian.map((row) => row.map((v) => v * prep.totalWeight));
  const covariance = invertSymmetric(information);
  let standardErrors: BgNbdParams | null = null;
  if (covariance === null) {
    converged = false;
    messages.push('observed information matrix is not positive definite: the parameters are not identifiable from these data');
  } else {
    const se = PARAM_NAMES.map((name, i) => params[name] * Math.sqrt(covariance[i][i]));
    standardErrors = { r: se[0], alpha: se[1], a: se[2], b: se[3] };
  }
  if (skippedRefinement) messages.push('estimates from the subsample (refinement on all rows skipped after the runaway)');
  if (converged) messages.push(final.message.startsWith('converged') ? final.message : `converged (${final.message})`);
  timings.information = elapsed();

  return {
    params,
    logLikelihood,
    converged,
    iterations,
    evaluations,
    starts,
    standardErrors,
    covariance,
    message: messages.join('; '),
    gradientNorm: final.gradNorm,
    customers: prep.totalWeight,
    rows: prep.rows,
    timings,
  };
}

// ---------------------------------------------------------------------------------------------
// Per-customer quantities
// ---------------------------------------------------------------------------------------------

/** ln of the odds "dropped out after the last purchase" : "still active" (−Infinity if x = 0). */
function logOddsDropped(params: BgNbdParams, x: number, tx: number, T: number): number {
  if (!(x > 0)) return -Infinity;
  const { r, alpha, a, b } = params;
  return Math.log(a / (b + x - 1)) + (r + x) * Math.log1p((T - tx) / (alpha + tx));
}

function logistic(minusLogOdds: number): number {
  return 1 / (1 + Math.exp(-minusLogOdds));
}

/**
 * P(customer still active at T | x, t_x, T) = 1 / (1 + δ a/(b+x-1) ((α+T)/(α+t_x))^(r+x)).
 * Equals 1 for x = 0 (in the BG/NBD nobody drops out before a repeat purchase).
 */
export function pAlive(params: BgNbdParams, x: number, tx: number, T: number): number {
  assertParams(params);
  return logistic(-logOddsDropped(params, x, tx, T));
}

/**
 * Expected purchases in (T, T+t] of a customer with x repeat purchases observed for T, GIVEN
 * that the customer is still active at T: (a+b+x-1)/(a-1) · [1 − ((α+T)/(α+T+t))^(r+x)
 * 2F1(r+x, b+x; a+b+x-1; t/(α+T+t))], evaluated in the cancellation-free form of the header.
 * Does not depend on t_x. Multiply by pAlive for eq. 10.
 */
export function expectedPurchasesIfAlive(params: BgNbdParams, t: number, x: number, T: number): number {
  assertParams(params);
  return expectedPurchasesIfAliveUnchecked(params, t, x, T);
}

function expectedPurchasesIfAliveUnchecked(params: BgNbdParams, t: number, x: number, T: number): number {
  if (!(t > 0)) return t === 0 ? 0 : NaN;
  const { r, alpha, a, b } = params;
  const z = t / (alpha + T + t);
  const logOneMinusZ = -Math.log1p(t / (alpha + T));
  const c = a + b + x - 1;
  const shiftedA = a + b - 1 - r;
  const u = (a - 1) * logOneMinusZ;
  const leading = -c * logOneMinusZ * exprel(u);
  const series = hypergeometricTailSum(shiftedA * z, 1, shiftedA, a - 1, c, z);
  return leading - Math.exp(u) * series;
}

/**
 * E[X(t)]: expected repeat purchases in (0, t] of a customer who has just made a first
 * purchase (paper eq. 9, uses 2F1(r, b; a+b-1; t/(α+t))).
 */
export function expectedPurchases(params: BgNbdParams, t: number): number {
  return expectedPurchasesIfAlive(params, t, 0, 0);
}

/**
 * E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] given the customer's history
 * (paper eq. 10) = pAlive × expectedPurchasesIfAlive.
 */
export function conditionalExpectedPurchases(
  params: BgNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  assertParams(params);
  return logistic(-logOddsDropped(params, x, tx, T)) * expectedPurchasesIfAliveUnchecked(params, t, x, T);
}

/**
 * P(X(t) = n): probability of exactly n repeat purchases in (0, t] for a new customer
 * (paper eq. 8). The negative-binomial tail inside is summed directly (no 1 − cdf
 * cancellation).
 */
export function probabilityOfNPurchases(params: BgNbdParams, t: number, n: number): number {
  assertParams(params);
  if (!Number.isInteger(n) || n < 0) return 0;
  if (!(t > 0)) return n === 0 ? 1 : 0;
  const { r, alpha, a, b } = params;
  const logBetaAB = lgamma(a) + lgamma(b) - lgamma(a + b);
  const q = t / (alpha + t);
  const logNbPmf =
    lgamma(r + n) - lgamma(r) - lgamma(n + 1) + r * Math.log(alpha / (alpha + t)) + (n > 0 ? n * Math.log(q) : 0);
  const active = Math.exp(lgamma(a) + lgamma(b + n) - lgamma(a + b + n) - logBetaAB + logNbPmf);
  if (n === 0) return active;
  // Σ_{j>=n} NB pmf(j) = pmf(n) Σ_k ratio products, ratio pmf(j+1)/pmf(j) = q (r+j)/(j+1).
  const tail = Math.exp(logNbPmf) * hypergeometricTailSum(1, n, r, 1, 1, q);
  const dropped = Math.exp(lgamma(a + 1) + lgamma(b + n - 1) - lgamma(a + b + n) - logBetaAB) * tail;
  return active + dropped;
}

/** Vectorised predictions for every triple of an RfmSummary. */
export interface BgNbdPrediction {
  /** P(alive at T) per triple. */
  pAlive: Float64Array;
  /** E[purchases in (T, T + horizon]] per triple (eq. 10). */
  expectedPurchases: Float64Array;
}

/**
 * P(alive) and expected purchases over `horizon` for all triples at once. The 2F1 part
 * depends on (x, T) only, so it is computed once per distinct (x, T) pair (rows sharing a pair
 * need not be adjacent). Invalid rows give NaN.
 */
export function predictBgNbd(params: BgNbdParams, data: RfmSummary, horizon: number): BgNbdPrediction {
  assertParams(params);
  if (!(horizon >= 0) || !Number.isFinite(horizon)) {
    throw new RangeError(`predictBgNbd: horizon must be finite and >= 0 (got ${horizon})`);
  }
  const n = data.x.length;
  const expected = new Float64Array(n);
  const pairs = groupPairs(data.x, data.T);
  const ifAlive = new Float64Array(pairs.groupCount);
  for (let g = 0; g < pairs.groupCount; g++) {
    const row = pairs.firstRow[g];
    ifAlive[g] = validRow(data, row)
      ? expectedPurchasesIfAliveUnchecked(params, horizon, data.x[row], data.T[row])
      : NaN;
  }
  const alive = pAliveAll(params, data);
  for (let i = 0; i < n; i++) expected[i] = alive[i] * ifAlive[pairs.groupOf[i]];
  return { pAlive: alive, expectedPurchases: expected };
}

/** P(alive) for every triple of `data` (NaN for invalid rows). */
export function pAliveAll(params: BgNbdParams, data: RfmSummary): Float64Array {
  assertParams(params);
  const { r, alpha, a, b } = params;
  const logA = Math.log(a);
  const n = data.x.length;
  const alive = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = data.x[i];
    let p = 1;
    if (x > 0) {
      const tx = data.tx[i];
      const logOdds = logA - Math.log(b + x - 1) + (r + x) * Math.log1p((data.T[i] - tx) / (alpha + tx));
      p = 1 / (1 + Math.exp(logOdds));
    }
    alive[i] = validRow(data, i) ? p : NaN;
  }
  return alive;
}

/** Cheap per-row domain check for the vectorised predictors. */
export function validRow(data: RfmSummary, i: number): boolean {
  const x = data.x[i];
  const tx = data.tx[i];
  const T = data.T[i];
  return x >= 0 && Number.isInteger(x) && tx >= 0 && T >= tx && Number.isFinite(T);
}
