/**
 * The customers of an owner's report (`crm report --owner`, reports/report.ts bookCustomersSql)
 * on a tiny table: only the owner's customers with a purchase, ranked and shared within the book
 * (ties share a rank; cumulative shares include the tie), key accounts as the company marked them.
 *
 *   run 1: A 500 (key, Ann) · B 300 (key, Bob) · C 100 (Ann) · D 100 (Ann) · E 0 (Ann) · F contracts only (Ann)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookCustomersSql } from '../../src/reports/report.js';
import { chainDb, type ChainDb } from '../models/relations/chain-db.js';

let db: ChainDb;
beforeAll(async () => {
  db = await chainDb();
  await db.conn.run(`CREATE TABLE customer_metrics (run_id INTEGER, customer_id VARCHAR, first_purchase DATE, net_revenue DOUBLE,
    revenue_rank INTEGER, revenue_share DOUBLE, cumulative_share DOUBLE, is_key_account BOOLEAN)`);
  await db.conn.run(`INSERT INTO customer_metrics VALUES
    (1, 'A', DATE '2024-01-01', 500, 1, 0.5, 0.5, true),
    (1, 'B', DATE '2024-01-01', 300, 2, 0.3, 0.8, true),
    (1, 'C', DATE '2024-01-01', 100, 3, 0.1, 1.0, false),
    (1, 'D', DATE '2024-01-01', 100, 3, 0.1, 1.0, false),
    (1, 'E', DATE '2024-01-01', 0, NULL, 0, NULL, false),
    (1, 'F', NULL, NULL, NULL, 0, NULL, false),
    (2, 'A', DATE '2024-01-01', 999, 1, 1, 1, true)`);
  await db.conn.run(`CREATE TABLE customer_owners AS SELECT * FROM (VALUES ('A', 'Ann'), ('B', 'Bob'), ('C', 'Ann'), ('D', 'Ann'), ('E', 'Ann'), ('F', 'Ann')) t(customer_id, account_owner)`);
});
afterAll(() => db.close());

describe("an owner's report customers", () => {
  it("keeps the owner's customers with a purchase in the run, ranked and shared within the book", async () => {
    const rows = await db.rows<{ customer_id: string; revenue_rank: number | null; revenue_share: number; cumulative_share: number | null; is_key_account: boolean }>(
      `SELECT customer_id, revenue_rank, revenue_share, cumulative_share, is_key_account FROM (${bookCustomersSql(1, 'Ann')}) ORDER BY customer_id`,
    );
    expect(rows).toEqual([
      { customer_id: 'A', revenue_rank: 1, revenue_share: 500 / 700, cumulative_share: 500 / 700, is_key_account: true },
      { customer_id: 'C', revenue_rank: 2, revenue_share: 100 / 700, cumulative_share: 1, is_key_account: false },
      { customer_id: 'D', revenue_rank: 2, revenue_share: 100 / 700, cumulative_share: 1, is_key_account: false },
      { customer_id: 'E', revenue_rank: null, revenue_share: 0, cumulative_share: null, is_key_account: false },
    ]);
  });

  it('quotes the owner as a SQL literal', async () => {
    expect(await db.rows(`SELECT * FROM (${bookCustomersSql(1, "O'Brien') OR (1=1")})`)).toEqual([]);
  });
});
