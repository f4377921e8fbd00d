/**
 * Pareto/NBD model of repeat purchasing: Schmittlein, Morrison & Colombo (1987), "Counting Your
 * Customers: Who Are They and What Will They Do Next?", Management Science 33(1), 1–24; the
 * likelihood and per-customer expressions as derived in Fader & Hardie (2005), "A Note on
 * Deriving the Pareto/NBD Model and Related Expressions" (brucehardie.com/notes/009).
 *
 * Assumptions (per customer, time from the first purchase):
 *  1. While active, purchases follow a Poisson process with rate λ; λ ~ Gamma(r, rate α).
 *  2. The customer's unobserved lifetime is exponential with rate μ — dropout can happen at any
 *     moment, not only right after a purchase (the BG/NBD's simplification); μ ~ Gamma(s, rate β),
 *     independent of λ.
 *
 * Data per customer: x repeat purchases, the last at t_x, observed until T (rfm-data.ts).
 *
 * Likelihood. Given (λ, μ): alive through T, or gone at some τ in (t_x, T]:
 *   L(λ, μ) = λ^x e^(−(λ+μ)T) + ∫_{t_x}^T λ^x e^(−λτ) μ e^(−μτ) dτ.
 * Mixing over the two gammas (E[λ^x e^(−λτ)] = Γ(r+x)α^r / (Γ(r)(α+τ)^(r+x)),
 * E[μ e^(−μτ)] = s β^s / (β+τ)^(s+1)):
 *   L = C · [ (α+T)^(−(r+x)) (β+T)^(−s) + s ∫_{t_x}^T (α+τ)^(−(r+x)) (β+τ)^(−(s+1)) dτ ],
 *   C = Γ(r+x) α^r β^s / Γ(r).
 * The integral is F(t_x) − F(T) with F(τ0) = ∫_{τ0}^∞ …, which Fader & Hardie (2005)
 * write with the Gaussian hypergeometric function, a = r+s+x:
 *   α >= β:  F(τ0) = 2F1(a, s+1; a+1; (α−β)/(α+τ0)) / (a (α+τ0)^a)
 *   α <  β:  F(τ0) = 2F1(a, r+x; a+1; (β−α)/(β+τ0)) / (a (β+τ0)^a)
 * (expand (β+τ)^(−(s+1)) = (α+τ)^(−(s+1)) (1 − (α−β)/(α+τ))^(−(s+1)) and integrate term by term;
 * the branch on α vs β keeps the argument in [0, 1), where the series converges). Everything is
 * evaluated in logs: ln F by special.ts's log2F1, F(t_x) − F(T) = F(t_x)·(−expm1(ln F(T) − ln F(t_x)))
 * (no cancellation loss: the difference is 0 exactly when t_x = T), and
 *   ln L = ln C + logsumexp(−(r+x) ln(α+T) − s ln(β+T), ln s + ln(F(t_x) − F(T))).
 * ln F depends on (x, τ0) only, so it is computed once per distinct (x, t_x) and (x, T).
 *
 * Gradient: analytic. The r and s derivatives of ln F are derivatives of 2F1 with respect to its
 * parameters; special.ts's log2F1WithGradient sums them term by term alongside the series
 * (∂ ln t_k/∂a = Σ_{j<k} 1/(a+j), …) and maps them through Euler's transform when that is the
 * form summed, so the gradient is the exact derivative of the likelihood that is maximised.
 *
 * Per customer (as derived in the Fader & Hardie 2005 note):
 *   P(alive | x, t_x, T) = (α+T)^(−(r+x)) (β+T)^(−s) / [L / C]
 *   E[Y(t) | x, t_x, T] = P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)]
 *     (evaluated as (r+x)/(α+T) · (β+T)(−ℓ) (e^((s−1)ℓ) − 1)/((s−1)ℓ), ℓ = ln((β+T)/(β+T+t)):
 *     finite at s = 1);
 *   P(no purchase in (T, T+t] | x, t_x, T) = 1 − P(alive) + P(alive) · P0, where, given alive at
 *     T, λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T), so P0 — silent until gone or until T+t — is the
 *     Pareto/NBD likelihood of "no purchase in (0, t]" with those updated parameters:
 *     P0 = L(r+x, α+T, s, β+T | 0, 0, t).
 *   E[X(t)] (new customer) = r β / (α (s−1)) · [1 − (β/(β+t))^(s−1)].
 *
 * Inspired by the note and by the documentation of BTYD and lifetimes; no code was taken.
 */
