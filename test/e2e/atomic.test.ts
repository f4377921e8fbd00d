/**
 * A failed or killed ingest leaves the store as it was: the load runs in one DuckDB
 * transaction, which a killed process never commits.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crm, crmSpawn, sql, tempDir } from '../helpers/cli.js';

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

describe('atomic ingest', () => {
  it('a kill -9 while loading leaves the store exactly as before', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'crm.duckdb');
    fs.writeFileSync(path.join(dir, 'small.csv'), 'customer_id,order_date,amount\nA,2024-01-01,1\nB,2024-01-02,2\n');
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', 'small.csv'], { cwd: dir }).code).toBe(0);
    const before = sql(db, 'SELECT (SELECT count(*) FROM transactions) AS tx, (SELECT count(*) FROM loads) AS loads, (SELECT count(*) FROM rejects) AS rejects');

    writeBigCsv(path.join(dir, 'big.csv'), 1_500_000);
    const child = crmSpawn(['--db', db, 'ingest', 'transactions', 'big.csv'], { cwd: dir });
    let stderr = '';
    const killed = await new Promise<{ sawLoading: boolean; signal: string | null }>((resolve) => {
      let sawLoading = false;
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // "loading big.csv…" is printed as the transaction begins.
        if (!sawLoading && /loading big\.csv/.test(stderr)) {
          sawLoading = true;
          setTimeout(() => child.kill('SIGKILL'), 150);
        }
      });
      child.on('exit', (_code, signal) => resolve({ sawLoading, signal }));
    });
    expect(killed.sawLoading).toBe(true);
    expect(killed.signal).toBe('SIGKILL');
    // The kill landed inside the transaction: the loading step never reported completion.
    expect(stderr).not.toMatch(/loading big\.csv: done|loading big\.csv ✓/);

    // The store opens (DuckDB discards the uncommitted transaction) and holds what it held.
    expect(sql(db, 'SELECT (SELECT count(*) FROM transactions) AS tx, (SELECT count(*) FROM loads) AS loads, (SELECT count(*) FROM rejects) AS rejects')).toEqual(before);

    // And the same file loads cleanly afterwards.
    const again = crm(['--db', db, '-q', 'ingest', 'transactions', 'big.csv', '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).files[0]).toMatchObject({ rows_read: 1_500_000, rows_loaded: 1_500_000 });
  });
});
