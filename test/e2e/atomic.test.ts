/**
 * A failed or killed ingest leaves the store as it was: the load runs in one DuckDB
 * transaction, which a killed process never commits (transactions and contracts alike).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CLI, crm, crmSpawn, sql, tempDir } from '../helpers/cli.js';

/** Enough rows that loading writes several row groups (122,880 rows each) before COMMIT. */
const BIG_ROWS = 1_000_000;

function writeBigCsv(file: string, rows: number): void {
  const out = fs.openSync(file, 'w');
  fs.writeSync(out, 'order_id,customer_id,order_date,amount\n');
  const chunk: string[] = [];
  for (let i = 0; i < rows; i++) {
    chunk.push(`${i},C${i % 50_000},2024-0${1 + (i % 9)}-1${i % 10},${(i % 997) + 0.5}`);
    if (chunk.length === 100_000) {
      fs.writeSync(out, chunk.join('\n') + '\n');
      chunk.length = 0;
    }
  }
  if (chunk.length) fs.writeSync(out, chunk.join('\n') + '\n');
  fs.closeSync(out);
}

/** Kill the process the moment the store file grows: the transaction's rows are reaching disk. */
function killWhenStoreGrows(child: ChildProcessWithoutNullStreams, db: string, onStderr: (text: string) => void) {
  return new Promise<{ sawLoading: boolean; grewTo: number | null; walAtKill: boolean; signal: string | null }>((resolve) => {
    let stderr = '';
    let sawLoading = false;
    let grewTo: number | null = null;
    let walAtKill = false;
    let poll: NodeJS.Timeout | undefined;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr(stderr);
      // "loading big.csv…" is printed as the transaction begins; until then nothing is written.
      if (!sawLoading && /loading big\.csv/.test(stderr)) {
        sawLoading = true;
        const before = fs.statSync(db).size;
        poll = setInterval(() => {
          const size = fs.statSync(db).size;
          if (size <= before) return;
          // DuckDB writes a large insert's row groups into the file before COMMIT; the WAL
          // appears only when committing. Growth without a WAL: inside the transaction.
          clearInterval(poll);
          grewTo = size;
          walAtKill = fs.existsSync(`${db}.wal`);
          child.kill('SIGKILL');
        }, 5);
      }
    });
    child.on('exit', (_code, signal) => {
      clearInterval(poll);
      resolve({ sawLoading, grewTo, walAtKill, signal });
    });
  });
}

