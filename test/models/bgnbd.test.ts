import { describe, expect, it } from 'vitest';
import {
  type BgNbdParams,
  type RfmSummary,
  bgnbdLogLikelihood,
  bgnbdLogLikelihoodGradient,
  compressRfm,
  conditionalExpectedPurchases,
  expectedPurchases,
  expectedPurchasesIfAlive,
  fitBgNbd,
  pAlive,
  pAliveAll,
  predictBgNbd,
  probabilityOfNPurchases,
} from '../../src/models/bgnbd.js';
import { Rng } from '../../src/models/random.js';
import { simulateBgNbd } from '../../src/models/simulate.js';
import { log2F1 } from '../../src/models/special.js';
import { expSinhNodes, tanhSinhNodes } from './quadrature.js';

/** The CDNOW estimates of Fader, Hardie & Lee (2005), Table 1. */
const CDNOW: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const PARAM_SETS: Record<string, BgNbdParams> = {
  cdnow: CDNOW,
  'a > 1': { r: 1.3, alpha: 10, a: 2.5, b: 6 },
  'a ≈ 1': { r: 0.6, alpha: 3, a: 1 + 1e-9, b: 1.7 },
  'a + b < 1': { r: 0.4, alpha: 2, a: 0.3, b: 0.5 },
};
/** (x, t_x, T) histories covering new, typical, lapsed and very frequent customers. */
const HISTORIES: [number, number, number][] = [
  [0, 0, 30],
  [0, 0, 0],
  [1, 5, 30],
  [3, 20, 38],
  [2, 1, 39],
  [10, 35, 39],
  [40, 38.5, 39],
];

const F = (values: number[]) => Float64Array.from(values);
const unitWeights = (n: number) => new Float64Array(n).fill(1);

function simulated(params: BgNbdParams, n: number, seed: number, minT = 27, maxT = 39, resolution = 0): RfmSummary {
  const sim = simulateBgNbd(params, n, { minT, maxT, resolution }, new Rng(seed));
  return { x: sim.x, tx: sim.tx, T: sim.T, weight: unitWeights(n) };
}

