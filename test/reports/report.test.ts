/**
 * `crm report` end to end, through the real CLI on the sample exports (plus one hostile
 * customer): the files it writes, the KPI values (computed here again by independent SQL on
 * the ingested transactions), privacy, escaping, Chinese, --run, the fallback run and errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { crm, ROOT, sql, tempDir } from '../helpers/cli.js';
import { buildFallbackStore, buildSampleStore, HOSTILE_CUSTOMER, report, type ReportStore } from '../helpers/report-store.js';
import { chartLibrarySources, escapeHtml } from '../../src/reports/html.js';
import { formatNumber, formatDate } from '../../src/reports/i18n.js';

const MAX_BYTES = 5 * 1024 * 1024;

/** Charts of every fitted run; the backtest chart only for runs that have one. */
const CHARTS = ['revenue-by-month', 'pareto', 'segments', 'rfm-heatmap', 'churn-risk', 'cohort-retention', 'clv-distribution', 'forecast', 'rejects'];

let store: ReportStore;
let out: string;
const html: Record<string, string> = {};
let jsonResult: Record<string, unknown>;
let textOutput: string;

beforeAll(() => {
  store = buildSampleStore();
  out = path.join(store.dir, 'out');
  textOutput = report(store.db, ['--out', out]).stdout;
  report(store.db, ['--out', out, '--lang', 'zh']);
  jsonResult = JSON.parse(report(store.db, ['--out', path.join(store.dir, 'run1'), '--run', '1', '--json']).stdout);
  html.en = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  html.zh = fs.readFileSync(path.join(out, 'report.zh.html'), 'utf8');
  html.run1 = fs.readFileSync(path.join(store.dir, 'run1', 'report.html'), 'utf8');
}, 240_000);

afterAll(() => {
  if (store) fs.rmSync(store.dir, { recursive: true, force: true });
});

/** The page without the inlined chart libraries (markup, styles, page data and page script). */
function pageOwnText(page: string): string {
  let own = page;
  for (const library of chartLibrarySources()) own = own.replace(`<script>${library}</script>`, '<script></script>');
  expect(own.length).toBeLessThan(page.length / 3);
  return own;
}

/** The page data: chart specs with their data, as the page script reads it. */
function pageData(page: string): { charts: { id: string; spec: Record<string, unknown> }[] } {
  const m = /<script type="application\/json" id="crm-report-data">([\s\S]*?)<\/script>/.exec(page);
  if (!m) throw new Error('no page data');
  return JSON.parse(m[1]);
}

function kpiValues(page: string): Record<string, string> {
  const cards: Record<string, string> = {};
  for (const m of page.matchAll(/<div class="kpi-label">([^<]*)<\/div>\s*<div class="kpi-value">([^<]*)<\/div>/g)) cards[m[1]] = m[2];
  return cards;
}

