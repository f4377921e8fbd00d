/**
 * Shifted-beta-geometric (sBG) model of contract retention: Fader & Hardie (2007), "How to
 * project customer retention", Journal of Interactive Marketing 21(1), 76–90; residual value
 * after Fader & Hardie (2010), "Customer-base valuation in a contractual setting: the perils of
 * ignoring heterogeneity", Marketing Science 29(1), 85–93.
 *
 * Setting: contracts (policies, plans, subscriptions) run in discrete periods of equal length;
 * at the end of each period the customer either renews or leaves for good, and leaving is
 * observed. Assumptions:
 *  1. While a customer is on the books, at the end of every period they leave with the same
 *     probability θ, independently of the past: the period T in which they leave (lose the
 *     contract at its end, after T − 1 renewals) is shifted-geometric,
 *       P(T = t | θ) = θ (1 − θ)^(t−1),  t = 1, 2, …
 *  2. θ varies across customers as Beta(α, β).
 *
 * Integrating θ out, with B the beta function:
 *   P(T = t) = B(α+1, β+t−1) / B(α, β)              (leave at the t-th renewal decision)
 *   S(t)     = P(T > t) = B(α, β+t) / B(α, β)        (share that made t renewals; S(0) = 1)
 *            = Π_{j<t} (β+j)/(α+β+j)
 *   r_t      = S(t)/S(t−1) = (β+t−1)/(α+β+t−1)       (retention rate at the t-th renewal, t ≥ 1)
 * r_t increases with t: the customers with a high θ leave first, so the survivors are more and
 * more loyal (heterogeneity sorting) even though no individual's θ changes.
 *
 * Data: per contract the number of renewals n survived and whether it is still active at the
 * as-of date. A churned contract contributes P(T = n+1) (it left at its (n+1)-th decision); an
 * active one is right-censored and contributes S(n) (it made n renewals, the next decision is
 * still to come). The input is compressed: one row per distinct (n, active) with the number of
 * contracts as weight, so a million contracts over ten years are about twenty rows.
 *
 * Likelihood: with h_t = α/(α+β+t−1) the hazard at the t-th decision,
 *   ln S(n)       = −Σ_{j<n} ln(1 + α/(β+j)),
 *   ln P(T = n+1) = ln S(n) + ln α − ln(α+β+n),
 * ∂ ln S(n)/∂α = −Σ_{j<n} 1/(α+β+j),  ∂ ln S(n)/∂β = Σ_{j<n} α/((β+j)(α+β+j)),
 * ∂ ln h_(n+1)/∂α = (β+n)/(α(α+β+n)),  ∂ ln h_(n+1)/∂β = −1/(α+β+n).
 * These running sums (one pass over j = 0..max n, shared by all rows) are used instead of
 * ln Γ differences: they stay exact when α + β is huge (the homogeneous boundary) where
 * ln Γ(β+n) − ln Γ(α+β+n) would cancel catastrophically. The fit maximises the weighted
 * log-likelihood over (ln α, ln β) with BFGS (optimize.ts) from several starts, one from the
 * observed hazards of the first two renewals.
 *
 * Per contract, for a contract that has survived n renewals (Fader & Hardie (2010) index the
 * same contract by "n' − 1 renewals", so their n' is our n + 1 and their
 * DERL(d | α, β, n') = (β+n'−1)/(α+β+n'−1) · 2F1(1, β+n'; α+β+n'; 1/(1+d)) is the one below);
 * posterior θ | n ~ Beta(α, β+n):
 *   P(renew at the next renewal) = r_(n+1) = (β+n)/(α+β+n)
 *   S(n+k | n) = S(n+k)/S(n) = Π_{j=n}^{n+k−1} (β+j)/(α+β+j)
 *   expected renewals still to come (undiscounted) = Σ_{k≥1} S(n+k | n) = (β+n)/(α−1), α > 1
 *     (infinite for α ≤ 1: the Beta mass near θ = 0 makes the mean lifetime infinite)
 *   DERL(d | n) = Σ_{k≥1} S(n+k | n) / (1+d)^(k−1)
 *              = (β+n)/(α+β+n) · 2F1(1, β+n+1; α+β+n+1; 1/(1+d))   (F&H 2010's DERL, n shifted)
 * DERL counts the payment at the next renewal undiscounted (we stand at the end of the current
 * period, just before the decision, as in F&H 2010) and each later one discounted by one more
 * period at the per-period rate d. Residual value = premium per period × DERL; over a horizon
 * of H periods the sum stops at k = H.
 *
 * 2F1(1, b; c; z) with 0 < b < c, 0 ≤ z < 1 is summed directly: the terms (b)_k/(c)_k z^k are
 * positive and each ratio z (b+k)/(c+k) is below z, so the tail after a term t is at most
 * t z/(1−z); summation stops when that bound is below HYPERGEOMETRIC_TOLERANCE (1e-15) times the
 * sum. The number of terms grows like 35/d for a per-period discount rate d, hence the lower
 * bound MIN_DISCOUNT_RATE.
 *
 * Degenerate data have no interior maximum; the fit then returns a labelled outcome instead of
 * parameters (see SbgOutcome), with the limit the likelihood tends to where there is one:
 * nobody observed leaving (θ → 0 for everyone), nobody observed renewing (θ → 1), hazards that
 * do not fall with tenure (α, β → ∞ with α/(α+β) fixed: one churn probability for all, the
 * geometric model), or only the first renewal observed (only α/(α+β) is identified).
 */

