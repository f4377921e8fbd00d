/**
 * `crm quality`'s contract checks on tiny hand-made tables in an in-memory store: gaps judged
 * with the grace period, overlaps (end = next start is contiguous), duplicate periods, cancel
 * dates outside their period, contract ids shared by customers, periods without a customer, and
 * periods repeating an earlier load.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatQualityReport, qualityOf } from '../../src/ingest/quality.js';
import { Store } from '../../src/store/db.js';

/** contract, customer, start, end, cancel date (optional), load (default 1). */
type Period = [string, string, string, string, string?, number?];

let store: Store;
beforeEach(async () => {
  store = await Store.open(':memory:', { create: true });
});
afterEach(() => store.close());

async function load(periods: Period[]): Promise<void> {
  for (const [i, [contract, customer, start, end, cancel, loadId]] of periods.entries()) {
    await store.run(
      `INSERT INTO contracts (load_id, source_file, source_row, customer_id, contract_id, period_start, period_end, amount, cancel_date)
       VALUES ($1, 'p.csv', $2, $3, $4, CAST($5 AS DATE), CAST($6 AS DATE), 100, CAST($7 AS DATE))`,
      [loadId ?? 1, i + 2, customer, contract, start, end, cancel ?? null],
    );
  }
}

const quality = (graceDays = 30) => qualityOf(store, '2025-12-31', { graceDays });

describe('contract gaps', () => {
  it('a period starting within the grace period renews; one day more is a gap (lapse and reinstatement)', async () => {
    await load([
      // Inclusive ends: 2024-12-31 + 30 days = 2025-01-30.
      ['A', 'C1', '2024-01-01', '2024-12-31'],
      ['A', 'C1', '2025-01-30', '2026-01-29'],
      ['B', 'C2', '2024-01-01', '2024-12-31'],
      ['B', 'C2', '2025-01-31', '2026-01-30'],
      // Exclusive ends (end = next start) are contiguous.
      ['C', 'C3', '2023-04-01', '2024-04-01'],
      ['C', 'C3', '2024-04-01', '2025-04-01'],
      ['C', 'C3', '2025-04-01', '2026-04-01'],
    ]);
    const r = await quality();
    expect(r.contracts.grace_days).toBe(30);
    expect(r.contracts.gaps).toEqual({ count: 1, contracts: 1, examples: ['B'] });
    expect(r.contracts.overlaps).toEqual({ count: 0, contracts: 0, examples: [] });
    // A longer grace period makes it a renewal.
    expect((await quality(31)).contracts.gaps.count).toBe(0);
    expect((await quality(0)).contracts.gaps).toEqual({ count: 2, contracts: 2, examples: ['A', 'B'] });
  });

  it('orders periods by their start, whatever the file order', async () => {
    await load([
      ['A', 'C1', '2026-01-01', '2026-12-31'],
      ['A', 'C1', '2024-01-01', '2024-12-31'],
      ['A', 'C1', '2025-01-01', '2025-12-31'],
    ]);
    const r = await quality();
    expect(r.contracts.gaps.count).toBe(0);
    expect(r.contracts.overlaps.count).toBe(0);
  });
});

describe('contract overlaps', () => {
  it('counts a period starting before the cover ended, including one after a nested period; end = next start is not one', async () => {
    await load([
      ['A', 'C1', '2024-01-01', '2024-12-31'],
      ['A', 'C1', '2024-12-01', '2025-11-30'],
      // Nested in the first; the next period still overlaps the first.
      ['N', 'C2', '2024-01-01', '2024-12-31'],
      ['N', 'C2', '2024-03-01', '2024-04-30'],
      ['N', 'C2', '2024-06-01', '2025-05-31'],
      ['E', 'C3', '2024-01-01', '2025-01-01'],
      ['E', 'C3', '2025-01-01', '2026-01-01'],
    ]);
    const r = await quality();
    expect(r.contracts.overlaps).toEqual({ count: 3, contracts: 2, examples: ['A', 'N'] });
    expect(r.contracts.gaps.count).toBe(0);
    const finding = r.findings.find((f) => f.check === 'contract_overlaps');
    expect(finding).toMatchObject({ severity: 'warning', count: 3, message: '2 contracts have a period starting before the previous one ended (3 times in all)' });
  });
});