describe('atomic ingest', () => {
  // No fixed sleeps: the kill waits for the load's own writes to show in the store file, so a
  // busy machine only makes it slower, never wrong; hence the generous time limit.
  it('a kill -9 while loading leaves the store exactly as before', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'crm.duckdb');
    fs.writeFileSync(path.join(dir, 'small.csv'), 'customer_id,order_date,amount\nA,2024-01-01,1\nB,2024-01-02,2\n');
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', 'small.csv'], { cwd: dir }).code).toBe(0);
    const before = sql(db, 'SELECT (SELECT count(*) FROM transactions) AS tx, (SELECT count(*) FROM loads) AS loads, (SELECT count(*) FROM rejects) AS rejects');

    writeBigCsv(path.join(dir, 'big.csv'), BIG_ROWS);
    const child = crmSpawn(['--db', db, 'ingest', 'transactions', 'big.csv'], { cwd: dir });
    let stderr = '';
    const killed = await killWhenStoreGrows(child, db, (text) => (stderr = text));
    expect(killed.sawLoading, stderr).toBe(true);
    expect(killed.grewTo, `the store never grew while loading: ${stderr}`).not.toBeNull();
    expect(killed.walAtKill, 'killed while committing, not inside the transaction').toBe(false);
    expect(killed.signal).toBe('SIGKILL');
    // The kill landed inside the transaction: the loading step never reported completion.
    expect(stderr).not.toMatch(/loading big\.csv: done|loading big\.csv ✓/);

    // The store opens (DuckDB discards the uncommitted transaction) and holds what it held.
    expect(sql(db, 'SELECT (SELECT count(*) FROM transactions) AS tx, (SELECT count(*) FROM loads) AS loads, (SELECT count(*) FROM rejects) AS rejects')).toEqual(before);

    // And the same file loads cleanly afterwards.
    const again = crm(['--db', db, '-q', 'ingest', 'transactions', 'big.csv', '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).files[0]).toMatchObject({ rows_read: BIG_ROWS, rows_loaded: BIG_ROWS });
  }, 600_000);

  it('a kill -9 while loading contracts leaves the store exactly as before', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'crm.duckdb');
    fs.writeFileSync(path.join(dir, 'small.csv'), 'policy_no,customer_id,start_date,end_date,premium\nP1,A,2024-01-01,2024-12-31,100\n');
    expect(crm(['--db', db, '-q', 'ingest', 'contracts', 'small.csv'], { cwd: dir }).code).toBe(0);
    const counts = 'SELECT (SELECT count(*) FROM contracts) AS contracts, (SELECT count(*) FROM loads) AS loads, (SELECT count(*) FROM rejects) AS rejects';
    const before = sql(db, counts);

    writeBigContractsCsv(path.join(dir, 'big.csv'), BIG_ROWS);
    const child = crmSpawn(['--db', db, 'ingest', 'contracts', 'big.csv'], { cwd: dir });
    let stderr = '';
    const killed = await killWhenStoreGrows(child, db, (text) => (stderr = text));
    expect(killed.sawLoading, stderr).toBe(true);
    expect(killed.grewTo, `the store never grew while loading: ${stderr}`).not.toBeNull();
    expect(killed.walAtKill, 'killed while committing, not inside the transaction').toBe(false);
    expect(killed.signal).toBe('SIGKILL');
    expect(stderr).not.toMatch(/loading big\.csv: done|loading big\.csv ✓/);
    expect(sql(db, counts)).toEqual(before);
  }, 600_000);
});

/** One period per row: contract K{i}, a year from a day in 2024. */
function writeBigContractsCsv(file: string, rows: number): void {
  const out = fs.openSync(file, 'w');
  fs.writeSync(out, 'policy_no,customer_id,start_date,end_date,premium\n');
  const chunk: string[] = [];
  for (let i = 0; i < rows; i++) {
    const month = String(1 + (i % 12)).padStart(2, '0');
    chunk.push(`K${i},C${i % 50_000},2024-${month}-01,2025-${month}-01,${(i % 997) + 0.5}`);
    if (chunk.length === 100_000) {
      fs.writeSync(out, chunk.join('\n') + '\n');
      chunk.length = 0;
    }
  }
  if (chunk.length) fs.writeSync(out, chunk.join('\n') + '\n');
  fs.closeSync(out);
}

/**
 * A run killed while its COMMIT is being written. The statement before COMMIT is the runs row
 * (CRM_DEBUG_SQL prints each statement once it is done); from then on the first write to the
 * store's files (a WAL appearing, or the store file changing) is the commit itself, and the
 * process is killed at once. DuckDB 1.5.6 replayed such a cut WAL in part: the run's
 * metrics_customers rows came back without its runs row. Commits now go by checkpoint
 * (store/db.ts COMMIT_BY_CHECKPOINT), which is all or nothing.
 */
const WAL_CUT_BYTES = 64 * 1024;
const STORE_WRITING_MS = 5;

