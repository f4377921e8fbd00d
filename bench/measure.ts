/**
 * Run one benchmark phase in this process and report its wall time and peak memory (the
 * process's own maximum resident set size) as JSON on stdout's last line. Every phase, crm's and
 * DuckDB's alike, is timed the same way: from the phase's start to its end, closing the database
 * (DuckDB's checkpoint, writing the tables) included.
 *
 *   node dist/bench/measure.js cli -- ARGS…          the crm CLI, exactly as users run it
 *   node dist/bench/measure.js duckdb-read FILE DB   DuckDB alone reading the CSV into a table
 *   node dist/bench/measure.js duckdb-summary DB     DuckDB alone summarising the ingested store
 *   node dist/bench/measure.js duckdb-contract-summary DB   the same for the contracts
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInDuckDb } from './duckdb.js';
import { PACKAGE_ROOT } from '../src/version.js';

/** DuckDB's typed read: its own type detection, into a table (the floor for `crm ingest`). */
export const DUCKDB_READ_SQL = (file: string) => `CREATE TABLE raw AS SELECT * FROM read_csv('${file.replace(/'/g, "''")}')`;

/**
 * The floor for `crm run`: per customer, the distinct purchase days, the first and last date and
 * the net sum — the least any customer model reads — written to a table.
 */
export const BARE_SUMMARY_SQL =
  'CREATE TABLE s AS SELECT customer_id, count(DISTINCT order_date), min(order_date), max(order_date), sum(amount) FROM transactions GROUP BY customer_id';

/**
 * The floor for `crm run`'s contract part: per contract, its periods, first start, last end and
 * premium sum — the least renewal detection reads — written to a table.
 */
export const CONTRACT_SUMMARY_SQL =
  'CREATE TABLE s AS SELECT contract_id, count(*), min(period_start), max(period_end), sum(amount) FROM contracts GROUP BY contract_id';

/** The crm CLI's entry point, from package.json's `bin` (wherever the build puts it). */
export function cliEntry(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return path.join(PACKAGE_ROOT, pkg.bin.crm);
}


async function main(): Promise<void> {
  const [phase, ...rest] = process.argv.slice(2);
  const started = performance.now();
  const report = () => {
    const stats = { phase, ms: Math.round(performance.now() - started), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), exitCode: process.exitCode ?? 0 };
    process.stdout.write('\n' + JSON.stringify(stats) + '\n');
  };
  if (phase === 'duckdb-read') {
    await runInDuckDb(rest[1], DUCKDB_READ_SQL(rest[0]));
    report();
  } else if (phase === 'duckdb-summary') {
    await runInDuckDb(rest[0], BARE_SUMMARY_SQL);
    report();
    // Leave the store as crm wrote it, untimed.
    await runInDuckDb(rest[0], 'DROP TABLE s');
  } else if (phase === 'duckdb-contract-summary') {
    await runInDuckDb(rest[0], CONTRACT_SUMMARY_SQL);
    report();
    await runInDuckDb(rest[0], 'DROP TABLE s');
  } else if (phase === 'cli') {
    const args = rest[0] === '--' ? rest.slice(1) : rest;
    process.argv = [process.argv[0], 'crm', ...args];
    process.on('exit', report);
    await import(pathToFileURL(cliEntry()).href);
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('bench', 'measure.js'));
if (invokedDirectly) void main();
