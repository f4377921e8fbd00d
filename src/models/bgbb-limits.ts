/**
 * The BG/BB (bgbb.ts; Fader, Hardie & Berger 2010) at the boundary of its parameter space, and
 * the fit that covers it — the discrete-time counterpart of bgnbd-limits.ts.
 *
 * On data in which nobody is seen to leave, the BG/BB likelihood is maximised where the dropout
 * probability θ ~ Beta(γ, δ) concentrates at 0 (γ → 0, δ → ∞, γ/(γ+δ) → 0): the optimiser runs
 * away and the fit is unconverged. That limit is itself a proper model and, when the data put
 * the maximum there, it IS the maximum-likelihood fit (the supremum over the closure of the
 * parameter space):
 *
 *  no_dropout (beta-binomial, nobody leaves). With θ concentrated at 0,
 *    B(γ, δ+d)/B(γ, δ) = E[(1−θ)^d] → 1  (alive through opportunity d), and
 *    B(γ+1, δ+d)/B(γ, δ) = E[θ(1−θ)^d] ≤ E[θ] = γ/(γ+δ) → 0  (gone right after d),
 *  so every dropout term of the BG/BB likelihood vanishes and
 *    L = B(α+x, β+n−x)/B(α, β),   parameters α, β
 *  (the beta-binomial likelihood of one sequence with x transactions in n opportunities; t_x
 *  no longer matters). Per customer, given the history p | x, n ~ Beta(α+x, β+n−x) (Bayes with a
 *  Beta prior and n Bernoulli trials), and nobody has left:
 *    P(alive at n+1) = 1;
 *    P(transaction at n+k) = E[p | x, n] = (α+x)/(α+β+n) for every k ≥ 1;
 *    E[transactions in n+1 … n+n*] = n*·(α+x)/(α+β+n);
 *    P(no transaction in n+1 … n+n*) = E[(1−p)^n* | x, n] = B(α+x, β+n−x+n*)/B(α+x, β+n−x).
 *  Each is the limit of the BG/BB's own expression (bgbb.ts header): dividing numerator and
 *  denominator by B(α,β) and letting the γ, δ factors go to 1 (alive) or 0 (dropout terms), e.g.
 *  P(transaction at n+k) = B(α+x+1, β+n−x)·1 / B(α+x, β+n−x) = (α+x)/(α+β+n).
 *
 * Which limits are here: on the bench's 1M-line synthetic store in months the unrestricted fit
 * runs to γ ≈ 2e−6, δ ≈ 3e4 with α ≈ 2.7, β ≈ 61 (so p stays heterogeneous: no homogeneous_p),
 * i.e. the no_dropout limit; the other boundaries (α, β → ∞: one p for all; γ, δ → ∞: one θ for
 * all) were not reached on the data we have, and are not modelled: a fit that runs there stays
 * unconverged (the run falls back, with the reason).
 *
 * `fitBgBbFamily` fits the full BG/BB first; only when it does not converge to an interior
 * maximum does it fit the no-dropout limit (maximum likelihood over α, β, standard errors and the
 * covariance of ln α, ln β from the observed information, mle.ts) and use it, provided its
 * log-likelihood is at least the full model's where the optimiser stopped (up to
 * LIKELIHOOD_SLACK_PER_CUSTOMER): it is the supremum the full model was running towards.
 */
import {
  bgbbDiscountedExpectedPurchases,
  bgbbLogLikelihood,
  bgbbPurchaseProbabilities,
  fitBgBb,
  predictBgBb,
  validateBgBbData,
  type BgBbFit,
  type BgBbParams,
} from './bgbb.js';
import { failedMle, fitMaximumLikelihood, positiveRows, type MleFit, type MleOptions, type ParameterSpace } from './mle.js';
import { groupPairs, type RfmSummary } from './rfm-data.js';
import { digamma, lgamma } from './special.js';

/** The boundary of the BG/BB parameter space whose limit is modelled (see the header). */
export type BgBbBoundary = 'no_dropout';

/** The no-dropout limit's parameters: p ~ Beta(α, β), nobody leaves. */
export interface BgBbNoDropoutParams {
  alpha: number;
  beta: number;
}

/** A fitted BG/BB: the model itself (boundary null) or its no-dropout limit. */
export type BgBbModel = { boundary: null; params: BgBbParams } | { boundary: 'no_dropout'; params: BgBbNoDropoutParams };

const INTERIOR_NAMES = ['alpha', 'beta', 'gamma', 'delta'] as const;
const NO_DROPOUT_NAMES = ['alpha', 'beta'] as const;

