/**
 * Gamma-Gamma model of monetary value: Fader & Hardie (2013), "The Gamma-Gamma Model of
 * Monetary Value" (technical note), after Colombo & Jiang (1999), "A stochastic RFM model",
 * Journal of Interactive Marketing 13(3).
 *
 * Assumptions:
 *  1. A customer's transaction values z_1..z_x are i.i.d. Gamma(shape p, rate ν).
 *  2. ν varies across customers as Gamma(shape q, rate v).
 *  3. Spend is independent of the purchase process (check: the correlation between x and m
 *     in the data should be weak), so the model combines with BG/NBD for CLV.
 *
 * Data per customer: x > 0 transactions (usually the repeat transactions, x of BG/NBD) and their
 * mean value m > 0. The sum x·m is Gamma(p x, ν); integrating ν out gives the density of m:
 *   f(m | p, q, v, x) = Γ(px+q) / (Γ(px) Γ(q)) · v^q (m x)^(px-1) x / (v + m x)^(px+q)
 *   ln f = ln Γ(px+q) - ln Γ(px) - ln Γ(q) + q ln v + px ln(m x) - ln m - (px+q) ln(v + m x).
 * Gradient: ∂/∂p = x [ψ(px+q) - ψ(px) + ln(m x) - ln(v + m x)],
 *           ∂/∂q = ψ(px+q) - ψ(q) + ln v - ln(v + m x),
 *           ∂/∂v = q/v - (px+q)/(v + m x).
 * The fit maximises the weighted log-likelihood over (ln p, ln q, ln v); the Γ and ψ terms are
 * computed once per distinct x.
 *
 * Population mean transaction value: E[z] = p v / (q - 1), finite only for q > 1.
 * Conditional (posterior) mean value of a customer (Fader & Hardie 2013, eq. 5):
 *   E[Z | p, q, v, x, m] = (q-1)/(px+q-1) · p v/(q-1) + px/(px+q-1) · m = p (v + x m) / (px + q - 1),
 * a weighted average of the population mean and the customer's own mean. The right-hand form
 * (p times the posterior mean of 1/ν ~ InvGamma(px+q, v+xm)) is what is computed: it needs only
 * px + q > 1, so it stays finite for customers with data even when q <= 1.
 */

import { minimizeBfgs, numericHessian, invertSymmetric, type MinimizeResult } from './optimize.js';
import { Rng } from './random.js';
import { groupDistinct, pickRows, unitWeightedSubsample, weightedSubsample } from './rfm-data.js';
import { digamma, lgamma } from './special.js';

/** Gamma-Gamma parameters (all > 0): z ~ Gamma(p, rate ν), ν ~ Gamma(q, rate v). */
export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

/** Customers' transaction counts and mean transaction values. */
export interface SpendSummary {
  /** Number of transactions behind each mean (> 0). */
  x: Float64Array;
  /** Mean transaction value (> 0). */
  m: Float64Array;
  /** Optional weights (number of customers sharing the row); default 1. */
  weight?: Float64Array;
}

export interface GammaGammaStart {
  initial: GammaGammaParams;
  /** Where the start ended (on the subsample for large inputs). */
  params: GammaGammaParams;
  logLikelihood: number;
  converged: boolean;
  iterations: number;
}

export interface GammaGammaFit {
  /** Maximum-likelihood estimates (NaN when no fit was possible). */
  params: GammaGammaParams;
  logLikelihood: number;
  /** True only if the optimiser converged, no parameter ran away and the information matrix is positive definite. */
  converged: boolean;
  iterations: number;
  starts: GammaGammaStart[];
  standardErrors: GammaGammaParams | null;
  /** Inverse observed information in ln params (parameter order): the asymptotic covariance of ln params (intervals.ts). */
  covariance: number[][] | null;
  /** false when q <= 1: the population mean transaction value p v / (q - 1) is infinite. */
  finiteMean: boolean;
  message: string;
  gradientNorm: number;
  customers: number;
  /** The optimiser itself converged (whatever the runaway and information checks say). */
  optimiserConverged: boolean;
  /** The parameters beyond the runaway bounds (GAMMA_GAMMA_RUNAWAY_MAX; v relative to the mean spend). */
  runaway: ('p' | 'q' | 'v')[];
}

export interface GammaGammaFitOptions {
  /** Extra starting points, tried after the built-in ones. */
  starts?: GammaGammaParams[];
  gradientTolerance?: number;
  maxIterations?: number;
  /**
   * Inputs with more rows than twice this run the starts on a weighted random subsample of
   * about this many rows and refine the best one on all rows. 0 disables subsampling.
   */
  subsampleRows?: number;
  /** Seed of the subsample draw. */
  seed?: number;
}

