/**
 * The run's downstream relations (src/models/relations/) on tiny hand-made tables: each SQL text
 * with its parameters bound, exact expected rows. No CLI: a store with the current schema and the
 * upstream temp tables (run_base, run_pareto_levels, run_predictions_raw) written by hand.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conditionalExpectedValue } from '../../../src/models/gamma-gamma.js';
import { spendModelExpectedValue } from '../../../src/models/gamma-gamma-limits.js';
import { spendModelParams } from '../../../src/models/relations/customer-metrics.js';
import { quadraticForm, spendLogGradient } from '../../../src/models/intervals.js';
import { insertInto, materialize, parametersOf, rowsOf, type Relation } from '../../../src/models/relation.js';
import { BACKTEST_AUC, BACKTEST_BUCKETS } from '../../../src/models/relations/backtest.js';
import { CUSTOMER_METRICS, customerMetrics, TIER_VALUES, tierValues } from '../../../src/models/relations/customer-metrics.js';
import { HISTORY_VALUES } from '../../../src/models/relations/history-values.js';
import { PREDICTIONS, RECENCY_PREDICTIONS } from '../../../src/models/relations/predictions.js';
import { RUN_SUMMARY } from '../../../src/models/relations/run-summary.js';
import { SEGMENT_MIGRATION } from '../../../src/models/relations/segment-migration.js';
import { METRICS_CUSTOMERS, metricsCustomers, VALUE_TIERS } from '../../../src/models/relations/value-tiers.js';
import { DEFAULT_SEGMENT_RULES, segmentCells } from '../../../src/models/rfm.js';
import { Store } from '../../../src/store/db.js';

const RELATIONS: Relation[] = [
  PREDICTIONS, RECENCY_PREDICTIONS, CUSTOMER_METRICS, TIER_VALUES, HISTORY_VALUES, VALUE_TIERS, METRICS_CUSTOMERS, RUN_SUMMARY, SEGMENT_MIGRATION, BACKTEST_BUCKETS, BACKTEST_AUC,
  customerMetrics.purchases_only, tierValues.purchases_only, metricsCustomers.purchases_only,
];

let dir: string;
let store: Store;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-relations-'));
  store = await Store.open(path.join(dir, 'store.duckdb'), { create: true });
});
afterAll(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const key = (x: number, tx: number, T: number) => x * 2 ** 40 + tx * 2 ** 20 + T;

/** A run_base row: only the columns the downstream relations read. */
interface BaseRow {
  id: string;
  first: string;
  last: string;
  days: number;
  frequency: number;
  monetary: number;
  repeat_mean?: number | null;
  first_day?: number;
  pareto?: number;
  current?: number;
  previous?: number | null;
}
const AS_OF = '2024-03-31';
async function writeBase(rows: BaseRow[]): Promise<void> {
  await store.run(`CREATE OR REPLACE TEMP TABLE run_base (
    customer_id VARCHAR, first_purchase DATE, last_purchase DATE, recency_days BIGINT, frequency INTEGER, purchase_days INTEGER,
    monetary DOUBLE, gross_revenue DOUBLE, returns_value DOUBLE, return_lines INTEGER, margin DOUBLE, bgnbd_x INTEGER, t_x_days BIGINT, T_days BIGINT,
    repeat_mean_value DOUBLE, first_day_value DOUBLE, history_key BIGINT, pareto_revenue DECIMAL(18, 4), trend_current DECIMAL(18, 4), trend_previous DECIMAL(18, 4))`);
  for (const r of rows) {
    await store.run(
      `INSERT INTO run_base
       SELECT $id, f, l, CAST($as_of AS DATE) - l, $frequency, $days, $monetary, $monetary, 0, 0, NULL, $days - 1, l - f, CAST($as_of AS DATE) - f,
              $repeat_mean, $first_day, ($days - 1) * 1099511627776 + (l - f) * 1048576 + (CAST($as_of AS DATE) - f), $pareto, $current, $previous
       FROM (SELECT CAST($first AS DATE) AS f, CAST($last AS DATE) AS l)`,
      {
        id: r.id, first: r.first, last: r.last, as_of: AS_OF, frequency: r.frequency, days: r.days, monetary: r.monetary,
        repeat_mean: r.repeat_mean ?? null, first_day: r.first_day ?? r.monetary, pareto: r.pareto ?? r.monetary, current: r.current ?? 0, previous: r.previous === undefined ? 0 : r.previous,
      },
    );
  }
}

describe('every relation', () => {
  it('lists exactly the parameters its SQL uses', () => {
    for (const r of RELATIONS) expect([...r.params].sort(), r.name).toEqual(parametersOf(r.sql).sort());
  });
});

