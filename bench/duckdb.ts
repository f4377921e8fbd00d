/** One SQL statement in its own DuckDB instance, closed afterwards (the bench's yardsticks and data writers). */
import { DuckDBInstance } from '@duckdb/node-api';

export async function runInDuckDb(db: string, sql: string, config?: Record<string, string>): Promise<void> {
  const instance = await DuckDBInstance.create(db, config);
  const conn = await instance.connect();
  try {
    await conn.run(sql);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