const PARAM_NAMES = ['p', 'q', 'v'] as const;
const DEFAULT_GRADIENT_TOLERANCE = 1e-8;
const DEFAULT_MAX_ITERATIONS = 300;
const HESSIAN_STEP = 1e-4;
/**
 * p or q beyond this (or below its inverse) means a boundary solution (e.g. no spread at all);
 * q beyond it is the homogeneous-spend limit's direction (gamma-gamma-limits.ts).
 */
export const GAMMA_GAMMA_RUNAWAY_MAX = 1e5;
const RUNAWAY_MAX = GAMMA_GAMMA_RUNAWAY_MAX;
/** Bound on v relative to the mean spend. */
const RUNAWAY_V_RATIO = 1e8;
/** The optimiser stops once |ln p|, |ln q| or |ln(v / mean m)| passes this (far beyond the bounds). */
const ABORT_LOG_PARAMETER = 25;
/** Fold the running product of (v + m x) into the log-sum beyond this (or below its inverse). */
const PRODUCT_FLUSH = 1e200;
/** Starts run on a subsample of this many customers when there are more than twice as many. */
const DEFAULT_SUBSAMPLE_ROWS = 50_000;
const DEFAULT_SEED = 20130101;
/** Shape q of the data-driven start (any q > 2 gives finite moments). */
const START_Q = 4;

const NAN_PARAMS: GammaGammaParams = { p: NaN, q: NaN, v: NaN };

function assertParams(params: GammaGammaParams): void {
  for (const name of PARAM_NAMES) {
    const value = params[name];
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new RangeError(`Gamma-Gamma parameter ${name} must be finite and > 0 (got ${value})`);
    }
  }
}

/** First problem with the spend data, or null. */
export function validateSpendSummary(data: SpendSummary): string | null {
  const n = data.x.length;
  if (data.m.length !== n || (data.weight && data.weight.length !== n)) {
    return `x, m and weight must have the same length`;
  }
  for (let i = 0; i < n; i++) {
    if (!(data.x[i] > 0) || !Number.isFinite(data.x[i])) return `row ${i}: x must be finite and > 0 (got ${data.x[i]})`;
    if (!(data.m[i] > 0) || !Number.isFinite(data.m[i])) return `row ${i}: m must be finite and > 0 (got ${data.m[i]})`;
    const w = data.weight ? data.weight[i] : 1;
    if (!(w >= 0) || !Number.isFinite(w)) return `row ${i}: weight must be finite and >= 0 (got ${w})`;
  }
  return null;
}

/** Rows grouped by x for the likelihood: Γ/ψ terms per group, one log per row. */
interface PreparedSpend {
  totalWeight: number;
  meanM: number;
  varianceM: number;
  /** Weighted mean of 1/x (for the moment start). */
  meanInverseX: number;
  groupX: Float64Array;
  groupWeight: Float64Array;
  /** Σ w ln(m x) and Σ w ln m per group. */
  groupLogMx: Float64Array;
  groupLogM: Float64Array;
  groupStart: Uint32Array;
  /** m·x and weight per row, ordered by group; weight null: every row's is 1 (no weights given: the run's one row per repeat customer, 13.9M at 100M lines, without a column of ones). */
  rowMx: Float64Array;
  rowWeight: Float64Array | null;
}

