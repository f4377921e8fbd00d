/**
 * The report tells what the run actually did (issue #8 §5), in English and Chinese:
 * - a store whose data starts inside the previous trend window: "not enough history" instead of
 *   a revenue change, and no key-account trend;
 * - a run that fell back: a plain-language notice for its fallback code (no optimiser jargon;
 *   the technical message stays in runs.fallback_reason), and the recency score and
 *   revenue-based tiers in "How these figures are made";
 * - a fitted run: BG/NBD with its time unit and log-likelihood, Gamma-Gamma, horizon, discount
 *   rate and the churn tiers' basis, as the run recorded them; with `bgnbd.boundary` set, the
 *   limiting model is described.
 * Reports are rendered in process (renderReport) from stores built by the real ingest and CLI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderReport } from '../../src/reports/report.js';
import { formatDate, formatNumber, type Lang } from '../../src/reports/i18n.js';
import { Store } from '../../src/store/db.js';
import { SAMPLE } from '../helpers/report-store.js';
import { GENERATED_AT } from '../helpers/reports.js';
import { createStore, type TestStore, type TxRow } from '../helpers/run.js';

/** Words a plain-language notice must not use. */
const JARGON = /BFGS|gradient|converge|Hessian|running away|ran away|parameter a\b/i;

/** The visible text of a report page: no scripts, styles or tags, entities decoded, spaces collapsed. */
function pageText(file: string): string {
  return fs
    .readFileSync(file, 'utf8')
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');
}

async function render(store: TestStore, lang: Lang, runId?: number): Promise<string> {
  const outDir = path.join(store.dir, `out-${runId ?? 'latest'}-${lang}`);
  const result = await renderReport({ storePath: store.db, outDir, lang, runId, now: GENERATED_AT });
  return pageText(result.htmlFile);
}

async function write(store: TestStore, sql: string): Promise<void> {
  const s = await Store.open(store.db);
  try {
    await s.run(sql);
  } finally {
    s.close();
  }
}

