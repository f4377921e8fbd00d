/**
 * The renewal-due list (src/reports/renewals.ts) on hand-made contract_metrics rows
 * (test/helpers/contracts-store.ts): which contracts are due (window, in grace, statuses, the
 * latest run only), their order, --owner, contracts without a renewal probability, the totals,
 * the reasons in English and Chinese, the errors, and `crm export renewals` in every format.
 */
import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parametersOf } from '../../src/models/relation.js';
import { renewalReasonSql, RENEWAL_REASON_CODES } from '../../src/reports/i18n.js';
import { exportRenewals, formatRenewals, renewalList, renewals, type RenewalsResult } from '../../src/reports/renewals.js';
import { Store } from '../../src/store/db.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';
import { parseCsv } from '../helpers/csv.js';
import { tempDir } from '../helpers/cli.js';
import { AS_OF, CONTRACTS, seedContracts } from '../helpers/contracts-store.js';

let store: Store;

beforeAll(async () => {
  store = await Store.open(':memory:', { create: true });
  await seedContracts(store);
});
afterAll(() => store?.close());

const ids = (r: RenewalsResult) => r.renewals.map((x) => x.contract_id);

async function rejection(p: Promise<unknown>): Promise<CrmError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CrmError);
  return err as CrmError;
}

describe('renewal_list: which contracts, in which order', () => {
  test('default 30 days: by value at risk, in-grace ones listed, not-modelled last by premium', async () => {
    const r = await renewals(store);
    expect(r).toMatchObject({ run_id: 2, as_of: AS_OF, within_days: 30, window_end: '2025-01-30', owner: null, lang: 'en' });
    expect(ids(r)).toEqual(['K2', 'K1', 'K10', 'K3', 'K5', 'K4']);
    expect(r.renewals.map((x) => x.rank)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.renewals.map((x) => x.days_until_due)).toEqual([25, 10, 30, -11, 15, 5]);
    const k3 = r.renewals.find((x) => x.contract_id === 'K3')!;
    expect(k3).toMatchObject({ status: 'in_grace', renewal_due: '2024-12-20', days_until_due: -11, customer_id: 'C3', account_owner: 'Li Wei' });
  });

  test('every field of a row; the latest customer row gives name and owner; no e-mail or phone in the command', async () => {
    const r = await renewals(store);
    expect(r.renewals[1]).toEqual({
      rank: 2,
      customer_id: 'C1',
      name: 'Anna Schmidt',
      account_owner: 'Li Wei',
      contract_id: 'K1',
      plan: 'Motor',
      status: 'active',
      renewal_due: '2025-01-10',
      days_until_due: 10,
      renewals: 1,
      p_renew: 0.62,
      premium: 1200,
      residual_value: 3000,
      value_at_risk: expect.closeTo(1140, 9),
      reason_code: 'plan',
      reason: "2nd renewal; 38% of this plan's customers leave at their 2nd renewal",
    });
    // A contract whose customer has no row in customers is still listed, without name or owner.
    expect(r.renewals.find((x) => x.contract_id === 'K4')).toMatchObject({ name: null, account_owner: null });
  });

  test('the window: 0 days lists only what is in grace (due now); day 30 is in, day 31 would not be', async () => {
    expect(ids(await renewals(store, { withinDays: 0 }))).toEqual(['K3']);
    expect(ids(await renewals(store, { withinDays: 29 }))).toEqual(['K2', 'K1', 'K3', 'K5', 'K4']);
    expect(ids(await renewals(store, { withinDays: 30 }))).toContain('K10');
    expect(ids(await renewals(store, { withinDays: 90 }))).toEqual(['K2', 'K1', 'K6', 'K10', 'K3', 'K9', 'K5', 'K4']);
  });

  test('lapsed and cancelled contracts and earlier runs are never listed', async () => {
    const all = ids(await renewals(store, { withinDays: 100_000 }));
    expect(all).not.toContain('K7');
    expect(all).not.toContain('K8');
    expect(all).not.toContain('K99'); // run 1's, due 2025-01-05 with the highest value at risk
    expect(all.length).toBe(CONTRACTS.filter((c) => c.status === 'active' || c.status === 'in_grace').length);
  });

  test('--owner: exactly the contracts of that owner’s customers', async () => {
    const li = await renewals(store, { owner: 'Li Wei' });
    expect(ids(li)).toEqual(['K1', 'K3', 'K5']);
    expect(li.renewals.map((x) => x.rank)).toEqual([1, 2, 3]);
    expect(li.owner).toBe('Li Wei');
    expect(ids(await renewals(store, { owner: 'Zhang Min', withinDays: 90 }))).toEqual(['K2', 'K6']);
  });

  test('an unknown owner is an input error naming the owners; a different case is pointed out', async () => {
    const unknown = await rejection(renewals(store, { owner: 'Nobody' }));
    expect(unknown.exitCode).toBe(ExitCode.input);
    expect(unknown.message).toBe('unknown owner "Nobody": no customer has this account_owner');
    expect(unknown.details).toEqual(['Owners: Li Wei, Zhang Min.']);
    const folded = await rejection(renewals(store, { owner: 'li wei' }));
    expect(folded.details[0]).toBe('Did you mean "Li Wei"? Owners are matched exactly.');
    // Only the latest contact row counts: C1's first row named "Old Owner".
    expect((await rejection(renewals(store, { owner: 'Old Owner' }))).exitCode).toBe(ExitCode.input);
  });

  test('contracts without a renewal probability: no value at risk, a reason saying why, listed last', async () => {
    const r = await renewals(store);
    const [k5, k4] = r.renewals.slice(-2);
    expect(k5).toMatchObject({ contract_id: 'K5', p_renew: null, value_at_risk: null, reason_code: 'not_modelled', reason: '21st renewal; not modelled: no renewal probability for this contract' });
    expect(k4).toMatchObject({
      contract_id: 'K4',
      p_renew: null,
      reason_code: 'irregular',
      reason: "11th renewal; not modelled: the contract's periods are irregular, so there is no renewal probability",
    });
  });

  test('totals: contracts due, in grace, premium due, value at risk, not modelled', async () => {
    const r = await renewals(store);
    expect(r).toMatchObject({ contracts: 6, in_grace: 1, premium_due: 8300, not_modelled: 2 });
    expect(r.value_at_risk).toBeCloseTo(5000 + 1140 + 700 + 600, 6);
    const none = await renewals(store, { owner: 'Zhang Min', withinDays: 0 });
    expect(none).toMatchObject({ contracts: 0, in_grace: 0, premium_due: 0, value_at_risk: 0, renewals: [] });
  });

  test('the relation binds exactly the parameters it lists', () => {
    expect(parametersOf(renewalList.sql).sort()).toEqual([...renewalList.params].sort());
  });
});

