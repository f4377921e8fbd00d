/**
 * Copy a crm store's transactions into a ClickHouse table with the store's column names
 * (scripts/clickhouse-cluster.sh): `node dist/scripts/clickhouse-load.js STORE URL DATABASE.TABLE`.
 * DuckDB writes the lines as CSV and the file streams to the server in one INSERT (no row passes
 * through JS). Through a Distributed table the insert is synchronous (insert_distributed_sync), so
 * the rows are on their shards when this returns.
 */
import { ClickHouseClient, copyFromDuckDb } from '../src/store/clickhouse.js';
import { Store } from '../src/store/db.js';

export const SOURCE_COLUMNS = ['customer_id', 'order_id', 'order_date', 'amount', 'is_return', 'cost'] as const;

async function main(): Promise<void> {
  const [storePath, url, table] = process.argv.slice(2);
  if (!storePath || !url || !table) {
    process.stderr.write('usage: node dist/scripts/clickhouse-load.js STORE http://HOST:PORT DATABASE.TABLE\n');
    process.exit(2);
  }
  const store = await Store.open(storePath, { readOnly: true });
  try {
    const client = new ClickHouseClient({ url, settings: { insert_distributed_sync: 1 } });
    await copyFromDuckDb(
      store,
      'SELECT customer_id, order_id, order_date, amount, CAST(is_return AS INTEGER), cost FROM transactions',
      client,
      table,
      SOURCE_COLUMNS,
    );
  } finally {
    store.close();
  }
}

await main();
