/**
 * A decimal column whose sample (its first SAMPLE_ROWS rows) already proves a decimal point: the
 * stage works out the evidence of the other values for the rejected rows only
 * (Conventions.decimalPointSeen), which spares a regular expression per value of a clean file.
 * The outcome must be what counting every value gives: a comma past the sample is still a
 * conflict, named with the same rows and counts; values past it that read either way read with
 * the point; rejects keep their reasons and sentences.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSource } from '../../src/ingest/sources.js';
import { detectConventions, SAMPLE_ROWS, stageSql } from '../../src/ingest/stage.js';
import { Store } from '../../src/store/db.js';
import { tempDir } from '../helpers/cli.js';
import { ingestError, ingestFiles } from '../helpers/ingest.js';

const MAPPING = { customer_id: 'customer_id', order_date: 'order_date', amount: 'amount' };

/** A transactions CSV: `points` rows with a point decimal (rows 2 …), then `tail` as written. */
function csv(points: number, tail: string[]): string {
  const lines = ['customer_id;order_date;amount'];
  for (let i = 0; i < points; i++) lines.push(`C${i + 1};2024-01-05;10.50`);
  return [...lines, ...tail].join('\n') + '\n';
}

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

async function conventionsOf(text: string) {
  const dir = tempDir('crm-sample-');
  const file = path.join(dir, 'orders.csv');
  fs.writeFileSync(file, text);
  const store = await Store.open(path.join(dir, 'store.duckdb'), { create: true });
  const opened = await openSource(store, file, { format: 'csv', tag: 'sample_test', label: 'orders.csv' });
  cleanup = async () => {
    await opened.cleanup();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const source = opened.tables[0];
  const conventions = await detectConventions(store, source, 'transactions', MAPPING);
  return { conventions, source };
}

describe('a decimal point proven by the sample', () => {
  it('is proven by a point-only value with no comma-only value in the sample', async () => {
    expect((await conventionsOf(csv(2, ['C9;2024-01-05;1,234']))).conventions.decimalPointSeen).toEqual({ amount: true });
    // A comma in the sample: no proof (the command stops on the conflict, counting every value).
    expect((await conventionsOf(csv(2, ['C9;2024-01-05;7,5']))).conventions.decimalPointSeen).toBeUndefined();
    // Whole numbers and a value that reads either way prove nothing.
    expect((await conventionsOf(csv(0, ['C1;2024-01-05;7', 'C2;2024-01-05;1,234']))).conventions.decimalPointSeen).toBeUndefined();
    // --decimal-separator decides: nothing is pending.
    const dir = tempDir('crm-sample-');
    fs.writeFileSync(path.join(dir, 'o.csv'), csv(2, []));
    const store = await Store.open(path.join(dir, 's.duckdb'), { create: true });
    try {
      const opened = await openSource(store, path.join(dir, 'o.csv'), { format: 'csv', tag: 'sample_flag', label: 'o.csv' });
      const c = await detectConventions(store, opened.tables[0], 'transactions', MAPPING, undefined, '.');
      expect(c.decimalEvidencePending).toBe(false);
      expect(c.decimalPointSeen).toBeUndefined();
      await opened.cleanup();
    } finally {
      store.close();
    }
  });

  it('leaves the evidence of a loaded row uncomputed: it is worked out inside the rejected rows\' branch', async () => {
    const { conventions, source } = await conventionsOf(csv(3, []));
    const sql = stageSql({ kind: 'transactions', source, mapping: MAPPING, unmapped: [], conventions, returnPattern: '^C', table: 'sample_stage' });
    expect(sql).toMatch(/CASE WHEN reason IS NOT NULL THEN CASE WHEN \(contains\(t_amount, '\.'\)/);
    expect(sql.match(/AS ev_amount/g)).toHaveLength(1);
  });

  it('a comma past the sample is the same conflict, with every value counted', async () => {
    const commaRow = SAMPLE_ROWS + 2 + 1;
    const err = await ingestError({ 'tx.csv': csv(SAMPLE_ROWS, ['X1;2024-01-05;1,234', 'X2;2024-01-05;7,5']) });
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain(`tx.csv: column "amount" mixes decimal separators: row 2 has "10.50" (decimal point) and row ${commaRow} has "7,5" (decimal comma)`);
    expect(err.details!.join('\n')).toContain(`${SAMPLE_ROWS.toLocaleString('en-US')} values read only with a decimal point, 1 only with a decimal comma; nothing was loaded.`);
  }, 120_000);

  it('past the sample, a value that reads either way reads with the point and rejects keep their reasons', async () => {
    const run = await ingestFiles({
      'tx.csv': csv(SAMPLE_ROWS, ['X1;2024-01-05;1,234', ';2024-01-05;1.5', 'X3;2024-01-05;abc', 'X4;2024-01-05;(2.5)']),
    });
    const first = SAMPLE_ROWS + 2;
    const rows = await run.query<{ source_row: number; amount: string }>(
      `SELECT source_row, CAST(amount AS VARCHAR) AS amount FROM transactions WHERE source_row >= ${first} ORDER BY source_row`,
    );
    expect(rows).toEqual([
      { source_row: first, amount: '1234.0000' },
      { source_row: first + 3, amount: '-2.5000' },
    ]);
    const rejects = await run.query<{ source_row: number; reason: string; detail: string; raw: string }>('SELECT source_row, reason, detail, raw FROM rejects ORDER BY source_row');
    expect(rejects).toEqual([
      { source_row: first + 1, reason: 'missing_customer_id', detail: 'customer_id: no customer id', raw: ';2024-01-05;1.5' },
      { source_row: first + 2, reason: 'invalid_amount', detail: 'amount: cannot read "abc" as an amount', raw: 'X3;2024-01-05;abc' },
    ]);
    const [load] = await run.query<{ options: string; rows_loaded: number }>('SELECT CAST(options AS VARCHAR) AS options, rows_loaded FROM loads');
    expect(JSON.parse(load.options).decimal_separators).toEqual({ file: { amount: '.' } });
    expect(Number(load.rows_loaded)).toBe(SAMPLE_ROWS + 2);
  }, 120_000);
});
