/**
 * The Gamma-Gamma spend model at the q → ∞ boundary of its parameter space, and the fit that
 * covers it (as bgnbd-limits.ts does for the BG/NBD).
 *
 * The Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-value Curves for Customer
 * Base Analysis"; Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value") lets each
 * customer's transaction scale ν vary as Gamma(q, rate v). When customers do not differ in spend,
 * the likelihood is maximised at the boundary: q → ∞ with v/(q−1) → 1/ν fixed, i.e. ν ~ Gamma(q, v)
 * concentrates at one ν for everybody. That limit is itself a proper model, and when the data put
 * the maximum there it IS the maximum-likelihood fit (the supremum over the closure):
 *
 *  homogeneous_spend: z_ij ~ Gamma(p, rate ν) for every transaction of every customer, so the
 *    mean m of x transactions is Gamma(p x, rate ν x):
 *        f(m | p, ν, x) = (ν x)^(px) m^(px−1) e^(−ν x m) / Γ(px)
 *        ln f = px ln ν + px ln(m x) − ln m − ν x m − ln Γ(px).
 *    It is the limit of the Gamma-Gamma density: with v = (q−1)/ν,
 *    Γ(px+q)/Γ(q) ~ q^(px) and v^q/(v+mx)^(px+q) = (1 + mx/v)^(−q) (v+mx)^(−px) → e^(−νmx) v^(−px),
 *    and (q/v)^(px) → ν^(px).
 *    Maximum likelihood: ∂/∂ν = p Σwx/ν − Σwxm = 0 gives ν̂(p) = p Σwx / Σwxm (the mean
 *    transaction value is p/ν̂ = Σwxm/Σwx, the mean over all transactions); the profile in p,
 *    ℓ(p) = p Σwx ln ν̂(p) + p Σwx ln(mx) − Σw ln m − p Σwx − Σ_x W_x ln Γ(px), is strictly
 *    concave (its second derivative Σwx/p − Σ_x W_x x² ψ'(px) < 0 since ψ'(y) > 1/y), so one
 *    start finds it.
 *    Expected spend: ν is known, so a customer's past transactions say nothing more about their
 *    future ones: E[Z | x, m] = p/ν for everyone — the limit of the Gamma-Gamma posterior mean
 *    p (v + x m)/(px + q − 1), whose weight on the customer's own mean, px/(px+q−1), → 0.
 *
 * Other runaway directions (p → 0 or ∞, q → 0) have no such limit here and stay unusable.
 * `fitSpendModel` fits the full Gamma-Gamma first; only when it ran q past the runaway bound
 * (GAMMA_GAMMA_RUNAWAY_MAX) does it fit the limit, and uses it when its log-likelihood is at
 * least the full model's where the optimiser stopped (up to LIKELIHOOD_SLACK_PER_CUSTOMER per
 * customer). When instead the full model beats the limit and its optimiser converged there, the
 * maximum is inside at a large but finite q: that is the fit (the Gamma-Gamma, without standard
 * errors), not a runaway.
 */

import {
  conditionalExpectedValue,
  fitGammaGamma,
  GAMMA_GAMMA_RUNAWAY_MAX,
  validateSpendSummary,
  type GammaGammaFit,
  type GammaGammaFitOptions,
  type GammaGammaParams,
  type SpendSummary,
} from './gamma-gamma.js';
import { invertSymmetric, minimizeBfgs, numericHessian } from './optimize.js';
import { groupDistinct } from './rfm-data.js';
import { digamma, lgamma } from './special.js';

/** The homogeneous-spend limit: every transaction ~ Gamma(shape p, rate ν). */
export interface HomogeneousSpendParams {
  p: number;
  nu: number;
}

/** A fitted spend model: the Gamma-Gamma itself (boundary null) or its q → ∞ limit. */
export type SpendModel =
  | { boundary: null; params: GammaGammaParams }
  | { boundary: 'homogeneous_spend'; params: HomogeneousSpendParams };

