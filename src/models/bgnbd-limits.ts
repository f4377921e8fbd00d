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
 *  - homogeneous_dropout: p ~ Beta(a, b) concentrates at p = a/(a+b) (a, b → ∞ with a/(a+b)
 *    fixed): B(a, b+x)/B(a, b) = E[(1−p)^x] → (1−p)^x and a/(b+x−1) → p/(1−p), so
 *        L = (1−p)^x Γ(r+x) α^r / (Γ(r) (α+T)^(r+x)) + δ p (1−p)^(x−1) Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x)),
 *    one dropout probability for all (a no-dropout truth often lands here with a tiny p).
 *  - combinations: no dropout and one rate, L = λ^x e^(−λT) (a Poisson process nobody leaves;
 *    λ̂ = Σx / ΣT in closed form); one dropout probability and one rate.
 * In general L = S_x R(T) + δ D_x R(t_x) with a rate half R(τ) = E[λ^x e^(−λτ)] and a dropout
 * half S_x = E[(1−p)^x], D_x = E[p(1−p)^(x−1)]; each limit replaces a half by its limit.
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
 *  One dropout probability p: P(alive) = 1 / (1 + δ p/(1−p) · R(t_x)/R(T)),
 *      E[Y(t) | alive] = E_λ[(1 − e^(−λpt))/p] = (1 − ((α+T)/(α+T+pt))^(r+x))/p with Gamma rates,
 *      (1 − e^(−λpt))/p with one rate.
 *  Poisson (no dropout, one rate): P(alive) = 1, E[Y(t)] = λt, P(no purchase) = e^(−λt).
 *
 * `fitPurchaseModel` fits the full BG/NBD first; only when that fit does not converge to an
 * interior maximum does it fit the five limits (each by maximum likelihood, with standard
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

/**
 * One code per boundary reached, joined by '+': the dropout side (no_dropout or
 * homogeneous_dropout) first, then homogeneous_rates.
 */
export type BgNbdBoundary =
  | 'no_dropout'
  | 'homogeneous_dropout'
  | 'homogeneous_rates'
  | 'no_dropout+homogeneous_rates'
  | 'homogeneous_dropout+homogeneous_rates';

/**
 * Parameters of a model of the family. Purchase rates: r and alpha (Gamma), or one `rate` for
 * all. Dropout: a and b (Beta), one probability `p` for all, or none of them (nobody drops out).
 */
export interface PurchaseParams {
  r?: number;
  alpha?: number;
  rate?: number;
  a?: number;
  b?: number;
  p?: number;
}

/** A fitted purchase model: the BG/NBD itself (boundary null) or one of its limits. */
export type PurchaseModel =
  | { boundary: null; params: BgNbdParams }
  | { boundary: BgNbdBoundary; params: PurchaseParams };

/** The fit of one limiting model. */
export interface LimitFit {
  model: PurchaseModel;
  logLikelihood: number;
  /** True when the optimiser converged inside the limit's own space with a positive definite information matrix. */
  converged: boolean;
  /** Standard errors by parameter name (delta method from the transformed parameters), or null. */
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

/** Shape parameters (r, a, b) beyond [1e-4, 1e4], scales beyond 1e∓6 × the time scale and p beyond logit ±12 have run away. */
const RUNAWAY_SHAPE = Math.log(1e4);
const RUNAWAY_SCALE = Math.log(1e6);
const RUNAWAY_LOGIT = 12;
/** The optimiser gives up on a limit once a scaled transformed parameter passes this (as in bgnbd.ts). */
const ABORT_PARAMETER = 14;
const GRADIENT_TOLERANCE = 1e-8;
const MAX_ITERATIONS = 300;
const HESSIAN_STEP = 1e-4;
/** A limit is the maximum when its log-likelihood is at least the full fit's, up to this per customer. */
const LIKELIHOOD_SLACK_PER_CUSTOMER = 1e-6;
/** The Poisson sums of the homogeneous-rate expectation stop where the tail is below this. */
const TAIL_EPSILON = 1e-17;

// ---------------------------------------------------------------------------------------------
// The two halves of every model: purchase rates and dropout
// ---------------------------------------------------------------------------------------------

/** How purchase rates vary: Gamma(r, rate α) across customers, or one rate λ for all. */
type RatePart = { kind: 'gamma'; r: number; alpha: number } | { kind: 'shared'; rate: number };
/** How dropout varies: p ~ Beta(a, b), one p for all, or nobody drops out. */
type DropoutPart = { kind: 'beta'; a: number; b: number } | { kind: 'shared'; p: number } | { kind: 'none' };

function ratePartOf(params: PurchaseParams): RatePart {
  return params.rate !== undefined ? { kind: 'shared', rate: params.rate } : { kind: 'gamma', r: params.r!, alpha: params.alpha! };
}

function dropoutPartOf(params: PurchaseParams): DropoutPart {
  if (params.a !== undefined && params.b !== undefined) return { kind: 'beta', a: params.a, b: params.b };
  return params.p !== undefined ? { kind: 'shared', p: params.p } : { kind: 'none' };
}

function boundaryOf(rate: RatePart['kind'], dropout: DropoutPart['kind']): BgNbdBoundary | null {
  const codes = [dropout === 'none' ? 'no_dropout' : dropout === 'shared' ? 'homogeneous_dropout' : null, rate === 'shared' ? 'homogeneous_rates' : null];
  const code = codes.filter((c) => c !== null).join('+');
  return code === '' ? null : (code as BgNbdBoundary);
}

/**
 * ln S_x and ln(D_x / S_x) of the dropout half, S_x = E[(1−p)^x] (still active after x repeat
 * purchases) and D_x = E[p (1−p)^(x−1)] (dropped out right after the x-th):
 * Beta: S_x = B(a, b+x)/B(a, b), D_x/S_x = a/(b+x−1); shared p: (1−p)^x, p/(1−p); none: 1, 0.
 */
function dropoutLogs(part: DropoutPart, x: number): { logStay: number; logOdds: number } {
  if (x === 0 || part.kind === 'none') return { logStay: 0, logOdds: -Infinity };
  if (part.kind === 'shared') return { logStay: x * Math.log1p(-part.p), logOdds: Math.log(part.p / (1 - part.p)) };
  const { a, b } = part;
  return { logStay: lgamma(a + b) - lgamma(b) + lgamma(b + x) - lgamma(a + b + x), logOdds: Math.log(a / (b + x - 1)) };
}

/**
 * ln R(τ) of the rate half, R(τ) = E[λ^x e^(−λτ)]: Γ(r+x) α^r / (Γ(r) (α+τ)^(r+x)) for Gamma
 * rates, λ^x e^(−λτ) for a shared rate.
 */
function rateLog(part: RatePart, x: number, tau: number): number {
  if (part.kind === 'shared') return (x > 0 ? x * Math.log(part.rate) : 0) - part.rate * tau;
  const { r, alpha } = part;
  return lgamma(r + x) - lgamma(r) + r * Math.log(alpha) - (r + x) * Math.log(alpha + tau);
}

// ---------------------------------------------------------------------------------------------
// Log-likelihoods, row by row (the definition; the fits use the grouped form below)
// ---------------------------------------------------------------------------------------------

/**
 * Σ weight · ln L of the data under `model` (the BG/NBD itself for boundary null), with
 * L = S_x R(T) + δ D_x R(t_x), i.e. ln L = ln S_x + ln R(T) + δ ln(1 + D_x/S_x · R(t_x)/R(T)).
 */
export function purchaseModelLogLikelihood(model: PurchaseModel, data: RfmSummary): number {
  if (model.boundary === null) return bgnbdLogLikelihood(model.params, data);
  const rate = ratePartOf(model.params);
  const dropout = dropoutPartOf(model.params);
  let total = 0;
  for (let i = 0; i < data.x.length; i++) {
    const w = data.weight[i];
    if (w === 0) continue;
    const x = data.x[i];
    const { logStay, logOdds } = dropoutLogs(dropout, x);
    const atT = rateLog(rate, x, data.T[i]);
    const dropped = logOdds === -Infinity ? 0 : log1pexp(logOdds + rateLog(rate, x, data.tx[i]) - atT);
    total += w * (logStay + atT + dropped);
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Grouped data and the limits' objective
// ---------------------------------------------------------------------------------------------

/** The data summed per distinct x and per distinct T, and the rows with x > 0 indexing both. */
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
  /** Rows with x > 0 and positive weight: x, T, t_x and weight. */
  rowX: Float64Array;
  rowT: Float64Array;
  rowTx: Float64Array;
  rowWeight: Float64Array;
}

function prepareLimitData(data: RfmSummary): LimitData {
  const n = data.x.length;
  const xGroups = groupIntegers(data.x);
  const tGroups = groupDistinct([data.T]);
  const xWeight = new Float64Array(xGroups.groupCount);
  const tWeight = new Float64Array(tGroups.groupCount);
  const tWeightedX = new Float64Array(tGroups.groupCount);
  const repeaters: number[] = [];
  let totalWeight = 0;
  let sumX = 0;
  let sumT = 0;
  for (let i = 0; i < n; i++) {
    const w = data.weight[i];
    if (!(w > 0)) continue;
    xWeight[xGroups.groupOf[i]] += w;
    tWeight[tGroups.groupOf[i]] += w;
    tWeightedX[tGroups.groupOf[i]] += w * data.x[i];
    totalWeight += w;
    sumX += w * data.x[i];
    sumT += w * data.T[i];
    if (data.x[i] > 0) repeaters.push(i);
  }
  return {
    totalWeight,
    meanT: totalWeight > 0 ? sumT / totalWeight : 0,
    sumX,
    sumT,
    xValues: Float64Array.from(xGroups.firstRow, (row) => data.x[row]),
    xWeight,
    tValues: Float64Array.from(tGroups.firstRow, (row) => data.T[row]),
    tWeight,
    tWeightedX,
    rowX: Float64Array.from(repeaters, (i) => data.x[i]),
    rowT: Float64Array.from(repeaters, (i) => data.T[i]),
    rowTx: Float64Array.from(repeaters, (i) => data.tx[i]),
    rowWeight: Float64Array.from(repeaters, (i) => data.weight[i]),
  };
}

/** Which halves a limit has; its transformed parameters θ are the rate half's then the dropout half's. */
interface LimitShape {
  rate: RatePart['kind'];
  dropout: DropoutPart['kind'];
}

/** θ → parameters: gamma (ln r, ln α) or shared (ln λ); beta (ln a, ln b), shared (logit p) or none. */
function paramsOf(shape: LimitShape, theta: ArrayLike<number>): PurchaseParams {
  const params: PurchaseParams = shape.rate === 'gamma' ? { r: Math.exp(theta[0]), alpha: Math.exp(theta[1]) } : { rate: Math.exp(theta[0]) };
  const k = shape.rate === 'gamma' ? 2 : 1;
  if (shape.dropout === 'beta') Object.assign(params, { a: Math.exp(theta[k]), b: Math.exp(theta[k + 1]) });
  if (shape.dropout === 'shared') params.p = 1 / (1 + Math.exp(-theta[k]));
  return params;
}

/**
 * Grouped log-likelihood of a limit at θ; writes ∂/∂θ into gradient. The terms without the
 * dropout-after-the-last-purchase part are summed per distinct x (ln S_x, Γ ratios) and per
 * distinct T (ln(α+T)); the dropout part, softplus(ln(D_x/S_x) + ln R(t_x) − ln R(T)), per row.
 */
function limitLogLikelihood(d: LimitData, shape: LimitShape, theta: ArrayLike<number>, gradient: Float64Array): number {
  const params = paramsOf(shape, theta);
  const k = shape.rate === 'gamma' ? 2 : 1;
  gradient.fill(0);
  let ll = 0;
  // Rate half at T: Σ w ln R(T).
  if (shape.rate === 'gamma') {
    const r = params.r!;
    const alpha = params.alpha!;
    const logAlpha = theta[1];
    const W = d.totalWeight;
    let dR = logAlpha * W;
    let dAlpha = (r * W) / alpha;
    ll += r * logAlpha * W;
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
  } else {
    const rate = params.rate!;
    ll += d.sumX * theta[0] - rate * d.sumT;
    gradient[0] = d.sumX - rate * d.sumT;
  }
  if (shape.dropout === 'none') return ll;
  // Dropout half: Σ_x W_x ln S_x.
  if (shape.dropout === 'beta') {
    const a = params.a!;
    const b = params.b!;
    const lgammaAB = lgamma(a + b);
    const lgammaB = lgamma(b);
    const digammaAB = digamma(a + b);
    const digammaB = digamma(b);
    let dA = 0;
    let dB = 0;
    for (let g = 0; g < d.xValues.length; g++) {
      const x = d.xValues[g];
      const w = d.xWeight[g];
      if (x === 0 || w === 0) continue;
      const digammaABX = digamma(a + b + x);
      ll += w * (lgammaAB - lgammaB + lgamma(b + x) - lgamma(a + b + x));
      dA += w * (digammaAB - digammaABX);
      dB += w * (digammaAB - digammaB + digamma(b + x) - digammaABX);
    }
    gradient[k] = a * dA;
    gradient[k + 1] = b * dB;
  } else {
    const p = params.p!;
    ll += d.sumX * Math.log1p(-p);
    gradient[k] = -d.sumX * p; // ∂/∂logit p of Σ w x ln(1−p)
  }
  // Dropped out right after the last purchase: Σ_rows w softplus(logOdds + ln R(t_x) − ln R(T)).
  const logP = shape.dropout === 'shared' ? Math.log(params.p! / (1 - params.p!)) : 0;
  for (let i = 0; i < d.rowX.length; i++) {
    const x = d.rowX[i];
    const w = d.rowWeight[i];
    let shift: number;
    let dShift0 = 0;
    let dShift1 = 0;
    if (shape.rate === 'gamma') {
      const atT = params.alpha! + d.rowT[i];
      const atTx = params.alpha! + d.rowTx[i];
      const logRatio = Math.log(atT / atTx);
      shift = (params.r! + x) * logRatio;
      dShift0 = params.r! * logRatio;
      dShift1 = params.alpha! * (params.r! + x) * (1 / atT - 1 / atTx);
    } else {
      shift = params.rate! * (d.rowT[i] - d.rowTx[i]);
      dShift0 = shift;
    }
    const bx1 = shape.dropout === 'beta' ? params.b! + x - 1 : 0;
    const logOdds = shape.dropout === 'beta' ? Math.log(params.a! / bx1) : logP;
    const z = logOdds + shift;
    const dropped = 1 / (1 + Math.exp(-z)); // P(dropped out | history): the logistic of the log-odds
    ll += w * log1pexp(z);
    const wd = w * dropped;
    gradient[0] += wd * dShift0;
    if (shape.rate === 'gamma') gradient[1] += wd * dShift1;
    if (shape.dropout === 'beta') {
      gradient[k] += wd; // ∂ ln a / ∂ ln a
      gradient[k + 1] -= (wd * params.b!) / bx1;
    } else {
      gradient[k] += wd; // ∂ logit p / ∂ logit p
    }
  }
  return ll;
}

// ---------------------------------------------------------------------------------------------
// Fitting the limits
// ---------------------------------------------------------------------------------------------

/** Parameter names, natural scales and runaway bounds of a shape's θ. */
function describeShape(shape: LimitShape, meanT: number): { names: string[]; centres: number[]; bounds: number[] } {
  const logT = Math.log(meanT);
  const names: string[] = [];
  const centres: number[] = [];
  const bounds: number[] = [];
  const add = (name: string, centre: number, bound: number) => (names.push(name), centres.push(centre), bounds.push(bound));
  if (shape.rate === 'gamma') (add('r', 0, RUNAWAY_SHAPE), add('alpha', logT, RUNAWAY_SCALE));
  else add('rate', -logT, RUNAWAY_SCALE);
  if (shape.dropout === 'beta') (add('a', 0, RUNAWAY_SHAPE), add('b', 0, RUNAWAY_SHAPE));
  if (shape.dropout === 'shared') add('p', 0, RUNAWAY_LOGIT);
  return { names, centres, bounds };
}

/** Starting points scaled to the data's purchase rate: a few typical shapes of each half. */
function startsOf(shape: LimitShape, d: LimitData): number[][] {
  const rate = d.sumX / d.sumT;
  const rateStarts = shape.rate === 'gamma' ? [0.3, 1, 3].map((r) => [Math.log(r), Math.log(r / rate)]) : [[Math.log(rate)], [Math.log(2 * rate)]];
  const dropoutStarts = shape.dropout === 'beta' ? [[0, 0], [Math.log(0.7), Math.log(2.5)], [Math.log(2), Math.log(10)]] : shape.dropout === 'shared' ? [[-4], [-1.5]] : [[]];
  return rateStarts.flatMap((head) => dropoutStarts.map((tail) => [...head, ...tail]));
}

/** Standard error of a parameter from that of its transform: ln (shapes, scales) or logit (p). */
function naturalScaleError(name: string, value: number, transformedError: number): number {
  return name === 'p' ? value * (1 - value) * transformedError : value * transformedError;
}

function fitLimit(d: LimitData, shape: LimitShape): LimitFit {
  const { names, centres, bounds } = describeShape(shape, d.meanT);
  const n = names.length;
  const boundary = boundaryOf(shape.rate, shape.dropout)!;
  const scale = 1 / d.totalWeight;
  const objective = (theta: Float64Array, gradient: Float64Array): number => {
    const ll = limitLogLikelihood(d, shape, theta, gradient);
    for (let i = 0; i < n; i++) gradient[i] *= -scale;
    return -ll * scale;
  };
  const stopWhen = (theta: Float64Array): string | null => {
    const i = names.findIndex((_, k) => Math.abs(theta[k] - centres[k]) > ABORT_PARAMETER);
    return i === -1 ? null : `stopped: parameter ${names[i]} is running away`;
  };
  let best: ReturnType<typeof minimizeBfgs> | null = null;
  let iterations = 0;
  for (const start of startsOf(shape, d)) {
    const run = minimizeBfgs(objective, Float64Array.from(start), { gradientTolerance: GRADIENT_TOLERANCE, maxIterations: MAX_ITERATIONS, stopWhen });
    iterations += run.iterations;
    if (Number.isFinite(run.f) && (best === null || run.f < best.f)) best = run;
  }
  if (best === null) {
    return { model: { boundary, params: {} }, logLikelihood: NaN, converged: false, standardErrors: null, iterations, message: 'no starting point gave a finite likelihood' };
  }
  const theta = best.x;
  const params = paramsOf(shape, theta);
  const model: PurchaseModel = { boundary, params };
  const value = (name: string) => params[name as keyof PurchaseParams]!;
  const logLikelihood = -best.f * d.totalWeight;
  const fail = (message: string): LimitFit => ({ model, logLikelihood, converged: false, standardErrors: null, iterations, message });
  const runaway = names.filter((_, k) => Math.abs(theta[k] - centres[k]) > bounds[k]);
  if (runaway.length > 0) return fail(`parameters ran away (${runaway.map((name) => `${name}=${value(name).toPrecision(4)}`).join(', ')})`);
  const gradientAt = (at: Float64Array) => {
    const gradient = new Float64Array(n);
    objective(at, gradient);
    return gradient;
  };
  const covariance = invertSymmetric(numericHessian(gradientAt, theta, HESSIAN_STEP).map((row) => row.map((v) => v * d.totalWeight)));
  if (covariance === null) return fail('observed information matrix is not positive definite');
  if (!best.converged) return fail(`optimiser did not converge: ${best.message}`);
  const standardErrors: Record<string, number> = {};
  names.forEach((name, k) => (standardErrors[name] = naturalScaleError(name, value(name), Math.sqrt(covariance[k][k]))));
  return { model, logLikelihood, converged: true, standardErrors, iterations, message: 'converged' };
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

/** The limits on the boundary of the BG/NBD parameter space, each with a proper model (header). */
const LIMIT_SHAPES: LimitShape[] = [
  { rate: 'gamma', dropout: 'none' },
  { rate: 'gamma', dropout: 'shared' },
  { rate: 'shared', dropout: 'beta' },
  { rate: 'shared', dropout: 'shared' },
];

/**
 * Maximum-likelihood fits of the limiting models to `data` (valid data with some repeat
 * purchase and some observation time; see fitPurchaseModel for when they are used).
 */
export function fitBoundaryLimits(data: RfmSummary): LimitFit[] {
  const prepared = prepareLimitData(data);
  return [...LIMIT_SHAPES.map((shape) => fitLimit(prepared, shape)), fitPoisson(prepared)];
}

const BOUNDARY_WORDS: Record<BgNbdBoundary, string> = {
  no_dropout: 'no-dropout limit (NBD: a/(a+b) → 0, nobody drops out)',
  homogeneous_dropout: 'homogeneous-dropout limit (a, b → ∞: one dropout probability p for all)',
  homogeneous_rates: 'homogeneous-rate limit (r, alpha → ∞: one Poisson rate for all, beta-geometric dropout)',
  'no_dropout+homogeneous_rates': 'no-dropout and homogeneous-rate limit (Poisson: one rate for all, nobody drops out)',
  'homogeneous_dropout+homogeneous_rates': 'homogeneous-dropout and homogeneous-rate limit (one Poisson rate and one dropout probability for all)',
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
  const limits = fitBoundaryLimits(data);
  let best: LimitFit | null = null;
  for (const limit of limits) if (limit.converged && (best === null || limit.logLikelihood > best.logLikelihood)) best = limit;
  const slack = LIKELIHOOD_SLACK_PER_CUSTOMER * full.customers;
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

/** P(alive at T | x, t_x, T) = 1 / (1 + δ D_x/S_x · R(t_x)/R(T)) under `model`. */
export function modelPAlive(model: PurchaseModel, x: number, tx: number, T: number): number {
  if (model.boundary === null) return bgnbdPAlive(model.params, x, tx, T);
  const { logOdds } = dropoutLogs(dropoutPartOf(model.params), x);
  if (logOdds === -Infinity) return 1;
  const rate = ratePartOf(model.params);
  const shift = rate.kind === 'shared' ? rate.rate * (T - tx) : (rate.r + x) * Math.log1p((T - tx) / (rate.alpha + tx));
  return 1 / (1 + Math.exp(logOdds + shift));
}

/** P(alive) for every triple (NaN for invalid rows). */
export function modelPAliveAll(model: PurchaseModel, data: RfmSummary): Float64Array {
  if (model.boundary === null) return bgnbdPAliveAll(model.params, data);
  const out = new Float64Array(data.x.length);
  for (let i = 0; i < out.length; i++) out[i] = validRow(data, i) ? modelPAlive(model, data.x[i], data.tx[i], data.T[i]) : NaN;
  return out;
}

/**
 * E[purchases in (T, T+t] | alive at T, x, T] under `model` (does not depend on t_x):
 * E over p | alive, x and λ | x, T of (1 − e^(−λpt))/p (λt without dropout). See the header.
 */
export function modelExpectedPurchasesIfAlive(model: PurchaseModel, t: number, x: number, T: number): number {
  if (!(t > 0)) return t === 0 ? 0 : NaN;
  if (model.boundary === null) return expectedPurchasesIfAlive(model.params, t, x, T);
  const rate = ratePartOf(model.params);
  const dropout = dropoutPartOf(model.params);
  if (dropout.kind === 'none') return rate.kind === 'shared' ? rate.rate * t : ((rate.r + x) * t) / (rate.alpha + T);
  if (dropout.kind === 'shared') {
    const { p } = dropout;
    // Gamma: E[e^(−λpt)] = ((α+T)/(α+T+pt))^(r+x); shared: e^(−λpt).
    const logSilent = rate.kind === 'shared' ? -rate.rate * p * t : -(rate.r + x) * Math.log1p((p * t) / (rate.alpha + T));
    return -Math.expm1(logSilent) / p;
  }
  if (rate.kind === 'shared') return poissonGeometricExpectation(rate.rate * t, dropout.b + x, dropout.a + dropout.b + x);
  throw new Error('modelExpectedPurchasesIfAlive: Gamma rates with Beta dropout is the interior model');
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
  const rate = ratePartOf(model.params);
  const silent = rate.kind === 'shared' ? Math.exp(-rate.rate * t) : Math.exp(-(rate.r + x) * Math.log1p(t / (rate.alpha + T)));
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
  const rate = ratePartOf(model.params);
  return rate.kind === 'shared' ? rate.rate : rate.r / rate.alpha;
}
