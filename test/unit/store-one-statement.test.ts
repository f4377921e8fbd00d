/**
 * One connection runs one statement at a time (src/store/db.ts, Store.exclusive). `crm run`
 * builds the cohort triangle in DuckDB while the purchase models are fitted, and the model
 * comparison then wrote its predictions with an appender: on a busy machine the cohorts were
 * still running, and DuckDB failed the run ("Attempting to execute an unsuccessful or closed
 * pending query result", exit 1; CI, 2026-12-07). Here a slow statement is in flight while
 * other callers write and read: each waits its turn, and every result is whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { readNumericColumns, writeDoubleTable, writeTempRows } from '../../src/store/columnar.js';

let store: Store;
beforeAll(async () => {
  store = await Store.open(':memory:', { create: true });
});
afterAll(() => store.close());

// Long enough (~0.1–1 s) that the other callers start while it runs.
// With a parameter, as the run's relations: a prepared statement, executed task by task.
const SLOW = 'CREATE OR REPLACE TEMP TABLE slow AS SELECT count(DISTINCT hash(i)) AS n FROM range($n::BIGINT) t(i)';
const slow = () => store.run(SLOW, { n: 6000000 });

describe('one statement at a time on a store', () => {
  it('appenders while statements keep the connection busy: each waits its turn', async () => {
    // Statements issued back to back, with a parameter, as the run's cohort step does, while
    // tables are appended. Without the turns this failed one time in two to five on 2 cores,
    // with DuckDB's "closed pending query result".
    let stop = false;
    let statements = 0;
    const busy = (async () => {
      while (!stop) {
        await store.run('CREATE OR REPLACE TEMP TABLE busy AS SELECT count(DISTINCT hash(i)) AS n FROM range($n::BIGINT) t(i)', { n: 300000 });
        statements++;
      }
    })();
    const x = Float64Array.from({ length: 20000 }, (_, i) => i / 7);
    try {
      for (let i = 0; i < 100; i++) {
        await writeDoubleTable(store, `appended_${i % 2}`, { x });
        expect(await store.value(`SELECT count(*) FROM appended_${i % 2}`)).toBe(20000);
      }
    } finally {
      stop = true;
      await busy;
    }
    expect(statements).toBeGreaterThan(50);
  });

  it('an appender and reads started while a statement runs wait for it', async () => {
    const x = Float64Array.from({ length: 5000 }, (_, i) => i / 7);
    const results = await Promise.all([
      slow(),
      writeDoubleTable(store, 'written', { x }),
      writeTempRows(store, 'rows', { k: { type: 'VARCHAR', values: ['a', 'b'] }, v: { type: 'DOUBLE', values: [1, 2] } }),
      store.all('SELECT 42 AS answer'),
      readNumericColumns(store, 'SELECT i * 2 AS y FROM range(3000) t(i) ORDER BY i'),
    ]);
    expect(results[3]).toEqual([{ answer: 42 }]);
    expect((results[4] as Record<string, Float64Array>).y[2999]).toBe(5998);
    expect(await store.all('SELECT n FROM slow')).toEqual([{ n: 6000000 }]);
    expect(await store.all('SELECT count(*) AS n, sum(x) AS s FROM written')).toEqual([{ n: 5000, s: x.reduce((a, b) => a + b, 0) }]);
    expect(await store.all('SELECT k, v FROM rows ORDER BY k')).toEqual([{ k: 'a', v: 1 }, { k: 'b', v: 2 }]);
  });

  it('a transaction holds the connection: a statement started meanwhile runs after its COMMIT, outside it', async () => {
    await store.run('CREATE OR REPLACE TEMP TABLE seen (step VARCHAR)');
    const order: string[] = [];
    const inTransaction = store.transaction(async () => {
      await slow();
      await store.run("INSERT INTO seen VALUES ('inside')");
      order.push('inside');
      throw new Error('rolled back');
    });
    const outside = store.run("INSERT INTO seen VALUES ('outside')").then(() => order.push('outside'));
    await expect(inTransaction).rejects.toThrow('rolled back');
    await outside;
    expect(order).toEqual(['inside', 'outside']);
    // The rollback undid only the transaction's own insert.
    expect(await store.all('SELECT step FROM seen')).toEqual([{ step: 'outside' }]);
  });

  it('a failed statement releases the connection', async () => {
    await expect(store.run('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
    expect(await store.value('SELECT 1')).toBe(1);
  });
});
