/**
 * The owners' books (reports/owners.ts, relation `owner_books`) on tiny hand-made tables:
 *
 *   run 1:  K1 key | K2 key, at risk | K3 key | N1 — | N2 at risk
 *   run 2:  K1 key, at risk | K2 key | K4 key (new) | N1 at risk | N2 — ; K3 fell out of the run
 *   owners: Ann — K1, K2, K3, N1 (team East; N1 team West) | Bob — K4, X9 (X9 never scored) | N2 unowned
 *
 * Ann since run 1: new key accounts 0, newly at risk K1 and N1 (2), lost K3 (1). Bob: K4 new (1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerBooks } from '../../src/reports/owners.js';
import { chainDb, type ChainDb } from '../models/relations/chain-db.js';

interface Book {
  owner: string | null;
  team: string | null;
  customers: number;
  key_accounts: number;
  at_risk: number;
  revenue: number;
  clv: number;
  new_key_accounts: number | null;
  new_at_risk: number | null;
  lost: number | null;
  key_account_ids: string[];
  owner_emails: string[];
}

// run, customer, key account, at risk, net revenue, clv
const METRICS: [number, string, boolean, boolean, number, number | null][] = [
  [1, 'K1', true, false, 500, 100],
  [1, 'K2', true, true, 300, 50],
  [1, 'K3', true, false, 200, 40],
  [1, 'N1', false, false, 10, 5],
  [1, 'N2', false, true, 5, 1],
  [2, 'K1', true, true, 550, 110],
  [2, 'K2', true, false, 320, 60],
  [2, 'K4', true, false, 250, null],
  [2, 'N1', false, true, 12, 6],
  [2, 'N2', true, false, 400, 80],
];
const OWNERS: [string, string, string | null, string | null][] = [
  ['K1', 'Ann', 'East', 'ann@sales.example'],
  ['K2', 'Ann', 'East', 'ann@sales.example'],
  ['K3', 'Ann', 'East', 'ann.east@sales.example'],
  ['N1', 'Ann', 'West', null],
  ['K4', 'Bob', null, null],
  ['X9', 'Bob', null, null],
];

let db: ChainDb;
beforeAll(async () => {
  db = await chainDb();
  await db.conn.run('CREATE TABLE customer_metrics (run_id INTEGER, customer_id VARCHAR, is_key_account BOOLEAN, at_risk BOOLEAN, net_revenue DOUBLE, clv DOUBLE)');
  for (const m of METRICS) await db.conn.run('INSERT INTO customer_metrics VALUES ($1, $2, $3, $4, $5, $6)', m);
  await db.conn.run('CREATE TABLE customer_owners (customer_id VARCHAR, account_owner VARCHAR, team VARCHAR, owner_email VARCHAR)');
  for (const o of OWNERS) await db.conn.run('INSERT INTO customer_owners VALUES ($1, $2, $3, $4)', o);
});
afterAll(() => db.close());

const byOwner = (rows: Book[]) => Object.fromEntries(rows.map((r) => [r.owner ?? '(unowned)', r]));

describe('owner books', () => {
  it('counts each book in the latest run and the changes since the previous one', async () => {
    const books = byOwner(await db.select<'run_id' | 'previous_run_id', Book>(ownerBooks, { run_id: 2, previous_run_id: 1 }));
    expect(Object.keys(books).sort()).toEqual(['(unowned)', 'Ann', 'Bob']);
    expect(books.Ann).toEqual({
      owner: 'Ann',
      team: 'East, West',
      customers: 4, // K3 still owned, no longer scored
      key_accounts: 2,
      at_risk: 2,
      revenue: 882,
      clv: 176,
      new_key_accounts: 0,
      new_at_risk: 2, // K1 and N1
      lost: 1, // K3
      key_account_ids: ['K1', 'K2'],
      owner_emails: ['ann.east@sales.example', 'ann@sales.example'], // every address the owner's rows give
    });
    expect(books.Bob).toEqual({
      owner: 'Bob',
      team: null,
      customers: 2, // X9 owned, never scored
      key_accounts: 1,
      at_risk: 0,
      revenue: 250,
      clv: 0, // K4 has no CLV
      new_key_accounts: 1,
      new_at_risk: 0,
      lost: 0,
      key_account_ids: ['K4'],
      owner_emails: [],
    });
    // N2 became a key account and nobody owns it.
    expect(books['(unowned)']).toMatchObject({ customers: 1, key_accounts: 1, key_account_ids: ['N2'], new_key_accounts: 1 });
  });

  it('has no changes for the first run ($previous_run_id NULL), and reads run 1 alone', async () => {
    const books = byOwner(await db.select<'run_id' | 'previous_run_id', Book>(ownerBooks, { run_id: 1, previous_run_id: null }));
    expect(books.Ann).toMatchObject({ key_accounts: 3, at_risk: 1, revenue: 1010, new_key_accounts: null, new_at_risk: null, lost: null, key_account_ids: ['K1', 'K2', 'K3'] });
    expect(books.Bob).toMatchObject({ customers: 2, key_accounts: 0, revenue: 0, key_account_ids: [] });
    expect(books['(unowned)']).toMatchObject({ customers: 1, key_accounts: 0, at_risk: 1, key_account_ids: [] });
  });

  it('lists its parameters and binds them (no value spliced into the text)', async () => {
    const { parametersOf } = await import('../../src/models/relation.js');
    expect(parametersOf(ownerBooks.sql).sort()).toEqual([...ownerBooks.params].sort());
  });
});
