/**
 * Degenerate data never crashes `crm run`: it exits 0 and falls back to the recency score
 * (`model_status = 'fallback'`, the reason in the --json output and in runs.fallback_reason,
 * churn_method 'recency', value_basis 'net_revenue'). Cases for the fallback rules of
 * src/run/index.ts — too few customers, nobody repeats (the rule "every first purchase on the
 * as-of date" cannot fire first: then nobody has a repeat day either, see the single-day case) —
 * with zero and negative spend and return-only customers (counted in the run summary); a
 * likelihood maximised at the boundary of the BG/NBD parameter space is a fit, not a fallback; when only
 * Gamma-Gamma is unusable, BG/NBD still scores churn and CLV uses each customer's own mean
 * value; and a heavy buyer (regression: DECIMAL overflow).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { discountedExpectedPurchases } from '../../src/models/clv.js';
import { simulateTransactions } from '../helpers/simulate-transactions.js';
import { addDays, createStore, type RunJson, type TestStore, type TxRow } from '../helpers/run.js';

const stores: TestStore[] = [];
afterAll(() => stores.forEach((s) => s.cleanup()));
async function storeOf(rows: TxRow[] | string): Promise<TestStore> {
  const s = await createStore(rows, 'crm-fallback-');
  stores.push(s);
  return s;
}

interface Metric {
  customer_id: string;
  recency_days: number;
  frequency: number;
  purchase_days: number;
  monetary: number;
  gross_revenue: number;
  returns_value: number;
  return_lines: number;
  bgnbd_x: number;
  bgnbd_T: number;
  p_alive: number;
  churn_risk: number;
  churn_tier: string;
  churn_reason: string;
  churn_method: string;
  p_no_purchase: number | null;
  expected_purchases: number | null;
  expected_order_value: number;
  clv: number | null;
  value_tier: string;
  value_basis: string;
  net_revenue: number;
  revenue_rank: number | null;
  revenue_share: number;
  cumulative_share: number | null;
  abc_class: string;
  is_key_account: boolean;
  r_score: number;
  f_score: number;
  m_score: number;
  rfm_segment: string;
  cohort_month: string;
}

/** Shared checks of a fallback run; returns the run's customer_metrics rows by id. */
async function expectFallback(store: TestStore, run: RunJson, reason: RegExp): Promise<Map<string, Metric>> {
  expect(run.model_status).toBe('fallback');
  expect(run.fallback_reason).toMatch(reason);
  expect(run.gamma_gamma).toBeNull();
  const [row] = await store.query<{ model_status: string; fallback_reason: string }>(`SELECT model_status, fallback_reason FROM runs WHERE run_id = ${run.run_id}`);
  expect(row).toEqual({ model_status: 'fallback', fallback_reason: run.fallback_reason });
  const metrics = await store.query<Metric>(`SELECT * FROM customer_metrics WHERE run_id = ${run.run_id} ORDER BY customer_id`);
  expect(metrics.length).toBe(run.customers);
  // The recency fallback: churn risk = percent rank of recency (share of customers who bought
  // more recently), P(alive) its complement; no model quantities.
  const n = metrics.length;
  for (const m of metrics) {
    const moreRecent = metrics.filter((o) => o.recency_days < m.recency_days).length;
    expect(m.churn_risk, m.customer_id).toBeCloseTo(n > 1 ? moreRecent / (n - 1) : 0, 12);
    expect(m.p_alive).toBeCloseTo(1 - m.churn_risk, 12);
    expect(m.churn_tier).toBe(m.churn_risk >= 0.6 ? 'high' : m.churn_risk >= 0.3 ? 'medium' : 'low');
    expect([m.churn_method, m.value_basis, m.p_no_purchase, m.expected_purchases, m.clv]).toEqual(['recency', 'net_revenue', null, null, null]);
    expect(m.expected_order_value).toBeCloseTo(Math.max(m.monetary / m.purchase_days, 0), 9);
  }
  return new Map(metrics.map((m) => [m.customer_id, m]));
}