export interface HomogeneousSpendFit {
  params: HomogeneousSpendParams;
  logLikelihood: number;
  converged: boolean;
  standardErrors: HomogeneousSpendParams | null;
  iterations: number;
  message: string;
}

export interface SpendModelFit {
  /** The model to score spend with, or null (each customer's own mean then). */
  model: SpendModel | null;
  /** Log-likelihood of `model` (of the full fit when model is null). */
  logLikelihood: number;
  /** True when `model` is a valid maximum-likelihood fit. */
  converged: boolean;
  message: string;
  /** The unrestricted Gamma-Gamma fit (where its optimiser stopped). */
  full: GammaGammaFit;
  /** The q → ∞ limit, when it was tried (the full fit ran q away). */
  limit: HomogeneousSpendFit | null;
  /** The full model's log-likelihood where its optimiser stopped, evaluated stably (when the limit was tried), else full.logLikelihood. */
  fullLogLikelihood: number;
}

/** A limit is the maximum when its log-likelihood is at least the full fit's, up to this per customer (as bgnbd-limits.ts). */
const LIKELIHOOD_SLACK_PER_CUSTOMER = 1e-6;
const GRADIENT_TOLERANCE = 1e-10;
const MAX_ITERATIONS = 200;
const HESSIAN_STEP = 1e-4;

/** Sufficient statistics of the limit: Σw, Σwx, Σwxm, Σwx ln(mx), Σw ln m, and W per distinct x. */
interface HomogeneousData {
  totalWeight: number;
  sumX: number;
  sumXM: number;
  sumXLogMx: number;
  sumLogM: number;
  /** Σ w x (m − mean)² with mean = Σwxm/Σwx, for the start. */
  spread: number;
  groupX: Float64Array;
  groupWeight: Float64Array;
}

function prepareHomogeneous(data: SpendSummary): HomogeneousData {
  const n = data.x.length;
  const groups = groupDistinct([data.x], n);
  const groupX = new Float64Array(groups.groupCount);
  for (let g = 0; g < groups.groupCount; g++) groupX[g] = data.x[groups.firstRow[g]];
  const groupWeight = new Float64Array(groups.groupCount);
  let totalWeight = 0;
  let sumX = 0;
  let sumXM = 0;
  let sumXLogMx = 0;
  let sumLogM = 0;
  for (let i = 0; i < n; i++) {
    const w = data.weight ? data.weight[i] : 1;
    if (w === 0) continue;
    const x = data.x[i];
    const m = data.m[i];
    groupWeight[groups.groupOf[i]] += w;
    totalWeight += w;
    sumX += w * x;
    sumXM += w * x * m;
    sumXLogMx += w * x * Math.log(m * x);
    sumLogM += w * Math.log(m);
  }
  const mean = sumXM / sumX;
  let spread = 0;
  for (let i = 0; i < n; i++) {
    const w = data.weight ? data.weight[i] : 1;
    spread += w * data.x[i] * (data.m[i] - mean) ** 2;
  }
  return { totalWeight, sumX, sumXM, sumXLogMx, sumLogM, spread, groupX, groupWeight };
}

/** Log-likelihood at θ = (ln p, ln ν); writes ∂/∂θ into `gradient`. */
function evaluateHomogeneous(d: HomogeneousData, theta: ArrayLike<number>, gradient: Float64Array): number {
  const p = Math.exp(theta[0]);
  const nu = Math.exp(theta[1]);
  const logNu = theta[1];
  let ll = p * logNu * d.sumX + p * d.sumXLogMx - d.sumLogM - nu * d.sumXM;
  let dP = d.sumX * logNu + d.sumXLogMx;
  for (let g = 0; g < d.groupX.length; g++) {
    const x = d.groupX[g];
    const W = d.groupWeight[g];
    if (W === 0) continue;
    ll -= W * lgamma(p * x);
    dP -= W * x * digamma(p * x);
  }
  gradient[0] = p * dP;
  gradient[1] = p * d.sumX - nu * d.sumXM;
  return ll;
}

