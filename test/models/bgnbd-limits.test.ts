/**
 * The BG/NBD at the boundary of its parameter space (src/models/bgnbd-limits.ts): the limiting
 * models' likelihoods are the limits of the BG/NBD one, their per-customer quantities the limits
 * of the BG/NBD ones (and match independent quadratures), data simulated with the truth at a
 * boundary are fitted there, and the published CDNOW fit is reproduced from the real data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  bgnbdLogLikelihood,
  compressRfm,
  conditionalExpectedPurchases,
  expectedPurchasesIfAlive,
  pAlive,
  type BgNbdParams,
  type RfmSummary,
} from '../../src/models/bgnbd.js';
import {
  fitBoundaryLimits,
  fitPurchaseModel,
  meanPurchaseRate,
  modelConditionalExpectedPurchases,
  modelExpectedPurchasesIfAlive,
  modelPAlive,
  modelPNoPurchase,
  predictPurchases,
  purchaseModelLogLikelihood,
  type PurchaseModel,
  type PurchaseParams,
} from '../../src/models/bgnbd-limits.js';
import { discountedExpectedPurchases, discountedExpectedPurchasesAll } from '../../src/models/clv.js';
import { Rng } from '../../src/models/random.js';
import { expSinhNodes, integrateHalfLine, integrateUnit, tanhSinhNodes } from './quadrature.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/cdnow/cdnow_customers_summary.csv');

function readCdnow(): RfmSummary {
  const rows = fs.readFileSync(FIXTURE, 'utf8').trim().split('\n').slice(1).map((line) => line.split(',').map(Number));
  return compressRfm(Float64Array.from(rows, (r) => r[1]), Float64Array.from(rows, (r) => r[2]), Float64Array.from(rows, (r) => r[3]));
}

/**
 * Customers observed for T ~ U[20, 78] weeks (recorded to the day), buying as a Poisson
 * process of rate rateOf() and dropping out after each repeat purchase with probability
 * dropoutOf() (0: never).
 */
function simulate(n: number, seed: number, rateOf: (rng: Rng) => number, dropoutOf: (rng: Rng) => number = () => 0): RfmSummary {
  const rng = new Rng(seed);
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const T = new Float64Array(n);
  const day = (t: number) => Math.round(t * 7) / 7;
  for (let i = 0; i < n; i++) {
    T[i] = day(20 + 58 * rng.uniform());
    const lambda = rateOf(rng);
    const p = dropoutOf(rng);
    let t = 0;
    for (;;) {
      t += rng.exponential(lambda);
      if (t > T[i]) break;
      x[i]++;
      tx[i] = Math.min(day(t), T[i]);
      if (p > 0 && rng.uniform() < p) break;
    }
  }
  return compressRfm(x, tx, T);
}

const nbdTruth = { r: 0.8, alpha: 10 };
const sharedRate = 0.3;
const dropoutTruth = { a: 1, b: 3 };
const noDropoutData = (seed: number) => simulate(3000, seed, (rng) => rng.gamma(nbdTruth.r, nbdTruth.alpha));
const poissonData = (seed: number) => simulate(3000, seed, () => sharedRate);
const poissonDropoutData = (seed: number) => simulate(3000, seed, () => sharedRate, (rng) => rng.beta(dropoutTruth.a, dropoutTruth.b));

