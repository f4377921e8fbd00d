/**
 * BG/BB ("beta-geometric / beta-Bernoulli") model of repeat transactions at discrete
 * opportunities: Fader, Hardie & Berger (2010), "Customer-Base Analysis with Discrete-Time
 * Transaction Data", Marketing Science 29(6), 1086–1108.
 *
 * For businesses where a transaction can only happen at fixed occasions — yearly donations,
 * annual events, monthly billing — rather than at any moment.
 *
 * Assumptions (per customer; opportunity 0 is the first transaction, then opportunities
 * 1, 2, …, n are observed):
 *  1. While active, the customer transacts at each opportunity with probability p
 *     (Bernoulli); p ~ Beta(α, β).
 *  2. An active customer becomes inactive at the beginning of each opportunity with probability
 *     θ (so the lifetime is geometric) and stays inactive; θ ~ Beta(γ, δ), independent of p.
 *
 * Data per customer: x transactions in the n opportunities after the first, the last at
 * opportunity t_x (0 when x = 0); x <= t_x <= n, integers. In this module an `RfmSummary`'s
 * `T` holds n (see rfm-data.ts: the same compressed input as the continuous-time models).
 *
 * Likelihood (the paper's, section 2), B the beta function:
 *   L = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
 *     + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)
 * — alive through opportunity n, or alive through t_x + i and gone at t_x + i + 1. Each term is
 * summed in log space (log-sum-exp); the gradient is analytic: ∂ ln B(u, v)/∂u = ψ(u) − ψ(u+v).
 *
 * Per customer (the paper's P(alive) and conditional expectation):
 *   P(alive at opportunity n+1 | x, t_x, n) = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n+1)/B(γ,δ) / L
 *   E[transactions in n+1 … n+n* | x, t_x, n]
 *     = Σ_{k=1}^{n*} B(α+x+1, β+n−x)/B(α,β) · B(γ, δ+n+k)/B(γ,δ) / L,
 * the finite sum behind the paper's closed form for it (which divides by γ − 1 and loses every digit
 * at γ ≈ 1). P(no transaction in n+1 … n+n*): the customers already gone, plus those alive at n
 * who leave after j more silent opportunities or stay silent through all n*:
 *   [L − alive-term + Σ_{j=0}^{n*−1} B(α+x, β+n−x+j) B(γ+1, δ+n+j) / (B(α,β) B(γ,δ))
 *                   + B(α+x, β+n−x+n*) B(γ, δ+n+n*) / (B(α,β) B(γ,δ))] / L.
 *
 * Inspired by the paper and by the documentation of BTYD and lifetimes; no code was taken.
 */
import { failedMle, fitMaximumLikelihood, positiveRows, type MleFit, type MleOptions, type ParameterSpace } from './mle.js';
import type { RfmSummary } from './rfm-data.js';
import { digamma, lgamma } from './special.js';

export interface BgBbParams {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
}

export type BgBbFit = MleFit<BgBbParams>;

const NAMES = ['alpha', 'beta', 'gamma', 'delta'] as const;

function assertParams(p: BgBbParams): void {
  for (const name of NAMES) {
    if (!(p[name] > 0) || !Number.isFinite(p[name])) throw new RangeError(`BG/BB parameter ${name} must be finite and > 0 (got ${p[name]})`);
  }
}

const lbeta = (u: number, v: number): number => lgamma(u) + lgamma(v) - lgamma(u + v);

/** The first problem that makes `data` unusable for the BG/BB (x <= t_x <= n integers), or null. */
export function validateBgBbData(data: RfmSummary): string | null {
  const n = data.x.length;
  if (data.tx.length !== n || data.T.length !== n || data.weight.length !== n) return 'x, tx, n (T) and weight must have the same length';
  for (let i = 0; i < n; i++) {
    const [x, tx, periods, w] = [data.x[i], data.tx[i], data.T[i], data.weight[i]];
    if (![x, tx, periods].every(Number.isInteger)) return `row ${i}: x, t_x and n must be integers (got ${x}, ${tx}, ${periods})`;
    if (!(x >= 0 && x <= tx && tx <= periods)) return `row ${i}: need 0 <= x <= t_x <= n (got x=${x}, t_x=${tx}, n=${periods})`;
    if (x === 0 && tx !== 0) return `row ${i}: t_x must be 0 when x = 0 (got ${tx})`;
    if (!(w >= 0) || !Number.isFinite(w)) return `row ${i}: weight must be finite and >= 0 (got ${w})`;
  }
  return null;
}