describe('fallback: too few customers', () => {
  it('one customer: fallback, and the customer is the whole 80/20 curve', async () => {
    const store = await storeOf([
      { customer_id: 'A', order_date: '2024-01-05', amount: 100 },
      { customer_id: 'A', order_date: '2024-02-05', amount: 50 },
    ]);
    const run = store.json<RunJson>(['run']);
    expect(run.customers).toBe(1);
    const m = (await expectFallback(store, run, /^only 1 customer \(the models need at least 20\)$/)).get('A')!;
    expect(m).toMatchObject({
      recency_days: 0,
      frequency: 2,
      purchase_days: 2,
      bgnbd_x: 1,
      monetary: 150,
      churn_risk: 0,
      churn_tier: 'low',
      churn_reason: 'last purchase today; usually buys every 31 days',
      value_tier: 'Platinum',
      net_revenue: 150,
      revenue_rank: 1,
      revenue_share: 1,
      cumulative_share: 1,
      abc_class: 'A',
      is_key_account: true,
    });
  });

  it('few customers, zero and negative spend, customers with only returns', async () => {
    // P1 buys twice; P2 returns more than it bought; P3 buys for 0; P4 returns all it bought
    // (the return flagged by its order id); R1 and R2 only return (negative amount; C order id).
    const store = await storeOf([
      { customer_id: 'P1', order_date: '2024-01-10', amount: 100 },
      { customer_id: 'P1', order_date: '2024-03-01', amount: 50 },
      { customer_id: 'P2', order_date: '2024-02-01', amount: 40 },
      { customer_id: 'P2', order_date: '2024-02-15', amount: -60 },
      { customer_id: 'P3', order_date: '2024-02-20', amount: 0 },
      { customer_id: 'P4', order_date: '2024-01-05', amount: 30 },
      { customer_id: 'P4', order_date: '2024-01-20', amount: 30, order_id: 'C100' },
      { customer_id: 'R1', order_date: '2024-02-10', amount: -25 },
      { customer_id: 'R2', order_date: '2024-02-12', amount: 30, order_id: 'C200' },
    ]);
    const run = store.json<RunJson>(['run']);
    expect(run.as_of).toBe('2024-03-01');
    // Customers without a purchase are not scored: a return is not a purchase. They are counted.
    expect(run.customers).toBe(4);
    expect([run.summary.customers_only_returns, run.summary.customers_only_returns_examples]).toEqual([2, ['R1', 'R2']]);
    const [{ stored }] = await store.query<{ stored: number }>(`SELECT CAST(summary->>'customers_only_returns' AS INTEGER) AS stored FROM runs WHERE run_id = ${run.run_id}`);
    expect(stored).toBe(2);
    const m = await expectFallback(store, run, /^only 4 customers \(the models need at least 20\)$/);
    expect([...m.keys()]).toEqual(['P1', 'P2', 'P3', 'P4']);
    const pick = (id: string) => {
      const x = m.get(id)!;
      return [x.monetary, x.gross_revenue, x.returns_value, x.return_lines, x.frequency, x.recency_days, x.churn_risk, x.churn_tier, x.value_tier, x.revenue_rank, x.revenue_share, x.cumulative_share, x.abc_class, x.is_key_account, x.cohort_month];
    };
    // Positive revenue is P1's 150 alone. Recency 0, 29, 10, 56 days → percent ranks 0, 2/3, 1/3, 1.
    // Value tiers on net revenue: P1 first (Platinum); P3 and P4 are worth 0 and P2 less, and a
    // value ≤ 0 is never in an upper tier, so all three are Bronze.
    expect(pick('P1')).toEqual([150, 150, 0, 0, 2, 0, 0, 'low', 'Platinum', 1, 1, 1, 'A', true, '2024-01-01']);
    expect(pick('P2')).toEqual([-20, 40, 60, 1, 1, 29, 2 / 3, 'high', 'Bronze', null, 0, null, 'C', false, '2024-02-01']);
    expect(pick('P3')).toEqual([0, 0, 0, 0, 1, 10, 1 / 3, 'medium', 'Bronze', null, 0, null, 'C', false, '2024-02-01']);
    expect(pick('P4')).toEqual([0, 30, 30, 1, 1, 56, 1, 'high', 'Bronze', null, 0, null, 'C', false, '2024-01-01']);
  });
});

