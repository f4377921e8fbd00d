/**
 * The BG/NBD model at the boundary of its parameter space, and the fit that covers it.
 *
 * On real exports the BG/NBD likelihood is often maximised at a boundary rather than inside
 * (0, ∞)^4: the optimiser then follows a parameter to 0 or ∞. Two boundaries have a limit that
 * is itself a proper model, and when the data put the maximum there, that limit IS the
 * maximum-likelihood fit (the supremum over the closure of the parameter space):
 *
 *  - no_dropout: p ~ Beta(a, b) concentrates at 0 (a → 0 with b fixed, b → ∞ with a fixed, or
 *    both: a/(a+b) → 0). B(a, b+x)/B(a, b) = Γ(b+x)Γ(a+b)/(Γ(b)Γ(a+b+x)) → 1 and
 *    B(a+1, b+x−1)/B(a, b) = a/(b+x−1) · B(a, b+x)/B(a, b) → 0, so the likelihood tends to the
 *    NBD one (Ehrenberg's gamma-Poisson, nobody ever leaves):
 *        L = Γ(r+x) α^r / (Γ(r) (α+T)^(r+x)),   parameters r, α.
 *  - homogeneous_rates: λ ~ Gamma(r, α) concentrates at λ = r/α (r, α → ∞ with r/α fixed).
 *    Γ(r+x)/Γ(r) ~ r^x and α^r/(α+T)^(r+x) = (1+T/α)^(−r) (α+T)^(−x) → e^(−λT) α^(−x), so
 *        L = B(a, b+x)/B(a, b) λ^x e^(−λT) + δ B(a+1, b+x−1)/B(a, b) λ^x e^(−λ t_x),
 *    a Poisson process of one shared rate λ with beta-geometric dropout; parameters λ, a, b.
 *  - both: L = λ^x e^(−λT), a Poisson process nobody leaves; λ̂ = Σx / ΣT in closed form.
 *
 * Per-customer quantities are the limits of the BG/NBD ones (paper eqs. 10 and the P(alive) note
 * of Fader, Hardie & Lee 2008), derived from the same conditioning:
 *
 *  NBD (no dropout): P(alive) = 1; given the history, λ | x, T ~ Gamma(r+x, α+T), so
 *      E[Y(t) | x, t_x, T] = (r+x) t / (α+T),
 *      P(no purchase in (T, T+t]) = E[e^(−λt)] = ((α+T)/(α+T+t))^(r+x).
 *  Poisson with beta-geometric dropout (homogeneous rates):
 *      P(alive) = 1 / (1 + δ a/(b+x−1) e^(λ (T − t_x))),
 *      p | alive, x ~ Beta(a, b+x) (survived x purchases). With N ~ Poisson(λt) the purchases
 *      the customer would make in (T, T+t] while alive, a purchase k ≤ N happens if the customer
 *      stayed after the k−1 before it: E[Y | alive, p] = Σ_(k≥1) P(N ≥ k) (1−p)^(k−1)
 *      (= (1 − e^(−λpt))/p, the paper's E[X(t) | λ, p]), hence
 *      E[Y(t) | alive, x] = Σ_(k≥1) P(N ≥ k) · (b+x)_(k−1) / (a+b+x)_(k−1),
 *      a sum of positive terms (no cancellation) that ends a few standard deviations past λt;
 *      P(no purchase in (T, T+t]) = 1 − P(alive) + P(alive) e^(−λt) (dropout only follows a
 *      purchase, so an alive customer is silent for t with probability e^(−λt)).
 *  Poisson (both): P(alive) = 1, E[Y(t)] = λt, P(no purchase) = e^(−λt).
 *
 * `fitPurchaseModel` fits the full BG/NBD first; only when that fit does not converge to an
 * interior maximum does it fit the three limits (each by maximum likelihood, with standard
 * errors from the observed information) and report the best of them, provided its
 * log-likelihood is at least the full model's where the optimiser stopped (it is the supremum
 * the full model was running towards). A limit that itself runs away (e.g. the NBD's r → ∞) is
 * covered by the smaller limit (the Poisson).
 */