describe('predictions', () => {
  it('key each history like run_base and set the churn tier at the thresholds (≥ high, ≥ medium)', async () => {
    await store.run(`CREATE OR REPLACE TEMP TABLE run_predictions_raw AS SELECT COLUMNS(*)::DOUBLE FROM (VALUES
      (0.0, 0.0, 10.0, 1.0, 0.2, 0.5, 0.4, 0.4, 0.6, 0.1), (1.0, 5.0, 10.0, 0.4, 0.7, 0.3, 0.2, 0.2, 0.4, 0.1), (2.0, 3.0, 30.0, 0.7, 0.5, 0.1, 0.1, 0.05, 0.2, 0.3), (3.0, 3.0, 40.0, 0.75, 0.1, 0.1, 0.1, 0.08, 0.12, 0.1))
      t(x, t_x_days, T_days, p_alive, p_no_purchase, expected_purchases, discounted_purchases, expected_purchases_low, expected_purchases_high, discounted_log_sd)`);
    await materialize(store, PREDICTIONS, { tier_basis: 'churn_risk', high: 0.6, medium: 0.3, churn_method: 'bgnbd' });
    const rows = await store.all('SELECT history_key, churn_risk, churn_tier, churn_method FROM temp.run_predictions ORDER BY history_key');
    expect(rows).toEqual([
      { history_key: key(0, 0, 10), churn_risk: 0, churn_tier: 'low', churn_method: 'bgnbd' },
      { history_key: key(1, 5, 10), churn_risk: 1 - 0.4, churn_tier: 'high', churn_method: 'bgnbd' }, // 0.6 ≥ high
      { history_key: key(2, 3, 30), churn_risk: 1 - 0.7, churn_tier: 'medium', churn_method: 'bgnbd' }, // 0.3 (as a double, 1 − 0.7) ≥ medium
      { history_key: key(3, 3, 40), churn_risk: 1 - 0.75, churn_tier: 'low', churn_method: 'bgnbd' },
    ]);
    await materialize(store, PREDICTIONS, { tier_basis: 'p_no_purchase', high: 0.6, medium: 0.3, churn_method: 'bgnbd' });
    const onQuiet = await store.all('SELECT churn_tier, churn_basis FROM temp.run_predictions ORDER BY history_key');
    expect(onQuiet.map((r) => r.churn_tier)).toEqual(['low', 'high', 'medium', 'low']);
    // Each row says what its tier was cut from (the at-risk reason quotes that score).
    expect(new Set(onQuiet.map((r) => r.churn_basis))).toEqual(new Set(['p_no_purchase']));
    // The model the run chose names the method (crm run --model, models/purchase-models.ts).
    await materialize(store, PREDICTIONS, { tier_basis: 'churn_risk', high: 0.6, medium: 0.3, churn_method: 'pareto_nbd' });
    const methods = await store.all('SELECT DISTINCT churn_method FROM temp.run_predictions');
    expect(methods).toEqual([{ churn_method: 'pareto_nbd' }]);
    expect(await store.all('SELECT DISTINCT churn_basis FROM temp.run_predictions')).toEqual([{ churn_basis: 'churn_risk' }]);
  });

  it('fall back to the percent rank of recency over customers, as percent_rank() over every customer would', async () => {
    await writeBase([
      { id: 'A', first: '2024-01-01', last: '2024-03-31', days: 2, frequency: 2, monetary: 10 },
      { id: 'B', first: '2024-02-01', last: '2024-03-01', days: 2, frequency: 2, monetary: 10 },
      { id: 'C', first: '2024-03-01', last: '2024-03-01', days: 1, frequency: 1, monetary: 10 },
      { id: 'D', first: '2024-03-01', last: '2024-03-01', days: 1, frequency: 1, monetary: 10 },
      { id: 'E', first: '2023-01-01', last: '2023-06-01', days: 3, frequency: 3, monetary: 10 },
    ]);
    await materialize(store, RECENCY_PREDICTIONS, { high: 0.6, medium: 0.3 });
    const got = await store.all(
      `SELECT b.customer_id, p.churn_risk, p.p_alive, p.churn_tier, p.churn_method, p.expected_purchases,
              percent_rank() OVER (ORDER BY b.recency_days) AS expected
       FROM temp.run_base b JOIN temp.run_predictions p USING (history_key) ORDER BY b.customer_id`,
    );
    for (const r of got) {
      expect(r.churn_risk).toBe(r.expected);
      expect(r.p_alive).toBe(1 - (r.expected as number));
    }
    expect(got.map((r) => [r.customer_id, r.churn_risk, r.churn_tier, r.churn_method, r.expected_purchases])).toEqual([
      ['A', 0, 'low', 'recency', null],
      ['B', 0.25, 'low', 'recency', null], // B, C, D bought 30 days ago: one customer more recent, of 4 others
      ['C', 0.25, 'low', 'recency', null],
      ['D', 0.25, 'low', 'recency', null],
      ['E', 1, 'high', 'recency', null],
    ]);
  });
});

