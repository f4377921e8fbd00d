/**
 * Run one benchmark phase in this process and report its wall time and peak memory (the
 * process's own maximum resident set size) as JSON on stdout's last line.
 *
 *   node dist/bench/measure.js cli -- ARGS…   the crm CLI, exactly as users run it
 *   node dist/bench/measure.js duckdb-read FILE DB   DuckDB alone reading the CSV into a table
 *   node dist/bench/measure.js duckdb-read-text FILE DB   the same with every column as text
 */
import { DuckDBInstance } from '@duckdb/node-api';

async function duckdbRead(file: string, db: string, asText: boolean): Promise<void> {
  const instance = await DuckDBInstance.create(db);
  const conn = await instance.connect();
  await conn.run(`CREATE TABLE raw AS SELECT * FROM read_csv('${file.replace(/'/g, "''")}'${asText ? ', all_varchar = true' : ''})`);
  conn.closeSync();
  instance.closeSync();
}

async function main(): Promise<void> {
  const [phase, ...rest] = process.argv.slice(2);
  const started = performance.now();
  const report = () => {
    const stats = { phase, ms: Math.round(performance.now() - started), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), exitCode: process.exitCode ?? 0 };
    process.stdout.write('\n' + JSON.stringify(stats) + '\n');
  };
  if (phase === 'duckdb-read' || phase === 'duckdb-read-text') {
    await duckdbRead(rest[0], rest[1], phase === 'duckdb-read-text');
    report();
  } else if (phase === 'cli') {
    const args = rest[0] === '--' ? rest.slice(1) : rest;
    process.argv = [process.argv[0], 'crm', ...args];
    process.on('exit', report);
    await import('../cli.js');
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
}

void main();
