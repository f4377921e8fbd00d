import { describe, expect, it } from 'vitest';
import {
  type GammaGammaParams,
  type SpendSummary,
  conditionalExpectedValue,
  conditionalExpectedValues,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  populationMeanValue,
} from '../../src/models/gamma-gamma.js';
import { Rng } from '../../src/models/random.js';
import { simulateGammaGamma } from '../../src/models/simulate.js';
import { lgamma } from '../../src/models/special.js';
import { expSinhNodes, integrateHalfLine } from './quadrature.js';

/** The estimates of Fader & Hardie (2013) for the CDNOW sample. */
const TRUTH: GammaGammaParams = { p: 6.25, q: 3.74, v: 15.44 };
const F = (values: number[]) => Float64Array.from(values);

/** Transaction counts 1..: 1 + Poisson(1.5), like repeat buyers' frequencies. */
function transactionCounts(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n }, () => 1 + rng.poisson(1.5));
}

function simulatedSpend(params: GammaGammaParams, n: number, seed: number): SpendSummary {
  const rng = new Rng(seed);
  return simulateGammaGamma(params, transactionCounts(n, rng), rng);
}

describe('Gamma-Gamma likelihood', () => {
  it('matches the density of the mean obtained by integrating ν out numerically', () => {
    // m̄ | ν ~ Gamma(p x, rate ν x), ν ~ Gamma(q, rate v): integrate the product over ν.
    const { p, q, v } = TRUTH;
    const nodes = expSinhNodes(1 / 64, -4.5, 3.5);
    for (const [x, m] of [
      [1, 3.2],
      [2, 35],
      [7, 12.5],
      [25, 40],
    ]) {
      const density = integrateHalfLine(
        (nu) =>
          Math.exp(
            p * x * Math.log(nu * x) + (p * x - 1) * Math.log(m) - nu * x * m - lgamma(p * x) +
              q * Math.log(v) + (q - 1) * Math.log(nu) - v * nu - lgamma(q),
          ),
        (p * x + q) / (v + x * m),
        nodes,
      );
      const { logLikelihood } = gammaGammaLogLikelihood(TRUTH, { x: F([x]), m: F([m]) });
      expect(Math.abs(logLikelihood - Math.log(density))).toBeLessThan(1e-10);
    }
  });

  it('analytic gradient w.r.t. log-parameters matches central finite differences', () => {
    const data = simulatedSpend(TRUTH, 3000, 1);
    const h = 1e-5;
    for (const params of [TRUTH, { p: 1.2, q: 0.8, v: 3 }, { p: 30, q: 12, v: 200 }]) {
      const { gradient } = gammaGammaLogLikelihood(params, data);
      (['p', 'q', 'v'] as const).forEach((name, i) => {
        const up = gammaGammaLogLikelihood({ ...params, [name]: params[name] * Math.exp(h) }, data).logLikelihood;
        const down = gammaGammaLogLikelihood({ ...params, [name]: params[name] * Math.exp(-h) }, data).logLikelihood;
        const numeric = (up - down) / (2 * h);
        expect(Math.abs(gradient[i] - numeric), `${name}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)) + 1e-4);
      });
    }
  });

  it('weights count customers', () => {
    const single = gammaGammaLogLikelihood(TRUTH, { x: F([2, 3]), m: F([10, 20]) }).logLikelihood;
    const doubled = gammaGammaLogLikelihood(TRUTH, { x: F([2, 3]), m: F([10, 20]), weight: F([2, 2]) }).logLikelihood;
    expect(doubled).toBeCloseTo(2 * single, 10);
  });
});

describe('fitGammaGamma', () => {
  it('recovers the published parameters from 20 000 simulated customers within 4 standard errors', () => {
    const fit = fitGammaGamma(simulatedSpend(TRUTH, 20_000, 2));
    expect(fit.converged, fit.message).toBe(true);
    expect(fit.finiteMean).toBe(true);
    for (const name of ['p', 'q', 'v'] as const) {
      const se = fit.standardErrors![name];
      expect(se).toBeGreaterThan(0);
      expect(Math.abs(fit.params[name] - TRUTH[name]), `${name}: ${fit.params[name]} ± ${se}`).toBeLessThan(4 * se);
    }
  });

  it("without weights (no column of ones kept: the run's input) the fit is the one with unit weights, bit for bit", () => {
    const data = simulatedSpend(TRUTH, 12_000, 5);
    const { x, m } = data;
    for (const subsampleRows of [0, 1000]) {
      const unweighted = fitGammaGamma({ x, m }, { subsampleRows });
      const ones = fitGammaGamma({ x, m, weight: new Float64Array(x.length).fill(1) }, { subsampleRows });
      expect(unweighted.converged).toBe(true);
      expect(unweighted).toEqual(ones);
      expect(Object.is(unweighted.params.p, ones.params.p) && Object.is(unweighted.logLikelihood, ones.logLikelihood)).toBe(true);
    }
  });

  it('the subsample multi-start path reaches the same optimum', () => {
    const data = simulatedSpend(TRUTH, 12_000, 3);
    const full = fitGammaGamma(data, { subsampleRows: 0 });
    const sampled = fitGammaGamma(data, { subsampleRows: 1000 });
    expect(full.converged && sampled.converged).toBe(true);
    for (const name of ['p', 'q', 'v'] as const) {
      expect(Math.abs(sampled.params[name] / full.params[name] - 1)).toBeLessThan(1e-4);
    }
  });

  it('reports q <= 1 (infinite population mean)', () => {
    const truth = { p: 4, q: 0.7, v: 10 };
    const fit = fitGammaGamma(simulatedSpend(truth, 20_000, 4));
    expect(fit.params.q).toBeLessThan(1);
    expect(fit.finiteMean).toBe(false);
    expect(fit.message).toMatch(/q = .* <= 1/);
    expect(populationMeanValue(fit.params)).toBe(Infinity);
    // Customers with data still get a finite expectation (p x + q > 1).
    expect(Number.isFinite(conditionalExpectedValue(fit.params, 1, 20))).toBe(true);
  });

  describe('degenerate inputs never throw', () => {
    const cases: [string, SpendSummary, RegExp][] = [
      ['no rows', { x: F([]), m: F([]) }, /no customers/],
      ['all m equal', { x: F([1, 2, 3]), m: F([5, 5, 5]) }, /equal/],
      ['one customer', { x: F([3]), m: F([12]) }, /equal/],
      ['m <= 0', { x: F([1, 2]), m: F([5, 0]) }, /row 1: m/],
      ['x = 0', { x: F([0, 2]), m: F([5, 6]) }, /row 0: x/],
      ['NaN', { x: F([1]), m: F([NaN]) }, /row 0: m/],
    ];
    for (const [label, data, message] of cases) {
      it(label, () => {
        const fit = fitGammaGamma(data);
        expect(fit.converged).toBe(false);
        expect(fit.message).toMatch(message);
        expect(fit.standardErrors).toBeNull();
      });
    }

    it('two customers: reports the heterogeneity as not identified', () => {
      // Two means are explained equally well by ever less spread in ν: q, v → ∞.
      const fit = fitGammaGamma({ x: F([1, 4]), m: F([10, 30]) });
      expect(fit.converged).toBe(false);
      expect(fit.message).toMatch(/ran away/);
      expect(fit.params.q).toBeGreaterThan(1e5);
    });
  });
});

describe('conditionalExpectedValue', () => {
  it('is the weighted average of the population mean and the customer mean', () => {
    const { p, q, v } = TRUTH;
    for (const [x, m] of [
      [1, 10],
      [4, 55.5],
      [30, 3],
    ]) {
      const weight = (p * x) / (p * x + q - 1);
      const expected = (1 - weight) * ((v * p) / (q - 1)) + weight * m;
      expect(conditionalExpectedValue(TRUTH, x, m)).toBeCloseTo(expected, 10);
    }
    expect(conditionalExpectedValue(TRUTH, 0, NaN)).toBeCloseTo(populationMeanValue(TRUTH), 12);
  });

  it('vectorised form equals the scalar one', () => {
    const x = F([0, 1, 2, 10]);
    const m = F([0, 12, 7.5, 100]);
    const values = conditionalExpectedValues(TRUTH, x, m);
    for (let i = 0; i < x.length; i++) expect(values[i]).toBeCloseTo(conditionalExpectedValue(TRUTH, x[i], m[i]), 12);
    expect(conditionalExpectedValues({ p: 0.1, q: 0.5, v: 1 }, F([1]), F([3]))[0]).toBeNaN(); // p x + q <= 1
  });
});
