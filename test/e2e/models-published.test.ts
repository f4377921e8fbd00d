/**
 * `crm run --model` end to end on published data: the CDNOW 1/10 sample as raw rows
 * (test/fixtures/published/cdnow_transactions.csv) → `crm ingest` → `crm run --model pareto-nbd
 * --time-unit week --as-of 1997-09-30` (the end of the papers' 39-week calibration period) →
 * `crm model show --json` gives Fader, Hardie & Lee's (2005) Pareto/NBD estimates (r = 0.553,
 * α = 10.578, s = 0.606, β = 11.669) under `pareto_nbd`, with `model` naming it; the customers'
 * predictions are the Pareto/NBD's (churn_method). One store for the file; the MBG/NBD on the
 * same store; a usage error for an unknown model and for bgbb (not in crm run yet).
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PUBLISHED_DIR } from '../../scripts/fixtures/published.js';
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

  it('refuses an unknown model and bgbb with a usage error (exit 2)', () => {
    const unknown = crm(['--db', db, 'run', '--model', 'weibull']);
    expect(unknown.code).toBe(2);
    const bgbb = crm(['--db', db, 'run', '--model', 'bgbb']);
    expect(bgbb.code).toBe(2);
    expect(bgbb.stderr).toMatch(/--model bgbb: .*discrete opportunities/);
  });
});