/** Σ w ln f(m | p, ν, x) of the homogeneous-spend limit, row by row (the definition; the fit uses sufficient statistics). */
export function homogeneousSpendLogLikelihood(params: HomogeneousSpendParams, data: SpendSummary): number {
  const { p, nu } = params;
  if (!(p > 0) || !(nu > 0) || !Number.isFinite(p) || !Number.isFinite(nu)) throw new RangeError(`homogeneous spend parameters must be finite and > 0 (got p=${p}, nu=${nu})`);
  const problem = validateSpendSummary(data);
  if (problem !== null) throw new RangeError(`homogeneousSpendLogLikelihood: ${problem}`);
  let total = 0;
  for (let i = 0; i < data.x.length; i++) {
    const w = data.weight ? data.weight[i] : 1;
    if (w === 0) continue;
    const x = data.x[i];
    const m = data.m[i];
    const px = p * x;
    total += w * (px * Math.log(nu) + px * Math.log(m * x) - Math.log(m) - nu * x * m - lgamma(px));
  }
  return total;
}

/**
 * The p maximising the profile ℓ(p, ν̂(p)), ν̂(p) = p Σwx/Σwxm: the root of its derivative
 * Σwx ln ν̂(p) + Σwx ln(mx) − Σ_x W_x x ψ(px), which decreases strictly in p (see the header), by
 * bisection in ln p to rounding. null when no sign change is found (all means equal: p → ∞).
 */
function profileMaximum(d: HomogeneousData): number | null {
  const slope = (p: number): number => {
    let value = d.sumX * Math.log((p * d.sumX) / d.sumXM) + d.sumXLogMx;
    for (let g = 0; g < d.groupX.length; g++) if (d.groupWeight[g] > 0) value -= d.groupWeight[g] * d.groupX[g] * digamma(p * d.groupX[g]);
    return value;
  };
  let lo = 1;
  let hi = 1;
  for (let i = 0; i < 60 && !(slope(lo) > 0); i++) lo /= 4;
  for (let i = 0; i < 60 && !(slope(hi) < 0); i++) hi *= 4;
  if (!(slope(lo) > 0) || !(slope(hi) < 0)) return null;
  for (let i = 0; i < 200 && hi / lo - 1 > 1e-15; i++) {
    const mid = Math.sqrt(lo * hi);
    if (slope(mid) > 0) lo = mid;
    else hi = mid;
  }
  return Math.sqrt(lo * hi);
}

/**
 * Maximum-likelihood fit of the homogeneous-spend limit (valid data with positive weight):
 * BFGS on (ln p, ln ν) from a moment start — the profile is concave, so one start suffices;
 * standard errors from the observed information (delta method from the log scale).
 */
export function fitHomogeneousSpend(data: SpendSummary): HomogeneousSpendFit {
  const d = prepareHomogeneous(data);
  const mean = d.sumXM / d.sumX;
  // Var(m | x) = p/(ν² x): Σ w x (m − mean)² / Σw estimates p/ν² = mean²/p.
  const p0 = d.spread > 0 ? Math.min(1e6, Math.max(1e-3, (mean * mean * d.totalWeight) / d.spread)) : 1;
  const scale = 1 / d.totalWeight;
  const objective = (theta: Float64Array, gradient: Float64Array): number => {
    const ll = evaluateHomogeneous(d, theta, gradient);
    gradient[0] *= -scale;
    gradient[1] *= -scale;
    return -ll * scale;
  };
  // Started at the profile's maximum (ν̂(p) in closed form, the concave profile's root in p by
  // bisection): BFGS on (ln p, ln ν) from the moment start stalled before the tolerance when a few
  // frequent buyers hold most transactions (the objective, per customer, flattens below its
  // rounding there: "line search could not decrease the objective").
  const pStart = profileMaximum(d) ?? p0;
  const run = minimizeBfgs(objective, [Math.log(pStart), Math.log((pStart * d.sumX) / d.sumXM)], { gradientTolerance: GRADIENT_TOLERANCE, maxIterations: MAX_ITERATIONS });
  const params = { p: Math.exp(run.x[0]), nu: Math.exp(run.x[1]) };
  const logLikelihood = -run.f * d.totalWeight;
  const gradientAt = (at: Float64Array) => {
    const g = new Float64Array(2);
    objective(at, g);
    return g;
  };
  const covariance = invertSymmetric(numericHessian(gradientAt, run.x, HESSIAN_STEP).map((row) => row.map((h) => h * d.totalWeight)));
  const base = { params, logLikelihood, iterations: run.iterations };
  if (!run.converged) return { ...base, converged: false, standardErrors: null, message: `optimiser did not converge: ${run.message}` };
  if (covariance === null) return { ...base, converged: false, standardErrors: null, message: 'observed information matrix is not positive definite' };
  return {
    ...base,
    converged: true,
    standardErrors: { p: params.p * Math.sqrt(covariance[0][0]), nu: params.nu * Math.sqrt(covariance[1][1]) },
    message: 'converged',
  };
}

