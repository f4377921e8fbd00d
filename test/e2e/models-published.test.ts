/**
 * `crm run --model` end to end on published data: the CDNOW 1/10 sample as raw rows
 * (test/fixtures/published/cdnow_transactions.csv) → `crm ingest` → `crm run --model pareto-nbd
 * --time-unit week --as-of 1997-09-30` (the end of the papers' 39-week calibration period) →
 * `crm model show --json` gives Fader, Hardie & Lee's (2005) Pareto/NBD estimates (r = 0.553,
 * α = 10.578, s = 0.606, β = 11.669) under `pareto_nbd`, with `model` naming it; the customers'
 * predictions are the Pareto/NBD's (churn_method). One store for the file; the MBG/NBD on the
 * same store; a usage error for an unknown model and for bgbb without a month or year unit.
 *
 * And the BG/BB from raw rows: the 1995 donor cohort as one row per gift
 * (test/fixtures/published/donations_transactions.csv.gz) → `crm ingest` → `crm run --model bgbb
 * --time-unit year --as-of 2001-12-31` (the end of the paper's six-year calibration) → Fader,
 * Hardie & Berger's (2010) α = 1.204, β = 0.750, γ = 0.657, δ = 2.783 under `bgbb`; `crm
 * forecast` of it by year. On the CDNOW store, the BG/BB in months: its forecast by month and
 * the stored 12-month projection add up to the customers' expected purchases and CLV.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DONATION_TRANSACTIONS_FILE, PUBLISHED_DIR } from '../../scripts/fixtures/published.js';
import { crm, sql, tempDir } from '../helpers/cli.js';

describe('crm run --model on the CDNOW sample', () => {
  let db: string;
  beforeAll(() => {
    db = path.join(tempDir('crm-models-'), 'cdnow.duckdb');
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', path.join(PUBLISHED_DIR, 'cdnow_transactions.csv')]).code).toBe(0);
  });

  it('pareto-nbd: crm model show --json holds the published estimates under pareto_nbd and names the model', () => {
    const run = crm(['--db', db, '-q', 'run', '--model', 'pareto-nbd', '--time-unit', 'week', '--as-of', '1997-09-30', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ model: 'pareto_nbd', bgnbd: null, model_status: 'fitted' });
    const r = crm(['--db', db, 'model', 'show', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout);
    expect(shown.model).toBe('pareto_nbd');
    const p = shown.pareto_nbd;
    expect(p.converged).toBe(true);
    expect(p.r).toBeCloseTo(0.553, 3);
    expect(p.alpha).toBeCloseTo(10.578, 2);
    expect(p.s).toBeCloseTo(0.606, 3);
    expect(p.beta).toBeCloseTo(11.669, 1);
    expect(p.log_likelihood).toBeCloseTo(-9595.0, 1);
    expect(Object.keys(p.standard_errors)).toEqual(['r', 'alpha', 's', 'beta']);
    expect(sql(db, 'SELECT churn_method, count(*) AS customers FROM customer_latest GROUP BY 1')).toEqual([{ churn_method: 'pareto_nbd', customers: 2357 }]);
    expect(sql(db, "SELECT model, params->>'$.model' AS chosen FROM runs")).toEqual([{ model: 'pareto_nbd', chosen: 'pareto_nbd' }]);
    const text = crm(['--db', db, 'model', 'show']).stdout;
    expect(text).toContain('Pareto/NBD (Schmittlein, Morrison & Colombo 1987)');
  });

  it('mbgnbd on the same store: its own key; one-time buyers get P(alive) below 1', () => {
    const run = crm(['--db', db, '-q', 'run', '--model', 'mbgnbd', '--time-unit', 'week', '--as-of', '1997-09-30']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/MBG\/NBD: r=0\.525 alpha=6\.18\d a=0\.891 b=1\.61\d/);
    const shown = JSON.parse(crm(['--db', db, 'model', 'show', '--json']).stdout);
    expect(shown.model).toBe('mbgnbd');
    expect(shown.mbgnbd.converged).toBe(true);
    const [{ top }] = sql<{ top: number }>(db, `SELECT max(p_alive) AS top FROM customer_latest WHERE frequency = 1`);
    expect(top).toBeLessThan(1);
  });

  it('bgbb in months: crm forecast by month (12 periods from the as-of month) and the stored projection add up to expected_purchases and clv', () => {
    const run = crm(['--db', db, '-q', 'run', '--model', 'bgbb', '--time-unit', 'month', '--as-of', '1997-09-30']);
    expect(run.code, run.stderr).toBe(0);
    const f = JSON.parse(crm(['--db', db, 'forecast', '--json']).stdout);
    expect(f).toMatchObject({ model: 'bgbb', by: 'month', customers: 2357 });
    expect(f.periods).toHaveLength(12);
    expect([f.periods[0].start, f.periods[0].end, f.periods[11].end]).toEqual(['1997-10-01', '1997-10-31', '1998-09-30']);
    const [latest] = sql<{ run_id: number; e: number; clv: number }>(db, 'SELECT max(run_id) AS run_id, sum(expected_purchases) AS e, sum(clv) AS clv FROM customer_latest');
    expect(f.total.expected_purchases).toBeCloseTo(latest.e, 6);
    expect(f.total.value).toBeCloseTo(latest.clv, 4);
    const stored = sql<{ month: number | null; e: number }>(db, `SELECT month, expected_purchases AS e FROM run_forecast WHERE run_id = ${latest.run_id} ORDER BY month NULLS LAST`);
    expect(stored).toHaveLength(13);
    expect(stored[12].e).toBeCloseTo(latest.e, 6);
    expect(stored[0].e).toBeCloseTo(f.periods[0].expected_purchases, 9);
  });

  it('refuses an unknown model, and bgbb in weeks, with a usage error (exit 2)', () => {
    const unknown = crm(['--db', db, 'run', '--model', 'weibull']);
    expect(unknown.code).toBe(2);
    const bgbb = crm(['--db', db, 'run', '--model', 'bgbb']);
    expect(bgbb.code).toBe(2);
    expect(bgbb.stderr).toMatch(/--model bgbb counts purchases in whole periods: the time unit must be month or year \(it is week\)/);
  });
});

/**
 * `crm run --model auto` on the same sample (models/model-choice.ts): with the papers' 39-week
 * holdout the stored table (runs.model_choice) marks the lowest holdout MAE chosen and the run
 * uses it; without a holdout the lowest BIC. Every fitted model keeps its key in model show.
 */