describe('data starting 9 days before the current trend window (2 customers: the run falls back)', () => {
  const ROWS: TxRow[] = [
    { customer_id: 'D', order_date: '2023-12-25', amount: 1000 },
    { customer_id: 'D', order_date: '2024-12-31', amount: 100 },
    { customer_id: 'U', order_date: '2023-12-23', amount: 100 },
    { customer_id: 'U', order_date: '2024-12-30', amount: 2640 },
  ];
  let store: TestStore;
  const page: Record<string, string> = {};
  beforeAll(async () => {
    store = await createStore(ROWS, 'crm-report-partial-');
    store.json(['run', '--as-of', '2024-12-31']);
    page.en = await render(store, 'en');
    page.zh = await render(store, 'zh');
  }, 120_000);
  afterAll(() => store?.cleanup());

  test('no revenue change: "not enough history", with the dates that decide it', () => {
    expect(page.en).toContain(`Revenue, last 365 days 2,740 not enough history to compare with the 365 days before (data from ${formatDate('en', '2023-12-23')})`);
    expect(page.en).toContain(
      `There is not enough history to compare it with the 365 days before: the data starts on ${formatDate('en', '2023-12-23')}, and the comparison needs data from ${formatDate('en', '2023-01-02')}.`,
    );
    expect(page.en).toContain('There is not enough history for a trend');
    expect(page.en).toContain('Not enough history to compare it with the 365 days before');
    expect(page.en).not.toMatch(/on the 365 days before/);
    // 2,640 / 100 − 1 and 100 / 1,000 − 1: the comparisons of a full window with a 10-day sliver.
    expect(page.en).not.toMatch(/2,540|−90%|-90%|Revenue falling/);
    expect(page.zh).toContain(`历史数据不足，无法与之前 365 天对比（数据始于 ${formatDate('zh', '2023-12-23')}）`);
    expect(page.zh).toContain('历史数据不足，无法计算趋势');
    expect(page.zh).not.toMatch(/较之前 365 天 /);
  });

  test('the fallback notice is plain language; the technical reason stays in the run', async () => {
    const [run] = await store.query<{ fallback_code: string; fallback_reason: string }>('SELECT fallback_code, fallback_reason FROM runs');
    expect(run).toEqual({ fallback_code: 'too_few_customers', fallback_reason: 'only 2 customers (the models need at least 20)' });
    expect(page.en).toContain(
      'The statistical models were not fitted for this run. There are only 2 customers, too few to estimate churn and lifetime value (at least 20 are needed), so customers are ranked by how recently they bought.',
    );
    expect(page.zh).toContain('本次运行未拟合统计模型。 客户只有 2 位，不足以估算流失和终身价值（至少需要 20 位），因此按客户最近一次购买距今的时间排序。');
    expect(page.en).not.toContain(run.fallback_reason);
  });

  test('"How these figures are made" describes the recency score and revenue-based tiers', () => {
    const method = page.en.slice(page.en.indexOf('How these figures are made'));
    expect(method).toContain('Active : a recency score below 50%');
    expect(method).toContain('Churn risk (recency score) : There are only 2 customers');
    expect(method).toContain('The score is the share of customers who bought more recently');
    expect(method).toContain('Churn tiers are cut from it at 30% and 60%');
    expect(method).toContain('Value tiers rank customers by their net revenue to date');
    expect(method).not.toMatch(/BG\/NBD|Gamma-Gamma|discounted/);
    const zh = page.zh.slice(page.zh.indexOf('口径说明'));
    expect(zh).toContain('流失风险（最近购买评分）');
    expect(zh).toContain('价值等级 按客户截至目前的净收入排序');
    expect(zh).not.toMatch(/BG\/NBD|Gamma-Gamma/);
  });

  test('a fit that failed: the optimiser’s message stays out of the report (en and zh)', async () => {
    await write(
      store,
      `UPDATE runs SET fallback_code = 'fit_failed',
         fallback_reason = 'the BG/NBD fit did not converge: BFGS stopped, the gradient is not small: parameter a is running away'`,
    );
    const en = await render(store, 'en');
    const zh = await render(store, 'zh');
    expect(en).toContain('The buying patterns in this data could not be captured reliably, so churn and lifetime value are not estimated; customers are ranked by how recently they bought.');
    expect(zh).toContain('无法从这批数据中可靠地把握客户的购买规律');
    for (const text of [en, zh]) expect(text).not.toMatch(JARGON);
  }, 60_000);

  test('as of mid-month, the monthly charts end with the last full month: a partial month is never drawn as a drop', async () => {
    await store.ingest([{ customer_id: 'D', order_date: '2024-12-10', amount: 50 }]);
    store.json(['run', '--as-of', '2024-12-15']);
    const outDir = path.join(store.dir, 'out-mid-month');
    const { htmlFile } = await renderReport({ storePath: store.db, outDir, lang: 'en', now: GENERATED_AT });
    const data = /<script type="application\/json" id="crm-report-data">([\s\S]*?)<\/script>/.exec(fs.readFileSync(htmlFile, 'utf8'));
    const charts = JSON.parse(data![1]).charts as { id: string; spec: { datasets: Record<string, Record<string, string>[]> } }[];
    const months = charts.find((c) => c.id === 'revenue-by-month')!.spec.datasets.monthly.map((r) => r.month);
    expect(months.length).toBeGreaterThan(0);
    expect(months.every((m) => m <= '2024-11-01'), months.join(' ')).toBe(true);
    expect(months).toContain('2024-11-01');
    expect(pageText(htmlFile)).toContain('over the last 12 full months');
  }, 60_000);
});