function prepareSpend(data: SpendSummary): PreparedSpend {
  const n = data.x.length;
  const groups = groupDistinct([data.x], n);
  const G = groups.groupCount;
  const groupX = new Float64Array(G);
  for (let g = 0; g < G; g++) groupX[g] = data.x[groups.firstRow[g]];
  const groupWeight = new Float64Array(G);
  const groupLogMx = new Float64Array(G);
  const groupLogM = new Float64Array(G);
  const counts = new Uint32Array(G);
  let totalWeight = 0;
  let sumM = 0;
  let sumM2 = 0;
  let sumInvX = 0;
  for (let i = 0; i < n; i++) {
    const w = data.weight ? data.weight[i] : 1;
    if (w === 0) continue;
    const g = groups.groupOf[i];
    const m = data.m[i];
    counts[g]++;
    groupWeight[g] += w;
    groupLogMx[g] += w * Math.log(m * data.x[i]);
    groupLogM[g] += w * Math.log(m);
    totalWeight += w;
    sumM += w * m;
    sumM2 += w * m * m;
    sumInvX += w / data.x[i];
  }
  const groupStart = new Uint32Array(G + 1);
  for (let g = 0; g < G; g++) groupStart[g + 1] = groupStart[g] + counts[g];
  const cursor = groupStart.slice(0, G);
  const rows = groupStart[G];
  const rowMx = new Float64Array(rows);
  const rowWeight = data.weight ? new Float64Array(rows) : null;
  for (let i = 0; i < n; i++) {
    const w = data.weight ? data.weight[i] : 1;
    if (w === 0) continue;
    const position = cursor[groups.groupOf[i]]++;
    rowMx[position] = data.m[i] * data.x[i];
    if (rowWeight) rowWeight[position] = w;
  }
  const meanM = totalWeight > 0 ? sumM / totalWeight : NaN;
  return {
    totalWeight,
    meanM,
    varianceM: totalWeight > 0 ? Math.max(0, sumM2 / totalWeight - meanM * meanM) : NaN,
    meanInverseX: totalWeight > 0 ? sumInvX / totalWeight : NaN,
    groupX,
    groupWeight,
    groupLogMx,
    groupLogM,
    groupStart,
    rowMx,
    rowWeight,
  };
}

/** Weighted log-likelihood at θ = (ln p, ln q, ln v); writes ∂LL/∂θ into `gradient`. */
function evaluateSpend(prep: PreparedSpend, theta: ArrayLike<number>, gradient: Float64Array): number {
  const p = Math.exp(theta[0]);
  const q = Math.exp(theta[1]);
  const v = Math.exp(theta[2]);
  const logV = Math.log(v);
  const lgammaQ = lgamma(q);
  const digammaQ = digamma(q);
  const rowWeight = prep.rowWeight;
  let ll = 0;
  let dP = 0;
  let dQ = 0;
  let dV = 0;
  for (let g = 0; g < prep.groupX.length; g++) {
    const x = prep.groupX[g];
    const W = prep.groupWeight[g];
    if (W === 0) continue;
    const px = p * x;
    let sumLog = 0;
    let product = 1;
    let sumInverse = 0;
    for (let i = prep.groupStart[g]; i < prep.groupStart[g + 1]; i++) {
      const shifted = v + prep.rowMx[i];
      const w = rowWeight === null ? 1 : rowWeight[i];
      if (w === 1) {
        // Σ ln(v + m x) over unit weights as the log of a running product, flushed long before
        // it could overflow or underflow: one log per many rows, same accuracy.
        product *= shifted;
        if (product > PRODUCT_FLUSH || product < 1 / PRODUCT_FLUSH) {
          sumLog += Math.log(product);
          product = 1;
        }
      } else {
        sumLog += w * Math.log(shifted);
      }
      sumInverse += w / shifted;
    }
    sumLog += Math.log(product);
    const digammaPxQ = digamma(px + q);
    ll +=
      W * (lgamma(px + q) - lgamma(px) - lgammaQ + q * logV) +
      px * prep.groupLogMx[g] -
      prep.groupLogM[g] -
      (px + q) * sumLog;
    dP += x * (W * (digammaPxQ - digamma(px)) + prep.groupLogMx[g] - sumLog);
    dQ += W * (digammaPxQ - digammaQ + logV) - sumLog;
    dV += (W * q) / v - (px + q) * sumInverse;
  }
  gradient[0] = p * dP;
  gradient[1] = q * dQ;
  gradient[2] = v * dV;
  return ll;
}

/**
 * Weighted Gamma-Gamma log-likelihood and its gradient w.r.t. (ln p, ln q, ln v).
 * Throws a RangeError on invalid data or parameters.
 */
export function gammaGammaLogLikelihood(
  params: GammaGammaParams,
  data: SpendSummary,
): { logLikelihood: number; gradient: Float64Array } {
  assertParams(params);
  const problem = validateSpendSummary(data);
  if (problem !== null) throw new RangeError(`gammaGammaLogLikelihood: ${problem}`);
  const gradient = new Float64Array(3);
  const theta = [Math.log(params.p), Math.log(params.q), Math.log(params.v)];
  return { logLikelihood: evaluateSpend(prepareSpend(data), theta, gradient), gradient };
}