/** The model's own parameters in the order of its θ = ln params (and of its covariance). */
export function bgbbModelParameterNames(model: BgBbModel): readonly ('alpha' | 'beta' | 'gamma' | 'delta')[] {
  return model.boundary === null ? INTERIOR_NAMES : NO_DROPOUT_NAMES;
}

/**
 * The model stored as parameters (a run's runs.purchase_model or run_intervals.purchase_params):
 * the no-dropout limit when γ and δ are absent or null (its boundary says so), else the BG/BB.
 */
export function bgbbModelOf(stored: Record<string, unknown>): BgBbModel {
  const num = (k: string) => stored[k] as number;
  const interior = stored.boundary !== 'no_dropout' && typeof stored.gamma === 'number' && typeof stored.delta === 'number';
  return interior
    ? { boundary: null, params: { alpha: num('alpha'), beta: num('beta'), gamma: num('gamma'), delta: num('delta') } }
    : { boundary: 'no_dropout', params: { alpha: num('alpha'), beta: num('beta') } };
}

/** The same model with each named parameter multiplied by its factor (the delta method's steps). */
export function bgbbModelScaled(model: BgBbModel, name: string, factor: number): BgBbModel {
  const params = { ...model.params, [name]: (model.params as unknown as Record<string, number>)[name] * factor };
  return { boundary: model.boundary, params } as BgBbModel;
}

const lbeta = (u: number, v: number): number => lgamma(u) + lgamma(v) - lgamma(u + v);

function assertNoDropout(p: BgBbNoDropoutParams): void {
  for (const name of NO_DROPOUT_NAMES) {
    if (!(p[name] > 0) || !Number.isFinite(p[name])) throw new RangeError(`BG/BB parameter ${name} must be finite and > 0 (got ${p[name]})`);
  }
}

function assertHistory(x: number, tx: number, n: number): void {
  if (![x, tx, n].every(Number.isInteger) || !(x >= 0 && x <= tx && tx <= n) || (x === 0 && tx !== 0)) {
    throw new RangeError(`BG/BB history must have integers 0 <= x <= t_x <= n (t_x = 0 when x = 0), got x=${x}, t_x=${tx}, n=${n}`);
  }
}

function assertHorizon(periods: number): void {
  if (!Number.isInteger(periods) || periods < 0) throw new RangeError(`BG/BB horizon must be a whole number of opportunities >= 0 (got ${periods})`);
}

// ---------------------------------------------------------------------------------------------
// The no-dropout limit (beta-binomial)
// ---------------------------------------------------------------------------------------------

/** ln L = ln B(α+x, β+n−x) − ln B(α, β) of one history under the no-dropout limit. */
export function noDropoutLogLikelihoodOne(params: BgBbNoDropoutParams, x: number, tx: number, n: number): number {
  assertNoDropout(params);
  assertHistory(x, tx, n);
  return lbeta(params.alpha + x, params.beta + n - x) - lbeta(params.alpha, params.beta);
}

/** Σ weight · ln L under `model` (the BG/BB itself for boundary null). */
export function bgbbModelLogLikelihood(model: BgBbModel, data: RfmSummary): number {
  if (model.boundary === null) return bgbbLogLikelihood(model.params, data);
  let total = 0;
  for (let i = 0; i < data.x.length; i++) if (data.weight[i] > 0) total += data.weight[i] * noDropoutLogLikelihoodOne(model.params, data.x[i], data.tx[i], data.T[i]);
  return total;
}

/** P(transaction at opportunity n+k | x, n) = (α+x)/(α+β+n) under the no-dropout limit (any k). */
function noDropoutPurchaseProbability(p: BgBbNoDropoutParams, x: number, n: number): number {
  return (p.alpha + x) / (p.alpha + p.beta + n);
}

/** P(no transaction in n+1 … n+periods | x, n) = B(α+x, β+n−x+periods)/B(α+x, β+n−x). */
function noDropoutPNoPurchase(p: BgBbNoDropoutParams, periods: number, x: number, n: number): number {
  const a = p.alpha + x;
  const b = p.beta + n - x;
  return Math.exp(lbeta(a, b + periods) - lbeta(a, b));
}

// ---------------------------------------------------------------------------------------------
// Per-customer quantities of either model
// ---------------------------------------------------------------------------------------------