/** Pareto levels and previous-run rows for the customer-metrics tests. */
async function writeLevels(levels: [number, number, number, number, string][]): Promise<void> {
  await store.run(`CREATE OR REPLACE TEMP TABLE run_pareto_levels (net_revenue DECIMAL(18, 4), revenue_rank BIGINT, cumulative_share DOUBLE, positive_total DOUBLE, abc_class VARCHAR)`);
  for (const l of levels) await store.run('INSERT INTO run_pareto_levels VALUES ($1, $2, $3, $4, $5)', l);
}

const GG = { p: 6, q: 4, v: 15 };
const metricsParams = (over: Partial<Record<string, unknown>> = {}) => ({
  run_id: 2,
  previous_run_id: 1,
  as_of: AS_OF,
  time_unit_days: 7,
  fitted: true,
  r_cuts: [-60, -30, -10, -1],
  f_cuts: [1, 2, 3, 4],
  m_cuts: [10, 50, 100, 500],
  rfm_bins: 5,
  segment_cells: segmentCells({ bins: 5, segments: DEFAULT_SEGMENT_RULES }),
  gg_p: GG.p,
  gg_q: GG.q,
  gg_v: GG.v,
  gg_nu: null,
  z: null,
  gg_covariance: null,
  revenue_drop: 0.25,
  churn_risk_rise: 0.15,
  ...over,
}) as Parameters<typeof materialize<(typeof CUSTOMER_METRICS.params)[number]>>[2];