describe('fallback: nobody repeats', () => {
  it('every customer bought on one day only (some with two orders that day); the backtest falls back to recency', async () => {
    const rows: TxRow[] = [];
    for (let i = 0; i < 30; i++) {
      rows.push({ customer_id: `N${String(i).padStart(2, '0')}`, order_date: addDays('2024-01-01', 7 * i), amount: 10 + i });
      if (i % 5 === 0) rows.push({ customer_id: `N${String(i).padStart(2, '0')}`, order_date: addDays('2024-01-01', 7 * i), amount: 5 });
    }
    // Two customers come back after as-of: the only repeat purchases are in the holdout, which
    // ends on the last transaction date (2024-07-22: first purchase of N29).
    rows.push({ customer_id: 'N00', order_date: '2024-07-10', amount: 12 }, { customer_id: 'N01', order_date: '2024-07-15', amount: 12 });
    const store = await storeOf(rows);
    const run = store.json<RunJson>(['run', '--as-of', '2024-06-30', '--holdout-end', '2024-07-22']);
    // First purchases up to 2024-06-24 (i ≤ 25) are scored.
    expect(run.customers).toBe(26);
    const m = await expectFallback(store, run, /^no customer has bought on more than one day/);
    expect([m.get('N00')!.frequency, m.get('N00')!.purchase_days, m.get('N00')!.bgnbd_x]).toEqual([2, 1, 0]);
    expect([...m.values()].every((x) => x.bgnbd_x === 0)).toBe(true);
    // The two holdout buyers are the two longest silent: the recency score ranks them riskiest,
    // so for "no purchase in the holdout" it is perfectly wrong (AUC 0).
    expect(run.backtest).toMatchObject({ method: 'recency', customers: 26, predicted_total: 0, actual_total: 2, buyers: 2, non_buyers: 24, auc: 0, auc_p_no_purchase: null });
  });

  it('everyone bought on one single day, scored as of that day', async () => {
    const rows: TxRow[] = Array.from({ length: 25 }, (_, i) => ({ customer_id: `S${i}`, order_date: '2024-03-01', amount: 10 + (i % 5) }));
    const store = await storeOf(rows);
    const run = store.json<RunJson>(['run']);
    expect(run.as_of).toBe('2024-03-01');
    const m = [...(await expectFallback(store, run, /^no customer has bought on more than one day/)).values()];
    expect(m.length).toBe(25);
    for (const x of m) {
      expect([x.recency_days, x.bgnbd_T, x.churn_risk, x.churn_tier, x.churn_reason]).toEqual([0, 0, 0, 'low', 'first purchase today']);
    }
    // Ties are never split: equal recency and frequency give everyone the same R and F score.
    expect(new Set(m.map((x) => `${x.r_score}${x.f_score}`)).size).toBe(1);
    // Five amounts, five customers each: 80/20 ranks and shares by amount. Total 25 × 12 = 300;
    // 14 (70/300) → A, 13 (65/300; before 70/300) → A, 12 (before 135/300) → A, 11 (before
    // 195/300 = 0.65) → A, 10 (before 250/300 = 0.833) → B.
    for (const x of m) {
      expect(x.revenue_share).toBeCloseTo(x.net_revenue / 300, 12);
      expect(x.abc_class).toBe(x.net_revenue >= 11 ? 'A' : 'B');
    }
  });
});

