/**
 * Naming what holds a locked store: DuckDB's message gives the PID, /proc/PID/cmdline the
 * command; and retrying while locked stops at the deadline or at any other error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeCommandLine, describeHolder, lockHolderPid, retryWhileLocked } from '../../src/store/lock.js';
import { tempDir } from '../helpers/cli.js';

const DUCKDB_LOCK_ERROR =
  'IO Error: Could not set lock on file "/tmp/x/crm.duckdb": Conflicting lock is held in /usr/bin/node (PID 23543). See also https://duckdb.org/docs/stable/connect/concurrency';

describe('the process holding a store', () => {
  it('is found in DuckDB\'s lock error', () => {
    expect(lockHolderPid(DUCKDB_LOCK_ERROR)).toBe(23543);
    expect(lockHolderPid('IO Error: Could not set lock on file "x"')).toBeNull();
  });

  it('is shown as the crm command that was typed, or as its own command line', () => {
    expect(describeCommandLine(['/usr/bin/node', '/opt/crm/dist/cli.js', 'ingest', 'transactions', 'big.csv'])).toBe('crm ingest transactions big.csv');
    expect(describeCommandLine(['node', '/usr/local/bin/crm', 'run'])).toBe('crm run');
    expect(describeCommandLine(['/usr/bin/duckdb', 'crm.duckdb'])).toBe('duckdb crm.duckdb');
    expect(describeCommandLine(['/usr/bin/python3', 'x\u001b[2Jy'])).toBe('python3 x?[2Jy');
    expect(describeCommandLine(['node', 'x'.repeat(300)])).toHaveLength(120);
  });

  it('reads /proc/PID/cmdline, and falls back to the PID alone', () => {
    const proc = tempDir('crm-proc-');
    fs.mkdirSync(path.join(proc, '23543'));
    fs.writeFileSync(path.join(proc, '23543', 'cmdline'), '/usr/bin/node\0/opt/crm/dist/cli.js\0ingest\0transactions\0big.csv\0');
    expect(describeHolder(23543, proc)).toBe('process 23543 (crm ingest transactions big.csv)');
    expect(describeHolder(999, proc)).toBe('process 999');
    expect(describeHolder(null, proc)).toBe('another process');
  });
});

describe('retryWhileLocked', () => {
  const lockError = () => new Error(DUCKDB_LOCK_ERROR);

  it('tries once with no wait, and tells nobody', async () => {
    let attempts = 0;
    const told: string[] = [];
    await expect(
      retryWhileLocked(async () => {
        attempts++;
        throw lockError();
      }, { seconds: 0, onWait: (h) => told.push(h) }),
    ).rejects.toThrow(/Conflicting lock/);
    expect(attempts).toBe(1);
    expect(told).toEqual([]);
  });

  it('retries until the lock is free, telling once whom it waits for', async () => {
    let attempts = 0;
    const told: string[] = [];
    const result = await retryWhileLocked(async () => {
      if (++attempts < 4) throw lockError();
      return 'open';
    }, { seconds: 30, onWait: (h) => told.push(h) });
    expect(result).toBe('open');
    expect(attempts).toBe(4);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^process 23543/);
  });

  it('does not retry other errors', async () => {
    let attempts = 0;
    await expect(
      retryWhileLocked(async () => {
        attempts++;
        throw new Error('IO Error: not a valid DuckDB database');
      }, { seconds: 30 }),
    ).rejects.toThrow(/not a valid/);
    expect(attempts).toBe(1);
  });
});
