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
 * Reports are rendered in process from a store loaded by the real ingest and scored by the CLI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ingest } from '../../src/ingest/index.js';
import { formatDate, formatNumber, type Lang } from '../../src/reports/i18n.js';
import { renderReport } from '../../src/reports/report.js';
import { createReporter } from '../../src/util/log.js';
import { createProgress } from '../../src/util/progress.js';
import { SAMPLE } from '../helpers/report-store.js';
import { GENERATED_AT } from '../helpers/reports.js';
import { createStore, type TestStore } from '../helpers/run.js';

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

const AS_OF = '2025-12-31';
const OWNER = 'Uwe Schmidt';

interface Fit {
  [parameter: string]: number;
  log_likelihood: number;
}

describe('a Pareto/NBD run and a BG/NBD run on the sample exports with policyholders (contracts only)', () => {
  let store: TestStore;
  const page: Record<string, string> = {};
  let pareto: Fit;
  let bgnbd: Fit;
  let counts: { scored: number; purchases: number; contracts_only: number };

  async function render(lang: Lang, runId: number, owner?: string): Promise<string> {
    const outDir = path.join(store.dir, `out-${runId}-${lang}-${owner ?? 'all'}`);
    const result = await renderReport({ storePath: store.db, outDir, lang, runId, owner, now: GENERATED_AT });
    return pageText(result.htmlFile);
  }

  beforeAll(async () => {
    store = await createStore(null, 'crm-report-models-');
    const load = async (kind: 'customers' | 'transactions' | 'contracts' | 'owners', file: string) =>
      ingest({ kind, files: [path.join(SAMPLE, file)], storePath: store.db, config: {}, reporter: createReporter({ quiet: true }), progress: createProgress({ quiet: true }) });
    await load('customers', 'customers.csv');
    await load('transactions', 'transactions.csv');
    await load('customers', 'policyholders.csv');
    await load('contracts', 'contracts.csv');
    await load('owners', 'owners.csv');
    store.json(['run', '--as-of', AS_OF, '--model', 'pareto-nbd']);
    store.json(['run', '--as-of', AS_OF, '--model', 'bgnbd']);
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
  }, 300_000);
  afterAll(() => store?.cleanup());

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
    const { Store } = await import('../../src/store/db.js');
    const s = await Store.open(store.db);
    try {
      await s.run('UPDATE runs SET model = NULL WHERE run_id = 2');
    } finally {
      s.close();
    }
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