describe('BG/NBD maximised at the boundary of its parameter space: fitted as the limiting model, no fallback', () => {
  it('30 customers buying every week without drop-out: the no-dropout, homogeneous-rate limit (Poisson), with CLV for everyone', async () => {
    const rows: TxRow[] = [];
    for (let i = 0; i < 30; i++) for (let k = 0; k < 20; k++) rows.push({ customer_id: `W${i}`, order_date: addDays('2024-01-01', (i % 7) + 7 * k), amount: 10 + i });
    const store = await storeOf(rows);
    const run = store.json<RunJson>(['run']);
    expect(run.model_status).toBe('fitted');
    expect(run.fallback_reason).toBeNull();
    const b = run.bgnbd!;
    expect([b.boundary, b.converged, b.r, b.alpha, b.a, b.b]).toEqual(['no_dropout+homogeneous_rates', true, null, null, null, null]);
    // The Poisson limit's rate is Σx / ΣT over the customers (weeks).
    const [{ rate }] = await store.query<{ rate: number }>('SELECT sum(bgnbd_x) / sum(bgnbd_T) AS rate FROM customer_latest');
    expect(b.rate).toBeCloseTo(rate, 10);
    const [stored] = await store.query<{ boundary: string; status: string }>(`SELECT bgnbd->>'boundary' AS boundary, model_status AS status FROM runs`);
    expect(stored).toEqual({ boundary: 'no_dropout+homogeneous_rates', status: 'fitted' });
    const metrics = await store.query<{ p_alive: number; expected_purchases: number; p_no_purchase: number; clv: number | null; churn_method: string }>('SELECT p_alive, expected_purchases, p_no_purchase, clv, churn_method FROM customer_latest');
    expect(metrics).toHaveLength(30);
    for (const m of metrics) {
      // Nobody drops out; one rate for all: λ × horizon (52.18 weeks) expected purchases.
      expect([m.p_alive, m.churn_method]).toEqual([1, 'bgnbd']);
      expect(m.expected_purchases).toBeCloseTo(rate * ((12 * 365.25) / 12 / 7), 9);
      expect(m.p_no_purchase).toBeCloseTo(Math.exp(-m.expected_purchases), 12);
      expect(m.clv).toBeGreaterThan(0);
    }
    const shown = store.cli(['model', 'show']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/BG\/NBD at its no-dropout and homogeneous-rate limit \(Poisson: one purchase rate for all, nobody drops out\): rate=/);
  });
});

/** 400 simulated customers on which BG/NBD converges (shared by the tests that then alter them). */
function simulateConvergingCustomers() {
  return simulateTransactions({
    customers: 400,
    seed: 11,
    bgnbd: { r: 0.5, alpha: 12, a: 0.8, b: 2.4 },
    spend: { p: 6.25, q: 3.74, v: 15.44 },
    start: '2022-01-01',
    acquisitionDays: 182,
    asOf: '2023-12-31',
    holdoutEnd: '2024-06-30',
    unitDays: 7,
  });
}

