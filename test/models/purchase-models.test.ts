/**
 * The one interface over the continuous-time purchase models (src/models/purchase-models.ts):
 * keys, the report under each model's key, predictions equal to each module's, and the
 * discounted expected purchases (CLV per unit of value) equal to clv.ts's for the BG/NBD and to
 * the plain expectation without discounting for every model.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { discountedExpectedPurchasesAll } from '../../src/models/clv.js';
import { fitPurchaseModel } from '../../src/models/bgnbd-limits.js';
import { predictMbgNbd } from '../../src/models/mbgnbd.js';
import { predictParetoNbd } from '../../src/models/pareto-nbd.js';
import { discountedPurchasesAll, fitChosenPurchaseModel, PURCHASE_MODEL_KEYS, purchaseModelKey, type PurchaseModelChoiceFit } from '../../src/models/purchase-models.js';
import { compressRfm, type RfmSummary } from '../../src/models/rfm-data.js';

const YEAR = { horizon: 52, unitsPerYear: 365.25 / 7, annualDiscountRate: 0.1 };

let data: RfmSummary;
const fits = new Map<string, PurchaseModelChoiceFit>();
beforeAll(() => {
  const rows = readFileSync('test/fixtures/cdnow/cdnow_customers_summary.csv', 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  data = compressRfm(rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]));
  for (const key of PURCHASE_MODEL_KEYS) fits.set(key, fitChosenPurchaseModel(key, data));
});

describe('purchase models behind one interface', () => {
  it('--model spellings map to the JSON keys; unknown names do not', () => {
    expect(purchaseModelKey('pareto-nbd')).toBe('pareto_nbd');
    expect(purchaseModelKey('mbgnbd')).toBe('mbgnbd');
    expect(purchaseModelKey('bgnbd')).toBe('bgnbd');
    expect(purchaseModelKey('bgbb')).toBeNull();
    expect(purchaseModelKey('auto')).toBeNull();
  });

  it('each model is reported under its own parameters with log_likelihood, converged and standard_errors', () => {
    const pareto = fits.get('pareto_nbd')!.report;
    expect(Object.keys(pareto)).toEqual(expect.arrayContaining(['r', 'alpha', 's', 'beta', 'log_likelihood', 'converged', 'standard_errors']));
    expect(pareto.s as number).toBeCloseTo(0.606, 3);
    expect(Object.keys(pareto.standard_errors!)).toEqual(['r', 'alpha', 's', 'beta']);
    const mbg = fits.get('mbgnbd')!.report;
    expect(Object.keys(mbg)).toEqual(expect.arrayContaining(['r', 'alpha', 'a', 'b', 'log_likelihood', 'converged', 'standard_errors']));
    const bg = fits.get('bgnbd')!.report;
    expect(bg.r as number).toBeCloseTo(0.243, 3);
    expect(bg.boundary).toBeNull();
    for (const fit of fits.values()) {
      expect(fit.report.converged).toBe(true);
      expect(fit.report.customers).toBe(2357);
    }
  });

  it('predictions are the modules’ own', () => {
    const pareto = fits.get('pareto_nbd')!;
    const mbg = fits.get('mbgnbd')!;
    const { r, alpha, s, beta } = pareto.report as unknown as { r: number; alpha: number; s: number; beta: number };
    expect(pareto.model!.predict(data, 39)).toEqual(predictParetoNbd({ r, alpha, s, beta }, data, 39));
    const m = mbg.report as unknown as { r: number; alpha: number; a: number; b: number };
    expect(mbg.model!.predict(data, 39)).toEqual(predictMbgNbd({ r: m.r, alpha: m.alpha, a: m.a, b: m.b }, data, 39));
  });

  it('discounted expected purchases: clv.ts’s for the BG/NBD; without discounting, the expected purchases over the horizon for every model', () => {
    const bg = fitPurchaseModel(data).model!;
    const ours = discountedPurchasesAll(fits.get('bgnbd')!.model!, data, YEAR);
    const clv = discountedExpectedPurchasesAll(bg, data, YEAR);
    ours.forEach((v, i) => expect(v).toBeCloseTo(clv[i], 12));
    for (const fit of fits.values()) {
      const undiscounted = discountedPurchasesAll(fit.model!, data, { ...YEAR, annualDiscountRate: 0 });
      const expected = fit.model!.predict(data, 52).expectedPurchases;
      undiscounted.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 10));
      // Discounting at 10 % a year takes off at most 10 % and at least nothing.
      const discounted = discountedPurchasesAll(fit.model!, data, YEAR);
      discounted.forEach((v, i) => {
        expect(v).toBeLessThanOrEqual(undiscounted[i]);
        expect(v).toBeGreaterThanOrEqual(undiscounted[i] / 1.1 - 1e-12);
      });
    }
  });

  it('a model that cannot be fitted is reported, not used', () => {
    const none = compressRfm([0, 0], [0, 0], [10, 20]);
    for (const key of PURCHASE_MODEL_KEYS) {
      const fit = fitChosenPurchaseModel(key, none);
      expect(fit.model).toBeNull();
      expect(fit.report.converged).toBe(false);
      expect(fit.report.message).toMatch(/repeat purchase/);
    }
  });
});
