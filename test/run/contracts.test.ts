/**
 * The contract part of `crm run` end to end (the real CLI): a small store with purchases and a
 * policy book (annual motor policies, monthly mobile plans, a plan too small for its own fit,
 * contracts with irregular periods, lapses and cancellations) written as contract period rows
 * (the shape `crm ingest contracts` loads); then `crm run`, `crm model show` and the tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/models/random.js';
import { Store, literal } from '../../src/store/db.js';
import { createStore, type TestStore, type TxRow } from '../helpers/run.js';

const CUSTOMERS = 40;
const AS_OF = '2023-12-31';
const LAST_START = '2024-01-15';

function purchases(): TxRow[] {
  const rng = createRng(7);
  const rows: TxRow[] = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    const orders = 1 + Math.floor(rng.uniform() * 6);
    for (let k = 0; k < orders; k++) {
      const day = Math.floor(rng.uniform() * 700);
      rows.push({ customer_id: `C${c}`, order_date: isoDay('2022-01-01', day), amount: 20 + Math.round(rng.uniform() * 200) });
    }
  }
  return rows;
}

function isoDay(start: string, days: number): string {
  return new Date(Date.parse(start + 'T00:00:00Z') + days * 86_400_000).toISOString().slice(0, 10);
}

function addMonths(date: string, months: number): string {
  const d = new Date(date + 'T00:00:00Z');
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target.toISOString().slice(0, 10);
}

interface PeriodRow {
  contract: string;
  customer: string;
  start: string;
  end: string;
  amount: number;
  plan: string;
  cancel: string | null;
}

/** A policy book: each contract renews with its plan's probability until it leaves or the data end. */
function book(): PeriodRow[] {
  const rng = createRng(11);
  const rows: PeriodRow[] = [];
  const plans = [
    { plan: 'motor', months: 12, contracts: 70, renew: 0.75, premium: 3000, window: 6 * 365 },
    { plan: 'mobile', months: 1, contracts: 50, renew: 0.85, premium: 99, window: 2 * 365 },
    { plan: 'pet', months: 12, contracts: 8, renew: 0.6, premium: 800, window: 4 * 365 },
  ];
  for (const p of plans) {
    for (let i = 0; i < p.contracts; i++) {
      const contract = `${p.plan}-${i}`;
      const customer = `C${(i * 7 + p.months) % CUSTOMERS}`;
      let start = isoDay('2024-01-15', -Math.floor(rng.uniform() * p.window));
      const cancelled = rng.uniform() < 0.1;
      for (;;) {
        const next = addMonths(start, p.months);
        const end = isoDay(next, -1);
        const leaves = rng.uniform() >= p.renew;
        rows.push({ contract, customer, start, end, amount: p.premium, plan: p.plan, cancel: leaves && cancelled ? isoDay(start, 20) : null });
        if (leaves || next > LAST_START) break;
        start = next;
      }
    }
  }
  // Irregular periods (75 days): kept, not modelled.
  rows.push({ contract: 'odd-1', customer: 'C1', start: '2023-11-01', end: '2024-01-14', amount: 150, plan: 'motor', cancel: null });
  rows.push({ contract: 'odd-2', customer: 'C2', start: '2023-10-20', end: '2024-01-02', amount: 150, plan: 'motor', cancel: null });
  return rows;
}

async function insertContracts(db: string, rows: PeriodRow[]): Promise<void> {
  const store = await Store.open(db);
  try {
    const values = rows.map(
      (r, i) =>
        `(1, 'policies.csv', ${i + 2}, ${literal(r.customer)}, ${literal(r.contract)}, DATE ${literal(r.start)}, DATE ${literal(r.end)}, ${r.amount}, ${literal(r.plan)}, ${r.cancel ? `DATE ${literal(r.cancel)}` : 'NULL'})`,
    );
    await store.run(
      `INSERT INTO contracts (load_id, source_file, source_row, customer_id, contract_id, period_start, period_end, amount, plan, cancel_date) VALUES ${values.join(',\n')}`,
    );
  } finally {
    store.close();
  }
}

