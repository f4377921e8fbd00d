/**
 * A load of transactions with only the core columns is staged without the columns
 * transactions_narrow has not (quantity … region, attributes); `stageRows` gives them back as
 * NULL with their types, so the steps after staging read the same relation either way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stageRows } from '../../src/ingest/load.js';
import { openSource } from '../../src/ingest/sources.js';
import { buildStage, detectConventions, isNarrowStage } from '../../src/ingest/stage.js';
import { Store } from '../../src/store/db.js';
import { WIDE_ONLY_COLUMNS } from '../../src/store/transactions.js';
import { tempDir } from '../helpers/cli.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Stage `text` as a transactions file with `mapping`; the stage's columns and its rows through stageRows. */
async function staged(text: string, mapping: Record<string, string>, unmapped: string[] = []) {
  const dir = tempDir('crm-narrow-');
  const file = path.join(dir, 'orders.csv');
  fs.writeFileSync(file, text);
  const store = await Store.open(path.join(dir, 'store.duckdb'), { create: true });
  const opened = await openSource(store, file, { format: 'csv', tag: 'narrow_test', label: 'orders.csv' });
  cleanups.push(async () => {
    await opened.cleanup();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const source = opened.tables[0];
  const conventions = await detectConventions(store, source, 'transactions', mapping);
  const plan = { kind: 'transactions' as const, source, mapping, unmapped, conventions, returnPattern: '^C', table: 'narrow_stage' };
  await buildStage(store, plan, () => undefined);
  const narrow = isNarrowStage(plan);
  const columns = (await store.all<{ column_name: string }>(`SELECT column_name FROM duckdb_columns() WHERE table_name = 'narrow_stage'`)).map((c) => c.column_name);
  const rows = await store.all(`SELECT customer_id, amount, quantity, product, attributes FROM ${stageRows('narrow_stage', narrow)} ORDER BY ord`);
  const types = await store.all<{ column_name: string; column_type: string }>(
    `DESCRIBE SELECT ${Object.keys(WIDE_ONLY_COLUMNS).join(', ')} FROM ${stageRows('narrow_stage', narrow)}`,
  );
  return { narrow, columns, rows, types: Object.fromEntries(types.map((t) => [t.column_name, t.column_type])) };
}

describe('narrow stages', () => {
  it('a four-column file is staged without the wide-only columns, read back as typed NULLs', async () => {
    const s = await staged('order_id,customer_id,order_date,amount\nO1,A,2024-01-01,10.50\n', {
      order_id: 'order_id',
      customer_id: 'customer_id',
      order_date: 'order_date',
      amount: 'amount',
    });
    expect(s.narrow).toBe(true);
    for (const c of Object.keys(WIDE_ONLY_COLUMNS)) expect(s.columns).not.toContain(c);
    expect(s.columns).toEqual(expect.arrayContaining(['customer_id', 'order_id', 'order_date', 'order_ts', 'amount', 'is_return', 'reason']));
    // Nor a CSV's row number (load.ts numbers its rows) or a reject's column (written from the reason): NULL on every row that loads.
    expect(s.columns).not.toContain('src_row');
    expect(s.columns).not.toContain('column_name');
    expect(s.rows).toEqual([{ customer_id: 'A', amount: 10.5, quantity: null, product: null, attributes: null }]);
    expect(s.types).toEqual(WIDE_ONLY_COLUMNS);
  });

  it('a file with a product column, or with unmapped columns, keeps every column', async () => {
    const withProduct = await staged('customer_id,order_date,amount,product\nA,2024-01-01,3,P1\n', {
      customer_id: 'customer_id',
      order_date: 'order_date',
      amount: 'amount',
      product: 'product',
    });
    expect(withProduct.narrow).toBe(false);
    expect(withProduct.columns).toEqual(expect.arrayContaining(Object.keys(WIDE_ONLY_COLUMNS)));
    expect(withProduct.rows).toEqual([{ customer_id: 'A', amount: 3, quantity: null, product: 'P1', attributes: null }]);

    const withNote = await staged('customer_id,order_date,amount,note\nA,2024-01-01,3,hi\n', { customer_id: 'customer_id', order_date: 'order_date', amount: 'amount' }, ['note']);
    expect(withNote.narrow).toBe(false);
    expect(withNote.rows).toEqual([{ customer_id: 'A', amount: 3, quantity: null, product: null, attributes: '{"note":"hi"}' }]);
    expect(withNote.types).toEqual(WIDE_ONLY_COLUMNS);
  });
});
