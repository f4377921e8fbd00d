/**
 * RFM scores and segments (src/models/rfm.ts): quantile cut points from the data, ties never
 * split, every customer in exactly one segment, explicit cut points from the config, and a
 * segment table that leaves a score combination uncovered refused before the run.
 *
 * 20 customers with heavy ties, as of 2024-06-30 (i = 0…19):
 *   recency   0 d × 6 (i 0–5), 10 d × 6 (6–11), 30 d × 4 (12–15), 100 d × 4 (16–19)
 *   frequency 5 orders (i 0, 12), 3 (6, 16), 2 (1, 7, 13, 17), 1 (the other 12)
 *   monetary  50, 100, 200, 400 × 4 each, and 500, 600, 700, 800
 * With 20 values, quantile_disc at 0.2/0.4/0.6/0.8 is the 4th/8th/12th/16th smallest (under
 * either index convention), so the cut points — and every score — are known by hand:
 *   −recency cuts −100, −30, −10, 0   → R: 0 d → 4, 10 d → 3, 30 d → 2, 100 d → 1 (no R5: the
 *                                        six tied most-recent customers straddle the 0.8 quantile)
 *   frequency cuts 1, 1, 1, 2         → F: 1 → 1, 2 → 4, 3 → 5, 5 → 5
 *   monetary cuts 50, 100, 200, 400   → M: 50 → 1, 100 → 2, 200 → 3, 400 → 4, 500+ → 5
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, createStore, type RunJson, type TestStore, type TxRow } from '../helpers/run.js';

const AS_OF = '2024-06-30';
const RECENCY = [0, 0, 0, 0, 0, 0, 10, 10, 10, 10, 10, 10, 30, 30, 30, 30, 100, 100, 100, 100];
const FREQUENCY = [5, 2, 1, 1, 1, 1, 3, 2, 1, 1, 1, 1, 5, 2, 1, 1, 3, 2, 1, 1];
const MONETARY = [800, 400, 50, 100, 200, 50, 700, 400, 100, 200, 50, 100, 600, 400, 200, 50, 500, 400, 100, 200];
const id = (i: number) => `C${String(i).padStart(2, '0')}`;

function rows(): TxRow[] {
  const out: TxRow[] = [];
  for (let i = 0; i < 20; i++) {
    // The last order `recency` days before as-of, earlier ones 20 days apart; whole amounts
    // adding up to the customer's monetary value.
    const base = Math.floor(MONETARY[i] / FREQUENCY[i]);
    for (let k = 0; k < FREQUENCY[i]; k++) {
      const amount = k === 0 ? MONETARY[i] - base * (FREQUENCY[i] - 1) : base;
      out.push({ customer_id: id(i), order_date: addDays(AS_OF, -RECENCY[i] - 20 * k), amount });
    }
  }
  return out;
}

const R_SCORE: Record<number, number> = { 0: 4, 10: 3, 30: 2, 100: 1 };
const F_SCORE: Record<number, number> = { 1: 1, 2: 4, 3: 5, 5: 5 };
const M_SCORE: Record<number, number> = { 50: 1, 100: 2, 200: 3, 400: 4, 500: 5, 600: 5, 700: 5, 800: 5 };
/** The default R×F map at these scores. */
const SEGMENT: Record<string, string> = {
  R4F5: 'Loyal', R4F4: 'Loyal', R4F1: 'Promising',
  R3F5: 'Loyal', R3F4: 'Loyal', R3F1: 'About to Sleep',
  R2F5: "Can't Lose Them", R2F4: 'At Risk', R2F1: 'Hibernating',
  R1F5: "Can't Lose Them", R1F4: 'At Risk', R1F1: 'Lost',
};

interface Scored {
  customer_id: string;
  recency_days: number;
  frequency: number;
  monetary: number;
  r_score: number;
  f_score: number;
  m_score: number;
  rfm_segment: string | null;
}

let store: TestStore;
let run: RunJson;

const scoresOf = (runId: number) =>
  store.query<Scored>(`SELECT customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_segment FROM customer_metrics WHERE run_id = ${runId} ORDER BY customer_id`);

