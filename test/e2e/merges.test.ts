/**
 * One customer, one id through the real CLI on the demo's sample data (its customers file holds
 * two duplicate persons): crm quality --suggest-merges → crm ingest merges → crm run (the survivor
 * scored with both histories, the duplicate gone, totals unchanged) → crm customer (merged from /
 * merged into) → crm merges undo → crm run (both apart again).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { crm, ROOT, sql, tempDir } from '../helpers/cli.js';

const SAMPLE = path.join(ROOT, 'data/sample');
let dir: string;
let db: string;

const ok = (args: string[]) => {
  const r = crm(['--db', db, ...args], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r;
};

type Scored = { customer_id: string; frequency: number; monetary: number };
const latest = (ids: string[]) =>
  sql<Scored>(db, `SELECT customer_id, frequency, round(monetary, 2) AS monetary FROM customer_latest WHERE customer_id IN (${ids.map((i) => `'${i}'`).join(', ')}) ORDER BY customer_id`);
const totals = () => sql<{ customers: number; revenue: number; orders: number }>(db, 'SELECT count(*) AS customers, round(sum(monetary), 2) AS revenue, sum(frequency) AS orders FROM customer_latest')[0];

beforeAll(() => {
  dir = tempDir('crm-merges-e2e-');
  db = path.join(dir, 'crm.duckdb');
  ok(['-q', 'ingest', 'customers', path.join(SAMPLE, 'customers.csv')]);
  ok(['-q', 'ingest', 'transactions', path.join(SAMPLE, 'transactions.csv')]);
  ok(['-q', 'run']);
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('merges on the demo', () => {
  test('suggest → ingest → run → customer → undo → run', () => {
    const before = latest(['C0000109', 'C0000128']);
    expect(before.map((r) => r.customer_id)).toEqual(['C0000109', 'C0000128']);
    const totalsBefore = totals();

    const suggested = ok(['quality', '--suggest-merges', '--out', 'merges.csv']);
    expect(suggested.stdout).toContain('2 suggested merges in 2 groups written to');
    const file = fs.readFileSync(path.join(dir, 'merges.csv'), 'utf8').split('\r\n');
    expect(file[0]).toMatch(/^duplicate_id,surviving_id,confidence,evidence,/);
    expect(file.slice(1, 3).map((l) => l.split(',').slice(0, 4).join(','))).toEqual(['C0000128,C0000109,high,email+name+region', 'C0000371,C0000125,high,name+phone+region']);

    const loaded = ok(['ingest', 'merges', 'merges.csv']);
    expect(loaded.stdout).toContain('merges.csv: 2 rows read = 2 loaded + 0 rejected');
    expect(JSON.parse(ok(['merges', '--json']).stdout)).toMatchObject({ in_effect: 2, undone: 0 });

    ok(['-q', 'run']);
    // The survivor's frequency and value are the sum of both; the duplicate has no row of its own.
    expect(latest(['C0000109', 'C0000128'])).toEqual([
      { customer_id: 'C0000109', frequency: before[0].frequency + before[1].frequency, monetary: Math.round((before[0].monetary + before[1].monetary) * 100) / 100 },
    ]);
    const totalsMerged = totals();
    expect(totalsMerged).toEqual({ customers: totalsBefore.customers - 2, revenue: totalsBefore.revenue, orders: totalsBefore.orders });

    expect(ok(['customer', 'C0000109']).stdout).toMatch(/merged from C0000128 \(e-mail, name, high\), \d{4}-\d{2}-\d{2}, merge 1/);
    expect(ok(['customer', 'C0000128']).stdout).toMatch(/merged into C0000109 \(e-mail, name, high\)/);
    expect(JSON.parse(ok(['customer', 'C0000128', '--json']).stdout).merges.merged_into).toMatchObject({ merge_id: 1, customer_id: 'C0000109' });

    expect(ok(['merges', 'undo', '1']).stdout).toContain('merge 1 undone: C0000128 is no longer merged into C0000109');
    ok(['-q', 'run']);
    expect(latest(['C0000109', 'C0000128'])).toEqual(before);
    expect(totals()).toEqual({ ...totalsBefore, customers: totalsBefore.customers - 1 });
    expect(ok(['merges']).stdout).toMatch(/undone \d{4}-\d{2}-\d{2} by /);
  });

  test('undo of an unknown merge is an input error (exit 3); a malformed id a usage error (exit 2)', () => {
    expect(crm(['--db', db, 'merges', 'undo', '99']).code).toBe(3);
    expect(crm(['--db', db, 'merges', 'undo', 'x']).code).toBe(2);
  });
});
