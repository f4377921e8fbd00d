/**
 * MBG/NBD (src/models/mbgnbd.ts): closed forms against independent 2-D quadrature over the
 * mixing distributions (λ ~ Gamma(r, α), p ~ Beta(a, b)) of the individual-level model; the
 * analytic gradient against finite differences; parameter recovery on simulated data (seeded);
 * properties (fast-check), including the model's point: one-time buyers can be gone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pAlive as bgnbdPAlive } from '../../src/models/bgnbd.js';
import {
  fitMbgNbd,
  mbgnbdConditionalExpectedPurchases,
  mbgnbdExpectedPurchases,
  mbgnbdLogLikelihood,
  mbgnbdLogLikelihoodGradient,
  mbgnbdPAlive,
  mbgnbdPNoPurchase,
  predictMbgNbd,
  type MbgNbdParams,
} from '../../src/models/mbgnbd.js';
import { Rng } from '../../src/models/random.js';
import { compressRfm } from '../../src/models/rfm-data.js';
import { simulateMbgNbd } from '../../src/models/simulate.js';
import { lgamma } from '../../src/models/special.js';
import { expSinhNodes, tanhSinhNodes } from './quadrature.js';

const CDNOW_FIT: MbgNbdParams = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
const P_NODES = tanhSinhNodes(1 / 32, 4.2);
const LAMBDA_NODES = expSinhNodes(1 / 32, -5.5, 3.2);

/** ln ∫∫ e^(g(λ, p, 1−p)) over the prior Gamma(r, α) × Beta(a, b) (densities included). */
function logIntegrate(params: MbgNbdParams, g: (lambda: number, p: number, q: number) => number, lambdaScale: number): number {
  const { r, alpha, a, b } = params;
  const logNorm = r * Math.log(alpha) - lgamma(r) - (lgamma(a) + lgamma(b) - lgamma(a + b));
  const values: number[] = [];
  let max = -Infinity;
  for (const pn of P_NODES) {
    for (const ln of LAMBDA_NODES) {
      const lambda = lambdaScale * ln.s;
      const v =
        logNorm + (r - 1) * Math.log(lambda) - alpha * lambda + (a - 1) * Math.log(pn.x) + (b - 1) * Math.log(pn.oneMinusX) +
        Math.log(pn.w * ln.w * lambdaScale) + g(lambda, pn.x, pn.oneMinusX);
      values.push(v);
      if (v > max) max = v;
    }
  }
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** Alive after surviving x + 1 dropout chances, or gone after the last purchase (no closed form used). */
function byQuadrature(params: MbgNbdParams, x: number, tx: number, T: number, t: number) {
  const scale = (params.r + x) / (params.alpha + tx);
  const alive = (l: number, _p: number, q: number) => (x + 1) * Math.log(q) + x * Math.log(l) - l * T;
  const gone = (l: number, p: number, q: number) => Math.log(p) + x * Math.log(q) + x * Math.log(l) - l * tx;
  const logAlive = logIntegrate(params, alive, scale);
  const logGone = logIntegrate(params, gone, scale);
  const logL = Math.max(logAlive, logGone) + Math.log1p(Math.exp(-Math.abs(logAlive - logGone)));
  const logFuture = logIntegrate(params, (l, p, q) => alive(l, p, q) + Math.log(-Math.expm1(-l * p * t) / p), scale);
  const logSilent = logIntegrate(params, (l, p, q) => alive(l, p, q) - l * t, scale);
  const pAlive = Math.exp(logAlive - logL);
  return { logL, pAlive, expected: Math.exp(logFuture - logL), pNoPurchase: 1 - pAlive + Math.exp(logSilent - logL) };
}

const CASES: [string, MbgNbdParams, number, number, number][] = [
  ['CDNOW fit, repeat buyer', CDNOW_FIT, 2, 30.43, 38.86],
  ['CDNOW fit, one-time buyer', CDNOW_FIT, 0, 0, 38.86],
  ['a > 1, last purchase at T', { r: 1.5, alpha: 3, a: 2.5, b: 4 }, 7, 20, 20],
  ['a ≈ 1, many purchases', { r: 2, alpha: 2, a: 1.0000001, b: 8 }, 30, 45, 52],
];

describe('MBG/NBD closed forms against 2-D quadrature over the mixing distributions', () => {
  for (const [label, params, x, tx, T] of CASES) {
    it(`likelihood, P(alive), E[Y(39)] and P(no purchase in 39) (${label})`, () => {
      const ref = byQuadrature(params, x, tx, T, 39);
      const one = { x: Float64Array.of(x), tx: Float64Array.of(tx), T: Float64Array.of(T), weight: Float64Array.of(1) };
      expect(mbgnbdLogLikelihood(params, one)).toBeCloseTo(ref.logL, 7);
      expect(mbgnbdPAlive(params, x, tx, T)).toBeCloseTo(ref.pAlive, 7);
      const expected = mbgnbdConditionalExpectedPurchases(params, 39, x, tx, T);
      expect(Math.abs(expected - ref.expected) / ref.expected).toBeLessThan(1e-6);
      expect(mbgnbdPNoPurchase(params, 39, x, tx, T)).toBeCloseTo(ref.pNoPurchase, 7);
    });
  }

  it('E[X(t)] of a new customer equals the quadrature of (1−p)(1 − e^(−λpt))/p over the priors', () => {
    const p = CDNOW_FIT;
    const ref = Math.exp(logIntegrate(p, (l, pp, q) => Math.log(q) + Math.log(-Math.expm1(-l * pp * 39) / pp), p.r / p.alpha));
    expect(mbgnbdExpectedPurchases(p, 39)).toBeCloseTo(ref, 7);
  });
});

describe('MBG/NBD fit', () => {
  it('the analytic gradient equals central differences of the row-by-row log-likelihood', () => {
    const data = compressRfm([0, 0, 1, 4, 12], [0, 0, 5, 30, 50], [40, 20, 40, 38, 52]);
    const g = mbgnbdLogLikelihoodGradient(CDNOW_FIT, data);
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      const h = 1e-6 * CDNOW_FIT[name];
      const numeric =
        (mbgnbdLogLikelihood({ ...CDNOW_FIT, [name]: CDNOW_FIT[name] + h }, data) - mbgnbdLogLikelihood({ ...CDNOW_FIT, [name]: CDNOW_FIT[name] - h }, data)) / (2 * h);
      expect(Math.abs(g[name] - numeric), `${name}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
    }
  });

  it('recovers simulated parameters within 3 standard errors, and its log-likelihood is the row-by-row one', () => {
    const truth: MbgNbdParams = { r: 0.9, alpha: 6, a: 0.8, b: 3 };
    const sim = simulateMbgNbd(truth, 10_000, { minT: 52, maxT: 52 }, new Rng(19970101));
    const tx = sim.tx.map((v) => Math.min(52, Math.ceil(v * 7) / 7));
    const data = compressRfm(sim.x, tx, sim.T);
    const fit = fitMbgNbd(data);
    expect(fit.converged, fit.message).toBe(true);
    expect(fit.logLikelihood).toBeCloseTo(mbgnbdLogLikelihood(fit.params, data), 6);
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      const se = fit.standardErrors![name];
      expect(Math.abs(fit.params[name] - truth[name]), `${name}: ${fit.params[name]} ± ${se}`).toBeLessThan(3 * se);
    }
    // Starts on a small weighted subsample, the best refined on all rows: the same maximum.
    const viaSubsample = fitMbgNbd(data, { subsampleRows: 300 });
    expect(viaSubsample.converged, viaSubsample.message).toBe(true);
    for (const name of ['r', 'alpha', 'a', 'b'] as const) expect(viaSubsample.params[name]).toBeCloseTo(fit.params[name], 5);
    expect(viaSubsample.starts.every((s) => s.logLikelihood !== fit.logLikelihood)).toBe(true);
  });

  it('P(alive) matches the simulated share of customers still active, for one-time and repeat buyers', () => {
    const truth: MbgNbdParams = { r: 0.9, alpha: 6, a: 0.8, b: 3 };
    const sim = simulateMbgNbd(truth, 40_000, { minT: 52, maxT: 52 }, new Rng(7));
    for (const group of [(x: number) => x === 0, (x: number) => x >= 3]) {
      let n = 0;
      let alive = 0;
      let predicted = 0;
      sim.x.forEach((x, i) => {
        if (!group(x)) return;
        n++;
        alive += sim.alive[i];
        predicted += mbgnbdPAlive(truth, x, sim.tx[i], sim.T[i]);
      });
      const share = predicted / n;
      expect(Math.abs(alive / n - share)).toBeLessThan(4 * Math.sqrt((share * (1 - share)) / n));
    }
  });

  it('names the problem instead of fitting data without repeat purchases', () => {
    const fit = fitMbgNbd(compressRfm([0, 0], [0, 0], [10, 20]));
    expect(fit.converged).toBe(false);
    expect(fit.message).toMatch(/no customer made a repeat purchase/);
  });

  it('predictMbgNbd gives per history what the single-history functions give', () => {
    const data = compressRfm([0, 2, 2, 7], [0, 10, 30, 35], [40, 40, 40, 36]);
    const out = predictMbgNbd(CDNOW_FIT, data, 52);
    for (let i = 0; i < 4; i++) {
      expect(out.pAlive[i]).toBe(mbgnbdPAlive(CDNOW_FIT, data.x[i], data.tx[i], data.T[i]));
      expect(out.expectedPurchases[i]).toBeCloseTo(mbgnbdConditionalExpectedPurchases(CDNOW_FIT, 52, data.x[i], data.tx[i], data.T[i]), 12);
      expect(out.pNoPurchase[i]).toBeCloseTo(mbgnbdPNoPurchase(CDNOW_FIT, 52, data.x[i], data.tx[i], data.T[i]), 12);
    }
  });
});

describe('MBG/NBD properties (fast-check)', () => {
  const paramsArb = fc.record({
    r: fc.double({ min: 0.05, max: 20, noNaN: true }),
    alpha: fc.double({ min: 0.05, max: 500, noNaN: true }),
    a: fc.double({ min: 0.05, max: 20, noNaN: true }),
    b: fc.double({ min: 0.05, max: 50, noNaN: true }),
  });
  const historyArb = fc
    .record({ x: fc.integer({ min: 0, max: 60 }), T: fc.double({ min: 0.5, max: 200, noNaN: true }), u: fc.double({ min: 0, max: 1, noNaN: true }) })
    .map(({ x, T, u }) => ({ x, T, tx: x === 0 ? 0 : u * T }));

  it('P(alive) is in [0, 1); below the BG/NBD’s 1 for one-time buyers, at least the BG/NBD’s after repeat purchases (odds a/(b+x) vs a/(b+x−1)); never rises with T', () => {
    fc.assert(
      fc.property(paramsArb, historyArb, (p, { x, tx, T }) => {
        const alive = mbgnbdPAlive(p, x, tx, T);
        expect(alive).toBeGreaterThanOrEqual(0);
        expect(alive).toBeLessThan(1);
        if (x === 0) expect(bgnbdPAlive(p, x, tx, T)).toBe(1);
        else expect(alive).toBeGreaterThanOrEqual(bgnbdPAlive(p, x, tx, T) - 1e-12);
        expect(mbgnbdPAlive(p, x, tx, T * 1.5)).toBeLessThanOrEqual(alive + 1e-12);
        const noPurchase = mbgnbdPNoPurchase(p, 52, x, tx, T);
        expect(noPurchase).toBeGreaterThanOrEqual(1 - alive - 1e-12);
        expect(noPurchase).toBeLessThanOrEqual(1 + 1e-12);
      }),
      { numRuns: 200 },
    );
  });
});
