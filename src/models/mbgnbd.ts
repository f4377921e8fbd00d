/**
 * MBG/NBD ("modified" BG/NBD) model of repeat purchasing: Batislam, Denizel & Filiztekin (2007),
 * "Empirical validation and comparison of models for customer base analysis", International
 * Journal of Research in Marketing 24(3), 201–209 (the same model as Hoppe & Wagner's 2007
 * "central variant" of the BG/NBD).
 *
 * Assumptions (per customer, time from the first purchase):
 *  1. While active, purchases follow a Poisson process with rate λ; λ ~ Gamma(r, rate α).
 *  2. Right after EVERY purchase — the first one included — the customer drops out for good with
 *     probability p; p ~ Beta(a, b), independent of λ.
 * The only change from the BG/NBD (bgnbd.ts) is the dropout chance at time 0, which lets a
 * one-time buyer be gone: in the BG/NBD P(alive) = 1 for every customer without a repeat
 * purchase, however long ago the first one was.
 *
 * Data per customer: x repeat purchases, the last at t_x, observed until T (rfm-data.ts).
 *
 * Likelihood (as in Batislam et al.): with x + 1 dropout chances survived when still active,
 *   L = B(a, b+x+1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
 *     + B(a+1, b+x)/B(a, b)   · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))      (for every x, also 0)
 * so ln L = A(x) − (r+x) ln(α+T) + ln(1 + e^d),  d = ln(a/(b+x)) + (r+x) ln((α+T)/(α+t_x)),
 *   A(x) = ln Γ(r+x) − ln Γ(r) + r ln α + ln Γ(a+b) + ln Γ(b+x+1) − ln Γ(b) − ln Γ(a+b+x+1).
 * The gradient is analytic (digamma; σ(d) = 1/(1+e^−d) is the weight of the dropped-out term).
 *
 * Per customer:
 *   P(alive | x, t_x, T) = 1 / (1 + e^d)
 *   E[Y(t) | x, t_x, T] = P(alive) · (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x)
 *                                      · 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))]
 * An active customer after x repeat purchases has survived x + 1 dropout chances, so its p is
 * Beta(a, b+x+1): the BG/NBD's alive-customer expectation with b + 1 in place of b, which
 * bgnbd.ts evaluates without cancellation (stable at a ≈ 1 and for large x).
 *   P(no purchase in (T, T+t] | x, t_x, T) = 1 − P(alive) + P(alive) ((α+T)/(α+T+t))^(r+x)
 * (dropout only follows a purchase, so an active customer is silent for t with the NBD's
 * probability; λ | x, T ~ Gamma(r+x, α+T)).
 *
 * Inspired by the documentation of BTYDplus and lifetimes; no code was taken from them.
 */
import { expectedPurchasesIfAlive as bgnbdExpectedPurchasesIfAlive } from './bgnbd.js';
import { failedMle, fitMaximumLikelihood, positiveRows, startSubsample, type LogLikelihood, type MleFit, type MleOptions, type ParameterSpace } from './mle.js';
import { groupIntegers, groupPairs, validateRfmSummary, type RfmSummary } from './rfm-data.js';
import { digamma, lgamma, log1pexp } from './special.js';

export interface MbgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export type MbgNbdFit = MleFit<MbgNbdParams>;

/** Above twice this many distinct histories the starts run on a subsample (the BG/NBD's default). */
const DEFAULT_SUBSAMPLE_ROWS = 60_000;

function assertParams(p: MbgNbdParams): void {
  for (const name of ['r', 'alpha', 'a', 'b'] as const) {
    if (!(p[name] > 0) || !Number.isFinite(p[name])) throw new RangeError(`MBG/NBD parameter ${name} must be finite and > 0 (got ${p[name]})`);
  }
}

/** ln of the odds "dropped out" : "active" at T (d of the header). */
function logOddsDropped(p: MbgNbdParams, x: number, tx: number, T: number): number {
  return Math.log(p.a / (p.b + x)) + (p.r + x) * Math.log1p((T - tx) / (p.alpha + tx));
}

/** Weighted MBG/NBD log-likelihood, straight from the header's expression, one row at a time. */
export function mbgnbdLogLikelihood(params: MbgNbdParams, data: RfmSummary): number {
  assertParams(params);
  const { r, alpha, a, b } = params;
  let total = 0;
  for (let i = 0; i < data.x.length; i++) {
    const w = data.weight[i];
    if (!(w > 0)) continue;
    const x = data.x[i];
    const A = lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + lgamma(a + b) + lgamma(b + x + 1) - lgamma(b) - lgamma(a + b + x + 1);
    total += w * (A - (r + x) * Math.log(alpha + data.T[i]) + log1pexp(logOddsDropped(params, x, data.tx[i], data.T[i])));
  }
  return total;
}

interface Prepared {
  rows: Uint32Array;
  data: RfmSummary;
  /** Distinct x values and the x group of each kept row. */
  xValues: Float64Array;
  xGroupOfRow: Uint32Array;
  xWeight: Float64Array;
  customers: number;
  meanT: number;
}