import { failedMle, fitMaximumLikelihood, positiveRows, startSubsample, type LogLikelihood, type MleFit, type MleOptions, type ParameterSpace } from './mle.js';
import { groupDistinct, groupIntegers, groupPairs, validateRfmSummary, type RfmSummary } from './rfm-data.js';
import { digamma, exprel, lgamma, log2F1, log2F1WithGradient, logSumExp2 } from './special.js';

export interface ParetoNbdParams {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}

export type ParetoNbdFit = MleFit<ParetoNbdParams>;

const NAMES = ['r', 'alpha', 's', 'beta'] as const;
/**
 * Above twice this many distinct histories the starts run on a subsample (each row costs two
 * 2F1 series with their derivative sums: ~3 µs; 74 k rows took 42 s for all four starts).
 */
const DEFAULT_SUBSAMPLE_ROWS = 10_000;
/**
 * The fit's 2F1 series stop at this many terms (special.ts's own bound is 2 million): the series
 * needs about 37/(1 − z) terms, so this is z > 1 − 2e-3, i.e. β ≫ α (or α ≫ β) by a factor of
 * ~500 — a fit running away to the no-dropout limit. There the evaluation fails (NaN: the line
 * search steps back, and a fit that cannot leave that region does not converge) instead of
 * summing millions of terms per history: with `--model auto` the default, a BG/NBD-like sample
 * of 400 customers took minutes here. Fits inside (CDNOW: z ≤ 0.1; the bench: ≤ 0.85) are unchanged.
 */
const FIT_SERIES_TERMS = 20_000;
/**
 * β/α (or α/β) beyond this stops the fit, not converged: the likelihood is flattening towards a
 * limit (β, s → ∞ with s/β fixed: one dropout rate for all; α, r → ∞: one purchase rate), where
 * each 2F1 needs ~37·ratio terms and the optimiser would crawl for hundreds of iterations. On a
 * 400-customer BG/NBD-like sample the fit went to β/α ≈ 660 and took minutes; on the bench's
 * clean data (no dropout) to β/α > 500 in over a minute. Converged fits seen: CDNOW 1.1, the
 * demo 0.3–2.1, simulated BG/NBD and Pareto/NBD samples 1.4–15 — a margin of 7× and more.
 * `--model auto` then uses another model (the table says why).
 */
const MAX_SCALE_RATIO = 100;

function ratioRunaway(p: ParetoNbdParams): string | null {
  const ratio = Math.max(p.alpha / p.beta, p.beta / p.alpha);
  if (!(ratio > MAX_SCALE_RATIO)) return null;
  const [big, small] = p.beta > p.alpha ? ['beta', 'alpha'] : ['alpha', 'beta'];
  return `stopped: ${big}/${small} = ${ratio.toPrecision(3)} > ${MAX_SCALE_RATIO}, the fit is running away to a limit of the model (${big === 'beta' ? 'one dropout rate for all' : 'one purchase rate for all'})`;
}
function assertParams(p: ParetoNbdParams): void {
  for (const name of NAMES) {
    if (!(p[name] > 0) || !Number.isFinite(p[name])) throw new RangeError(`Pareto/NBD parameter ${name} must be finite and > 0 (got ${p[name]})`);
  }
}