import {
  bgnbdLogLikelihood,
  expectedPurchasesIfAlive,
  fitBgNbd,
  pAlive as bgnbdPAlive,
  pAliveAll as bgnbdPAliveAll,
  validRow,
  type BgNbdFit,
  type BgNbdFitOptions,
  type BgNbdParams,
  type RfmSummary,
} from './bgnbd.js';
import { invertSymmetric, minimizeBfgs, numericHessian } from './optimize.js';
import { groupDistinct, groupIntegers, groupPairs, validateRfmSummary } from './rfm-data.js';
import { digamma, lgamma, log1pexp } from './special.js';

/** Where on the boundary of the BG/NBD parameter space the fit lies (null: inside). */
export type BgNbdBoundary = 'no_dropout' | 'homogeneous_rates' | 'no_dropout+homogeneous_rates';

/** The no-dropout limit (NBD): λ ~ Gamma(r, rate alpha), nobody drops out. */
export interface NbdParams {
  r: number;
  alpha: number;
}

/** The homogeneous-rate limit: one Poisson rate for all, dropout p ~ Beta(a, b). */
export interface PoissonDropoutParams {
  rate: number;
  a: number;
  b: number;
}

/** Both limits: one Poisson rate for all, nobody drops out. */
export interface PoissonParams {
  rate: number;
}

/** A fitted purchase model: the BG/NBD itself or one of its limits. */
export type PurchaseModel =
  | { boundary: null; params: BgNbdParams }
  | { boundary: 'no_dropout'; params: NbdParams }
  | { boundary: 'homogeneous_rates'; params: PoissonDropoutParams }
  | { boundary: 'no_dropout+homogeneous_rates'; params: PoissonParams };

/** The fit of one limiting model. */
export interface LimitFit {
  model: PurchaseModel;
  logLikelihood: number;
  /** True when the optimiser converged inside the limit's own space with a positive definite information matrix. */
  converged: boolean;
  /** Standard errors by parameter name (delta method from log-parameters), or null. */
  standardErrors: Record<string, number> | null;
  iterations: number;
  message: string;
}

export interface PurchaseModelFit {
  /** The model to predict with, or null when neither the BG/NBD nor a limit fits. */
  model: PurchaseModel | null;
  /** Weighted log-likelihood of `model` (of the full fit when model is null). */
  logLikelihood: number;
  standardErrors: Record<string, number> | null;
  /** True when `model` is a valid maximum-likelihood fit. */
  converged: boolean;
  message: string;
  /** BFGS iterations over the full fit and the limits tried. */
  iterations: number;
  customers: number;
  rows: number;
  /** The unrestricted BG/NBD fit (where its optimiser stopped). */
  full: BgNbdFit;
  /** The limits tried (none when the full fit converged inside). */
  limits: LimitFit[];
}

/** Shape parameters (r, a, b) beyond [1e-4, 1e4] and scale parameters beyond 1e∓6 × the time scale have run away. */
const RUNAWAY_SHAPE = Math.log(1e4);
const RUNAWAY_SCALE = Math.log(1e6);
/** The optimiser gives up on a limit once a scaled log-parameter passes this (as in bgnbd.ts). */
const ABORT_LOG_PARAMETER = 14;
const GRADIENT_TOLERANCE = 1e-8;
const MAX_ITERATIONS = 300;
const HESSIAN_STEP = 1e-4;
/** A limit is the maximum when its log-likelihood is at least the full fit's, up to this per customer. */
const LIKELIHOOD_SLACK_PER_CUSTOMER = 1e-6;
/** The Poisson sums of the homogeneous-rate expectation stop where the tail is below this. */
const TAIL_EPSILON = 1e-17;

// ---------------------------------------------------------------------------------------------
// Log-likelihoods, row by row (the definition; the fits use the grouped forms below)
// ---------------------------------------------------------------------------------------------

/** Σ weight · ln L of the data under `model` (the BG/NBD itself for boundary null). */
export function purchaseModelLogLikelihood(model: PurchaseModel, data: RfmSummary): number {
  if (model.boundary === null) return bgnbdLogLikelihood(model.params, data);
  let total = 0;
  for (let i = 0; i < data.x.length; i++) {
    const w = data.weight[i];
    if (w === 0) continue;
    total += w * rowLogLikelihood(model, data.x[i], data.tx[i], data.T[i]);
  }
  return total;
}