/** P(transaction at opportunity n+k | x, t_x, n) for k = 1 … periods under `model` (crm forecast's periods). */
export function bgbbModelPurchaseProbabilities(model: BgBbModel, periods: number, x: number, tx: number, n: number): Float64Array {
  if (model.boundary === null) return bgbbPurchaseProbabilities(model.params, periods, x, tx, n);
  assertNoDropout(model.params);
  assertHistory(x, tx, n);
  assertHorizon(periods);
  return new Float64Array(periods).fill(noDropoutPurchaseProbability(model.params, x, n));
}

/** Σ_k P(transaction at n+k | x, t_x, n) · discount[k−1] under `model` (bgbb.ts bgbbDiscountedExpectedPurchases). */
export function bgbbModelDiscountedExpectedPurchases(model: BgBbModel, discount: ArrayLike<number>, x: number, tx: number, n: number): number {
  if (model.boundary === null) return bgbbDiscountedExpectedPurchases(model.params, discount, x, tx, n);
  const p = bgbbModelPurchaseProbabilities(model, discount.length, x, tx, n);
  let sum = 0;
  for (let k = 0; k < p.length; k++) sum += discount[k] * p[k];
  return sum;
}

/**
 * Per-history P(alive at the next opportunity), E[transactions in the next `periods`
 * opportunities] and P(none) under `model` (n in `T`); the limit's closed forms per distinct (x, n).
 */
