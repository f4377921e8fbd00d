/**
 * Hold a store's write lock until stdin closes: `node test/helpers/hold-store.mjs FILE`.
 * Prints "holding" once DuckDB has the file open for writing (what the lock tests wait for).
 */
import { DuckDBInstance } from '@duckdb/node-api';

const instance = await DuckDBInstance.create(process.argv[2]);
const conn = await instance.connect();
await conn.run('SELECT 1');
process.stdout.write('holding\n');
process.stdin.resume();
process.stdin.on('end', () => {
  conn.closeSync();
  instance.closeSync();
  process.exit(0);
});