/** Below this q, ln Γ(q + a) − ln Γ(q) straight from lgamma loses nothing that matters (ln Γ(1e4) ≈ 8e4). */
const LGAMMA_RATIO_DIRECT = 1e4;

/**
 * ln Γ(q + a) − ln Γ(q) for a ≥ 0 without the cancellation of two huge lgammas at large q: from
 * Stirling's series, (q − ½) ln(1 + a/q) + a ln(q + a) − a + 1/(12(q+a)) − 1/(12q) (next terms
 * O(q⁻³), below 1e-14 here).
 */
function lgammaRatio(q: number, a: number): number {
  if (q < LGAMMA_RATIO_DIRECT) return lgamma(q + a) - lgamma(q);
  return (q - 0.5) * Math.log1p(a / q) + a * Math.log(q + a) - a + 1 / (12 * (q + a)) - 1 / (12 * q);
}

/**
 * The Gamma-Gamma log-likelihood evaluated so that it stays accurate as q → ∞ (where the fit's
 * grouped evaluation, gamma-gamma.ts, cancels terms of size q ln v: garbage past q ≈ 1e10):
 *   ln f = [ln Γ(px+q) − ln Γ(q) − px ln v] − ln Γ(px) + px ln(mx) − ln m − (px+q) ln(1 + mx/v),
 * every term O(1) per customer. One log1p per row: used once per fit, to compare the full model
 * where its optimiser stopped with the limit (and by the tests).
 */
export function gammaGammaLogLikelihoodStable(params: GammaGammaParams, data: SpendSummary): number {
  const { p, q, v } = params;
  const logV = Math.log(v);
  let total = 0;
  for (let i = 0; i < data.x.length; i++) {
    const w = data.weight ? data.weight[i] : 1;
    if (w === 0) continue;
    const x = data.x[i];
    const m = data.m[i];
    const px = p * x;
    total += w * (lgammaRatio(q, px) - px * logV - lgamma(px) + px * Math.log(m * x) - Math.log(m) - (px + q) * Math.log1p((m * x) / v));
  }
  return total;
}

/**
 * Maximum-likelihood fit of the Gamma-Gamma family: the Gamma-Gamma when its maximum is inside
 * (with a finite population mean, q > 1), its homogeneous-spend limit when the maximum is at
 * q → ∞ (see the header), else no model. Never throws on data.
 */
