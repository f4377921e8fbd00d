/**
 * Pareto/NBD (src/models/pareto-nbd.ts): the 2F1 closed forms against independent 2-D quadrature
 * over the two mixing gammas (λ ~ Gamma(r, α), μ ~ Gamma(s, β)) of the individual-level model —
 * on both sides of the α vs β branch, at the switch itself, for long silences and many purchases;
 * the fit's grouped likelihood against the row-by-row one; parameter recovery on simulated data
 * (seeded); and properties (fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fitParetoNbd,
  logDropoutTail,
  paretoNbdConditionalExpectedPurchases,
  paretoNbdExpectedPurchases,
  paretoNbdLogLikelihood,
  paretoNbdLogLikelihoodGradient,
  paretoNbdLogLikelihoodOne,
  paretoNbdPAlive,
  paretoNbdPNoPurchase,
  predictParetoNbd,
  type ParetoNbdParams,
} from '../../src/models/pareto-nbd.js';
import { Rng } from '../../src/models/random.js';
import { compressRfm } from '../../src/models/rfm-data.js';
import { simulateBgNbd, simulateParetoNbd } from '../../src/models/simulate.js';
import { lgamma, log2F1, log2F1WithGradient } from '../../src/models/special.js';
import { expSinhNodes } from './quadrature.js';

const CDNOW: ParetoNbdParams = { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 };

// Nodes reach far below the gamma's scale: r, s < 1 put mass near 0 (density ~ λ^(r−1)).
const NODES = expSinhNodes(1 / 24, -5.5, 3.2);

/**
 * ln ∫∫ e^(g(λ, μ)) dλ dμ over the two prior gammas (their log-densities included), each axis
 * scaled to where the integrand lives.
 */