describe('text output', () => {
  test('a headline, the table and a totals line', async () => {
    const lines = formatRenewals(await renewals(store));
    expect(lines[0]).toBe('6 contracts due for renewal by 2025-01-30 (within 30 days of 2024-12-31, run 2); 1 already ended and in grace');
    const text = lines.join('\n');
    expect(text).toMatch(/^1\s+C2\s+陈波\s+Zhang Min\s+K2\s+Life\s+2025-01-25\s+25\s+active\s+0\s+50%\s+5,000\.00\s+10,000\.00\s+5,000\.00\s+1st renewal; 50% of all customers leave at their 1st renewal$/m);
    expect(text).toMatch(/^4\s+C3\s+.*K3\s+Motor\s+2024-12-20\s+-11\s+in grace\s+2\s+70%/m);
    expect(lines.at(-1)).toBe('total: 6 contracts due, premium due 8,300.00, value at risk 7,440.00 (2 not modelled: no value at risk)');
  });

  test('nothing due: one line saying so, for the owner asked about', async () => {
    expect(formatRenewals(await renewals(store, { owner: 'Zhang Min', withinDays: 0 }))).toEqual([
      'no contract due for renewal for Zhang Min by 2024-12-31 (within 0 days of 2024-12-31, run 2)',
    ]);
  });

  test('a probability near 1 is not rounded to 100%', async () => {
    expect(formatRenewals(await renewals(store, { withinDays: 90 })).join('\n')).toMatch(/K9 .* >99% /);
  });
});

