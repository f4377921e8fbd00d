/**
 * The report's contracts section: shown only when the run has contracts; renewals due in the next
 * 30/60/90 days (contracts, premium, premium at risk, value at risk), the retention curve per plan
 * (observed and fitted), in English and Chinese, plan names from the data escaped.
 *
 * The run is a real `crm run` over a few purchases (as of 2024-12-31); its contract rows are
 * written by hand (test/helpers/contracts-store.ts), as `crm run`'s contract step would write them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatNumber, type Lang } from '../../src/reports/i18n.js';
import { Store } from '../../src/store/db.js';
import { renderPage } from '../helpers/report-pages.js';
import { createStore, type TestStore } from '../helpers/run.js';
import { seedContractRows } from '../helpers/contracts-store.js';

const HOSTILE_PLAN = '<img src=x onerror=alert(1)>';

interface Rendered {
  html: string;
  text: string;
  charts: string[];
  data: { charts: { id: string; spec: { datasets?: Record<string, Record<string, unknown>[]> } }[] };
}

async function render(store: TestStore, lang: Lang, name: string): Promise<Rendered> {
  const { html, text, charts } = await renderPage(store, lang, { name });
  const data = JSON.parse(/<script type="application\/json" id="crm-report-data">([\s\S]*?)<\/script>/.exec(html)![1]);
  return { html, text, charts, data };
}

let store: TestStore;
let before: Rendered;
const page: Partial<Record<Lang, Rendered>> = {};

beforeAll(async () => {
  store = await createStore(
    [
      { customer_id: 'C1', order_date: '2024-03-01', amount: 120 },
      { customer_id: 'C1', order_date: '2024-09-01', amount: 80 },
      { customer_id: 'C2', order_date: '2024-06-01', amount: 300 },
      { customer_id: 'C3', order_date: '2024-12-31', amount: 45 },
    ],
    'crm-report-contracts-',
  );
  store.json(['run']);
  before = await render(store, 'en', 'before');
  const s = await Store.open(store.db);
  try {
    await seedContractRows(s, 1);
    await s.run(`UPDATE contract_retention SET plan = '${HOSTILE_PLAN}' WHERE plan = 'Motor'`);
  } finally {
    s.close();
  }
  page.en = await render(store, 'en', 'en');
  page.zh = await render(store, 'zh', 'zh');
}, 120_000);
afterAll(() => store?.cleanup());

describe('a run without contracts', () => {
  test('no contracts section, no retention chart', () => {
    expect(before.text).not.toMatch(/Contracts and renewals|Renewals due|renewal/i);
    expect(before.charts.some((f) => f.startsWith('contract-retention'))).toBe(false);
  });
});

describe('a run with contracts', () => {
  test('the section, with the contracts counted', () => {
    expect(page.en!.text).toContain('Contracts and renewals');
    expect(page.en!.text).toContain('10 contracts in 3 plans, 8 of them in force or in their grace period');
    expect(page.en!.text).toContain('crm renewals --within 30');
  });

  test('KPI cards: due in the next 30 days, premium due, premium at risk, value at risk', () => {
    const cards: Record<string, string> = {};
    for (const m of page.en!.html.matchAll(/<div class="kpi-label">([^<]*)<\/div>\s*<div class="kpi-value">([^<]*)<\/div>/g)) cards[m[1]] = m[2];
    // Due by 2025-01-30: K2, K1, K10, K3 (in grace), K5 and K4 (not modelled).
    expect(cards['Renewals due, next 30 days']).toBe('6');
    expect(cards['Premium due, next 30 days']).toBe(formatNumber('en', 5000 + 1200 + 100 + 800 + 900 + 300, 'money'));
    expect(cards['Premium at risk, next 30 days']).toBe(formatNumber('en', 5000 * 0.5 + 1200 * 0.38 + 100 * 0.7 + 800 * 0.3, 'money'));
    expect(cards['Value at risk, next 30 days']).toBe(formatNumber('en', 5000 + 1140 + 700 + 600, 'money'));
    expect(page.en!.text).toContain('1 already ended, in their grace period');
  });

  test('the 30/60/90-day table: windows include the shorter ones', () => {
    const text = page.en!.text;
    const table = text.slice(text.indexOf('Renewals due in the next 30, 60 and 90 days'));
    expect(table).toMatch(/Due Contracts In grace Premium due Premium at risk Value at risk Not modelled/);
    expect(table).toContain(`Next 30 days 6 1 ${formatNumber('en', 8300, 'money')}`);
    expect(table).toContain(`Next 60 days 7 1 ${formatNumber('en', 10300, 'money')}`);
    expect(table).toContain(`Next 90 days 8 1 ${formatNumber('en', 11800, 'money')}`);
  });

  test('the retention chart: observed and fitted per plan, with its files and a takeaway', () => {
    for (const ext of ['.vl.json', '.svg', '.png']) expect(page.en!.charts).toContain(`contract-retention${ext}`);
    const chart = page.en!.data.charts.find((c) => c.id === 'contract-retention')!;
    const rows = Object.values(chart.spec.datasets ?? {}).flat();
    // Whole book: 3 observed + 4 fitted points; the (renamed) plan: 3 + 3.
    expect(rows.length).toBe(13);
    expect(rows.filter((r) => r.plan === 'All plans' && r.measure === 'Observed').map((r) => r.survival)).toEqual([1, 0.7, 0.55]);
    expect(rows.filter((r) => r.plan === 'All plans' && r.measure === 'Fitted (sBG)').map((r) => r.period)).toEqual([0, 1, 2, 3]);
    for (const row of rows) expect(Object.keys(row)).not.toContain('customer_id');
    expect(page.en!.text).toContain(
      'Across all plans 70% of contracts renewed at their first renewal (the sBG model fits 67%); after 2 renewals 55% are still in force (fitted 52%).',
    );
  });

  test('plan names from the data are escaped, never markup', () => {
    for (const lang of ['en', 'zh'] as const) {
      expect(page[lang]!.html).not.toContain(HOSTILE_PLAN);
      expect(page[lang]!.html).not.toMatch(/<img src=x/i);
    }
    const svg = fs.readFileSync(path.join(store.dir, 'en', 'charts', 'contract-retention.svg'), 'utf8');
    expect(svg).not.toContain(HOSTILE_PLAN);
    expect(svg).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  test('in Chinese', () => {
    const text = page.zh!.text;
    expect(text).toContain('合同与续保');
    expect(text).toContain('共 10 份合同，分属 3 个产品');
    expect(text).toContain('未来 30 天到期续保');
    expect(text).toContain('未来 30、60、90 天到期的续保');
    expect(text).toMatch(/未来 90 天 8 1 /);
    expect(text).toContain('全部产品中，70% 的合同在第一次续保时续保（sBG 模型拟合为 67%）');
    const rows = Object.values(page.zh!.data.charts.find((c) => c.id === 'contract-retention')!.spec.datasets ?? {}).flat();
    expect(new Set(rows.map((r) => r.measure))).toEqual(new Set(['实际', '拟合（sBG）']));
    expect(rows.some((r) => r.plan === '全部产品')).toBe(true);
    for (const ext of ['.vl.json', '.svg', '.png']) expect(page.zh!.charts).toContain(`contract-retention.zh${ext}`);
  });
});