/** Moment-based start with q fixed at START_Q, then generic ones matching the mean spend. */
function startingPoints(prep: PreparedSpend, extra: GammaGammaParams[]): GammaGammaParams[] {
  const mean = prep.meanM;
  const cv2 = prep.varianceM / (mean * mean);
  // CV²(m) = (q-1)/(p (q-2)) · E[1/x] + 1/(q-2)  (law of total variance, x fixed).
  const excess = cv2 - 1 / (START_Q - 2);
  const p0 = excess > 0 ? ((START_Q - 1) * prep.meanInverseX) / ((START_Q - 2) * excess) : 10;
  const drivenP = Math.min(100, Math.max(0.1, p0));
  const matchMean = (p: number, q: number): GammaGammaParams => ({ p, q, v: (mean * (q - 1)) / p });
  return [matchMean(drivenP, START_Q), matchMean(1, 2), matchMean(5, 5), matchMean(0.5, 1.5), ...extra];
}

function failedFit(message: string, customers: number): GammaGammaFit {
  return {
    params: { ...NAN_PARAMS },
    logLikelihood: NaN,
    converged: false,
    iterations: 0,
    starts: [],
    standardErrors: null,
    covariance: null,
    finiteMean: false,
    message,
    gradientNorm: NaN,
    customers,
    optimiserConverged: false,
    runaway: [],
  };
}

/**
 * Maximum-likelihood fit of the Gamma-Gamma spend model (several starts, one moment-based;
 * BFGS on log-parameters; standard errors from the inverse observed information via the delta
 * method). Never throws: invalid or degenerate data (no rows, all means equal, one customer)
 * give `converged: false` with a message. A fit with q <= 1 is reported (`finiteMean: false`).
 */
export function fitGammaGamma(data: SpendSummary, opts: GammaGammaFitOptions = {}): GammaGammaFit {
  const problem = validateSpendSummary(data);
  if (problem !== null) return failedFit(`invalid input: ${problem}`, NaN);
  const prep = prepareSpend(data);
  if (!(prep.totalWeight > 0)) return failedFit('no customers (no rows with positive weight)', 0);
  if (!(prep.varianceM > 0)) {
    return failedFit(
      'all mean transaction values are equal: the spread of spend across customers is not identifiable',
      prep.totalWeight,
    );
  }

  const gradientTolerance = opts.gradientTolerance ?? DEFAULT_GRADIENT_TOLERANCE;
  const maxIterations = opts.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  const subsampleRows = opts.subsampleRows ?? DEFAULT_SUBSAMPLE_ROWS;
  const useSubsample = subsampleRows > 0 && data.x.length > 2 * subsampleRows;
  let startPrep = prep;
  if (useSubsample) {
    const rng = new Rng(opts.seed ?? DEFAULT_SEED);
    const sample = data.weight
      ? weightedSubsample(data.weight, subsampleRows, () => rng.uniform())
      : unitWeightedSubsample(data.x.length, subsampleRows, () => rng.uniform());
    startPrep = prepareSpend({ x: pickRows(data.x, sample.rows), m: pickRows(data.m, sample.rows), weight: sample.weight });
  }
  const objectiveOf = (target: PreparedSpend) => {
    const scale = 1 / target.totalWeight;
    return (theta: Float64Array, gradient: Float64Array): number => {
      const ll = evaluateSpend(target, theta, gradient);
      for (let i = 0; i < 3; i++) gradient[i] *= -scale;
      return -ll * scale;
    };
  };
  const startObjective = objectiveOf(startPrep);
  const objective = objectiveOf(prep);
  const logMeanM = Math.log(prep.meanM);
  const stopWhen = (theta: Float64Array): string | null => {
    const shifted = [theta[0], theta[1], theta[2] - logMeanM];
    const i = shifted.findIndex((v) => Math.abs(v) > ABORT_LOG_PARAMETER);
    return i === -1 ? null : `stopped: parameter ${PARAM_NAMES[i]} is running away`;
  };

  const fromLog = (t: ArrayLike<number>): GammaGammaParams => ({ p: Math.exp(t[0]), q: Math.exp(t[1]), v: Math.exp(t[2]) });
  const starts: GammaGammaStart[] = [];
  let best: MinimizeResult | null = null;
  for (const initial of startingPoints(prep, opts.starts ?? [])) {
    if (!PARAM_NAMES.every((name) => initial[name] > 0 && Number.isFinite(initial[name]))) {
      starts.push({ initial, params: { ...NAN_PARAMS }, logLikelihood: NaN, converged: false, iterations: 0 });
      continue;
    }
    const run = minimizeBfgs(startObjective, [Math.log(initial.p), Math.log(initial.q), Math.log(initial.v)], {
      gradientTolerance,
      maxIterations,
      stopWhen,
    });
    starts.push({
      initial,
      params: fromLog(run.x),
      logLikelihood: -run.f * startPrep.totalWeight,
      converged: run.converged,
      iterations: run.iterations,
    });
    if (Number.isFinite(run.f) && (best === null || run.f < best.f)) best = run;
  }
  if (best === null) return failedFit('no starting point gave a finite likelihood', prep.totalWeight);
  let iterations = best.iterations;
  if (useSubsample) {
    const refined = minimizeBfgs(objective, best.x, {
      gradientTolerance,
      maxIterations,
      initialInverseHessian: best.inverseHessian,
      stopWhen,
    });
    iterations += refined.iterations;
    best = refined;
  }

  const params: GammaGammaParams = { p: Math.exp(best.x[0]), q: Math.exp(best.x[1]), v: Math.exp(best.x[2]) };
  const messages: string[] = [];
  let converged = best.converged;
  if (!best.converged) messages.push(`optimiser did not converge: ${best.message}`);
  const runaway: string[] = [];
  const runawayNames: ('p' | 'q' | 'v')[] = [];
  for (const name of ['p', 'q'] as const) {
    if (params[name] > RUNAWAY_MAX || params[name] < 1 / RUNAWAY_MAX) (runaway.push(`${name}=${params[name].toPrecision(4)}`), runawayNames.push(name));
  }
  const vRatio = params.v / prep.meanM;
  if (vRatio > RUNAWAY_V_RATIO || vRatio < 1 / RUNAWAY_V_RATIO) (runaway.push(`v=${params.v.toPrecision(4)}`), runawayNames.push('v'));
  if (runaway.length > 0) {
    converged = false;
    messages.push(
      `parameters ran away to extreme values (${runaway.join(', ')}): the data do not identify the spend heterogeneity`,
    );
  }

  const gradientAt = (theta: Float64Array) => {
    const g = new Float64Array(3);
    objective(theta, g);
    return g;
  };
  const information = numericHessian(gradientAt, best.x, HESSIAN_STEP).map((row) => row.map((h) => h * prep.totalWeight));
  const covariance = invertSymmetric(information);
  let standardErrors: GammaGammaParams | null = null;
  if (covariance === null) {
    converged = false;
    messages.push('observed information matrix is not positive definite: the parameters are not identifiable from these data');
  } else {
    standardErrors = {
      p: params.p * Math.sqrt(covariance[0][0]),
      q: params.q * Math.sqrt(covariance[1][1]),
      v: params.v * Math.sqrt(covariance[2][2]),
    };
  }
  const finiteMean = params.q > 1;
  if (!finiteMean) {
    messages.push(
      `q = ${params.q.toPrecision(4)} <= 1: the population mean transaction value p·v/(q-1) is infinite; ` +
        'conditional expected values are finite only for customers with p·x + q > 1',
    );
  }
  if (converged) messages.unshift(best.message.startsWith('converged') ? best.message : `converged (${best.message})`);
  return {
    params,
    logLikelihood: -best.f * prep.totalWeight,
    converged,
    iterations,
    starts,
    standardErrors,
    covariance,
    finiteMean,
    message: messages.join('; '),
    gradientNorm: best.gradNorm,
    customers: prep.totalWeight,
    optimiserConverged: best.converged,
    runaway: runawayNames,
  };
}

