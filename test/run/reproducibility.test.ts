/**
 * Same store + as-of + options ⇒ the same customer_metrics (src/run/index.ts): reruns are
 * identical row for row (run_id aside), customer_latest follows the latest run, and
 * transactions dated after as-of do not change anything.
 *
 * Data: 800 simulated customers (BG/NBD fits, so every model column is filled), transactions
 * up to 2023-06-30 loaded first; the later ones (existing and new customers) loaded afterwards.
 * Runs: 1 and 2 as of 2023-06-30; load the later transactions; 3 as of 2023-12-31; 4 as of
 * 2023-06-30 again (its "previous run" is still none: only runs of an earlier as-of count).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateTransactions } from '../helpers/simulate-transactions.js';
import { createStore, type RunJson, type TestStore } from '../helpers/run.js';

const AS_OF = '2023-06-30';

let store: TestStore;
let first: RunJson;
let rerun: RunJson;
let laterRun: RunJson;
let afterLater: RunJson;
let laterRows = 0;

beforeAll(async () => {
  // Acquisition from 2021 to September 2023 (first purchases after as-of: new customers later).
  const sim = simulateTransactions({
    customers: 800,
    seed: 3,
    bgnbd: { r: 0.5, alpha: 12, a: 0.8, b: 2.4 },
    spend: { p: 6.25, q: 3.74, v: 15.44 },
    start: '2021-01-01',
    acquisitionDays: 1000,
    asOf: '2023-12-31',
    holdoutEnd: '2024-03-31',
    unitDays: 7,
  });
  const [header, ...lines] = sim.csv.trim().split('\n');
  const early = lines.filter((l) => l.split(',')[2] <= AS_OF);
  const later = lines.filter((l) => l.split(',')[2] > AS_OF);
  laterRows = later.length;
  store = await createStore([header, ...early].join('\n') + '\n', 'crm-repro-');
  first = store.json<RunJson>(['run', '--as-of', AS_OF]);
  rerun = store.json<RunJson>(['run', '--as-of', AS_OF]);
  await store.ingest([header, ...later].join('\n') + '\n');
  laterRun = store.json<RunJson>(['run', '--as-of', '2023-12-31']);
  afterLater = store.json<RunJson>(['run', '--as-of', AS_OF]);
});
afterAll(() => store?.cleanup());

/** Rows of run `a` not in run `b` (every column but run_id; multiset difference). */
async function difference(a: number, b: number): Promise<number> {
  const [r] = await store.query<{ n: number }>(`
    SELECT count(*) AS n FROM (
      SELECT * EXCLUDE (run_id) FROM customer_metrics WHERE run_id = ${a}
      EXCEPT ALL
      SELECT * EXCLUDE (run_id) FROM customer_metrics WHERE run_id = ${b})`);
  return r.n;
}