function expectRelative(actual: number, expected: number, tol: number, label = ''): void {
  const error = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  expect(error, `${label} ${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
}

// -------------------------------------------------------------------------------------------
// Independent reference: 2-D quadrature over the posterior of (λ, p) given (x, t_x, T).
// -------------------------------------------------------------------------------------------

// The λ rule reaches down to λ ≈ scale · e^-190: with r = 0.24 the prior's λ^(r-1) puts mass
// λ^r near 0, which a shorter rule would miss at the 1e-5 level.
const P_NODES = tanhSinhNodes(1 / 40, 4.2);
const LAMBDA_NODES = expSinhNodes(1 / 40, -5.5, 3.2);

/** ln ∫∫ exp(logIntegrand(λ, p, 1-p)) dλ dp, λ = scale · s. */
function logIntegrate2D(logIntegrand: (lambda: number, p: number, q: number) => number, scale: number): number {
  const values: number[] = [];
  let max = -Infinity;
  for (const pn of P_NODES) {
    for (const ln of LAMBDA_NODES) {
      const v = logIntegrand(scale * ln.s, pn.x, pn.oneMinusX) + Math.log(pn.w * ln.w);
      values.push(v);
      if (v > max) max = v;
    }
  }
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum * scale);
}

/**
 * P(alive) and E[Y(t) | x, t_x, T] from the model's definition: prior Gamma(r, α) × Beta(a, b)
 * times the likelihood's two branches (alive at T / dropped out after the x-th purchase), and
 * E[Y(t) | λ, p, alive] = (1 - e^(-λpt)) / p. No closed form is used.
 */
function posteriorByQuadrature(params: BgNbdParams, x: number, tx: number, T: number, t: number) {
  const { r, alpha, a, b } = params;
  const prior = (lambda: number, p: number, q: number) =>
    (r - 1) * Math.log(lambda) - alpha * lambda + (a - 1) * Math.log(p) + (b - 1) * Math.log(q);
  const alive = (lambda: number, p: number, q: number) =>
    prior(lambda, p, q) + x * Math.log(q) + x * Math.log(lambda) - lambda * T;
  const scaleAlive = (r + x) / (alpha + T);
  const logAlive = logIntegrate2D(alive, scaleAlive);
  const logFuture = logIntegrate2D(
    (lambda, p, q) => alive(lambda, p, q) + Math.log(-Math.expm1(-lambda * p * t)) - Math.log(p),
    scaleAlive,
  );
  let pAliveValue = 1;
  if (x > 0) {
    const logDropped = logIntegrate2D(
      (lambda, p, q) =>
        prior(lambda, p, q) + Math.log(p) + (x - 1) * Math.log(q) + x * Math.log(lambda) - lambda * tx,
      (r + x) / (alpha + tx),
    );
    pAliveValue = 1 / (1 + Math.exp(logDropped - logAlive));
  }
  return { pAlive: pAliveValue, conditional: pAliveValue * Math.exp(logFuture - logAlive) };
}

/** Paper eq. 10 verbatim with log2F1 (needs a ≠ 1 and a + b + x - 1 > 0). */
function conditionalByEq10(params: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = params;
  const c = a + b + x - 1;
  const z = t / (alpha + T + t);
  const power = (r + x) * Math.log((alpha + T) / (alpha + T + t)) + log2F1(r + x, b + x, c, z);
  return (pAlive(params, x, tx, T) * (c / (a - 1))) * -Math.expm1(power);
}

describe('BG/NBD likelihood', () => {
  it('grouped fast evaluation equals the paper formula row by row', () => {
    const continuous = simulated(CDNOW, 3000, 11);
    // Weekly grid: many rows per (x, T) so that the tabulated exp path is exercised too.
    const sim = simulateBgNbd(CDNOW, 30_000, { minT: 1, maxT: 52, resolution: 1 }, new Rng(12));
    const gridded = compressRfm(sim.x, sim.tx, sim.T);
    const withZeroWeight: RfmSummary = {
      x: F([0, 2, 5, 1]),
      tx: F([0, 3, 9, 2]),
      T: F([10, 12, 20, 2]),
      weight: F([3, 0, 2.5, 1]),
    };
    for (const data of [continuous, gridded, withZeroWeight]) {
      for (const params of Object.values(PARAM_SETS)) {
        const direct = bgnbdLogLikelihood(params, data);
        const fast = bgnbdLogLikelihoodGradient(params, data).logLikelihood;
        expectRelative(fast, direct, 1e-11);
      }
    }
    expect(gridded.x.length).toBeLessThan(sim.x.length); // compression actually happened
  });

  it('compressed data give the same likelihood as per-customer data', () => {
    const sim = simulateBgNbd(CDNOW, 20_000, { minT: 20, maxT: 39, resolution: 1 / 7 }, new Rng(13));
    const perCustomer: RfmSummary = { x: sim.x, tx: sim.tx, T: sim.T, weight: unitWeights(sim.x.length) };
    const compressed = compressRfm(sim.x, sim.tx, sim.T);
    expect(compressed.x.length).toBeLessThan(perCustomer.x.length);
    expectRelative(bgnbdLogLikelihood(CDNOW, compressed), bgnbdLogLikelihood(CDNOW, perCustomer), 1e-12);
  });

  it('analytic gradient w.r.t. log-parameters matches central finite differences', () => {
    const sim = simulateBgNbd(CDNOW, 20_000, { minT: 1, maxT: 52, resolution: 1 }, new Rng(14));
    const datasets = [simulated(CDNOW, 2000, 15), compressRfm(sim.x, sim.tx, sim.T)];
    const h = 1e-5;
    for (const data of datasets) {
      for (const params of Object.values(PARAM_SETS)) {
        const { gradient } = bgnbdLogLikelihoodGradient(params, data);
        const names = ['r', 'alpha', 'a', 'b'] as const;
        names.forEach((name, i) => {
          const up = { ...params, [name]: params[name] * Math.exp(h) };
          const down = { ...params, [name]: params[name] * Math.exp(-h) };
          const numeric = (bgnbdLogLikelihood(up, data) - bgnbdLogLikelihood(down, data)) / (2 * h);
          expect(Math.abs(gradient[i] - numeric), `${name}: ${gradient[i]} vs ${numeric}`).toBeLessThan(
            1e-6 * Math.max(1, Math.abs(numeric)) + 1e-3,
          );
        });
      }
    }
  });
});

describe('BG/NBD closed forms against independent evaluations', () => {
  for (const [label, params] of Object.entries(PARAM_SETS)) {
    it(`P(alive) and E[Y(t) | x, t_x, T] match 2-D posterior quadrature (${label})`, () => {
      for (const [x, tx, T] of HISTORIES) {
        for (const t of [10, 52]) {
          const reference = posteriorByQuadrature(params, x, tx, T, t);
          expectRelative(pAlive(params, x, tx, T), reference.pAlive, 1e-8, `P(alive) ${x},${tx},${T}`);
          expectRelative(
            conditionalExpectedPurchases(params, t, x, tx, T),
            reference.conditional,
            1e-8,
            `E[Y(${t})] ${x},${tx},${T}`,
          );
        }
      }
    });
  }

  it('the cancellation-free conditional expectation equals eq. 10 with log2F1', () => {
    for (const params of [PARAM_SETS.cdnow, PARAM_SETS['a > 1'], { ...CDNOW, a: 1.02 }]) {
      for (const [x, tx, T] of HISTORIES) {
        for (const t of [0.5, 10, 52, 500]) {
          expectRelative(
            conditionalExpectedPurchases(params, t, x, tx, T),
            conditionalByEq10(params, t, x, tx, T),
            1e-10,
            `${x},${tx},${T},${t}`,
          );
        }
      }
    }
  });

  it('is continuous through a = 1', () => {
    const at = (a: number) => conditionalExpectedPurchases({ ...CDNOW, a }, 26, 3, 20, 38);
    const exact = at(1);
    expect(Number.isFinite(exact)).toBe(true);
    expectRelative(at(1 + 1e-7), exact, 1e-6);
    expectRelative(at(1 - 1e-7), exact, 1e-6);
  });

  it('stays finite and sane for very large x', () => {
    for (const x of [200, 1000]) {
      const value = conditionalExpectedPurchases(CDNOW, 52, x, 38.9, 39);
      // A customer alive with ~x/T purchases a week keeps buying: well above zero, below the
      // naive (r + x)/(α + T) rate times t.
      expect(value).toBeGreaterThan(0);
      expect(value).toBeLessThan(((CDNOW.r + x) / (CDNOW.alpha + 39)) * 52);
      expect(pAlive(CDNOW, x, 1, 39)).toBeLessThan(1e-100); // lapsed after a burst: surely gone
    }
  });

  it('E[X(t)] matches a large Monte Carlo simulation', () => {
    for (const params of [PARAM_SETS.cdnow, PARAM_SETS['a > 1'], PARAM_SETS['a + b < 1']]) {
      const t = 30;
      const n = 100_000;
      const sim = simulateBgNbd(params, n, { minT: t, maxT: t }, new Rng(21));
      let sum = 0;
      let squares = 0;
      const counts = [0, 0, 0];
      for (let i = 0; i < n; i++) {
        sum += sim.x[i];
        squares += sim.x[i] ** 2;
        if (sim.x[i] < 3) counts[sim.x[i]]++;
      }
      const mean = sum / n;
      const standardError = Math.sqrt((squares / n - mean * mean) / n);
      expect(Math.abs(expectedPurchases(params, t) - mean)).toBeLessThan(4 * standardError);
      for (let k = 0; k < 3; k++) {
        const probability = probabilityOfNPurchases(params, t, k);
        const se = Math.sqrt((probability * (1 - probability)) / n);
        expect(Math.abs(counts[k] / n - probability)).toBeLessThan(4 * se);
      }
    }
  });

  it('P(X(t) = n) sums to 1 and its mean is E[X(t)]', () => {
    for (const params of Object.values(PARAM_SETS)) {
      for (const t of [5, 39, 200]) {
        let total = 0;
        let mean = 0;
        for (let n = 0; n < 20_000; n++) {
          const probability = probabilityOfNPurchases(params, t, n);
          total += probability;
          mean += n * probability;
          if (n > 50 && probability < 1e-18) break;
        }
        expect(Math.abs(total - 1)).toBeLessThan(1e-12);
        expectRelative(mean, expectedPurchases(params, t), 1e-10);
      }
    }
  });

  it('expected purchases are 0 at t = 0 and P(alive) is 1 without repeat purchases', () => {
    expect(expectedPurchases(CDNOW, 0)).toBe(0);
    expect(conditionalExpectedPurchases(CDNOW, 0, 4, 10, 20)).toBe(0);
    expect(pAlive(CDNOW, 0, 0, 100)).toBe(1);
    expect(() => pAlive({ ...CDNOW, r: -1 }, 1, 1, 2)).toThrow(RangeError);
  });
});

describe('predictBgNbd', () => {
  it('matches the per-customer functions for every triple', () => {
    const sim = simulateBgNbd(CDNOW, 5000, { minT: 1, maxT: 39, resolution: 1 / 7 }, new Rng(31));
    const data = compressRfm(sim.x, sim.tx, sim.T);
    // compressRfm keeps first-appearance order: rows sharing (x, T) are scattered.
    const prediction = predictBgNbd(CDNOW, data, 26);
    const alive = pAliveAll(CDNOW, data);
    for (let i = 0; i < data.x.length; i++) {
      const [x, tx, T] = [data.x[i], data.tx[i], data.T[i]];
      expectRelative(prediction.pAlive[i], pAlive(CDNOW, x, tx, T), 1e-13);
      expect(alive[i]).toBe(prediction.pAlive[i]);
      expectRelative(prediction.expectedPurchases[i], conditionalExpectedPurchases(CDNOW, 26, x, tx, T), 1e-13);
    }
  });

  it('gives NaN for invalid rows and 0 purchases for a zero horizon', () => {
    const data: RfmSummary = { x: F([1, -1, 2]), tx: F([2, 0, 9]), T: F([5, 5, 4]), weight: F([1, 1, 1]) };
    const prediction = predictBgNbd(CDNOW, data, 10);
    expect(Number.isFinite(prediction.pAlive[0])).toBe(true);
    expect(prediction.pAlive[1]).toBeNaN(); // negative x
    expect(prediction.expectedPurchases[2]).toBeNaN(); // t_x > T
    expect(predictBgNbd(CDNOW, data, 0).expectedPurchases[0]).toBe(0);
    expect(expectedPurchasesIfAlive(CDNOW, 10, 1, 5)).toBeCloseTo(prediction.expectedPurchases[0] / prediction.pAlive[0], 12);
  });
});

describe('fitBgNbd', () => {
  const names = ['r', 'alpha', 'a', 'b'] as const;

  it('recovers the CDNOW parameters from 40 000 simulated customers within 4 standard errors', () => {
    const data = simulated(CDNOW, 40_000, 41);
    const fit = fitBgNbd(data);
    expect(fit.converged, fit.message).toBe(true);
    expect(fit.standardErrors).not.toBeNull();
    for (const name of names) {
      const se = fit.standardErrors![name];
      expect(se).toBeGreaterThan(0);
      expect(Math.abs(fit.params[name] - CDNOW[name]), `${name}: ${fit.params[name]} ± ${se}`).toBeLessThan(4 * se);
    }
    expect(fit.gradientNorm).toBeLessThan(1e-5);
    expect(fit.starts.length).toBeGreaterThanOrEqual(4);
    expectRelative(fit.logLikelihood, bgnbdLogLikelihood(fit.params, data), 1e-12);
    // Every converged start reaches the same optimum (the likelihood is well behaved here).
    for (const start of fit.starts) if (start.converged) expect(start.logLikelihood).toBeCloseTo(fit.logLikelihood, 3);
  });

  it('recovers parameters with a > 1 from compressed daily data', () => {
    const truth = PARAM_SETS['a > 1'];
    const sim = simulateBgNbd(truth, 40_000, { minT: 10, maxT: 104, resolution: 1 / 7 }, new Rng(42));
    const fit = fitBgNbd(compressRfm(sim.x, sim.tx, sim.T));
    expect(fit.converged, fit.message).toBe(true);
    for (const name of names) {
      expect(Math.abs(fit.params[name] - truth[name]), name).toBeLessThan(4 * fit.standardErrors![name]);
    }
    expect(fit.customers).toBe(40_000);
  });

  it('the subsample multi-start path reaches the same optimum as the full-data path', () => {
    const sim = simulateBgNbd(CDNOW, 30_000, { minT: 1, maxT: 39, resolution: 1 / 7 }, new Rng(43));
    const data = compressRfm(sim.x, sim.tx, sim.T);
    const full = fitBgNbd(data, { subsampleRows: 0 });
    const sampled = fitBgNbd(data, { subsampleRows: 2000 });
    expect(sampled.starts.every((s) => s.onSubsample)).toBe(true);
    expect(full.starts.every((s) => !s.onSubsample)).toBe(true);
    expect(sampled.converged && full.converged).toBe(true);
    for (const name of names) expectRelative(sampled.params[name], full.params[name], 1e-4, name);
    expect(Math.abs(sampled.logLikelihood - full.logLikelihood)).toBeLessThan(1e-4);
  });

  it('is deterministic', () => {
    const data = simulated(CDNOW, 5000, 44);
    expect(fitBgNbd(data).params).toEqual(fitBgNbd(data).params);
  });

  it('accepts user starting points and records invalid ones without throwing', () => {
    const data = simulated(CDNOW, 5000, 45);
    const fit = fitBgNbd(data, { starts: [{ r: 1, alpha: 1, a: 1, b: 1 }, { r: -1, alpha: 1, a: 1, b: 1 }] });
    expect(fit.converged).toBe(true);
    expect(fit.starts).toHaveLength(6);
    expect(fit.starts[5].params.r).toBeNaN();
  });

  describe('degenerate inputs never throw', () => {
    const cases: [string, RfmSummary, RegExp][] = [
      ['no rows', { x: F([]), tx: F([]), T: F([]), weight: F([]) }, /no customers/],
      ['all weights 0', { x: F([1]), tx: F([1]), T: F([2]), weight: F([0]) }, /no customers/],
      ['all x = 0', { x: F([0, 0]), tx: F([0, 0]), T: F([10, 20]), weight: F([3, 4]) }, /repeat purchase/],
      ['everyone T = 0', { x: F([0]), tx: F([0]), T: F([0]), weight: F([100]) }, /repeat purchase|T = 0/],
      ['t_x > T', { x: F([1]), tx: F([12]), T: F([10]), weight: F([1]) }, /row 0: tx/],
      ['NaN', { x: F([NaN]), tx: F([1]), T: F([10]), weight: F([1]) }, /row 0: x/],
      ['fractional x', { x: F([1.5]), tx: F([1]), T: F([10]), weight: F([1]) }, /integer/],
      ['negative weight', { x: F([1]), tx: F([1]), T: F([10]), weight: F([-1]) }, /weight/],
      ['length mismatch', { x: F([1, 2]), tx: F([1]), T: F([10]), weight: F([1]) }, /same length/],
    ];
    for (const [label, data, message] of cases) {
      it(label, () => {
        const fit = fitBgNbd(data);
        expect(fit.converged).toBe(false);
        expect(fit.message).toMatch(message);
        expect(fit.params.r).toBeNaN();
        expect(fit.standardErrors).toBeNull();
      });
    }

    it('one customer: reports runaway / non-identifiability', () => {
      const fit = fitBgNbd({ x: F([2]), tx: F([5]), T: F([10]), weight: F([1]) });
      expect(fit.converged).toBe(false);
      expect(fit.message).toMatch(/ran away|not identifiable/);
    });

    it('no dropout in the data: reports a and b running away', () => {
      // p ≈ 0 for everybody: the likelihood keeps growing as a → 0 or b → ∞.
      const data = simulated({ r: 0.5, alpha: 5, a: 1e-7, b: 1 }, 5000, 46, 20, 40);
      const fit = fitBgNbd(data);
      expect(fit.converged).toBe(false);
      expect(fit.message).toMatch(/ran away/);
      expect(fit.message).toMatch(/\b(a|b)=/);
      expect(fit.evaluations).toBeLessThan(1500);
    });

    it('all T equal: still identifiable', () => {
      const fit = fitBgNbd(simulated(CDNOW, 20_000, 47, 39, 39));
      expect(fit.converged, fit.message).toBe(true);
      for (const name of names) {
        expect(Math.abs(fit.params[name] - CDNOW[name]), name).toBeLessThan(4 * fit.standardErrors![name]);
      }
    });

    it('huge x: fits and predicts finite values', () => {
      const truth = { r: 50, alpha: 5, a: 1, b: 100 };
      const data = simulated(truth, 3000, 48, 39, 39);
      expect(Math.max(...data.x)).toBeGreaterThan(300);
      const fit = fitBgNbd(data);
      expect(fit.converged, fit.message).toBe(true);
      expect(Math.abs(fit.params.r - truth.r)).toBeLessThan(4 * fit.standardErrors!.r);
      const prediction = predictBgNbd(fit.params, data, 52);
      expect(prediction.expectedPurchases.every(Number.isFinite)).toBe(true);
    });
  });
});
