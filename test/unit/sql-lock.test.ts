/**
 * The lock user SQL runs under (src/store/query.ts), in process: what it refuses, that it
 * cannot be undone, and the parse-only classification that runs before any statement is bound.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Store } from '../../src/store/db.js';
import { isQueryOnly, leadingKeyword, lockToStore, neededExtension, refusedPath, runReadOnlyQuery } from '../../src/store/query.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';

let dir: string;
let storePath: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-lock-'));
  storePath = path.join(dir, 'crm.duckdb');
  const store = await Store.open(storePath, { create: true });
  store.close();
  fs.mkdirSync(path.join(dir, 'mine'));
  fs.writeFileSync(path.join(dir, 'mine', 'a.csv'), 'x\n1\n');
  fs.writeFileSync(path.join(dir, 'b.csv'), 'x\n2\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(storePath, { readOnly: true });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected a failure');
}

describe('lockToStore', () => {
  test('no extension loads on demand in any store', async () => {
    await withStore(async (store) => {
      expect(await store.value("SELECT current_setting('autoload_known_extensions')")).toBe(false);
      expect(await store.value("SELECT current_setting('autoinstall_known_extensions')")).toBe(false);
    });
  });

  test('files are refused, the store still reads, and the lock cannot be undone', async () => {
    await withStore(async (store) => {
      await lockToStore(store);
      expect(await store.value('SELECT count(*) FROM schema_version')).toBeGreaterThan(0);
      const message = await failure(() => store.all(`SELECT * FROM read_csv('${path.join(dir, 'b.csv')}')`));
      expect(refusedPath(message)).toBe(path.join(dir, 'b.csv'));
      expect(await failure(() => store.run('SET enable_external_access = true'))).toMatch(/configuration has been locked/);
      // Another connection of the same store is locked too.
      const other = await store.instance.connect();
      try {
        expect(refusedPath(await failure(() => other.run("SELECT * FROM glob('/*')")))).toBe('/*');
      } finally {
        other.closeSync();
      }
    });
  });

  test('with a folder: its files read, others do not; the same lock again is a no-op, another is a bug', async () => {
    await withStore(async (store) => {
      const mine = path.join(dir, 'mine');
      await lockToStore(store, [mine]);
      await lockToStore(store, [mine]);
      expect(await store.value(`SELECT x FROM read_csv('${path.join(mine, 'a.csv')}')`)).toBe(1);
      expect(refusedPath(await failure(() => store.all(`SELECT * FROM read_csv('${path.join(mine, '..', 'b.csv')}')`)))).not.toBeNull();
      expect(await failure(() => lockToStore(store, []))).toMatch(/already locked/);
    });
  });
});

describe('runReadOnlyQuery', () => {
  test('a file read is a query error (exit 6) in crm query words', async () => {
    const err = await runReadOnlyQuery(storePath, "SELECT * FROM read_text('/etc/hostname')").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrmError);
    expect((err as CrmError).exitCode).toBe(ExitCode.query);
    expect((err as CrmError).message).toBe('crm query reads only the store: it cannot open "/etc/hostname"');
  });
});

describe('classifying before binding', () => {
  test('isQueryOnly parses without binding', async () => {
    await withStore(async (store) => {
      expect(await isQueryOnly(store.conn, 'SELECT 1')).toBe(true);
      expect(await isQueryOnly(store.conn, 'FROM schema_version')).toBe(true);
      expect(await isQueryOnly(store.conn, 'DESCRIBE schema_version')).toBe(true);
      expect(await isQueryOnly(store.conn, `EXPORT DATABASE '${path.join(dir, 'x')}'`)).toBe(false);
      expect(await isQueryOnly(store.conn, 'WITH a AS (SELECT 1) DELETE FROM schema_version')).toBe(false);
      expect(await isQueryOnly(store.conn, 'SELEC 1')).toBeNull();
      expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
    });
  });

  test('leadingKeyword and neededExtension', () => {
    expect(leadingKeyword('  -- note\n/* c */ (export DATABASE x)')).toBe('EXPORT');
    expect(leadingKeyword('WITH a AS (SELECT 1) DELETE FROM t')).toBeUndefined();
    expect(neededExtension('Catalog Error: Table Function with name "dbgen" is not in the catalog, but it exists in the tpch extension.')).toBe('tpch');
    expect(neededExtension('Binder Error: nope')).toBeNull();
  });
});