/**
 * The log-likelihood terms of one history: ln of each term of L (the alive one first) with the
 * exponents (a, b) and (c, d) of its two beta functions, B(α+a, β+b) B(γ+c, δ+d).
 */
interface Term {
  log: number;
  a: number;
  b: number;
  c: number;
  d: number;
}

function terms(p: BgBbParams, x: number, tx: number, n: number): Term[] {
  const base = -lbeta(p.alpha, p.beta) - lbeta(p.gamma, p.delta);
  const out: Term[] = [{ log: base + lbeta(p.alpha + x, p.beta + n - x) + lbeta(p.gamma, p.delta + n), a: x, b: n - x, c: 0, d: n }];
  for (let i = 0; i < n - tx; i++) {
    out.push({ log: base + lbeta(p.alpha + x, p.beta + tx - x + i) + lbeta(p.gamma + 1, p.delta + tx + i), a: x, b: tx - x + i, c: 1, d: tx + i });
  }
  return out;
}

function logSum(values: number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (const v of values) s += Math.exp(v - max);
  return max + Math.log(s);
}

/** ln L(α, β, γ, δ | x, t_x, n) of one history. */
export function bgbbLogLikelihoodOne(params: BgBbParams, x: number, tx: number, n: number): number {
  assertParams(params);
  return logSum(terms(params, x, tx, n).map((t) => t.log));
}

/** Σ weight · ln L over compressed (x, t_x, n = T, weight) rows. */
export function bgbbLogLikelihood(params: BgBbParams, data: RfmSummary): number {
  let total = 0;
  for (let i = 0; i < data.x.length; i++) if (data.weight[i] > 0) total += data.weight[i] * bgbbLogLikelihoodOne(params, data.x[i], data.tx[i], data.T[i]);
  return total;
}

function evaluate(data: RfmSummary, rows: Uint32Array, theta: Float64Array, gradient: Float64Array): number {
  const p: BgBbParams = { alpha: Math.exp(theta[0]), beta: Math.exp(theta[1]), gamma: Math.exp(theta[2]), delta: Math.exp(theta[3]) };
  const psiAB = digamma(p.alpha + p.beta);
  const psiGD = digamma(p.gamma + p.delta);
  const dBase = [psiAB - digamma(p.alpha), psiAB - digamma(p.beta), psiGD - digamma(p.gamma), psiGD - digamma(p.delta)];
  const g = [0, 0, 0, 0];
  let total = 0;
  for (const i of rows) {
    const w = data.weight[i];
    const list = terms(p, data.x[i], data.tx[i], data.T[i]);
    const logL = logSum(list.map((t) => t.log));
    total += w * logL;
    for (const t of list) {
      const share = w * Math.exp(t.log - logL);
      const psi1 = digamma(p.alpha + t.a + p.beta + t.b);
      const psi2 = digamma(p.gamma + t.c + p.delta + t.d);
      g[0] += share * (digamma(p.alpha + t.a) - psi1 + dBase[0]);
      g[1] += share * (digamma(p.beta + t.b) - psi1 + dBase[1]);
      g[2] += share * (digamma(p.gamma + t.c) - psi2 + dBase[2]);
      g[3] += share * (digamma(p.delta + t.d) - psi2 + dBase[3]);
    }
  }
  gradient[0] = g[0] * p.alpha;
  gradient[1] = g[1] * p.beta;
  gradient[2] = g[2] * p.gamma;
  gradient[3] = g[3] * p.delta;
  return total;
}

