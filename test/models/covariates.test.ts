import { describe, expect, it } from 'vitest';
import { bgnbdLogLikelihood } from '../../src/models/bgnbd.js';
import { covariateLikelihood, covariateParameterNames, fitCovariateModel, likelihoodRatioTest, paramsAt, type CovariateData } from '../../src/models/covariates.js';
import { mbgnbdLogLikelihood } from '../../src/models/mbgnbd.js';
import { fitParetoNbd, paretoNbdLogLikelihood, type ParetoNbdParams } from '../../src/models/pareto-nbd.js';
import { Rng } from '../../src/models/random.js';
import { compressRfm, type RfmSummary } from '../../src/models/rfm-data.js';
import { simulateBgNbd, simulateParetoNbd } from '../../src/models/simulate.js';
import { chiSquareUpperTail, regularizedGammaQ } from '../../src/models/special.js';

/** Two groups' simulated histories as covariate data: group 0 baseline, group 1 'group=B'. */
function twoGroups(a: { x: Float64Array; tx: Float64Array; T: Float64Array }, b: { x: Float64Array; tx: Float64Array; T: Float64Array }): CovariateData & { all: RfmSummary } {
  const round = (v: Float64Array) => v.map((t) => Math.ceil(t * 7) / 7);
  const ca = compressRfm(a.x, round(a.tx).map((t, i) => Math.min(t, a.T[i])), a.T);
  const cb = compressRfm(b.x, round(b.tx).map((t, i) => Math.min(t, b.T[i])), b.T);
  const cat = (u: Float64Array, v: Float64Array) => Float64Array.from([...u, ...v]);
  const histories = { x: cat(ca.x, cb.x), tx: cat(ca.tx, cb.tx), T: cat(ca.T, cb.T), weight: cat(ca.weight, cb.weight) };
  const cell = Uint32Array.from([...ca.x.map(() => 0), ...cb.x.map(() => 1)]);
  return { histories, cell, design: [[0], [1]], dummyNames: ['group=B'], all: histories };
}

const PARETO: ParetoNbdParams = { r: 0.6, alpha: 8, s: 0.7, beta: 12 };
const window = { minT: 40, maxT: 52 };

function paretoGroups(gammaPurchase: number, gammaDropout: number, n: number, seed: number) {
  const rng = new Rng(seed);
  const a = simulateParetoNbd(PARETO, n, window, rng);
  const b = simulateParetoNbd({ ...PARETO, alpha: PARETO.alpha * Math.exp(-gammaPurchase), beta: PARETO.beta * Math.exp(-gammaDropout) }, n, window, rng);
  return twoGroups(a, b);
}