function rowLogLikelihood(model: PurchaseModel, x: number, tx: number, T: number): number {
  switch (model.boundary) {
    case 'no_dropout': {
      const { r, alpha } = model.params;
      return lgamma(r + x) - lgamma(r) + r * Math.log(alpha) - (r + x) * Math.log(alpha + T);
    }
    case 'homogeneous_rates': {
      const { rate, a, b } = model.params;
      const poisson = (x > 0 ? x * Math.log(rate) : 0) - rate * T;
      if (x === 0) return poisson;
      const stay = lgamma(a + b) - lgamma(b) + lgamma(b + x) - lgamma(a + b + x);
      return stay + poisson + log1pexp(Math.log(a / (b + x - 1)) + rate * (T - tx));
    }
    case 'no_dropout+homogeneous_rates': {
      const { rate } = model.params;
      return (x > 0 ? x * Math.log(rate) : 0) - rate * T;
    }
    default:
      throw new Error('rowLogLikelihood: the interior model has its own likelihood');
  }
}

// ---------------------------------------------------------------------------------------------
// Grouped data and the limits' objectives
// ---------------------------------------------------------------------------------------------

/** The data summed per distinct x, per distinct T and, for x > 0, per distinct (x, T − t_x). */
interface LimitData {
  totalWeight: number;
  meanT: number;
  /** Σ w x and Σ w T. */
  sumX: number;
  sumT: number;
  xValues: Float64Array;
  xWeight: Float64Array;
  tValues: Float64Array;
  tWeight: Float64Array;
  tWeightedX: Float64Array;
  gapX: Float64Array;
  gap: Float64Array;
  gapWeight: Float64Array;
}

function prepareLimitData(data: RfmSummary): LimitData {
  const n = data.x.length;
  const xGroups = groupIntegers(data.x);
  const tGroups = groupDistinct([data.T]);
  const gaps = new Float64Array(n);
  for (let i = 0; i < n; i++) gaps[i] = data.T[i] - data.tx[i];
  const gapGroups = groupPairs(data.x, gaps);
  const xValues = Float64Array.from(xGroups.firstRow, (row) => data.x[row]);
  const tValues = Float64Array.from(tGroups.firstRow, (row) => data.T[row]);
  const xWeight = new Float64Array(xGroups.groupCount);
  const tWeight = new Float64Array(tGroups.groupCount);
  const tWeightedX = new Float64Array(tGroups.groupCount);
  const pairWeight = new Float64Array(gapGroups.groupCount);
  let totalWeight = 0;
  let sumX = 0;
  let sumT = 0;
  for (let i = 0; i < n; i++) {
    const w = data.weight[i];
    if (!(w > 0)) continue;
    xWeight[xGroups.groupOf[i]] += w;
    tWeight[tGroups.groupOf[i]] += w;
    tWeightedX[tGroups.groupOf[i]] += w * data.x[i];
    pairWeight[gapGroups.groupOf[i]] += w;
    totalWeight += w;
    sumX += w * data.x[i];
    sumT += w * data.T[i];
  }
  const kept: number[] = [];
  for (let g = 0; g < gapGroups.groupCount; g++) if (pairWeight[g] > 0 && data.x[gapGroups.firstRow[g]] > 0) kept.push(g);
  return {
    totalWeight,
    meanT: totalWeight > 0 ? sumT / totalWeight : 0,
    sumX,
    sumT,
    xValues,
    xWeight,
    tValues,
    tWeight,
    tWeightedX,
    gapX: Float64Array.from(kept, (g) => data.x[gapGroups.firstRow[g]]),
    gap: Float64Array.from(kept, (g) => gaps[gapGroups.firstRow[g]]),
    gapWeight: Float64Array.from(kept, (g) => pairWeight[g]),
  };
}

/** NBD log-likelihood at θ = (ln r, ln α); writes ∂/∂θ into gradient. */
function nbdLogLikelihood(d: LimitData, theta: ArrayLike<number>, gradient: Float64Array): number {
  const r = Math.exp(theta[0]);
  const alpha = Math.exp(theta[1]);
  const logAlpha = theta[1];
  const W = d.totalWeight;
  let ll = r * logAlpha * W;
  let dR = logAlpha * W;
  let dAlpha = (r * W) / alpha;
  const lgammaR = lgamma(r);
  const digammaR = digamma(r);
  for (let g = 0; g < d.xValues.length; g++) {
    const x = d.xValues[g];
    const w = d.xWeight[g];
    if (x === 0 || w === 0) continue;
    ll += w * (lgamma(r + x) - lgammaR);
    dR += w * (digamma(r + x) - digammaR);
  }
  for (let j = 0; j < d.tValues.length; j++) {
    const shifted = alpha + d.tValues[j];
    const logShifted = Math.log(shifted);
    const coefficient = r * d.tWeight[j] + d.tWeightedX[j];
    ll -= coefficient * logShifted;
    dR -= d.tWeight[j] * logShifted;
    dAlpha -= coefficient / shifted;
  }
  gradient[0] = r * dR;
  gradient[1] = alpha * dAlpha;
  return ll;
}

