/**
 * A failed or killed ingest leaves the store as it was: the load runs in one DuckDB
 * transaction, which a killed process never commits (transactions and contracts alike).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { crm, crmSpawn, sql, tempDir } from '../helpers/cli.js';

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