describe('Gamma-Gamma unusable, BG/NBD fitted', () => {
  // 400 simulated customers (BG/NBD converges) with the amounts replaced.
  const sim = simulateConvergingCustomers();
  /** The simulated orders with every amount replaced; `perDay`: one order per customer and day (same-day purchases dropped), so every purchase day is worth `amount`. */
  const withAmount = (amount: string, perDay = false) => {
    const seen = new Set<string>();
    const [header, ...lines] = sim.csv.trim().split('\n');
    const kept = lines.filter((line) => {
      const [customer, , date] = line.split(',');
      if (!perDay) return true;
      const key = `${customer} ${date}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
    return [header, ...kept.map((line) => line.replace(/,[0-9.]+$/, `,${amount}`))].join('\n') + '\n';
  };
  const clvOptions = { horizon: 365.25 / 7, unitsPerYear: 365.25 / 7, annualDiscountRate: 0.1 };

  it('all amounts 0: no Gamma-Gamma fit, expected order value 0, CLV 0, nobody a key account', async () => {
    const store = await storeOf(withAmount('0'));
    const run = store.json<RunJson>(['run', '--as-of', '2023-12-31']);
    expect(run.model_status).toBe('fitted');
    expect(run.fallback_reason).toBeNull();
    expect(run.bgnbd!.converged).toBe(true);
    expect(run.gamma_gamma).toBeNull();
    const [agg] = await store.query<Record<string, number>>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE churn_method = 'bgnbd' AND value_basis = 'clv') AS model_based,
              max(abs(expected_order_value)) AS eov, max(abs(clv)) AS clv, count(*) FILTER (WHERE is_key_account) AS keys,
              count(*) FILTER (WHERE abc_class = 'C' AND revenue_share = 0 AND cumulative_share IS NULL) AS class_c
       FROM customer_latest`,
    );
    expect(agg).toEqual({ n: 400, model_based: 400, eov: 0, clv: 0, keys: 0, class_c: 400 });
    expect(run.summary.key_accounts).toMatchObject({ customers: 0, revenue_share: 0 });
  });

  it('every purchase worth 10: the Gamma-Gamma fit fails and is reported, each customer’s own mean (10) is the expected value', async () => {
    const store = await storeOf(withAmount('10.00', true));
    const run = store.json<RunJson>(['run', '--as-of', '2023-12-31']);
    expect(run.model_status).toBe('fitted');
    expect(run.gamma_gamma!.converged).toBe(false);
    expect(run.gamma_gamma!.message).toMatch(/all mean transaction values are equal/);
    const params = { r: run.bgnbd!.r, alpha: run.bgnbd!.alpha, a: run.bgnbd!.a, b: run.bgnbd!.b };
    const rows = await store.query<{ customer_id: string; bgnbd_x: number; bgnbd_t_x: number; bgnbd_T: number; expected_order_value: number; clv: number; value_basis: string }>(
      'SELECT customer_id, bgnbd_x, bgnbd_t_x, bgnbd_T, expected_order_value, clv, value_basis FROM customer_latest',
    );
    expect(rows.length).toBe(400);
    for (const r of rows) {
      expect(r.expected_order_value).toBe(10);
      expect(r.value_basis).toBe('clv');
      const dep = discountedExpectedPurchases(params, r.bgnbd_x, r.bgnbd_t_x, r.bgnbd_T, clvOptions);
      expect(Math.abs(r.clv - 10 * dep) / (10 * dep), r.customer_id).toBeLessThan(1e-9);
    }
  });
});

describe('extreme but valid data', () => {
  it('a customer with hundreds of purchase days: the expected order value does not overflow DuckDB DECIMAL arithmetic', async () => {
    // Regression: the Gamma-Gamma parameters were pasted into SQL as plain decimals, which
    // DuckDB reads as DECIMAL(17,16) for p ≈ 6.58; p · bgnbd_x then overflowed DECIMAL(18)
    // ("Overflow in multiplication of DECIMAL(18)") as soon as p · x ≥ 100 (scale 16) or
    // ≥ 1000 (scale 15), i.e. for any heavy buyer, and crashed the run.
    const sim = simulateConvergingCustomers();
    // HEAVY buys every other day for two years: 365 purchase days, about 35 each.
    const heavy = Array.from({ length: 365 }, (_, k) => `HEAVY,H${k},${addDays('2022-01-01', 2 * k)},${(30 + (k % 11)).toFixed(2)}`);
    const store = await storeOf(sim.csv + heavy.join('\n') + '\n');
    const run = store.json<RunJson>(['run', '--as-of', '2023-12-31']);
    expect(run.model_status).toBe('fitted');
    expect(run.gamma_gamma!.converged).toBe(true);
    const { p, q, v } = run.gamma_gamma!;
    const [h] = await store.query<{ bgnbd_x: number; monetary: number; expected_order_value: number }>(`SELECT bgnbd_x, monetary, expected_order_value FROM customer_latest WHERE customer_id = 'HEAVY'`);
    expect(h.bgnbd_x).toBe(364);
    expect(p * h.bgnbd_x).toBeGreaterThan(1000);
    const mean = (h.monetary - 30) / h.bgnbd_x;
    expect(h.expected_order_value).toBeCloseTo((p * (v + h.bgnbd_x * mean)) / (p * h.bgnbd_x + q - 1), 9);
  });
});
