/**
 * The audit writer (src/store/audit.ts): who, when and what, on a real store file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { currentActor, recordAudit, setActorFlag } from '../../src/store/audit.js';

const dirs: string[] = [];
afterEach(() => {
  setActorFlag(undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function freshStore(): Promise<Store> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-audit-'));
  dirs.push(dir);
  return Store.open(path.join(dir, 'crm.duckdb'), { create: true });
}

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
