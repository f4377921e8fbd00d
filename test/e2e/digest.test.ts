/**
 * An account manager's own lists through the real CLI, on one demo store (the sample data, two
 * runs, the sample owners file): `crm owners assign` (dry run, the file it writes, loaded back with
 * `crm ingest owners`), `crm report --owner` (only that owner's customers in the page) and the
 * weekly digest (`--digest`: English and Chinese, one file per owner with `--owner all`,
 * self-contained, masked unless --show-pii, hostile names escaped, an audit row per file).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ExitCode } from '../../src/util/errors.js';
import { crm, ROOT, sql, tempDir } from '../helpers/cli.js';
import { parseCsv } from '../helpers/csv.js';

const SAMPLE = path.join(ROOT, 'data/sample');
let dir: string;
let db: string;

const ok = (args: string[]) => {
  const r = crm(['--db', db, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r;
};

interface Proposal {
  customer_id: string;
  account_owner: string;
  team: string | null;
  owner_email: string | null;
  reason: string;
  basis: string;
}
interface AssignJson {
  run_id: number;
  max_per_owner: number;
  unowned_key_accounts: number;
  proposals: Proposal[];
  unassigned: string[];
  suggested_max: number | null;
  path: string | null;
}

beforeAll(() => {
  dir = tempDir('crm-digest-e2e-');
  db = path.join(dir, 'crm.duckdb');
  ok(['-q', 'ingest', 'transactions', path.join(SAMPLE, 'transactions.csv')]);
  ok(['-q', 'ingest', 'customers', path.join(SAMPLE, 'customers.csv'), path.join(SAMPLE, 'policyholders.csv')]);
  ok(['-q', 'ingest', 'contracts', path.join(SAMPLE, 'contracts.csv')]);
  ok(['-q', 'ingest', 'owners', path.join(SAMPLE, 'owners.csv')]);
  ok(['-q', 'run', '--as-of', '2025-06-30']);
  ok(['-q', 'run']);
}, 180_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ownerOf = () => new Map(sql<{ customer_id: string; account_owner: string }>(db, 'SELECT customer_id, account_owner FROM customer_owners').map((r) => [r.customer_id, r.account_owner]));
/** The key accounts of the latest run with their owner and name (one query: each CLI call costs a process start). */
const keyAccounts = () =>
  sql<{ customer_id: string; name: string | null; owner: string }>(
    db,
    `SELECT m.customer_id, c.name, o.account_owner AS owner FROM customer_latest m JOIN customer_owners o USING (customer_id)
     LEFT JOIN (SELECT customer_id, arg_max(name, load_id) AS name FROM customers GROUP BY ALL) c USING (customer_id)
     WHERE m.is_key_account`,
  );
const htmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