describe('a fitted run on the sample exports', () => {
  let store: TestStore;
  const page: Record<string, string> = {};
  let run1: { log_likelihood: number; gamma_converged: boolean };
  beforeAll(async () => {
    store = await createStore(fs.readFileSync(path.join(SAMPLE, 'transactions.csv'), 'utf8'), 'crm-report-method-');
    // Run 1: the BG/NBD with tiers on 1 − P(alive) (both named: the defaults are auto and p_no_purchase).
    store.json(['run', '--as-of', '2025-12-31', '--model', 'bgnbd', '--churn-basis', 'churn_risk']);
    // Run 2: churn tiers on P(no purchase) (set in the config as well as the default), daily time unit, a 6-month horizon and 5 % discount rate.
    store.write('crm.config.json', JSON.stringify({ models: { model: 'bgnbd', churn_tiers: { basis: 'p_no_purchase' }, discount_rate: 0.05 } }));
    store.json(['run', '--as-of', '2025-12-31', '--time-unit', 'day', '--horizon', '6']);
    [run1] = await store.query<{ log_likelihood: number; gamma_converged: boolean }>(
      `SELECT CAST(bgnbd->>'$.log_likelihood' AS DOUBLE) AS log_likelihood, CAST(gamma_gamma->>'$.converged' AS BOOLEAN) AS gamma_converged FROM runs WHERE run_id = 1`,
    );
    page.en = await render(store, 'en', 1);
    page.zh = await render(store, 'zh', 1);
  }, 240_000);
  afterAll(() => store?.cleanup());

  test('the sample data covers both trend windows: the revenue change is shown', () => {
    expect(page.en).toMatch(/Revenue, last 365 days [\d,]+ [+]?-?[\d.]+% on the 365 days before/);
    expect(page.en).toContain(`It is compared with the 365 days before, from ${formatDate('en', '2024-01-02')} to ${formatDate('en', '2024-12-31')}.`);
    expect(page.en).not.toMatch(/not enough history/i);
    expect(page.zh).not.toContain('历史数据不足');
  });

  test('run 1: BG/NBD in weeks with its log-likelihood, Gamma-Gamma, 12 months, 10 %, tiers on 1 − P(alive)', () => {
    expect(run1.gamma_converged).toBe(true);
    const method = page.en.slice(page.en.indexOf('How these figures are made'));
    expect(method).toContain(
      `Purchases and churn : the BG/NBD model (Fader, Hardie & Lee 2005), fitted to the days each customer bought on up to ${formatDate('en', '2025-12-31')}, with time counted in weeks (log-likelihood ${formatNumber('en', run1.log_likelihood, 'number', 1)}).`,
    );
    expect(method).toContain("Expected order value : the Gamma-Gamma model (Fader & Hardie 2013) of each customer's repeat purchase values.");
    expect(method).toContain('expected purchases in the next 12 months × expected order value, undiscounted. Lifetime value is the same, discounted at 10% a year');
    expect(method).toContain('Churn tiers are cut from 1 − P(alive) at 30% and 60%.');
    expect(method).not.toMatch(/recency score|limiting form|limit of the purchase model/);
    const zh = page.zh.slice(page.zh.indexOf('口径说明'));
    expect(zh).toContain('时间单位为周');
    expect(zh).toContain('Gamma-Gamma 模型');
    expect(zh).toContain('按每年 10% 折现');
    expect(zh).toContain('流失风险等级 按1 − 存活概率以 30% 和 60% 为界划分');
  });

  test('run 2: days, 6 months, 5 %, tiers on P(no purchase); a boundary fit is described when the run records one', async () => {
    await write(store, `UPDATE runs SET bgnbd = json_merge_patch(bgnbd, '{"boundary": "no_dropout"}') WHERE run_id = 2`);
    const en = await render(store, 'en', 2);
    const zh = await render(store, 'zh', 2);
    const method = en.slice(en.indexOf('How these figures are made'));
    expect(method).toContain('with time counted in days');
    expect(method).toContain('expected purchases in the next 6 months');
    expect(method).toContain('discounted at 5% a year');
    expect(method).toContain('Churn tiers are cut from P(no purchase) at 30% and 60%.');
    expect(method).toContain('the purchase model is used in its limiting form in which nobody drops out');
    const zhMethod = zh.slice(zh.indexOf('口径说明'));
    expect(zhMethod).toContain('时间单位为天');
    expect(zhMethod).toContain('购买模型采用其极限形式（没有客户流失）');
    expect(zhMethod).toContain('流失风险等级 按不购买概率以 30% 和 60% 为界划分');
    // A boundary code without a sentence of its own still gets a plain one.
    await write(store, `UPDATE runs SET bgnbd = json_merge_patch(bgnbd, '{"boundary": "something_new"}') WHERE run_id = 2`);
    expect(await render(store, 'en', 2)).toContain('The best description of this data lies at a limit of the purchase model');
  }, 120_000);
});
