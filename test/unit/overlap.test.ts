/**
 * The overlap rule in SQL: rows of a new file that repeat rows loaded before from other files,
 * on the content key, counted with multiplicity.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { findOverlap, storedOverlapSql, storedRows } from '../../src/ingest/overlap.js';
import { tempDir } from '../helpers/cli.js';

interface Line {
  customer: string;
  order: string | null;
  ts: string;
  product: string | null;
  quantity: number | null;
  amount: number;
}

const A: Line = { customer: 'C1', order: 'O1', ts: '2024-01-05 10:00:00', product: 'P1', quantity: 2, amount: 20 };
const B: Line = { customer: 'C2', order: 'O2', ts: '2024-01-06 11:30:00', product: 'P2', quantity: 1, amount: 9.5 };

const value = (v: string | number | null) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v}'`);
const tuple = (l: Line) =>
  `${value(l.customer)}, ${value(l.order)}, TIMESTAMP '${l.ts}', ${value(l.product)}, ${value(l.quantity)}, ${value(l.amount)}`;

let store: Store;

beforeEach(async () => {
  store = await Store.open(path.join(tempDir('crm-overlap-'), 'crm.duckdb'), { create: true });
  await store.run(
    `CREATE TEMP TABLE stage (customer_id VARCHAR, order_id VARCHAR, order_ts TIMESTAMP, product VARCHAR, quantity DECIMAL(18,4), amount DECIMAL(18,4), reason VARCHAR)`,
  );
});
afterEach(() => store.close());

async function storeLines(loadId: number, file: string, lines: Line[], sheet: string | null = null): Promise<void> {
  for (const [i, l] of lines.entries()) {
    await store.run(
      `INSERT INTO transactions_wide (load_id, source_file, source_sheet, source_row, customer_id, order_id, order_ts, product, quantity, amount, order_date, is_return)
       VALUES (${loadId}, '${file}', ${value(sheet)}, ${i + 2}, ${tuple(l)}, DATE '${l.ts.slice(0, 10)}', false)`,
    );
  }
}

async function stageLines(lines: (Line & { reason?: string })[]): Promise<void> {
  for (const l of lines) await store.run(`INSERT INTO stage VALUES (${tuple(l)}, ${value(l.reason ?? null)})`);
}

const overlap = (exclude: number[] = []) =>
  findOverlap(store, { newRows: '(SELECT rowid AS ord, * FROM temp.stage)', earlier: storedRows(exclude), table: 'found' });

describe('overlap with earlier loads', () => {
  it('counts with multiplicity: a line held twice before and three times now is 2 overlapping and 1 new', async () => {
    await storeLines(1, 'old.csv', [A, A, B]);
    await stageLines([A, A, A]);
    const r = await overlap();
    expect(r).toEqual({ valid: 3, rows: 2, bySource: [{ load_id: 1, file: 'old.csv', rows: 2 }] });
    // The first two occurrences pair with the two earlier rows (rows 2 and 3 of old.csv); the third is new.
    const pairs = await store.all<{ ord: number; earlier_row: number }>('SELECT ord, earlier_row FROM temp.found ORDER BY ord');
    expect(pairs.map((p) => [Number(p.ord), Number(p.earlier_row)])).toEqual([
      [0, 2],
      [1, 3],
    ]);
  });

  it('a line held once before and once now overlaps; more copies before do not make more overlap', async () => {
    await storeLines(1, 'old.csv', [A, A, A]);
    await stageLines([A, B]);
    expect((await overlap()).rows).toBe(1);
  });

  it('any difference in the key is a different line: customer, order, time, product, quantity, amount', async () => {
    await storeLines(1, 'old.csv', [A]);
    await stageLines([
      { ...A, customer: 'C9' },
      { ...A, order: 'O9' },
      { ...A, ts: '2024-01-05 10:00:01' },
      { ...A, product: 'P9' },
      { ...A, quantity: 3 },
      { ...A, amount: 20.01 },
    ]);
    expect((await overlap()).rows).toBe(0);
  });

  it('empty key fields (no order id, product, quantity) compare equal', async () => {
    const bare: Line = { customer: 'C3', order: null, ts: '2024-02-01 00:00:00', product: null, quantity: null, amount: 5 };
    await storeLines(1, 'old.csv', [bare]);
    await stageLines([bare, bare]);
    expect((await overlap()).rows).toBe(1);
  });

  it('rejected new rows are not compared, and the valid rows are the base', async () => {
    await storeLines(1, 'old.csv', [A, B]);
    await stageLines([A, { ...B, reason: 'invalid_amount' }, { ...B, customer: 'C7' }]);
    expect(await overlap()).toMatchObject({ valid: 2, rows: 1 });
  });

  it('rows of loads being replaced do not count', async () => {
    await storeLines(1, 'old.csv', [A]);
    await storeLines(2, 'other.csv', [B]);
    await stageLines([A, B]);
    expect(await overlap([1])).toMatchObject({ rows: 1, bySource: [{ load_id: 2, file: 'other.csv', rows: 1 }] });
  });

  it('names each earlier file with its share of the overlap', async () => {
    await storeLines(1, 'jan.csv', [A]);
    await storeLines(2, 'feb.csv', [A, B]);
    await stageLines([A, A, B]);
    expect((await overlap()).bySource).toEqual([
      { load_id: 1, file: 'jan.csv', rows: 1 },
      { load_id: 2, file: 'feb.csv', rows: 2 },
    ]);
  });
});

describe('overlaps already in the store (crm quality)', () => {
  async function recordLoad(loadId: number, file: string, decision: string | null, sheets: string[] | null = null): Promise<void> {
    const options = decision ? JSON.stringify({ overlap: { decision } }) : '{}';
    const sheetList = sheets ? `[${sheets.map(value).join(', ')}]` : 'NULL';
    await store.run(
      `INSERT INTO loads VALUES (${loadId}, 'transactions', '/x/${file}', '${file}', 'sha${loadId}', 1, 'csv', 'utf-8', ${sheetList}, '{}', '${options}', 0, 0, 0, 'loaded', NULL, now(), now(), '{}')`,
    );
  }

  it('counts min(n, rows before) per key and load, and never within one load', async () => {
    await recordLoad(1, 'old.csv', null);
    await recordLoad(2, 'again.csv', 'appended');
    await storeLines(1, 'old.csv', [A, A, B]);
    await storeLines(2, 'again.csv', [A, A, A, B, { ...B, customer: 'C8' }]);
    const rows = await store.all<{ load_id: number; file: string; rows: number; from_earlier_sheets: number }>(storedOverlapSql());
    expect(rows.map((r) => ({ ...r, rows: Number(r.rows), from_earlier_sheets: Number(r.from_earlier_sheets) }))).toEqual([{ load_id: 2, file: 'again.csv', rows: 3, from_earlier_sheets: 0 }]);
  });

  it('counts a sheet repeating an earlier sheet of the same workbook (in the workbook\'s sheet order), apart from repeats of earlier loads', async () => {
    await recordLoad(1, 'old.csv', null);
    await recordLoad(2, 'book.xlsx', null, ['2023', '2024']);
    await storeLines(1, 'old.csv', [B]);
    // "2024" is stored first but comes second in the workbook: it repeats "2023" (A once, B once after old.csv's B).
    await storeLines(2, 'book.xlsx', [A, A, B], '2024');
    await storeLines(2, 'book.xlsx', [A, B, { ...B, customer: 'C8' }], '2023');
    const rows = await store.all<{ load_id: number; file: string; rows: number; from_earlier_sheets: number }>(storedOverlapSql());
    // A: "2023" once, "2024" twice → 1 repeat of a sheet. B: old.csv once, "2023" once (repeats old.csv), "2024" once (repeats old.csv first).
    expect(rows.map((r) => ({ ...r, rows: Number(r.rows), from_earlier_sheets: Number(r.from_earlier_sheets) }))).toEqual([
      { load_id: 2, file: 'book.xlsx', rows: 3, from_earlier_sheets: 1 },
    ]);
  });

  it('a load made with --skip-overlap added none (its file may hold a line more often than the store did)', async () => {
    await recordLoad(1, 'old.csv', null);
    await recordLoad(2, 'grown.csv', 'skipped');
    await storeLines(1, 'old.csv', [A, A]);
    // grown.csv held A three times: two were skipped, the third is new and loaded.
    await storeLines(2, 'grown.csv', [A]);
    expect(await store.all(storedOverlapSql())).toEqual([]);
  });
});