function logIntegrate(p: ParetoNbdParams, g: (lambda: number, mu: number) => number, lambdaScale: number, muScale: number): number {
  const logNormLambda = p.r * Math.log(p.alpha) - lgamma(p.r);
  const logNormMu = p.s * Math.log(p.beta) - lgamma(p.s);
  const values: number[] = [];
  let max = -Infinity;
  for (const ln of NODES) {
    const lambda = lambdaScale * ln.s;
    const priorLambda = logNormLambda + (p.r - 1) * Math.log(lambda) - p.alpha * lambda + Math.log(ln.w * lambdaScale);
    for (const mn of NODES) {
      const mu = muScale * mn.s;
      const v = priorLambda + logNormMu + (p.s - 1) * Math.log(mu) - p.beta * mu + Math.log(mn.w * muScale) + g(lambda, mu);
      values.push(v);
      if (v > max) max = v;
    }
  }
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** The individual-level pieces: alive through T, and gone at some τ in (t_x, T] (no closed form of the mixture used). */
function byQuadrature(p: ParetoNbdParams, x: number, tx: number, T: number, t: number) {
  const lambdaScale = (p.r + x) / (p.alpha + tx);
  const muScale = (p.s + 1) / (p.beta + tx);
  const aliveLog = (l: number, m: number) => x * Math.log(l) - (l + m) * T;
  const goneLog = (l: number, m: number) =>
    tx === T ? -Infinity : x * Math.log(l) + Math.log(m / (l + m)) - (l + m) * tx + Math.log(-Math.expm1(-(l + m) * (T - tx)));
  const logAlive = logIntegrate(p, aliveLog, lambdaScale, muScale);
  const logGone = tx === T ? -Infinity : logIntegrate(p, goneLog, lambdaScale, muScale);
  const logL = Math.max(logAlive, logGone) + Math.log(Math.exp(logAlive - Math.max(logAlive, logGone)) + Math.exp(logGone - Math.max(logAlive, logGone)));
  // Given alive at T: E[purchases in t] = λ (1 − e^(−μt))/μ; P(silent) = μ/(λ+μ)(1 − e^(−(λ+μ)t)) + e^(−(λ+μ)t).
  const logFuture = logIntegrate(p, (l, m) => aliveLog(l, m) + Math.log(l) + Math.log(-Math.expm1(-m * t) / m), lambdaScale, muScale);
  const logSilent = logIntegrate(
    p,
    (l, m) => aliveLog(l, m) + Math.log((m / (l + m)) * -Math.expm1(-(l + m) * t) + Math.exp(-(l + m) * t)),
    lambdaScale,
    muScale,
  );
  const pAlive = Math.exp(logAlive - logL);
  return {
    logL,
    pAlive,
    expected: Math.exp(logFuture - logL),
    pNoPurchase: 1 - pAlive + Math.exp(logSilent - logL),
  };
}

const CASES: [string, ParetoNbdParams, number, number, number][] = [
  ['CDNOW (α < β), a typical repeat buyer', CDNOW, 2, 30.43, 38.86],
  ['CDNOW, one-time buyer', CDNOW, 0, 0, 38.86],
  ['CDNOW, last purchase at T', CDNOW, 3, 20, 20],
  ['α > β, long silence', { r: 1.3, alpha: 30, s: 0.8, beta: 4 }, 5, 10, 60],
  ['α ≫ β (argument near 1)', { r: 0.7, alpha: 400, s: 1.2, beta: 0.5 }, 1, 2, 50],
  ['α ≪ β', { r: 0.4, alpha: 0.5, s: 2.5, beta: 300 }, 4, 12, 40],
  ['α = β (the branch switch)', { r: 0.9, alpha: 7, s: 0.7, beta: 7 }, 6, 25, 52],
  ['many purchases', { r: 2, alpha: 3, s: 0.5, beta: 20 }, 40, 50, 52],
];

describe('Pareto/NBD closed forms against 2-D quadrature over the mixing distributions', () => {
  for (const [label, params, x, tx, T] of CASES) {
    it(`likelihood, P(alive), E[Y(26)] and P(no purchase in 26) (${label})`, () => {
      const ref = byQuadrature(params, x, tx, T, 26);
      expect(paretoNbdLogLikelihoodOne(params, x, tx, T)).toBeCloseTo(ref.logL, 7);
      expect(paretoNbdPAlive(params, x, tx, T)).toBeCloseTo(ref.pAlive, 7);
      const expected = paretoNbdConditionalExpectedPurchases(params, 26, x, tx, T);
      expect(Math.abs(expected - ref.expected) / ref.expected).toBeLessThan(1e-6);
      expect(paretoNbdPNoPurchase(params, 26, x, tx, T)).toBeCloseTo(ref.pNoPurchase, 7);
    });
  }

  it('the two 2F1 branches agree where both converge (either side of α = β)', () => {
    // Just above and below the switch each branch is evaluated; the integral they represent is continuous.
    for (const [alpha, beta] of [[7 * (1 + 1e-9), 7], [7, 7 * (1 + 1e-9)]]) {
      const p = { r: 0.9, alpha, s: 0.7, beta };
      const atSwitch = logDropoutTail({ r: 0.9, alpha: 7, s: 0.7, beta: 7 }, 6, 25);
      expect(logDropoutTail(p, 6, 25)).toBeCloseTo(atSwitch, 8);
    }
  });

  it('E[X(t)] of a new customer: r β/(α(s−1)) [1 − (β/(β+t))^(s−1)], also at s = 1 (its limit r/α · β ln(1 + t/β))', () => {
    const p = { ...CDNOW };
    const t = 39;
    const direct = ((p.r * p.beta) / (p.alpha * (p.s - 1))) * (1 - Math.pow(p.beta / (p.beta + t), p.s - 1));
    expect(paretoNbdExpectedPurchases(p, t)).toBeCloseTo(direct, 12);
    const one = { ...CDNOW, s: 1 };
    expect(paretoNbdExpectedPurchases(one, t)).toBeCloseTo((one.r / one.alpha) * one.beta * Math.log1p(t / one.beta), 12);
    // ... and equals the quadrature over the priors of λ (1 − e^(−μt))/μ.
    const ref = Math.exp(logIntegrate(p, (l, m) => Math.log(l) + Math.log(-Math.expm1(-m * t) / m), p.r / p.alpha, p.s / p.beta));
    expect(paretoNbdExpectedPurchases(p, t)).toBeCloseTo(ref, 8);
  });
});

describe('Pareto/NBD analytic gradient', () => {
  it('log2F1WithGradient: the value of log2F1 and its a, b, c, z derivatives equal central differences (direct series and Euler transform)', () => {
    // (a, b, c, z): direct (c − a − b > 0) and Euler-transformed (c − a − b < 0, large b) cases.
    const cases: [number, number, number, number][] = [[1.8, 1.6, 2.8, 0.3], [3.2, 40.5, 4.2, 0.9], [31, 30.6, 32, 0.05], [0.7, 2.2, 1.7, 0.999]];
    for (const [a, b, c, z] of cases) {
      const h = log2F1WithGradient(a, b, c, z);
      expect(h.value).toBeCloseTo(log2F1(a, b, c, z), 12);
      const step = 1e-6;
      const diff = (f: (d: number) => number) => (f(step) - f(-step)) / (2 * step);
      expect(h.da).toBeCloseTo(diff((d) => log2F1(a + d, b, c, z)), 5);
      expect(h.db).toBeCloseTo(diff((d) => log2F1(a, b + d, c, z)), 5);
      expect(h.dc).toBeCloseTo(diff((d) => log2F1(a, b, c + d, z)), 5);
      const dz = diff((d) => log2F1(a, b, c, z + d * Math.min(z, 1 - z)));
      expect(h.dz * Math.min(z, 1 - z)).toBeCloseTo(dz, 5);
    }
  });

  it('equals central differences of the row-by-row log-likelihood on both sides of α = β', () => {
    const data = compressRfm([0, 1, 2, 5, 9, 3], [0, 3, 20.5, 30, 38, 38.86], [38.86, 38, 36.2, 38.86, 38.86, 38.86]);
    for (const params of [CDNOW, { r: 1.3, alpha: 30, s: 0.8, beta: 4 }]) {
      const g = paretoNbdLogLikelihoodGradient(params, data);
      for (const name of ['r', 'alpha', 's', 'beta'] as const) {
        const h = 1e-6 * params[name];
        const up = paretoNbdLogLikelihood({ ...params, [name]: params[name] + h }, data);
        const down = paretoNbdLogLikelihood({ ...params, [name]: params[name] - h }, data);
        const numeric = (up - down) / (2 * h);
        expect(Math.abs(g[name] - numeric), `${name}: ${g[name]} vs ${numeric}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(numeric)));
      }
    }
  });
});

describe('Pareto/NBD fit', () => {
  it('reports the row-by-row log-likelihood of its estimates and recovers simulated parameters within 3 standard errors', () => {
    const truth: ParetoNbdParams = { r: 0.8, alpha: 8, s: 0.9, beta: 14 };
    const sim = simulateParetoNbd(truth, 8_000, { minT: 52, maxT: 52 }, new Rng(20260101));
    // Recorded on a daily grid in weeks, as dated data would be (ceil keeps a purchase inside the window).
    const tx = sim.tx.map((v) => Math.min(52, Math.ceil(v * 7) / 7));
    const data = compressRfm(sim.x, tx, sim.T);
    const started = performance.now();
    const fit = fitParetoNbd(data);
    
    expect(fit.converged, fit.message).toBe(true);
    expect(fit.logLikelihood).toBeCloseTo(paretoNbdLogLikelihood(fit.params, data), 6);
    for (const name of ['r', 'alpha', 's', 'beta'] as const) {
      const se = fit.standardErrors![name];
      expect(Math.abs(fit.params[name] - truth[name]), `${name}: ${fit.params[name]} ± ${se}`).toBeLessThan(3 * se);
    }
    // Starts on a small weighted subsample, the best refined on all rows: the same maximum.
    const viaSubsample = fitParetoNbd(data, { subsampleRows: 300 });
    expect(viaSubsample.converged, viaSubsample.message).toBe(true);
    for (const name of ['r', 'alpha', 's', 'beta'] as const) expect(viaSubsample.params[name]).toBeCloseTo(fit.params[name], 5);
    expect(viaSubsample.starts.every((s) => s.logLikelihood !== fit.logLikelihood)).toBe(true);
  });

  it('stops a fit running away to a limit (β/α > 100: one dropout rate for all) instead of summing 2F1 series for minutes', () => {
    // 400 BG/NBD customers whose Pareto/NBD likelihood rises towards s, β → ∞ with s/β fixed:
    // before the stop, each evaluation summed up to 2 million series terms per history, and
    // `crm run` (--model auto by default) took minutes on such a sample.
    const sim = simulateBgNbd({ r: 0.5, alpha: 12, a: 0.8, b: 2.4 }, 400, { minT: 78, maxT: 104, resolution: 1 / 7 }, new Rng(2));
    const fit = fitParetoNbd(compressRfm(sim.x, sim.tx, sim.T));
    expect(fit.converged).toBe(false);
    expect(fit.message).toMatch(/stopped: beta\/alpha = \d+ > 100, the fit is running away to a limit of the model \(one dropout rate for all\)/);
    expect(fit.params.beta / fit.params.alpha).toBeGreaterThan(100);
  });

  it('names the problem instead of fitting degenerate or invalid data', () => {
    const none = fitParetoNbd(compressRfm([0, 0], [0, 0], [10, 20]));
    expect(none.converged).toBe(false);
    expect(none.message).toMatch(/no customer made a repeat purchase/);
    const bad = fitParetoNbd(compressRfm([1], [30], [20]));
    expect(bad.message).toMatch(/invalid input: row 0: tx must be within \[0, T\]/);
  });

  it('predictParetoNbd gives per history what the single-history functions give', () => {
    const data = compressRfm([0, 2, 2, 7], [0, 10, 30, 35], [40, 40, 40, 36]);
    const out = predictParetoNbd(CDNOW, data, 52);
    for (let i = 0; i < 4; i++) {
      expect(out.pAlive[i]).toBe(paretoNbdPAlive(CDNOW, data.x[i], data.tx[i], data.T[i]));
      expect(out.expectedPurchases[i]).toBeCloseTo(paretoNbdConditionalExpectedPurchases(CDNOW, 52, data.x[i], data.tx[i], data.T[i]), 12);
      expect(out.pNoPurchase[i]).toBeCloseTo(paretoNbdPNoPurchase(CDNOW, 52, data.x[i], data.tx[i], data.T[i]), 12);
    }
  });
});

describe('Pareto/NBD properties (fast-check)', () => {
  const paramsArb = fc.record({
    r: fc.double({ min: 0.05, max: 20, noNaN: true }),
    alpha: fc.double({ min: 0.05, max: 500, noNaN: true }),
    s: fc.double({ min: 0.05, max: 20, noNaN: true }),
    beta: fc.double({ min: 0.05, max: 500, noNaN: true }),
  });
  const historyArb = fc
    .record({ x: fc.integer({ min: 0, max: 60 }), T: fc.double({ min: 0.5, max: 200, noNaN: true }), u: fc.double({ min: 0, max: 1, noNaN: true }) })
    .map(({ x, T, u }) => ({ x, T, tx: x === 0 ? 0 : u * T }));

  it('P(alive) is in [0, 1] and does not fall as the last purchase gets more recent; P(no purchase) is in [1 − P(alive), 1] and falls with the horizon', () => {
    fc.assert(
      fc.property(paramsArb, historyArb, (p, { x, tx, T }) => {
        const alive = paretoNbdPAlive(p, x, tx, T);
        expect(alive).toBeGreaterThanOrEqual(0);
        expect(alive).toBeLessThanOrEqual(1);
        if (x > 0) {
          const later = paretoNbdPAlive(p, x, Math.min(T, tx + 0.1 * (T - tx) + 1e-9), T);
          expect(later).toBeGreaterThanOrEqual(alive * (1 - 1e-9));
        }
        const short = paretoNbdPNoPurchase(p, 4, x, tx, T);
        const long = paretoNbdPNoPurchase(p, 52, x, tx, T);
        expect(short).toBeGreaterThanOrEqual(1 - alive - 1e-9);
        expect(short).toBeLessThanOrEqual(1 + 1e-12);
        expect(long).toBeLessThanOrEqual(short + 1e-9);
        // Non-decreasing in the horizon; with fast dropout (large s, small beta) both horizons reach
        // the same limit, and the two values may then differ in the last bit either way.
        const within4 = paretoNbdConditionalExpectedPurchases(p, 4, x, tx, T);
        expect(paretoNbdConditionalExpectedPurchases(p, 52, x, tx, T)).toBeGreaterThanOrEqual(within4 * (1 - 1e-12));
      }),
      { numRuns: 200 },
    );
  });
});
