/**
 * `crm run` on spend without heterogeneity across customers: the Gamma-Gamma's maximum is at
 * q → ∞ (models/gamma-gamma-limits.ts), the run reports the fit at its homogeneous-spend limit
 * (--json and runs.gamma_gamma: boundary, spend_model, nu, population_mean) and values every
 * customer at the population mean p/ν — not at each customer's own mean, the fallback of an
 * unusable fit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { discountedExpectedPurchases } from '../../src/models/clv.js';
import { createStore, type RunJson, type TestStore } from '../helpers/run.js';
import { homogeneousSpendSimulation } from '../helpers/simulate-transactions.js';

const stores: TestStore[] = [];
afterAll(() => stores.forEach((s) => s.cleanup()));

type LimitReport = NonNullable<RunJson['gamma_gamma']> & { boundary: string | null; spend_model: string; nu: number; population_mean: number; unrestricted: { q: number; log_likelihood: number }; log_likelihood: number };

describe('Gamma-Gamma at its homogeneous-spend limit', () => {
  it('reports the limit and gives every customer the population mean p/ν as expected order value', async () => {
    const sim = homogeneousSpendSimulation();
    const store = await createStore(sim.csv, 'crm-spend-limit-');
    stores.push(store);
    const run = store.json<RunJson>(['run', '--as-of', '2023-12-31']);
    expect(run.model_status).toBe('fitted');
    const gg = run.gamma_gamma as LimitReport;
    expect(gg.boundary).toBe('homogeneous_spend');
    expect(gg.spend_model).toBe('homogeneous_spend');
    expect(gg.converged).toBe(true);
    expect([gg.q, gg.v]).toEqual([null, null]);
    expect(gg.message).toMatch(/homogeneous-spend limit/);
    expect(gg.population_mean).toBe(gg.p / gg.nu);
    // The truth's mean transaction value is 50 (p/ν = 2.5/0.05).
    expect(Math.abs(gg.population_mean / 50 - 1)).toBeLessThan(0.1);
    expect(gg.unrestricted.q).toBeGreaterThan(1e5);
    expect(gg.log_likelihood).toBeGreaterThanOrEqual(gg.unrestricted.log_likelihood - 1e-6 * gg.customers);
    // runs.gamma_gamma holds the same report.
    const [row] = await store.query<{ gg: string }>(`SELECT CAST(gamma_gamma AS VARCHAR) AS gg FROM runs WHERE run_id = ${run.run_id}`);
    expect(JSON.parse(row.gg)).toEqual(run.gamma_gamma);

    const params = { r: run.bgnbd!.r, alpha: run.bgnbd!.alpha, a: run.bgnbd!.a, b: run.bgnbd!.b };
    const clvOptions = { horizon: 365.25 / 7, unitsPerYear: 365.25 / 7, annualDiscountRate: 0.1 };
    const rows = await store.query<{ customer_id: string; bgnbd_x: number; bgnbd_t_x: number; bgnbd_T: number; expected_order_value: number; clv: number }>(
      'SELECT customer_id, bgnbd_x, bgnbd_t_x, bgnbd_T, expected_order_value, clv FROM customer_latest',
    );
    expect(rows.length).toBe(600);
    const ownMeans = new Set<number>();
    for (const r of rows) {
      // Every customer (all spent > 0): the population mean, whatever their own mean.
      expect(r.expected_order_value, r.customer_id).toBe(gg.population_mean);
      const dep = discountedExpectedPurchases(params, r.bgnbd_x, r.bgnbd_t_x, r.bgnbd_T, clvOptions);
      expect(Math.abs(r.clv - gg.population_mean * dep) / (gg.population_mean * dep), r.customer_id).toBeLessThan(1e-9);
    }
    for (const c of sim.customers) ownMeans.add(c.dayValues.reduce((s, v) => s + v, 0) / c.dayValues.length);
    // (The customers' own means do differ: the old fallback would have given ~600 different values.)
    expect(ownMeans.size).toBeGreaterThan(500);
  });
});
