/**
 * Intervals and `crm forecast` end to end on the sample store (data/sample/transactions.csv):
 * the four interval columns of customer_metrics, `crm run --interval`, reproducibility, and
 * `crm forecast` — text, --json, --by week, --customer against an independent evaluation with
 * the BG/NBD formulas, --out CSV with its audit row, usage errors (exit 2) and unknown names
 * (exit 3). One store for the file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { conditionalExpectedPurchases } from '../../src/models/bgnbd.js';
import { crm, ROOT, sql, tempDir } from '../helpers/cli.js';

const SAMPLE = path.join(ROOT, 'data/sample/transactions.csv');
const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

interface Period {
  period: number | string;
  expected_purchases: number;
  expected_purchases_low: number | null;
  expected_purchases_high: number | null;
  value: number;
  value_low: number | null;
  value_high: number | null;
}
interface Forecast {
  run_id: number;
  customers: number;
  level: number | null;
  scope: { kind: string; name?: string; id?: string };
  periods: Period[];
  total: Period;
}

describe('intervals and crm forecast on the sample store', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = tempDir('crm-forecast-');
    db = path.join(dir, 'sample.duckdb');
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', SAMPLE]).code).toBe(0);
    // Run 1 at 90 %, run 2 at 80 %, run 3 at 90 % again (the latest: what forecast reads).
    for (const level of ['0.9', '0.8', '0.9']) {
      const r = crm(['--db', db, '-q', 'run', '--interval', level]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 120_000);

  it('customer_metrics has clv_low ≤ clv ≤ clv_high and expected_purchases_low ≤ expected_purchases ≤ expected_purchases_high for every scored customer', () => {
    const [row] = sql<Record<string, number>>(
      db,
      `SELECT count(*) AS customers, count(clv) AS with_clv, count(clv_low) AS with_bounds, count(expected_purchases_high) AS with_ep_bounds,
              count(*) FILTER (WHERE NOT (clv_low <= clv AND clv <= clv_high)) AS clv_outside,
              count(*) FILTER (WHERE NOT (expected_purchases_low <= expected_purchases AND expected_purchases <= expected_purchases_high)) AS ep_outside,
              count(*) FILTER (WHERE clv > 0 AND NOT (clv_low < clv AND clv < clv_high)) AS clv_zero_width
       FROM customer_latest`,
    );
    expect(row.customers).toBeGreaterThan(400);
    expect(row).toMatchObject({ with_clv: row.customers, with_bounds: row.customers, with_ep_bounds: row.customers, clv_outside: 0, ep_outside: 0, clv_zero_width: 0 });
  });

  it('--interval 0.8 gives narrower intervals than 0.9; the same options give identical intervals (runs 1 and 3)', () => {
    const levels = sql<{ run_id: number; level: number }>(db, 'SELECT run_id, level FROM run_intervals ORDER BY run_id');
    expect(levels).toEqual([{ run_id: 1, level: 0.9 }, { run_id: 2, level: 0.8 }, { run_id: 3, level: 0.9 }]);
    const [cmp] = sql<Record<string, number>>(
      db,
      `SELECT count(*) FILTER (WHERE b.clv > 0 AND NOT (b.clv_high - b.clv_low < a.clv_high - a.clv_low)) AS not_narrower,
              count(*) FILTER (WHERE a.clv_low IS DISTINCT FROM c.clv_low OR a.clv_high IS DISTINCT FROM c.clv_high
                                 OR a.expected_purchases_low IS DISTINCT FROM c.expected_purchases_low
                                 OR a.expected_purchases_high IS DISTINCT FROM c.expected_purchases_high) AS differ,
              count(*) AS customers
       FROM customer_metrics a JOIN customer_metrics b USING (customer_id) JOIN customer_metrics c USING (customer_id)
       WHERE a.run_id = 1 AND b.run_id = 2 AND c.run_id = 3`,
    );
    expect(cmp).toMatchObject({ not_narrower: 0, differ: 0 });
    expect(cmp.customers).toBeGreaterThan(400);
  });

  it('crm run --interval outside (0, 1) is a usage error (exit 2)', () => {
    for (const level of ['1', 'abc']) {
      const r = crm(['--db', db, 'run', '--interval', level]);
      expect(r.code, level).toBe(2);
      expect(r.stderr).toContain('--interval');
    }
  });

  it('text: a line saying what, then the table by month with its total', () => {
    const r = crm(['--db', db, 'forecast']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Forecast of all customers \(\d+ customers\), run 3 as of \d{4}-\d{2}-\d{2}, BG\/NBD, by month; .*90% interval/);
    expect(r.stdout).toMatch(/\n\s+12\s+\d{4}-/);
    expect(r.stdout).toMatch(/\n\s*total\s/);
  });

  it('run_forecast (the run reuses its intervals’ P(alive) per model) is crm forecast’s projection of the run, bounds included', () => {
    const r = crm(['--db', db, 'forecast', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout) as Forecast;
    const stored = sql<Record<string, number | null>>(
      db,
      `SELECT month, expected_purchases, expected_purchases_low, expected_purchases_high, value, value_low, value_high
       FROM run_forecast WHERE run_id = ${f.run_id} ORDER BY month NULLS LAST`,
    );
    expect(stored).toHaveLength(13);
    const columns = ['expected_purchases', 'expected_purchases_low', 'expected_purchases_high', 'value', 'value_low', 'value_high'] as const;
    [...f.periods, f.total].forEach((p, i) => {
      // The bounds are forward differences of sums in the order DuckDB returned the rows (bench/compare-runs.ts): 1e-10.
      for (const c of columns) expect(relative(stored[i][c]!, p[c]!), `${c} of row ${i}`).toBeLessThan(c.endsWith('_low') || c.endsWith('_high') ? 1e-10 : 1e-12);
    });
  });

  it('--json: the periods add up to the horizon total, which is Σ expected_purchases and Σ clv of the customers (1e-9)', () => {
    const [sums] = sql<{ ep: number; clv: number; customers: number }>(db, 'SELECT sum(expected_purchases) AS ep, sum(clv) AS clv, count(*) AS customers FROM customer_latest');
    for (const by of ['month', 'week']) {
      const r = crm(['--db', db, 'forecast', '--by', by, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const f = JSON.parse(r.stdout) as Forecast;
      expect(f.customers).toBe(sums.customers);
      expect(f.periods.length).toBe(by === 'month' ? 12 : 53);
      const purchases = f.periods.reduce((a, p) => a + p.expected_purchases, 0);
      expect(relative(purchases, f.total.expected_purchases)).toBeLessThan(1e-9);
      expect(relative(f.total.expected_purchases, sums.ep)).toBeLessThan(1e-9);
      const value = f.periods.reduce((a, p) => a + p.value, 0);
      expect(relative(value, f.total.value)).toBeLessThan(1e-9);
      // By month the discounting is clv.ts's own: the months add up to the customers' clv.
      if (by === 'month') expect(relative(f.total.value, sums.clv)).toBeLessThan(1e-9);
      for (const p of [...f.periods, f.total]) {
        expect(p.expected_purchases_low!).toBeLessThan(p.expected_purchases);
        expect(p.expected_purchases_high!).toBeGreaterThan(p.expected_purchases);
        expect(p.value_low!).toBeLessThan(p.value);
        expect(p.value_high!).toBeGreaterThan(p.value);
      }
    }
  });

  it('--customer: each month against the BG/NBD formulas evaluated here; the total band is the customer’s clv_low/clv_high', () => {
    const [c] = sql<Record<string, number | string>>(
      db,
      `SELECT customer_id, bgnbd_x, bgnbd_t_x, bgnbd_T, expected_purchases, expected_order_value, clv, clv_low, clv_high, expected_purchases_low, expected_purchases_high
       FROM customer_latest WHERE bgnbd_x > 2 ORDER BY clv DESC, customer_id LIMIT 1`,
    );
    const shown = JSON.parse(crm(['--db', db, 'model', 'show', '--json']).stdout) as { bgnbd: { r: number; alpha: number; a: number; b: number } };
    const params = { r: shown.bgnbd.r, alpha: shown.bgnbd.alpha, a: shown.bgnbd.a, b: shown.bgnbd.b };
    const r = crm(['--db', db, 'forecast', '--customer', String(c.customer_id), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout) as Forecast;
    expect(f.customers).toBe(1);
    const step = 365.25 / 12 / 7; // a month in weeks (the sample's time unit)
    const [x, tx, T] = [Number(c.bgnbd_x), Number(c.bgnbd_t_x), Number(c.bgnbd_T)];
    f.periods.forEach((p, k) => {
      const expected = conditionalExpectedPurchases(params, (k + 1) * step, x, tx, T) - conditionalExpectedPurchases(params, k * step, x, tx, T);
      expect(relative(p.expected_purchases, expected)).toBeLessThan(1e-6);
      const discounted = expected * Number(c.expected_order_value) * 1.1 ** (-(k + 1) / 12);
      expect(relative(p.value, discounted)).toBeLessThan(1e-6);
    });
    expect(relative(f.total.expected_purchases, Number(c.expected_purchases))).toBeLessThan(1e-9);
    expect(relative(f.total.expected_purchases_low!, Number(c.expected_purchases_low))).toBeLessThan(1e-6);
    expect(relative(f.total.expected_purchases_high!, Number(c.expected_purchases_high))).toBeLessThan(1e-6);
    expect(relative(f.total.value, Number(c.clv))).toBeLessThan(1e-9);
    expect(relative(f.total.value_low!, Number(c.clv_low))).toBeLessThan(1e-6);
    expect(relative(f.total.value_high!, Number(c.clv_high))).toBeLessThan(1e-6);
  });

  it('--segment (any spelling) and --tier sum their customers only', () => {
    const [seg] = sql<{ name: string; customers: number; ep: number }>(db, "SELECT rfm_segment AS name, count(*) AS customers, sum(expected_purchases) AS ep FROM customer_latest WHERE rfm_segment = 'At Risk' GROUP BY 1");
    const r = crm(['--db', db, 'forecast', '--segment', 'at-risk', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout) as Forecast;
    expect(f.scope).toEqual({ kind: 'segment', name: 'At Risk' });
    expect(f.customers).toBe(seg.customers);
    expect(relative(f.total.expected_purchases, seg.ep)).toBeLessThan(1e-9);
    const t = crm(['--db', db, 'forecast', '--tier', 'Gold', '--json']);
    expect(t.code, t.stderr).toBe(0);
    const [gold] = sql<{ customers: number }>(db, "SELECT count(*) AS customers FROM customer_latest WHERE value_tier = 'Gold'");
    expect((JSON.parse(t.stdout) as Forecast).customers).toBe(gold.customers);
  });

  it('--out writes the table as CSV and an audit row', () => {
    const out = path.join(dir, 'forecast.csv');
    const r = crm(['--db', db, 'forecast', '--tier', 'Gold', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`forecast written to ${out}`);
    const lines = readFileSync(out, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe('period,start,end,expected_purchases,expected_purchases_low,expected_purchases_high,value,value_low,value_high');
    expect(lines).toHaveLength(1 + 12 + 1);
    expect(lines[13]).toMatch(/^total,/);
    const audit = sql<{ command: string; what: string; path: string; run_id: number; rows: number }>(db, "SELECT command, what, path, run_id, rows FROM audit WHERE command = 'forecast'");
    expect(audit).toEqual([{ command: 'forecast', what: 'value tier Gold', path: out, run_id: 3, rows: 13 }]);
    // An existing file is not replaced without --force (exit 5).
    expect(crm(['--db', db, 'forecast', '--out', out]).code).toBe(5);
  });

  it('usage errors exit 2; an unknown segment, tier, customer or run exits 3 and says what exists', () => {
    const usage = [
      ['forecast', '--by', 'year'],
      ['forecast', '--segment', 'At Risk', '--tier', 'Gold'],
      ['forecast', '--out', path.join(dir, 'f.txt')],
      ['forecast', '--run', '0'],
    ];
    for (const args of usage) expect(crm(['--db', db, ...args]).code, args.join(' ')).toBe(2);
    const seg = crm(['--db', db, 'forecast', '--segment', 'Nobody']);
    expect(seg.code).toBe(3);
    expect(seg.stderr).toContain('unknown segment "Nobody" in run 3');
    expect(seg.stderr).toContain('At Risk');
    const tier = crm(['--db', db, 'forecast', '--tier', 'Diamond']);
    expect(tier.code).toBe(3);
    expect(tier.stderr).toContain('Platinum');
    const customer = crm(['--db', db, 'forecast', '--customer', 'NOPE']);
    expect(customer.code).toBe(3);
    expect(customer.stderr).toContain('unknown customer "NOPE"');
    expect(crm(['--db', db, 'forecast', '--run', '99']).code).toBe(3);
  });
});