/** Homogeneous-rate log-likelihood at θ = (ln λ, ln a, ln b); writes ∂/∂θ into gradient. */
function poissonDropoutLogLikelihood(d: LimitData, theta: ArrayLike<number>, gradient: Float64Array): number {
  const rate = Math.exp(theta[0]);
  const a = Math.exp(theta[1]);
  const b = Math.exp(theta[2]);
  let ll = d.sumX * theta[0] - rate * d.sumT;
  let dRate = d.sumX / rate - d.sumT;
  let dA = 0;
  let dB = 0;
  const lgammaAB = lgamma(a + b);
  const lgammaB = lgamma(b);
  const digammaAB = digamma(a + b);
  const digammaB = digamma(b);
  for (let g = 0; g < d.xValues.length; g++) {
    const x = d.xValues[g];
    const w = d.xWeight[g];
    if (x === 0 || w === 0) continue;
    const digammaABX = digamma(a + b + x);
    ll += w * (lgammaAB - lgammaB + lgamma(b + x) - lgamma(a + b + x));
    dA += w * (digammaAB - digammaABX);
    dB += w * (digammaAB - digammaB + digamma(b + x) - digammaABX);
  }
  const logA = theta[1];
  for (let k = 0; k < d.gapX.length; k++) {
    const bx1 = b + d.gapX[k] - 1;
    const w = d.gapWeight[k];
    const logOdds = logA - Math.log(bx1) + rate * d.gap[k];
    const dropped = 1 / (1 + Math.exp(-logOdds)); // P(dropped out | history), the logistic of the odds
    ll += w * log1pexp(logOdds);
    dRate += w * dropped * d.gap[k];
    dA += (w * dropped) / a;
    dB -= (w * dropped) / bx1;
  }
  gradient[0] = rate * dRate;
  gradient[1] = a * dA;
  gradient[2] = b * dB;
  return ll;
}

// ---------------------------------------------------------------------------------------------
// Fitting the limits
// ---------------------------------------------------------------------------------------------

interface LimitSpec {
  names: readonly string[];
  /** ln of each parameter's natural scale: 0 for shapes, ln(mean T) for α, −ln(mean T) for λ. */
  logScales: number[];
  /** Runaway bound on |ln(value) − logScale| per parameter. */
  bounds: number[];
  logLikelihood: (d: LimitData, theta: ArrayLike<number>, gradient: Float64Array) => number;
  starts: number[][];
  toModel: (values: number[]) => PurchaseModel;
}

function fitLimit(d: LimitData, spec: LimitSpec): LimitFit {
  const n = spec.names.length;
  const scale = 1 / d.totalWeight;
  const objective = (theta: Float64Array, gradient: Float64Array): number => {
    const ll = spec.logLikelihood(d, theta, gradient);
    for (let i = 0; i < n; i++) gradient[i] *= -scale;
    return -ll * scale;
  };
  const stopWhen = (theta: Float64Array): string | null => {
    const i = spec.names.findIndex((_, k) => Math.abs(theta[k] - spec.logScales[k]) > ABORT_LOG_PARAMETER);
    return i === -1 ? null : `stopped: parameter ${spec.names[i]} is running away`;
  };
  let best: ReturnType<typeof minimizeBfgs> | null = null;
  let iterations = 0;
  for (const start of spec.starts) {
    const run = minimizeBfgs(objective, Float64Array.from(start), { gradientTolerance: GRADIENT_TOLERANCE, maxIterations: MAX_ITERATIONS, stopWhen });
    iterations += run.iterations;
    if (Number.isFinite(run.f) && (best === null || run.f < best.f)) best = run;
  }
  const values = best ? Array.from(best.x, Math.exp) : spec.names.map(() => NaN);
  const model = spec.toModel(values);
  if (best === null) return { model, logLikelihood: NaN, converged: false, standardErrors: null, iterations, message: 'no starting point gave a finite likelihood' };
  const logLikelihood = -best.f * d.totalWeight;
  const runaway = spec.names.filter((_, k) => Math.abs(best!.x[k] - spec.logScales[k]) > spec.bounds[k]);
  if (runaway.length > 0) {
    return { model, logLikelihood, converged: false, standardErrors: null, iterations, message: `parameters ran away (${runaway.map((name) => `${name}=${values[spec.names.indexOf(name)].toPrecision(4)}`).join(', ')})` };
  }
  const gradientAt = (theta: Float64Array) => {
    const gradient = new Float64Array(n);
    objective(theta, gradient);
    return gradient;
  };
  const covariance = invertSymmetric(numericHessian(gradientAt, best.x, HESSIAN_STEP).map((row) => row.map((v) => v * d.totalWeight)));
  if (covariance === null) {
    return { model, logLikelihood, converged: false, standardErrors: null, iterations, message: 'observed information matrix is not positive definite' };
  }
  const standardErrors: Record<string, number> = {};
  spec.names.forEach((name, k) => (standardErrors[name] = values[k] * Math.sqrt(covariance[k][k])));
  const converged = best.converged;
  return { model, logLikelihood, converged, standardErrors, iterations, message: converged ? 'converged' : `optimiser did not converge: ${best.message}` };
}