describe('customer metrics', () => {
  beforeAll(async () => {
    await writeBase([
      // Repeat buyer with m > 0, revenue down 50 %, risk up from 0.1 to 0.6 (high)
      { id: 'R', first: '2024-01-01', last: '2024-02-01', days: 3, frequency: 3, monetary: 120, repeat_mean: 45, first_day: 30, current: 50, previous: 100 },
      // One purchase day: first-day value as the one observation
      { id: 'O', first: '2024-03-31', last: '2024-03-31', days: 1, frequency: 1, monetary: 80, first_day: 80, current: 80, previous: null },
      // Repeat buyer whose repeat purchases net ≤ 0 and first day ≤ 0: own mean (≥ 0)
      { id: 'N', first: '2024-01-10', last: '2024-03-21', days: 2, frequency: 2, monetary: -10, repeat_mean: -5, first_day: -5, pareto: -10, current: 0, previous: 0 },
    ]);
    await writeLevels([[120, 1, 0.6, 200, 'A'], [80, 2, 1, 200, 'B']]);
    const keyOf = async (id: string) => (await store.value<number>(`SELECT history_key FROM temp.run_base WHERE customer_id = '${id}'`))!;
    await store.run(`CREATE OR REPLACE TEMP TABLE run_predictions (history_key BIGINT, p_alive DOUBLE, churn_risk DOUBLE, p_no_purchase DOUBLE,
      expected_purchases DOUBLE, discounted_purchases DOUBLE, churn_tier VARCHAR, churn_method VARCHAR,
      expected_purchases_low DOUBLE, expected_purchases_high DOUBLE, discounted_log_sd DOUBLE, churn_basis VARCHAR)`);
    await store.run(`INSERT INTO run_predictions VALUES ($1, 0.4, 0.6, 0.5, 2, 1.5, 'high', 'bgnbd', 1.5, 2.6, 0.2, 'churn_risk'), ($2, 1, 0, 0.3, 1, 0.8, 'low', 'bgnbd', 0.8, 1.3, 0.1, 'churn_risk'),
      ($3, 0.9, 0.1, 0.2, 0.5, 0.4, 'low', 'bgnbd', 0.4, 0.6, 0.3, 'churn_risk')`,
      [await keyOf('R'), await keyOf('O'), await keyOf('N')]);
    await store.run('DELETE FROM metrics_customers');
    await store.run(`INSERT INTO metrics_customers (run_id, customer_id, first_purchase, last_purchase, frequency, purchase_days, monetary, gross_revenue,
      returns_value, return_lines, r_score, f_score, m_score, rfm_segment, p_alive, churn_risk, churn_tier, churn_method, value_tier, value_basis,
      net_revenue, revenue_share, abc_class, revenue_current, as_of, time_unit_days)
      VALUES (1, 'R', DATE '2024-01-01', DATE '2024-02-01', 3, 3, 100, 100, 0, 0, 3, 3, 3, 'Loyal', 0.9, 0.1, 'low', 'bgnbd', 'Gold', 'clv', 100, 1, 'A', 0, DATE '2024-02-29', 7),
             (1, 'N', DATE '2024-01-10', DATE '2024-01-10', 1, 1, 5, 5, 0, 0, 3, 3, 3, 'Loyal', 0.2, 0.8, 'high', 'bgnbd', 'Gold', 'clv', 5, 1, 'A', 0, DATE '2024-02-29', 7),
             -- Z: scored in run 1, not in run 2 (no longer scored)
             (1, 'Z', DATE '2024-01-10', DATE '2024-01-10', 1, 1, 5, 5, 0, 0, 1, 1, 1, 'Lost', 0.2, 0.8, 'high', 'bgnbd', 'Gold', 'clv', 5, 1, 'A', 0, DATE '2024-02-29', 7)`);
  });

  it('score RFM from the cut lists, name the segment, value each customer and flag who is at risk, with codes', async () => {
    await materialize(store, CUSTOMER_METRICS, metricsParams());
    const rows = await store.all(
      `SELECT customer_id, r_score, f_score, m_score, rfm_segment, expected_order_value, clv, value_basis, tier_value, abc_class, revenue_rank,
              previous_churn_risk, CAST(at_risk_codes AS VARCHAR[]) AS at_risk_codes, run_id, CAST(as_of AS VARCHAR) AS as_of, time_unit_days
       FROM temp.run_customer_metrics ORDER BY customer_id`,
    );
    const ev = {
      R: conditionalExpectedValue(GG, 2, 45),
      O: conditionalExpectedValue(GG, 1, 80),
      N: 0,
    };
    expect(rows).toEqual([
      // N: recency 10 (−10 > −60, −30 → 3), 2 orders (> 1 → 2), −10 (→ 1); At Risk? R3 F2 → About to Sleep
      { customer_id: 'N', r_score: 3, f_score: 2, m_score: 1, rfm_segment: 'About to Sleep', expected_order_value: ev.N, clv: 0.4 * ev.N, value_basis: 'clv',
        tier_value: 0.4 * ev.N, abc_class: 'C', revenue_rank: null, previous_churn_risk: 0.8, at_risk_codes: null, run_id: 2, as_of: AS_OF, time_unit_days: 7 },
      // O: recency 0 (→ 5), 1 order (→ 1), 80 (→ 3): New
      { customer_id: 'O', r_score: 5, f_score: 1, m_score: 3, rfm_segment: 'New', expected_order_value: ev.O, clv: 0.8 * ev.O, value_basis: 'clv',
        tier_value: 0.8 * ev.O, abc_class: 'B', revenue_rank: 2, previous_churn_risk: null, at_risk_codes: null, run_id: 2, as_of: AS_OF, time_unit_days: 7 },
      // R: recency 59 (−59 > −60 → 2), 3 orders (→ 3), 120 (→ 4): At Risk; revenue −50 %, risk 0.1 → 0.6, high tier
      { customer_id: 'R', r_score: 2, f_score: 3, m_score: 4, rfm_segment: 'At Risk', expected_order_value: ev.R, clv: 1.5 * ev.R, value_basis: 'clv',
        tier_value: 1.5 * ev.R, abc_class: 'A', revenue_rank: 1, previous_churn_risk: 0.1, at_risk_codes: ['revenue_down', 'churn_risk_up', 'churn_risk_high'],
        run_id: 2, as_of: AS_OF, time_unit_days: 7 },
    ]);
    expect(ev.R).toBe((6 * (15 + 2 * 45)) / (6 * 2 + 4 - 1));
  });

  it('intervals: expected purchases’ bounds per history; clv · exp(∓ z sd), sd² = discounted_log_sd² + the Gamma-Gamma term at the x its value used; all NULL without z', async () => {
    const covariance = [[0.04, 0.01, -0.005], [0.01, 0.09, 0.02], [-0.005, 0.02, 0.0625]];
    const z = 1.6448536269514722;
    await materialize(store, CUSTOMER_METRICS, metricsParams({ z, gg_covariance: covariance.flat() }));
    const rows = await store.all<Record<string, number | string | null>>(
      `SELECT customer_id, clv, clv_low, clv_high, expected_purchases_low, expected_purchases_high FROM temp.run_customer_metrics ORDER BY customer_id`,
    );
    const bounds = (clv: number, logSd: number, x: number | null, ev: number) => {
      const spend = x === null ? 0 : quadraticForm(spendLogGradient(GG, x, ev), covariance);
      const sd = Math.sqrt(logSd * logSd + spend);
      return [clv * Math.exp(-z * sd), clv * Math.exp(z * sd)];
    };
    const evR = conditionalExpectedValue(GG, 2, 45);
    const evO = conditionalExpectedValue(GG, 1, 80);
    // R: repeat customer (x = 2); O: one purchase day (x = 1, its first day); N: own mean (0), no spend term.
    const expected: Record<string, [number, number, number, number]> = {
      R: [...bounds(1.5 * evR, 0.2, 2, evR), 1.5, 2.6] as [number, number, number, number],
      O: [...bounds(0.8 * evO, 0.1, 1, evO), 0.8, 1.3] as [number, number, number, number],
      N: [0, 0, 0.4, 0.6],
    };
    for (const row of rows) {
      const [low, high, epLow, epHigh] = expected[row.customer_id as string];
      expect(row.clv_low as number, `${row.customer_id}`).toBeCloseTo(low, 9);
      expect(row.clv_high as number, `${row.customer_id}`).toBeCloseTo(high, 9);
      expect([row.expected_purchases_low, row.expected_purchases_high]).toEqual([epLow, epHigh]);
    }
    await materialize(store, CUSTOMER_METRICS, metricsParams());
    const none = await store.all(`SELECT count(*) AS n FROM temp.run_customer_metrics WHERE coalesce(clv_low, clv_high, expected_purchases_low, expected_purchases_high) IS NOT NULL`);
    expect(none).toEqual([{ n: 0 }]);
  });

  it('use each customer\'s own mean value without a Gamma-Gamma fit, and rank net revenue in the fallback', async () => {
    await materialize(store, CUSTOMER_METRICS, metricsParams({ gg_p: null, gg_q: null, gg_v: null, fitted: false, previous_run_id: null }));
    const rows = await store.all(`SELECT customer_id, expected_order_value, value_basis, tier_value, previous_churn_risk, CAST(at_risk_codes AS VARCHAR[]) AS codes
      FROM temp.run_customer_metrics ORDER BY customer_id`);
    expect(rows).toEqual([
      { customer_id: 'N', expected_order_value: 0, value_basis: 'net_revenue', tier_value: -10, previous_churn_risk: null, codes: null },
      { customer_id: 'O', expected_order_value: 80, value_basis: 'net_revenue', tier_value: 80, previous_churn_risk: null, codes: null },
      { customer_id: 'R', expected_order_value: 40, value_basis: 'net_revenue', tier_value: 120, previous_churn_risk: null, codes: ['revenue_down', 'churn_risk_high'] },
    ]);
  });

  it('at the homogeneous-spend limit: every customer the Gamma-Gamma would value gets the population mean p/ν, with no spend term; N keeps its own mean', async () => {
    const limit = { boundary: 'homogeneous_spend' as const, params: { p: 2.5, nu: 0.05 } };
    const params = metricsParams({ ...spendModelParams(limit), z: 1.6448536269514722, gg_covariance: null });
    await materialize(store, CUSTOMER_METRICS, params);
    const rows = await store.all<Record<string, number | string>>(`SELECT customer_id, expected_order_value, clv, clv_low, expected_purchases_low FROM temp.run_customer_metrics ORDER BY customer_id`);
    const mean = spendModelExpectedValue(limit, 2, 45);
    expect(mean).toBe(50);
    expect(rows.map((r) => [r.customer_id, r.expected_order_value, r.clv])).toEqual([['N', 0, 0], ['O', mean, 0.8 * mean], ['R', mean, 1.5 * mean]]);
    // No spend term: clv_low is the purchase side's alone (R: discounted_log_sd 0.2).
    expect(rows[2].clv_low as number).toBeCloseTo(1.5 * mean * Math.exp(-1.6448536269514722 * 0.2), 12);
    // TIER_VALUES values the same way.
    const narrow = await rowsOf(store, TIER_VALUES, params);
    expect([...narrow].sort((a, b) => String(a.customer_id).localeCompare(String(b.customer_id))))
      .toEqual(await store.all('SELECT customer_id, tier_value FROM temp.run_customer_metrics ORDER BY customer_id'));
  });

  it('value tiers: the first tier whose cut the value reaches, ties share it, a value ≤ 0 is always last; then written and summarised', async () => {
    await materialize(store, CUSTOMER_METRICS, metricsParams({ gg_p: null, gg_q: null, gg_v: null, fitted: false, previous_run_id: null }));
    await materialize(store, VALUE_TIERS, { tier_names: ['Top', 'Mid', 'Low'], tier_cuts: [120, -20] });
    const tiers = await store.all('SELECT customer_id, value_tier FROM temp.run_customer_metrics_tiered ORDER BY customer_id');
    expect(tiers).toEqual([
      { customer_id: 'N', value_tier: 'Low' }, // −10 reaches −20, but ≤ 0
      { customer_id: 'O', value_tier: 'Mid' },
      { customer_id: 'R', value_tier: 'Top' },
    ]);
    await materialize(store, VALUE_TIERS, { tier_names: ['Top', 'Low'], tier_cuts: [Infinity] });
    expect((await store.all('SELECT DISTINCT value_tier FROM temp.run_customer_metrics_tiered')).map((r) => r.value_tier)).toEqual(['Low']);

    await insertInto(store, 'metrics_customers', VALUE_TIERS, { tier_names: ['Top', 'Mid', 'Low'], tier_cuts: [120, -20] });
    const stored = await store.all(`SELECT customer_id, at_risk, at_risk_reason, key_account_at_risk, churn_reason_code, usual_gap_days, churn_reason
      FROM customer_metrics WHERE run_id = 2 ORDER BY customer_id`);
    expect(stored).toEqual([
      { customer_id: 'N', at_risk: false, at_risk_reason: null, key_account_at_risk: false, churn_reason_code: 'within_usual_gap', usual_gap_days: 71,
        churn_reason: 'last purchase 10 days ago; usually buys every 71 days' },
      { customer_id: 'O', at_risk: false, at_risk_reason: null, key_account_at_risk: false, churn_reason_code: 'first_purchase_today', usual_gap_days: null,
        churn_reason: 'first purchase today' },
      { customer_id: 'R', at_risk: true, at_risk_reason: 'revenue down 50% on the previous period; high churn risk (60%)', key_account_at_risk: true,
        churn_reason_code: 'overdue', usual_gap_days: 16, churn_reason: 'no purchase in 59 days; usually buys every 16 days' },
    ]);
    const summary = await rowsOf(store, RUN_SUMMARY, { run_id: 2 });
    expect(summary.map((r) => [r.grouped_by, r.name, r.customers, r.net_revenue])).toEqual([
      ['segment', 'About to Sleep', 1, -10],
      ['segment', 'At Risk', 1, 120],
      ['segment', 'New', 1, 80],
      // Tiers in order of their largest value, CLV where there is one (the hand-made predictions carry
      // discounted purchases: Mid's 0.8 × 80 = 64 before Top's 1.5 × 40 = 60).
      ['value_tier', 'Mid', 1, 80],
      ['value_tier', 'Top', 1, 120],
      ['value_tier', 'Low', 1, -10],
      ['churn_tier', 'high', 1, 120],
      ['churn_tier', 'low', 2, 70],
      ['total', null, 3, 190],
    ]);
    const total = summary[summary.length - 1];
    expect([total.key_customers, total.key_revenue, total.positive_revenue, total.key_at_risk, total.clv]).toEqual([1, 120, 200, 1, 124]);
    const migration = await rowsOf(store, SEGMENT_MIGRATION, { run_id: 2, previous_run_id: 1 });
    expect(migration.map((r) => [r.run_id, r.previous_run_id, r.from_segment, r.to_segment, r.customers]).sort()).toEqual(
      [[2, 1, 'Loyal', 'About to Sleep', 1], [2, 1, 'Loyal', 'At Risk', 1], [2, 1, null, 'New', 1], [2, 1, 'Lost', null, 1]].sort(),
    );
    // No previous run: every customer is new, counted by the segment now.
    const first = await rowsOf(store, SEGMENT_MIGRATION, { run_id: 2, previous_run_id: null });
    expect(first.map((r) => [r.run_id, r.previous_run_id, r.from_segment, r.to_segment, r.customers]).sort()).toEqual(
      [[2, null, null, 'About to Sleep', 1], [2, null, null, 'At Risk', 1], [2, null, null, 'New', 1]].sort(),
    );
  });

  it('METRICS_CUSTOMERS inserts the same rows as VALUE_TIERS over the materialised customer metrics, in one statement', async () => {
    const params = { ...metricsParams({ previous_run_id: 1 }), run_id: 3 };
    const tiers = { tier_names: ['Top', 'Mid', 'Low'], tier_cuts: [120, -20] };
    await materialize(store, CUSTOMER_METRICS, params);
    const expected = await rowsOf(store, VALUE_TIERS, tiers);
    expect(expected).toHaveLength(3);
    await insertInto(store, 'metrics_customers', METRICS_CUSTOMERS, { ...params, ...tiers });
    expect(await store.all('SELECT * EXCLUDE (churn_tier, churn_method, value_basis, abc_class, at_risk_codes), CAST(churn_tier AS VARCHAR) AS churn_tier, CAST(churn_method AS VARCHAR) AS churn_method, CAST(value_basis AS VARCHAR) AS value_basis, CAST(abc_class AS VARCHAR) AS abc_class, CAST(at_risk_codes AS VARCHAR[]) AS at_risk_codes FROM metrics_customers WHERE run_id = 3 ORDER BY customer_id'))
      .toEqual([...expected].sort((a, b) => String(a.customer_id).localeCompare(String(b.customer_id))));
    // The view words the same rows.
    expect((await store.all('SELECT customer_id, value_tier, at_risk FROM customer_metrics WHERE run_id = 3 ORDER BY customer_id')).map((r) => [r.customer_id, r.value_tier, r.at_risk]))
      .toEqual([['N', 'Low', false], ['O', 'Mid', false], ['R', 'Mid', true]]); // R: 1.5 × its expected order value < 120
    await store.run('DELETE FROM metrics_customers WHERE run_id = 3');
  });

  it('TIER_VALUES: the same tier_value as CUSTOMER_METRICS, customer by customer', async () => {
    for (const over of [{}, { fitted: false, gg_p: null, gg_q: null, gg_v: null }]) {
      const params = metricsParams(over);
      await materialize(store, CUSTOMER_METRICS, params);
      const narrow = await rowsOf(store, TIER_VALUES, params);
      expect(narrow).toHaveLength(3);
      expect([...narrow].sort((a, b) => String(a.customer_id).localeCompare(String(b.customer_id))))
        .toEqual(await store.all('SELECT customer_id, tier_value FROM temp.run_customer_metrics ORDER BY customer_id'));
    }
  });

  it('without contract rows, the purchases-only variants give exactly the rows and column types of the full relations', async () => {
    const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a.customer_id).localeCompare(String(b.customer_id)));
    const typesOf = async (sql: string) => (await store.all(`DESCRIBE ${sql}`)).map((r) => [r.column_name, r.column_type]);
    expect(await store.value('SELECT count(*) FROM contract_metrics')).toBe(0);
    // With and without a previous run, the models fitted or not, with and without intervals.
    for (const over of [{}, { previous_run_id: null }, { fitted: false, gg_p: null, gg_q: null, gg_v: null }, { z: 1.96, gg_covariance: [0.01, 0, 0, 0, 0.02, 0, 0, 0, 0.03] }]) {
      const params = metricsParams(over);
      const full = byId(await rowsOf(store, customerMetrics.with_contracts, params));
      expect(full).toHaveLength(3);
      expect(byId(await rowsOf(store, customerMetrics.purchases_only, params))).toEqual(full);
      expect(byId(await rowsOf(store, tierValues.purchases_only, params))).toEqual(byId(await rowsOf(store, tierValues.with_contracts, params)));
    }
    const params = metricsParams();
    for (const [full, variant] of [[customerMetrics.with_contracts, customerMetrics.purchases_only], [tierValues.with_contracts, tierValues.purchases_only]] as const) {
      await materialize(store, full, params);
      const fullTypes = await typesOf(full.name);
      await materialize(store, variant, params);
      expect(await typesOf(variant.name)).toEqual(fullTypes);
    }
    // The INSERT the run makes: the same stored rows.
    const tiers = { tier_names: ['Top', 'Mid', 'Low'], tier_cuts: [120, -20] };
    const stored = async (runId: number) =>
      store.all(`SELECT * EXCLUDE (run_id) FROM metrics_customers WHERE run_id = ${runId} ORDER BY customer_id`);
    await insertInto(store, 'metrics_customers', metricsCustomers.with_contracts, { ...params, run_id: 3, ...tiers });
    await insertInto(store, 'metrics_customers', metricsCustomers.purchases_only, { ...params, run_id: 4, ...tiers });
    const rows = await stored(3);
    expect(rows).toHaveLength(3);
    expect(await stored(4)).toEqual(rows);
    await store.run('DELETE FROM metrics_customers WHERE run_id IN (3, 4)');
  });

  it('backtest: predictions per history against holdout purchase days, by bucket; AUC of each score', async () => {
    await store.run(`CREATE OR REPLACE TEMP TABLE run_holdout_predictions AS
      SELECT CAST(bgnbd_x AS DOUBLE) AS x, CAST(t_x_days AS DOUBLE) AS t_x_days, CAST(T_days AS DOUBLE) AS T_days, bgnbd_x * 0.5 AS predicted FROM temp.run_base`);
    await store.run(`INSERT INTO transactions_narrow (load_id, source_file, source_row, customer_id, order_date, amount, is_return) VALUES
      (1, 'f', 1, 'O', DATE '2024-04-02', 5, false), (1, 'f', 2, 'O', DATE '2024-04-03', 5, false), (1, 'f', 3, 'N', DATE '2024-05-02', 5, true)`);
    const params = { as_of: AS_OF, holdout_end: '2024-06-30', run_id: 2 };
    const buckets = await rowsOf(store, BACKTEST_BUCKETS, params);
    expect(buckets).toEqual([
      { bucket_x: 0, customers: 1, predicted: 0, actual: 2 },
      { bucket_x: 1, customers: 1, predicted: 0.5, actual: 0 },
      { bucket_x: 2, customers: 1, predicted: 1, actual: 0 },
    ]);
    // Non-buyers N (risk 0.1, P(no purchase) 0.2) and R (0.6, 0.5) against buyer O (0, 0.3).
    expect(await rowsOf(store, BACKTEST_AUC, params)).toEqual([
      { score: 'churn_risk', n_pos: 2, n_neg: 1, auc: 1 },
      { score: 'p_no_purchase', n_pos: 2, n_neg: 1, auc: 0.5 },
    ]);
  });
});