import { invertSymmetric, minimizeBfgs, numericHessian, type MinimizeResult } from './optimize.js';

/** sBG parameters: the churn probability θ ~ Beta(alpha, beta) across customers; both > 0. */
export interface SbgParams {
  alpha: number;
  beta: number;
}

/**
 * Contracts compressed per (renewals, active). Rows may repeat a pair (they are summed) and
 * come in any order; a SQL `GROUP BY renewals, active` with `count(*)` gives exactly this.
 */
export interface RenewalSummary {
  /** Renewals the contract survived: an integer ≥ 0 (0 = still in, or left after, its first period). */
  renewals: ArrayLike<number>;
  /** 1 if the contract is still active at the as-of date (right-censored), 0 if it left at its next renewal decision. */
  active: ArrayLike<number>;
  /** Number of contracts sharing the row (≥ 0; default 1). */
  weight?: ArrayLike<number>;
}

/**
 * What the fit found:
 * - `fitted`: an interior maximum; `params` and `standardErrors` are set.
 * - `no_churn`: no contract observed leaving. The likelihood tends to its supremum 0 as
 *   θ → 0 for everyone (retention 1): limit churn probability 0.
 * - `no_renewal`: every observed renewal decision was a departure (θ → 1): limit 1.
 * - `homogeneous`: the observed hazards do not fall with tenure; the maximum is at α, β → ∞
 *   with α/(α+β) = θ̂, the geometric model with one churn probability θ̂ for all (the limit).
 * - `not_identified`: renewal decisions were observed at no more than one tenure (e.g. only
 *   first renewals), so only α/(α+β) is identified; the limit reports that share.
 * - `too_few_contracts`, `no_contracts`, `invalid_input`: nothing was fitted.
 * - `not_converged`: the optimiser failed or the information matrix is singular.
 */
export type SbgOutcome =
  | 'fitted'
  | 'no_churn'
  | 'no_renewal'
  | 'homogeneous'
  | 'not_identified'
  | 'too_few_contracts'
  | 'no_contracts'
  | 'invalid_input'
  | 'not_converged';

export interface SbgStart {
  initial: SbgParams;
  /** Where the optimiser stopped. */
  params: SbgParams;
  logLikelihood: number;
  converged: boolean;
  iterations: number;
}

export interface SbgFit {
  outcome: SbgOutcome;
  /** Maximum-likelihood estimates when outcome is 'fitted' (also where a not_converged run stopped), else null. */
  params: SbgParams | null;
  /**
   * For the boundary outcomes (no_churn, no_renewal, homogeneous, not_identified): the churn
   * probability per renewal decision that everyone shares in the limit (0, 1, θ̂, θ̂). Else null.
   */
  limitChurnProbability: number | null;
  /** Weighted log-likelihood at params, or the supremum at the boundary; NaN when nothing was fitted. */
  logLikelihood: number;
  /** True only for outcome 'fitted'. */
  converged: boolean;
  /** Delta-method standard errors from the observed information (outcome 'fitted' only). */
  standardErrors: SbgParams | null;
  iterations: number;
  starts: SbgStart[];
  message: string;
  gradientNorm: number;
  /** Σ weight, and its split into churned and active contracts. */
  contracts: number;
  churned: number;
  active: number;
  /** Renewal decisions observed (each churned contract n+1, each active one n). */
  decisions: number;
}

export interface SbgFitOptions {
  /** Extra starting points, tried after the built-in ones. */
  starts?: SbgParams[];
  /** Fewer contracts (Σ weight) than this give outcome 'too_few_contracts' (default 10). */
  minContracts?: number;
  gradientTolerance?: number;
  maxIterations?: number;
}

/** Default of SbgFitOptions.minContracts: below it two parameters mean nothing. */
const DEFAULT_MIN_CONTRACTS = 10;
/** Renewal counts beyond this are rejected (the likelihood walks 0..max renewals). */
const MAX_RENEWALS = 1_000_000;
const DEFAULT_GRADIENT_TOLERANCE = 1e-9;
const DEFAULT_MAX_ITERATIONS = 300;
const HESSIAN_STEP = 1e-4;
/**
 * α + β beyond this is the homogeneous boundary: the spread of θ, sd² = θ̄(1−θ̄)/(α+β+1), is
 * then below 1e-6·θ̄(1−θ̄), no data set of realistic size tells it from zero.
 */