function expectRelative(actual: number, expected: number, tolerance: number, label = ''): void {
  expect(Math.abs(actual - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance * Math.max(Math.abs(expected), 1e-300));
}

/**
 * Each limit, and BG/NBD parameters a step away from it along the ray that leads there.
 * The dropout term of a lapsed heavy buyer carries a · ((α+T)/(α+t_x))^(r+x), which can reach
 * 1e20 on these data: the no-dropout ray needs a far below that. Along a, b → ∞ (and r → ∞) the
 * distance to the limit is O(x/(a+b)) (O(x/r)), so those checks use tolerances of that order, × (1 + x)
 * (eq. 10's series is not evaluable beyond a + b ≈ 1e4, where fits are reported as runaways
 * anyway); the quadratures below check the limits' closed forms tightly.
 */
const LIMITS: { label: string; model: PurchaseModel; near: BgNbdParams; tolerance: number }[] = [
  { label: 'no dropout (a → 0)', model: { boundary: 'no_dropout', params: { r: 0.7, alpha: 9 } }, near: { r: 0.7, alpha: 9, a: 1e-30, b: 2 }, tolerance: 1e-9 },
  { label: 'homogeneous dropout', model: { boundary: 'homogeneous_dropout', params: { r: 0.7, alpha: 9, p: 0.2 } }, near: { r: 0.7, alpha: 9, a: 400, b: 1600 }, tolerance: 1e-3 },
  { label: 'homogeneous rates', model: { boundary: 'homogeneous_rates', params: { rate: 0.25, a: 0.8, b: 2.5 } }, near: { r: 1e8, alpha: 4e8, a: 0.8, b: 2.5 }, tolerance: 1e-5 },
  { label: 'Poisson', model: { boundary: 'no_dropout+homogeneous_rates', params: { rate: 0.25 } }, near: { r: 1e8, alpha: 4e8, a: 1e-30, b: 2 }, tolerance: 1e-5 },
  { label: 'homogeneous rates and dropout', model: { boundary: 'homogeneous_dropout+homogeneous_rates', params: { rate: 0.25, p: 0.2 } }, near: { r: 1e8, alpha: 4e8, a: 400, b: 1600 }, tolerance: 1e-3 },
];

/** (x, t_x, T) histories: new, typical, lapsed and very frequent customers. */
const HISTORIES: [number, number, number][] = [
  [0, 0, 30],
  [1, 5, 30],
  [3, 20, 38],
  [2, 1, 39],
  [10, 35, 39],
  [40, 38.5, 39],
];

describe('the limits of the BG/NBD likelihood', () => {
  const data = simulate(2000, 3, (rng) => rng.gamma(1.2, 8), (rng) => rng.beta(1, 4));
  for (const { label, model, near, tolerance } of LIMITS) {
    it(`the full likelihood tends to the limiting model's along the ray (${label})`, () => {
      expectRelative(bgnbdLogLikelihood(near, data), purchaseModelLogLikelihood(model, data), tolerance, label);
    });
  }

  it('the no-dropout gap closes in proportion to a', () => {
    const nbd = purchaseModelLogLikelihood(LIMITS[0].model, data);
    const gap = (a: number) => bgnbdLogLikelihood({ ...LIMITS[0].near, a }, data) - nbd;
    expect(Math.abs(gap(1e-12))).toBeLessThan(Math.abs(gap(1e-9)));
    expect(Math.abs(gap(1e-18))).toBeLessThan(Math.abs(gap(1e-12)));
    expect(Math.abs(gap(1e-30))).toBeLessThan(1e-9 * Math.abs(nbd));
  });
});

describe('per-customer quantities at the boundary', () => {
  for (const { label, model, near, tolerance: rayTolerance } of LIMITS) {
    it(`P(alive), E[Y(t)] and P(no purchase) are the full model's limits (${label})`, () => {
      for (const [x, tx, T] of HISTORIES) {
        const at = `${label} x=${x} t_x=${tx} T=${T}`;
        const tolerance = rayTolerance * (1 + x);
        expectRelative(modelPAlive(model, x, tx, T), pAlive(near, x, tx, T), tolerance, at);
        expectRelative(modelConditionalExpectedPurchases(model, 26, x, tx, T), conditionalExpectedPurchases(near, 26, x, tx, T), tolerance, at);
        // BG/NBD P(no purchase): dead, or alive and silent with probability ((α+T)/(α+T+t))^(r+x).
        const alive = pAlive(near, x, tx, T);
        const silent = Math.pow((near.alpha + T) / (near.alpha + T + 26), near.r + x);
        expectRelative(modelPNoPurchase(model, 26, x, tx, T), 1 - alive + alive * silent, tolerance, at);
      }
    });
  }

  it('E[Y(t) | alive] with one shared rate equals quadrature over p ~ Beta(a, b + x) of (1 − e^(−λpt))/p', () => {
    const nodes = tanhSinhNodes(1 / 64, 4.5);
    for (const { a, b, rate } of [{ a: 0.8, b: 2.5, rate: 0.25 }, { a: 0.3, b: 0.6, rate: 2 }, { a: 3, b: 12, rate: 0.05 }]) {
      const model: PurchaseModel = { boundary: 'homogeneous_rates', params: { rate, a, b } };
      for (const [x, , T] of HISTORIES) {
        for (const t of [1, 26, 104]) {
          const B = b + x;
          const logBeta = lgammaOf(a) + lgammaOf(B) - lgammaOf(a + B);
          const integral = integrateUnit((p, q) => Math.exp((a - 1) * Math.log(p) + (B - 1) * Math.log(q) - logBeta) * (-Math.expm1(-rate * p * t) / p), nodes);
          expectRelative(modelExpectedPurchasesIfAlive(model, t, x, T), integral, 1e-9, `a=${a} b=${b} λ=${rate} x=${x} t=${t}`);
        }
      }
    }
  });

  it('E[Y(t) | alive] with one shared dropout p equals quadrature over λ ~ Gamma(r + x, α + T) of (1 − e^(−λpt))/p', () => {
    const nodes = expSinhNodes(1 / 64, -4.5, 3.5);
    const model: PurchaseModel = { boundary: 'homogeneous_dropout', params: { r: 0.7, alpha: 9, p: 0.15 } };
    for (const [x, , T] of HISTORIES) {
      const shape = 0.7 + x;
      const rate = 9 + T;
      const logNorm = shape * Math.log(rate) - lgammaOf(shape);
      const integral = integrateHalfLine((l) => Math.exp(logNorm + (shape - 1) * Math.log(l) - rate * l) * (-Math.expm1(-l * 0.15 * 52) / 0.15), shape / rate, nodes);
      expectRelative(modelExpectedPurchasesIfAlive(model, 52, x, T), integral, 1e-8, `x=${x}`);
    }
  });

  it('the homogeneous-rate expectation stays finite and below λt for large λt', () => {
    const model: PurchaseModel = { boundary: 'homogeneous_rates', params: { rate: 50, a: 0.5, b: 4 } };
    const value = modelExpectedPurchasesIfAlive(model, 52, 3, 30);
    expect(value).toBeGreaterThan(0);
    expect(value).toBeLessThan(50 * 52);
    expect(modelExpectedPurchasesIfAlive({ boundary: 'homogeneous_rates', params: { rate: 50, a: 0.5, b: 1e12 } }, 52, 3, 30)).toBeCloseTo(50 * 52, 3);
  });

  it('predictions and discounted purchases for all triples equal the per-customer functions', () => {
    const data = noDropoutData(11);
    for (const { model } of LIMITS) {
      const prediction = predictPurchases(model, data, 52);
      const discounted = discountedExpectedPurchasesAll(model, data, { horizon: 52, unitsPerYear: 52, annualDiscountRate: 0.1 });
      const undiscounted = discountedExpectedPurchasesAll(model, data, { horizon: 52, unitsPerYear: 52, annualDiscountRate: 0 });
      for (let i = 0; i < data.x.length; i += 17) {
        const [x, tx, T] = [data.x[i], data.tx[i], data.T[i]];
        expectRelative(prediction.pAlive[i], modelPAlive(model, x, tx, T), 1e-14);
        expectRelative(prediction.expectedPurchases[i], modelConditionalExpectedPurchases(model, 52, x, tx, T), 1e-12);
        expectRelative(prediction.pNoPurchase[i], modelPNoPurchase(model, 52, x, tx, T), 1e-14);
        expectRelative(discounted[i], discountedExpectedPurchases(model, x, tx, T, { horizon: 52, unitsPerYear: 52, annualDiscountRate: 0.1 }), 1e-12);
        expectRelative(undiscounted[i], prediction.expectedPurchases[i], 1e-12);
        expect(discounted[i]).toBeLessThanOrEqual(undiscounted[i]);
      }
    }
  });
});

describe('fitting data whose truth is at a boundary', () => {
  it('no dropout (NBD purchases): every sample gets a model, at a no-dropout limit when the maximum is there, and r/alpha is recovered', () => {
    const boundaries = new Set<string | null>();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const fit = fitPurchaseModel(noDropoutData(seed));
      expect(fit.model, `seed ${seed}: ${fit.message}`).not.toBeNull();
      boundaries.add(fit.model!.boundary);
      expectRelative(meanPurchaseRate(fit.model!), nbdTruth.r / nbdTruth.alpha, 0.06, `seed ${seed}`);
      if (fit.model!.boundary !== null) {
        // At the boundary: the unrestricted fit ran towards it and the limit is at least as likely.
        expect(fit.full.converged).toBe(false);
        expect(fit.logLikelihood).toBeGreaterThanOrEqual(fit.full.logLikelihood - 1e-6 * fit.customers);
      }
    }
    expect(boundaries.has('no_dropout')).toBe(true);
  });

  it('no dropout, seed 1: the NBD limit with its own maximum, standard errors and the truth within 4 of them', () => {
    const data = noDropoutData(1);
    const fit = fitPurchaseModel(data);
    expect(fit.model!.boundary).toBe('no_dropout');
    const params = fit.model!.params as PurchaseParams;
    expect(Object.keys(params).sort()).toEqual(['alpha', 'r']);
    expect(fit.logLikelihood).toBeCloseTo(purchaseModelLogLikelihood(fit.model!, data), 6);
    for (const name of ['r', 'alpha'] as const) {
      expect(Math.abs(params[name]! - nbdTruth[name])).toBeLessThan(4 * fit.standardErrors![name]);
      // A maximum: a 1 % step either way lowers the likelihood.
      for (const factor of [0.99, 1.01]) {
        const moved: PurchaseModel = { boundary: 'no_dropout', params: { ...params, [name]: params[name]! * factor } };
        expect(purchaseModelLogLikelihood(moved, data)).toBeLessThan(fit.logLikelihood);
      }
    }
  });

  it('one Poisson rate for all, nobody drops out: the Poisson limit, rate = Σx/ΣT', () => {
    const data = poissonData(1);
    const fit = fitPurchaseModel(data);
    expect(fit.model!.boundary).toBe('no_dropout+homogeneous_rates');
    let sumX = 0;
    let sumT = 0;
    for (let i = 0; i < data.x.length; i++) (sumX += data.weight[i] * data.x[i]), (sumT += data.weight[i] * data.T[i]);
    expect(fit.model!.params).toEqual({ rate: sumX / sumT });
    expect(Math.abs(sumX / sumT - sharedRate)).toBeLessThan(4 * fit.standardErrors!.rate);
    expect(fit.logLikelihood).toBeCloseTo(purchaseModelLogLikelihood(fit.model!, data), 6);
  });

  it('one Poisson rate for all, beta-geometric dropout: the homogeneous-rate limit recovers rate, a and b', () => {
    const fit = fitPurchaseModel(poissonDropoutData(1));
    expect(fit.model!.boundary).toBe('homogeneous_rates');
    const params = fit.model!.params as Required<Pick<PurchaseParams, 'rate' | 'a' | 'b'>>;
    const se = fit.standardErrors!;
    expect(Math.abs(params.rate - sharedRate)).toBeLessThan(4 * se.rate);
    expect(Math.abs(params.a - dropoutTruth.a)).toBeLessThan(4 * se.a);
    expect(Math.abs(params.b - dropoutTruth.b)).toBeLessThan(4 * se.b);
  });

  it('every limit is fitted at its own maximum (the grouped likelihood equals the row-by-row one)', () => {
    const data = simulate(1500, 9, (rng) => rng.gamma(2, 10), (rng) => rng.beta(2, 6));
    for (const limit of fitBoundaryLimits(data)) {
      if (!Number.isFinite(limit.logLikelihood)) continue;
      expect(limit.logLikelihood, String(limit.model.boundary)).toBeCloseTo(purchaseModelLogLikelihood(limit.model, data), 6);
    }
  });

  it('interior data keep the BG/NBD and degenerate data get no model', () => {
    const interior = fitPurchaseModel(simulate(3000, 5, (rng) => rng.gamma(0.8, 6), (rng) => rng.beta(1, 3)));
    expect(interior.model!.boundary).toBeNull();
    expect(interior.limits).toEqual([]);
    const noRepeats = compressRfm(Float64Array.of(0, 0, 0), Float64Array.of(0, 0, 0), Float64Array.of(5, 6, 7));
    const none = fitPurchaseModel(noRepeats);
    expect([none.model, none.converged]).toEqual([null, false]);
    expect(none.message).toMatch(/no customer made a repeat purchase/);
  });
});

