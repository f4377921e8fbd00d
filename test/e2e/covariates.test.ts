/**
 * `crm run --covariates` end to end on a small generated store: 700 customers simulated from the
 * Pareto/NBD (models/simulate.ts, seeded), with a known region effect — South buys e^1 ≈ 2.7× as
 * often as North — a region "Tiny" of 12 customers (pooled into "(other)") and 40 customers with
 * no customers row (region "(none)"); the first purchase's channel is 'web' or 'store' at random
 * (no effect). One store for the file: `crm run --model pareto-nbd --covariates region` → `crm
 * model show --json` holds the coefficients under pareto_nbd.covariates, the likelihood-ratio
 * test rejects the model without them, customer_metrics carries each region's own predictions;
 * then the config's models.covariates; usage errors exit 2 and leave the store as it was.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/models/random.js';
import { simulateParetoNbd } from '../../src/models/simulate.js';
import { crm, ROOT, sql, tempDir } from '../helpers/cli.js';

const START = Date.parse('2024-01-01T00:00:00Z');
const day = (d: number) => new Date(START + d * 86_400_000).toISOString().slice(0, 10);

/** Customers, their regions and purchase lines (whole days, first purchases spread over 200 days). */
function generate(dir: string): { customers: string; transactions: string } {
  const rng = new Rng(20261207);
  const groups: { region: string | null; n: number; alpha: number }[] = [
    { region: 'North', n: 360, alpha: 80 },
    { region: 'South', n: 288, alpha: 80 / Math.E },
    { region: 'Tiny', n: 12, alpha: 80 },
    { region: null, n: 40, alpha: 80 },
  ];
  const customerRows = ['customer_id,name,region'];
  const lines = ['customer_id,order_date,channel,amount'];
  let id = 0;
  for (const g of groups) {
    const sim = simulateParetoNbd({ r: 0.8, alpha: g.alpha, s: 0.6, beta: 150 }, g.n, { minT: 365, maxT: 365 }, rng);
    for (let i = 0; i < g.n; i++) {
      const customer = `K${String(++id).padStart(4, '0')}`;
      if (g.region !== null) customerRows.push(`${customer},Customer ${id},${g.region}`);
      const first = Math.floor(rng.uniform() * 200);
      const channel = rng.uniform() < 0.5 ? 'web' : 'store';
      lines.push(`${customer},${day(first)},${channel},${(20 + 30 * rng.uniform()).toFixed(2)}`);
      // x repeat purchases uniformly before t_x, the last at t_x (whole days, within the window).
      const times = Array.from({ length: sim.x[i] }, (_, k) => (k === sim.x[i] - 1 ? sim.tx[i] : sim.tx[i] * rng.uniform()));
      for (const t of times) lines.push(`${customer},${day(first + Math.min(364, Math.ceil(t)))},store,${(20 + 30 * rng.uniform()).toFixed(2)}`);
    }
  }
  const customers = path.join(dir, 'customers.csv');
  const transactions = path.join(dir, 'transactions.csv');
  writeFileSync(customers, customerRows.join('\n') + '\n');
  writeFileSync(transactions, lines.join('\n') + '\n');
  return { customers, transactions };
}

