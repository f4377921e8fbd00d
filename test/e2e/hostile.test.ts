/**
 * The hostile corpus (test/fixtures/bad/, written by scripts/fixtures/bad.ts): every file gives
 * its documented outcome through the real CLI — an exit code and message with the store left
 * as it was, or rows read = loaded + rejected with reasons — and never a crash, a stack trace
 * or a hang.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_FILES, manifestJson, manifestReadme, writeBadFixtures, type BadFile } from '../../scripts/fixtures/bad.js';
import { Store } from '../../src/store/db.js';
import { CLI, ROOT, tempDir } from '../helpers/cli.js';

const BAD = path.join(ROOT, 'test/fixtures/bad');
/** Generous: a hang is a failure, a slow busy machine is not. */
const CLI_TIMEOUT_MS = 120_000;
/** A stack frame as Node prints it: "    at fn (file:line:col)" or "    at file:line:col". */
const STACK_FRAME = /^\s+at .*:\d+:\d+\)?$/m;

interface StoreState {
  transactions: number;
  customers: number;
  loads: number;
  rejects: number;
  revenue: number;
}

async function withStore<T>(db: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(db, { readOnly: true });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

function stateOf(db: string): Promise<StoreState> {
  return withStore(db, async (s) => (await s.one<StoreState & Record<string, unknown>>(
    `SELECT (SELECT count(*) FROM transactions) AS transactions, (SELECT count(*) FROM customers) AS customers,
            (SELECT count(*) FROM loads) AS loads, (SELECT count(*) FROM rejects) AS rejects,
            (SELECT coalesce(sum(amount), 0) FROM transactions) AS revenue`,
  ))!);
}

let work: string;
let seeded: string;

beforeAll(() => {
  work = tempDir('crm-hostile-');
  // Every file goes into a store that already holds one load, so "unchanged" means something.
  seeded = path.join(work, 'seeded.duckdb');
  const good = path.join(work, 'good.csv');
  fs.writeFileSync(good, 'order_id,customer_id,order_date,amount\nG1,S1,2023-06-01,10.00\nG2,S2,2023-06-02,20.00\n');
  const r = spawnSync(process.execPath, [CLI, '--db', seeded, '-q', 'ingest', 'transactions', good], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`seeding the store failed: ${r.stderr}`);
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the hostile corpus', () => {
  it('is exactly what scripts/fixtures/bad.ts writes (regenerate with `npm run fixtures`)', async () => {
    const fresh = path.join(work, 'fresh');
    const written = await writeBadFixtures(fresh);
    expect(fs.readdirSync(BAD).sort()).toEqual([...written].sort());
    for (const f of written) {
      expect(fs.readFileSync(path.join(fresh, f)).equals(fs.readFileSync(path.join(BAD, f))), `${f} differs from a fresh run`).toBe(true);
    }
  });

  it('has at least 40 hostile files, each documented in README.md and manifest.json', () => {
    expect(BAD_FILES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(BAD_FILES.map((f) => f.name)).size).toBe(BAD_FILES.length);
    expect(fs.readFileSync(path.join(BAD, 'manifest.json'), 'utf8')).toBe(manifestJson(BAD_FILES));
    const readme = fs.readFileSync(path.join(BAD, 'README.md'), 'utf8');
    expect(readme).toBe(manifestReadme(BAD_FILES));
    for (const f of BAD_FILES) expect(readme).toContain(`\`${f.name}\``);
  });

  it('stays small in the repository: big files are highly compressible', async () => {
    const { deflateSync } = await import('node:zlib');
    let packed = 0;
    for (const f of BAD_FILES) packed += deflateSync(fs.readFileSync(path.join(BAD, f.name)), { level: 1 }).length;
    expect(packed).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('crm ingest on each hostile file', () => {
  it.each(BAD_FILES.map((f) => [f.name, f] as const))('%s', async (_name, bad: BadFile) => {
    const db = path.join(work, `case-${BAD_FILES.indexOf(bad)}.duckdb`);
    fs.copyFileSync(seeded, db);
    const before = await stateOf(db);

    const r = spawnSync(process.execPath, [CLI, '--db', db, 'ingest', bad.kind, bad.name, ...(bad.args ?? []), '--json'], {
      cwd: BAD,
      encoding: 'utf8',
      timeout: CLI_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, CRM_DB: '' },
    });
    const said = `exit ${r.status}${r.signal ? ` (killed: ${r.signal}${r.signal === 'SIGTERM' ? `, still running after ${CLI_TIMEOUT_MS / 1000} s` : ''})` : ''}; stderr:\n${r.stderr.slice(0, 2000)}`;
    expect(r.signal, said).toBeNull();
    expect(r.stderr, said).not.toMatch(/internal error/);
    expect(r.stderr, said).not.toMatch(STACK_FRAME);
    expect(r.status, said).toBe(bad.outcome.exit);

    if (bad.outcome.exit !== 0) {
      expect(r.stderr, said).toMatch(new RegExp(bad.outcome.message, 'i'));
      expect(r.stdout).toBe('');
      expect(await stateOf(db), 'a failed command leaves the store as it was').toEqual(before);
      return;
    }

    const report = JSON.parse(r.stdout) as {
      files: { load_id: number; rows_read: number; rows_loaded: number; rows_rejected: number; rejected_by_reason: Record<string, number> }[];
      totals: { rows_read: number; rows_loaded: number; rows_rejected: number; rejected_by_reason: Record<string, number> };
    };
    const { totals } = report;
    expect(totals.rows_read, 'rows read = loaded + rejected').toBe(totals.rows_loaded + totals.rows_rejected);
    expect({ read: totals.rows_read, loaded: totals.rows_loaded, rejected: totals.rejected_by_reason }, said).toEqual({
      read: bad.outcome.read,
      loaded: bad.outcome.loaded,
      rejected: bad.outcome.rejected,
    });

    // The store agrees with the report: the rows are there, and every reject has its reason.
    const loadId = report.files[0].load_id;
    const table = bad.kind === 'transactions' ? 'transactions' : 'customers';
    await withStore(db, async (s) => {
      expect(await s.value<number>(`SELECT count(*) FROM ${table} WHERE load_id = $1`, [loadId])).toBe(bad.outcome.exit === 0 ? bad.outcome.loaded : 0);
      const rejects = await s.all<{ reason: string; n: number; undescribed: number }>(
        `SELECT reason, count(*)::INTEGER AS n, count(*) FILTER (WHERE coalesce(detail, '') = '')::INTEGER AS undescribed
         FROM rejects WHERE load_id = $1 GROUP BY reason`,
        [loadId],
      );
      expect(Object.fromEntries(rejects.map((x) => [x.reason, x.n]))).toEqual(bad.outcome.exit === 0 ? bad.outcome.rejected : {});
      for (const x of rejects) expect(x.undescribed, `${x.reason} rejects without a sentence`).toBe(0);
      expect(await s.value<number>('SELECT count(*) FROM loads')).toBe(before.loads + 1);
      if (bad.stored) {
        const values = await s.all<{ v: string }>(`SELECT ${bad.stored.column} AS v FROM ${table} WHERE load_id = $1 ORDER BY source_row`, [loadId]);
        expect(values.map((x) => x.v), `${bad.stored.column} stored exactly as written`).toEqual(bad.stored.values);
      }
    });
  }, CLI_TIMEOUT_MS + 30_000);
});
