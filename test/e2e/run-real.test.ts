/**
 * `crm run` on real data: the Online Retail II subset (data/online-retail-ii), scored as of
 * 2011-06-08 and backtested on the six months that followed. Counts are checked against
 * independent SQL; the model's adequacy against what was measured when it was written
 * (predicted 323 vs actual 347 repeat purchases, AUC of p_no_purchase 0.83) with margins.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { crm, REAL_XLSX, sql, tempDir } from '../helpers/cli.js';

const AS_OF = '2011-06-08';
const HOLDOUT_END = '2011-12-09';

interface RunJson {
  run_id: number;
  customers: number;
  model_status: string;
  bgnbd: { converged: boolean; r: number; alpha: number; a: number; b: number };
  gamma_gamma: { converged: boolean };
  backtest: { predicted_total: number; actual_total: number; auc: number; auc_p_no_purchase: number; customers: number };
  summary: { key_accounts: { customers: number; revenue_share: number } };
}

describe('crm run on the Online Retail II workbook', () => {
  let db: string;
  let run: RunJson;
  beforeAll(() => {
    db = path.join(tempDir(), 'retail.duckdb');
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', REAL_XLSX]).code).toBe(0);
    const r = crm(['--db', db, '-q', 'run', '--as-of', AS_OF, '--holdout-end', HOLDOUT_END, '--json']);
    expect(r.code).toBe(0);
    run = JSON.parse(r.stdout);
  });

  it('scores every customer with a purchase by the as-of date, and fits both models', () => {
    const [{ n }] = sql<{ n: number }>(db, `SELECT count(DISTINCT customer_id) AS n FROM transactions WHERE NOT is_return AND order_date <= DATE '${AS_OF}'`);
    expect(run.customers).toBe(n);
    expect(run.model_status).toBe('fitted');
    expect(run.bgnbd.converged).toBe(true);
    expect(run.gamma_gamma.converged).toBe(true);
    expect(sql(db, 'SELECT count(*) AS n FROM customer_latest WHERE rfm_segment IS NULL OR value_tier IS NULL OR churn_tier IS NULL')).toEqual([{ n: 0 }]);
    const [{ segments }] = sql<{ segments: number }>(db, 'SELECT count(DISTINCT rfm_segment) AS segments FROM customer_latest');
    expect(segments).toBeGreaterThanOrEqual(8); // real customers spread over most of the 11 segments
  });

  it('counts the holdout purchases exactly and predicts them within 25 %', () => {
    const [{ actual }] = sql<{ actual: number }>(
      db,
      `WITH scored AS (SELECT DISTINCT customer_id FROM transactions WHERE NOT is_return AND order_date <= DATE '${AS_OF}')
       SELECT count(*) AS actual FROM (
         SELECT DISTINCT customer_id, order_date FROM transactions JOIN scored USING (customer_id)
         WHERE NOT is_return AND order_date > DATE '${AS_OF}' AND order_date <= DATE '${HOLDOUT_END}')`,
    );
    expect(run.backtest.actual_total).toBe(actual);
    expect(run.backtest.customers).toBe(run.customers);
    expect(Math.abs(run.backtest.predicted_total / actual - 1)).toBeLessThan(0.25);
    // Who does not come back: p_no_purchase separates them well, 1 − P(alive) does not (one-time buyers).
    expect(run.backtest.auc_p_no_purchase).toBeGreaterThan(0.75);
    expect(run.backtest.auc_p_no_purchase).toBeGreaterThan(run.backtest.auc);
  });

  it('finds the smallest set of customers bringing 80 % of positive revenue', () => {
    const rows = sql<{ share: number; tie_share: number }>(
      db,
      `SELECT sum(revenue_share) AS share,
              (SELECT sum(revenue_share) FROM customer_latest WHERE is_key_account AND net_revenue = (SELECT min(net_revenue) FROM customer_latest WHERE is_key_account)) AS tie_share
       FROM customer_latest WHERE is_key_account`,
    );
    const { share, tie_share } = rows[0];
    expect(share).toBeGreaterThanOrEqual(0.8);
    expect(share - tie_share).toBeLessThan(0.8); // without the last (tie group of) account(s) it falls short
    expect(run.summary.key_accounts.revenue_share).toBeCloseTo(share, 10);
    const [{ n }] = sql<{ n: number }>(db, 'SELECT count(*) AS n FROM customer_latest WHERE is_key_account AND net_revenue <= 0');
    expect(n).toBe(0);
  });
});
