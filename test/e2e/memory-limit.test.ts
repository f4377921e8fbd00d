/**
 * `crm --memory-limit SIZE`: a run under a small budget completes, the store's DuckDB reports
 * three quarters of the budget as its cap (a command's default stays DuckDB's cap), the flag wins
 * over $CRM_MEMORY_LIMIT, and a bad or too small size is a usage error (exit 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { crm, sql, tempDir } from '../helpers/cli.js';

let db: string;

beforeAll(() => {
  const dir = tempDir('crm-memory-e2e-');
  db = path.join(dir, 'crm.duckdb');
  // 3,000 customers over two years: enough for every model of the run to fit.
  const lines = ['order_id,customer_id,order_date,amount'];
  for (let i = 0; i < 12_000; i++) {
    const day = new Date(Date.UTC(2023, 0, 1) + ((i * 7919) % 730) * 86_400_000).toISOString().slice(0, 10);
    lines.push(`O${i},C${(i * 31) % 3000},${day},${(10 + ((i * 37) % 190)).toFixed(2)}`);
  }
  fs.writeFileSync(path.join(dir, 'orders.csv'), lines.join('\n') + '\n');
  const ingest = crm(['--db', db, '-q', '--memory-limit', '512MB', 'ingest', 'transactions', path.join(dir, 'orders.csv')]);
  expect(ingest.stderr).toBe('');
  expect(ingest.code).toBe(0);
});

describe('crm --memory-limit', () => {
  it('runs the models under a small cap', () => {
    const run = crm(['--db', db, '-q', '--memory-limit', '128MB', 'run']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(sql<{ customers: number }>(db, 'SELECT customers FROM runs')).toEqual([{ customers: 3000 }]);
  });

  it("is the command's budget: DuckDB's memory_limit is three quarters of it, the flag over $CRM_MEMORY_LIMIT", () => {
    const setting = (args: string[], env: Record<string, string> = {}) => {
      const r = crm(['--db', db, ...args, 'query', "SELECT current_setting('memory_limit') AS m", '--format', 'json'], { env });
      expect(r.stderr).toBe('');
      return (JSON.parse(r.stdout) as { m: string }[])[0].m;
    };
    // DuckDB prints its setting in binary units, rounded down: 192MB = 183.1 MiB.
    expect(setting(['--memory-limit', '256MB'])).toBe('183.1 MiB');
    // 4GB → 3GB = 2.79 GiB; 3GB → 2.25GB = 2.09 GiB.
    expect(setting(['--memory-limit', '4GB'])).toBe('2.7 GiB');
    expect(setting([], { CRM_MEMORY_LIMIT: '3GB' })).toBe('2.0 GiB');
    // 512MB → 384MB = 366.2 MiB, whatever the variable says.
    expect(setting(['--memory-limit', '512MB'], { CRM_MEMORY_LIMIT: '3GB' })).toBe('366.2 MiB');
    // Without either, the command's default is DuckDB's cap itself: 1GB = 953.6 MiB, as before.
    expect(setting([], { CRM_MEMORY_LIMIT: '' })).toBe('953.6 MiB');
  });

  it('refuses a budget whose DuckDB share is under 64MB, in the budget\'s terms', () => {
    const r = crm(['--db', db, '--memory-limit', '64MB', 'run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--memory-limit 64MB: too small for crm to work in; give at least 86MB');
    expect(r.stderr).toContain('DuckDB gets three quarters of it and needs at least 64MB.');
  });

  it('refuses a size without a unit as a usage error', () => {
    const r = crm(['--db', db, '--memory-limit', '4', 'run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--memory-limit "4": give a size with its unit, e.g. 4GB or 512MB');
    const env = crm(['--db', db, 'run'], { env: { CRM_MEMORY_LIMIT: 'lots' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('CRM_MEMORY_LIMIT "lots"');
  });
});