describe('the reason, in English and Chinese', () => {
  async function reasons(rows: [string, string, number, number | null][]): Promise<string[]> {
    const values = rows.map(([code, lang, n, share]) => `('${code}', '${lang}', ${n}, ${share === null ? 'NULL' : share})`).join(', ');
    const found = await store.all<{ reason: string }>(
      `SELECT ${renewalReasonSql('code', 'lang', 'n', 'share')} AS reason FROM (VALUES ${values}) AS t(code, lang, n, share)`,
    );
    return found.map((r) => r.reason);
  }

  test('English ordinals: 1st 2nd 3rd 4th … 11th 12th 13th … 21st 22nd 23rd … 101st 111th 112th 113th', async () => {
    const ns = [1, 2, 3, 4, 10, 11, 12, 13, 14, 21, 22, 23, 24, 101, 102, 111, 112, 113, 121];
    const got = await reasons(ns.map((n) => ['book', 'en', n, 0.5]));
    const ordinals = got.map((r) => r.split(' ')[0]);
    expect(ordinals).toEqual(['1st', '2nd', '3rd', '4th', '10th', '11th', '12th', '13th', '14th', '21st', '22nd', '23rd', '24th', '101st', '102nd', '111th', '112th', '113th', '121st']);
    expect(got[1]).toBe('2nd renewal; 50% of all customers leave at their 2nd renewal');
  });

  test('Chinese: 第N次续保, for the plan, the whole book and the unmodelled', async () => {
    expect(await reasons([
      ['plan', 'zh', 2, 0.38],
      ['book', 'zh', 1, 0.5],
      ['plan', 'zh', 11, 0.1],
      ['irregular', 'zh', 3, null],
      ['not_modelled', 'zh', 4, null],
    ])).toEqual([
      '第2次续保；该产品 38% 的客户在第2次续保时流失',
      '第1次续保；全部客户中 50% 在第1次续保时流失',
      '第11次续保；该产品 10% 的客户在第11次续保时流失',
      '第3次续保；未建模：合同周期不规则，没有续保概率',
      '第4次续保；未建模：该合同没有续保概率',
    ]);
  });

  test('shares: whole percents, never a rounded 0% or 100%', async () => {
    const got = await reasons([
      ['plan', 'en', 1, 0.38],
      ['plan', 'en', 1, 0.004],
      ['plan', 'en', 1, 0.996],
      ['plan', 'en', 1, 0.0051],
      ['plan', 'en', 1, 1],
    ]);
    expect(got.map((r) => /; (\S+) of/.exec(r)![1])).toEqual(['38%', '<1%', '>99%', '1%', '100%']);
  });

  test('every code has a sentence in both languages; any other language reads as English', async () => {
    for (const code of RENEWAL_REASON_CODES) {
      const [en, zh, other] = await reasons([
        [code, 'en', 2, 0.25],
        [code, 'zh', 2, 0.25],
        [code, 'fr', 2, 0.25],
      ]);
      expect(en).toMatch(/^2nd renewal; /);
      expect(zh).toMatch(/^第2次续保；/);
      expect(other).toBe(en);
      for (const text of [en, zh]) expect(text).not.toMatch(/[{}]/);
    }
  });

  test('--lang zh words the list’s reasons in Chinese', async () => {
    const r = await renewals(store, { lang: 'zh' });
    expect(r.renewals[0].reason).toBe('第1次续保；全部客户中 50% 在第1次续保时流失');
    expect(r.renewals[1].reason).toBe('第2次续保；该产品 38% 的客户在第2次续保时流失');
  });
});

describe('errors', () => {
  test('no run yet: a store error', async () => {
    const empty = await Store.open(':memory:', { create: true });
    try {
      const err = await rejection(renewals(empty));
      expect(err.exitCode).toBe(ExitCode.store);
      expect(err.message).toBe('no model run yet: run `crm run` first');
    } finally {
      empty.close();
    }
  });

  test('a latest run without contracts: a store error saying how to load them', async () => {
    const bare = await Store.open(':memory:', { create: true });
    try {
      await seedContracts(bare, { contracts: false });
      const err = await rejection(renewals(bare));
      expect(err.exitCode).toBe(ExitCode.store);
      expect(err.message).toBe('run 2 (as of 2024-12-31) has no contracts');
      expect(err.details.join(' ')).toContain('crm ingest contracts');
    } finally {
      bare.close();
    }
  });
});

