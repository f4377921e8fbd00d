/**
 * A store written by the previous schema (version 1: the ingest tables only, before `crm run`
 * existed) opens with the current code: `crm run` migrates it and works, and so does a
 * read-only command.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { MIGRATIONS } from '../../src/store/schema.js';
import { crm, tempDir } from '../helpers/cli.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A version-1 store with one load of 6 transaction lines (3 customers, one return). */
async function versionOneStore(): Promise<string> {
  const dir = tempDir('crm-migration-');
  dirs.push(dir);
  const db = path.join(dir, 'old.duckdb');
  const store = await Store.open(db, { create: true, migrate: false });
  try {
    await store.applyMigrations(MIGRATIONS.filter((m) => m.version === 1));
    await store.run(`INSERT INTO loads VALUES (1, 'transactions', '/data/old.csv', 'old.csv', 'abc', 100, 'csv', 'utf-8', NULL, '{}', '{}', 6, 6, 0, 'loaded', NULL,
                                              TIMESTAMP '2024-04-01 10:00:00', TIMESTAMP '2024-04-01 10:00:01', '{}')`);
    await store.run(`INSERT INTO transactions (load_id, source_file, source_row, customer_id, order_id, order_date, amount, is_return) VALUES
      (1, 'old.csv', 2, 'A', 'O1', DATE '2024-01-10', 100, false),
      (1, 'old.csv', 3, 'A', 'O2', DATE '2024-02-10', 60, false),
      (1, 'old.csv', 4, 'A', 'C3', DATE '2024-02-12', -20, true),
      (1, 'old.csv', 5, 'B', 'O4', DATE '2024-01-20', 40, false),
      (1, 'old.csv', 6, 'C', 'O5', DATE '2024-03-05', 25, false),
      (1, 'old.csv', 7, 'C', 'O6', DATE '2024-03-31', 25, false)`);
    expect(await store.schemaVersion()).toBe(1);
  } finally {
    store.close();
  }
  return db;
}

async function versions(db: string): Promise<number[]> {
  const store = await Store.open(db, { readOnly: true, migrate: false });
  try {
    return (await store.all<{ version: number }>('SELECT version FROM schema_version ORDER BY version')).map((r) => r.version);
  } finally {
    store.close();
  }
}

describe('a version-1 store', () => {
  it('crm run migrates it to version 2 and scores its customers', async () => {
    const db = await versionOneStore();
    const r = crm(['--db', db, '-q', 'run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout);
    expect([run.run_id, run.as_of, run.customers, run.model_status]).toEqual([1, '2024-03-31', 3, 'fallback']);
    expect(await versions(db)).toEqual([1, 2]);
    const store = await Store.open(db, { readOnly: true });
    try {
      const rows = await store.all(`SELECT customer_id, frequency, monetary, returns_value, abc_class FROM customer_latest ORDER BY customer_id`);
      expect(rows).toEqual([
        { customer_id: 'A', frequency: 2, monetary: 140, returns_value: 20, abc_class: 'A' },
        { customer_id: 'B', frequency: 1, monetary: 40, returns_value: 0, abc_class: 'B' },
        { customer_id: 'C', frequency: 2, monetary: 50, returns_value: 0, abc_class: 'A' },
      ]);
      const [input] = await store.all<{ loads: number[]; transactions_used: number }>(
        `SELECT CAST(input->'loads' AS INTEGER[]) AS loads, CAST(input->>'transactions_used' AS INTEGER) AS transactions_used FROM runs`,
      );
      expect(input).toEqual({ loads: [1], transactions_used: 6 });
    } finally {
      store.close();
    }
  });

  it('a read-only command (crm model show) migrates it too, then reports that there is no run yet (exit 4)', async () => {
    const db = await versionOneStore();
    const r = crm(['--db', db, 'model', 'show', '--json']);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('crm: error: no model run yet: run `crm run` first\n');
    expect(r.stdout).toBe('');
    expect(await versions(db)).toEqual([1, 2]);
  });
});