function fitNoDropout(d: LimitData): LimitFit {
  const rate = d.sumX / d.sumT;
  const logScale = Math.log(d.meanT);
  return fitLimit(d, {
    names: ['r', 'alpha'],
    logScales: [0, logScale],
    bounds: [RUNAWAY_SHAPE, RUNAWAY_SCALE],
    logLikelihood: nbdLogLikelihood,
    starts: [0.3, 1, 3].map((r) => [Math.log(r), Math.log(r / rate)]),
    toModel: ([r, alpha]) => ({ boundary: 'no_dropout', params: { r, alpha } }),
  });
}

function fitHomogeneousRates(d: LimitData): LimitFit {
  const rate = d.sumX / d.sumT;
  return fitLimit(d, {
    names: ['rate', 'a', 'b'],
    logScales: [-Math.log(d.meanT), 0, 0],
    bounds: [RUNAWAY_SCALE, RUNAWAY_SHAPE, RUNAWAY_SHAPE],
    logLikelihood: poissonDropoutLogLikelihood,
    starts: [
      [Math.log(rate), 0, 0],
      [Math.log(2 * rate), Math.log(0.7), Math.log(2.5)],
      [Math.log(rate), Math.log(2), Math.log(10)],
    ],
    toModel: ([rateValue, a, b]) => ({ boundary: 'homogeneous_rates', params: { rate: rateValue, a, b } }),
  });
}

/** λ̂ = Σx/ΣT, ln L = Σx (ln λ̂ − 1), se(λ̂) = λ̂/√Σx (observed information Σx/λ²). */
function fitPoisson(d: LimitData): LimitFit {
  const rate = d.sumX / d.sumT;
  return {
    model: { boundary: 'no_dropout+homogeneous_rates', params: { rate } },
    logLikelihood: d.sumX * (Math.log(rate) - 1),
    converged: true,
    standardErrors: { rate: rate / Math.sqrt(d.sumX) },
    iterations: 0,
    message: 'closed form',
  };
}

const BOUNDARY_WORDS: Record<BgNbdBoundary, string> = {
  no_dropout: 'no-dropout limit (NBD: a/(a+b) → 0, nobody drops out)',
  homogeneous_rates: 'homogeneous-rate limit (r, alpha → ∞: one Poisson rate for all, beta-geometric dropout)',
  'no_dropout+homogeneous_rates': 'no-dropout and homogeneous-rate limit (Poisson: one rate for all, nobody drops out)',
};

/**
 * Maximum-likelihood fit of the BG/NBD family: the BG/NBD when its maximum is inside the
 * parameter space, otherwise the limiting model at the boundary the likelihood is maximised on
 * (see the header). Never throws on data; `model` is null (with the reason in `message`) only
 * when the data are degenerate or the maximum lies at a boundary without a modelled limit.
 */
