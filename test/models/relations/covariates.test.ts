/**
 * The covariates of `crm run --covariates` (relations/covariates.ts) on hand-made rows:
 *
 *   customer  history (x, t_x, T days)  region rows (load, row → region)        first purchase day lines
 *   A         (1, 10, 100)              1/1 'North', 2/5 'South' (latest wins)   2024-01-01 09:00 'web', 08:00 'phone'
 *   B         (1, 10, 100)              1/2 'North'                             2024-01-01 (no time) 'store', earlier return 'phone'
 *   C         (0, 0, 50)                1/3 '  ' (blank)                        2024-02-01 NULL channel
 *   D         (0, 0, 50)                none                                    2024-02-01 'web'
 *   E         (2, 30, 80)               1/4 'North'                             its duplicate E2's line 2024-01-05 'web'
 *   F         (0, 0, 50)                1/6 'Iceland' (1 customer: pooled)      2024-02-01 'web'
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundParams, parametersOf, type Relation } from '../../../src/models/relation.js';
import { covariateHistories, covariateLevels, covariateValues, customerCovariateKeys } from '../../../src/models/relations/covariates.js';
import { historyKey, historyKeyFields } from '../../../src/models/relations/histories.js';
import { readerObjects, type Row } from '../../../src/store/db.js';

let conn: DuckDBConnection;
let instance: DuckDBInstance;
const rows = async <T = Row>(sql: string) => readerObjects(await conn.runAndReadAll(sql)) as T[];
const materialize = async <P extends string>(r: Relation<P>, params: Record<P, unknown>): Promise<unknown> =>
  conn.run(`CREATE OR REPLACE TEMP TABLE ${r.name} AS ${r.sql}`, boundParams(r, params as never));

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  await conn.run(`CREATE TEMP TABLE run_base AS SELECT * FROM (VALUES
      ('A', 1, 10, 100, DATE '2024-01-01'), ('B', 1, 10, 100, DATE '2024-01-01'), ('C', 0, 0, 50, DATE '2024-02-01'),
      ('D', 0, 0, 50, DATE '2024-02-01'), ('E', 2, 30, 80, DATE '2024-01-05'), ('F', 0, 0, 50, DATE '2024-02-01'))
    t(customer_id, bgnbd_x, t_x_days, T_days, first_purchase)`);
  await conn.run(`CREATE TABLE customers AS SELECT * FROM (VALUES
      ('A', 'North', 1, 1), ('A', 'South', 2, 5), ('B', 'North', 1, 2), ('C', '  ', 1, 3), ('E', 'North', 1, 4), ('F', 'Iceland', 1, 6))
    t(customer_id, region, load_id, source_row)`);
  await conn.run(`CREATE TABLE transactions AS SELECT * FROM (VALUES
      ('A', DATE '2024-01-01', TIMESTAMP '2024-01-01 09:00', 'web', false, 1, 1),
      ('A', DATE '2024-01-01', TIMESTAMP '2024-01-01 08:00', 'phone', false, 1, 2),
      ('B', DATE '2023-12-01', NULL, 'phone', true, 1, 3),
      ('B', DATE '2024-01-01', NULL, 'store', false, 1, 4),
      ('C', DATE '2024-02-01', NULL, NULL, false, 1, 5),
      ('D', DATE '2024-02-01', NULL, 'web', false, 1, 6),
      ('E2', DATE '2024-01-05', NULL, 'web', false, 1, 7),
      ('F', DATE '2024-02-01', NULL, 'web', false, 1, 8),
      ('F', DATE '2025-02-01', NULL, 'store', false, 1, 9))
    t(customer_id, order_date, order_ts, channel, is_return, load_id, source_row)`);
  await conn.run(`CREATE TABLE customer_merges AS SELECT 'E2' AS duplicate_id, 'E' AS surviving_id`);
});
afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

describe('covariate relations', () => {
  it('reads the latest region and the first purchase line’s channel; missing or blank is "(none)"', async () => {
    await materialize(covariateValues(['region', 'channel']), { as_of: '2024-12-31' });
    expect(await rows('SELECT customer_id, region, channel FROM temp.run_covariate_values ORDER BY customer_id')).toEqual([
      { customer_id: 'A', region: 'South', channel: 'phone' },
      { customer_id: 'B', region: 'North', channel: 'store' },
      { customer_id: 'C', region: '(none)', channel: '(none)' },
      { customer_id: 'D', region: '(none)', channel: 'web' },
      { customer_id: 'E', region: 'North', channel: 'web' },
      { customer_id: 'F', region: 'Iceland', channel: 'web' },
    ]);
  });

  it('pools levels below the minimum into "(other)" and makes the most frequent level the baseline (index 0)', async () => {
    await materialize(covariateLevels(['region', 'channel']), { min_customers: 2 });
    const levels = await rows('SELECT covariate, level, customers, pooled_level, level_index, pooled_customers FROM temp.run_covariate_levels ORDER BY covariate, level_index, level');
    expect(levels).toEqual([
      { covariate: 'channel', level: 'web', customers: 3, pooled_level: 'web', level_index: 0, pooled_customers: 3 },
      // (none), phone, store: one customer each, pooled; as many customers as web, but never the baseline before a real level.
      { covariate: 'channel', level: '(none)', customers: 1, pooled_level: '(other)', level_index: 1, pooled_customers: 3 },
      { covariate: 'channel', level: 'phone', customers: 1, pooled_level: '(other)', level_index: 1, pooled_customers: 3 },
      { covariate: 'channel', level: 'store', customers: 1, pooled_level: '(other)', level_index: 1, pooled_customers: 3 },
      // Ties (2, 2, 2): the real level first, then by name.
      { covariate: 'region', level: 'North', customers: 2, pooled_level: 'North', level_index: 0, pooled_customers: 2 },
      { covariate: 'region', level: '(none)', customers: 2, pooled_level: '(none)', level_index: 1, pooled_customers: 2 },
      { covariate: 'region', level: 'Iceland', customers: 1, pooled_level: '(other)', level_index: 2, pooled_customers: 2 },
      { covariate: 'region', level: 'South', customers: 1, pooled_level: '(other)', level_index: 2, pooled_customers: 2 },
    ]);
  });

  it('compresses histories per (x, t_x, T, cell) with counts, and keys each customer by its row', async () => {
    // Mixed radix: region has 3 pooled levels, channel 2: cell = region_index + 3 · channel_index.
    await materialize(covariateHistories(['region', 'channel']), { radix: [1, 3] });
    const h = await rows('SELECT x, t_x_days, T_days, cell, customers, covariate_key FROM temp.run_covariate_histories ORDER BY covariate_key');
    expect(h).toEqual([
      { x: 2, t_x_days: 30, T_days: 80, cell: 0, customers: 1, covariate_key: 1 }, // E: North, web (its duplicate's line)
      { x: 0, t_x_days: 0, T_days: 50, cell: 1, customers: 1, covariate_key: 2 }, // D: (none), web
      { x: 0, t_x_days: 0, T_days: 50, cell: 2, customers: 1, covariate_key: 3 }, // F: (other), web
      { x: 1, t_x_days: 10, T_days: 100, cell: 3, customers: 1, covariate_key: 4 }, // B: North, (other)
      { x: 0, t_x_days: 0, T_days: 50, cell: 4, customers: 1, covariate_key: 5 }, // C: (none), (other)
      { x: 1, t_x_days: 10, T_days: 100, cell: 5, customers: 1, covariate_key: 6 }, // A: (other), (other)
    ]);
    await materialize(customerCovariateKeys(['region', 'channel']), { radix: [1, 3] });
    expect(await rows('SELECT customer_id, covariate_key FROM temp.run_customer_covariate_keys ORDER BY customer_id')).toEqual([
      { customer_id: 'A', covariate_key: 6 },
      { customer_id: 'B', covariate_key: 4 },
      { customer_id: 'C', covariate_key: 5 },
      { customer_id: 'D', covariate_key: 2 },
      { customer_id: 'E', covariate_key: 1 },
      { customer_id: 'F', covariate_key: 3 },
    ]);
  });

  it('one covariate alone: region only, no as-of parameter', async () => {
    const values = covariateValues(['region']);
    expect(values.params).toEqual([]);
    await materialize(values, {} as Record<'as_of', unknown>);
    expect((await rows('SELECT * FROM temp.run_covariate_values')).every((r) => !('channel' in r))).toBe(true);
  });

  it('params are exactly the parameters the SQL uses', () => {
    for (const r of [covariateValues(['region', 'channel']), covariateValues(['channel']), covariateLevels(['region']), covariateHistories(['region', 'channel']), customerCovariateKeys(['channel'])]) {
      expect([...r.params].sort()).toEqual(parametersOf(r.sql).sort());
    }
  });

  it('historyKeyFields inverts historyKey for any key', async () => {
    for (const k of [0, 1, 1048575, 1048576, 2 ** 40 + 5, 123456789012345]) {
      const f = historyKeyFields(`CAST(${k} AS BIGINT)`);
      const [r] = await rows<{ back: bigint | number }>(`SELECT ${historyKey(f.x, f.txDays, f.tDays)} AS back`);
      expect(Number(r.back)).toBe(k);
    }
  });
});