function killWhenCommitWrites(child: ChildProcessWithoutNullStreams, db: string, signal: NodeJS.Signals) {
  return new Promise<{ sawRunsRow: boolean; wroteAtKill: string | null; signal: string | null; code: number | null }>((resolve) => {
    let stderr = '';
    let sawRunsRow = false;
    let wroteAtKill: string | null = null;
    let poll: NodeJS.Timeout | undefined;
    const stamp = () => {
      const s = fs.statSync(db);
      return `${s.size}:${s.mtimeMs}`;
    };
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sawRunsRow && /\] INSERT INTO runs /.test(stderr)) {
        sawRunsRow = true;
        const before = stamp();
        let storeChangedAt: number | null = null;
        poll = setInterval(() => {
          // Committing first writes the store file (the rows DuckDB had put aside), then the WAL;
          // a commit by checkpoint writes the store file only. Killed once 64 KB of WAL are in,
          // the cut WAL holds some of the run's rows; with no WAL, killed 5 ms into the writing.
          // (With the old WAL commit the 5 ms usually end before the WAL starts: the test below,
          // that a run's commit writes no WAL, is the one that fails there every time.)
          const wal = fs.existsSync(`${db}.wal`) ? fs.statSync(`${db}.wal`).size : 0;
          if (storeChangedAt === null && stamp() !== before) storeChangedAt = performance.now();
          const walCut = wal >= WAL_CUT_BYTES;
          if (!walCut && (storeChangedAt === null || performance.now() - storeChangedAt < STORE_WRITING_MS)) return;
          clearInterval(poll);
          wroteAtKill = `${walCut ? `wal of ${wal} bytes` : 'store file'} ${storeChangedAt === null ? '' : (performance.now() - storeChangedAt).toFixed(0)} ms after the store changed`;
          child.kill(signal);
        }, 1);
      }
    });
    child.on('exit', (code, sig) => {
      clearInterval(poll);
      resolve({ sawRunsRow, wroteAtKill, signal: sig, code });
    });
  });
}

describe('atomic run', () => {
  const counts = `SELECT (SELECT count(*) FROM runs) AS runs,
    (SELECT count(*) FROM metrics_customers) AS metrics_customers,
    (SELECT count(DISTINCT run_id) FROM metrics_customers WHERE run_id NOT IN (SELECT run_id FROM runs)) AS orphan_runs,
    (SELECT count(*) FROM contract_metrics) AS contract_metrics,
    (SELECT count(*) FROM cohort_retention) AS cohort_retention`;
  // More customers than a row group (122,880): with fewer, DuckDB replayed none of a cut WAL.
  let stored = '';
  beforeAll(() => {
    const dir = tempDir();
    expect(crm(['generate', '--customers', '150000', '--contracts', '5000', '--out', dir, '-q'], { cwd: dir }).code).toBe(0);
    stored = path.join(dir, 'crm.duckdb');
    for (const kind of ['transactions', 'contracts']) expect(crm(['--db', stored, '-q', 'ingest', kind, `${kind}.csv`], { cwd: dir }).code).toBe(0);
    expect(crm(['--db', stored, '-q', 'run'], { cwd: dir }).code).toBe(0);
  }, 600_000);

  it('a run commits without a WAL (a cut WAL is what DuckDB replayed in part)', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'crm.duckdb');
    fs.copyFileSync(stored, db);
    const child = crmSpawn(['--db', db, 'run'], { cwd: dir });
    let walSeen = false;
    const poll = setInterval(() => (walSeen ||= fs.existsSync(`${db}.wal`)), 1);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearInterval(poll);
    expect(code).toBe(0);
    expect(walSeen, 'the run wrote a WAL').toBe(false);
    expect(sql(db, 'SELECT count(*) AS runs FROM runs')).toEqual([{ runs: 2 }]);
  }, 600_000);

  // Each kill on a copy of one store that holds a first run.
  it.each(['SIGKILL', 'SIGTERM', 'SIGINT'] as const)('a %s while the run commits leaves the store exactly as before', async (signal) => {
    const dir = tempDir();
    const db = path.join(dir, 'crm.duckdb');
    fs.copyFileSync(stored, db);
    const before = sql(db, counts);
    expect(before[0]).toMatchObject({ runs: 1, orphan_runs: 0 });

    const child = spawn(process.execPath, [CLI, '--db', db, 'run'], { cwd: dir, env: { ...process.env, CRM_DB: '', CRM_DEBUG_SQL: '1' } });
    const killed = await killWhenCommitWrites(child, db, signal);
    expect(killed.sawRunsRow).toBe(true);
    expect(killed.wroteAtKill, 'the commit never wrote').not.toBeNull();
    expect(killed.signal, `the run finished (exit ${killed.code}) before the kill`).toBe(signal);

    // The store opens and holds what it held: no customer rows of a run that has no runs row.
    expect(sql(db, counts)).toEqual(before);
    // And a run afterwards is run 2.
    const again = crm(['--db', db, '-q', 'run', '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).run_id).toBe(2);
  }, 600_000);
});