/** Gradient of the weighted log-likelihood in the natural parameters (for tests). */
export function bgbbLogLikelihoodGradient(params: BgBbParams, data: RfmSummary): BgBbParams {
  assertParams(params);
  const g = new Float64Array(4);
  const theta = Float64Array.from(NAMES.map((n) => Math.log(params[n])));
  evaluate(data, positiveRows(data.weight), theta, g);
  return { alpha: g[0] / params.alpha, beta: g[1] / params.beta, gamma: g[2] / params.gamma, delta: g[3] / params.delta };
}

const SPACE: ParameterSpace<BgBbParams> = { names: NAMES, logScales: [0, 0, 0, 0] };

/**
 * Maximum-likelihood fit of the BG/BB to compressed (x, t_x, n, weight) histories (n in `T`):
 * BFGS on the log-parameters with the analytic gradient from four starts, standard errors from
 * the observed information (mle.ts). Never throws on bad data.
 */
export function fitBgBb(data: RfmSummary, opts: MleOptions & { extraStarts?: BgBbParams[] } = {}): BgBbFit {
  const problem = validateBgBbData(data);
  if (problem !== null) return failedMle(SPACE, `invalid input: ${problem}`, data.x.length, NaN);
  const rows = positiveRows(data.weight);
  let customers = 0;
  let opportunities = 0;
  for (const i of rows) {
    customers += data.weight[i];
    opportunities += data.weight[i] * data.T[i];
  }
  if (rows.length === 0) return failedMle(SPACE, 'no customers (no rows with positive weight)', 0, 0);
  if (!(opportunities > 0)) return failedMle(SPACE, 'every customer has n = 0: no transaction opportunity to learn from', rows.length, customers);
  const starts: BgBbParams[] = [
    { alpha: 1, beta: 1, gamma: 1, delta: 1 },
    { alpha: 0.5, beta: 0.5, gamma: 0.5, delta: 3 },
    { alpha: 2, beta: 1, gamma: 1, delta: 5 },
    { alpha: 0.3, beta: 2, gamma: 2, delta: 0.5 },
    ...(opts.extraStarts ?? []),
  ];
  return fitMaximumLikelihood(SPACE, { customers, evaluate: (t, g) => evaluate(data, rows, t, g) }, starts, rows.length, opts);
}

function assertHistory(x: number, tx: number, n: number): void {
  if (![x, tx, n].every(Number.isInteger) || !(x >= 0 && x <= tx && tx <= n) || (x === 0 && tx !== 0)) {
    throw new RangeError(`BG/BB history must have integers 0 <= x <= t_x <= n (t_x = 0 when x = 0), got x=${x}, t_x=${tx}, n=${n}`);
  }
}

function assertHorizon(periods: number): void {
  if (!Number.isInteger(periods) || periods < 0) throw new RangeError(`BG/BB horizon must be a whole number of opportunities >= 0 (got ${periods})`);
}

/** P(alive at opportunity n+1 | x, t_x, n) (the paper's P(alive)). */
export function bgbbPAlive(params: BgBbParams, x: number, tx: number, n: number): number {
  assertParams(params);
  assertHistory(x, tx, n);
  const { alpha, beta, gamma, delta } = params;
  const logAlive = lbeta(alpha + x, beta + n - x) - lbeta(alpha, beta) + lbeta(gamma, delta + n + 1) - lbeta(gamma, delta);
  return Math.exp(logAlive - bgbbLogLikelihoodOne(params, x, tx, n));
}

/** E[transactions in opportunities n+1 … n+periods | x, t_x, n] (the paper's conditional expectation, as a finite sum). */
export function bgbbConditionalExpectedPurchases(params: BgBbParams, periods: number, x: number, tx: number, n: number): number {
  // The sum of the per-opportunity probabilities, in order (bgbbPurchaseProbabilities has the terms).
  let sum = 0;
  for (const p of bgbbPurchaseProbabilities(params, periods, x, tx, n)) sum += p;
  return sum;
}

/** E[X(n)]: expected transactions in the first n opportunities of a new customer (as a finite sum). */
export function bgbbExpectedPurchases(params: BgBbParams, periods: number): number {
  return bgbbConditionalExpectedPurchases(params, periods, 0, 0, 0);
}

