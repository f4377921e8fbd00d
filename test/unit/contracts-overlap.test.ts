/**
 * The overlap rule for contract periods: a new file's period repeats an earlier one when the
 * contract id and period start are equal — whatever its status, end, cancel date or amount say
 * now — counted with multiplicity, as for transaction lines.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONTRACT_OVERLAP, findOverlap, storedOverlapSql, storedRows } from '../../src/ingest/overlap.js';
import { Store } from '../../src/store/db.js';

/** contract, start, end, amount, status. */
type Period = [string, string, string, number, string | null];

let store: Store;
beforeEach(async () => {
  store = await Store.open(':memory:', { create: true });
  await store.run(`CREATE TEMP TABLE stage (contract_id VARCHAR, period_start DATE, period_end DATE, amount DECIMAL(18,4), status VARCHAR, reason VARCHAR)`);
});
afterEach(() => store.close());

async function stored(loadId: number, periods: Period[]): Promise<void> {
  for (const [i, [contract, start, end, amount, status]] of periods.entries()) {
    await store.run(
      `INSERT INTO contracts (load_id, source_file, source_row, customer_id, contract_id, period_start, period_end, amount, status)
       VALUES ($1, 'old.csv', $2, 'C1', $3, CAST($4 AS DATE), CAST($5 AS DATE), $6, $7)`,
      [loadId, i + 2, contract, start, end, amount, status],
    );
  }
}

async function staged(periods: (Period | [...Period, string])[]): Promise<void> {
  for (const [contract, start, end, amount, status, reason] of periods) {
    await store.run(`INSERT INTO stage VALUES ($1, CAST($2 AS DATE), CAST($3 AS DATE), $4, $5, $6)`, [contract, start, end, amount, status, reason ?? null]);
  }
}

const overlap = () =>
  findOverlap(store, { newRows: '(SELECT rowid AS ord, * FROM temp.stage)', earlier: storedRows([], CONTRACT_OVERLAP), table: 'found', key: CONTRACT_OVERLAP });

describe('contract overlap', () => {
  it('counts a period loaded before even when its status, end and amount changed', async () => {
    await stored(1, [
      ['P1', '2024-01-01', '2024-12-31', 100, 'active'],
      ['P2', '2024-03-01', '2025-02-28', 50, 'active'],
    ]);
    await staged([
      ['P1', '2024-01-01', '2024-12-31', 100, 'active'],
      ['P2', '2024-03-01', '2025-02-28', 50, 'cancelled'],
      ['P2', '2025-03-01', '2026-02-28', 55, 'active'],
      ['P3', '2024-01-01', '2024-12-31', 10, null],
    ]);
    const r = await overlap();
    expect(r).toEqual({ valid: 4, rows: 2, bySource: [{ load_id: 1, file: 'old.csv', rows: 2 }] });
    const details = await store.all<{ detail: string }>('SELECT detail FROM temp.found ORDER BY ord');
    expect(details.map((d) => d.detail)).toEqual([
      'the same period (contract id, period start) was loaded before: old.csv row 2 (load 1)',
      'the same period (contract id, period start) was loaded before: old.csv row 3 (load 1)',
    ]);
  });

  it('pairs repeats one to one (multiplicity) and ignores rejected rows', async () => {
    await stored(1, [['P1', '2024-01-01', '2024-12-31', 100, null]]);
    await staged([
      ['P1', '2024-01-01', '2024-12-31', 100, null],
      ['P1', '2024-01-01', '2024-12-31', 100, null],
      ['P1', '2024-01-01', '2024-12-31', -5, null, 'negative_amount'],
    ]);
    expect((await overlap()).rows).toBe(1);
  });

  it('is counted in the store per load by crm quality with the same key', async () => {
    await store.run(
      `INSERT INTO loads (load_id, kind, path, file_name, sha256, bytes, format, mapping, options, rows_read, rows_loaded, rows_rejected, status, started_at, finished_at, timings)
       VALUES (1, 'contracts', '/a', 'a.csv', 'a', 1, 'csv', '{}', '{}', 1, 1, 0, 'loaded', now(), now(), '{}'),
              (2, 'contracts', '/b', 'b.csv', 'b', 1, 'csv', '{}', '{}', 2, 2, 0, 'loaded', now(), now(), '{}')`,
    );
    await stored(1, [['P1', '2024-01-01', '2024-12-31', 100, 'active']]);
    await stored(2, [
      ['P1', '2024-01-01', '2025-01-01', 90, 'cancelled'],
      ['P1', '2025-01-01', '2025-12-31', 100, 'active'],
    ]);
    const rows = await store.all<{ load_id: number; file: string; rows: number; from_earlier_sheets: number }>(storedOverlapSql(CONTRACT_OVERLAP));
    expect(rows.map((r) => ({ ...r, rows: Number(r.rows), from_earlier_sheets: Number(r.from_earlier_sheets) }))).toEqual([{ load_id: 2, file: 'b.csv', rows: 1, from_earlier_sheets: 0 }]);
  });
});