beforeAll(async () => {
  store = await createStore(rows(), 'crm-rfm-');
  run = store.json<RunJson>(['run', '--as-of', AS_OF]);
});
afterAll(() => store?.cleanup());

describe('RFM scores from quantiles', () => {
  it('the data are as constructed', async () => {
    const s = await scoresOf(run.run_id);
    expect(s.map((x) => [x.recency_days, x.frequency, x.monetary])).toEqual(RECENCY.map((r, i) => [r, FREQUENCY[i], MONETARY[i]]));
  });

  it('every score is the hand-computed one (ties never split, top tie block scored 4, empty scores allowed)', async () => {
    const s = await scoresOf(run.run_id);
    expect(s.map((x) => [x.customer_id, x.r_score, x.f_score, x.m_score])).toEqual(
      RECENCY.map((r, i) => [id(i), R_SCORE[r], F_SCORE[FREQUENCY[i]], M_SCORE[MONETARY[i]]]),
    );
  });

  it('by SQL: equal values never get different scores, scores stay within 1…5 and never decrease with the value', async () => {
    const [check] = await store.query<Record<string, number>>(`
      WITH m AS (SELECT * FROM customer_metrics WHERE run_id = ${run.run_id})
      SELECT
        (SELECT count(*) FROM m a JOIN m b ON a.recency_days = b.recency_days AND a.r_score <> b.r_score) AS split_r,
        (SELECT count(*) FROM m a JOIN m b ON a.frequency = b.frequency AND a.f_score <> b.f_score) AS split_f,
        (SELECT count(*) FROM m a JOIN m b ON a.monetary = b.monetary AND a.m_score <> b.m_score) AS split_m,
        (SELECT count(*) FROM m a JOIN m b ON a.recency_days < b.recency_days AND a.r_score < b.r_score) AS inverted_r,
        (SELECT count(*) FROM m a JOIN m b ON a.frequency < b.frequency AND a.f_score > b.f_score) AS inverted_f,
        (SELECT count(*) FROM m a JOIN m b ON a.monetary < b.monetary AND a.m_score > b.m_score) AS inverted_m,
        (SELECT count(*) FROM m WHERE NOT (r_score BETWEEN 1 AND 5 AND f_score BETWEEN 1 AND 5 AND m_score BETWEEN 1 AND 5)) AS out_of_range`);
    expect(check).toEqual({ split_r: 0, split_f: 0, split_m: 0, inverted_r: 0, inverted_f: 0, inverted_m: 0, out_of_range: 0 });
  });

  it('every customer is in exactly one segment, the default R×F map', async () => {
    const s = await scoresOf(run.run_id);
    expect(s.map((x) => x.rfm_segment)).toEqual(s.map((x) => SEGMENT[`R${x.r_score}F${x.f_score}`]));
    const counts = await store.query<{ segment: string | null; customers: number }>(
      `SELECT rfm_segment AS segment, count(*) AS customers FROM customer_metrics WHERE run_id = ${run.run_id} GROUP BY 1 ORDER BY customers DESC, segment`,
    );
    expect(counts).toEqual([
      { segment: 'About to Sleep', customers: 4 },
      { segment: 'Loyal', customers: 4 },
      { segment: 'Promising', customers: 4 },
      { segment: 'At Risk', customers: 2 },
      { segment: "Can't Lose Them", customers: 2 },
      { segment: 'Hibernating', customers: 2 },
      { segment: 'Lost', customers: 2 },
    ]);
    expect(counts.reduce((a, c) => a + c.customers, 0)).toBe(run.customers);
    expect(run.summary.segments).toEqual(counts.map((c) => expect.objectContaining(c)));
  });
});