describe('crm owners assign', () => {
  test('--dry-run: proposes an owner for each unowned key account within the default limit of 10, writes nothing', () => {
    const before = ownerOf();
    const r = JSON.parse(ok(['owners', 'assign', '--dry-run', '--json', '--out', path.join(dir, 'dry.csv')]).stdout) as AssignJson;
    expect(fs.existsSync(path.join(dir, 'dry.csv'))).toBe(false);
    expect(r).toMatchObject({ run_id: 2, max_per_owner: 10, unowned_key_accounts: 5, path: null, unassigned: [], suggested_max: null });
    // Every owner but Patricia Johnson holds 10 key accounts or more: she is the only one with room.
    expect(new Set(r.proposals.map((p) => p.account_owner))).toEqual(new Set(['Patricia Johnson']));
    // Masked on screen: the owners' e-mail addresses.
    expect(r.proposals.every((p) => p.owner_email === null || p.owner_email.includes('***'))).toBe(true);
    expect(ownerOf()).toEqual(before); // the store is not changed
    const text = ok(['owners', 'assign', '--dry-run', '--max', '1']).stdout;
    // Patricia Johnson (no key accounts) takes one; at --max 5 she would take all five.
    expect(text).toMatch(/4 key accounts stay unowned: no owner has room for more than 1; --max 5 would give every one an owner/);
  }, 120_000);

  test('writes an owners file that crm ingest owners loads; existing owners kept; same region first; the same proposal twice', () => {
    const before = ownerOf();
    const out = path.join(dir, 'proposal.csv');
    const r = JSON.parse(ok(['owners', 'assign', '--max', '11', '--out', out, '--json']).stdout) as AssignJson;
    expect(r.path).toBe(out);
    const again = JSON.parse(ok(['owners', 'assign', '--max', '11', '--dry-run', '--json', '--show-pii']).stdout) as AssignJson;
    expect(again.proposals.map((p) => [p.customer_id, p.account_owner])).toEqual(r.proposals.map((p) => [p.customer_id, p.account_owner]));
    expect(r.proposals.filter((p) => p.basis === 'region').length).toBeGreaterThan(0);
    const rows = fs.readFileSync(out, 'utf8').trimEnd().split('\n').map((line) => parseCsv(line)[0]);
    expect(rows[0]).toEqual(['customer_id', 'account_owner', 'team', 'owner_email', 'reason']);
    expect(rows).toHaveLength(6);
    // The file has the owners' e-mail as stored (a file export: unmasked).
    expect(rows.slice(1).every((x) => x[3] === '' || /^[^*]+@sales\.example$/.test(x[3]))).toBe(true);
    // Nobody goes past 11 key accounts who was not there before.
    const books = new Map<string, number>();
    for (const p of r.proposals) books.set(p.account_owner, (books.get(p.account_owner) ?? 0) + 1);
    const owners = JSON.parse(ok(['owners', '--json']).stdout) as { owners: { owner: string; key_accounts: number }[] };
    for (const [owner, added] of books) expect(owners.owners.find((o) => o.owner === owner)!.key_accounts + added).toBeLessThanOrEqual(11);

    const loaded = ok(['ingest', 'owners', out]);
    expect(loaded.stdout).toMatch(/proposal\.csv: 5 rows read = 5 loaded \+ 0 rejected/);
    const after = ownerOf();
    for (const p of r.proposals) expect(after.get(p.customer_id)).toBe(p.account_owner);
    for (const [customer, owner] of before) expect(after.get(customer)).toBe(owner); // kept
    const reasons = sql<{ reason: string }>(db, "SELECT attributes->>'$.reason' AS reason FROM owners WHERE load_id = (SELECT max(load_id) FROM loads)");
    expect(reasons.every((x) => x.reason.length > 0)).toBe(true);
    expect(JSON.parse(ok(['owners', '--json']).stdout).unowned_key_accounts).toEqual([]);
    expect(ok(['owners', 'assign', '--dry-run']).stdout).toMatch(/every key account has an owner; nothing to propose/);
  }, 180_000);

  test('crm owners shows the owner\'s e-mail masked, as stored with --show-pii', () => {
    const masked = JSON.parse(ok(['owners', '--json']).stdout).owners.find((o: { owner: string }) => o.owner === 'Li Na');
    expect(masked.owner_email).toBe('l***@sales.example');
    const shown = JSON.parse(ok(['owners', '--json', '--show-pii']).stdout).owners.find((o: { owner: string }) => o.owner === 'Li Na');
    expect(shown.owner_email).toBe('li.na@sales.example');
    expect(ok(['owners']).stdout).toContain('l***@sales.example');
  });
});

