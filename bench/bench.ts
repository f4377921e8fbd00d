/**
 * `npm run bench`: the performance targets, measured on this machine.
 *
 * Ingest (issue #2): generate 2.5M customers (~10M transaction lines), time DuckDB itself
 * reading transactions.csv into a table, then `crm ingest` of the same file into a fresh
 * store. Target: ingest ≤ 3× DuckDB's own time, peak memory < 2 GB.
 *
 * Each phase runs in its own process, so each peak-memory figure is that phase's alone.
 * Options: --customers N (default 2,500,000), --seed S, --fresh (regenerate the data).
 * Results go to stdout and bench/results/latest.json.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/version.js';
import { generate } from '../src/generate/index.js';
import { formatBytes, formatCount } from '../src/util/format.js';

const DEFAULTS = { customers: 2_500_000, seed: 42 };
const TARGETS = { ingestRatio: 3, ingestMaxRssMB: 2048 };

interface PhaseResult {
  phase: string;
  ms: number;
  maxRssMB: number;
  exitCode: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function runPhase(args: string[], label: string): PhaseResult {
  process.stderr.write(`bench: ${label}…\n`);
  const r = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, 'dist/bench/measure.js'), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, CRM_DB: '' },
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let stats: PhaseResult;
  try {
    stats = JSON.parse(last) as PhaseResult;
  } catch {
    throw new Error(`bench phase ${label} failed (exit ${r.status}):\n${r.stderr}\n${r.stdout}`);
  }
  if (stats.exitCode !== 0 || r.status !== 0) throw new Error(`bench phase ${label} failed:\n${r.stderr}`);
  return stats;
}

async function main(): Promise<void> {
  const customers = Number(arg('customers') ?? DEFAULTS.customers);
  const seed = Number(arg('seed') ?? DEFAULTS.seed);
  const dataDir = path.join(PACKAGE_ROOT, 'bench/data', `customers-${customers}-seed-${seed}`);
  const workDir = path.join(PACKAGE_ROOT, 'bench/data/work');
  fs.mkdirSync(workDir, { recursive: true });
  const txFile = path.join(dataDir, 'transactions.csv');
  if (process.argv.includes('--fresh') || !fs.existsSync(path.join(dataDir, 'done'))) {
    process.stderr.write(`bench: generating ${formatCount(customers)} customers (seed ${seed})…\n`);
    fs.rmSync(dataDir, { recursive: true, force: true });
    const t0 = performance.now();
    await generate({ customers, seed, outDir: dataDir });
    fs.writeFileSync(path.join(dataDir, 'done'), `${Math.round(performance.now() - t0)} ms\n`);
  }
  const csvBytes = fs.statSync(txFile).size;

  const fresh = (name: string) => {
    const db = path.join(workDir, name);
    for (const f of [db, `${db}.wal`]) fs.rmSync(f, { force: true });
    return db;
  };
  const baseline = runPhase(['duckdb-read', txFile, fresh('duckdb-read.duckdb')], 'DuckDB reads transactions.csv into a table');
  // For context: the same read with no type detection (every column text). DuckDB's typed read
  // re-reads when dirty values defeat its sampled types, so this is the faster reference.
  const textRead = runPhase(['duckdb-read-text', txFile, fresh('duckdb-read-text.duckdb')], 'DuckDB reads it as text');
  const ingestDb = fresh('crm.duckdb');
  const ingest = runPhase(['cli', '--', '--db', ingestDb, '-q', 'ingest', 'transactions', txFile], 'crm ingest transactions.csv');
  const customersIngest = runPhase(['cli', '--', '--db', ingestDb, '-q', 'ingest', 'customers', path.join(dataDir, 'customers.csv')], 'crm ingest customers.csv');

  const ratio = ingest.ms / baseline.ms;
  const results = {
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    data: { customers, seed, transactionsCsvBytes: csvBytes },
    ingest: {
      duckdbReadMs: baseline.ms,
      duckdbReadTextMs: textRead.ms,
      ratioToTextRead: Number((ingest.ms / textRead.ms).toFixed(2)),
      crmIngestMs: ingest.ms,
      ratio: Number(ratio.toFixed(2)),
      peakRssMB: ingest.maxRssMB,
      customersIngestMs: customersIngest.ms,
      targets: TARGETS,
      met: ratio <= TARGETS.ingestRatio && ingest.maxRssMB < TARGETS.ingestMaxRssMB,
    },
  };
  fs.mkdirSync(path.join(PACKAGE_ROOT, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(PACKAGE_ROOT, 'bench/results/latest.json'), JSON.stringify(results, null, 2) + '\n');
  const summary = [
    `data: ${formatCount(customers)} customers, transactions.csv ${formatBytes(csvBytes)}`,
    `DuckDB read_csv into a table: ${(baseline.ms / 1000).toFixed(1)} s (peak ${baseline.maxRssMB} MB)`,
    `  the same, all columns text: ${(textRead.ms / 1000).toFixed(1)} s (peak ${textRead.maxRssMB} MB; crm ingest is ${(ingest.ms / textRead.ms).toFixed(2)}× this)`,
    `crm ingest transactions:      ${(ingest.ms / 1000).toFixed(1)} s (peak ${ingest.maxRssMB} MB)  → ratio ${ratio.toFixed(2)} (target ≤ ${TARGETS.ingestRatio}), peak memory target < ${TARGETS.ingestMaxRssMB} MB: ${results.ingest.met ? 'MET' : 'NOT MET'}`,
    `crm ingest customers:         ${(customersIngest.ms / 1000).toFixed(1)} s (peak ${customersIngest.maxRssMB} MB)`,
  ];
  process.stdout.write(summary.join('\n') + '\n');
  if (!results.ingest.met) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