function prepare(data: RfmSummary): Prepared {
  const rows = positiveRows(data.weight);
  const xs = Float64Array.from(rows, (i) => data.x[i]);
  const groups = groupIntegers(xs);
  const xValues = Float64Array.from(groups.firstRow, (k) => xs[k]);
  const xWeight = new Float64Array(groups.groupCount);
  let customers = 0;
  let weightedT = 0;
  rows.forEach((i, k) => {
    xWeight[groups.groupOf[k]] += data.weight[i];
    customers += data.weight[i];
    weightedT += data.weight[i] * data.T[i];
  });
  return { rows, data, xValues, xGroupOfRow: groups.groupOf, xWeight, customers, meanT: customers > 0 ? weightedT / customers : 0 };
}

/** Σ w ln L and its gradient in θ = ln(r, α, a, b). */
function evaluate(prep: Prepared, theta: Float64Array, gradient: Float64Array): number {
  const r = Math.exp(theta[0]);
  const alpha = Math.exp(theta[1]);
  const a = Math.exp(theta[2]);
  const b = Math.exp(theta[3]);
  const { data } = prep;
  let total = 0;
  let gr = 0;
  let ga = 0;
  let gA = 0;
  let gB = 0;
  // Γ terms once per distinct x.
  const psiAB = digamma(a + b);
  const psiR = digamma(r);
  const psiB = digamma(b);
  const constant = -lgamma(r) + r * Math.log(alpha) + lgamma(a + b) - lgamma(b);
  const perX = new Float64Array(prep.xValues.length);
  for (let g = 0; g < prep.xValues.length; g++) {
    const x = prep.xValues[g];
    const w = prep.xWeight[g];
    perX[g] = lgamma(r + x) + lgamma(b + x + 1) - lgamma(a + b + x + 1);
    const psiEnd = digamma(a + b + x + 1);
    gr += w * (digamma(r + x) - psiR + Math.log(alpha));
    gA += w * (psiAB - psiEnd);
    gB += w * (psiAB + digamma(b + x + 1) - psiB - psiEnd);
    ga += (w * r) / alpha;
  }
  for (let k = 0; k < prep.rows.length; k++) {
    const i = prep.rows[k];
    const w = data.weight[i];
    const x = data.x[i];
    const logAT = Math.log(alpha + data.T[i]);
    const logATx = Math.log(alpha + data.tx[i]);
    const d = Math.log(a / (b + x)) + (r + x) * (logAT - logATx);
    const sigma = 1 / (1 + Math.exp(-d));
    total += w * (constant + perX[prep.xGroupOfRow[k]] - (r + x) * logAT + log1pexp(d));
    gr += w * (-logAT + sigma * (logAT - logATx));
    ga += w * (-(r + x) / (alpha + data.T[i]) + sigma * (r + x) * (1 / (alpha + data.T[i]) - 1 / (alpha + data.tx[i])));
    gA += (w * sigma) / a;
    gB -= (w * sigma) / (b + x);
  }
  gradient[0] = gr * r;
  gradient[1] = ga * alpha;
  gradient[2] = gA * a;
  gradient[3] = gB * b;
  return total;
}

/** Gradient of the weighted log-likelihood in the natural parameters (for tests). */
export function mbgnbdLogLikelihoodGradient(params: MbgNbdParams, data: RfmSummary): MbgNbdParams {
  assertParams(params);
  const g = new Float64Array(4);
  evaluate(prepare(data), Float64Array.of(Math.log(params.r), Math.log(params.alpha), Math.log(params.a), Math.log(params.b)), g);
  return { r: g[0] / params.r, alpha: g[1] / params.alpha, a: g[2] / params.a, b: g[3] / params.b };
}

/**
 * Σ w ln L as a function of θ = ln(r, α, a, b) with its analytic gradient (the fit's own
 * evaluation), for the covariate model (covariates.ts), which sums it over covariate cells.
 */
export function mbgnbdLogLikelihoodFunction(data: RfmSummary): LogLikelihood {
  const prep = prepare(data);
  return { customers: prep.customers, evaluate: (theta, gradient) => evaluate(prep, theta, gradient) };
}

function space(meanT: number): ParameterSpace<MbgNbdParams> {
  const logT = Math.log(meanT > 0 ? meanT : 1);
  return { names: ['r', 'alpha', 'a', 'b'], logScales: [0, logT, 0, 0] };
}

/**
 * Maximum-likelihood fit of the MBG/NBD to compressed (x, t_x, T, weight) data: BFGS on the
 * log-parameters with the analytic gradient from four starts scaled to the data's purchase rate
 * (plus `extraStarts`), standard errors from the observed information (mle.ts). Never throws on
 * bad data: `converged: false` and a message.
 */