const HOMOGENEOUS_SUM = 1e6;
/** The optimiser stops once |ln α| or |ln β| passes this (far beyond every bound above). */
const ABORT_LOG_PARAMETER = 25;
/** α or β below this (with α + β not huge) has run away towards 0. */
const RUNAWAY_SMALL = 1e-6;
/** Relative size of the neglected tail at which the 2F1 series stops. */
export const HYPERGEOMETRIC_TOLERANCE = 1e-15;
/** Smallest per-period discount rate for DERL (the series needs ~35/d terms). */
export const MIN_DISCOUNT_RATE = 1e-5;
const MAX_SERIES_TERMS = 10_000_000;

function assertParams(params: SbgParams): void {
  for (const name of ['alpha', 'beta'] as const) {
    const value = params[name];
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new RangeError(`sBG parameter ${name} must be finite and > 0 (got ${value})`);
    }
  }
}

function assertRenewals(renewals: number, what = 'renewals'): void {
  if (!Number.isInteger(renewals) || renewals < 0) {
    throw new RangeError(`sBG: ${what} must be an integer >= 0 (got ${renewals})`);
  }
}

/** First problem with the renewal data, or null. */
export function validateRenewalSummary(data: RenewalSummary): string | null {
  const n = data.renewals.length;
  if (data.active.length !== n || (data.weight && data.weight.length !== n)) {
    return 'renewals, active and weight must have the same length';
  }
  for (let i = 0; i < n; i++) {
    const renewals = data.renewals[i];
    if (!Number.isInteger(renewals) || renewals < 0 || renewals > MAX_RENEWALS) {
      return `row ${i}: renewals must be an integer in [0, ${MAX_RENEWALS}] (got ${renewals})`;
    }
    const active = data.active[i];
    if (active !== 0 && active !== 1) return `row ${i}: active must be 0 or 1 (got ${active})`;
    const w = data.weight ? data.weight[i] : 1;
    if (!(w >= 0) || !Number.isFinite(w)) return `row ${i}: weight must be finite and >= 0 (got ${w})`;
  }
  return null;
}

/**
 * The RenewalSummary of one cohort from its survivor counts at the end of periods 0..k
 * (Fader & Hardie 2007, Table 1): survivors[t−1] − survivors[t] left at the t-th renewal
 * (after t − 1 renewals), and the survivors[k] still there are active with k renewals.
 */
export function renewalSummaryFromSurvivors(survivors: readonly number[]): RenewalSummary {
  const renewals: number[] = [];
  const active: number[] = [];
  const weight: number[] = [];
  for (let t = 1; t < survivors.length; t++) {
    renewals.push(t - 1);
    active.push(0);
    weight.push(survivors[t - 1] - survivors[t]);
  }
  renewals.push(survivors.length - 1);
  active.push(1);
  weight.push(survivors[survivors.length - 1]);
  return { renewals: Float64Array.from(renewals), active: Uint8Array.from(active), weight: Float64Array.from(weight) };
}

