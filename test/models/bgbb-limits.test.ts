/**
 * The BG/BB at its no-dropout boundary (src/models/bgbb-limits.ts): the limit's closed forms
 * against the interior BG/BB evaluated next to the boundary (δ = 1e8, so γ/(γ+δ) ≈ 1e−8) and
 * against direct summation / quadrature of the individual-level model (p ~ Beta(α, β), one
 * Bernoulli trial per opportunity, nobody leaves); the fit lands on the boundary on data
 * simulated without dropout and recovers α, β; interior data keep the interior fit; the
 * intervals at the limit are the delta method on (ln α, ln β).
 */
import { describe, expect, it } from 'vitest';
import {
  bgbbConditionalExpectedPurchases,
  bgbbDiscountedExpectedPurchases,
  bgbbLogLikelihood,
  bgbbLogLikelihoodOne,
  bgbbPAlive,
  bgbbPNoPurchase,
  bgbbPurchaseProbabilities,
  type BgBbParams,
} from '../../src/models/bgbb.js';
import {
  bgbbModelDiscountedExpectedPurchases,
  bgbbModelLogLikelihood,
  bgbbModelOf,
  bgbbModelPurchaseProbabilities,
  fitBgBbFamily,
  noDropoutLogLikelihoodOne,
  predictBgBbModel,
  type BgBbModel,
} from '../../src/models/bgbb-limits.js';
import { bgbbHistoryIntervals, logNormalBounds, zOfLevel } from '../../src/models/intervals.js';
import { fitBgBbModel } from '../../src/models/purchase-models.js';
import { Rng } from '../../src/models/random.js';
import { compressRfm } from '../../src/models/rfm-data.js';
import { simulateBgBb } from '../../src/models/simulate.js';
import { lgamma } from '../../src/models/special.js';
import { tanhSinhNodes } from './quadrature.js';

const AB = { alpha: 1.3, beta: 4.2 };
const LIMIT: BgBbModel = { boundary: 'no_dropout', params: AB };
/** The interior BG/BB next to the boundary: E[θ] = 1/(1 + 1e8). */
const NEAR: BgBbParams = { ...AB, gamma: 1, delta: 1e8 };
const HISTORIES: [number, number, number][] = [
  [0, 0, 0],
  [0, 0, 7],
  [1, 1, 7],
  [3, 5, 7],
  [7, 7, 7],
  [2, 9, 30],
];

const logChoose = (m: number, k: number) => lgamma(m + 1) - lgamma(k + 1) - lgamma(m - k + 1);
const lbeta = (u: number, v: number) => lgamma(u) + lgamma(v) - lgamma(u + v);

