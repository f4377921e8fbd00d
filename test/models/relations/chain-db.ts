/**
 * An in-memory DuckDB with a `transactions` table of the store's types (only the columns the
 * chain reads) and the merges in effect (`customer_merges`), for testing the run's relations on tiny hand-made data with exact rows.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { readerObjects, type Row } from '../../../src/store/db.js';
import { boundParams, type Relation } from '../../../src/models/relation.js';

/** customer, order id (null: none), date, amount (negative: a return), cost (null: none). */
export type Line = [string, string | null, string, number, number | null];

export interface ChainDb {
  conn: DuckDBConnection;
  /** Replace the transactions with `lines`. */
  load(lines: Line[]): Promise<void>;
  /** Replace the merges in effect with these duplicate → surviving id pairs. */
  merge(pairs: [string, string][]): Promise<void>;
  /** CREATE OR REPLACE TEMP TABLE <relation.name> AS <relation.sql>, parameters bound (as the run does). */
  materialize<P extends string>(relation: Relation<P>, params: Record<P, string | number | null>): Promise<void>;
  /** Rows of a query, as plain values (dates as text, decimals as numbers). */
  rows<T = Row>(sql: string): Promise<T[]>;
  /** Rows of a relation, parameters bound. */
  select<P extends string, T = Row>(relation: Relation<P>, params: Record<P, string | number | null>): Promise<T[]>;
  close(): void;
}

export async function chainDb(): Promise<ChainDb> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(`CREATE TABLE transactions (
    customer_id VARCHAR NOT NULL, order_id VARCHAR, order_date DATE NOT NULL,
    amount DECIMAL(18,4) NOT NULL, cost DECIMAL(18,4), is_return BOOLEAN NOT NULL)`);
  // The merges in effect (store/schema.ts migration 11), as the run reads them: none unless a test merges.
  await conn.run('CREATE TABLE customer_merges (duplicate_id VARCHAR NOT NULL, surviving_id VARCHAR NOT NULL)');
  return {
    conn,
    async load(lines) {
      await conn.run('DELETE FROM transactions');
      for (const [customer, order, date, amount, cost] of lines) {
        await conn.run('INSERT INTO transactions VALUES ($1, $2, CAST($3 AS DATE), $4, $5, $6)', [customer, order, date, amount, cost, amount < 0]);
      }
    },
    async merge(pairs) {
      await conn.run('DELETE FROM customer_merges');
      for (const [duplicate, surviving] of pairs) await conn.run('INSERT INTO customer_merges VALUES ($1, $2)', [duplicate, surviving]);
    },
    async materialize(relation, params) {
      await conn.run(`CREATE OR REPLACE TEMP TABLE ${relation.name} AS ${relation.sql}`, boundParams(relation, params));
    },
    async rows<T = Row>(sql: string) {
      return readerObjects(await conn.runAndReadAll(sql)) as T[];
    },
    async select<P extends string, T = Row>(relation: Relation<P>, params: Record<P, string | number | null>) {
      return readerObjects(await conn.runAndReadAll(relation.sql, boundParams(relation, params))) as T[];
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