describe('crm run --model auto on the CDNOW sample', () => {
  let db: string;
  beforeAll(() => {
    db = path.join(tempDir('crm-auto-'), 'cdnow.duckdb');
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', path.join(PUBLISHED_DIR, 'cdnow_transactions.csv')]).code).toBe(0);
  });

  type Row = { key: string; log_likelihood: number; parameters: number; bic: number; holdout_mae: number | null; auc: number | null; auc_p_no_purchase: number | null; converged: boolean; chosen: boolean; excluded: string | null };

  it('with --holdout-end: the lowest holdout MAE is chosen, stored, printed and used', () => {
    const run = crm(['--db', db, '-q', 'run', '--model', 'auto', '--time-unit', 'week', '--as-of', '1997-09-30', '--holdout-end', '1998-06-30', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    const [{ choice }] = sql<{ choice: string }>(db, 'SELECT model_choice AS choice FROM runs WHERE run_id = 1');
    const stored = JSON.parse(choice) as { basis: string; chosen: string; models: Row[]; reports: Record<string, unknown> };
    expect(stored.basis).toBe('holdout');
    expect(stored.models.map((m) => m.key)).toEqual(['bgnbd', 'pareto_nbd', 'mbgnbd']);
    for (const m of stored.models) {
      expect(m).toMatchObject({ converged: true, parameters: 4, excluded: null });
      expect(m.bic).toBeCloseTo(4 * Math.log(2357) - 2 * m.log_likelihood, 6);
      expect(m.auc).toBeGreaterThan(0);
      expect(m.auc_p_no_purchase).toBeGreaterThan(0.5);
    }
    const lowest = Math.min(...stored.models.map((m) => m.holdout_mae!));
    const chosen = stored.models.filter((m) => m.chosen);
    expect(chosen).toHaveLength(1);
    expect(chosen[0].holdout_mae).toBe(lowest);
    expect(stored.chosen).toBe(chosen[0].key);
    expect(result.model).toBe(chosen[0].key);
    expect(result.model_choice).toMatchObject({ basis: 'holdout', chosen: chosen[0].key });
    // The run's own backtest is the chosen model's: its MAE over the same buckets is the table's.
    const buckets = result.backtest.by_frequency as { customers: number; predicted: number; actual: number }[];
    expect(buckets.reduce((s, b) => s + Math.abs(b.predicted - b.actual) / b.customers, 0) / buckets.length).toBeCloseTo(lowest, 9);
    expect(sql(db, 'SELECT DISTINCT churn_method FROM customer_metrics WHERE run_id = 1')).toEqual([{ churn_method: chosen[0].key }]);
    // Each fitted model under its own key; the table in text and JSON.
    const shown = JSON.parse(crm(['--db', db, 'model', 'show', '--json']).stdout);
    expect(shown.bgnbd.r).toBeCloseTo(0.243, 3);
    expect(shown.pareto_nbd.r).toBeCloseTo(0.553, 3);
    expect(shown.mbgnbd.r).toBeCloseTo(0.525, 3);
    expect(shown.model_choice).toMatchObject({ basis: 'holdout', chosen: chosen[0].key });
    expect(shown.model_choice.reports).toBeUndefined();
    const text = crm(['--db', db, 'model', 'show']).stdout;
    expect(text).toMatch(/model chosen by the holdout error .*: (BG\/NBD|Pareto\/NBD|MBG\/NBD)/);
    expect(text).toMatch(/holdout MAE/);
    // The report's methods text: the chosen model, its holdout error and the others'.
    const out = tempDir('crm-auto-report-');
    expect(crm(['--db', db, '-q', 'report', '--out', out]).code).toBe(0);
    const page = readFileSync(path.join(out, 'report.html'), 'utf8').replace(/<[^>]+>/g, '');
    const name = { bgnbd: 'BG/NBD', pareto_nbd: 'Pareto/NBD', mbgnbd: 'MBG/NBD' }[chosen[0].key]!;
    expect(page).toContain(`${name} chosen (crm run --model auto): holdout error ${lowest.toFixed(3)} vs `);
    expect(crm(['--db', db, '-q', 'report', '--lang', 'zh', '--out', out]).code).toBe(0);
    const zh = readFileSync(path.join(out, 'report.zh.html'), 'utf8').replace(/<[^>]+>/g, '');
    expect(zh).toContain(`选用 ${name}（crm run --model auto）：留出期误差 ${lowest.toFixed(3)}，其他模型为 `);
  });

  it('without a holdout: the lowest BIC', () => {
    const run = crm(['--db', db, '-q', 'run', '--model', 'auto', '--time-unit', 'week', '--as-of', '1997-09-30', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const choice = JSON.parse(run.stdout).model_choice as { basis: string; chosen: string; models: Row[] };
    expect(choice.basis).toBe('bic');
    const lowest = Math.min(...choice.models.map((m) => m.bic));
    expect(choice.models.find((m) => m.chosen)!.bic).toBe(lowest);
    expect(choice.models.every((m) => m.holdout_mae === null)).toBe(true);
    expect(run.stdout).not.toContain('"reports"');
  });
});

describe('crm run --model bgbb on the 1995 donor cohort', () => {
  it('raw gifts → ingest → run in whole years as of 2001-12-31: the published BG/BB estimates under bgbb; per-customer outputs with intervals; crm forecast by year adds up to them', () => {
    const db = path.join(tempDir('crm-bgbb-'), 'donors.duckdb');
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', path.join(PUBLISHED_DIR, DONATION_TRANSACTIONS_FILE)]).code).toBe(0);
    const run = crm(['--db', db, '-q', 'run', '--model', 'bgbb', '--time-unit', 'year', '--as-of', '2001-12-31']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/BG\/BB: alpha=1\.204 beta=0\.750 gamma=0\.657 delta=2\.783 \(log-likelihood -33225\.6, 22 distinct period histories; whole years/);
    const shown = JSON.parse(crm(['--db', db, 'model', 'show', '--json']).stdout);
    expect(shown).toMatchObject({ model: 'bgbb', bgnbd: null, time_unit: 'year', model_status: 'fitted' });
    const b = shown.bgbb;
    expect(b.converged).toBe(true);
    expect(b.alpha).toBeCloseTo(1.204, 3);
    expect(b.beta).toBeCloseTo(0.75, 3);
    expect(b.gamma).toBeCloseTo(0.657, 3);
    expect(b.delta).toBeCloseTo(2.783, 3);
    expect(b.log_likelihood).toBeCloseTo(-33225.6, 1);
    expect(Object.keys(b.standard_errors)).toEqual(['alpha', 'beta', 'gamma', 'delta']);
    expect(b).toMatchObject({ customers: 11104, triples: 22 });
    // Per customer, by history (purchase_days = x + 1 here: one gift a year): the paper's P(alive in 2002).
    const rows = sql<{ purchase_days: number; churn_method: string; p_alive: number; customers: number; no_clv: number }>(
      db,
      `SELECT purchase_days, any_value(churn_method) AS churn_method, max(p_alive) AS p_alive, count(*) AS customers,
              count(*) FILTER (WHERE clv IS NULL OR p_no_purchase IS NULL OR expected_purchases IS NULL
                               OR NOT (clv_low < clv AND clv < clv_high AND expected_purchases_low < expected_purchases AND expected_purchases < expected_purchases_high)) AS no_clv
       FROM customer_latest WHERE purchase_days IN (1, 7) GROUP BY 1 ORDER BY 1`,
    );
    expect(rows.map((r) => [r.purchase_days, r.churn_method, Math.round(r.p_alive * 100) / 100, r.customers, r.no_clv])).toEqual([
      [1, 'bgbb', 0.11, 3464, 0],
      [7, 'bgbb', 0.93, 1203, 0],
    ]);
    // crm forecast: whole years (the run's horizon, 1 year), adding up to the customers' figures.
    const forecast = crm(['--db', db, 'forecast', '--json']);
    expect(forecast.code, forecast.stderr).toBe(0);
    const f = JSON.parse(forecast.stdout);
    expect(f).toMatchObject({ model: 'bgbb', by: 'year', customers: 11104, level: 0.9 });
    expect(f.periods.map((p: { start: string; end: string }) => [p.start, p.end])).toEqual([['2002-01-01', '2002-12-31']]);
    const [sums] = sql<{ e: number; clv: number }>(db, 'SELECT sum(expected_purchases) AS e, sum(clv) AS clv FROM customer_latest');
    expect(f.total.expected_purchases).toBeCloseTo(sums.e, 6);
    expect(f.total.value).toBeCloseTo(sums.clv, 4);
    expect(f.total.expected_purchases_low).toBeLessThan(f.total.expected_purchases);
    expect(f.total.value_high).toBeGreaterThan(f.total.value);
    const byMonth = crm(['--db', db, 'forecast', '--by', 'month']);
    expect(byMonth.code).toBe(2);
    expect(byMonth.stderr).toMatch(/--by month: run 1 used the BG\/BB on whole years .*use --by year/);
  });
});