describe('crm report on the sample store', () => {
  test('prints where the report is, its size, chart count and time; --json says the same', () => {
    expect(textOutput).toMatch(new RegExp(`^${escapeRe(path.join(out, 'report.html'))} \\(\\d+(\\.\\d+)? (KB|MB), 9 charts, [\\d.]+ (ms|s); run 2 as of 2025-12-31\\)\\n$`));
    expect(jsonResult).toMatchObject({ run_id: 1, as_of: '2025-06-30', lang: 'en', model_status: 'fitted', charts: 10 });
    expect(jsonResult.htmlFile).toBe(path.join(store.dir, 'run1', 'report.html'));
    expect(jsonResult.bytes).toBe(Buffer.byteLength(html.run1));
    expect(typeof jsonResult.ms).toBe('number');
    // Where the time went: each phase and each SQL cell of the notebook, in ms.
    const phases = jsonResult.phases as Record<string, number>;
    expect(Object.keys(phases)).toEqual(['open', 'prepare', 'sql', 'charts', 'chart_files', 'html']);
    for (const value of Object.values(phases)) expect(value).toBeGreaterThanOrEqual(0);
    const queries = jsonResult.queries as { name: string; rows: number; ms: number }[];
    expect(queries.map((q) => q.name)).toEqual(expect.arrayContaining(['run', 'kpi', 'churn_bins', 'value_tiers']));
    expect(queries.find((q) => q.name === 'kpi')).toMatchObject({ rows: 1 });
    for (const q of queries) expect(q.ms).toBeGreaterThanOrEqual(0);
  });

  test('writes report.html and report.zh.html under 5 MB, and every chart as .vl.json, .svg and .png', () => {
    for (const file of ['report.html', 'report.zh.html']) {
      const size = fs.statSync(path.join(out, file)).size;
      expect(size).toBeGreaterThan(100_000);
      expect(size).toBeLessThan(MAX_BYTES);
    }
    const files = new Set(fs.readdirSync(path.join(out, 'charts')));
    for (const chart of CHARTS) {
      for (const stem of [chart, `${chart}.zh`]) {
        for (const ext of ['.vl.json', '.svg', '.png']) expect(files, `${stem}${ext}`).toContain(`${stem}${ext}`);
        expect(fs.readFileSync(path.join(out, 'charts', `${stem}.svg`), 'utf8')).toContain('role-mark');
        expect(fs.readFileSync(path.join(out, 'charts', `${stem}.png`)).subarray(1, 4).toString('latin1')).toBe('PNG');
      }
    }
    // Run 2 has no backtest: no backtest chart, a note pointing at run 1 instead.
    expect(files.has('backtest.png')).toBe(false);
    expect(html.en).toContain('This run has no backtest. Run 1 has one');
    const run1Charts = fs.readdirSync(path.join(store.dir, 'run1', 'charts'));
    expect(run1Charts).toContain('backtest.png');
    expect(run1Charts.filter((f) => f.endsWith('.png')).length).toBe(10);
  });

  test('every chart has a title and a takeaway; charts embed aggregates, not customers', () => {
    const figures = [...html.en.matchAll(/<figure class="chart" id="figure-([^"]+)">\s*<h3 class="chart-title">([^<]+)<\/h3>\s*<p class="takeaway">([^<]+)<\/p>/g)];
    expect(figures.map((f) => f[1]).sort()).toEqual([...CHARTS].sort());
    for (const [, id, title, takeaway] of figures) {
      expect(title.trim().length, id).toBeGreaterThan(10);
      expect(takeaway.trim().length, id).toBeGreaterThan(20);
      expect(takeaway, id).not.toContain('–'); // no placeholder came out empty
    }
    for (const chart of pageData(html.en).charts) {
      const datasets = Object.values((chart.spec.datasets ?? {}) as Record<string, Record<string, unknown>[]>);
      // Bounded by months, bins and segments (the cohort grid is the largest: 36 × 24 at most).
      expect(datasets.reduce((a, d) => a + d.length, 0), chart.id).toBeLessThanOrEqual(36 * 24);
      for (const row of datasets.flat()) expect(Object.keys(row), chart.id).not.toContain('customer_id');
    }
  });

  test('the 12-month projection is crm forecast’s: the chart’s months and band, the sentence’s totals', () => {
    const forecast = JSON.parse(crm(['--db', store.db, 'forecast', '--json']).stdout) as {
      periods: { value: number; value_low: number; value_high: number }[];
      total: { value: number; value_low: number; value_high: number };
      level: number;
    };
    const chart = pageData(html.en).charts.find((c) => c.id === 'forecast')!;
    const rows = Object.values((chart.spec.datasets ?? {}) as Record<string, { month: number; value: number; value_low: number; value_high: number }[]>).flat();
    expect(rows.map((r) => r.month)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    rows.forEach((r, k) => {
      expect(r.value).toBeCloseTo(forecast.periods[k].value, 6);
      expect(r.value_low).toBeCloseTo(forecast.periods[k].value_low, 6);
      expect(r.value_high).toBeCloseTo(forecast.periods[k].value_high, 6);
    });
    const money = (v: number) => formatNumber('en', v, 'money');
    expect(html.en).toContain(`Customers are expected to bring ${money(forecast.total.value)} over the next 12 months`);
    expect(html.en).toContain(`(${money(forecast.total.value_low)} to ${money(forecast.total.value_high)} over the 12 months)`);
    expect(html.zh).toContain('阴影区间为模型抽样不确定性的 90% 区间');
  });

  test('KPI cards show the values that independent SQL finds', () => {
    const asOf = "DATE '2025-12-31'";
    const [facts] = sql<Record<string, number>>(
      store.db,
      `WITH buyers AS (SELECT DISTINCT customer_id FROM transactions WHERE order_date <= ${asOf} AND NOT is_return),
            tx AS (SELECT t.* FROM transactions t JOIN buyers USING (customer_id) WHERE t.order_date <= ${asOf}),
            per_customer AS (
              SELECT b.customer_id, coalesce(CAST(sum(t.amount) AS DOUBLE), 0) AS revenue
              FROM buyers b LEFT JOIN tx t USING (customer_id) GROUP BY b.customer_id
            ),
            ranked AS (
              SELECT greatest(revenue, 0) AS revenue, row_number() OVER (ORDER BY revenue DESC) AS position, count(*) OVER () AS n
              FROM per_customer
            )
       SELECT (SELECT count(*) FROM buyers) AS customers,
              (SELECT CAST(sum(amount) AS DOUBLE) FROM tx WHERE order_date > ${asOf} - 365) AS revenue_current,
              (SELECT CAST(sum(amount) AS DOUBLE) FROM tx WHERE order_date <= ${asOf} - 365 AND order_date > ${asOf} - 730) AS revenue_previous,
              (SELECT sum(revenue) FILTER (WHERE position <= ceil(0.2 * n)) / sum(revenue) FROM ranked) AS top20_share,
              (SELECT count(*) FROM customer_metrics WHERE run_id = 2 AND p_alive > 0.5) AS active,
              (SELECT sum(expected_purchases * expected_order_value) FROM customer_metrics WHERE run_id = 2) AS projected`,
    );
    expect(facts.customers).toBeGreaterThan(400);
    const change = facts.revenue_current / facts.revenue_previous - 1;
    const cards = kpiValues(html.en);
    expect(cards).toEqual({
      Customers: formatNumber('en', facts.customers, 'integer'),
      'Active customers': formatNumber('en', facts.active, 'integer'),
      'Revenue, last 365 days': formatNumber('en', facts.revenue_current, 'money'),
      'Projected revenue, next 12 months': formatNumber('en', facts.projected, 'money'),
      'Revenue from the top 20%': formatNumber('en', facts.top20_share, 'percent', 0),
    });
    expect(html.en).toContain(`${change >= 0 ? '+' : ''}${formatNumber('en', change, 'percent')} on the 365 days before (${formatNumber('en', facts.revenue_previous, 'money')})`);
    const zhCards = kpiValues(html.zh);
    expect(zhCards['近 365 天收入']).toBe(formatNumber('zh', facts.revenue_current, 'money'));
    expect(zhCards['客户数']).toBe(formatNumber('zh', facts.customers, 'integer'));
    expect(formatNumber('zh', facts.revenue_current, 'money')).toMatch(/万$/);
  });

  test('the 80/20 takeaway matches the key accounts of the run', () => {
    const [k] = sql<{ customer_share: number; revenue_share: number }>(
      store.db,
      `SELECT count(*) FILTER (WHERE is_key_account) / count(*) AS customer_share,
              sum(net_revenue) FILTER (WHERE is_key_account) / sum(net_revenue) FILTER (WHERE net_revenue > 0) AS revenue_share
       FROM customer_metrics WHERE run_id = 2`,
    );
    expect(html.en).toContain(
      `Top ${formatNumber('en', k.customer_share, 'percent', 0)} of customers bring ${formatNumber('en', k.revenue_share, 'percent', 0)} of revenue`,
    );
  });

  test('no e-mail address or phone number of any customer appears anywhere in the output', () => {
    const contacts = sql<{ email: string | null; phone: string | null }>(store.db, 'SELECT email, phone FROM customers');
    const emails = contacts.map((c) => c.email).filter((e): e is string => Boolean(e));
    const phones = contacts.map((c) => c.phone).filter((p): p is string => Boolean(p));
    expect(emails.length).toBeGreaterThan(400);
    expect(phones.length).toBeGreaterThan(300);
    // Data reaches a page only through its markup and page data; the inlined libraries are the
    // same bytes in every report. Every e-mail-like token of the whole file is checked too.
    const outputs = [html.en, html.zh, html.run1].map(pageOwnText);
    for (const dir of [path.join(out, 'charts'), path.join(store.dir, 'run1', 'charts')]) {
      for (const f of fs.readdirSync(dir)) if (!f.endsWith('.png')) outputs.push(fs.readFileSync(path.join(dir, f), 'utf8'));
    }
    for (const text of outputs) {
      for (const email of emails) expect(text.includes(email), email).toBe(false);
      for (const phone of phones) expect(text.includes(phone) || text.includes(escapeHtml(phone)), phone).toBe(false);
    }
    const emailSet = new Set(emails.map((e) => e.toLowerCase()));
    for (const page of [html.en, html.zh, html.run1]) {
      for (const token of page.match(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g) ?? []) {
        expect(emailSet.has(token.toLowerCase()), token).toBe(false);
      }
    }
    // Digits of phone numbers, whatever their punctuation, stay out of the report's own text.
    for (const page of [html.en, html.zh]) {
      const own = pageOwnText(page).replace(/\D+/g, ' ');
      for (const phone of phones) {
        const digits = phone.replace(/\D/g, '');
        if (digits.length >= 9) expect(own.includes(digits), phone).toBe(false);
      }
    }
    expect(html.en).not.toContain(HOSTILE_CUSTOMER.email);
  });

  test('a customer named <script>… is shown as text, never as markup', () => {
    const c = HOSTILE_CUSTOMER;
    for (const page of [html.en, html.zh]) {
      expect(page).toContain(`<td>${escapeHtml(c.name)}</td>`);
      expect(page).toContain(`<td>${escapeHtml(c.owner)}</td>`);
      expect(page).not.toContain(c.name);
      expect(page).not.toContain(c.owner);
      expect(page).not.toContain('alert("pwned")</script>');
    }
  });

  test('Chinese: segment and tier names, labels and takeaways are translated; dates and amounts read the Chinese way', () => {
    const own = pageOwnText(html.zh);
    for (const term of ['冠军客户', '忠诚客户', '已流失', '铂金', '黄金']) expect(own).toContain(term);
    for (const english of ['Champions', 'Loyal', 'Hibernating', 'Platinum', 'Share of customers', 'Net revenue', 'Key accounts']) {
      expect(own.includes(english), english).toBe(false);
    }
    expect(html.zh).toContain('<html lang="zh-CN">');
    expect(html.zh).toContain('2025年12月31日');
    expect(html.zh).toContain('前 15 位关键客户');
    expect(fs.readFileSync(path.join(out, 'charts/segments.zh.svg'), 'utf8')).toContain('冠军客户');
    expect(fs.readFileSync(path.join(out, 'charts/revenue-by-month.zh.svg'), 'utf8')).toMatch(/>\d{4}年\d{1,2}月</);
    const zhCharts = pageData(html.zh).charts.map((c) => JSON.stringify(c.spec));
    expect(zhCharts.join('\n')).not.toMatch(/"(Champions|Loyal|Platinum)"/);
  });

  test('--run 1 reports run 1: its as-of date, its figures and its backtest', () => {
    expect(html.run1).toContain(`Run 1, data as of <strong>${formatDate('en', '2025-06-30')}</strong>`);
    expect(html.run1).not.toContain('Dec 31, 2025</strong>');
    const [bt] = sql<{ auc: number; auc_p: number; customers: number }>(
      store.db,
      `SELECT CAST(backtest->>'$.auc' AS DOUBLE) AS auc, CAST(backtest->>'$.auc_p_no_purchase' AS DOUBLE) AS auc_p, customers FROM runs WHERE run_id = 1`,
    );
    const cards = kpiValues(html.run1);
    expect(cards.Customers).toBe(formatNumber('en', bt.customers, 'integer'));
    expect(cards['AUC of P(no purchase)']).toBe(formatNumber('en', bt.auc_p));
    expect(cards['AUC of 1 − P(alive)']).toBe(formatNumber('en', bt.auc));
    expect(html.run1).toContain('id="figure-backtest"');
  });

  test('without a run: exit code 4 and the way out', () => {
    const dir = tempDir();
    const db = path.join(dir, 'crm.duckdb');
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', path.join(store.dir, 'extra_transactions.csv')]).code).toBe(0);
    const r = crm(['--db', db, 'report', '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('crm: error: no model run yet: run `crm run` first');
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an unknown run id is refused with the runs there are', () => {
    const r = crm(['--db', store.db, 'report', '--run', '7', '--out', path.join(store.dir, 'nope')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no run 7 in the store');
    expect(r.stderr).toContain('Runs: 1, 2.');
  });

  test('crm notebook render --run gives a copy of the notebook the same views', () => {
    const copy = path.join(store.dir, 'my-report.md');
    fs.copyFileSync(path.join(ROOT, 'notebooks/report.md'), copy);
    const r = crm(['--db', store.db, '-q', 'notebook', 'render', copy, '--out', path.join(store.dir, 'copy'), '--run', '1']);
    expect(r.code, r.stderr).toBe(0);
    const page = fs.readFileSync(path.join(store.dir, 'copy', 'my-report.html'), 'utf8');
    expect(page).toContain(`Run 1, data as of <strong>${formatDate('en', '2025-06-30')}</strong>`);
  });
});

describe('a run that fell back (3 customers, no models)', () => {
  let fallback: ReportStore;
  let page: string;
  beforeAll(() => {
    fallback = buildFallbackStore();
    report(fallback.db, ['--out', path.join(fallback.dir, 'out')]);
    page = fs.readFileSync(path.join(fallback.dir, 'out', 'report.html'), 'utf8');
  }, 120_000);
  afterAll(() => {
    if (fallback) fs.rmSync(fallback.dir, { recursive: true, force: true });
  });

  test('still renders, says why, and leaves out what needs the models', () => {
    expect(sql(fallback.db, 'SELECT model_status FROM runs')).toEqual([{ model_status: 'fallback' }]);
    expect(page).toContain('The statistical models were not fitted for this run');
    expect(page).toContain('There are only 3 customers, too few to estimate churn and lifetime value');
    expect(page).toContain('Lifetime values need the fitted models');
    expect(page).toContain('Churn risk (recency rule)');
    expect(kpiValues(page)).toMatchObject({ Customers: '3', 'Projected revenue': '–' });
    const charts = fs.readdirSync(path.join(fallback.dir, 'out', 'charts')).filter((f) => f.endsWith('.png')).sort();
    expect(charts).toEqual(['churn-risk.png', 'cohort-retention.png', 'pareto.png', 'revenue-by-month.png', 'rfm-heatmap.png', 'segments.png']);
    expect(page).toContain('No row was rejected');
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
