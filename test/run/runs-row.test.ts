/**
 * The runs row is inserted by column name (run/steps/record.ts): each value lands in the column
 * its key names, whatever the order of the keys. Checked on a migrated in-memory store with a
 * distinguishable value in every column, read back column by column.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRunsRow, runsInsert, type RunsRow } from '../../src/run/steps/record.js';
import { Store } from '../../src/store/db.js';

let store: Store;
beforeAll(async () => {
  store = await Store.open(':memory:', { create: true });
});
afterAll(() => store.close());

const ROW: RunsRow = {
  run_id: 7,
  created_at: '2026-12-07 20:30:01.257',
  as_of: '2024-12-31',
  since: '2023-01-01',
  holdout_end: '2025-03-31',
  time_unit: 'week',
  horizon_months: 18,
  params: '{"p":1}',
  input: '{"i":2}',
  customers: 1234,
  model_status: 'fitted',
  fallback_reason: 'reason text',
  bgnbd: '{"b":3}',
  gamma_gamma: '{"g":4}',
  backtest: '{"t":5}',
  summary: '{"s":6}',
  timings: '{"total":7}',
  tool_version: '9.9.9',
  fallback_code: 'fit_failed',
  contracts: '{"c":8}',
  model: 'pareto_nbd',
  purchase_model: '{"m":9}',
  model_choice: '{"x":10}',
  covariates: '{"v":11}',
};

/** The stored row, every column as text (JSON as written). */
async function stored(runId: number): Promise<Record<string, string | null>> {
  const columns = Object.keys(ROW);
  return (await store.one<Record<string, string | null>>(`SELECT ${columns.map((c) => `CAST(${c} AS VARCHAR) AS ${c}`).join(', ')} FROM runs WHERE run_id = ${runId}`))!;
}

const asText = (row: RunsRow) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? null : String(v)]));

describe('the runs row, by column name', () => {
  it('names every column once, each with its own parameter (dates and the timestamp cast)', () => {
    const { sql, params } = runsInsert(ROW);
    expect(sql).toBe(
      'INSERT INTO runs (run_id, created_at, as_of, since, holdout_end, time_unit, horizon_months, params, input, customers, model_status, fallback_reason, bgnbd, gamma_gamma, backtest, summary, timings, tool_version, fallback_code, contracts, model, purchase_model, model_choice, covariates) VALUES ($1, $2::TIMESTAMP, $3::DATE, $4::DATE, $5::DATE, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)',
    );
    expect(params).toEqual(Object.values(ROW));
  });

  it('stores each value in the column its key names', async () => {
    await insertRunsRow(store, ROW);
    expect(await stored(7)).toEqual(asText(ROW));
  });

  it('the same row with its keys in another order and NULLs where allowed lands the same way', async () => {
    const reversed = Object.fromEntries(Object.entries({ ...ROW, run_id: 8, since: null, holdout_end: null, fallback_reason: null, covariates: null }).reverse()) as unknown as RunsRow;
    await insertRunsRow(store, reversed);
    expect(await stored(8)).toEqual(asText({ ...ROW, run_id: 8, since: null, holdout_end: null, fallback_reason: null, covariates: null }));
  });
});