/** ln F(τ0) = ln ∫_{τ0}^∞ (α+τ)^(−(r+x)) (β+τ)^(−(s+1)) dτ, with the branch on α vs β. */
export function logDropoutTail(p: ParetoNbdParams, x: number, tau0: number): number {
  const a = p.r + p.s + x;
  if (p.alpha >= p.beta) {
    const base = p.alpha + tau0;
    return log2F1(a, p.s + 1, a + 1, (p.alpha - p.beta) / base) - a * Math.log(base) - Math.log(a);
  }
  const base = p.beta + tau0;
  return log2F1(a, p.r + x, a + 1, (p.beta - p.alpha) / base) - a * Math.log(base) - Math.log(a);
}

/**
 * ln F(τ0) as logDropoutTail, writing ∂ ln F/∂(r, α, s, β) into out[at..at+3]. With G = ln 2F1
 * and its partials G_a, G_b, G_c, G_z (c = a + 1 moves with a):
 *   α >= β (b = s+1, z = (α−β)/(α+τ0)):  ∂r = G_a + G_c − ln(α+τ0) − 1/a,  ∂s = ∂r + G_b,
 *       ∂α = G_z (β+τ0)/(α+τ0)² − a/(α+τ0),  ∂β = −G_z/(α+τ0);
 *   α < β  (b = r+x, z = (β−α)/(β+τ0)):  ∂s = G_a + G_c − ln(β+τ0) − 1/a,  ∂r = ∂s + G_b,
 *       ∂α = −G_z/(β+τ0),  ∂β = G_z (α+τ0)/(β+τ0)² − a/(β+τ0).
 */
function logDropoutTailWithGradient(p: ParetoNbdParams, x: number, tau0: number, out: Float64Array, at: number): number {
  const a = p.r + p.s + x;
  if (p.alpha >= p.beta) {
    const base = p.alpha + tau0;
    const h = log2F1WithGradient(a, p.s + 1, a + 1, (p.alpha - p.beta) / base, FIT_SERIES_TERMS);
    const logBase = Math.log(base);
    const shared = h.da + h.dc - logBase - 1 / a;
    out[at] = shared;
    out[at + 1] = (h.dz * (p.beta + tau0)) / (base * base) - a / base;
    out[at + 2] = shared + h.db;
    out[at + 3] = -h.dz / base;
    return h.value - a * logBase - Math.log(a);
  }
  const base = p.beta + tau0;
  const h = log2F1WithGradient(a, p.r + x, a + 1, (p.beta - p.alpha) / base, FIT_SERIES_TERMS);
  const logBase = Math.log(base);
  const shared = h.da + h.dc - logBase - 1 / a;
  out[at] = shared + h.db;
  out[at + 1] = -h.dz / base;
  out[at + 2] = shared;
  out[at + 3] = (h.dz * (p.alpha + tau0)) / (base * base) - a / base;
  return h.value - a * logBase - Math.log(a);
}

/** The two halves of ln(L/C): alive through T, and gone in (t_x, T]. */
function logHalves(p: ParetoNbdParams, x: number, logFtx: number, logFT: number, T: number): { alive: number; gone: number } {
  const alive = -(p.r + x) * Math.log(p.alpha + T) - p.s * Math.log(p.beta + T);
  const gap = logFT - logFtx;
  const gone = gap >= 0 ? -Infinity : Math.log(p.s) + logFtx + Math.log(-Math.expm1(gap));
  return { alive, gone };
}

function logC(p: ParetoNbdParams, x: number): number {
  return lgamma(p.r + x) - lgamma(p.r) + p.r * Math.log(p.alpha) + p.s * Math.log(p.beta);
}

/** ln L(r, α, s, β | x, t_x, T) of one history. */
export function paretoNbdLogLikelihoodOne(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  assertParams(params);
  const h = logHalves(params, x, logDropoutTail(params, x, tx), tx === T ? NaN : logDropoutTail(params, x, T), T);
  return logC(params, x) + logSumExp2(h.alive, tx === T ? -Infinity : h.gone);
}

