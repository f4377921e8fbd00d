/**
 * The audit writer (src/store/audit.ts): who, when and what, on a real store file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { auditHandOut, currentActor, recordAudit, setActorFlag } from '../../src/store/audit.js';
import { stageAtomically, TEMP_SUFFIX } from '../../src/reports/atomic-file.js';
import { formatAudit, listAudit } from '../../src/reports/audit-log.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';

const dirs: string[] = [];
afterEach(() => {
  setActorFlag(undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-audit-'));
  dirs.push(dir);
  return dir;
}

async function freshStore(): Promise<Store> {
  return Store.open(path.join(tempFolder(), 'crm.duckdb'), { create: true });
}

const ENTRY = { command: 'export segment', what: 'At Risk', customers: 2, rows: 2, masked: false } as const;

/** A staged export file next to `target` (not yet at it), as exportQuery({ stage: true }) leaves it. */
async function stagedFile(target: string) {
  const { staged } = await stageAtomically(target, {}, async (tmp) => fs.writeFileSync(tmp, 'customer_id\nC1\nC2\n'));
  return staged;
}

const tempFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith(TEMP_SUFFIX));

describe('currentActor', () => {
  it('prefers --actor, then $CRM_ACTOR, then the OS user, and says which', () => {
    expect(currentActor({ CRM_ACTOR: 'cron-nightly' })).toEqual({ name: 'cron-nightly', source: 'env' });
    const osUser = currentActor({});
    expect(osUser.source).toBe('os');
    expect(osUser.name).toBe(os.userInfo().username);
    setActorFlag('  Li Na ');
    expect(currentActor({ CRM_ACTOR: 'cron-nightly' })).toEqual({ name: 'Li Na', source: 'flag' });
    setActorFlag('   ');
    expect(currentActor({ CRM_ACTOR: '  ' }).source).toBe('os');
  });
});

describe('recordAudit', () => {
  it('appends numbered rows with the actor, a UTC time and the facts given', async () => {
    const store = await freshStore();
    try {
      const before = Date.now();
      const first = await recordAudit(
        store,
        { command: 'export segment', what: 'At Risk', path: '/tmp/at-risk.csv', runId: 3, customers: 12, rows: 12, masked: true, details: { format: 'csv' } },
        { name: 'analyst', source: 'flag' },
      );
      const second = await recordAudit(store, { command: 'report', what: 'report', customers: 0, masked: true }, { name: 'svc', source: 'env' });
      expect(second).toBe(first + 1);
      const rows = await store.all(
        "SELECT audit_id, epoch_ms(logged_at) AS at_ms, command, actor, actor_source, what, path, run_id, customers, rows, masked, details->>'format' AS format FROM audit ORDER BY audit_id",
      );
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({ command: 'export segment', actor: 'analyst', actor_source: 'flag', what: 'At Risk', path: '/tmp/at-risk.csv', run_id: 3, customers: 12, rows: 12, masked: true, format: 'csv' });
      expect(rows[1]).toMatchObject({ command: 'report', actor: 'svc', actor_source: 'env', path: null, run_id: null, rows: null, format: null });
      // Stored as UTC: within the seconds around the call whatever the machine's time zone.
      expect(Number(rows[0].at_ms)).toBeGreaterThanOrEqual(before - 1000);
      expect(Number(rows[0].at_ms)).toBeLessThanOrEqual(Date.now() + 1000);
    } finally {
      store.close();
    }
  });
});