describe('covariate model (Fader & Hardie 2007 note)', () => {
  it('with every coefficient 0 the likelihood is the model without covariates', () => {
    const data = paretoGroups(0.5, -0.4, 400, 7);
    const theta = (key: 'pareto_nbd' | 'bgnbd' | 'mbgnbd', base: number[]) =>
      Float64Array.from([...base.map(Math.log), ...new Array(covariateParameterNames(key, data.dummyNames).length - 4).fill(0)]);
    const g = new Float64Array(6);
    const ll = covariateLikelihood('pareto_nbd', data).evaluate(theta('pareto_nbd', [0.6, 8, 0.7, 12]), g);
    expect(ll).toBeCloseTo(paretoNbdLogLikelihood(PARETO, data.all), 9);
    const bg = { r: 0.5, alpha: 6, a: 0.8, b: 2.5 };
    const g8 = new Float64Array(7);
    expect(covariateLikelihood('bgnbd', data).evaluate(theta('bgnbd', [0.5, 6, 0.8, 2.5]), g8)).toBeCloseTo(bgnbdLogLikelihood(bg, data.all), 9);
    expect(covariateLikelihood('mbgnbd', data).evaluate(theta('mbgnbd', [0.5, 6, 0.8, 2.5]), g8)).toBeCloseTo(mbgnbdLogLikelihood(bg, data.all), 9);
  });

  it('has the analytic gradient of its likelihood (against central differences), for every model', () => {
    const data = paretoGroups(0.5, -0.4, 300, 11);
    for (const key of ['pareto_nbd', 'bgnbd', 'mbgnbd'] as const) {
      const like = covariateLikelihood(key, data);
      const n = covariateParameterNames(key, data.dummyNames).length;
      const theta = Float64Array.from({ length: n }, (_, i) => (i < 4 ? Math.log([0.6, 8, 0.9, 3][i]) : 0.3 - 0.2 * i));
      const g = new Float64Array(n);
      like.evaluate(theta, g);
      for (let i = 0; i < n; i++) {
        const h = 1e-6;
        const up = Float64Array.from(theta);
        const down = Float64Array.from(theta);
        up[i] += h;
        down[i] -= h;
        const numeric = (like.evaluate(up, new Float64Array(n)) - like.evaluate(down, new Float64Array(n))) / (2 * h);
        expect(g[i], `${key} θ${i}`).toBeCloseTo(numeric, 3);
      }
    }
  });

  it('recovers a known purchase and dropout effect within 3 standard errors (Pareto/NBD)', () => {
    const truth = { purchase: 0.8, dropout: -0.6 };
    const data = paretoGroups(truth.purchase, truth.dropout, 4000, 20261207);
    const plain = fitParetoNbd(data.all);
    const fit = fitCovariateModel('pareto_nbd', data, plain.params as unknown as Record<string, number>);
    expect(fit.converged, fit.message).toBe(true);
    for (const c of fit.coefficients) {
      const expected = truth[c.effect as 'purchase' | 'dropout'];
      expect(Math.abs(c.estimate - expected), `${c.effect}: ${c.estimate} ± ${c.se}`).toBeLessThan(3 * c.se!);
    }
    for (const name of ['r', 'alpha', 's', 'beta'] as const) {
      expect(Math.abs(fit.base[name] - PARETO[name]), `${name}`).toBeLessThan(3 * fit.baseStandardErrors![name]);
    }
    // A customer of group B gets the scaled rate parameters.
    const b = paramsAt(fit, data.dummyNames, [1]);
    expect(b.alpha).toBeCloseTo(fit.base.alpha * Math.exp(-fit.coefficients[0].estimate), 10);
    expect(b.beta).toBeCloseTo(fit.base.beta * Math.exp(-fit.coefficients[1].estimate), 10);
    expect(b.r).toBe(fit.base.r);
    // Strong effect: the likelihood-ratio test rejects the model without covariates.
    const lr = likelihoodRatioTest(fit.logLikelihood, plain.logLikelihood, fit.coefficients.length);
    expect(lr.df).toBe(2);
    expect(lr.p_value).toBeLessThan(1e-6);
  });

  it('recovers a known purchase and dropout effect within 3 standard errors (BG/NBD: α and b scaled)', () => {
    const truth = { purchase: -0.7, dropout: 0.9 };
    const params = { r: 0.8, alpha: 5, a: 0.7, b: 3 };
    const rng = new Rng(777);
    const a = simulateBgNbd(params, 4000, window, rng);
    const b = simulateBgNbd({ ...params, alpha: params.alpha * Math.exp(-truth.purchase), b: params.b * Math.exp(-truth.dropout) }, 4000, window, rng);
    const data = twoGroups(a, b);
    const fit = fitCovariateModel('bgnbd', data, params);
    expect(fit.converged, fit.message).toBe(true);
    expect(fit.coefficients.map((c) => c.effect)).toEqual(['purchase', 'dropout']);
    for (const c of fit.coefficients) {
      const expected = truth[c.effect];
      expect(Math.abs(c.estimate - expected), `${c.effect}: ${c.estimate} ± ${c.se}`).toBeLessThan(3 * c.se!);
    }
    // Starts on a small weighted subsample, the best refined on all rows: the same maximum.
    const viaSubsample = fitCovariateModel('bgnbd', data, params, { subsampleRows: 300 });
    expect(viaSubsample.converged, viaSubsample.message).toBe(true);
    expect(viaSubsample.mle.starts.every((s) => s.logLikelihood !== fit.logLikelihood)).toBe(true);
    viaSubsample.coefficients.forEach((c, i) => expect(c.estimate).toBeCloseTo(fit.coefficients[i].estimate, 4));
    expect(viaSubsample.logLikelihood).toBeCloseTo(fit.logLikelihood, 6);
    const groupB = paramsAt(fit, data.dummyNames, [1]);
    expect(groupB.a).toBe(fit.base.a);
    expect(groupB.b).toBeCloseTo(fit.base.b * Math.exp(-fit.coefficients[1].estimate), 10);
  });

  it('finds no effect where there is none: LR test not significant, coefficients within 3 SE of 0 (seeded; Pareto/NBD and BG/NBD)', () => {
    const rng = new Rng(424242);
    const params = { r: 0.7, alpha: 6, a: 0.8, b: 2.5 };
    const a = simulateBgNbd(params, 3000, window, rng);
    const b = simulateBgNbd(params, 3000, window, rng);
    const data = twoGroups(a, b);
    const nothing = fitCovariateModel('bgnbd', { ...data, cell: new Uint32Array(data.cell.length), design: [[]], dummyNames: [] }, params);
    expect(nothing.message).toMatch(/nothing to estimate/);
    const like = covariateLikelihood('bgnbd', { ...data, design: [[0], [0]] });
    expect(like.customers).toBe(6000);
    // Same process in both groups: the LR statistic is not significant.
    const noEffect = paretoGroups(0, 0, 3000, 99);
    const withCovariates = fitCovariateModel('pareto_nbd', noEffect, { ...PARETO });
    const lr = likelihoodRatioTest(withCovariates.logLikelihood, fitParetoNbd(noEffect.all).logLikelihood, 2);
    expect(withCovariates.converged, withCovariates.message).toBe(true);
    expect(lr.p_value).toBeGreaterThan(0.05);
    const bgFit = fitCovariateModel('bgnbd', data, params);
    expect(bgFit.converged, bgFit.message).toBe(true);
    for (const c of bgFit.coefficients) expect(Math.abs(c.estimate), `${c.effect} ${c.estimate} ± ${c.se}`).toBeLessThan(3 * c.se!);
  });
});

describe('chi-square upper tail (regularised incomplete gamma)', () => {
  it('matches known quantiles and closed forms', () => {
    expect(chiSquareUpperTail(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquareUpperTail(9.487729036781154, 4)).toBeCloseTo(0.05, 12);
    expect(chiSquareUpperTail(0.7107230213973239, 4)).toBeCloseTo(0.95, 12);
    for (const x of [0.1, 1, 5, 30]) expect(chiSquareUpperTail(x, 2)).toBeCloseTo(Math.exp(-x / 2), 14);
    // Far tail keeps its relative precision: Q(1, x) = e^(−x).
    expect(regularizedGammaQ(1, 200) / Math.exp(-200)).toBeCloseTo(1, 10);
    expect(chiSquareUpperTail(0, 3)).toBe(1);
  });
});
