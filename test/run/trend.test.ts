/**
 * Period comparisons only over periods the data covers whole (issue #8 §5). The trend windows
 * are 365 days: as of 2024-12-31 the current one is 2024-01-02 … 2024-12-31 and the previous one
 * 2023-01-02 … 2024-01-01 (2024 is a leap year).
 *
 * A store whose data starts on 2023-12-23, 9 days before the current window, covers only the last
 * 10 days of the previous one: comparing with it showed "+2,540 %" for U (100 in those days,
 * 2,640 since) and flagged D (1,000 then, 100 since) "revenue down 90 %". Now both have no
 * previous revenue and no trend (NULL: not enough history), and nobody is flagged for it. With
 * one more purchase on 2023-01-02 the data covers both windows and the trend is what it was.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundParams } from '../../src/models/relation.js';
import { TREND_WINDOWS_ROW_SQL, trendWindows, type TrendWindows } from '../../src/models/relations/trend-windows.js';
import { createStore, type TestStore, type TxRow } from '../helpers/run.js';

const PARTIAL: TxRow[] = [
  { customer_id: 'D', order_date: '2023-12-25', amount: 1000 },
  { customer_id: 'D', order_date: '2024-12-31', amount: 100 },
  { customer_id: 'U', order_date: '2023-12-23', amount: 100 },
  { customer_id: 'U', order_date: '2024-12-30', amount: 2640 },
];

interface Trend {
  customer_id: string;
  revenue_current: number;
  revenue_previous: number | null;
  revenue_trend: number | null;
  at_risk_reason: string | null;
}

interface RunWithTrend {
  run_id: number;
  trend: TrendWindows;
}

async function trends(store: TestStore, runId: number): Promise<Trend[]> {
  return store.query<Trend>(
    `SELECT customer_id, revenue_current, revenue_previous, revenue_trend, at_risk_reason FROM customer_metrics WHERE run_id = ${runId} ORDER BY customer_id`,
  );
}

describe('trend windows: the data must cover both (SQL, in memory)', () => {
  let conn: DuckDBConnection;
  beforeAll(async () => {
    conn = await (await DuckDBInstance.create(':memory:')).connect();
    await conn.run('CREATE TABLE transactions (order_date DATE NOT NULL)');
  });
  afterAll(() => conn.closeSync());

  async function windows(firstDate: string, s: { asOf: string; since?: string; trendWindowDays?: number }): Promise<TrendWindows> {
    await conn.run('DELETE FROM transactions');
    await conn.run(`INSERT INTO transactions VALUES (DATE '${firstDate}'), (DATE '${s.asOf}')`);
    return trendRow({ as_of: s.asOf, since: s.since ?? null, trend_window_days: s.trendWindowDays ?? 365 });
  }

  /** The trend windows relation, materialised as the run does, read as the run records it. */
  async function trendRow(params: { as_of: string; since: string | null; trend_window_days: number }): Promise<TrendWindows> {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${trendWindows.name} AS ${trendWindows.sql}`, boundParams(trendWindows, params));
    const reader = await conn.runAndReadAll(TREND_WINDOWS_ROW_SQL);
    return reader.getRowObjectsJson()[0] as unknown as TrendWindows;
  }

  it('365-day windows as of 2024-12-31: covered from 2023-01-02 on, not from a day later', async () => {
    const expected = { days: 365, current_start: '2024-01-02', previous_start: '2023-01-02' };
    expect(await windows('2023-01-02', { asOf: '2024-12-31' })).toEqual({ ...expected, data_start: '2023-01-02', comparable: true });
    expect(await windows('2020-05-01', { asOf: '2024-12-31' })).toEqual({ ...expected, data_start: '2020-05-01', comparable: true });
    expect(await windows('2023-01-03', { asOf: '2024-12-31' })).toEqual({ ...expected, data_start: '2023-01-03', comparable: false });
    expect(await windows('2023-12-23', { asOf: '2024-12-31' })).toEqual({ ...expected, data_start: '2023-12-23', comparable: false });
  });

  it('--since sets the length: 2024-06-01 … 2024-12-31 is 214 days, the previous window starts 2023-10-31', async () => {
    const expected = { days: 214, current_start: '2024-06-01', previous_start: '2023-10-31' };
    expect(await windows('2023-10-31', { asOf: '2024-12-31', since: '2024-06-01' })).toEqual({ ...expected, data_start: '2023-10-31', comparable: true });
    expect(await windows('2024-01-10', { asOf: '2024-12-31', since: '2024-06-01' })).toEqual({ ...expected, data_start: '2024-01-10', comparable: false });
  });

  it('data after as-of does not count as history before it', async () => {
    await conn.run('DELETE FROM transactions');
    await conn.run(`INSERT INTO transactions VALUES (DATE '2024-06-01'), (DATE '2026-01-01')`);
    expect(await trendRow({ as_of: '2024-12-31', since: null, trend_window_days: 30 })).toMatchObject({ data_start: '2024-06-01', previous_start: '2024-11-02', comparable: true });
  });
});

describe('crm run: trends and the "revenue down" flag', () => {
  let store: TestStore;
  afterAll(() => store?.cleanup());

  it('data starting 9 days before the current window: no previous revenue, no trend, nobody flagged for falling revenue', async () => {
    store = await createStore(PARTIAL, 'crm-trend-');
    const run = store.json<RunWithTrend>(['run', '--as-of', '2024-12-31']);
    expect(run.trend).toEqual({ days: 365, current_start: '2024-01-02', previous_start: '2023-01-02', data_start: '2023-12-23', comparable: false });
    const rows = await trends(store, run.run_id);
    expect(rows.map((r) => [r.customer_id, r.revenue_current, r.revenue_previous, r.revenue_trend])).toEqual([
      ['D', 100, null, null],
      ['U', 2640, null, null],
    ]);
    // D bought most recently (recency risk 0, low tier): no reason at all; U only its high recency risk.
    expect(rows[0].at_risk_reason).toBeNull();
    expect(rows[1].at_risk_reason).toBe('high churn risk (100%)');
    const [input] = await store.query<{ comparable: boolean; data_start: string }>(
      `SELECT CAST(input->>'$.trend.comparable' AS BOOLEAN) AS comparable, input->>'$.trend.data_start' AS data_start FROM runs WHERE run_id = ${run.run_id}`,
    );
    expect(input).toEqual({ comparable: false, data_start: '2023-12-23' });
    const keyaccounts = store.cli(['keyaccounts']);
    expect(keyaccounts.stdout).toContain('trend: not enough history — comparing 365-day windows needs data from 2023-01-02, and the data starts on 2023-12-23');
  });

  it('one purchase on the previous window’s first day: both windows covered, the trend and the flag as before', async () => {
    await store.ingest([{ customer_id: 'X', order_date: '2023-01-02', amount: 5 }]);
    const run = store.json<RunWithTrend>(['run', '--as-of', '2024-12-31']);
    expect(run.trend.comparable).toBe(true);
    const rows = await trends(store, run.run_id);
    expect(rows.map((r) => [r.customer_id, r.revenue_current, r.revenue_previous])).toEqual([
      ['D', 100, 1000],
      ['U', 2640, 100],
      ['X', 0, 5],
    ]);
    expect(rows[0].revenue_trend).toBeCloseTo(-0.9, 12);
    expect(rows[1].revenue_trend).toBeCloseTo(25.4, 12);
    expect(rows[2].revenue_trend).toBe(-1);
    expect(rows[0].at_risk_reason).toBe('revenue down 90% on the previous period');
    expect(store.cli(['keyaccounts']).stdout).not.toContain('not enough history');
  });
});