describe('crm run --covariates', () => {
  let db: string;
  let dir: string;
  beforeAll(() => {
    dir = tempDir('crm-covariates-');
    db = path.join(dir, 'store.duckdb');
    const files = generate(dir);
    expect(crm(['--db', db, '-q', 'ingest', 'customers', files.customers]).code).toBe(0);
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', files.transactions]).code).toBe(0);
  });

  it('region: coefficients ± standard errors under pareto_nbd.covariates, an LR test, each region its own predictions', () => {
    const run = crm(['--db', db, '-q', 'run', '--model', 'pareto-nbd', '--covariates', 'region', '--as-of', '2024-12-31']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Covariates region on the Pareto/NBD (Fader & Hardie 2007)');
    expect(run.stdout).toMatch(/likelihood-ratio test against the model without them: χ² = [\d.]+ on 6 df, p = /);
    expect(run.stdout).toContain('region: 1 level with fewer than 30 customers pooled into "(other)": Tiny');

    const shown = JSON.parse(crm(['--db', db, 'model', 'show', '--json']).stdout);
    const c = shown.pareto_nbd.covariates;
    expect(c).toMatchObject({ names: ['region'], model: 'pareto_nbd', effects: ['purchase', 'dropout'], used: true, converged: true, min_level_customers: 30 });
    expect(c.variables.region.baseline).toBe('North');
    expect(Object.keys(c.variables.region.levels)).toEqual(['North', 'South', '(none)', '(other)']);
    expect(c.variables.region.levels.North).toEqual({ customers: 360, baseline: true });
    expect(c.variables.region.pooled).toEqual(['Tiny']);
    const south = c.variables.region.levels.South;
    expect(south.customers).toBe(288);
    // The known effect (1) within 3 standard errors, and clearly not 0.
    expect(Math.abs(south.purchase - 1)).toBeLessThan(3 * south.purchase_se);
    expect(south.purchase / south.purchase_se).toBeGreaterThan(3);
    expect(c.lr_test.df).toBe(6); // 3 levels besides the baseline × (purchase, dropout)
    expect(c.lr_test.p_value).toBeLessThan(0.001);
    expect(c.lr_test.log_likelihood_without).toBeCloseTo(shown.pareto_nbd.log_likelihood, 6);
    expect(Object.keys(c.baseline)).toEqual(['r', 'alpha', 's', 'beta', 'standard_errors']);
    // What the run used, in its own row.
    expect(sql(db, "SELECT params->>'$.covariates' AS covariates, covariates->>'$.model' AS model FROM runs")).toEqual([{ covariates: '["region"]', model: 'pareto_nbd' }]);
    // Same history, different region: different predictions; South expects more purchases.
    const byRegion = sql<{ region: string; expected: number; customers: number }>(
      db,
      `SELECT coalesce(c.region, '(none)') AS region, avg(m.expected_purchases) AS expected, count(*) AS customers
       FROM customer_latest m LEFT JOIN customers c USING (customer_id) GROUP BY 1 ORDER BY 1`,
    );
    expect(byRegion.map((r) => r.region)).toEqual(['(none)', 'North', 'South', 'Tiny']);
    const expected = Object.fromEntries(byRegion.map((r) => [r.region, r.expected]));
    expect(expected.South).toBeGreaterThan(1.5 * expected.North);
    const [{ n }] = sql<{ n: number }>(db, 'SELECT count(*) AS n FROM customer_latest WHERE expected_purchases IS NULL OR p_alive IS NULL OR clv IS NULL');
    expect(n).toBe(0);
    const text = crm(['--db', db, 'model', 'show']).stdout;
    expect(text).toMatch(/region\s+South\s+288\s+\+\d\.\d{3} ± \d\.\d{3}/);
    // The intervals and the stored projection describe the model without covariates: none for this run.
    expect(sql(db, 'SELECT count(*) AS n FROM customer_latest WHERE clv_low IS NOT NULL OR expected_purchases_high IS NOT NULL')).toEqual([{ n: 0 }]);
    expect(sql(db, 'SELECT count(*) AS n FROM run_forecast')).toEqual([{ n: 0 }]);
    const forecast = crm(['--db', db, 'forecast']);
    expect(forecast.code).toBe(3);
    expect(forecast.stderr).toContain('scored its customers with covariates (crm run --covariates): crm forecast projects the models without covariates only');
  });

  it("the report's methods name the covariates and the test as crm run printed it, in English and Chinese", () => {
    // The region run above is the latest: its test line, as crm model show prints it.
    const line = crm(['--db', db, 'model', 'show']).stdout.match(/χ² = ([\d.]+) on (\d+) df, p = (\S+) \(/);
    expect(line).not.toBeNull();
    const [, statistic, df, p] = line!;
    expect(p).toMatch(/^\d\.\de-\d+$/); // below 0.001: the scientific form, from SQL as from JS
    const expected = {
      en: ['Covariates region on the purchase and dropout rates (Fader &amp; Hardie 2007)', `on ${df} df, p = ${p}.`, 'The customers&#39; predictions use them'],
      zh: ['购买率与流失率带协变量 region', `自由度 ${df}，p = ${p}`, '客户的预测使用了这些协变量'],
    };
    for (const lang of ['en', 'zh'] as const) {
      const out = path.join(dir, `report-${lang}`);
      const r = crm(['--db', db, 'report', '--out', out, '--lang', lang]);
      expect(r.code, r.stderr).toBe(0);
      const page = readFileSync(path.join(out, lang === 'en' ? 'report.html' : 'report.zh.html'), 'utf8').replace(/<script[\s\S]*?<\/script>/g, ' ');
      for (const text of expected[lang]) expect(page, `${lang}: ${text}`).toContain(text);
      const shown = page.match(/χ² = ([\d,.]+)/);
      expect(Number(shown![1].replace(/,/g, ''))).toBeCloseTo(Number(statistic), 2);
    }
  });

  it('models.covariates in the config, with the default model and a holdout: the backtest reads the covariate predictions', () => {
    const config = path.join(dir, 'crm.config.json');
    writeFileSync(config, JSON.stringify({ models: { covariates: ['channel', 'region'] } }));
    const run = crm(['--db', db, '--config', config, '-q', 'run', '--as-of', '2024-09-30', '--holdout-end', '2024-12-31', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    // In the canonical order (region, channel), under the key of the model auto chose.
    expect(['bgnbd', 'pareto_nbd', 'mbgnbd']).toContain(result.model);
    expect(result[result.model].covariates.names).toEqual(['region', 'channel']);
    expect(result[result.model].covariates.effects).toEqual(['purchase', 'dropout']);
    expect(result.backtest.predicted_total).toBeGreaterThan(0);
    const [{ covariates }] = sql<{ covariates: string }>(db, "SELECT params->>'$.covariates' AS covariates FROM runs ORDER BY run_id DESC LIMIT 1");
    expect(covariates).toBe('["region","channel"]');
  });

  it('a covariate left with one level after pooling is an input error (exit 3), nothing written', () => {
    const before = sql<{ n: number }>(db, 'SELECT count(*) AS n FROM runs')[0].n;
    // By 2024-01-20 only a few dozen customers have bought: every region has fewer than 30.
    const early = crm(['--db', db, 'run', '--covariates', 'region', '--as-of', '2024-01-20']);
    expect(early.code, early.stderr).toBe(3);
    expect(early.stderr).toMatch(/--covariates region: all \d+ scored customers have the same region after pooling \("\(other\)"\): there is nothing to estimate/);
    expect(sql<{ n: number }>(db, 'SELECT count(*) AS n FROM runs')[0].n).toBe(before);
  });

  it('unknown covariate names exit 2 with the allowed ones, and the store keeps its runs', () => {
    const before = sql<{ n: number }>(db, 'SELECT count(*) AS n FROM runs')[0].n;
    const unknown = crm(['--db', db, 'run', '--covariates', 'region,industry']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown covariate industry; allowed: region, channel');
    expect(crm(['--db', db, 'run', '--covariates', 'region,,channel']).code).toBe(2);
    expect(sql<{ n: number }>(db, 'SELECT count(*) AS n FROM runs')[0].n).toBe(before);
  });
});

describe('crm run --covariates when the covariate fit does not converge (the sample data, MBG/NBD)', () => {
  it('keeps the model without covariates in use, says why, and still reports the test', () => {
    const db = path.join(tempDir('crm-covariates-sample-'), 'store.duckdb');
    const sample = path.join(ROOT, 'data/sample');
    expect(crm(['--db', db, '-q', 'ingest', 'customers', path.join(sample, 'customers.csv')]).code).toBe(0);
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', path.join(sample, 'transactions.csv')]).code).toBe(0);
    const plain = crm(['--db', db, '-q', 'run', '--model', 'mbgnbd']);
    expect(plain.code, plain.stderr).toBe(0);
    const run = crm(['--db', db, '-q', 'run', '--model', 'mbgnbd', '--covariates', 'region,channel']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/not used: the MBG\/NBD with covariates did not converge \(.*running away.*\); the model without covariates is used/);
    const c = JSON.parse(crm(['--db', db, 'model', 'show', '--json']).stdout).mbgnbd.covariates;
    expect(c).toMatchObject({ used: false, converged: false, model: 'mbgnbd' });
    expect(c.lr_test.df).toBe(16);
    // The customers' predictions are the plain MBG/NBD's, exactly as in the run without covariates.
    const diff = sql<{ n: number }>(
      db,
      `SELECT count(*) AS n FROM customer_metrics a JOIN customer_metrics b USING (customer_id)
       WHERE a.run_id = 1 AND b.run_id = 2 AND (a.expected_purchases IS DISTINCT FROM b.expected_purchases OR a.p_alive IS DISTINCT FROM b.p_alive OR a.clv IS DISTINCT FROM b.clv)`,
    );
    expect(diff).toEqual([{ n: 0 }]);
  });
});