export function fitPurchaseModel(data: RfmSummary, opts: BgNbdFitOptions = {}): PurchaseModelFit {
  const full = fitBgNbd(data, opts);
  const base = { customers: full.customers, rows: full.rows, full };
  if (full.converged) {
    return { ...base, model: { boundary: null, params: full.params }, logLikelihood: full.logLikelihood, standardErrors: { ...full.standardErrors! }, converged: true, message: full.message, iterations: full.iterations, limits: [] };
  }
  const failed = (message: string, limits: LimitFit[]): PurchaseModelFit => ({
    ...base,
    model: null,
    logLikelihood: full.logLikelihood,
    standardErrors: null,
    converged: false,
    message,
    iterations: full.iterations + limits.reduce((s, l) => s + l.iterations, 0),
    limits,
  });
  // Invalid or degenerate data (no repeat purchase, T = 0 everywhere): no model, limits neither.
  if (validateRfmSummary(data) !== null || !Number.isFinite(full.logLikelihood)) return failed(full.message, []);
  const prepared = prepareLimitData(data);
  if (!(prepared.sumX > 0 && prepared.sumT > 0)) return failed(full.message, []);
  const limits = [fitNoDropout(prepared), fitHomogeneousRates(prepared), fitPoisson(prepared)];
  let best: LimitFit | null = null;
  for (const limit of limits) if (limit.converged && (best === null || limit.logLikelihood > best.logLikelihood)) best = limit;
  const slack = LIKELIHOOD_SLACK_PER_CUSTOMER * prepared.totalWeight;
  if (best === null || !(best.logLikelihood >= full.logLikelihood - slack)) {
    const note = best
      ? `; its best limit (${best.model.boundary}) reaches log-likelihood ${best.logLikelihood.toFixed(2)}, below the ${full.logLikelihood.toFixed(2)} the full model was approaching`
      : '';
    return failed(full.message + note, limits);
  }
  const boundary = best.model.boundary!;
  return {
    ...base,
    model: best.model,
    logLikelihood: best.logLikelihood,
    standardErrors: best.standardErrors,
    converged: true,
    message: `maximum at the ${BOUNDARY_WORDS[boundary]}; fitted as that model (${best.message}); unrestricted BG/NBD: ${full.message}`,
    iterations: full.iterations + limits.reduce((s, l) => s + l.iterations, 0),
    limits,
  };
}

// ---------------------------------------------------------------------------------------------
// Per-customer quantities
// ---------------------------------------------------------------------------------------------

/** P(alive at T | x, t_x, T) under `model`. */
export function modelPAlive(model: PurchaseModel, x: number, tx: number, T: number): number {
  switch (model.boundary) {
    case null:
      return bgnbdPAlive(model.params, x, tx, T);
    case 'homogeneous_rates': {
      if (!(x > 0)) return 1;
      const { rate, a, b } = model.params;
      return 1 / (1 + Math.exp(Math.log(a / (b + x - 1)) + rate * (T - tx)));
    }
    default:
      return 1;
  }
}

/** P(alive) for every triple (NaN for invalid rows). */
export function modelPAliveAll(model: PurchaseModel, data: RfmSummary): Float64Array {
  if (model.boundary === null) return bgnbdPAliveAll(model.params, data);
  const out = new Float64Array(data.x.length);
  for (let i = 0; i < out.length; i++) out[i] = validRow(data, i) ? modelPAlive(model, data.x[i], data.tx[i], data.T[i]) : NaN;
  return out;
}

/** E[purchases in (T, T+t] | alive at T, x, T] under `model` (does not depend on t_x). */
export function modelExpectedPurchasesIfAlive(model: PurchaseModel, t: number, x: number, T: number): number {
  if (!(t > 0)) return t === 0 ? 0 : NaN;
  switch (model.boundary) {
    case null:
      return expectedPurchasesIfAlive(model.params, t, x, T);
    case 'no_dropout':
      return ((model.params.r + x) * t) / (model.params.alpha + T);
    case 'homogeneous_rates':
      return poissonGeometricExpectation(model.params.rate * t, model.params.b + x, model.params.a + model.params.b + x);
    case 'no_dropout+homogeneous_rates':
      return model.params.rate * t;
  }
}

/**
 * Σ_(k≥1) P(N ≥ k) (B)_(k−1)/(A)_(k−1) for N ~ Poisson(mean): the purchases of a customer of
 * rate λ (mean = λt) whose dropout p ~ Beta(A − B, B). The Poisson probabilities are built
 * outwards from the mode in log space (no underflow for large means) and the sum stops where the
 * upper tail is negligible.
 */
