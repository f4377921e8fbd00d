/**
 * The report tells what the run actually did (issue #8 §5), in English and Chinese:
 * - a store whose data starts inside the previous trend window: "not enough history" instead of
 *   a revenue change, and no key-account trend;
 * - a run that fell back: a plain-language notice for its fallback code (no optimiser jargon;
 *   the technical message stays in runs.fallback_reason), and the recency score and
 *   revenue-based tiers in "How these figures are made".
 * A fitted run's method (time unit, log-likelihood, Gamma-Gamma, horizon, discount rate, tiers'
 * basis, boundary) is tested in report-models.test.ts, on the sample store scored there.
 * Reports are rendered in process (renderReport) from a store built by the real ingest and CLI.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatDate, type Lang } from '../../src/reports/i18n.js';
import { renderPage, writeStore as write } from '../helpers/report-pages.js';
import { createStore, type TestStore, type TxRow } from '../helpers/run.js';

/** Words a plain-language notice must not use. */
const JARGON = /BFGS|gradient|converge|Hessian|running away|ran away|parameter a\b/i;

async function render(store: TestStore, lang: Lang, runId?: number): Promise<string> {
  return (await renderPage(store, lang, { runId })).text;
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
    const { html, text } = await renderPage(store, 'en', { name: 'out-mid-month' });
    const data = /<script type="application\/json" id="crm-report-data">([\s\S]*?)<\/script>/.exec(html);
    const charts = JSON.parse(data![1]).charts as { id: string; spec: { datasets: Record<string, Record<string, string>[]> } }[];
    const months = charts.find((c) => c.id === 'revenue-by-month')!.spec.datasets.monthly.map((r) => r.month);
    expect(months.length).toBeGreaterThan(0);
    expect(months.every((m) => m <= '2024-11-01'), months.join(' ')).toBe(true);
    expect(months).toContain('2024-11-01');
    expect(text).toContain('over the last 12 full months');
  }, 60_000);
});