/**
 * E[Z | p, q, v, x, m]: expected value of the customer's future transactions,
 * (q-1)/(px+q-1) · pv/(q-1) + px/(px+q-1) · m = p (v + x m) / (px + q - 1).
 * With x = 0 (no transactions yet) it is the population mean p v/(q-1). NaN when px + q <= 1.
 */
export function conditionalExpectedValue(params: GammaGammaParams, x: number, m: number): number {
  assertParams(params);
  const { p, q, v } = params;
  const denominator = p * x + q - 1;
  if (!(denominator > 0) || !(x >= 0)) return NaN;
  return (p * (v + (x > 0 ? x * m : 0))) / denominator;
}

/** conditionalExpectedValue for many customers at once. */
export function conditionalExpectedValues(
  params: GammaGammaParams,
  x: ArrayLike<number>,
  m: ArrayLike<number>,
): Float64Array {
  assertParams(params);
  const { p, q, v } = params;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const denominator = p * x[i] + q - 1;
    out[i] = denominator > 0 && x[i] >= 0 ? (p * (v + x[i] * (x[i] > 0 ? m[i] : 0))) / denominator : NaN;
  }
  return out;
}

/** Population mean transaction value p v / (q - 1) (Infinity if q <= 1). */
export function populationMeanValue(params: GammaGammaParams): number {
  assertParams(params);
  return params.q > 1 ? (params.p * params.v) / (params.q - 1) : Infinity;
}