export function fitSpendModel(data: SpendSummary, opts: GammaGammaFitOptions = {}): SpendModelFit {
  const full = fitGammaGamma(data, opts);
  if (full.converged && full.finiteMean) {
    return { model: { boundary: null, params: full.params }, logLikelihood: full.logLikelihood, converged: true, message: full.message, full, limit: null, fullLogLikelihood: full.logLikelihood };
  }
  const failed = (message: string, limit: HomogeneousSpendFit | null, fullLogLikelihood = full.logLikelihood): SpendModelFit => ({
    model: null,
    logLikelihood: fullLogLikelihood,
    converged: false,
    message,
    full,
    limit,
    fullLogLikelihood,
  });
  // Only the q → ∞ direction has a modelled limit; invalid or degenerate data have none either.
  if (!Number.isFinite(full.logLikelihood) || !(full.params.q > GAMMA_GAMMA_RUNAWAY_MAX)) return failed(full.message, null);
  const limit = fitHomogeneousSpend(data);
  // The full model's value where its optimiser stopped, evaluated stably (its own figure is
  // inaccurate at the huge q it ran to; seen ±1e4 off at q ≈ 1e12 on 50,000 customers).
  const fullLogLikelihood = gammaGammaLogLikelihoodStable(full.params, data);
  const slack = LIKELIHOOD_SLACK_PER_CUSTOMER * full.customers;
  const limitIsMaximum = limit.converged && limit.logLikelihood >= fullLogLikelihood - slack;
  // Not the limit, but an interior maximum at large q: the optimiser converged (its gradient
  // vanished) at a q past the runaway bound, with a finite mean, nothing else run away, and a
  // likelihood beyond the limit's — the supremum is not at q = ∞. It is the Gamma-Gamma's fit;
  // only its standard errors are missing (the information along the q-v ridge is numerically
  // singular there), so it scores spend without a spend term in the intervals.
  if (!limitIsMaximum && limit.converged && full.optimiserConverged && full.finiteMean && full.runaway.every((name) => name === 'q' || name === 'v')) {
    const weight = full.params.p / (full.params.p + full.params.q - 1);
    return {
      model: { boundary: null, params: full.params },
      logLikelihood: fullLogLikelihood,
      converged: true,
      message:
        `maximum inside at large q (q = ${full.params.q.toPrecision(4)}): log-likelihood ${fullLogLikelihood.toFixed(2)} against ${limit.logLikelihood.toFixed(2)} at the homogeneous-spend limit (q → ∞); ` +
        `fitted as the Gamma-Gamma, near that limit (weight on a customer's own mean p·x/(p·x+q−1) = ${weight.toPrecision(2)} at x = 1); no standard errors (${full.message})`,
      full,
      limit,
      fullLogLikelihood,
    };
  }
  if (!limitIsMaximum) {
    const why = limit.converged
      ? `its homogeneous-spend limit reaches log-likelihood ${limit.logLikelihood.toFixed(2)}, below the ${fullLogLikelihood.toFixed(2)} the full model was approaching`
      : `its homogeneous-spend limit did not fit (${limit.message})`;
    return failed(`${full.message}; ${why}`, limit, fullLogLikelihood);
  }
  return {
    model: { boundary: 'homogeneous_spend', params: limit.params },
    logLikelihood: limit.logLikelihood,
    converged: true,
    message:
      'maximum at the homogeneous-spend limit (q → ∞ with v/(q−1) fixed: one transaction-value rate ν for all, every customer\'s expected spend the population mean p/ν); ' +
      `fitted as that model (${limit.message}); unrestricted Gamma-Gamma: ${full.message}`,
    full,
    limit,
    fullLogLikelihood,
  };
}

/** The population mean transaction value: p v/(q−1) (Infinity if q <= 1), or p/ν at the limit. */
export function spendModelPopulationMean(model: SpendModel): number {
  if (model.boundary === 'homogeneous_spend') return model.params.p / model.params.nu;
  return model.params.q > 1 ? (model.params.p * model.params.v) / (model.params.q - 1) : Infinity;
}

/**
 * E[Z | x, m] under `model`: the Gamma-Gamma posterior mean p (v + x m)/(px + q − 1)
 * (gamma-gamma.ts), or at the homogeneous-spend limit its limit p/ν whatever the history.
 */
export function spendModelExpectedValue(model: SpendModel, x: number, m: number): number {
  if (model.boundary === 'homogeneous_spend') return x >= 0 ? model.params.p / model.params.nu : NaN;
  return conditionalExpectedValue(model.params, x, m);
}