export function predictBgBbModel(model: BgBbModel, data: RfmSummary, periods: number) {
  if (model.boundary === null) return predictBgBb(model.params, data, periods);
  assertNoDropout(model.params);
  assertHorizon(periods);
  const rows = data.x.length;
  const out = { pAlive: new Float64Array(rows).fill(1), expectedPurchases: new Float64Array(rows), pNoPurchase: new Float64Array(rows) };
  const pairs = groupPairs(data.x, data.T);
  const expected = new Float64Array(pairs.groupCount);
  const none = new Float64Array(pairs.groupCount);
  for (let g = 0; g < pairs.groupCount; g++) {
    const row = pairs.firstRow[g];
    expected[g] = periods * noDropoutPurchaseProbability(model.params, data.x[row], data.T[row]);
    none[g] = noDropoutPNoPurchase(model.params, periods, data.x[row], data.T[row]);
  }
  for (let i = 0; i < rows; i++) {
    assertHistory(data.x[i], data.tx[i], data.T[i]);
    out.expectedPurchases[i] = expected[pairs.groupOf[i]];
    out.pNoPurchase[i] = none[pairs.groupOf[i]];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fits
// ---------------------------------------------------------------------------------------------

const NO_DROPOUT_SPACE: ParameterSpace<BgBbNoDropoutParams> = { names: NO_DROPOUT_NAMES, logScales: [0, 0] };

/**
 * Maximum-likelihood fit of the no-dropout limit (beta-binomial) to compressed (x, t_x, n = T,
 * weight) histories: the data summed per distinct (x, n), BFGS on ln α, ln β with the analytic
 * gradient ∂ ln L/∂ ln α = α (ψ(α+x) − ψ(α+β+n) − ψ(α) + ψ(α+β)) (β likewise with n−x).
 */
export function fitBgBbNoDropout(data: RfmSummary, opts: MleOptions = {}): MleFit<BgBbNoDropoutParams> {
  const problem = validateBgBbData(data);
  if (problem !== null) return failedMle(NO_DROPOUT_SPACE, `invalid input: ${problem}`, data.x.length, NaN);
  const pairs = groupPairs(data.x, data.T);
  const gx = new Float64Array(pairs.groupCount);
  const gn = new Float64Array(pairs.groupCount);
  const gw = new Float64Array(pairs.groupCount);
  let customers = 0;
  let transactions = 0;
  let opportunities = 0;
  for (const i of positiveRows(data.weight)) {
    const g = pairs.groupOf[i];
    gx[g] = data.x[i];
    gn[g] = data.T[i];
    gw[g] += data.weight[i];
    customers += data.weight[i];
    transactions += data.weight[i] * data.x[i];
    opportunities += data.weight[i] * data.T[i];
  }
  if (!(customers > 0)) return failedMle(NO_DROPOUT_SPACE, 'no customers (no rows with positive weight)', 0, 0);
  if (!(opportunities > 0)) return failedMle(NO_DROPOUT_SPACE, 'every customer has n = 0: no transaction opportunity to learn from', pairs.groupCount, customers);
  const evaluate = (theta: Float64Array, gradient: Float64Array): number => {
    const alpha = Math.exp(theta[0]);
    const beta = Math.exp(theta[1]);
    const base = lbeta(alpha, beta);
    const psiAB = digamma(alpha + beta);
    const psiA = digamma(alpha);
    const psiB = digamma(beta);
    let ll = 0;
    let da = 0;
    let db = 0;
    for (let g = 0; g < gw.length; g++) {
      const w = gw[g];
      if (w === 0) continue;
      const x = gx[g];
      const n = gn[g];
      ll += w * (lbeta(alpha + x, beta + n - x) - base);
      const psiAll = digamma(alpha + beta + n);
      da += w * (digamma(alpha + x) - psiAll - psiA + psiAB);
      db += w * (digamma(beta + n - x) - psiAll - psiB + psiAB);
    }
    gradient[0] = da * alpha;
    gradient[1] = db * beta;
    return ll;
  };
  // Starts around the method-of-moments mean p̄ = Σx/Σn with a few concentrations α + β.
  const mean = Math.min(0.99, Math.max(0.01, transactions / opportunities));
  const starts = [0.5, 2, 10].map((k) => ({ alpha: mean * k, beta: (1 - mean) * k }));
  return fitMaximumLikelihood(NO_DROPOUT_SPACE, { customers, evaluate }, starts, pairs.groupCount, opts);
}

/** A limit is the maximum when its log-likelihood is at least the full fit's, up to this per customer. */
const LIKELIHOOD_SLACK_PER_CUSTOMER = 1e-6;

export interface BgBbFamilyFit {
  /** The model to predict with, or null when neither the BG/BB nor its limit fits. */
  model: BgBbModel | null;
  /** Weighted log-likelihood of `model` (of the full fit when model is null). */
  logLikelihood: number;
  converged: boolean;
  /** By the model's own parameter names. */
  standardErrors: Record<string, number> | null;
  /** Covariance of the model's ln params (bgbbModelParameterNames' order), or null. */
  covariance: number[][] | null;
  message: string;
  iterations: number;
  customers: number;
  rows: number;
  /** The unrestricted BG/BB fit (where its optimiser stopped). */
  full: BgBbFit;
  /** The no-dropout fit, when the full one did not converge inside. */
  limit: MleFit<BgBbNoDropoutParams> | null;
}

/**
 * Maximum-likelihood fit of the BG/BB family: the BG/BB when its maximum is inside the parameter
 * space, otherwise its no-dropout limit when the likelihood is maximised there (header). Never
 * throws on data; `model` is null (with the reason in `message`) when the data are unusable or
 * the maximum lies at a boundary without a modelled limit.
 */
export function fitBgBbFamily(data: RfmSummary, opts: MleOptions = {}): BgBbFamilyFit {
  const full = fitBgBb(data, opts);
  const base = { customers: full.customers, rows: full.rows, full };
  if (full.converged) {
    const se = full.standardErrors ? { ...(full.standardErrors as unknown as Record<string, number>) } : null;
    return { ...base, model: { boundary: null, params: full.params }, logLikelihood: full.logLikelihood, converged: true, standardErrors: se, covariance: full.covariance, message: full.message, iterations: full.iterations, limit: null };
  }
  const failed = (message: string, limit: MleFit<BgBbNoDropoutParams> | null): BgBbFamilyFit => ({
    ...base,
    model: null,
    logLikelihood: full.logLikelihood,
    converged: false,
    standardErrors: null,
    covariance: null,
    message,
    iterations: full.iterations + (limit?.iterations ?? 0),
    limit,
  });
  if (validateBgBbData(data) !== null || !Number.isFinite(full.logLikelihood)) return failed(full.message, null);
  const limit = fitBgBbNoDropout(data, opts);
  if (!limit.converged) return failed(`${full.message}; the no-dropout limit did not fit either: ${limit.message}`, limit);
  const slack = LIKELIHOOD_SLACK_PER_CUSTOMER * full.customers;
  if (!(limit.logLikelihood >= full.logLikelihood - slack)) {
    return failed(`${full.message}; the no-dropout limit reaches log-likelihood ${limit.logLikelihood.toFixed(2)}, below the ${full.logLikelihood.toFixed(2)} the full model was approaching`, limit);
  }
  return {
    ...base,
    model: { boundary: 'no_dropout', params: limit.params },
    logLikelihood: limit.logLikelihood,
    converged: true,
    standardErrors: { ...(limit.standardErrors as unknown as Record<string, number>) },
    covariance: limit.covariance,
    message: `maximum at the no-dropout limit (gamma/(gamma+delta) → 0: nobody drops out, a beta-binomial); fitted as that model (${limit.message}); unrestricted BG/BB: ${full.message}`,
    iterations: full.iterations + limit.iterations,
    limit,
  };
}
