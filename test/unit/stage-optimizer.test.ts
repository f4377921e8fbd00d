/**
 * Staging runs without DuckDB's common-subexpression optimizer (it hoisted the amount grammar
 * out of the COALESCE that keeps it off plain numbers) and gives the connection back as it
 * found it, also when staging stops with an error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSource, type OpenedSource } from '../../src/ingest/sources.js';
import { buildStage, detectConventions } from '../../src/ingest/stage.js';
import { Store } from '../../src/store/db.js';
import { tempDir } from '../helpers/cli.js';

const MAPPING = { customer_id: 'customer_id', order_date: 'order_date', amount: 'amount' };
let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

async function stageFile(text: string, failStaging = false): Promise<{ store: Store; seen: string[]; stage: () => Promise<unknown> }> {
  const dir = tempDir('crm-stage-');
  const file = path.join(dir, 'orders.csv');
  fs.writeFileSync(file, text);
  const store = await Store.open(path.join(dir, 'store.duckdb'), { create: true });
  const opened: OpenedSource = await openSource(store, file, { format: 'csv', tag: 'optimizer_test', label: 'orders.csv' });
  cleanup = async () => {
    await opened.cleanup();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // The optimizer setting in force when each staging statement runs.
  const seen: string[] = [];
  const run = store.run.bind(store);
  store.run = async (sql, params) => {
    if (sql.startsWith('CREATE TEMP TABLE')) {
      seen.push(String(await store.value(`SELECT current_setting('disabled_optimizers')`)));
      if (failStaging) throw new Error('staging failed');
    }
    return run(sql, params);
  };
  const source = opened.tables[0];
  const conventions = await detectConventions(store, source, 'transactions', MAPPING);
  const stage = () =>
    buildStage(store, { kind: 'transactions', source, mapping: MAPPING, unmapped: [], conventions, returnPattern: '^C', table: 'optimizer_stage' }, () => undefined);
  return { store, seen, stage };
}

const setting = (store: Store) => store.value<string>(`SELECT current_setting('disabled_optimizers')`);

describe('staging and the common-subexpression optimizer', () => {
  it('stages with the optimizer off and restores the setting afterwards', async () => {
    const { store, seen, stage } = await stageFile('customer_id,order_date,amount\nC1,2024-01-05,12.50\nC2,2024-01-06,"1,234.50"\n');
    expect(await setting(store)).toBe('');
    await stage();
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s).toContain('common_subexpressions');
    expect(await setting(store)).toBe('');
  });

  it('restores the setting when the staging statement fails', async () => {
    const { store, stage } = await stageFile('customer_id,order_date,amount\nC1,2024-01-05,12.50\n', true);
    await expect(stage()).rejects.toThrow(/staging failed/);
    expect(await setting(store)).toBe('');
  });

  it('restores the setting when staging stops on mixed decimal separators', async () => {
    const { store, stage } = await stageFile('customer_id,order_date,amount\nC1,2024-01-05,12.50\nC2,2024-01-06,"7,5"\n');
    await expect(stage()).rejects.toThrow(/mixes decimal separators/);
    expect(await setting(store)).toBe('');
  });
});