/** Σ weight · ln L, one row at a time. */
export function paretoNbdLogLikelihood(params: ParetoNbdParams, data: RfmSummary): number {
  let total = 0;
  for (let i = 0; i < data.x.length; i++) if (data.weight[i] > 0) total += data.weight[i] * paretoNbdLogLikelihoodOne(params, data.x[i], data.tx[i], data.T[i]);
  return total;
}

interface Prepared {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  w: Float64Array;
  /**
   * ln F is a function of (x, τ) with τ = t_x or T, and the two sets overlap (a day is one
   * customer's last purchase and another's T): one ln F per distinct (x, τ) over both, the
   * series evaluated once for each (about half the pairs of two separate sets on daily dates).
   * Row k's (x, t_x) is pair txPair[k], its (x, T) pair tPair[k]; pairX/pairTau: each pair's values.
   */
  txPair: Uint32Array;
  tPair: Uint32Array;
  pairX: Float64Array;
  pairTau: Float64Array;
  /** Row k's distinct x (xGroup[k], value xValue) and distinct T (tGroup[k], value tValue): the per-row terms in x or T alone are computed once per value. */
  xGroup: Uint32Array;
  xValue: Float64Array;
  tGroup: Uint32Array;
  tValue: Float64Array;
  customers: number;
  meanT: number;
  // scratch: ln F per pair and its gradient (4 per pair); per x: ln Γ(r+x), ψ(r+x); per T: ln(α+T), ln(β+T)
  logF: Float64Array;
  gradF: Float64Array;
  lgX: Float64Array;
  psiX: Float64Array;
  logAT: Float64Array;
  logBT: Float64Array;
}

function prepare(data: RfmSummary): Prepared {
  const rows = positiveRows(data.weight);
  const pick = (v: Float64Array) => {
    const out = new Float64Array(rows.length);
    for (let k = 0; k < rows.length; k++) out[k] = v[rows[k]];
    return out;
  };
  const x = pick(data.x);
  const tx = pick(data.tx);
  const T = pick(data.T);
  const w = pick(data.weight);
  let customers = 0;
  let weightedT = 0;
  for (let k = 0; k < w.length; k++) {
    customers += w[k];
    weightedT += w[k] * T[k];
  }
  const n = x.length;
  const xx = new Float64Array(2 * n);
  xx.set(x);
  xx.set(x, n);
  const taus = new Float64Array(2 * n);
  taus.set(tx);
  taus.set(T, n);
  const pairs = groupPairs(xx, taus);
  const xs = groupIntegers(x);
  const ts = groupDistinct([T]);
  return {
    x, tx, T, w, customers,
    xGroup: xs.groupOf,
    xValue: Float64Array.from(xs.firstRow, (row) => x[row]),
    tGroup: ts.groupOf,
    tValue: Float64Array.from(ts.firstRow, (row) => T[row]),
    lgX: new Float64Array(xs.groupCount),
    psiX: new Float64Array(xs.groupCount),
    logAT: new Float64Array(ts.groupCount),
    logBT: new Float64Array(ts.groupCount),
    txPair: pairs.groupOf.subarray(0, n),
    tPair: pairs.groupOf.subarray(n),
    pairX: Float64Array.from(pairs.firstRow, (row) => xx[row]),
    pairTau: Float64Array.from(pairs.firstRow, (row) => taus[row]),
    meanT: customers > 0 ? weightedT / customers : 0,
    logF: new Float64Array(pairs.groupCount),
    gradF: new Float64Array(4 * pairs.groupCount),
  };
}

/**
 * Σ w ln L and its analytic gradient in θ = ln(r, α, s, β): the 2F1 parameter derivatives come
 * from special.ts's log2F1WithGradient, chained through the header's expressions (see
 * logDropoutTailWithGradient); ln F and its gradient are computed once per distinct (x, t_x) and
 * (x, T).
 */
