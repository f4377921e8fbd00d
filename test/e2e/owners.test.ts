/**
 * Account owners through the real CLI on the demo's sample data: `crm ingest owners
 * data/sample/owners.csv`, `crm owners` (text and --json, changes between two runs, the unowned
 * key accounts, owners above models.key_accounts.max_per_owner), and `crm quality`'s finding.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ExitCode } from '../../src/util/errors.js';
import { ownerFileNames } from '../../src/reports/export-owners.js';
import { crm, ROOT, sql, tempDir } from '../helpers/cli.js';
import { parseCsv } from '../helpers/csv.js';

const SAMPLE = path.join(ROOT, 'data/sample');
let dir: string;
let db: string;

const ok = (args: string[], cwd?: string) => {
  const r = crm(['--db', db, ...args], { cwd });
  expect(r.code, r.stderr).toBe(0);
  return r;
};

interface OwnersJson {
  run_id: number;
  owners: { owner: string; team: string | null; customers: number; key_accounts: number; at_risk: number; revenue: number; clv: number; new_key_accounts: number | null; new_at_risk: number | null; lost: number | null }[];
  unowned_key_accounts: string[];
  over_limit: { owner: string; key_accounts: number; max_per_owner: number }[];
}
const ownersJson = (args: string[] = [], cwd?: string) => JSON.parse(ok(['owners', '--json', ...args], cwd).stdout) as OwnersJson;

beforeAll(() => {
  dir = tempDir('crm-owners-e2e-');
  db = path.join(dir, 'crm.duckdb');
  ok(['-q', 'ingest', 'transactions', path.join(SAMPLE, 'transactions.csv')]);
  ok(['-q', 'ingest', 'customers', path.join(SAMPLE, 'customers.csv'), path.join(SAMPLE, 'policyholders.csv')]);
  ok(['-q', 'ingest', 'contracts', path.join(SAMPLE, 'contracts.csv')]);
  ok(['-q', 'run', '--as-of', '2025-06-30']);
  ok(['-q', 'run']);
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('owners of the demo', () => {
  test('before the owners file: 67 of 87 key accounts have no owner, and crm quality says so', () => {
    const before = ownersJson();
    expect(before.run_id).toBe(2);
    expect(before.unowned_key_accounts).toHaveLength(67);
    expect(before.owners.reduce((a, o) => a + o.key_accounts, 0) + 67).toBe(87);
    const quality = JSON.parse(ok(['quality', '--json']).stdout);
    expect(quality.unowned_key_accounts).toMatchObject({ run_id: 2, count: 67 });
    expect(quality.findings.find((f: { check: string }) => f.check === 'unowned_key_accounts').message).toMatch(/^67 key accounts of run 2 have no account owner \(C\d+/);
  });

  test('crm ingest owners: loaded, reconciled and recorded; the same file again is a no-op', () => {
    const r = ok(['ingest', 'owners', path.join(SAMPLE, 'owners.csv')]);
    expect(r.stdout).toMatch(/owners\.csv: 62 rows read = 62 loaded \+ 0 rejected \(load 5\)/);
    expect(ok(['ingest', 'owners', path.join(SAMPLE, 'owners.csv')]).stdout).toMatch(/unchanged/);
    expect(sql(db, "SELECT kind, rows_read, rows_loaded FROM loads WHERE kind = 'owners'")).toEqual([{ kind: 'owners', rows_read: 62, rows_loaded: 62 }]);
  });

  test('after crm ingest owners, customers.account_owner, team and owner_email are the owner in effect, the same as customer_owners', () => {
    // Every customer the owners file names and the customers files hold shows the file's owner, team and e-mail.
    const named = sql<{ n: number; same: number }>(
      db,
      `SELECT count(*) AS n,
              count(*) FILTER (WHERE c.account_owner = o.account_owner AND c.team IS NOT DISTINCT FROM o.team AND c.owner_email IS NOT DISTINCT FROM o.owner_email) AS same
       FROM owners o JOIN customers c USING (customer_id)`,
    )[0];
    expect(Number(named.n)).toBeGreaterThan(0);
    expect(Number(named.same)).toBe(Number(named.n));
    // And every customer agrees with the view (NULL when nobody owns it).
    expect(
      sql(db, `SELECT count(*) AS n FROM customers c LEFT JOIN customer_owners o USING (customer_id)
               WHERE c.account_owner IS DISTINCT FROM o.account_owner OR c.team IS DISTINCT FROM o.team OR c.owner_email IS DISTINCT FROM o.owner_email`),
    ).toEqual([{ n: 0 }]);
  });

  test('crm owners --json: exactly the documented keys, the books, five unowned, Li Na over the limit', () => {
    const after = ownersJson();
    expect(Object.keys(after)).toEqual(['run_id', 'owners', 'unowned_key_accounts', 'over_limit']);
    expect(Object.keys(after.owners[0])).toEqual(['owner', 'team', 'customers', 'key_accounts', 'at_risk', 'revenue', 'clv', 'new_key_accounts', 'new_at_risk', 'lost', 'owner_email']);
    expect(after.unowned_key_accounts).toHaveLength(5);
    const liNa = after.owners.find((o) => o.owner === 'Li Na')!;
    expect(liNa).toMatchObject({ team: 'East', customers: 12, key_accounts: 12 });
    expect(after.over_limit.map((o) => o.owner)).toContain('Li Na');
    expect(after.over_limit.every((o) => o.key_accounts > 10 && o.max_per_owner === 10)).toBe(true);
    // The change columns count from run 1.
    expect(after.owners.every((o) => o.new_key_accounts !== null && o.lost !== null)).toBe(true);
    // The books and the unowned add up to the run's key accounts.
    expect(after.owners.reduce((a, o) => a + o.key_accounts, 0) + after.unowned_key_accounts.length).toBe(87);
    // The changes agree with the runs' own rows (ownership as it is now).
    const [changes] = sql<{ new_key: number; lost: number }>(
      db,
      `SELECT count(*) FILTER (WHERE l.is_key_account AND NOT coalesce(p.is_key_account, false)) AS new_key,
              count(*) FILTER (WHERE p.is_key_account AND NOT coalesce(l.is_key_account, false)) AS lost
       FROM customer_owners o LEFT JOIN customer_metrics l ON l.customer_id = o.customer_id AND l.run_id = 2
       LEFT JOIN customer_metrics p ON p.customer_id = o.customer_id AND p.run_id = 1`,
    );
    expect(after.owners.reduce((a, o) => a + o.new_key_accounts!, 0)).toBe(Number(changes.new_key));
    expect(after.owners.reduce((a, o) => a + o.lost!, 0)).toBe(Number(changes.lost));
  });

  test('crm owners text; models.key_accounts.max_per_owner from crm.config.json', () => {
    const text = ok(['owners']).stdout;
    expect(text).toMatch(/^\d+ account owners in run 2 \(changes since run 1\)/);
    expect(text).toMatch(/^5 key accounts have no owner: C\d+/m);
    expect(text).toContain('Li Na holds 12 key accounts, more than 10 (models.key_accounts.max_per_owner)');
    fs.writeFileSync(path.join(dir, 'crm.config.json'), JSON.stringify({ models: { key_accounts: { max_per_owner: 20 } } }));
    expect(ownersJson([], dir).over_limit).toEqual([]);
    fs.writeFileSync(path.join(dir, 'crm.config.json'), JSON.stringify({ models: { key_accounts: { max_per_owner: 0 } } }));
    const bad = crm(['--db', db, 'owners'], { cwd: dir });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('max_per_owner');
    fs.rmSync(path.join(dir, 'crm.config.json'));
  });

  test('crm owners before any run: exit 4', () => {
    const empty = path.join(dir, 'empty.duckdb');
    const r = crm(['--db', empty, '-q', 'ingest', 'owners', path.join(SAMPLE, 'owners.csv')]);
    expect(r.code, r.stderr).toBe(0);
    const none = crm(['--db', empty, 'owners']);
    expect(none.code).toBe(ExitCode.store);
    expect(none.stderr).toContain('no model run yet');
  });

  test('crm keyaccounts --owner: only that owner\'s key accounts; an unknown owner is exit 3 naming the owners', () => {
    const mine = JSON.parse(ok(['keyaccounts', '--owner', 'Li Na', '--json']).stdout);
    expect(mine.owner).toBe('Li Na');
    expect(mine.accounts).toHaveLength(12);
    expect(new Set(mine.accounts.map((a: { account_owner: string }) => a.account_owner))).toEqual(new Set(['Li Na']));
    expect(ok(['keyaccounts', '--owner', 'Li Na']).stdout).toMatch(/^12 key accounts of Li Na bring /);
    const all = JSON.parse(ok(['keyaccounts', '--json']).stdout);
    expect(all.owner).toBeNull();
    expect(all.accounts).toHaveLength(87);
    const bad = crm(['--db', db, 'keyaccounts', '--owner', 'li na']);
    expect(bad.code).toBe(ExitCode.input);
    expect(bad.stderr).toContain('unknown owner "li na"');
    expect(bad.stderr).toContain('Did you mean "Li Na"?');
    expect(bad.stderr).toMatch(/Owners: Chen Jing, Diego González, .*Zhang Wei\./);
  });

  test('crm export segment --owner: the segment restricted to the owner\'s book', () => {
    const out = path.join(dir, 'wang-fang.csv');
    const r = JSON.parse(ok(['export', 'segment', 'keyaccounts', '--owner', 'Wang Fang', '--out', out, '--json']).stdout);
    expect(r).toMatchObject({ target: 'keyaccounts', owner: 'Wang Fang', rows: 10 });
    const rows = parseCsv(fs.readFileSync(out, 'utf8'));
    expect(rows.slice(1).map((row) => row[rows[0].indexOf('account_owner')])).toEqual(Array(10).fill('Wang Fang'));
    const bad = crm(['--db', db, 'export', 'segment', 'customers', '--owner', 'Nobody', '--out', path.join(dir, 'x.csv')]);
    expect(bad.code).toBe(ExitCode.input);
    expect(fs.existsSync(path.join(dir, 'x.csv'))).toBe(false);
  });

  test('crm export owners: one file per owner holding exactly that owner\'s customers of the run, nothing else', () => {
    const out = path.join(dir, 'books');
    const r = JSON.parse(ok(['export', 'owners', '--out', out, '--mask-pii', '--json']).stdout);
    const owners = sql<{ owner: string }>(db, 'SELECT DISTINCT account_owner AS owner FROM customer_owners ORDER BY 1').map((o) => o.owner);
    expect(r.files.map((f: { owner: string }) => f.owner)).toEqual(owners);
    // The owner's team and e-mail follow the contact columns; the owner's e-mail is masked like the customers'.
    expect(r.masked_columns).toEqual(['email', 'phone', 'owner_email']);
    const books = new Map<string, string[]>();
    for (const x of sql<{ owner: string; customer_id: string }>(db, 'SELECT account_owner AS owner, customer_id FROM customer_latest JOIN customer_owners USING (customer_id) ORDER BY 2')) {
      books.set(x.owner, [...(books.get(x.owner) ?? []), x.customer_id]);
    }
    let exported = 0;
    for (const f of r.files as { owner: string; path: string; rows: number }[]) {
      const [header, ...rows] = parseCsv(fs.readFileSync(f.path, 'utf8'));
      const ids = rows.map((row) => row[header.indexOf('customer_id')]).sort();
      expect(rows.every((row) => row[header.indexOf('account_owner')] === f.owner), f.owner).toBe(true);
      expect(ids, f.owner).toEqual(books.get(f.owner));
      expect(rows.every((row) => !/@[a-z]/.test(row[header.indexOf('email')]) || row[header.indexOf('email')].includes('***')), 'masked').toBe(true);
      expect(header.slice(header.indexOf('account_owner'), header.indexOf('account_owner') + 3)).toEqual(['account_owner', 'team', 'owner_email']);
      expect(rows.every((row) => row[header.indexOf('owner_email')] === '' || /^.\*\*\*@sales\.example$/.test(row[header.indexOf('owner_email')])), 'owner e-mail masked').toBe(true);
      exported += rows.length;
    }
    const [{ n }] = sql<{ n: number }>(db, 'SELECT count(*) AS n FROM customer_latest');
    expect(exported + r.unowned_customers).toBe(Number(n));
    // Again without --force: refused before anything is written (exit 5).
    const again = crm(['--db', db, 'export', 'owners', '--out', out]);
    expect(again.code).toBe(ExitCode.output);
  });

  test('crm report names the owner in effect: a key account given to Li Na by the owners file', () => {
    const out = path.join(dir, 'report');
    ok(['-q', 'report', '--out', out]);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    // C0000049 (rank 2) has no owner in customers.csv; owners.csv gives it to Li Na.
    expect(html).toContain('Li Na');
  }, 60_000);

  test('crm customer shows the owner in effect too (from the owners file), with team and owner e-mail', () => {
    const r = crm(['--db', db, 'customer', 'C0000049', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const profile = JSON.parse(r.stdout).profile as Record<string, unknown>;
    expect([profile.account_owner, profile.team]).toEqual(['Li Na', 'East']);
  });
});

describe('owner file names', () => {
  test('keep the name, replace what a file system refuses, and never collide (case-insensitively)', () => {
    expect(ownerFileNames(['Li Na', '王芳', 'A/B: C?', 'li na', 'LI NA', '..'], 'csv')).toEqual(['Li Na.csv', '王芳.csv', 'A_B_ C_.csv', 'li na (2).csv', 'LI NA (3).csv', '_.csv']);
  });
});