describe('crm export renewals (exportRenewals)', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('crm-renewals-export-');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const EXPORT_COLUMNS = [
    'rank', 'customer_id', 'name', 'email', 'phone', 'account_owner', 'contract_id', 'plan', 'status', 'renewal_due', 'days_until_due',
    'renewals', 'p_renew', 'premium', 'residual_value', 'value_at_risk', 'reason_code', 'reason',
  ];

  test('CSV: the list’s rows in its order, contacts included, formulas defused', async () => {
    const out = path.join(dir, 'renewals.csv');
    const result = await exportRenewals(store, { format: 'csv', out });
    expect(result).toMatchObject({ rows: 6, columns: EXPORT_COLUMNS, maskedColumns: [], format: 'csv' });
    expect(result.scope).toMatchObject({ run_id: 2, window_end: '2025-01-30' });
    const [header, ...rows] = parseCsv(fs.readFileSync(out, 'utf8'));
    expect(header).toEqual(EXPORT_COLUMNS);
    const col = (name: string) => rows.map((r) => r[header.indexOf(name)]);
    expect(col('contract_id')).toEqual(['K2', 'K1', 'K10', 'K3', 'K5', 'K4']);
    expect(col('email')[1]).toBe('anna.schmidt@example.com');
    expect(col('name')[3]).toBe(`'=HYPERLINK("http://evil")`);
    expect(col('reason')[1]).toBe("2nd renewal; 38% of this plan's customers leave at their 2nd renewal");
    expect(col('renewal_due')[3]).toBe('2024-12-20');
    expect(col('value_at_risk')[4]).toBe('');
  });

  test('--mask-pii masks e-mail and phone in every format; --within, --owner and --lang apply', async () => {
    const opts = { withinDays: 90, owner: 'Li Wei', lang: 'zh' as const, maskPii: true };
    const expected = ['K1', 'K3', 'K9', 'K5'];
    for (const format of ['csv', 'json', 'parquet', 'xlsx', 'arrow'] as const) {
      const out = path.join(dir, `li-wei.${format}`);
      const result = await exportRenewals(store, { ...opts, format, out });
      expect(result.rows, format).toBe(4);
      expect(result.maskedColumns, format).toEqual(['email', 'phone']);
      const raw = fs.readFileSync(out);
      for (const secret of ['anna.schmidt', 'carla@', '1234 5678', '12345678', '2345678']) expect(raw.includes(secret), `${format}: ${secret}`).toBe(false);
    }
    const rows = await store.all<{ contract_id: string; email: string; phone: string; reason: string }>(
      `SELECT contract_id, email, phone, reason FROM read_json('${path.join(dir, 'li-wei.json')}')`,
    );
    expect(rows.map((r) => r.contract_id)).toEqual(expected);
    expect(rows[0]).toEqual({ contract_id: 'K1', email: 'a***@example.com', phone: '+86 138****5678', reason: '第2次续保；该产品 38% 的客户在第2次续保时流失' });
    const parquet = await store.all<{ contract_id: string; phone: string }>(`SELECT contract_id, phone FROM read_parquet('${path.join(dir, 'li-wei.parquet')}')`);
    expect(parquet.map((r) => r.contract_id)).toEqual(expected);
    expect(parquet[1].phone).toBe('017****5678');
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(path.join(dir, 'li-wei.xlsx'));
    const sheet = book.worksheets[0];
    expect(sheet.name).toBe('Renewals');
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual(EXPORT_COLUMNS);
    const contractColumn = header.indexOf('contract_id') + 1;
    expect([2, 3, 4, 5].map((r) => sheet.getRow(r).getCell(contractColumn).value)).toEqual(expected);
    expect(sheet.getRow(2).getCell(header.indexOf('email') + 1).value).toBe('a***@example.com');
  });

  test('--columns narrows the file; errors come before any file is written', async () => {
    const out = path.join(dir, 'narrow.csv');
    const result = await exportRenewals(store, { format: 'csv', out, columns: ['contract_id', 'phone', 'renewal_due'], maskPii: true });
    expect(result.columns).toEqual(['contract_id', 'phone', 'renewal_due']);
    expect(parseCsv(fs.readFileSync(out, 'utf8'))[1]).toEqual(['K2', '555***4567', '2025-01-25']);
    const exists = await rejection(exportRenewals(store, { format: 'csv', out }));
    expect(exists.exitCode).toBe(ExitCode.output);
    const unknownOwner = await rejection(exportRenewals(store, { format: 'csv', out: path.join(dir, 'nobody.csv'), owner: 'Nobody' }));
    expect(unknownOwner.exitCode).toBe(ExitCode.input);
    expect(fs.existsSync(path.join(dir, 'nobody.csv'))).toBe(false);
  });
});