describe('history values (the run\'s stored projection)', () => {
  it('count the customers of each history and sum their expected order values and spend terms, in the histories\' order', async () => {
    await writeBase([
      // R and S share a history (x 2, t_x 31, T 90) with different repeat means; O bought once; N is valued by its own mean (0).
      { id: 'R', first: '2024-01-01', last: '2024-02-01', days: 3, frequency: 3, monetary: 120, repeat_mean: 45, first_day: 30 },
      { id: 'S', first: '2024-01-01', last: '2024-02-01', days: 3, frequency: 3, monetary: 60, repeat_mean: 20, first_day: 20 },
      { id: 'O', first: '2024-03-31', last: '2024-03-31', days: 1, frequency: 1, monetary: 80, first_day: 80 },
      { id: 'N', first: '2024-01-10', last: '2024-03-21', days: 2, frequency: 2, monetary: -10, repeat_mean: -5, first_day: -5 },
    ]);
    const rows = await rowsOf(store, HISTORY_VALUES, { gg_p: GG.p, gg_q: GG.q, gg_v: GG.v, gg_nu: null });
    // The spend terms of one customer with a positive value e, at x' = max(x, 1).
    const terms = (e: number, x: number) => {
      const d = GG.p * Math.max(x, 1) + GG.q - 1;
      return [(e * (GG.q - 1)) / d, (e * -GG.q) / d, (GG.v * GG.p) / d];
    };
    const [r, s, o] = [conditionalExpectedValue(GG, 2, 45), conditionalExpectedValue(GG, 2, 20), conditionalExpectedValue(GG, 1, 80)];
    const [tr, ts, to] = [terms(r, 2), terms(s, 2), terms(o, 0)];
    expect(rows).toEqual([
      { x: 0, t_x_days: 0, T_days: 0, customers: 1, value_sum: o, spend_gp: to[0], spend_gq: to[1], spend_gv: to[2] },
      { x: 1, t_x_days: 71, T_days: 81, customers: 1, value_sum: 0, spend_gp: 0, spend_gq: 0, spend_gv: 0 },
      { x: 2, t_x_days: 31, T_days: 90, customers: 2, value_sum: r + s, spend_gp: tr[0] + ts[0], spend_gq: tr[1] + ts[1], spend_gv: tr[2] + ts[2] },
    ]);
    // Without a usable Gamma-Gamma fit: each customer's own mean per purchase day (≥ 0), no spend terms.
    const own = await rowsOf(store, HISTORY_VALUES, { gg_p: null, gg_q: null, gg_v: null, gg_nu: null });
    expect(own.map((h) => [h.customers, h.value_sum, h.spend_gp, h.spend_gq, h.spend_gv])).toEqual([
      [1, 80, 0, 0, 0],
      [1, 0, 0, 0, 0],
      [2, 120 / 3 + 60 / 3, 0, 0, 0],
    ]);
    // At the homogeneous-spend limit: p/ν for each customer with a positive repeat mean or first day, no spend terms.
    const limit = await rowsOf(store, HISTORY_VALUES, spendModelParams({ boundary: 'homogeneous_spend', params: { p: 2.5, nu: 0.05 } }));
    expect(limit.map((h) => [h.customers, h.value_sum, h.spend_gp, h.spend_gq, h.spend_gv])).toEqual([
      [1, 50, 0, 0, 0],
      [1, 0, 0, 0, 0],
      [2, 100, 0, 0, 0],
    ]);
  });
});
