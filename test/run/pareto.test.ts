/**
 * 80/20 key accounts and ABC classes (src/models/relations/revenue-levels.ts) on a hand-made store with exact
 * expected results. Net revenue per customer (positive total exactly 1000):
 *
 *   K1 570 | K2 K3 K4 120 each | K5 20 | K6 K7 15 each | K8 K9 10 each | N1 0 | N2 −30 (bought 20, returned 50)
 *
 * before_i = share of revenue of customers with strictly more revenue:
 *   K1 0 → A;  K2–K4 0.57 → A (K1+K2+K3 already reach 0.81: K4 is a key account only because it
 *   is tied with K3 — ties are never broken by id);  K5 0.93 → B;  K6, K7 0.95 → C (B needs
 *   before < 0.95 exactly);  K8, K9 0.98 → C;  N1, N2 (≤ 0) → C, no rank, share 0.
 * (The single-customer curve is checked in fallback.test.ts: share 1, cumulative 1, A.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type RunJson, type TestStore, type TxRow } from '../helpers/run.js';

const NET: [string, number][] = [
  ['K1', 570], ['K2', 120], ['K3', 120], ['K4', 120], ['K5', 20], ['K6', 15], ['K7', 15], ['K8', 10], ['K9', 10], ['N1', 0],
];

function rows(): TxRow[] {
  // Two orders each (half the revenue, on different days), so the shares do not hinge on one row.
  const out: TxRow[] = NET.flatMap(([id, net], i) => [
    { customer_id: id, order_date: `2024-02-${String(1 + i).padStart(2, '0')}`, amount: net / 2 },
    { customer_id: id, order_date: `2024-03-${String(1 + i).padStart(2, '0')}`, amount: net / 2 },
  ]);
  out.push({ customer_id: 'N2', order_date: '2024-02-20', amount: 20 }, { customer_id: 'N2', order_date: '2024-03-20', amount: -50 });
  return out;
}

interface Pareto {
  customer_id: string;
  net_revenue: number;
  revenue_rank: number | null;
  revenue_share: number;
  cumulative_share: number | null;
  abc_class: string;
  is_key_account: boolean;
}

interface KeyAccountsJson {
  run_id: number;
  share: number;
  customers: number;
  key_accounts: number;
  revenue_share: number;
  accounts: { rank: number; customer_id: string; net_revenue: number; revenue_share: number; cumulative_share: number }[];
}

/** [id, net revenue, rank, revenue share, cumulative share, class, key account] at the default share 0.8. */
const EXPECTED: [string, number, number | null, number, number | null, string, boolean][] = [
  ['K1', 570, 1, 0.57, 0.57, 'A', true],
  ['K2', 120, 2, 0.12, 0.93, 'A', true],
  ['K3', 120, 2, 0.12, 0.93, 'A', true],
  ['K4', 120, 2, 0.12, 0.93, 'A', true],
  ['K5', 20, 5, 0.02, 0.95, 'B', false],
  ['K6', 15, 6, 0.015, 0.98, 'C', false],
  ['K7', 15, 6, 0.015, 0.98, 'C', false],
  ['K8', 10, 8, 0.01, 1, 'C', false],
  ['K9', 10, 8, 0.01, 1, 'C', false],
  ['N1', 0, null, 0, null, 'C', false],
  ['N2', -30, null, 0, null, 'C', false],
];

let store: TestStore;
let run: RunJson;

const paretoOf = (runId: number) =>
  store.query<Pareto>(
    `SELECT customer_id, net_revenue, revenue_rank, revenue_share, cumulative_share, abc_class, is_key_account FROM customer_metrics WHERE run_id = ${runId} ORDER BY customer_id`,
  );

function expectRows(actual: Pareto[], expected: typeof EXPECTED): void {
  expect(actual.map((r) => r.customer_id)).toEqual(expected.map((e) => e[0]));
  actual.forEach((r, i) => {
    const [id, net, rank, share, cumulative, abc, key] = expected[i];
    expect([r.net_revenue, r.revenue_rank, r.abc_class, r.is_key_account], id).toEqual([net, rank, abc, key]);
    expect(r.revenue_share, id).toBeCloseTo(share, 12);
    if (cumulative === null) expect(r.cumulative_share, id).toBeNull();
    else expect(r.cumulative_share, id).toBeCloseTo(cumulative, 12);
  });
}

beforeAll(async () => {
  store = await createStore(rows(), 'crm-pareto-');
  run = store.json<RunJson>(['run']);
});
afterAll(() => store?.cleanup());

describe('80/20 at the default share 0.8', () => {
  it('ranks, shares of positive revenue, cumulative shares, ABC classes and key accounts are exact', async () => {
    expect(run.customers).toBe(11);
    expectRows(await paretoOf(run.run_id), EXPECTED);
  });

  it('the run summary: 4 of 11 customers bring 93 % of positive revenue', () => {
    expect(run.summary.key_accounts.customers).toBe(4);
    expect(run.summary.key_accounts.revenue_share).toBeCloseTo(0.93, 12);
  });

  it('crm keyaccounts lists the same accounts, largest first, at the run’s share', () => {
    const k = store.json<KeyAccountsJson>(['keyaccounts']);
    expect([k.run_id, k.share, k.customers, k.key_accounts]).toEqual([run.run_id, 0.8, 11, 4]);
    expect(k.revenue_share).toBeCloseTo(0.93, 12);
    expect(k.accounts.map((a) => [a.rank, a.customer_id, a.net_revenue])).toEqual([
      [1, 'K1', 570],
      [2, 'K2', 120],
      [2, 'K3', 120],
      [2, 'K4', 120],
    ]);
  });

  it('crm keyaccounts --share 0.5 recomputes the set from the run: K1 alone (K2–K4 start at 0.57)', () => {
    const k = store.json<KeyAccountsJson>(['keyaccounts', '--share', '0.5']);
    expect([k.share, k.key_accounts]).toEqual([0.5, 1]);
    expect(k.accounts.map((a) => a.customer_id)).toEqual(['K1']);
    expect(k.revenue_share).toBeCloseTo(0.57, 12);
    // A share that lands inside the K2–K4 tie keeps the whole tie: 0.6 > 0.57.
    const tie = store.json<KeyAccountsJson>(['keyaccounts', '--share', '0.6']);
    expect(tie.accounts.map((a) => a.customer_id)).toEqual(['K1', 'K2', 'K3', 'K4']);
  });
});

describe('80/20 at another share', () => {
  it('crm run --share 0.5: K1 is the only key account, K2–K5 are B; crm keyaccounts then uses 0.5', async () => {
    const half = store.json<RunJson>(['run', '--share', '0.5']);
    const expected = EXPECTED.map((e) => {
      const [id, net, rank, share, cumulative] = e;
      const abc = id === 'K1' ? 'A' : ['K2', 'K3', 'K4', 'K5'].includes(id) ? 'B' : 'C';
      return [id, net, rank, share, cumulative, abc, id === 'K1'] as (typeof EXPECTED)[number];
    });
    expectRows(await paretoOf(half.run_id), expected);
    const k = store.json<KeyAccountsJson>(['keyaccounts']);
    expect([k.run_id, k.share, k.key_accounts]).toEqual([half.run_id, 0.5, 1]);
  });
});
