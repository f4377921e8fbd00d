/**
 * Contracts end to end with the real CLI on the committed files: what `crm run` writes for
 * contracts must agree with what `crm renewals`, `crm export renewals`, `crm customer` and
 * `crm report` show.
 * - The Chinese policy export (data/zh/保单_gb18030.csv, its policyholders in 客户_gb18030.csv): a
 *   pure insurer. The renewal list is exactly the contract_latest rows in force (active or
 *   in grace) due within the window, ordered by value at risk; each customer's contract columns
 *   are the sums and counts of their contract_latest rows.
 * - The demo's files (data/sample: transactions, customers, policyholders, contracts): every
 *   customer once; the purchase part of each purchase customer exactly as in a run of the same
 *   files without contracts (only the value tier, which adds contract residual value, may move);
 *   the report has its contracts section.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crm, ROOT, sql, tempDir } from '../helpers/cli.js';
import { parseCsv } from '../helpers/csv.js';

const ZH = path.join(ROOT, 'data/zh');
const SAMPLE = path.join(ROOT, 'data/sample');
/** Wide enough to hold several of the Chinese book's renewals (as of 2025-05-20: due from 2025-06-30 on). */
const WITHIN = 270;

function ok(db: string, args: string[], cwd?: string): string {
  const r = crm(['--db', db, ...args], { cwd });
  if (r.code !== 0) throw new Error(`crm ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

interface RenewalJson {
  run_id: number;
  as_of: string;
  window_end: string;
  contracts: number;
  renewals: { rank: number; customer_id: string; contract_id: string; name: string | null; value_at_risk: number | null; premium: number; reason: string; reason_code: string }[];
}

interface ContractLatest {
  contract_id: string;
  customer_id: string;
  status: string;
  renewal_due: string | null;
  value_at_risk: number | null;
  premium: number;
  residual_value_horizon: number | null;
}

describe('the Chinese policy export: ingest contracts, run, renewals, export, customer', () => {
  const dir = tempDir('crm-contracts-run-zh-');
  const db = path.join(dir, 'crm.duckdb');
  let list: RenewalJson;
  let listZh: RenewalJson;
  let latest: ContractLatest[];

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => {
    ok(db, ['ingest', 'contracts', '--encoding', 'gb18030', path.join(ZH, '保单_gb18030.csv')]);
    ok(db, ['ingest', 'customers', '--encoding', 'gb18030', path.join(ZH, '客户_gb18030.csv')]);
    ok(db, ['run']);
    list = JSON.parse(ok(db, ['renewals', '--within', String(WITHIN), '--json']));
    listZh = JSON.parse(ok(db, ['renewals', '--within', String(WITHIN), '--json', '--lang', 'zh']));
    latest = sql<ContractLatest>(
      db,
      `SELECT contract_id, customer_id, status, CAST(renewal_due AS VARCHAR) AS renewal_due, value_at_risk, CAST(premium AS DOUBLE) AS premium, residual_value_horizon
       FROM contract_latest ORDER BY contract_id`,
    );
  });

  it('the run models the whole book: 16 contracts of 12 policyholders, none of them buyers', () => {
    expect(latest).toHaveLength(16);
    expect(sql(db, `SELECT count(*) AS customers, count(*) FILTER (WHERE frequency IS NULL) AS contracts_only, count(DISTINCT customer_id) AS distinct_ids FROM customer_latest`)).toEqual([
      { customers: 12, contracts_only: 12, distinct_ids: 12 },
    ]);
  });

  it('the renewal list is the contract_latest rows in force due within the window, by value at risk', () => {
    const expected = latest
      .filter((c) => ['active', 'in_grace'].includes(c.status) && c.renewal_due !== null && c.renewal_due <= list.window_end)
      .sort((a, b) => (b.value_at_risk ?? -Infinity) - (a.value_at_risk ?? -Infinity) || b.premium - a.premium);
    expect(expected.length).toBeGreaterThan(3);
    expect(expected.length).toBeLessThan(latest.filter((c) => c.status === 'active').length);
    expect(list).toMatchObject({ as_of: '2025-05-20', window_end: '2026-02-14', contracts: expected.length });
    expect(list.renewals.map((r) => [r.rank, r.contract_id, r.customer_id, r.value_at_risk])).toEqual(
      expected.map((c, i) => [i + 1, c.contract_id, c.customer_id, c.value_at_risk]),
    );
    // Names come from the policyholders' file.
    expect(list.renewals.find((r) => r.customer_id === 'KH0006')?.name).toBe('成都天府医疗器械有限公司');
    // The default window (30 days) holds none of them: the first is due 41 days after as-of.
    expect(JSON.parse(ok(db, ['renewals', '--json'])).renewals).toEqual([]);
  });

  it('--lang zh lists the same contracts with the reasons in Chinese', () => {
    expect(listZh.renewals.map((r) => r.contract_id)).toEqual(list.renewals.map((r) => r.contract_id));
    expect(list.renewals[0].reason).toMatch(/^\d+(st|nd|rd|th) renewal; \d+% of all customers leave at their/);
    expect(listZh.renewals[0].reason).toMatch(/^第\d+次续保；全部客户中 \d+% 在第\d+次续保时流失$/);
  });

  it('crm export renewals writes the same list', () => {
    const out = path.join(dir, 'x.csv');
    ok(db, ['export', 'renewals', '--within', String(WITHIN), '--out', out]);
    const text = fs.readFileSync(out, 'utf8');
    const [header, ...rows] = parseCsv(text.includes('\r\n') ? text : text.replace(/\n/g, '\r\n')).filter((r) => r.length > 1);
    const column = (name: string) => rows.map((r) => r[header.indexOf(name)]);
    expect(column('contract_id')).toEqual(list.renewals.map((r) => r.contract_id));
    expect(column('rank')).toEqual(list.renewals.map((r) => String(r.rank)));
    expect(column('reason')).toEqual(list.renewals.map((r) => r.reason));
  });

  it("each customer's contract columns are the sums and counts of their contract_latest rows", () => {
    const customers = sql<{ customer_id: string; contracts_in_force: number; contract_residual_value: number | null }>(
      db,
      'SELECT customer_id, contracts_in_force, contract_residual_value FROM customer_latest ORDER BY customer_id',
    );
    const ids = [...new Set(latest.map((c) => c.customer_id))].sort();
    expect(customers.map((c) => c.customer_id)).toEqual(ids);
    for (const c of customers) {
      const own = latest.filter((k) => k.customer_id === c.customer_id);
      const modelled = own.filter((k) => k.residual_value_horizon !== null);
      expect(c.contracts_in_force, c.customer_id).toBe(own.filter((k) => ['active', 'in_grace'].includes(k.status)).length);
      if (modelled.length === 0) expect(c.contract_residual_value, c.customer_id).toBeNull();
      else expect(c.contract_residual_value, c.customer_id).toBeCloseTo(modelled.reduce((s, k) => s + k.residual_value_horizon!, 0), 6);
    }
    // Lapsed and cancelled contracts count for nothing: KH0004 has only a cancelled policy.
    expect(customers.find((c) => c.customer_id === 'KH0004')).toEqual({ customer_id: 'KH0004', contracts_in_force: 0, contract_residual_value: 0 });
  });

  it('crm customer shows a policyholder with the same contracts and values', () => {
    const shown = JSON.parse(ok(db, ['customer', 'KH0006', '--json']));
    const own = latest.filter((c) => c.customer_id === 'KH0006');
    expect(shown.profile.name).toBe('成都天府医疗器械有限公司');
    expect(shown.metrics).toMatchObject({ contracts_in_force: 2, frequency: null, clv: null, next_renewal_due: '2025-08-31' });
    expect(shown.metrics.contract_residual_value).toBeCloseTo(own.reduce((s, k) => s + (k.residual_value_horizon ?? 0), 0), 6);
    expect(shown.contracts.map((c: { contract_id: string }) => c.contract_id).sort()).toEqual(own.map((c) => c.contract_id).sort());
    const text = ok(db, ['customer', 'KH0006']);
    expect(text).toContain('2 contracts in force');
    expect(text).toContain('BD21000601');
  });

  it('crm report on this pure policy book: no warning, the contracts section, no purchase section', () => {
    const expected = {
      en: {
        file: 'report.html',
        headings: ['Contracts and renewals', 'Data quality', 'How these figures are made'],
        shown: ['No customer has a purchase by May 20, 2025: this report shows the contracts.', 'Predictions look'],
        hidden: ['Revenue is net of returns', 'Active customers', 'Backtest'],
      },
      zh: {
        file: 'report.zh.html',
        headings: ['合同与续保', '数据质量', '口径说明'],
        shown: ['本报告只展示合同', '预测期为未来 12 个月'],
        hidden: ['扣除退货', '活跃客户', '回测：'],
      },
    };
    for (const lang of ['en', 'zh'] as const) {
      const out = path.join(dir, `report-${lang}`);
      const r = crm(['--db', db, 'report', '--out', out, '--lang', lang]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/warning|Infinite extent/i);
      const page = fs.readFileSync(path.join(out, expected[lang].file), 'utf8').replace(/<script[\s\S]*?<\/script>/g, ' ');
      const headings = [...page.matchAll(/<h2[^>]*>([\s\S]*?)<\/h2>/g)].map((m) => m[1].replace(/<[^>]+>/g, '').trim());
      expect(headings, lang).toEqual(expected[lang].headings);
      for (const text of expected[lang].shown) expect(page, `${lang}: ${text}`).toContain(text);
      for (const text of expected[lang].hidden) expect(page, `${lang}: ${text}`).not.toContain(text);
    }
  });
});

describe("the demo's files: transactions, customers, policyholders and contracts", () => {
  const dir = tempDir('crm-contracts-run-sample-');
  const withContracts = path.join(dir, 'contracts.duckdb');
  const without = path.join(dir, 'purchases.duckdb');
  const CONTRACT_COLUMNS = ['contracts_in_force', 'contract_premium', 'contract_period_unit', 'annual_premium', 'renewal_probability', 'contract_residual_value', 'next_renewal_due'];
  const purchasePart = (where: string) => `SELECT * EXCLUDE (value_tier, ${CONTRACT_COLUMNS.join(', ')}) FROM customer_latest WHERE ${where} ORDER BY customer_id`;

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => {
    for (const db of [withContracts, without]) {
      ok(db, ['ingest', 'transactions', path.join(SAMPLE, 'transactions.csv')]);
      ok(db, ['ingest', 'customers', path.join(SAMPLE, 'customers.csv'), path.join(SAMPLE, 'policyholders.csv')]);
    }
    ok(withContracts, ['ingest', 'contracts', path.join(SAMPLE, 'contracts.csv')]);
    ok(withContracts, ['run']);
    ok(without, ['run']);
  });

  it('every customer appears once: buyers, policyholders and both', () => {
    const [counts] = sql<{ rows: number; ids: number; buyers: number; policyholders: number; both: number }>(
      withContracts,
      `SELECT count(*) AS rows, count(DISTINCT customer_id) AS ids, count(*) FILTER (WHERE frequency IS NOT NULL) AS buyers,
              count(*) FILTER (WHERE contracts_in_force IS NOT NULL) AS policyholders,
              count(*) FILTER (WHERE frequency IS NOT NULL AND contracts_in_force IS NOT NULL) AS both
       FROM customer_latest`,
    );
    const [plain] = sql<{ rows: number }>(without, 'SELECT count(*) AS rows FROM customer_latest');
    const [book] = sql<{ customers: number }>(withContracts, 'SELECT count(DISTINCT customer_id) AS customers FROM contract_latest');
    expect(counts.rows).toBe(counts.ids);
    expect(counts.buyers).toBe(plain.rows);
    expect(counts.policyholders).toBe(book.customers);
    expect(counts.both).toBeGreaterThan(0);
    expect(counts.rows).toBe(counts.buyers + counts.policyholders - counts.both);
  });

  it("the purchase part of each buyer is as without contracts; purchase-only customers' columns all equal but the value tier", () => {
    const buyers = 'frequency IS NOT NULL';
    expect(sql(withContracts, purchasePart(buyers))).toEqual(sql(without, purchasePart(buyers)));
    const purchaseOnly = sql<{ customer_id: string }>(withContracts, 'SELECT customer_id FROM customer_latest WHERE contracts_in_force IS NULL').map((r) => `'${r.customer_id}'`);
    expect(purchaseOnly.length).toBeGreaterThan(100);
    const only = `customer_id IN (${purchaseOnly.join(', ')})`;
    const all = `SELECT * EXCLUDE (value_tier) FROM customer_latest WHERE ${only} ORDER BY customer_id`;
    expect(sql(withContracts, all)).toEqual(sql(without, all));
  });

  it('crm report renders, with the contracts section', () => {
    const out = path.join(dir, 'report');
    const r = crm(['--db', withContracts, 'report', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('Contracts and renewals');
    // Buyers and policyholders: the purchase sections stay.
    expect(html).toContain('Key accounts');
    expect(html).toContain('Revenue is net of returns');
    expect(html).not.toContain('this report shows the contracts');
  });
});