function evaluate(prep: Prepared, theta: Float64Array, gradient: Float64Array): number {
  const p: ParetoNbdParams = { r: Math.exp(theta[0]), alpha: Math.exp(theta[1]), s: Math.exp(theta[2]), beta: Math.exp(theta[3]) };
  if (!NAMES.every((n) => p[n] > 0 && Number.isFinite(p[n]))) return NaN;
  const { r, alpha, s, beta } = p;
  const gTx = prep.gradF;
  const gT = prep.gradF;
  try {
    for (let g = 0; g < prep.logF.length; g++) prep.logF[g] = logDropoutTailWithGradient(p, prep.pairX[g], prep.pairTau[g], gTx, 4 * g);
  } catch {
    return NaN;
  }
  const base = -lgamma(r) + r * Math.log(alpha) + s * Math.log(beta);
  const psiR = digamma(r);
  let total = 0;
  let dr = 0;
  let da = 0;
  let ds = 0;
  let db = 0;
  for (let g = 0; g < prep.xValue.length; g++) {
    prep.lgX[g] = lgamma(r + prep.xValue[g]);
    prep.psiX[g] = digamma(r + prep.xValue[g]);
  }
  for (let g = 0; g < prep.tValue.length; g++) {
    prep.logAT[g] = Math.log(alpha + prep.tValue[g]);
    prep.logBT[g] = Math.log(beta + prep.tValue[g]);
  }
  for (let k = 0; k < prep.x.length; k++) {
    const x = prep.x[k];
    const w = prep.w[k];
    const lgX = prep.lgX[prep.xGroup[k]];
    const psiX = prep.psiX[prep.xGroup[k]];
    const T = prep.T[k];
    const gi = prep.txPair[k];
    const gj = prep.tPair[k];
    const logAT = prep.logAT[prep.tGroup[k]];
    const logBT = prep.logBT[prep.tGroup[k]];
    const alive = -(r + x) * logAT - s * logBT;
    // ln C.
    dr += w * (psiX - psiR + Math.log(alpha));
    da += (w * r) / alpha;
    ds += w * Math.log(beta);
    db += (w * s) / beta;
    const gap = prep.logF[gj] - prep.logF[gi];
    if (prep.tx[k] === T || !(gap < 0)) {
      // Last purchase at T: only the alive half.
      total += w * (base + lgX + alive);
      dr -= w * logAT;
      da -= (w * (r + x)) / (alpha + T);
      ds -= w * logBT;
      db -= (w * s) / (beta + T);
      continue;
    }
    const gone = Math.log(s) + prep.logF[gi] + Math.log(-Math.expm1(gap));
    const logL = logSumExp2(alive, gone);
    total += w * (base + lgX + logL);
    const shareGone = Math.exp(gone - logL);
    const shareAlive = 1 - shareGone;
    // d(gone) = (1+q) d ln F(t_x) − q d ln F(T) (+ 1/s for s), q = e^gap / (1 − e^gap).
    const q = 1 / Math.expm1(-gap);
    const i4 = 4 * gi;
    const j4 = 4 * gj;
    dr += w * (shareAlive * -logAT + shareGone * ((1 + q) * gTx[i4] - q * gT[j4]));
    da += w * (shareAlive * (-(r + x) / (alpha + T)) + shareGone * ((1 + q) * gTx[i4 + 1] - q * gT[j4 + 1]));
    ds += w * (shareAlive * -logBT + shareGone * (1 / s + (1 + q) * gTx[i4 + 2] - q * gT[j4 + 2]));
    db += w * (shareAlive * (-s / (beta + T)) + shareGone * ((1 + q) * gTx[i4 + 3] - q * gT[j4 + 3]));
  }
  gradient[0] = dr * r;
  gradient[1] = da * alpha;
  gradient[2] = ds * s;
  gradient[3] = db * beta;
  return total;
}

