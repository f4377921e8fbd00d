/**
 * One writer at a time: a second command fails at once naming what holds the store
 * (`--wait 0`, the default), or waits for it (`--wait SECONDS`) and then does its work.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, crm, ROOT, sql, tempDir } from '../helpers/cli.js';

const HOLDER = path.join(ROOT, 'test/helpers/hold-store.mjs');

/** Resolves with the first stderr/stdout text matching `pattern` (no fixed sleeps). */
function waitFor(child: ChildProcessWithoutNullStreams, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child[stream].on('data', (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) resolve(seen);
    });
    child.on('exit', (code) => reject(new Error(`exited (${code}) before printing ${pattern}: ${seen}`)));
  });
}

function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (code) => resolve(code))));
}

let holders: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const h of holders) h.kill('SIGKILL');
  holders = [];
});

/** A store with one load, and a process holding its write lock until released. */
async function heldStore(): Promise<{ dir: string; db: string; holder: ChildProcessWithoutNullStreams; release: () => Promise<number | null> }> {
  const dir = tempDir('crm-lock-');
  const db = path.join(dir, 'crm.duckdb');
  fs.writeFileSync(path.join(dir, 'a.csv'), 'customer_id,order_date,amount\nA,2024-01-01,1\n');
  fs.writeFileSync(path.join(dir, 'b.csv'), 'customer_id,order_date,amount\nB,2024-01-02,2\nC,2024-01-03,3\n');
  expect(crm(['--db', db, '-q', 'ingest', 'transactions', 'a.csv'], { cwd: dir }).code).toBe(0);
  const holder = spawn(process.execPath, [HOLDER, db], { cwd: ROOT });
  holders.push(holder);
  await waitFor(holder, 'stdout', /holding/);
  return {
    dir,
    db,
    holder,
    release: () => {
      holder.stdin.end();
      return exitOf(holder);
    },
  };
}

describe('a store held by another process', () => {
  it('--wait 0 (the default): exit 4 at once, naming the holding process and its command', async () => {
    const { dir, db, holder, release } = await heldStore();
    for (const args of [[], ['--wait', '0']]) {
      const r = crm(['--db', db, ...args, 'ingest', 'transactions', 'b.csv'], { cwd: dir });
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toContain(`is in use by process ${holder.pid} (node ${HOLDER} ${db})`);
      expect(r.stderr).toContain('--wait SECONDS');
      // Readers wait for writers too (DuckDB's lock), and say the same.
      const q = crm(['--db', db, 'quality'], { cwd: dir });
      expect(q.code).toBe(4);
      expect(q.stderr).toContain(`in use by process ${holder.pid}`);
    }
    expect(await release()).toBe(0);
    expect(sql(db, 'SELECT count(*)::INTEGER AS n FROM transactions')).toEqual([{ n: 1 }]);
  });

  it('--wait 30: waits (saying for whom), then loads once the holder ends', async () => {
    const { dir, db, holder, release } = await heldStore();
    const second = spawn(process.execPath, [CLI, '--db', db, '--wait', '30', 'ingest', 'transactions', 'b.csv'], { cwd: dir, env: { ...process.env, CRM_DB: '' } });
    let stderr = '';
    second.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The observable event: it found the store locked and is waiting.
    const waiting = await waitFor(second, 'stderr', /waiting up to 30 s/);
    expect(waiting).toContain(`the store is in use by process ${holder.pid} (node ${HOLDER} ${db}): waiting up to 30 s`);
    expect(second.exitCode).toBeNull();
    expect(await release()).toBe(0);
    expect(await exitOf(second), stderr).toBe(0);
    expect(sql(db, 'SELECT count(*)::INTEGER AS n FROM transactions')).toEqual([{ n: 3 }]);
  });

  it('--wait 1 with a holder that stays: exit 4 after waiting, saying it waited', async () => {
    const { dir, db, holder } = await heldStore();
    const r = crm(['--db', db, '--wait', '1', '-q', 'ingest', 'transactions', 'b.csv'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`in use by process ${holder.pid}`);
    expect(r.stderr).toContain('Waited 1 s');
    // -q: no "waiting" line, only the error.
    expect(r.stderr).not.toContain('waiting up to');
  });

  it('--wait takes a number of seconds', () => {
    for (const bad of ['soon', '-1', '']) {
      const r = crm(['--wait', bad, 'quality']);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain('--wait');
    }
  });
});