describe('RFM settings from crm.config.json', () => {
  it('a segment table leaving score combinations uncovered is refused before the run (input error, exit 3), naming them', async () => {
    // Nothing covers R = 3: 25 combinations (R3F1M1 … R3F5M5).
    store.write('crm.config.json', JSON.stringify({ models: { rfm: { segments: [{ name: 'Recent', r: [4, 5] }, { name: 'Lapsed', r: [1, 2] }] } } }));
    const r = store.cli(['run', '--as-of', AS_OF]);
    store.write('crm.config.json', '{}');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('invalid model settings');
    expect(r.stderr).toContain('models.rfm.segments: no segment for 25 score combination(s), e.g. R3F1M1, R3F1M2, R3F1M3, R3F1M4, R3F1M5');
    const runs = await store.query<{ n: number }>('SELECT count(*) AS n FROM runs');
    expect(runs[0].n).toBe(1);
  });

  it('explicit recency, frequency and monetary cut points are honoured', async () => {
    // frequency_cuts [1,2,3,4]: the largest value still scoring k → 1→1, 2→2, 3→3, 5→5.
    // recency_cuts [5,20,50,365] (days): 1 + #{cuts ≥ recency} → 0→5, 10→4, 30→3, 100→2.
    // monetary_cuts [100,200,400,600] → 50,100→1, 200→2, 400→3, 500,600→4, 700,800→5.
    const file = store.write('cuts.json', JSON.stringify({ models: { rfm: { frequency_cuts: [1, 2, 3, 4], recency_cuts: [5, 20, 50, 365], monetary_cuts: [100, 200, 400, 600] } } }));
    const cutRun = store.json<RunJson>(['--config', file, 'run', '--as-of', AS_OF]);
    const s = await scoresOf(cutRun.run_id);
    const r: Record<number, number> = { 0: 5, 10: 4, 30: 3, 100: 2 };
    const f: Record<number, number> = { 1: 1, 2: 2, 3: 3, 5: 5 };
    const m: Record<number, number> = { 50: 1, 100: 1, 200: 2, 400: 3, 500: 4, 600: 4, 700: 5, 800: 5 };
    expect(s.map((x) => [x.customer_id, x.r_score, x.f_score, x.m_score])).toEqual(RECENCY.map((rec, i) => [id(i), r[rec], f[FREQUENCY[i]], m[MONETARY[i]]]));
    // R5 now exists: i = 0 (F5) is a Champion, i = 1 (F2) a Potential Loyalist, i = 2…5 (F1) New.
    expect(s.slice(0, 6).map((x) => x.rfm_segment)).toEqual(['Champions', 'Potential Loyalist', 'New', 'New', 'New', 'New']);
    const [params] = await store.query<{ cuts: string }>(`SELECT CAST(params->'rfm'->'frequency_cuts' AS VARCHAR) AS cuts FROM runs WHERE run_id = ${cutRun.run_id}`);
    expect(JSON.parse(params.cuts)).toEqual([1, 2, 3, 4]);
  });

  it('3 bins and a rule table on all three scores: each customer gets the first rule its scores match', async () => {
    const rules = [
      { name: 'Big recent spender', r: [3, 3], m: [3, 3] },
      { name: 'Big spender', m: [2, 3] },
      { name: 'Frequent', f: [2, 3] },
      { name: 'Other' },
    ];
    const file = store.write('bins3.json', JSON.stringify({ models: { rfm: { bins: 3, segments: rules } } }));
    const binRun = store.json<RunJson>(['--config', file, 'run', '--as-of', AS_OF]);
    const s = await scoresOf(binRun.run_id);
    const within = (range: number[] | undefined, v: number) => !range || (v >= range[0] && v <= range[1]);
    const expected = (x: Scored) =>
      rules.find((rule) => within(rule.r, x.r_score) && within((rule as { f?: number[] }).f, x.f_score) && within(rule.m, x.m_score))!.name;
    expect(s.every((x) => [x.r_score, x.f_score, x.m_score].every((v) => v >= 1 && v <= 3))).toBe(true);
    expect(s.map((x) => x.rfm_segment)).toEqual(s.map(expected));
    // Three of the four rules are met first by some customer of this data ('Frequent' by none),
    // so the lookup is exercised across the grid.
    expect([...new Set(s.map((x) => x.rfm_segment))].sort()).toEqual(['Big recent spender', 'Big spender', 'Other']);
  });
});
