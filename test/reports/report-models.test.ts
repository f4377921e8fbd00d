/**
 * The report names the purchase model the run actually used (runs.model: crm run --model) and
 * states every share of customers on the right base:
 * - a `--model pareto-nbd` run: "How these figures are made" names the Pareto/NBD with its paper,
 *   parameters (runs.purchase_model) and log-likelihood, in English and Chinese, and the page never
 *   says BG/NBD; the churn paragraph describes the Pareto/NBD's dropout, not the BG/NBD's
 *   "0 for every one-time buyer";
 * - a `--model bgnbd` run reads as before, with its parameters from runs.bgnbd; a fitted run from
 *   before migration 12 (runs.model NULL) is a BG/NBD run;
 * - on a store with customers who hold contracts only (the sample policyholders), the "top 20%" is
 *   20% of the customers with purchases — not of runs.customers, which counts both — and the text
 *   says how many more hold contracts only; the same in an owner's report (bookCustomersSql).
 * - a fitted BG/NBD run: its time unit and log-likelihood, Gamma-Gamma, horizon, discount rate and
 *   the churn tiers' basis, as the run recorded them; with `bgnbd.boundary` set, the limiting model
 *   is described (run 3: days, 6 months, 5 %, tiers on P(no purchase)); a Gamma-Gamma at its
 *   homogeneous-spend limit (runs.gamma_gamma.spend_model) gets its own sentence: one expected
 *   order value, the population mean, for every customer.
 * Reports are rendered in process from one store (test/helpers/report-pages.ts: the sample
 * exports, by the real ingest) scored three times by the CLI.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatDate, formatNumber, type Lang } from '../../src/reports/i18n.js';
import { renderPage, sampleExportsStore, writeStore } from '../helpers/report-pages.js';
import type { TestStore } from '../helpers/run.js';

const AS_OF = '2025-12-31';
const OWNER = 'Uwe Schmidt';

interface Fit {
  [parameter: string]: number;
  log_likelihood: number;
}

let store: TestStore;
const page: Record<string, string> = {};
let pareto: Fit;
let bgnbd: Fit;
let counts: { scored: number; purchases: number; contracts_only: number };

async function render(lang: Lang, runId: number, owner?: string): Promise<string> {
  return (await renderPage(store, lang, { runId, owner })).text;
}

// Run 1: the Pareto/NBD. Run 2: the BG/NBD with tiers on 1 − P(alive) (both named: the defaults
// are auto and p_no_purchase). Run 3: churn tiers on P(no purchase) (set in the config as well as
// the default), daily time unit, a 6-month horizon and 5 % discount rate. Every page is rendered
// before a test changes the store.
beforeAll(async () => {
  store = await sampleExportsStore('crm-report-models-');
  store.json(['run', '--as-of', AS_OF, '--model', 'pareto-nbd']);
  store.json(['run', '--as-of', AS_OF, '--model', 'bgnbd', '--churn-basis', 'churn_risk']);
  store.write('crm.config.json', JSON.stringify({ models: { model: 'bgnbd', churn_tiers: { basis: 'p_no_purchase' }, discount_rate: 0.05 } }));
  store.json(['run', '--as-of', AS_OF, '--time-unit', 'day', '--horizon', '6']);
  const [runs] = await store.query<{ pareto: string; bgnbd: string }>(
    `SELECT (SELECT purchase_model FROM runs WHERE run_id = 1 AND model = 'pareto_nbd') AS pareto,
            (SELECT bgnbd FROM runs WHERE run_id = 2 AND model = 'bgnbd') AS bgnbd`,
  );
  pareto = JSON.parse(runs.pareto) as Fit;
  bgnbd = JSON.parse(runs.bgnbd) as Fit;
  [counts] = await store.query<{ scored: number; purchases: number; contracts_only: number }>(
    `SELECT CAST((SELECT customers FROM runs WHERE run_id = 1) AS INTEGER) AS scored,
            CAST(count(first_purchase) AS INTEGER) AS purchases,
            CAST(count(*) - count(first_purchase) AS INTEGER) AS contracts_only
     FROM customer_metrics WHERE run_id = 1`,
  );
  page.paretoEn = await render('en', 1);
  page.paretoZh = await render('zh', 1);
  page.bgnbdEn = await render('en', 2);
  page.bgnbdZh = await render('zh', 2);
}, 300_000);
afterAll(() => store?.cleanup());

describe('a Pareto/NBD run and a BG/NBD run on the sample exports with policyholders (contracts only)', () => {
  const p3 = (v: number) => v.toFixed(3);

  test('the store has customers with contracts only, so runs.customers is not the purchase base', () => {
    expect(counts.contracts_only).toBeGreaterThan(0);
    expect(counts.scored).toBe(counts.purchases + counts.contracts_only);
  });

  test('Pareto/NBD (en): named with its paper, parameters and log-likelihood; never BG/NBD', () => {
    const method = page.paretoEn.slice(page.paretoEn.indexOf('How these figures are made'));
    expect(method).toContain(
      `Purchases and churn : the Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), fitted to the days each customer bought on up to ${formatDate('en', AS_OF)}, with time counted in weeks (log-likelihood ${formatNumber('en', pareto.log_likelihood, 'number', 1)}).`,
    );
    expect(method).toContain(`Its parameters: r = ${p3(pareto.r)}, α = ${p3(pareto.alpha)}, s = ${p3(pareto.s)}, β = ${p3(pareto.beta)}.`);
    expect(method).toContain('Churn risk : 1 − P(alive) under Pareto/NBD (see above)');
    expect(page.paretoEn).toContain('Two ways to read churn. Pareto/NBD lets a customer drop out at any moment');
    expect(page.paretoEn).not.toContain('0 for every one-time buyer');
    expect(page.paretoEn).not.toMatch(/BG\/NBD|log-likelihood NaN|log-likelihood \)/);
  });

  test('Pareto/NBD (zh): the same in Chinese; never BG/NBD', () => {
    const method = page.paretoZh.slice(page.paretoZh.indexOf('口径说明'));
    expect(method).toContain(`Pareto/NBD 模型（Schmittlein、Morrison 与 Colombo，1987），按每位客户截至 ${formatDate('zh', AS_OF)} 的购买日拟合，时间单位为周（对数似然 ${formatNumber('zh', pareto.log_likelihood, 'number', 1)}）。`);
    expect(method).toContain(`模型参数：r = ${p3(pareto.r)}, α = ${p3(pareto.alpha)}, s = ${p3(pareto.s)}, β = ${p3(pareto.beta)}。`);
    expect(method).toContain('Pareto/NBD 下的 1 − 存活概率（见上文）');
    expect(page.paretoZh).toContain('Pareto/NBD 模型允许客户在任何时刻流失');
    expect(page.paretoZh).not.toContain('恒为 0');
    expect(page.paretoZh).not.toMatch(/BG\/NBD/);
  });

  test('BG/NBD run: as before, with its parameters from runs.bgnbd; no other model named', () => {
    const method = page.bgnbdEn.slice(page.bgnbdEn.indexOf('How these figures are made'));
    expect(method).toContain(
      `Purchases and churn : the BG/NBD model (Fader, Hardie & Lee 2005), fitted to the days each customer bought on up to ${formatDate('en', AS_OF)}, with time counted in weeks (log-likelihood ${formatNumber('en', bgnbd.log_likelihood, 'number', 1)}).`,
    );
    expect(method).toContain(`Its parameters: r = ${p3(bgnbd.r)}, α = ${p3(bgnbd.alpha)}, a = ${p3(bgnbd.a)}, b = ${p3(bgnbd.b)}.`);
    expect(method).toContain('Churn risk : 1 − P(alive) under BG/NBD (0 for one-time buyers, see above)');
    expect(page.bgnbdEn).toContain('Two ways to read churn. BG/NBD lets a customer drop out only right after a repeat purchase');
    expect(page.bgnbdEn).not.toMatch(/Pareto\/NBD|MBG\/NBD/);
  });

  test('a fitted run from before migration 12 (runs.model NULL) is a BG/NBD run', async () => {
    await writeStore(store, 'UPDATE runs SET model = NULL WHERE run_id = 2');
    const text = await render('en', 2);
    expect(text).toContain('Purchases and churn : the BG/NBD model (Fader, Hardie & Lee 2005)');
    expect(text).toContain(`log-likelihood ${formatNumber('en', bgnbd.log_likelihood, 'number', 1)}`);
  }, 60_000);

  test('"top 20%": 20% of the customers with purchases, its share matching that count; contracts-only customers named apart', async () => {
    const [facts] = await store.query<{ k: number; share: number }>(
      `WITH c AS (SELECT net_revenue FROM customer_metrics WHERE run_id = 1 AND first_purchase IS NOT NULL),
            k AS (SELECT CAST(ceil(0.2 * count(*)) AS INTEGER) AS k FROM c),
            ranked AS (SELECT net_revenue, row_number() OVER (ORDER BY net_revenue DESC) AS position FROM c WHERE net_revenue > 0)
       SELECT (SELECT k FROM k) AS k,
              sum(net_revenue) FILTER (WHERE position <= (SELECT k FROM k)) / sum(net_revenue) AS share FROM ranked`,
    );
    expect(facts.k).toBe(Math.ceil(0.2 * counts.purchases));
    expect(facts.k).not.toBe(Math.ceil(0.2 * counts.scored));
    const n = (v: number) => formatNumber('en', v, 'integer');
    expect(page.paretoEn).toContain(
      `Revenue from the top 20% ${formatNumber('en', facts.share, 'percent', 0)} ${n(facts.k)} of ${n(counts.purchases)} customers with purchases, by net revenue`,
    );
    expect(page.paretoEn).toContain(`bought by ${formatDate('en', AS_OF)}; ${n(counts.contracts_only)} more hold contracts only`);
    expect(page.paretoEn).toContain(`${n(counts.contracts_only)} more customers hold contracts only`);
    expect(page.paretoEn).toContain(`the top 20% bring ${formatNumber('en', facts.share, 'percent', 0)}.`);
    expect(page.paretoEn).not.toContain(`of ${n(counts.scored)} customers`);
    expect(page.paretoZh).toContain(`按净收入排名前 ${n(facts.k)} 位（共 ${n(counts.purchases)} 位有购买的客户）`);
    expect(page.paretoZh).toContain(`另有 ${n(counts.contracts_only)} 位仅持有合同`);
  });

  test('value tiers: of every customer the run scored, on lifetime value plus contracts; never of the purchase customers alone', async () => {
    const tiers = await store.query<{ value_tier: string; customers: number; with_purchases: number }>(
      `SELECT value_tier, CAST(count(*) AS INTEGER) AS customers, CAST(count(first_purchase) AS INTEGER) AS with_purchases
       FROM customer_metrics WHERE run_id = 1 GROUP BY value_tier`,
    );
    const platinum = tiers.find((t) => t.value_tier === 'Platinum')!;
    expect(platinum.with_purchases).toBeLessThan(platinum.customers); // the sample's policyholders reach Platinum
    const n = (v: number) => formatNumber('en', v, 'integer');
    const share = (v: number) => formatNumber('en', v, 'percent', 0);
    expect(page.paretoEn).toContain(
      `Platinum customers (${n(platinum.customers)}, ${share(platinum.customers / counts.scored)} of ${n(counts.scored)}) hold`,
    );
    expect(page.paretoEn).toContain(`Value tiers of all ${n(counts.scored)} customers, those with contracts only included`);
    for (const t of tiers) {
      expect(page.paretoEn).toContain(`${t.value_tier} ${n(t.customers)} ${formatNumber('en', t.customers / counts.scored, 'percent')} ${n(t.with_purchases)} `);
    }
    expect(page.paretoEn).toContain('value tiers rank customers by it, plus the residual value of their contracts, over all customers');
    expect(page.paretoZh).toContain(`全部 ${n(counts.scored)} 位客户（含仅持有合同的客户）的价值等级`);
  });

  test("an owner's report: the book's customers with purchases are the base; its contracts-only customers are named", async () => {
    const [book] = await store.query<{ purchases: number; contracts_only: number }>(
      `SELECT CAST(count(first_purchase) AS INTEGER) AS purchases, CAST(count(*) - count(first_purchase) AS INTEGER) AS contracts_only
       FROM customer_metrics m JOIN customer_owners o USING (customer_id)
       WHERE m.run_id = 1 AND o.account_owner = '${OWNER}'`,
    );
    expect(book.purchases).toBeGreaterThan(0);
    expect(book.contracts_only).toBeGreaterThan(0);
    const text = await render('en', 1, OWNER);
    const n = (v: number) => formatNumber('en', v, 'integer');
    expect(text).toContain(`${n(Math.ceil(0.2 * book.purchases))} of ${n(book.purchases)} customers with purchases, by net revenue`);
    expect(text).toContain(`bought by ${formatDate('en', AS_OF)}; ${n(book.contracts_only)} more hold contracts only`);
    expect(text).toContain('the Pareto/NBD model (Schmittlein, Morrison & Colombo 1987)');
  }, 60_000);
});

describe('a fitted run on the sample exports', () => {
  let run2: { log_likelihood: number; gamma_converged: boolean };
  beforeAll(async () => {
    [run2] = await store.query<{ log_likelihood: number; gamma_converged: boolean }>(
      `SELECT CAST(bgnbd->>'$.log_likelihood' AS DOUBLE) AS log_likelihood, CAST(gamma_gamma->>'$.converged' AS BOOLEAN) AS gamma_converged FROM runs WHERE run_id = 2`,
    );
  });

  test('the sample data covers both trend windows: the revenue change is shown', () => {
    expect(page.bgnbdEn).toMatch(/Revenue, last 365 days [\d,]+ [+]?-?[\d.]+% on the 365 days before/);
    expect(page.bgnbdEn).toContain(`It is compared with the 365 days before, from ${formatDate('en', '2024-01-02')} to ${formatDate('en', '2024-12-31')}.`);
    expect(page.bgnbdEn).not.toMatch(/not enough history/i);
    expect(page.bgnbdZh).not.toContain('历史数据不足');
  });

  test('run 2: BG/NBD in weeks with its log-likelihood, Gamma-Gamma, 12 months, 10 %, tiers on 1 − P(alive)', () => {
    expect(run2.gamma_converged).toBe(true);
    const method = page.bgnbdEn.slice(page.bgnbdEn.indexOf('How these figures are made'));
    expect(method).toContain(
      `Purchases and churn : the BG/NBD model (Fader, Hardie & Lee 2005), fitted to the days each customer bought on up to ${formatDate('en', '2025-12-31')}, with time counted in weeks (log-likelihood ${formatNumber('en', run2.log_likelihood, 'number', 1)}).`,
    );
    expect(method).toContain("Expected order value : the Gamma-Gamma model (Fader & Hardie 2013) of each customer's repeat purchase values.");
    expect(method).toContain('expected purchases in the next 12 months × expected order value, undiscounted. Lifetime value is the same, discounted at 10% a year');
    expect(method).toContain('Churn tiers are cut from 1 − P(alive) at 30% and 60%.');
    expect(method).not.toMatch(/recency score|limiting form|limit of the purchase model/);
    const zh = page.bgnbdZh.slice(page.bgnbdZh.indexOf('口径说明'));
    expect(zh).toContain('时间单位为周');
    expect(zh).toContain('Gamma-Gamma 模型');
    expect(zh).toContain('按每年 10% 折现');
    expect(zh).toContain('流失风险等级 按1 − 存活概率以 30% 和 60% 为界划分');
  });

  test('a Gamma-Gamma at its homogeneous-spend limit: one expected order value for every customer, the population mean, in words (en, zh)', async () => {
    // Run 2's runs.gamma_gamma as crm run records the limit (test/run/spend-limit.test.ts): spend_model, population_mean.
    await writeStore(
      store,
      `UPDATE runs SET gamma_gamma = json_merge_patch(gamma_gamma, '{"boundary": "homogeneous_spend", "spend_model": "homogeneous_spend", "q": null, "v": null, "nu": 0.0125, "population_mean": 201.43, "converged": true}') WHERE run_id = 2`,
    );
    const en = await render('en', 2);
    const zh = await render('zh', 2);
    const method = en.slice(en.indexOf('How these figures are made'));
    expect(method).toContain(
      `Expected order value : the same for every customer, the population mean of ${formatNumber('en', 201.43, 'money')} per purchase day: spend does not vary between customers beyond chance, so a customer's own past purchase values say nothing more (the Gamma-Gamma model of Fader & Hardie 2013 at its limit of no spend heterogeneity).`,
    );
    expect(method).not.toContain("of each customer's repeat purchase values");
    expect(method).not.toContain('could not be used on this data');
    const zhMethod = zh.slice(zh.indexOf('口径说明'));
    expect(zhMethod).toContain(`每位客户相同，即总体均值：每个购买日 ${formatNumber('zh', 201.43, 'money')}。客户之间的消费金额除随机波动外没有差异`);
    expect(zhMethod).not.toContain('对每位客户重复购买金额的估计');
    expect(zhMethod).not.toContain('无法用于这批数据');
    // The full model (spend_model gamma_gamma) keeps its sentence; an unusable fit its own.
    await writeStore(store, `UPDATE runs SET gamma_gamma = json_merge_patch(gamma_gamma, '{"boundary": null, "spend_model": "gamma_gamma"}') WHERE run_id = 2`);
    expect(await render('en', 2)).toContain("Expected order value : the Gamma-Gamma model (Fader & Hardie 2013) of each customer's repeat purchase values.");
    await writeStore(store, `UPDATE runs SET gamma_gamma = json_merge_patch(gamma_gamma, '{"spend_model": "own_mean", "converged": false}') WHERE run_id = 2`);
    expect(await render('en', 2)).toContain("Expected order value : each customer's own mean net value per purchase day (the Gamma-Gamma spending model could not be used on this data).");
  }, 120_000);

  test('run 3: days, 6 months, 5 %, tiers on P(no purchase); a boundary fit is described when the run records one', async () => {
    await writeStore(store, `UPDATE runs SET bgnbd = json_merge_patch(bgnbd, '{"boundary": "no_dropout"}') WHERE run_id = 3`);
    const en = await render('en', 3);
    const zh = await render('zh', 3);
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
    await writeStore(store, `UPDATE runs SET bgnbd = json_merge_patch(bgnbd, '{"boundary": "something_new"}') WHERE run_id = 3`);
    expect(await render('en', 3)).toContain('The best description of this data lies at a limit of the purchase model');
  }, 120_000);
});