interface SbgJson {
  plan: string | null;
  period_unit: string;
  alpha: number | null;
  beta: number | null;
  log_likelihood: number | null;
  standard_errors: { alpha: number; beta: number } | null;
  contracts: number;
  outcome: string;
  fallback_to_book: boolean;
}
interface ShowJson {
  run_id: number;
  as_of: string;
  contracts: {
    grace_days: number;
    period: string;
    summary: { contracts: number; active: number; in_grace: number; lapsed: number; cancelled: number; irregular: number; scored: number };
    sbg: SbgJson[];
    backtest: {
      decisions: number;
      predicted_renewals: number;
      actual_renewals: number;
      by_plan: { plan: string; decisions: number; predicted: number; actual: number }[];
      calibration: { band_low: number; decisions: number }[];
    } | null;
  } | null;
}

let s: TestStore;
let periods: PeriodRow[];
beforeAll(async () => {
  s = await createStore(purchases(), 'crm-contracts-');
  periods = book();
}, 60_000);
afterAll(() => s?.cleanup());

describe('crm run with contracts', () => {
  it('runs as before on a store without contracts: runs.contracts NULL, no contract rows', async () => {
    expect(s.cli(['run', '--as-of', AS_OF]).code).toBe(0);
    expect(await s.query('SELECT contracts FROM runs')).toEqual([{ contracts: null }]);
    expect(await s.query('SELECT count(*) AS n FROM contract_metrics')).toEqual([{ n: 0 }]);
    const shown = s.json<ShowJson>(['model', 'show']);
    expect(shown.contracts).toBeNull();
  }, 60_000);

  it('writes contract_metrics, contract_retention and runs.contracts; model show lists the sBG fits', async () => {
    await insertContracts(s.db, periods);
    const run = s.cli(['run', '--as-of', AS_OF]);
    expect(run.code, run.stderr).toBe(0);
    const runId = 2;
    const expectedContracts = new Set(periods.filter((p) => p.start <= AS_OF).map((p) => p.contract)).size;
    const metrics = await s.query<{ contract_id: string; status: string; period_unit: string; p_renew: number | null; model_plan: string | null; model_kind: string | null; residual_value: number | null; value_at_risk: number | null; premium: number; renewal_due: string | null }>(
      `SELECT contract_id, status, period_unit, p_renew, model_plan, model_kind, residual_value, value_at_risk, premium, CAST(renewal_due AS VARCHAR) AS renewal_due
       FROM contract_metrics WHERE run_id = ${runId} ORDER BY contract_id`,
    );
    expect(metrics.length).toBe(expectedContracts);
    expect(await s.query('SELECT count(*) AS n FROM contract_latest')).toEqual([{ n: expectedContracts }]);
    for (const m of metrics) {
      const censored = m.status === 'active' || m.status === 'in_grace';
      if (m.period_unit === 'irregular') expect(m.p_renew, m.contract_id).toBeNull();
      else if (censored) {
        expect(m.p_renew, m.contract_id).toBeGreaterThan(0);
        expect(m.p_renew, m.contract_id).toBeLessThan(1);
        expect(m.model_kind).toBe('sbg');
        expect(m.value_at_risk!).toBeCloseTo(m.residual_value! * (1 - m.p_renew!), 6);
        expect(m.renewal_due).not.toBeNull();
      } else {
        expect(m.p_renew).toBeNull();
        expect(m.residual_value).toBe(0);
      }
    }
    // pet is below min_contracts: scored with the whole book of annual contracts.
    expect(new Set(metrics.filter((m) => m.contract_id.startsWith('pet') && m.p_renew !== null).map((m) => m.model_plan))).toEqual(new Set([null]));
    expect(new Set(metrics.filter((m) => m.contract_id.startsWith('motor') && m.p_renew !== null).map((m) => m.model_plan))).toEqual(new Set(['motor']));
    expect(metrics.filter((m) => m.period_unit === 'irregular').map((m) => m.contract_id)).toEqual(['odd-1', 'odd-2']);

    const retention = await s.query<{ plan: string | null; period_unit: string; period: number; contracts_at_risk: number; observed_survival: number | null; fitted_survival: number | null }>(
      `SELECT plan, period_unit, period, contracts_at_risk, observed_survival, fitted_survival FROM contract_retention WHERE run_id = ${runId} ORDER BY plan NULLS FIRST, period_unit, period`,
    );
    const bookYear = retention.filter((r) => r.plan === null && r.period_unit === 'year');
    expect(bookYear[0]).toMatchObject({ period: 0, observed_survival: 1, fitted_survival: 1 });
    expect(bookYear[0].contracts_at_risk).toBe(metrics.filter((m) => m.period_unit === 'year').length);
    const motor = retention.filter((r) => r.plan === 'motor');
    expect(motor.length).toBeGreaterThan(2);
    for (let i = 1; i < motor.length; i++) {
      expect(motor[i].contracts_at_risk).toBeLessThanOrEqual(motor[i - 1].contracts_at_risk);
      if (motor[i].observed_survival !== null) expect(motor[i].observed_survival!).toBeLessThanOrEqual(motor[i - 1].observed_survival!);
      expect(motor[i].fitted_survival!).toBeLessThan(motor[i - 1].fitted_survival!);
    }

    const shown = s.json<ShowJson>(['model', 'show']);
    const c = shown.contracts!;
    expect(c).toMatchObject({ grace_days: 30, period: 'auto' });
    expect(c.summary.contracts).toBe(expectedContracts);
    expect(c.summary.irregular).toBe(2);
    expect(c.summary.active + c.summary.in_grace + c.summary.lapsed + c.summary.cancelled).toBe(expectedContracts);
    // The issue's shape: a list of {plan, alpha, beta, log_likelihood, standard_errors, contracts}, plan null for the whole book.
    for (const f of c.sbg) {
      expect(Object.keys(f)).toEqual(expect.arrayContaining(['plan', 'alpha', 'beta', 'log_likelihood', 'standard_errors', 'contracts']));
    }
    expect(c.sbg.map((f) => [f.plan, f.period_unit, f.outcome])).toEqual([
      [null, 'month', 'fitted'],
      ['mobile', 'month', 'fitted'],
      [null, 'year', 'fitted'],
      ['motor', 'year', 'fitted'],
      ['pet', 'year', 'too_few_contracts'],
    ]);
    const wholeYear = c.sbg.find((f) => f.plan === null && f.period_unit === 'year')!;
    expect(wholeYear.alpha).toBeGreaterThan(0);
    expect(wholeYear.standard_errors!.alpha).toBeGreaterThan(0);
    expect(c.sbg.find((f) => f.plan === 'pet')!.fallback_to_book).toBe(true);

    const text = s.cli(['model', 'show']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Contracts: sBG retention (Fader & Hardie 2007)');
    expect(text.stdout).toMatch(/\(whole book\)\s+year/);

    const timings = await s.query<{ timings: string }>(`SELECT CAST(timings AS VARCHAR) AS timings FROM runs WHERE run_id = ${runId}`);
    expect(Object.keys(JSON.parse(timings[0].timings))).toEqual(expect.arrayContaining(['contracts_spells', 'contracts_fit', 'contracts_predict', 'contracts_write_metrics', 'contracts_write_retention']));
  }, 60_000);

  it('reproduces the same contract rows on a rerun of the same as-of', async () => {
    expect(s.cli(['run', '--as-of', AS_OF]).code).toBe(0);
    const diff = async (table: string) =>
      s.query<{ n: number }>(
        `SELECT count(*) AS n FROM ((SELECT * EXCLUDE (run_id) FROM ${table} WHERE run_id = 2 EXCEPT ALL SELECT * EXCLUDE (run_id) FROM ${table} WHERE run_id = 3)
                                  UNION ALL (SELECT * EXCLUDE (run_id) FROM ${table} WHERE run_id = 3 EXCEPT ALL SELECT * EXCLUDE (run_id) FROM ${table} WHERE run_id = 2))`,
      );
    expect(await diff('contract_metrics')).toEqual([{ n: 0 }]);
    expect(await diff('contract_retention')).toEqual([{ n: 0 }]);
    const sbg = await s.query<{ a: string; b: string }>(`SELECT CAST(contracts->'sbg' AS VARCHAR) AS a, (SELECT CAST(contracts->'sbg' AS VARCHAR) FROM runs WHERE run_id = 2) AS b FROM runs WHERE run_id = 3`);
    expect(sbg[0].a).toBe(sbg[0].b);
    // The totals too, to the last digit (summed as exact decimals, whatever order the threads finish in).
    const summary = await s.query<{ a: string; b: string }>(`SELECT CAST(contracts->'summary' AS VARCHAR) AS a, (SELECT CAST(contracts->'summary' AS VARCHAR) FROM runs WHERE run_id = 2) AS b FROM runs WHERE run_id = 3`);
    expect(summary[0].a).toBe(summary[0].b);
  }, 60_000);

  it('takes the default as-of from the contracts too (period starts and cancellations after the last purchase)', async () => {
    const run = s.json<{ as_of: string; contracts: { summary: { contracts: number } } }>(['run']);
    const latest = periods.flatMap((p) => [p.start, p.cancel ?? p.start]).sort().at(-1)!;
    expect(latest >= LAST_START).toBe(true);
    expect(run.as_of).toBe(latest);
    expect(run.contracts.summary.contracts).toBe(new Set(periods.map((p) => p.contract)).size);
  }, 60_000);

  it('backtests the renewal decisions made in the holdout per plan, with the data up to its end only', async () => {
    const asOf = '2023-06-30';
    const holdoutEnd = '2023-10-31';
    const run = s.cli(['run', '--as-of', asOf, '--holdout-end', holdoutEnd]);
    expect(run.code, run.stderr).toBe(0);
    const b = s.json<ShowJson>(['model', 'show']).contracts!.backtest!;
    // Every contract active at as-of, scored, whose renewal may start (within grace: up to 31 days
    // after its due date) no later than the holdout end; renewed when a next period starts within
    // grace and by the holdout end.
    const active = await s.query<{ contract_id: string; plan: string; p_renew: number; renewal_due: string }>(
      `SELECT contract_id, plan, p_renew, CAST(renewal_due AS VARCHAR) AS renewal_due FROM contract_latest WHERE status = 'active' AND p_renew IS NOT NULL`,
    );
    const due = active.filter((d) => isoDay(d.renewal_due, 31) <= holdoutEnd);
    // Some contracts due in the holdout are left out: their grace runs past its end.
    expect(active.filter((d) => d.renewal_due <= holdoutEnd).length).toBeGreaterThan(due.length);
    expect(b.decisions).toBe(due.length);
    expect(b.decisions).toBeGreaterThan(20);
    const renewed = due.filter((d) => periods.some((p) => p.contract === d.contract_id && p.start > asOf && p.start <= isoDay(d.renewal_due, 31) && p.start <= holdoutEnd));
    expect(b.actual_renewals).toBe(renewed.length);
    expect(b.predicted_renewals).toBeCloseTo(due.reduce((a, d) => a + d.p_renew, 0), 6);
    expect(b.by_plan.map((p) => p.plan)).toEqual(['mobile', 'motor', 'pet']);
    expect(b.by_plan.reduce((a, p) => a + p.decisions, 0)).toBe(b.decisions);
    expect(b.calibration.reduce((a, p) => a + p.decisions, 0)).toBe(b.decisions);
    const text = s.cli(['model', 'show']).stdout;
    expect(text).toContain('Contract backtest 2023-06-30 → 2023-10-31');
  }, 60_000);
});