describe('other contract checks', () => {
  it('duplicate periods: the same contract and start twice (not also an overlap)', async () => {
    await load([
      ['A', 'C1', '2024-01-01', '2024-12-31'],
      ['A', 'C1', '2024-01-01', '2024-12-31', undefined, 2],
      ['A', 'C1', '2024-01-01', '2024-12-31', undefined, 3],
      ['B', 'C2', '2024-01-01', '2024-12-31'],
    ]);
    const r = await quality();
    expect(r.contracts.duplicate_periods).toEqual({ groups: 1, extra: 2, examples: ['A 2024-01-01'] });
    expect(r.contracts.overlaps.count).toBe(0);
  });

  it('cancel dates outside the period, contract ids under two customers', async () => {
    await load([
      ['A', 'C1', '2024-01-01', '2024-12-31', '2024-06-30'],
      ['B', 'C2', '2024-01-01', '2024-12-31', '2025-02-01'],
      ['C', 'C3', '2024-01-01', '2025-01-01', '2025-01-01'],
      ['D', 'C4', '2024-01-01', '2024-12-31'],
      ['D', 'C5', '2025-01-01', '2025-12-31'],
    ]);
    const r = await quality();
    expect(r.contracts.cancel_outside_period).toEqual({ count: 1, contracts: 1, examples: ['B'] });
    expect(r.contracts.shared_contract_ids).toEqual({ count: 1, examples: ['D'] });
    expect(r.contracts.contracts).toBe(4);
    expect(r.tables.contracts).toBe(5);
    expect(r.findings.map((f) => f.check)).toEqual(['cancel_date_outside_period', 'contracts_with_several_customers']);
  });

  it('periods whose customer is not in customers, once customers are loaded', async () => {
    await load([
      ['A', 'C1', '2024-01-01', '2024-12-31'],
      ['B', 'C9', '2024-01-01', '2024-12-31'],
    ]);
    expect((await quality()).contracts.without_customer).toEqual({ periods: 0, customers: 0, examples: [] });
    await store.run(`INSERT INTO customers (customer_id, load_id, source_file, source_row) VALUES ('C1', 9, 'c.csv', 2)`);
    const r = await quality();
    expect(r.contracts.without_customer).toEqual({ periods: 1, customers: 1, examples: ['C9'] });
    expect(r.findings.find((f) => f.check === 'contracts_without_customer')?.message).toBe('1 contract period (1 customer id) has no row in customers');
  });

  it('customers_without_transactions counts customers with neither transactions nor contracts once contracts are loaded', async () => {
    // C1 holds a policy, C2 buys, C3 does neither, C4 does both.
    for (const [i, id] of ['C1', 'C2', 'C3', 'C4'].entries()) {
      await store.run(`INSERT INTO customers (customer_id, load_id, source_file, source_row) VALUES ($1, 9, 'c.csv', $2)`, [id, i + 2]);
    }
    const idle = async () => {
      const r = await quality();
      return [r.orphans.customers_without_transactions, r.findings.find((f) => f.check === 'customers_without_transactions')?.message];
    };
    // Contracts only (a pure insurer): C1 and C4 have activity.
    await load([
      ['A', 'C1', '2024-01-01', '2024-12-31'],
      ['B', 'C4', '2024-01-01', '2024-12-31'],
    ]);
    expect(await idle()).toEqual([{ count: 2, examples: ['C2', 'C3'] }, '2 customers have neither transactions nor contracts']);
    for (const [i, id] of ['C2', 'C4'].entries()) {
      await store.run(
        `INSERT INTO transactions_narrow (load_id, source_file, source_row, customer_id, order_id, amount, order_date, is_return)
         VALUES (8, 't.csv', $1, $2, 'O' || $1, 10, DATE '2024-05-01', false)`,
        [i + 2, id],
      );
    }
    // Both: only C3 has neither.
    expect(await idle()).toEqual([{ count: 1, examples: ['C3'] }, '1 customer has neither transactions nor contracts']);
    // Without contracts, the policyholder C1 is a customer without transactions again, as before.
    await store.run('DELETE FROM contracts');
    expect(await idle()).toEqual([{ count: 2, examples: ['C1', 'C3'] }, '2 customers have no transactions']);
  });

  it('periods repeating a period of an earlier load (forced in with --append), on (contract_id, period_start)', async () => {
    await store.run(
      `INSERT INTO loads (load_id, kind, path, file_name, sha256, bytes, format, mapping, options, rows_read, rows_loaded, rows_rejected, status, started_at, finished_at, timings)
       VALUES (1, 'contracts', '/p.csv', 'p.csv', 'a', 1, 'csv', '{}', '{}', 2, 2, 0, 'loaded', now(), now(), '{}'),
              (2, 'contracts', '/q.csv', 'q.csv', 'b', 1, 'csv', '{}', '{}', 2, 2, 0, 'loaded', now(), now(), '{}')`,
    );
    await load([
      ['A', 'C1', '2024-01-01', '2024-12-31', undefined, 1],
      ['B', 'C2', '2024-01-01', '2024-12-31', undefined, 1],
      // The re-export: A again (its status or end may have changed: still the same period), and a new period.
      ['A', 'C1', '2024-01-01', '2025-01-01', undefined, 2],
      ['A', 'C1', '2025-01-01', '2025-12-31', undefined, 2],
    ]);
    const r = await quality();
    expect(r.contracts.overlapping_loads).toEqual({ rows: 1, loads: [{ load_id: 2, file: 'q.csv', rows: 1, from_earlier_sheets: 0 }] });
    expect(r.overlaps.rows).toBe(0);
    expect(r.findings.find((f) => f.check === 'overlapping_contract_loads')?.message).toBe('1 contract period repeats a period of an earlier load or sheet and counts twice (load 2 q.csv)');
  });
});

describe('the text report', () => {
  it('names the contract periods in the store line and lists each check with examples', async () => {
    await load([
      ['A', 'C1', '2024-01-01', '2024-12-31'],
      ['A', 'C1', '2025-06-01', '2026-05-31'],
    ]);
    const lines = formatQualityReport(await quality());
    expect(lines[0]).toBe('Store: 0 transactions, 0 customers, 2 contract periods (1 contracts), 0 rejected rows, 0 loaded files');
    const at = lines.indexOf('Contract periods, per contract in order of start (grace 30 days):');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1).join('\n')).toMatch(/gaps \(> 30 days\)\s+1\s+A\n/);
  });

  it('leaves a store without contracts as it was reported before', async () => {
    const lines = formatQualityReport(await quality());
    expect(lines[0]).toBe('Store: 0 transactions, 0 customers, 0 rejected rows, 0 loaded files');
    expect(lines.some((l) => l.startsWith('Contract periods'))).toBe(false);
  });
});