describe('crm report --owner and the digest', () => {
  const out = () => path.join(dir, 'out');

  test('report --owner: report-<owner>.html holds none of another owner\'s key accounts; an unknown owner is exit 3', () => {
    ok(['-q', 'report', '--owner', 'Li Na', '--out', out()]);
    const html = fs.readFileSync(path.join(out(), 'report-Li-Na.html'), 'utf8');
    expect(html).toContain('The book of Li Na');
    const all = keyAccounts();
    const others = all.filter((k) => k.owner !== 'Li Na');
    expect(others.length).toBeGreaterThan(50);
    for (const k of others) {
      expect(html).not.toContain(k.customer_id);
      if (k.name) expect(html).not.toContain(htmlText(k.name));
    }
    const mine = all.filter((k) => k.owner === 'Li Na');
    expect(mine.some((k) => k.name && html.includes(htmlText(k.name)))).toBe(true);
    const bad = crm(['--db', db, 'report', '--owner', 'Nobody', '--out', out()]);
    expect(bad.code).toBe(ExitCode.input);
    expect(bad.stderr).toContain('unknown owner "Nobody"');
  }, 180_000);

  test('--digest, English: what changed, who to call first and why, renewals; self-contained; masked by default', () => {
    ok(['-q', 'report', '--owner', 'Li Na', '--digest', '--out', out()]);
    const html = fs.readFileSync(path.join(out(), 'digest-Li-Na.html'), 'utf8');
    expect(html).toContain('Weekly digest: Li Na');
    expect(html).toContain('What changed in your book');
    expect(html).toMatch(/Became at risk: \d+/);
    expect(html).toContain('Who to call first');
    expect(html).toMatch(/revenue down \d+% on the previous period/); // the run's own reason, as crm keyaccounts shows it
    expect(html).toMatch(/Renewals due by/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|src=/i);
    const contacts = sql<{ email: string | null }>(
      db,
      "SELECT c.email FROM customers c JOIN customer_owners o USING (customer_id) JOIN customer_latest m USING (customer_id) WHERE o.account_owner = 'Li Na' AND m.at_risk AND c.email IS NOT NULL",
    );
    expect(contacts.length).toBeGreaterThan(0);
    for (const c of contacts) expect(html).not.toContain(htmlText(c.email!));
    expect(html).toContain('***@');
    ok(['-q', 'report', '--owner', 'Li Na', '--digest', '--show-pii', '--out', path.join(dir, 'pii')]);
    const shown = fs.readFileSync(path.join(dir, 'pii', 'digest-Li-Na.html'), 'utf8');
    expect(contacts.some((c) => shown.includes(htmlText(c.email!)))).toBe(true);
  }, 120_000);

  test('--owner all --lang zh: one Chinese digest per owner, each naming only its own key accounts; an audit row per file', () => {
    const audited = Number(sql<{ n: number }>(db, 'SELECT count(*) AS n FROM audit')[0].n);
    const r = JSON.parse(ok(['report', '--owner', 'all', '--digest', '--lang', 'zh', '--out', path.join(dir, 'all'), '--json']).stdout) as { files: { owner: string; path: string }[]; masked: boolean };
    const owners = sql<{ owner: string }>(db, 'SELECT DISTINCT account_owner AS owner FROM customer_owners ORDER BY owner').map((o) => o.owner);
    const all = keyAccounts();
    expect(r.files.map((f) => f.owner)).toEqual(owners);
    expect(fs.readdirSync(path.join(dir, 'all')).sort()).toEqual(r.files.map((f) => path.basename(f.path)).sort());
    for (const f of r.files) {
      expect(path.basename(f.path)).toMatch(/^digest-.+\.zh\.html$/);
      const html = fs.readFileSync(f.path, 'utf8');
      expect(html).toContain(`每周简报：${htmlText(f.owner)}`);
      for (const k of all.filter((x) => x.owner !== f.owner)) expect(html).not.toContain(`(${k.customer_id})`);
    }
    const rows = sql<{ command: string; path: string; masked: boolean; owner: string }>(
      db,
      "SELECT command, path, masked, details->>'$.owner' AS owner FROM audit ORDER BY audit_id",
    ).slice(audited);
    expect(rows).toHaveLength(owners.length);
    expect(rows.every((x) => x.command === 'report --digest' && x.masked)).toBe(true);
    expect(rows.map((x) => x.path)).toEqual(r.files.map((f) => f.path));
  }, 180_000);

  test('a hostile owner name: escaped in the digest and the report, their files stay in the folder', () => {
    const file = path.join(dir, 'hostile-owners.csv');
    const [id] = keyAccounts().filter((k) => k.owner === 'Li Na').map((k) => k.customer_id);
    fs.writeFileSync(file, `customer_id,account_owner\n${id},"<script>alert(1)</script> ../../evil"\n`);
    ok(['-q', 'ingest', 'owners', file]);
    ok(['-q', 'report', '--owner', '<script>alert(1)</script> ../../evil', '--digest', '--out', path.join(dir, 'hostile')]);
    expect(fs.readdirSync(path.join(dir, 'hostile'))).toEqual(['digest-script-alert-1-script-evil.html']); // nothing climbed out
    const html = fs.readFileSync(path.join(dir, 'hostile', 'digest-script-alert-1-script-evil.html'), 'utf8');
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; ../../evil');
    // The owner's report too: its file name is the same slug, its banner names the owner escaped.
    ok(['-q', 'report', '--owner', '<script>alert(1)</script> ../../evil', '--out', path.join(dir, 'hostile')]);
    const report = fs.readFileSync(path.join(dir, 'hostile', 'report-script-alert-1-script-evil.html'), 'utf8');
    expect(report).not.toContain('<script>alert(1)');
    expect(report).toContain('The book of &lt;script&gt;alert(1)&lt;/script&gt; ../../evil.');
  }, 180_000);

  test('--digest without --owner, --owner all without --digest, --show-pii without --digest: usage errors', () => {
    expect(crm(['--db', db, 'report', '--digest', '--out', out()]).code).toBe(ExitCode.usage);
    expect(crm(['--db', db, 'report', '--owner', 'all', '--out', out()]).code).toBe(ExitCode.usage);
    expect(crm(['--db', db, 'report', '--show-pii', '--out', out()]).code).toBe(ExitCode.usage);
  });
});