/** Gradient of Σ w ln L in the natural parameters (for tests). */
export function paretoNbdLogLikelihoodGradient(params: ParetoNbdParams, data: RfmSummary): ParetoNbdParams {
  assertParams(params);
  const g = new Float64Array(4);
  evaluate(prepare(data), Float64Array.from(NAMES.map((n) => Math.log(params[n]))), g);
  return { r: g[0] / params.r, alpha: g[1] / params.alpha, s: g[2] / params.s, beta: g[3] / params.beta };
}

/**
 * Σ w ln L as a function of θ = ln(r, α, s, β) with its analytic gradient (the fit's own
 * evaluation), for models built on the Pareto/NBD's: the covariate model (covariates.ts) sums it
 * over covariate cells. Data must be valid (validateRfmSummary).
 */
export function paretoNbdLogLikelihoodFunction(data: RfmSummary): LogLikelihood {
  const prep = prepare(data);
  return { customers: prep.customers, evaluate: (theta, gradient) => evaluate(prep, theta, gradient) };
}

function space(meanT: number): ParameterSpace<ParetoNbdParams> {
  const logT = Math.log(meanT > 0 ? meanT : 1);
  return { names: NAMES, logScales: [0, logT, 0, logT], runaway: ratioRunaway };
}

/**
 * Maximum-likelihood fit of the Pareto/NBD to compressed (x, t_x, T, weight) data: BFGS on the
 * log-parameters from four starts scaled to the data's purchase rate and observation length
 * (plus `extraStarts`), standard errors from the observed information (mle.ts). Never throws
 * on bad data: `converged: false` and a message.
 */
export function fitParetoNbd(data: RfmSummary, opts: MleOptions & { extraStarts?: ParetoNbdParams[] } = {}): ParetoNbdFit {
  const fallback = space(1);
  const problem = validateRfmSummary(data);
  if (problem !== null) return failedMle(fallback, `invalid input: ${problem}`, data.x.length, NaN);
  const prep = prepare(data);
  if (prep.x.length === 0) return failedMle(fallback, 'no customers (no rows with positive weight)', 0, 0);
  if (!(prep.meanT > 0)) return failedMle(fallback, 'every customer has T = 0: there is no observation time to learn from', prep.x.length, prep.customers);
  let repeats = 0;
  for (let k = 0; k < prep.x.length; k++) repeats += prep.w[k] * prep.x[k];
  if (!(repeats > 0)) {
    return failedMle(fallback, 'no customer made a repeat purchase (all x = 0): purchase rates and dropout are not identifiable', prep.x.length, prep.customers);
  }
  const rate = repeats / prep.customers / prep.meanT;
  const T = prep.meanT;
  const starts: ParetoNbdParams[] = [
    { r: 1, alpha: 1 / rate, s: 1, beta: T },
    { r: 0.5, alpha: 0.5 / rate, s: 0.5, beta: T / 2 },
    { r: 2, alpha: 2 / rate, s: 2, beta: 4 * T },
    { r: 0.3, alpha: 0.3 / rate, s: 1.5, beta: T / 4 },
    ...(opts.extraStarts ?? []),
  ];
  // Large inputs: the starts on a subsample, the best refined on all rows (mle.ts).
  const sample = startSubsample(data, prep.x.length, opts.subsampleRows ?? DEFAULT_SUBSAMPLE_ROWS, opts.seed);
  const samplePrep = sample ? prepare(sample) : null;
  return fitMaximumLikelihood(
    space(prep.meanT),
    { customers: prep.customers, evaluate: (t, g) => evaluate(prep, t, g) },
    starts,
    prep.x.length,
    opts,
    samplePrep ? { customers: samplePrep.customers, evaluate: (t, g) => evaluate(samplePrep, t, g) } : null,
  );
}