function poissonGeometricExpectation(mean: number, B: number, A: number): number {
  if (!(mean > 0)) return 0;
  const mode = Math.floor(mean);
  const modePmf = Math.exp(-mean + (mode > 0 ? mode * Math.log(mean) : 0) - lgamma(mode + 1));
  // Lowest n with non-negligible mass, walking down from the mode.
  let low = mode;
  let pmfLow = modePmf;
  while (low > 0 && pmfLow > TAIL_EPSILON * modePmf) {
    pmfLow *= low / mean;
    low--;
  }
  // E = Σ_n P(N = n) S(n), S(n) = Σ_(k=1..n) w_k, w_1 = 1, w_(k+1) = w_k (B+k−1)/(A+k−1).
  let S = 0;
  let w = 1;
  for (let k = 1; k <= low; k++) {
    S += w;
    w *= (B + k - 1) / (A + k - 1);
  }
  // Walk n = low .. while the pmf (recomputed upward from pmfLow) is not negligible past the mode.
  let total = 0;
  let pmf = pmfLow;
  let n = low;
  let mass = 0;
  for (;;) {
    total += pmf * S;
    mass += pmf;
    n++;
    pmf *= mean / n;
    S += w;
    w *= (B + n - 1) / (A + n - 1);
    if (n > mean && pmf < TAIL_EPSILON * modePmf) break;
  }
  // The window's mass is 1 up to the neglected tails; dividing by it removes the rounding of the log-space start.
  return total / mass;
}

/** E[purchases in (T, T+t] | x, t_x, T] = P(alive) · E[… | alive]. */
export function modelConditionalExpectedPurchases(model: PurchaseModel, t: number, x: number, tx: number, T: number): number {
  return modelPAlive(model, x, tx, T) * modelExpectedPurchasesIfAlive(model, t, x, T);
}

/**
 * P(no purchase in (T, T+t] | x, t_x, T): dropped out, or alive and silent for t. Given alive,
 * the next purchase comes at the customer's rate, λ | x, T ~ Gamma(r+x, α+T) in the BG/NBD
 * and the NBD (silent with probability ((α+T)/(α+T+t))^(r+x)), the shared λ otherwise (e^(−λt)).
 */
export function modelPNoPurchase(model: PurchaseModel, t: number, x: number, tx: number, T: number, alive = modelPAlive(model, x, tx, T)): number {
  let silent: number;
  if (model.boundary === null || model.boundary === 'no_dropout') {
    const { r, alpha } = model.params;
    silent = Math.exp(-(r + x) * Math.log1p(t / (alpha + T)));
  } else {
    silent = Math.exp(-model.params.rate * t);
  }
  return 1 - alive + alive * silent;
}

export interface PurchasePrediction {
  pAlive: Float64Array;
  /** E[purchases in (T, T + horizon]]. */
  expectedPurchases: Float64Array;
  /** P(no purchase in (T, T + horizon]). */
  pNoPurchase: Float64Array;
}

/**
 * P(alive), expected purchases and P(no purchase) over `horizon` for every triple; the
 * expectation given alive is computed once per distinct (x, T). Invalid rows give NaN.
 */
export function predictPurchases(model: PurchaseModel, data: RfmSummary, horizon: number): PurchasePrediction {
  if (!(horizon >= 0) || !Number.isFinite(horizon)) throw new RangeError(`predictPurchases: horizon must be finite and >= 0 (got ${horizon})`);
  const n = data.x.length;
  const alive = modelPAliveAll(model, data);
  const pairs = groupPairs(data.x, data.T);
  const ifAlive = new Float64Array(pairs.groupCount);
  for (let g = 0; g < pairs.groupCount; g++) {
    const row = pairs.firstRow[g];
    ifAlive[g] = validRow(data, row) ? modelExpectedPurchasesIfAlive(model, horizon, data.x[row], data.T[row]) : NaN;
  }
  const expected = new Float64Array(n);
  const noPurchase = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    expected[i] = alive[i] * ifAlive[pairs.groupOf[i]];
    noPurchase[i] = modelPNoPurchase(model, horizon, data.x[i], data.tx[i], data.T[i], alive[i]);
  }
  return { pAlive: alive, expectedPurchases: expected, pNoPurchase: noPurchase };
}

/** The mean purchase rate of a customer just after the first purchase: r/α, or the shared λ. */
export function meanPurchaseRate(model: PurchaseModel): number {
  return model.boundary === null || model.boundary === 'no_dropout' ? model.params.r / model.params.alpha : model.params.rate;
}
