/**
 * A store killed before its first checkpoint opens again. DuckDB 1.5.6 cannot replay an ALTER
 * TABLE of a table with a generated column from the WAL ("Calling
 * DatabaseManager::GetDefaultDatabase with no default database set"), and migration 4 is one
 * (customer_metrics.revenue_trend). A new store's migrations were committed into the WAL: a
 * `crm run --source` creating its store and killed with kill -9 in its first seconds (before
 * anything checkpointed) left a store no command could open, every time (12 of 12 such kills here).
 * Now every commit of a writable store, the migrations too, is a checkpoint.
 *
 * What a kill -9 leaves is the files as they are while the store is open: copied here, so the
 * test needs no timing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../src/store/schema.js';
import { tempDir } from '../helpers/cli.js';

/** The store's files as a kill -9 of the process holding `store` would leave them, under a new name. */
function killedCopy(file: string): string {
  const copy = file.replace(/\.duckdb$/, '-killed.duckdb');
  fs.copyFileSync(file, copy);
  if (fs.existsSync(`${file}.wal`)) fs.copyFileSync(`${file}.wal`, `${copy}.wal`);
  return copy;
}

async function opensAtLatest(file: string): Promise<void> {
  const store = await Store.open(file);
  try {
    expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
  } finally {
    store.close();
  }
}

/** Open (creating or upgrading) the store at `file` and copy its files while it is open: what a kill -9 leaves. */
async function copiedWhileOpen(file: string): Promise<string> {
  const store = await Store.open(file, { create: true });
  try {
    return killedCopy(file);
  } finally {
    store.close();
  }
}

describe('a store killed before its first checkpoint', () => {
  it('a new store (all migrations in one commit) opens again', async () => {
    const file = path.join(tempDir('crm-killed-new-'), 'new.duckdb');
    await opensAtLatest(await copiedWhileOpen(file));
  });

  it('an older store being upgraded (migration 4 onward, ALTER TABLE of customer_metrics with its generated columns) opens again', async () => {
    const file = path.join(tempDir('crm-killed-upgrade-'), 'old.duckdb');
    const old = await Store.open(file, { create: true, migrate: false });
    try {
      await old.applyMigrations(MIGRATIONS.filter((m) => m.version <= 3), { together: true });
    } finally {
      old.close();
    }
    await opensAtLatest(await copiedWhileOpen(file));
  });
});
