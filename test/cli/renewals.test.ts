/**
 * `crm renewals` and `crm export renewals` through the real CLI, on a store whose contract rows
 * are written by hand (test/helpers/contracts-store.ts): output, --json, exit codes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Store } from '../../src/store/db.js';
import { ExitCode } from '../../src/util/errors.js';
import { crm, tempDir } from '../helpers/cli.js';
import { parseCsv } from '../helpers/csv.js';
import { contractsStoreFile } from '../helpers/contracts-store.js';

let dir: string;
let db: string;
let noContracts: string;
let noRun: string;

beforeAll(async () => {
  dir = tempDir('crm-renewals-cli-');
  db = path.join(dir, 'crm.duckdb');
  noContracts = path.join(dir, 'no-contracts.duckdb');
  noRun = path.join(dir, 'no-run.duckdb');
  await contractsStoreFile(db);
  await contractsStoreFile(noContracts, { contracts: false });
  (await Store.open(noRun, { create: true })).close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('crm renewals', () => {
  test('text: headline, one line per contract due, totals', () => {
    const r = crm(['--db', db, 'renewals']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('6 contracts due for renewal by 2025-01-30 (within 30 days of 2024-12-31, run 2); 1 already ended and in grace');
    expect(lines.filter((l) => /^\d+\s+C\d/.test(l)).map((l) => l.split(/\s+/)[1])).toEqual(['C2', 'C1', 'C4', 'C3', 'C1', 'C4']);
    expect(r.stdout).toContain("2nd renewal; 38% of this plan's customers leave at their 2nd renewal");
    expect(lines.at(-1)).toBe('total: 6 contracts due, premium due 8,300.00, value at risk 7,440.00 (2 not modelled: no value at risk)');
  });

  test('--json --within 90 --owner --lang zh: the same fields, machine-readable', () => {
    const r = crm(['--db', db, 'renewals', '--within', '90', '--owner', 'Li Wei', '--lang', 'zh', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ run_id: 2, as_of: '2024-12-31', within_days: 90, window_end: '2025-03-31', owner: 'Li Wei', lang: 'zh', contracts: 4, in_grace: 1, premium_due: 4400 });
    expect(out.renewals.map((x: { contract_id: string }) => x.contract_id)).toEqual(['K1', 'K3', 'K9', 'K5']);
    expect(Object.keys(out.renewals[0])).toEqual([
      'rank', 'customer_id', 'name', 'account_owner', 'contract_id', 'plan', 'status', 'renewal_due', 'days_until_due',
      'renewals', 'p_renew', 'premium', 'residual_value', 'value_at_risk', 'reason_code', 'reason',
    ]);
    expect(out.renewals[0].reason).toBe('第2次续保；该产品 38% 的客户在第2次续保时流失');
  });

  test.each([
    ['no run yet', ExitCode.store, () => ['--db', noRun, 'renewals'], /no model run yet/],
    ['a run without contracts', ExitCode.store, () => ['--db', noContracts, 'renewals'], /run 2 \(as of 2024-12-31\) has no contracts\n.*crm ingest contracts/],
    ['an unknown owner', ExitCode.input, () => ['--db', db, 'renewals', '--owner', 'Nobody'], /unknown owner "Nobody".*\n\s+Owners: Li Wei, Zhang Min\./],
    ['--within -1', ExitCode.usage, () => ['--db', db, 'renewals', '--within', '-1'], /--within "-1": give a whole number of days/],
    ['--within 1.5', ExitCode.usage, () => ['--db', db, 'renewals', '--within', '1.5'], /--within "1\.5"/],
    ['--lang fr', ExitCode.usage, () => ['--db', db, 'renewals', '--lang', 'fr'], /fr/],
    ['export: no run yet', ExitCode.store, () => ['--db', noRun, 'export', 'renewals', '--out', path.join(dir, 'x.csv')], /no model run yet/],
    ['export: an unknown owner', ExitCode.input, () => ['--db', db, 'export', 'renewals', '--owner', 'Nobody', '--out', path.join(dir, 'y.csv')], /unknown owner/],
    ['export: no format', ExitCode.usage, () => ['--db', db, 'export', 'renewals', '--out', path.join(dir, 'x.foo')], /cannot tell the export format/],
  ])('%s: exit %i with a clear message', (_name, code, args, message) => {
    const r = crm(args());
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});

describe('crm export renewals', () => {
  test('writes the list; --mask-pii masks e-mail and phone; an existing file needs --force', () => {
    const out = path.join(dir, 'exports', 'renewals.csv');
    const r = crm(['--db', db, '-q', 'export', 'renewals', '--within', '60', '--out', out, '--mask-pii', '--bom']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`7 contracts due for renewal by 2025-03-01 (run 2) written to ${out} (csv,`);
    expect(r.stdout).toContain('masked: email, phone');
    const text = fs.readFileSync(out, 'utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    const [header, ...rows] = parseCsv(text.slice(1));
    expect(rows.map((x) => x[header.indexOf('contract_id')])).toEqual(['K2', 'K1', 'K6', 'K10', 'K3', 'K5', 'K4']);
    expect(rows.map((x) => x[header.indexOf('email')])[0]).toBe('b***@example.cn');
    expect(text).not.toContain('anna.schmidt');

    const again = crm(['--db', db, 'export', 'renewals', '--out', out]);
    expect(again.code).toBe(ExitCode.output);
    expect(again.stderr).toMatch(/--force/);
    const json = crm(['--db', db, 'export', 'renewals', '--out', path.join(dir, 'exports', 'renewals.xlsx'), '--owner', 'Zhang Min', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ target: 'renewals', run_id: 2, within_days: 30, owner: 'Zhang Min', rows: 1, format: 'xlsx', masked_columns: [] });
  });
});

describe('crm customer ID', () => {
  test('lists the customer’s contracts of the latest run, renewal due first', () => {
    const r = crm(['--db', db, 'customer', 'C1']);
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout.slice(r.stdout.indexOf('contracts (latest run):'));
    expect(text.split('\n').filter((l) => /^K\d/.test(l)).map((l) => l.split(/\s+/)[0])).toEqual(['K1', 'K5', 'K9']);
    expect(text).toMatch(/K1\s+Motor\s+active\s+2024-01-11 – 2025-01-10\s+1\s+1200\.00\s+2025-01-10\s+62%\s+3000\.00\s+1140\.00/);
    const json = JSON.parse(crm(['--db', db, 'customer', 'C3', '--json']).stdout);
    expect(json.contracts.map((k: { contract_id: string; status: string }) => [k.contract_id, k.status])).toEqual([['K3', 'in_grace'], ['K7', 'lapsed']]);
  });

  test('a customer known only by contracts is found', () => {
    const r = crm(['--db', db, 'customer', 'C4']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('(not in the customers table)');
    expect(r.stdout).toMatch(/K4\s+Home\s+active/);
  });
});

describe('help', () => {
  test('crm --help lists renewals and export renewals; their own help shows flags and examples', () => {
    const list = crm(['--help']).stdout;
    expect(list).toMatch(/^ {2}renewals \s+contracts due for renewal, by value at risk$/m);
    expect(list).toMatch(/^ {2}export renewals \s+export the renewal-due list$/m);
    const help = crm(['renewals', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--within <days>', '--owner <name>', '--lang <lang>', '--json']) expect(help.stdout).toContain(flag);
    expect(help.stdout).toContain('Examples:\n  crm renewals');
    const exportHelp = crm(['export', 'renewals', '--help']).stdout;
    for (const flag of ['--within <days>', '--owner <name>', '--format <format>', '--out <file>', '--columns <list>', '--mask-pii', '--force', '--bom']) expect(exportHelp).toContain(flag);
  });
});