function checkHistory(x: number, tx: number, T: number): void {
  if (!(Number.isInteger(x) && x >= 0 && tx >= 0 && tx <= T && Number.isFinite(T))) {
    throw new RangeError(`Pareto/NBD history needs integer x >= 0 and 0 <= t_x <= T (got x=${x}, t_x=${tx}, T=${T})`);
  }
}

/** P(alive at T | x, t_x, T). */
export function paretoNbdPAlive(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  assertParams(params);
  checkHistory(x, tx, T);
  if (tx === T) return 1;
  const h = logHalves(params, x, logDropoutTail(params, x, tx), logDropoutTail(params, x, T), T);
  return Math.exp(h.alive - logSumExp2(h.alive, h.gone));
}

/** E[purchases in (T, T+t] | alive at T, x, T] (does not depend on t_x). */
export function paretoNbdExpectedPurchasesIfAlive(params: ParetoNbdParams, t: number, x: number, T: number): number {
  assertParams(params);
  if (!(t > 0)) return t === 0 ? 0 : NaN;
  const { r, alpha, s, beta } = params;
  const l = -Math.log1p(t / (beta + T));
  return ((r + x) / (alpha + T)) * (beta + T) * -l * exprel((s - 1) * l);
}

/** E[Y(t) | x, t_x, T] = P(alive) × E[… | alive]. */
export function paretoNbdConditionalExpectedPurchases(params: ParetoNbdParams, t: number, x: number, tx: number, T: number): number {
  return paretoNbdPAlive(params, x, tx, T) * paretoNbdExpectedPurchasesIfAlive(params, t, x, T);
}

/** E[X(t)]: expected repeat purchases in (0, t] of a customer who has just made a first purchase. */
export function paretoNbdExpectedPurchases(params: ParetoNbdParams, t: number): number {
  return paretoNbdExpectedPurchasesIfAlive(params, t, 0, 0);
}

/** P(no purchase in (T, T+t] | alive at T, x, T): the updated-parameter likelihood of silence over t. */
export function paretoNbdSilentIfAlive(params: ParetoNbdParams, t: number, x: number, T: number): number {
  assertParams(params);
  if (!(t > 0)) return t === 0 ? 1 : NaN;
  const updated = { r: params.r + x, alpha: params.alpha + T, s: params.s, beta: params.beta + T };
  return Math.exp(paretoNbdLogLikelihoodOne(updated, 0, 0, t));
}

/** P(no purchase in (T, T+t] | x, t_x, T). */
export function paretoNbdPNoPurchase(params: ParetoNbdParams, t: number, x: number, tx: number, T: number): number {
  const alive = paretoNbdPAlive(params, x, tx, T);
  return 1 - alive + alive * paretoNbdSilentIfAlive(params, t, x, T);
}

/** P(alive), expected purchases and P(no purchase) over `horizon` per row; per-(x, T) parts computed once. */
export function predictParetoNbd(params: ParetoNbdParams, data: RfmSummary, horizon: number) {
  assertParams(params);
  if (!(horizon >= 0) || !Number.isFinite(horizon)) throw new RangeError(`predictParetoNbd: horizon must be finite and >= 0 (got ${horizon})`);
  const n = data.x.length;
  const pairs = groupPairs(data.x, data.T);
  const ifAlive = Float64Array.from(pairs.firstRow, (row) => paretoNbdExpectedPurchasesIfAlive(params, horizon, data.x[row], data.T[row]));
  const silent = Float64Array.from(pairs.firstRow, (row) => paretoNbdSilentIfAlive(params, horizon, data.x[row], data.T[row]));
  const out = { pAlive: new Float64Array(n), expectedPurchases: new Float64Array(n), pNoPurchase: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const alive = paretoNbdPAlive(params, data.x[i], data.tx[i], data.T[i]);
    const g = pairs.groupOf[i];
    out.pAlive[i] = alive;
    out.expectedPurchases[i] = alive * ifAlive[g];
    out.pNoPurchase[i] = 1 - alive + alive * silent[g];
  }
  return out;
}
