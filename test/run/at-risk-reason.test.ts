/**
 * at_risk_reason quotes the score the churn tier was cut from (migration 22, churn_basis): a
 * customer put in the high tier by a 94% chance of no purchase must not read "high churn risk
 * (0%)" because 1 − P(alive) is 0. Runs cut on churn_risk (and rows from before migration 22,
 * churn_basis NULL) keep the old sentence.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-at-risk-reason-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('customer_metrics.at_risk_reason for a high churn tier', () => {
  it('quotes p_no_purchase when the tier was cut from it, churn_risk otherwise', async () => {
    const store = await Store.open(path.join(dir, 'crm.duckdb'), { create: true });
    try {
      await store.run(`INSERT INTO metrics_customers (run_id, customer_id, value_tier, value_basis, as_of, time_unit_days, monetary,
                         p_alive, churn_risk, p_no_purchase, churn_tier, at_risk_codes, churn_basis) VALUES
        (1, 'A', 'Gold', 'clv', DATE '2025-12-31', 7, 10, 1.0, 0.0, 0.94, 'high', ['churn_risk_high'], 'p_no_purchase'),
        (1, 'B', 'Gold', 'clv', DATE '2025-12-31', 7, 10, 0.3, 0.7, 0.5, 'high', ['churn_risk_high'], 'churn_risk'),
        (1, 'C', 'Gold', 'clv', DATE '2025-12-31', 7, 10, 0.35, 0.65, 0.5, 'high', ['churn_risk_high'], NULL)`);
      expect(await store.all('SELECT customer_id, churn_basis, at_risk_reason FROM customer_metrics ORDER BY customer_id')).toEqual([
        { customer_id: 'A', churn_basis: 'p_no_purchase', at_risk_reason: 'high churn risk (94% chance of no purchase within the horizon)' },
        { customer_id: 'B', churn_basis: 'churn_risk', at_risk_reason: 'high churn risk (70%)' },
        { customer_id: 'C', churn_basis: null, at_risk_reason: 'high churn risk (65%)' },
      ]);
    } finally {
      store.close();
    }
  });
});