describe('CDNOW (Fader, Hardie & Lee 2005)', () => {
  it('reproduces the published estimates and log-likelihood on the 2,357-customer summary (weeks)', () => {
    const data = readCdnow();
    let customers = 0;
    for (let i = 0; i < data.weight.length; i++) customers += data.weight[i];
    expect(customers).toBe(2357);
    const fit = fitPurchaseModel(data);
    expect(fit.model!.boundary).toBeNull();
    const params = fit.model!.params as BgNbdParams;
    expect(params.r).toBeCloseTo(0.243, 3);
    expect(params.alpha).toBeCloseTo(4.414, 3);
    expect(params.a).toBeCloseTo(0.793, 3);
    expect(params.b).toBeCloseTo(2.426, 3);
    expect(fit.logLikelihood).toBeCloseTo(-9582.4, 1);
    // Every limit fits CDNOW clearly worse (the closest, one dropout p for all, by 21): its maximum is inside.
    for (const limit of fitBoundaryLimits(data)) expect(limit.logLikelihood, String(limit.model.boundary)).toBeLessThan(fit.logLikelihood - 10);
    expect(expectedPurchasesIfAlive(params, 39, 2, 38.86)).toBeGreaterThan(0);
  });
});

/** ln Γ through the Lanczos-free route of the quadrature checks: a plain Stirling series with shift. */
function lgammaOf(x: number): number {
  let shift = 0;
  while (x < 15) {
    shift -= Math.log(x);
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  return shift + (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}
