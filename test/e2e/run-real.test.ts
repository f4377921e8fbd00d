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
    expect(r.code, r.stderr).toBe(0);
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

/**
 * As of 2010-06-01 (88 customers, 6 months in) nobody in the workbook seems to drop out: the
 * BG/NBD likelihood keeps rising as a → 0 and b → ∞. This used to stop with "parameters ran away"
 * and fall back to the recency score (no CLV, no projection); the maximum is the no-dropout limit
 * (NBD), which is now the fit. Every as-of date and time unit tried gets a model.
 */
describe('crm run on the Online Retail II workbook where the likelihood peaks at a boundary', () => {
  let db: string;
  beforeAll(() => {
    db = path.join(tempDir(), 'retail-boundary.duckdb');
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', REAL_XLSX]).code).toBe(0);
  });

  it('as of 2010-06-01: fitted at the no-dropout limit, with CLV and expected purchases for every customer', () => {
    const r = crm(['--db', db, 'run', '--as-of', '2010-06-01']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/BG\/NBD at its no-dropout limit \(NBD: nobody drops out\): r=0\.690 alpha=9\.026 \(log-likelihood -347\.8/);
    const [run] = sql<{ model_status: string; boundary: string; a: string | null; customers: number }>(
      db,
      `SELECT model_status, bgnbd->>'boundary' AS boundary, bgnbd->>'a' AS a, customers FROM runs ORDER BY run_id DESC LIMIT 1`,
    );
    expect(run).toEqual({ model_status: 'fitted', boundary: 'no_dropout', a: null, customers: 88 });
    const [m] = sql<{ n: number; with_clv: number; alive: number; projected: number }>(
      db,
      `SELECT count(*) AS n, count(clv) AS with_clv, count(*) FILTER (WHERE p_alive = 1) AS alive, count(*) FILTER (WHERE expected_purchases > 0) AS projected FROM customer_latest`,
    );
    expect(m).toEqual({ n: 88, with_clv: 88, alive: 88, projected: 88 });
    const shown = crm(['--db', db, 'model', 'show']);
    expect(shown.stdout).toMatch(/BG\/NBD at its no-dropout limit/);
  });

  it('counts and names the customers with only returns by the as-of date', () => {
    const r = crm(['--db', db, '-q', 'run', '--as-of', '2010-06-01', '--json']);
    const run = JSON.parse(r.stdout) as { summary: { customers_only_returns: number; customers_only_returns_examples: string[] } };
    const ids = sql<{ customer_id: string }>(
      db,
      `SELECT customer_id FROM transactions WHERE order_date <= DATE '2010-06-01' GROUP BY customer_id HAVING bool_and(is_return) ORDER BY customer_id`,
    ).map((x) => x.customer_id);
    expect(ids.length).toBeGreaterThan(0);
    expect(run.summary.customers_only_returns).toBe(ids.length);
    expect(run.summary.customers_only_returns_examples).toEqual(ids.slice(0, 5));
  });

  it('every as-of date and time unit gets a model (fitted, CLV for every customer)', () => {
    for (const asOf of ['2010-12-01', '2011-12-09']) {
      for (const unit of ['day', 'week', 'month']) {
        const r = crm(['--db', db, '-q', 'run', '--as-of', asOf, '--time-unit', unit, '--json']);
        expect(r.code).toBe(0);
        const run = JSON.parse(r.stdout) as { model_status: string; customers: number; summary: { clv_total: number | null } };
        expect(run.model_status, `${asOf} ${unit}`).toBe('fitted');
        const [{ n }] = sql<{ n: number }>(db, 'SELECT count(clv) AS n FROM customer_latest');
        expect(n).toBe(run.customers);
      }
    }
    // Six runs, each fitting and comparing three purchase models (--model auto, the default).
  }, 240_000);
});
