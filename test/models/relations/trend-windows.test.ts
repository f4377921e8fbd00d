/**
 * The trend windows (relations/trend-windows.ts): covered or not by the data, the --since
 * window, and the one definition of the revenue trend. (The run's use of them, with the
 * "revenue down" flag, is in test/run/trend.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVENUE_TREND_SQL, trendWindows } from '../../../src/models/relations/trend-windows.js';
import { MIGRATIONS } from '../../../src/store/schema.js';
import { chainDb, type ChainDb, type Line } from './chain-db.js';

let db: ChainDb;
beforeAll(async () => {
  db = await chainDb();
});
afterAll(() => db.close());

async function windows(lines: Line[], params: { as_of: string; since: string | null; trend_window_days: number }) {
  await db.load(lines);
  await db.materialize(trendWindows, params);
  return db.rows(`SELECT days, CAST(current_start AS VARCHAR) AS current_start, CAST(previous_start AS VARCHAR) AS previous_start,
                         CAST(data_start AS VARCHAR) AS data_start, comparable, CAST(pareto_start AS VARCHAR) AS pareto_start FROM run_trend_windows`);
}

describe('trend windows', () => {
  it('covered: the data starts on the previous window\'s first day (a return counts as data)', async () => {
    expect(await windows([['A', 'R', '2023-01-02', -5, null], ['A', 'O', '2024-12-31', 10, null]], { as_of: '2024-12-31', since: null, trend_window_days: 365 })).toEqual([
      { days: 365, current_start: '2024-01-02', previous_start: '2023-01-02', data_start: '2023-01-02', comparable: true, pareto_start: null },
    ]);
  });

  it('not covered: the data starts a day later; lines after as-of are not history', async () => {
    expect(await windows([['A', 'O', '2023-01-03', 5, null]], { as_of: '2024-12-31', since: null, trend_window_days: 365 })).toEqual([
      { days: 365, current_start: '2024-01-02', previous_start: '2023-01-02', data_start: '2023-01-03', comparable: false, pareto_start: null },
    ]);
    expect(await windows([['A', 'O', '2025-03-01', 5, null]], { as_of: '2024-12-31', since: null, trend_window_days: 365 })).toEqual([
      { days: 365, current_start: '2024-01-02', previous_start: '2023-01-02', data_start: null, comparable: false, pareto_start: null },
    ]);
  });

  it('--since sets the 80/20 window and the trend windows\' length (2024-06-01 … 2024-12-31: 214 days)', async () => {
    expect(await windows([['A', 'O', '2023-10-31', 5, null]], { as_of: '2024-12-31', since: '2024-06-01', trend_window_days: 365 })).toEqual([
      { days: 214, current_start: '2024-06-01', previous_start: '2023-10-31', data_start: '2023-10-31', comparable: true, pareto_start: '2024-06-01' },
    ]);
  });

  it('a fractional trend_window_days is truncated, as the run always did', async () => {
    const [w] = await windows([['A', 'O', '2020-01-01', 5, null]], { as_of: '2024-12-31', since: null, trend_window_days: 30.9 });
    expect(w).toMatchObject({ days: 30, current_start: '2024-12-02' });
  });
});

describe('the revenue trend has one definition', () => {
  it("customer_metrics.revenue_trend is REVENUE_TREND_SQL's text, in every migration that defines it", () => {
    // Migration 3 stored it as a generated column; migration 6 made customer_metrics a view whose
    // revenue_trend is the same expression. The run's relation reads the same constant.
    const definitions = MIGRATIONS.flatMap((m) => [
      ...m.sql.matchAll(/revenue_trend\s+DOUBLE\s+GENERATED ALWAYS AS \((.*)\) VIRTUAL/g),
      ...m.sql.matchAll(/CAST\((CASE WHEN revenue_previous.*END) AS DOUBLE\) AS revenue_trend/g),
    ].map((x) => x[1]));
    expect(definitions.length).toBeGreaterThanOrEqual(2);
    for (const d of definitions) expect(d).toBe(REVENUE_TREND_SQL);
  });

  it('over the two window columns: NULL without previous revenue, else current / previous − 1', async () => {
    const rows = await db.rows(`SELECT ${REVENUE_TREND_SQL} AS t FROM (VALUES (150.0, 100.0), (5.0, 0.0), (5.0, NULL), (0.0, 40.0)) v(revenue_current, revenue_previous)`);
    expect(rows.map((r) => r.t)).toEqual([0.5, null, null, -1]);
  });
});