/** P(no transaction in opportunities n+1 … n+periods | x, t_x, n); see the header. */
export function bgbbPNoPurchase(params: BgBbParams, periods: number, x: number, tx: number, n: number): number {
  assertParams(params);
  assertHistory(x, tx, n);
  assertHorizon(periods);
  const { alpha, beta, gamma, delta } = params;
  const list = terms(params, x, tx, n);
  const logL = logSum(list.map((t) => t.log));
  const base = -lbeta(alpha, beta) - lbeta(gamma, delta);
  const parts = list.slice(1).map((t) => t.log);
  for (let j = 0; j < periods; j++) parts.push(base + lbeta(alpha + x, beta + n - x + j) + lbeta(gamma + 1, delta + n + j));
  parts.push(base + lbeta(alpha + x, beta + n - x + periods) + lbeta(gamma, delta + n + periods));
  return Math.min(1, Math.exp(logSum(parts) - logL));
}

/** P(X(n) = k): the probability that a new customer makes k transactions in n opportunities (the paper's P(X(n) = x)). */
export function bgbbProbabilityOfNPurchases(params: BgBbParams, periods: number, k: number): number {
  assertParams(params);
  assertHorizon(periods);
  if (!Number.isInteger(k) || k < 0 || k > periods) return 0;
  const { alpha, beta, gamma, delta } = params;
  const base = -lbeta(alpha, beta) - lbeta(gamma, delta);
  const logChoose = (m: number, j: number) => lgamma(m + 1) - lgamma(j + 1) - lgamma(m - j + 1);
  // Alive through n with k of n; or gone at opportunity i+1 (i = k … n−1) with k of the first i.
  const parts = [logChoose(periods, k) + base + lbeta(alpha + k, beta + periods - k) + lbeta(gamma, delta + periods)];
  for (let i = k; i < periods; i++) parts.push(logChoose(i, k) + base + lbeta(alpha + k, beta + i - k) + lbeta(gamma + 1, delta + i));
  return Math.exp(logSum(parts));
}

/**
 * Σ_{k=1}^{discount.length} P(transaction at opportunity n+k | x, t_x, n) · discount[k−1]: the
 * expected transactions of the next opportunities, each weighted by its discount factor (the run
 * values opportunity k at the end of its period). With every factor 1 it is the conditional
 * expectation over discount.length opportunities.
 */
export function bgbbDiscountedExpectedPurchases(params: BgBbParams, discount: ArrayLike<number>, x: number, tx: number, n: number): number {
  const p = bgbbPurchaseProbabilities(params, discount.length, x, tx, n);
  let sum = 0;
  for (let k = 0; k < p.length; k++) sum += discount[k] * p[k];
  return sum;
}

/**
 * P(transaction at opportunity n+k | x, t_x, n) for k = 1 … periods: the terms of the
 * conditional expectation (their sum), one per future opportunity (crm forecast's periods).
 */
export function bgbbPurchaseProbabilities(params: BgBbParams, periods: number, x: number, tx: number, n: number): Float64Array {
  assertParams(params);
  assertHistory(x, tx, n);
  assertHorizon(periods);
  const { alpha, beta, gamma, delta } = params;
  const logL = bgbbLogLikelihoodOne(params, x, tx, n);
  const transact = lbeta(alpha + x + 1, beta + n - x) - lbeta(alpha, beta) - lbeta(gamma, delta);
  const out = new Float64Array(periods);
  for (let k = 1; k <= periods; k++) out[k - 1] = Math.exp(transact + lbeta(gamma, delta + n + k) - logL);
  return out;
}

/** Per-history predictions over `periods` opportunities (n in `T`). */
export function predictBgBb(params: BgBbParams, data: RfmSummary, periods: number) {
  const n = data.x.length;
  const out = { pAlive: new Float64Array(n), expectedPurchases: new Float64Array(n), pNoPurchase: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    out.pAlive[i] = bgbbPAlive(params, data.x[i], data.tx[i], data.T[i]);
    out.expectedPurchases[i] = bgbbConditionalExpectedPurchases(params, periods, data.x[i], data.tx[i], data.T[i]);
    out.pNoPurchase[i] = bgbbPNoPurchase(params, periods, data.x[i], data.tx[i], data.T[i]);
  }
  return out;
}