describe('BG/BB no-dropout limit: closed forms', () => {
  it('are the interior BG/BB evaluated next to the boundary (δ = 1e8, γ/(γ+δ) ≈ 1e−8)', () => {
    // The interior values differ from the limit's by O(E[θ]·(n + n*)) ≈ 1e−6 here (and the interior
    // code's ln B(γ, δ+n) at δ = 1e8 is itself good to about 1e−7).
    const data = { x: Float64Array.from(HISTORIES, (h) => h[0]), tx: Float64Array.from(HISTORIES, (h) => h[1]), T: Float64Array.from(HISTORIES, (h) => h[2]), weight: new Float64Array(HISTORIES.length).fill(2) };
    const limit = predictBgBbModel(LIMIT, data, 12);
    const discount = Float64Array.from({ length: 12 }, (_, k) => 1.01 ** -(k + 1));
    HISTORIES.forEach(([x, tx, n], i) => {
      expect(noDropoutLogLikelihoodOne(AB, x, tx, n)).toBeCloseTo(bgbbLogLikelihoodOne(NEAR, x, tx, n), 5);
      expect(limit.pAlive[i]).toBe(1);
      expect(bgbbPAlive(NEAR, x, tx, n)).toBeCloseTo(1, 5);
      expect(limit.expectedPurchases[i]).toBeCloseTo(bgbbConditionalExpectedPurchases(NEAR, 12, x, tx, n), 5);
      expect(limit.pNoPurchase[i]).toBeCloseTo(bgbbPNoPurchase(NEAR, 12, x, tx, n), 5);
      const probabilities = bgbbModelPurchaseProbabilities(LIMIT, 12, x, tx, n);
      const near = bgbbPurchaseProbabilities(NEAR, 12, x, tx, n);
      for (let k = 0; k < 12; k++) expect(probabilities[k]).toBeCloseTo(near[k], 5);
      expect(bgbbModelDiscountedExpectedPurchases(LIMIT, discount, x, tx, n)).toBeCloseTo(bgbbDiscountedExpectedPurchases(NEAR, discount, x, tx, n), 5);
    });
    expect(bgbbModelLogLikelihood(LIMIT, data)).toBeCloseTo(bgbbLogLikelihood(NEAR, data), 4);
  });

  it('are direct sums over the individual-level model: the predictive beta-binomial of the next n* opportunities, and quadrature over p', () => {
    const nodes = tanhSinhNodes(1 / 32, 4.2);
    const prior = (p: number, q: number) => Math.exp((AB.alpha - 1) * Math.log(p) + (AB.beta - 1) * Math.log(q) - lbeta(AB.alpha, AB.beta));
    const horizon = 9;
    for (const [x, tx, n] of HISTORIES) {
      // L = ∫ p^x (1−p)^(n−x) Beta(p; α, β) dp: one sequence with x transactions in n trials.
      const L = nodes.reduce((s, u) => s + u.w * u.x ** x * u.oneMinusX ** (n - x) * prior(u.x, u.oneMinusX), 0);
      expect(Math.exp(noDropoutLogLikelihoodOne(AB, x, tx, n))).toBeCloseTo(L, 10);
      // Posterior predictive of K transactions in the next n* opportunities, summed directly.
      const pk = Array.from({ length: horizon + 1 }, (_, k) => {
        const joint = nodes.reduce((s, u) => s + u.w * u.x ** (x + k) * u.oneMinusX ** (n - x + horizon - k) * prior(u.x, u.oneMinusX), 0);
        return Math.exp(logChoose(horizon, k)) * joint / L;
      });
      const out = predictBgBbModel(LIMIT, { x: Float64Array.of(x), tx: Float64Array.of(tx), T: Float64Array.of(n), weight: Float64Array.of(1) }, horizon);
      expect(pk.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(out.pNoPurchase[0]).toBeCloseTo(pk[0], 9);
      expect(out.expectedPurchases[0]).toBeCloseTo(pk.reduce((s, p, k) => s + k * p, 0), 9);
      expect(out.expectedPurchases[0]).toBeCloseTo((horizon * (AB.alpha + x)) / (AB.alpha + AB.beta + n), 12);
    }
    // Over every sequence of n opportunities the likelihoods sum to 1 (C(n, x) sequences per x).
    for (const n of [1, 5, 12]) {
      let total = 0;
      for (let x = 0; x <= n; x++) total += Math.exp(logChoose(n, x) + noDropoutLogLikelihoodOne(AB, x, x === 0 ? 0 : n, n));
      expect(total).toBeCloseTo(1, 12);
    }
  });

  it('bgbbModelOf reads a stored report: the no-dropout limit without gamma/delta, the BG/BB with them', () => {
    expect(bgbbModelOf({ alpha: 1, beta: 2, gamma: null, delta: null, boundary: 'no_dropout' })).toEqual({ boundary: 'no_dropout', params: { alpha: 1, beta: 2 } });
    expect(bgbbModelOf({ alpha: 1, beta: 2 })).toEqual({ boundary: 'no_dropout', params: { alpha: 1, beta: 2 } });
    expect(bgbbModelOf({ alpha: 1, beta: 2, gamma: 3, delta: 4, boundary: null })).toEqual({ boundary: null, params: { alpha: 1, beta: 2, gamma: 3, delta: 4 } });
  });
});

/** n opportunities after the first per customer (n from 6 to 24), p ~ Beta(α, β), nobody leaves. */
function simulateNoDropout(params: { alpha: number; beta: number }, customers: number, rng: Rng) {
  const x = new Float64Array(customers);
  const tx = new Float64Array(customers);
  const T = new Float64Array(customers);
  for (let i = 0; i < customers; i++) {
    const p = rng.beta(params.alpha, params.beta);
    T[i] = 6 + Math.floor(rng.uniform() * 19);
    for (let t = 1; t <= T[i]; t++) {
      if (rng.uniform() < p) {
        x[i]++;
        tx[i] = t;
      }
    }
  }
  return compressRfm(x, tx, T);
}

describe('BG/BB family fit (fitBgBbFamily)', () => {
  it('lands on the no-dropout boundary on data simulated without dropout and recovers α, β; its log-likelihood is at least the runaway interior one', () => {
    const truth = { alpha: 0.8, beta: 3.5 };
    // With the truth on the boundary the unrestricted MLE lands there about half the time (seeds
    // 2 and 5 of 0–5; elsewhere it converges inside with γ/(γ+δ) ≈ 1e−3 and is used as it is).
    const data = simulateNoDropout(truth, 20_000, new Rng(5));
    const fit = fitBgBbFamily(data);
    expect(fit.full.converged).toBe(false);
    expect(fit.model?.boundary).toBe('no_dropout');
    expect(fit.converged).toBe(true);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(fit.full.logLikelihood - 1e-6 * fit.customers);
    expect(fit.logLikelihood).toBeCloseTo(bgbbModelLogLikelihood(fit.model!, data), 6);
    const se = fit.standardErrors!;
    for (const name of ['alpha', 'beta'] as const) {
      const estimate = (fit.model!.params as { alpha: number; beta: number })[name];
      expect(Math.abs(estimate - truth[name])).toBeLessThan(3 * se[name]);
    }
    expect(fit.covariance).toHaveLength(2);
    // A maximum: no small step in ln α or ln β raises the likelihood.
    const at = (a: number, b: number) => bgbbModelLogLikelihood({ boundary: 'no_dropout', params: { alpha: a, beta: b } }, data);
    const { alpha, beta } = fit.model!.params;
    for (const [da, db] of [[1e-3, 0], [-1e-3, 0], [0, 1e-3], [0, -1e-3]]) expect(at(alpha * Math.exp(da), beta * Math.exp(db))).toBeLessThan(at(alpha, beta));
    // The run's report: the limit's parameters, gamma and delta null, the boundary named.
    const report = fitBgBbModel(data).report;
    expect(report).toMatchObject({ boundary: 'no_dropout', gamma: null, delta: null, alpha, beta, converged: true });
  });

  it('keeps the interior fit on data with dropout (the donors’ parameters)', () => {
    const sim = simulateBgBb({ alpha: 1.204, beta: 0.75, gamma: 0.657, delta: 2.783 }, 5000, 6, new Rng(7));
    const fit = fitBgBbFamily(compressRfm(sim.x, sim.tx, sim.T));
    expect(fit.model?.boundary).toBeNull();
    expect(fit.limit).toBeNull();
    expect(fitBgBbModel(compressRfm(sim.x, sim.tx, sim.T)).report.boundary).toBeNull();
  });
});

describe('BG/BB intervals at the no-dropout limit', () => {
  it('are the delta method on (ln α, ln β): ∂ ln E/∂ ln α = α/(α+x) − α/(α+β+n), ∂ ln E/∂ ln β = −β/(α+β+n)', () => {
    const covariance = [
      [0.003, 0.002],
      [0.002, 0.004],
    ];
    const data = { x: Float64Array.of(0, 2, 7), tx: Float64Array.of(0, 4, 7), T: Float64Array.of(7, 7, 7), weight: Float64Array.of(1, 1, 1) };
    const ones = new Float64Array(5).fill(1);
    const out = bgbbHistoryIntervals(LIMIT, covariance, data, 5, ones, 0.9);
    const { alpha, beta } = AB;
    for (let i = 0; i < 3; i++) {
      const [x, n] = [data.x[i], data.T[i]];
      const g = [alpha / (alpha + x) - alpha / (alpha + beta + n), -beta / (alpha + beta + n)];
      const sd = Math.sqrt(g[0] * g[0] * covariance[0][0] + 2 * g[0] * g[1] * covariance[0][1] + g[1] * g[1] * covariance[1][1]);
      const [low, high] = logNormalBounds((5 * (alpha + x)) / (alpha + beta + n), sd, zOfLevel(0.9));
      expect(out.expectedPurchasesLow[i]).toBeCloseTo(low, 5);
      expect(out.expectedPurchasesHigh[i]).toBeCloseTo(high, 5);
      expect(out.discountedLogSd[i]).toBeCloseTo(sd, 5);
    }
  });
});