describe('auditHandOut', () => {
  it('commits the audit row, then moves the staged file into place', async () => {
    const store = await freshStore();
    store.close();
    const dir = path.dirname(store.path);
    const target = path.join(dir, 'out', 'at-risk.csv');
    const staged = await stagedFile(target);
    expect(fs.existsSync(target)).toBe(false);
    const id = await auditHandOut(store.path, { ...ENTRY, path: target }, { deliver: staged.commit, undo: staged.discard });
    expect(id).toBe(1);
    expect(fs.readFileSync(target, 'utf8')).toBe('customer_id\nC1\nC2\n');
    expect(tempFiles(path.dirname(target))).toEqual([]);
    const check = await Store.open(store.path, { readOnly: true });
    try {
      expect(await check.all('SELECT command, what, path, customers, masked FROM audit')).toEqual([{ command: 'export segment', what: 'At Risk', path: target, customers: 2, masked: false }]);
    } finally {
      check.close();
    }
  });

  it('when the audit row cannot be written: exit 4, the file is never handed out and its temporary file is gone', async () => {
    const dir = tempFolder();
    const notAStore = path.join(dir, 'crm.duckdb');
    fs.writeFileSync(notAStore, 'this is not a DuckDB file, so no audit row can go into it\n');
    const target = path.join(dir, 'at-risk.csv');
    const staged = await stagedFile(target);
    expect(tempFiles(dir)).toHaveLength(1);
    const err = await auditHandOut(notAStore, { ...ENTRY, path: target }, { deliver: staged.commit, undo: staged.discard }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrmError);
    expect((err as CrmError).exitCode).toBe(ExitCode.store);
    expect((err as CrmError).message).toMatch(/^cannot write the audit row for export segment \(At Risk\)/);
    expect((err as CrmError).details.join('\n')).toMatch(/Nothing was handed out/);
    expect(fs.existsSync(target)).toBe(false);
    expect(tempFiles(dir)).toEqual([]);
  });

  it('when delivering fails, the audit row is taken back and undo runs', async () => {
    const store = await freshStore();
    store.close();
    let undone = false;
    const err = await auditHandOut(store.path, ENTRY, {
      deliver: async () => {
        throw new Error('disk full');
      },
      undo: async () => {
        undone = true;
      },
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('disk full');
    expect(undone).toBe(true);
    const check = await Store.open(store.path, { readOnly: true });
    try {
      expect(await check.value('SELECT count(*) FROM audit')).toBe(0);
    } finally {
      check.close();
    }
  });
});

describe('auditHandOut with several entries (one digest per owner)', () => {
  it('writes every row in one transaction and returns their ids', async () => {
    const store = await freshStore();
    store.close();
    const ids = await auditHandOut(store.path, [ENTRY, { ...ENTRY, what: 'Champions' }]);
    expect(ids).toEqual([1, 2]);
    const check = await Store.open(store.path, { readOnly: true });
    try {
      expect(await check.all('SELECT what FROM audit ORDER BY audit_id')).toEqual([{ what: 'At Risk' }, { what: 'Champions' }]);
    } finally {
      check.close();
    }
  });

  it('writes no row when one of them fails, runs undo, and names how many rows it could not write (exit 4)', async () => {
    const store = await freshStore();
    store.close();
    let undone = false;
    // A NaN count cannot become the INTEGER column: the second INSERT fails after the first succeeded.
    const bad = { ...ENTRY, what: 'broken', customers: Number.NaN };
    const err = await auditHandOut(store.path, [ENTRY, bad], {
      undo: async () => {
        undone = true;
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrmError);
    expect((err as CrmError).exitCode).toBe(ExitCode.store);
    expect((err as CrmError).message).toMatch(/^cannot write the 2 audit rows for export segment/);
    expect(undone).toBe(true);
    const check = await Store.open(store.path, { readOnly: true });
    try {
      expect(await check.value('SELECT count(*) FROM audit')).toBe(0);
    } finally {
      check.close();
    }
  });
});

describe('listAudit (crm audit)', () => {
  it('lists newest first, filters by day, actor and command, and counts all matching rows', async () => {
    const store = await freshStore();
    try {
      await recordAudit(store, { ...ENTRY, details: { format: 'csv' } }, { name: 'li.na', source: 'flag' });
      await recordAudit(store, { command: 'report', what: 'report of run 1', customers: 40, masked: true, runId: 1 }, { name: 'svc', source: 'env' });
      await recordAudit(store, { command: 'customer', what: '360° view', customers: 1, rows: 1, masked: true }, { name: 'li.na', source: 'flag' });
      await store.run("UPDATE audit SET logged_at = TIMESTAMP '2026-01-05 10:00:00' WHERE audit_id = 1");

      const all = await listAudit(store);
      expect(all.entries.map((e) => e.audit_id)).toEqual([3, 2, 1]);
      expect(all.total).toBe(3);
      expect(Object.keys(all.entries[2])).toEqual(['audit_id', 'logged_at', 'command', 'actor', 'actor_source', 'what', 'path', 'run_id', 'customers', 'rows', 'masked', 'details']);
      expect(all.entries[2]).toMatchObject({ logged_at: '2026-01-05 10:00:00', customers: 2, rows: 2, masked: false, details: { format: 'csv' } });

      expect((await listAudit(store, { actor: 'li.na' })).entries.map((e) => e.audit_id)).toEqual([3, 1]);
      expect((await listAudit(store, { command: 'report' })).entries.map((e) => e.audit_id)).toEqual([2]);
      expect((await listAudit(store, { since: '2026-01-06' })).entries.map((e) => e.audit_id)).toEqual([3, 2]);
      const limited = await listAudit(store, { limit: 1 });
      expect(limited).toMatchObject({ total: 3, limit: 1 });
      expect(limited.entries.map((e) => e.audit_id)).toEqual([3]);
      expect(formatAudit(limited).at(-1)).toBe('1 of 3 rows (newest first; --limit N for more)');
      expect(formatAudit(await listAudit(store, { actor: 'nobody' }))).toEqual(['no audit rows match']);
    } finally {
      store.close();
    }
  });
});