/** Per-contract arrays compressed to one row per distinct (renewals, active). */
export function compressRenewals(renewals: ArrayLike<number>, active: ArrayLike<number>): RenewalSummary {
  const counts = new Map<number, number>();
  for (let i = 0; i < renewals.length; i++) {
    // renewals ≥ 0 integer, active 0/1: one number per pair keeps the map flat.
    const key = 2 * renewals[i] + (active[i] ? 1 : 0);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const keys = [...counts.keys()].sort((a, b) => a - b);
  return {
    renewals: Float64Array.from(keys, (k) => Math.floor(k / 2)),
    active: Uint8Array.from(keys, (k) => k % 2),
    weight: Float64Array.from(keys, (k) => counts.get(k) ?? 0),
  };
}

/** Weights per renewal count, churned and active apart; plus the totals the outcome checks need. */
interface PreparedRenewals {
  maxRenewals: number;
  /** Indexed by renewal count n: Σ weight of contracts that left at decision n+1 / are active with n renewals. */
  churnedAt: Float64Array;
  activeAt: Float64Array;
  contracts: number;
  churned: number;
  active: number;
  /** Renewal decisions observed in total, and at the first two decisions (for the starts). */
  decisions: number;
  /** Largest decision index t observed (a churn at n+1 or a renewal at n ≥ 1); 0 if none. */
  lastDecision: number;
}

function prepareRenewals(data: RenewalSummary): PreparedRenewals {
  let maxRenewals = 0;
  for (let i = 0; i < data.renewals.length; i++) {
    const w = data.weight ? data.weight[i] : 1;
    if (w > 0) maxRenewals = Math.max(maxRenewals, data.renewals[i]);
  }
  const churnedAt = new Float64Array(maxRenewals + 1);
  const activeAt = new Float64Array(maxRenewals + 1);
  let churned = 0;
  let active = 0;
  let decisions = 0;
  let lastDecision = 0;
  for (let i = 0; i < data.renewals.length; i++) {
    const w = data.weight ? data.weight[i] : 1;
    if (w === 0) continue;
    const n = data.renewals[i];
    if (data.active[i] === 1) {
      activeAt[n] += w;
      active += w;
      decisions += w * n;
      lastDecision = Math.max(lastDecision, n);
    } else {
      churnedAt[n] += w;
      churned += w;
      decisions += w * (n + 1);
      lastDecision = Math.max(lastDecision, n + 1);
    }
  }
  return { maxRenewals, churnedAt, activeAt, contracts: churned + active, churned, active, decisions, lastDecision };
}

/** Weighted log-likelihood at θ = (ln α, ln β); writes ∂LL/∂θ into `gradient`. */
function evaluateRenewals(prep: PreparedRenewals, theta: ArrayLike<number>, gradient: Float64Array): number {
  const alpha = Math.exp(theta[0]);
  const beta = Math.exp(theta[1]);
  const logAlpha = theta[0];
  let logS = 0; // ln S(n)
  let dLogSdA = 0;
  let dLogSdB = 0;
  let ll = 0;
  let dA = 0;
  let dB = 0;
  for (let n = 0; n <= prep.maxRenewals; n++) {
    const wActive = prep.activeAt[n];
    const wChurned = prep.churnedAt[n];
    const total = alpha + beta + n;
    if (wActive > 0) {
      ll += wActive * logS;
      dA += wActive * dLogSdA;
      dB += wActive * dLogSdB;
    }
    if (wChurned > 0) {
      // ln P(T = n+1) = ln S(n) + ln h_(n+1), h_(n+1) = α/(α+β+n).
      ll += wChurned * (logS + logAlpha - Math.log(total));
      dA += wChurned * (dLogSdA + (beta + n) / (alpha * total));
      dB += wChurned * (dLogSdB - 1 / total);
    }
    // Step S(n) → S(n+1) = S(n) (β+n)/(α+β+n).
    logS -= Math.log1p(alpha / (beta + n));
    dLogSdA -= 1 / total;
    dLogSdB += alpha / ((beta + n) * total);
  }
  gradient[0] = alpha * dA;
  gradient[1] = beta * dB;
  return ll;
}

/**
 * Weighted sBG log-likelihood Σ weight · ln L and its gradient w.r.t. (ln α, ln β).
 * Throws a RangeError on invalid data or parameters.
 */
export function sbgLogLikelihood(
  params: SbgParams,
  data: RenewalSummary,
): { logLikelihood: number; gradient: Float64Array } {
  assertParams(params);
  const problem = validateRenewalSummary(data);
  if (problem !== null) throw new RangeError(`sbgLogLikelihood: ${problem}`);
  const gradient = new Float64Array(2);
  const logLikelihood = evaluateRenewals(prepareRenewals(data), [Math.log(params.alpha), Math.log(params.beta)], gradient);
  return { logLikelihood, gradient };
}

/** Empirical hazard at decision t (share of those facing it who left), or NaN if nobody faced it. */
function empiricalHazard(prep: PreparedRenewals, t: number): number {
  // Facing decision t: churned with n ≥ t−1, or active with n ≥ t.
  let facing = 0;
  for (let n = t - 1; n <= prep.maxRenewals; n++) facing += prep.churnedAt[n] + (n >= t ? prep.activeAt[n] : 0);
  return facing > 0 ? prep.churnedAt[t - 1] / facing : NaN;
}

/**
 * Starts: the moment start solving h_1 = α/(α+β), h_2 = α/(α+β+1) for the observed first two
 * hazards (when h_2 < h_1), then generic ones with the observed first hazard and α+β of 0.5, 2, 10.
 */
function startingPoints(prep: PreparedRenewals, extra: SbgParams[]): SbgParams[] {
  const h1 = empiricalHazard(prep, 1);
  const h2 = empiricalHazard(prep, 2);
  const first = h1 > 0 && h1 < 1 ? h1 : prep.churned / prep.decisions;
  const split = (sum: number): SbgParams => ({ alpha: first * sum, beta: (1 - first) * sum });
  const starts: SbgParams[] = [];
  if (h1 > 0 && h1 < 1 && h2 > 0 && h2 < h1) starts.push(split(Math.min(1e4, h2 / (h1 - h2))));
  starts.push(split(0.5), split(2), split(10));
  return [...starts, ...extra];
}

/** The homogeneous (geometric) maximum: θ̂ = churns / decisions and its log-likelihood. */
function geometricMaximum(prep: PreparedRenewals): { churnProbability: number; logLikelihood: number } {
  const theta = prep.churned / prep.decisions;
  const stayed = prep.decisions - prep.churned;
  const ll = (prep.churned > 0 ? prep.churned * Math.log(theta) : 0) + (stayed > 0 ? stayed * Math.log1p(-theta) : 0);
  return { churnProbability: theta, logLikelihood: ll };
}

function unfitted(outcome: SbgOutcome, message: string, prep: PreparedRenewals | null, limit: number | null = null, logLikelihood = NaN): SbgFit {
  return {
    outcome,
    params: null,
    limitChurnProbability: limit,
    logLikelihood,
    converged: false,
    standardErrors: null,
    iterations: 0,
    starts: [],
    message,
    gradientNorm: NaN,
    contracts: prep?.contracts ?? NaN,
    churned: prep?.churned ?? NaN,
    active: prep?.active ?? NaN,
    decisions: prep?.decisions ?? NaN,
  };
}

/**
 * Maximum-likelihood fit of the sBG model. Never throws: invalid input and degenerate data give
 * a labelled outcome (see SbgOutcome) with a message; `converged` is true only for 'fitted'.
 */
export function fitSbg(data: RenewalSummary, opts: SbgFitOptions = {}): SbgFit {
  const problem = validateRenewalSummary(data);
  if (problem !== null) return unfitted('invalid_input', `invalid input: ${problem}`, null);
  const prep = prepareRenewals(data);
  const minContracts = opts.minContracts ?? DEFAULT_MIN_CONTRACTS;
  if (!(prep.contracts > 0)) return unfitted('no_contracts', 'no contracts (no rows with positive weight)', prep);
  if (prep.contracts < minContracts) {
    return unfitted('too_few_contracts', `${prep.contracts} contracts: at least ${minContracts} are needed to fit the sBG model`, prep);
  }
  if (prep.decisions === 0) {
    return unfitted('not_identified', 'no renewal decision observed yet (every contract is active in its first period)', prep);
  }
  if (prep.churned === 0) {
    return unfitted('no_churn', `no contract left in ${prep.decisions} renewal decisions: retention is 1 at the boundary (θ → 0)`, prep, 0, 0);
  }
  if (prep.churned === prep.decisions) {
    return unfitted('no_renewal', `every one of ${prep.decisions} renewal decisions was a departure: retention is 0 at the boundary (θ → 1)`, prep, 1, 0);
  }
  const geometric = geometricMaximum(prep);
  if (prep.lastDecision < 2) {
    return unfitted(
      'not_identified',
      `renewal decisions observed at the first renewal only: the churn share ${geometric.churnProbability.toPrecision(4)} is identified, its spread across customers is not`,
      prep,
      geometric.churnProbability,
      geometric.logLikelihood,
    );
  }

  const scale = 1 / prep.contracts;
  const objective = (theta: Float64Array, gradient: Float64Array): number => {
    const ll = evaluateRenewals(prep, theta, gradient);
    gradient[0] *= -scale;
    gradient[1] *= -scale;
    return -ll * scale;
  };
  const stopWhen = (theta: Float64Array): string | null =>
    Math.abs(theta[0]) > ABORT_LOG_PARAMETER || Math.abs(theta[1]) > ABORT_LOG_PARAMETER ? 'stopped: a parameter is running away' : null;
  const fromLog = (t: ArrayLike<number>): SbgParams => ({ alpha: Math.exp(t[0]), beta: Math.exp(t[1]) });

  const starts: SbgStart[] = [];
  let best: MinimizeResult | null = null;
  let iterations = 0;
  for (const initial of startingPoints(prep, opts.starts ?? [])) {
    if (!(initial.alpha > 0 && initial.beta > 0 && Number.isFinite(initial.alpha) && Number.isFinite(initial.beta))) {
      starts.push({ initial, params: { alpha: NaN, beta: NaN }, logLikelihood: NaN, converged: false, iterations: 0 });
      continue;
    }
    const run = minimizeBfgs(objective, [Math.log(initial.alpha), Math.log(initial.beta)], {
      gradientTolerance: opts.gradientTolerance ?? DEFAULT_GRADIENT_TOLERANCE,
      maxIterations: opts.maxIterations ?? DEFAULT_MAX_ITERATIONS,
      stopWhen,
    });
    iterations += run.iterations;
    starts.push({ initial, params: fromLog(run.x), logLikelihood: -run.f * prep.contracts, converged: run.converged, iterations: run.iterations });
    if (Number.isFinite(run.f) && (best === null || run.f < best.f)) best = run;
  }
  if (best === null) return { ...unfitted('not_converged', 'no starting point gave a finite likelihood', prep), starts, iterations };

  const params = fromLog(best.x);
  const logLikelihood = -best.f * prep.contracts;
  const common = { starts, iterations, gradientNorm: best.gradNorm };
  if (params.alpha + params.beta > HOMOGENEOUS_SUM && geometric.logLikelihood >= logLikelihood - 1e-6 * Math.abs(logLikelihood)) {
    return {
      ...unfitted(
        'homogeneous',
        `the observed churn rate does not fall with tenure: the maximum is at the boundary α, β → ∞ ` +
          `(one churn probability ${geometric.churnProbability.toPrecision(4)} for all, the geometric model)`,
        prep,
        geometric.churnProbability,
        geometric.logLikelihood,
      ),
      ...common,
    };
  }
  const notConverged = (message: string): SbgFit => ({
    ...unfitted('not_converged', message, prep, null, logLikelihood),
    params,
    ...common,
  });
  if (params.alpha < RUNAWAY_SMALL || params.beta < RUNAWAY_SMALL || params.alpha + params.beta > HOMOGENEOUS_SUM) {
    return notConverged(`parameters ran away (α = ${params.alpha.toPrecision(4)}, β = ${params.beta.toPrecision(4)}): ${best.message}`);
  }
  if (!best.converged) return notConverged(`optimiser did not converge: ${best.message}`);
  const gradientAt = (theta: Float64Array) => {
    const g = new Float64Array(2);
    objective(theta, g);
    return g;
  };
  const information = numericHessian(gradientAt, best.x, HESSIAN_STEP).map((row) => row.map((h) => h * prep.contracts));
  const covariance = invertSymmetric(information);
  if (covariance === null) {
    return notConverged('observed information matrix is not positive definite: α and β are not identifiable from these data');
  }
  return {
    outcome: 'fitted',
    params,
    limitChurnProbability: null,
    logLikelihood,
    converged: true,
    standardErrors: { alpha: params.alpha * Math.sqrt(covariance[0][0]), beta: params.beta * Math.sqrt(covariance[1][1]) },
    message: best.message.startsWith('converged') ? best.message : `converged (${best.message})`,
    contracts: prep.contracts,
    churned: prep.churned,
    active: prep.active,
    decisions: prep.decisions,
    ...common,
  };
}

// ---------------------------------------------------------------------------------------------
// Population quantities

/** P(T = t): the share of new contracts that leave at their t-th renewal decision (t ≥ 1). */
export function churnProbability(params: SbgParams, t: number): number {
  assertParams(params);
  if (!Number.isInteger(t) || t < 1) throw new RangeError(`churnProbability: t must be an integer >= 1 (got ${t})`);
  return (survival(params, t - 1) * params.alpha) / (params.alpha + params.beta + t - 1);
}

/** S(t) = P(T > t) = B(α, β+t)/B(α, β): the share of new contracts that make t renewals. */
export function survival(params: SbgParams, t: number): number {
  assertParams(params);
  assertRenewals(t, 't');
  return conditionalSurvival(params, 0, t);
}

/** r_t = S(t)/S(t−1) = (β+t−1)/(α+β+t−1): the share of those facing their t-th renewal who renew (t ≥ 1). */
export function retentionRate(params: SbgParams, t: number): number {
  assertParams(params);
  if (!Number.isInteger(t) || t < 1) throw new RangeError(`retentionRate: t must be an integer >= 1 (got ${t})`);
  return (params.beta + t - 1) / (params.alpha + params.beta + t - 1);
}

/**
 * The projected survival curve of a plan: S(t | n) = S(n+t)/S(n) for t = 0..periods, for
 * contracts that have survived `renewals` = n renewals (n = 0: a new cohort, S(t)).
 */
export function survivalCurve(params: SbgParams, periods: number, renewals = 0): Float64Array {
  assertParams(params);
  assertRenewals(periods, 'periods');
  assertRenewals(renewals);
  const curve = new Float64Array(periods + 1);
  curve[0] = 1;
  for (let t = 1; t <= periods; t++) {
    const n = renewals + t - 1;
    curve[t] = (curve[t - 1] * (params.beta + n)) / (params.alpha + params.beta + n);
  }
  return curve;
}

/** S(n+k)/S(n): the probability that a contract with n renewals makes k more. */
function conditionalSurvival(params: SbgParams, n: number, k: number): number {
  let s = 1;
  for (let j = n; j < n + k; j++) s *= (params.beta + j) / (params.alpha + params.beta + j);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Per contract (n = renewals survived so far; θ | n ~ Beta(α, β+n))

/** P(renew at the next renewal | n renewals survived) = r_(n+1) = (β+n)/(α+β+n). */
export function renewalProbability(params: SbgParams, renewals: number): number {
  assertParams(params);
  assertRenewals(renewals);
  return (params.beta + renewals) / (params.alpha + params.beta + renewals);
}

/** Expected renewals still to come (undiscounted): (β+n)/(α−1) for α > 1, Infinity otherwise. */
export function expectedRemainingRenewals(params: SbgParams, renewals: number): number {
  assertParams(params);
  assertRenewals(renewals);
  return params.alpha > 1 ? (params.beta + renewals) / (params.alpha - 1) : Infinity;
}

/**
 * 2F1(1, b; c; z) = Σ_{k≥0} (b)_k/(c)_k z^k for 0 < b < c and 0 ≤ z < 1. All terms are
 * positive and every term ratio z (b+k)/(c+k) is below z, so the tail after term t is at most
 * t z/(1−z): the sum stops when that bound is below HYPERGEOMETRIC_TOLERANCE × the sum.
 * Throws a RangeError outside the domain and an Error beyond MAX_SERIES_TERMS terms.
 */
export function hypergeometric2F1UnitA(b: number, c: number, z: number): number {
  if (![b, c, z].every(Number.isFinite) || !(b > 0) || !(c > b)) {
    throw new RangeError(`hypergeometric2F1UnitA: needs 0 < b < c (got b=${b}, c=${c})`);
  }
  if (!(z >= 0 && z < 1)) throw new RangeError(`hypergeometric2F1UnitA: z must be in [0, 1) (got ${z})`);
  const tailFactor = z / (1 - z);
  let term = 1;
  let sum = 1;
  for (let k = 0; k < MAX_SERIES_TERMS; k++) {
    if (term * tailFactor <= HYPERGEOMETRIC_TOLERANCE * sum) return sum;
    term *= (z * (b + k)) / (c + k);
    sum += term;
  }
  throw new Error(`hypergeometric2F1UnitA(${b}, ${c}, ${z}): no convergence within ${MAX_SERIES_TERMS} terms`);
}

function assertDiscountRate(discountRate: number, allowZero: boolean): void {
  const ok = Number.isFinite(discountRate) && (discountRate >= MIN_DISCOUNT_RATE || (allowZero && discountRate >= 0));
  if (!ok) {
    throw new RangeError(
      `sBG: the per-period discount rate must be finite and >= ${allowZero ? 0 : MIN_DISCOUNT_RATE} (got ${discountRate})`,
    );
  }
}

/**
 * Discounted expected residual lifetime of a contract with n renewals survived (Fader & Hardie
 * 2010's DERL with their "n − 1 renewals" = our n):
 *   DERL = Σ_{k≥1} S(n+k)/S(n) (1+d)^(−(k−1)) = (β+n)/(α+β+n) · 2F1(1, β+n+1; α+β+n+1; 1/(1+d)),
 * in periods: the next renewal's payment counts undiscounted, each later one one period more
 * discounted. d is the per-period discount rate (annual for annual policies); d = 0 gives the
 * undiscounted expectation (Infinity when α ≤ 1); 0 < d < MIN_DISCOUNT_RATE is rejected.
 */
export function discountedExpectedResidualLifetime(params: SbgParams, renewals: number, discountRate: number): number {
  assertParams(params);
  assertRenewals(renewals);
  if (discountRate === 0) return expectedRemainingRenewals(params, renewals);
  assertDiscountRate(discountRate, false);
  const { alpha, beta } = params;
  const n = renewals;
  return ((beta + n) / (alpha + beta + n)) * hypergeometric2F1UnitA(beta + n + 1, alpha + beta + n + 1, 1 / (1 + discountRate));
}

/** Residual value: premium per period × DERL (expected future premiums, discounted). */
export function residualValue(params: SbgParams, renewals: number, premium: number, discountRate: number): number {
  const derl = discountedExpectedResidualLifetime(params, renewals, discountRate);
  return premium === 0 ? 0 : premium * derl;
}

/**
 * Residual value over a horizon of `periods` renewals: premium × Σ_{k=1}^{periods}
 * S(n+k)/S(n) (1+d)^(−(k−1)), the same timing as DERL but stopping after `periods` renewals;
 * any d ≥ 0 is allowed.
 */
export function residualValueOverHorizon(
  params: SbgParams,
  renewals: number,
  premium: number,
  discountRate: number,
  periods: number,
): number {
  assertParams(params);
  assertRenewals(renewals);
  assertRenewals(periods, 'periods');
  assertDiscountRate(discountRate, true);
  const discount = 1 / (1 + discountRate);
  let survive = 1;
  let factor = 1;
  let sum = 0;
  for (let k = 1; k <= periods; k++) {
    const j = renewals + k - 1;
    survive *= (params.beta + j) / (params.alpha + params.beta + j);
    sum += survive * factor;
    factor *= discount;
  }
  return premium * sum;
}

// ---------------------------------------------------------------------------------------------
// The model to predict with: the sBG, or its geometric limit at a boundary

/**
 * What a fit predicts with: the sBG itself, or at a boundary its limit, the geometric model in
 * which every customer leaves at each renewal decision with the same probability θ (θ = 0 or 1
 * for no_churn / no_renewal, θ̂ for homogeneous and not_identified). For the geometric model
 * S(t | n) = (1−θ)^t, P(renew) = 1−θ and DERL = (1−θ) / (1 − (1−θ)/(1+d)).
 */
export type RetentionModel =
  | { kind: 'sbg'; params: SbgParams }
  | { kind: 'geometric'; churnProbability: number };

/** The model a fit predicts with, or null when nothing was fitted (no data, invalid, not converged). */
export function retentionModelOf(fit: SbgFit): RetentionModel | null {
  if (fit.outcome === 'fitted' && fit.params !== null) return { kind: 'sbg', params: fit.params };
  if (fit.limitChurnProbability !== null) return { kind: 'geometric', churnProbability: fit.limitChurnProbability };
  return null;
}

function assertModel(model: RetentionModel): void {
  if (model.kind === 'sbg') assertParams(model.params);
  else if (!(model.churnProbability >= 0 && model.churnProbability <= 1)) {
    throw new RangeError(`geometric churn probability must be in [0, 1] (got ${model.churnProbability})`);
  }
}

/** P(renew at the next renewal | n renewals survived) under either model. */
export function modelRenewalProbability(model: RetentionModel, renewals: number): number {
  assertModel(model);
  if (model.kind === 'sbg') return renewalProbability(model.params, renewals);
  assertRenewals(renewals);
  return 1 - model.churnProbability;
}

/** DERL under either model (d = 0: undiscounted, Infinity if the sum diverges). */
export function modelDerl(model: RetentionModel, renewals: number, discountRate: number): number {
  assertModel(model);
  if (model.kind === 'sbg') return discountedExpectedResidualLifetime(model.params, renewals, discountRate);
  assertRenewals(renewals);
  assertDiscountRate(discountRate, true);
  const stay = 1 - model.churnProbability;
  const ratio = stay / (1 + discountRate);
  return ratio >= 1 ? Infinity : stay / (1 - ratio);
}

/** Residual value over `periods` renewals (see residualValueOverHorizon) under either model. */
export function modelResidualValueOverHorizon(
  model: RetentionModel,
  renewals: number,
  premium: number,
  discountRate: number,
  periods: number,
): number {
  assertModel(model);
  if (model.kind === 'sbg') return residualValueOverHorizon(model.params, renewals, premium, discountRate, periods);
  assertRenewals(renewals);
  assertRenewals(periods, 'periods');
  assertDiscountRate(discountRate, true);
  const stay = 1 - model.churnProbability;
  const discount = 1 / (1 + discountRate);
  let sum = 0;
  let term = stay;
  for (let k = 1; k <= periods; k++) {
    sum += term;
    term *= stay * discount;
  }
  return premium * sum;
}

/** The projected survival curve S(t | n), t = 0..periods, under either model (see survivalCurve). */
export function modelSurvivalCurve(model: RetentionModel, periods: number, renewals = 0): Float64Array {
  assertModel(model);
  if (model.kind === 'sbg') return survivalCurve(model.params, periods, renewals);
  assertRenewals(periods, 'periods');
  assertRenewals(renewals);
  const stay = 1 - model.churnProbability;
  return Float64Array.from({ length: periods + 1 }, (_, t) => stay ** t);
}

/** Per-contract predictions for many contracts; values computed once per distinct renewal count. */
export interface ContractPredictions {
  renewalProbability: Float64Array;
  /** DERL in periods (see discountedExpectedResidualLifetime). */
  derl: Float64Array;
  /** premium × DERL, or premium × the horizon sum when `horizonPeriods` is given. */
  residualValue: Float64Array;
}

/**
 * Renewal probability, DERL and residual value under `model` (the sBG or its geometric limit,
 * see retentionModelOf) for contracts given as renewals[i] and premium[i] (per period). With
 * `horizonPeriods` the residual value stops after that many renewals
 * (residualValueOverHorizon); DERL is always the infinite-horizon one. A premium of 0 is worth 0
 * even where DERL is infinite (d = 0, α ≤ 1).
 */
export function predictContracts(
  model: RetentionModel,
  renewals: ArrayLike<number>,
  premium: ArrayLike<number>,
  opts: { discountRate: number; horizonPeriods?: number },
): ContractPredictions {
  assertModel(model);
  if (premium.length !== renewals.length) throw new RangeError('predictContracts: renewals and premium must have the same length');
  const n = renewals.length;
  const out: ContractPredictions = {
    renewalProbability: new Float64Array(n),
    derl: new Float64Array(n),
    residualValue: new Float64Array(n),
  };
  const cache = new Map<number, { p: number; derl: number; perPremium: number }>();
  for (let i = 0; i < n; i++) {
    const r = renewals[i];
    let entry = cache.get(r);
    if (entry === undefined) {
      const derl = modelDerl(model, r, opts.discountRate);
      entry = {
        p: modelRenewalProbability(model, r),
        derl,
        perPremium: opts.horizonPeriods === undefined ? derl : modelResidualValueOverHorizon(model, r, 1, opts.discountRate, opts.horizonPeriods),
      };
      cache.set(r, entry);
    }
    out.renewalProbability[i] = entry.p;
    out.derl[i] = entry.derl;
    out.residualValue[i] = premium[i] === 0 ? 0 : premium[i] * entry.perPremium;
  }
  return out;
}