export function fitMbgNbd(data: RfmSummary, opts: MleOptions & { extraStarts?: MbgNbdParams[] } = {}): MbgNbdFit {
  const problem = validateRfmSummary(data);
  const fallback = space(1);
  if (problem !== null) return failedMle(fallback, `invalid input: ${problem}`, data.x.length, NaN);
  const prep = prepare(data);
  if (prep.rows.length === 0) return failedMle(fallback, 'no customers (no rows with positive weight)', 0, 0);
  if (!(prep.meanT > 0)) return failedMle(fallback, 'every customer has T = 0: there is no observation time to learn from', prep.rows.length, prep.customers);
  let repeats = 0;
  for (const i of prep.rows) repeats += data.weight[i] * data.x[i];
  if (!(repeats > 0)) {
    return failedMle(fallback, 'no customer made a repeat purchase (all x = 0): purchase rates and dropout are not identifiable', prep.rows.length, prep.customers);
  }
  const rate = repeats / prep.customers / prep.meanT;
  const starts: MbgNbdParams[] = [
    { r: 1, alpha: 1 / rate, a: 1, b: 1 },
    { r: 0.3, alpha: 0.3 / rate, a: 0.7, b: 2.5 },
    { r: 3, alpha: 3 / rate, a: 2, b: 10 },
    { r: 0.5, alpha: 0.5 / rate, a: 0.2, b: 5 },
    ...(opts.extraStarts ?? []),
  ];
  // Large inputs: the starts on a subsample, the best refined on all rows (mle.ts), as for the BG/NBD.
  const sample = startSubsample(data, prep.rows.length, opts.subsampleRows ?? DEFAULT_SUBSAMPLE_ROWS, opts.seed);
  const samplePrep = sample ? prepare(sample) : null;
  return fitMaximumLikelihood(
    space(prep.meanT),
    { customers: prep.customers, evaluate: (t, g) => evaluate(prep, t, g) },
    starts,
    prep.rows.length,
    opts,
    samplePrep ? { customers: samplePrep.customers, evaluate: (t, g) => evaluate(samplePrep, t, g) } : null,
  );
}

/** P(active at T | x, t_x, T) = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)); below 1 also for x = 0. */
export function mbgnbdPAlive(params: MbgNbdParams, x: number, tx: number, T: number): number {
  assertParams(params);
  return 1 / (1 + Math.exp(logOddsDropped(params, x, tx, T)));
}

/** E[purchases in (T, T+t] | active at T, x, T] (does not depend on t_x); see the header. */
export function mbgnbdExpectedPurchasesIfAlive(params: MbgNbdParams, t: number, x: number, T: number): number {
  assertParams(params);
  return bgnbdExpectedPurchasesIfAlive({ r: params.r, alpha: params.alpha, a: params.a, b: params.b + 1 }, t, x, T);
}

/** E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] given the history. */
export function mbgnbdConditionalExpectedPurchases(params: MbgNbdParams, t: number, x: number, tx: number, T: number): number {
  return mbgnbdPAlive(params, x, tx, T) * mbgnbdExpectedPurchasesIfAlive(params, t, x, T);
}

/** E[X(t)]: expected repeat purchases in (0, t] of a new customer (x = 0, T = 0, alive with probability b/(a+b)). */
export function mbgnbdExpectedPurchases(params: MbgNbdParams, t: number): number {
  assertParams(params);
  return (params.b / (params.a + params.b)) * mbgnbdExpectedPurchasesIfAlive(params, t, 0, 0);
}

/** P(no purchase in (T, T+t] | x, t_x, T) = 1 − P(alive) + P(alive) ((α+T)/(α+T+t))^(r+x). */
export function mbgnbdPNoPurchase(params: MbgNbdParams, t: number, x: number, tx: number, T: number): number {
  const alive = mbgnbdPAlive(params, x, tx, T);
  return 1 - alive + alive * Math.exp(-(params.r + x) * Math.log1p(t / (params.alpha + T)));
}

/** P(alive), expected purchases and P(no purchase) over `horizon` for every row; the 2F1 part once per distinct (x, T). */
export function predictMbgNbd(params: MbgNbdParams, data: RfmSummary, horizon: number) {
  assertParams(params);
  if (!(horizon >= 0) || !Number.isFinite(horizon)) throw new RangeError(`predictMbgNbd: horizon must be finite and >= 0 (got ${horizon})`);
  const n = data.x.length;
  const pairs = groupPairs(data.x, data.T);
  const ifAlive = Float64Array.from(pairs.firstRow, (row) => mbgnbdExpectedPurchasesIfAlive(params, horizon, data.x[row], data.T[row]));
  const out = { pAlive: new Float64Array(n), expectedPurchases: new Float64Array(n), pNoPurchase: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const alive = mbgnbdPAlive(params, data.x[i], data.tx[i], data.T[i]);
    out.pAlive[i] = alive;
    out.expectedPurchases[i] = alive * ifAlive[pairs.groupOf[i]];
    out.pNoPurchase[i] = 1 - alive + alive * Math.exp(-(params.r + data.x[i]) * Math.log1p(horizon / (params.alpha + data.T[i])));
  }
  return out;
}