describe('reproducible runs', () => {
  it('the models were fitted, so every column is exercised', async () => {
    expect(first.model_status).toBe('fitted');
    expect(first.gamma_gamma!.converged).toBe(true);
    expect(laterRows).toBeGreaterThan(500);
    const [nulls] = await store.query<{ n: number }>(`SELECT count(*) AS n FROM customer_metrics WHERE run_id = ${first.run_id} AND (clv IS NULL OR p_no_purchase IS NULL)`);
    expect(nulls.n).toBe(0);
  });

  it('a fitted run: each churn tier and reason follows from the customer\'s own numbers (worded once per history)', async () => {
    const rows = await store.query<{ purchase_days: number; recency_days: number; t_x_days: number; p_no_purchase: number; churn_tier: string; churn_reason: string }>(
      `SELECT purchase_days, recency_days, CAST(round(bgnbd_t_x * time_unit_days) AS INTEGER) AS t_x_days, p_no_purchase,
              CAST(churn_tier AS VARCHAR) AS churn_tier, churn_reason
       FROM customer_metrics WHERE run_id = ${first.run_id}`,
    );
    const days = (n: number) => `${n} ${n === 1 ? 'day' : 'days'}`;
    const reason = (r: (typeof rows)[number]) => {
      if (r.purchase_days === 1) return r.recency_days === 0 ? 'first purchase today' : `bought once, ${days(r.recency_days)} ago`;
      const usual = Math.round(r.t_x_days / (r.purchase_days - 1));
      if (r.recency_days === 0) return `last purchase today; usually buys every ${days(usual)}`;
      if (r.recency_days <= usual) return `last purchase ${days(r.recency_days)} ago; usually buys every ${days(usual)}`;
      return `no purchase in ${days(r.recency_days)}; usually buys every ${days(usual)}`;
    };
    expect(rows.length).toBeGreaterThan(300);
    expect(rows.filter((r) => r.churn_reason !== reason(r))).toEqual([]);
    // The tiers are cut from p_no_purchase (the default basis, summary.churn_basis).
    expect(first.summary.churn_basis).toBe('p_no_purchase');
    expect(rows.filter((r) => r.churn_tier !== (r.p_no_purchase >= 0.6 ? 'high' : r.p_no_purchase >= 0.3 ? 'medium' : 'low'))).toEqual([]);
    // The main kinds of sentence and more than one tier occur, so the checks above are not vacuous.
    const kinds = new Set(rows.map((r) => r.churn_reason.replace(/[0-9]+ days?/g, 'N')));
    for (const kind of ['bought once, N ago', 'last purchase N ago; usually buys every N', 'no purchase in N; usually buys every N']) expect(kinds).toContain(kind);
    expect(new Set(rows.map((r) => r.churn_tier)).size).toBeGreaterThanOrEqual(2);
  });

  it('a rerun with the same as-of and options gives identical customer_metrics rows (except run_id)', async () => {
    expect(rerun.run_id).toBe(first.run_id + 1);
    expect(rerun.customers).toBe(first.customers);
    expect(await difference(first.run_id, rerun.run_id)).toBe(0);
    expect(await difference(rerun.run_id, first.run_id)).toBe(0);
    expect(rerun.bgnbd).toEqual(first.bgnbd);
    expect(rerun.gamma_gamma).toEqual(first.gamma_gamma);
    expect(rerun.summary).toEqual(first.summary);
    const params = await store.query<{ params: string }>(`SELECT CAST(params AS VARCHAR) AS params FROM runs ORDER BY run_id`);
    expect(params[1].params).toBe(params[0].params);
  });

  it('customer_latest is the latest run', async () => {
    const [latest] = await store.query<{ runs: number[]; n: number }>(`SELECT list(DISTINCT run_id) AS runs, count(*) AS n FROM customer_latest`);
    expect(latest).toEqual({ runs: [afterLater.run_id], n: afterLater.customers });
  });

  it('transactions dated after as-of — and a run of a later as-of — change nothing: same rows as the first run', async () => {
    expect([laterRun.run_id, afterLater.run_id]).toEqual([3, 4]);
    expect(laterRun.customers).toBeGreaterThan(first.customers);
    expect(await difference(first.run_id, afterLater.run_id)).toBe(0);
    expect(await difference(afterLater.run_id, first.run_id)).toBe(0);
    expect(afterLater.bgnbd).toEqual(first.bgnbd);
    const input = await store.query<{ run_id: number; loads: number[]; transactions_used: number; in_store: number }>(`
      SELECT run_id, CAST(input->'loads' AS INTEGER[]) AS loads, CAST(input->>'transactions_used' AS INTEGER) AS transactions_used,
             (SELECT count(*) FROM transactions) AS in_store
      FROM runs ORDER BY run_id`);
    expect(input[0].loads).toEqual([1]);
    expect(input[3].loads).toEqual([1, 2]);
    expect(input[3].transactions_used).toBe(input[0].transactions_used);
    expect(input[3].in_store).toBe(input[0].transactions_used + laterRows);
  });
});
