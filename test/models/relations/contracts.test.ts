/**
 * The contract relations (src/models/relations/contract-*.ts) on tiny hand-made tables in an
 * in-memory store: renewal detection at the grace boundary, both end conventions, overlaps,
 * cancellations, periods after as-of, period-unit detection; the metrics join, the product-limit
 * retention and the backtest, each with exact expected rows.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertInto, materialize, parametersOf, rowsOf, type Relation } from '../../../src/models/relation.js';
import { CONTRACT_BACKTEST } from '../../../src/models/relations/contract-backtest.js';
import { CONTRACT_METRICS, CONTRACT_PREDICTIONS, CONTRACT_RETENTION, CONTRACT_SUMMARY } from '../../../src/models/relations/contract-metrics.js';
import { CONTRACT_FIT_INPUT, CONTRACT_SPELLS } from '../../../src/models/relations/contract-spells.js';
import { createRng } from '../../../src/models/random.js';
import { Store } from '../../../src/store/db.js';

const RELATIONS: Relation[] = [CONTRACT_SPELLS, CONTRACT_FIT_INPUT, CONTRACT_METRICS, CONTRACT_PREDICTIONS, CONTRACT_RETENTION, CONTRACT_SUMMARY, CONTRACT_BACKTEST];

let store: Store;
beforeAll(async () => {
  store = await Store.open(':memory:', { create: true });
});
afterAll(() => store.close());

/** contract, start, end (inclusive), amount, plan, extra: source status, cancel date, customer. */
type Period = [string, string, string, number, string | null, { status?: string; cancel?: string; customer?: string }?];

async function loadContracts(periods: Period[]): Promise<void> {
  await store.run('DELETE FROM contracts');
  let row = 2;
  for (const [contract, start, end, amount, plan, extra] of periods) {
    await store.run(
      `INSERT INTO contracts (load_id, source_file, source_row, customer_id, contract_id, period_start, period_end, amount, plan, status, cancel_date)
       VALUES (1, 'contracts.csv', $row, $customer, $contract, CAST($start AS DATE), CAST($end AS DATE), $amount, $plan, $status, CAST($cancel AS DATE))`,
      { row: row++, customer: extra?.customer ?? `cust-${contract}`, contract, start, end, amount, plan, status: extra?.status ?? null, cancel: extra?.cancel ?? null },
    );
  }
}

const AS_OF = '2024-06-30';
/** Sums in another order differ in the last bits. */
const round = (x: unknown) => (x === null ? null : Math.round((x as number) * 1e9) / 1e9);
const spellsOf = async (params: { grace_days?: number; period?: string } = {}) => {
  await materialize(store, CONTRACT_SPELLS, { as_of: AS_OF, grace_days: params.grace_days ?? 30, period: params.period ?? 'auto' });
  return store.all(
    `SELECT contract_id, spell, is_current, period_unit, CAST(first_start AS VARCHAR) AS first_start, CAST(period_end AS VARCHAR) AS period_end,
            periods, renewals, status, CAST(renewal_due AS VARCHAR) AS renewal_due, active, premium, total_premium
     FROM temp.run_contract_spells ORDER BY contract_id, spell`,
  );
};

describe('every contract relation', () => {
  it('lists exactly the parameters its SQL uses', () => {
    for (const r of RELATIONS) expect([...r.params].sort(), r.name).toEqual(parametersOf(r.sql).sort());
  });
});

describe('contract spells (renewal detection)', () => {
  it('renews at exactly grace_days uncovered days and lapses at grace_days + 1', async () => {
    await loadContracts([
      ['G30', '2023-01-01', '2023-12-31', 100, 'motor'],
      ['G30', '2024-01-31', '2025-01-30', 110, 'motor'], // 30 days uncovered (Jan 1–30): a renewal
      ['G31', '2023-01-01', '2023-12-31', 100, 'motor'],
      ['G31', '2024-02-01', '2025-01-31', 110, 'motor'], // 31 days uncovered: a lapse, then a new run
    ]);
    expect(await spellsOf()).toEqual([
      { contract_id: 'G30', spell: 1, is_current: true, period_unit: 'year', first_start: '2023-01-01', period_end: '2025-01-30', periods: 2, renewals: 1, status: 'active', renewal_due: '2025-01-30', active: 1, premium: 110, total_premium: 210 },
      { contract_id: 'G31', spell: 1, is_current: false, period_unit: 'year', first_start: '2023-01-01', period_end: '2023-12-31', periods: 1, renewals: 0, status: 'lapsed', renewal_due: null, active: 0, premium: 100, total_premium: 100 },
      { contract_id: 'G31', spell: 2, is_current: true, period_unit: 'year', first_start: '2024-02-01', period_end: '2025-01-31', periods: 1, renewals: 0, status: 'active', renewal_due: '2025-01-31', active: 1, premium: 110, total_premium: 110 },
    ]);
    // grace 0: only seamless periods renew.
    const strict = await spellsOf({ grace_days: 0 });
    expect(strict.map((s) => [s.contract_id, s.spell, s.status])).toEqual([
      ['G30', 1, 'lapsed'],
      ['G30', 2, 'active'],
      ['G31', 1, 'lapsed'],
      ['G31', 2, 'active'],
    ]);
  });

  it('reads end = next start as a renewal and detects the year from those lengths too', async () => {
    await loadContracts([
      ['E', '2022-03-01', '2023-03-01', 100, 'home'],
      ['E', '2023-03-01', '2024-03-01', 100, 'home'],
      ['E', '2024-03-01', '2025-03-01', 120, 'home'],
    ]);
    expect(await spellsOf()).toEqual([
      { contract_id: 'E', spell: 1, is_current: true, period_unit: 'year', first_start: '2022-03-01', period_end: '2025-03-01', periods: 3, renewals: 2, status: 'active', renewal_due: '2025-03-01', active: 1, premium: 120, total_premium: 320 },
    ]);
  });

  it('counts overlapping periods as renewals and measures gaps from the coverage so far', async () => {
    await loadContracts([
      ['O', '2023-01-01', '2023-12-31', 100, 'motor'],
      ['O', '2023-12-15', '2024-12-14', 100, 'motor'], // renewed early: overlaps the previous year
      ['W', '2023-01-01', '2023-12-31', 100, 'motor'],
      ['W', '2023-02-01', '2023-02-28', 10, 'motor'], // a month inside the year: the year still covers to Dec 31
      ['W', '2024-01-10', '2025-01-09', 100, 'motor'], // 9 days after the coverage: a renewal (315 after the month)
    ]);
    expect((await spellsOf()).map((s) => [s.contract_id, s.spell, s.periods, s.period_unit, s.status, s.period_end])).toEqual([
      ['O', 1, 2, 'year', 'active', '2024-12-14'],
      ['W', 1, 3, 'irregular', 'active', '2025-01-09'], // a month and years: no one unit
    ]);
  });

  it('takes early cancellations (cancel_date on or before as-of) and source cancellations of finished periods', async () => {
    await loadContracts([
      ['C1', '2023-01-01', '2023-12-31', 100, 'life'],
      ['C1', '2024-01-01', '2024-12-31', 100, 'life', { cancel: '2024-03-15' }], // cancelled mid-period
      ['C2', '2024-01-01', '2024-12-31', 100, 'life', { cancel: '2024-08-01' }], // cancels after as-of: active now
      ['C3', '2023-01-01', '2023-12-31', 100, 'life', { status: 'Cancelled' }], // source says cancelled, period over
      ['C4', '2024-01-01', '2024-12-31', 100, 'life', { status: 'cancelled' }], // period still running: active
    ]);
    expect((await spellsOf()).map((s) => [s.contract_id, s.periods, s.period_unit, s.status, s.renewal_due, s.active])).toEqual([
      ['C1', 2, 'year', 'cancelled', null, 0],
      ['C2', 1, 'year', 'active', '2024-12-31', 1],
      ['C3', 1, 'year', 'cancelled', null, 0],
      ['C4', 1, 'year', 'active', '2024-12-31', 1],
    ]);
  });

  it('ignores periods starting after as-of and tells in-grace from lapsed at the grace boundary', async () => {
    await loadContracts([
      ['F', '2024-01-01', '2024-12-31', 100, 'motor'],
      ['F', '2025-01-01', '2025-12-31', 100, 'motor'], // the future
      ['IG', '2023-06-01', '2024-05-31', 100, 'motor'], // ended 30 days before as-of: may still renew
      ['L', '2023-05-31', '2024-05-30', 100, 'motor'], // ended 31 days before: lapsed
      ['L0', '2023-07-01', '2024-06-30', 100, 'motor'], // ends on as-of: active
    ]);
    expect((await spellsOf()).map((s) => [s.contract_id, s.periods, s.status, s.renewal_due, s.active])).toEqual([
      ['F', 1, 'active', '2024-12-31', 1],
      ['IG', 1, 'in_grace', '2024-05-31', 1],
      ['L', 1, 'lapsed', null, 0],
      ['L0', 1, 'active', '2024-06-30', 1],
    ]);
  });

  it('detects month, quarter, half year, year and irregular; a forced period overrides', async () => {
    const months: Period[] = ['01-01/01-31', '02-01/02-29', '03-01/03-31', '04-01/04-30', '05-01/05-31', '06-01/06-30'].map((m) => {
      const [a, b] = m.split('/');
      return ['M', `2024-${a}`, `2024-${b}`, 20, 'mobile'];
    });
    await loadContracts([
      ...months,
      ['Q', '2024-04-01', '2024-06-30', 60, 'mobile'],
      ['H', '2024-01-01', '2024-06-30', 120, 'mobile'],
      ['Y', '2024-01-01', '2024-12-31', 240, 'mobile'],
      ['I', '2024-01-01', '2024-03-15', 50, 'mobile'], // 75 days
      ['X', '2023-01-01', '2023-12-31', 240, 'mobile'],
      ['X', '2024-01-01', '2024-03-10', 40, 'mobile', { cancel: '2024-03-10' }], // cut short by a cancellation: still a year
    ]);
    expect((await spellsOf()).map((s) => [s.contract_id, s.period_unit, s.periods, s.status])).toEqual([
      ['H', 'half_year', 1, 'active'],
      ['I', 'irregular', 1, 'lapsed'],
      ['M', 'month', 6, 'active'],
      ['Q', 'quarter', 1, 'active'],
      ['X', 'year', 2, 'cancelled'],
      ['Y', 'year', 1, 'active'],
    ]);
    expect((await spellsOf({ period: 'month' })).map((s) => s.period_unit)).toEqual(['month', 'month', 'month', 'month', 'month', 'month']);
  });

  it('gives each contract the unit of min/max over its periods, full-length ones first, on a seeded random book', async () => {
    // The spells compute the unit from two packed window aggregates (contract-spells.ts); this is
    // the rule written plainly (min = max over the periods without a cancel_date if any, else over
    // all) on contracts mixing every length class, cancellations and irregular periods.
    const rng = createRng(20261207);
    const lengths = [27, 29, 30, 31, 88, 90, 92, 180, 184, 364, 365, 366, 10, 75, 200, 400];
    const periods: Period[] = [];
    for (let c = 0; c < 120; c++) {
      let start = Date.UTC(2020, 0, 1) + Math.floor(rng.uniform() * 400) * 86_400_000;
      const n = 1 + Math.floor(rng.uniform() * 4);
      const usual = lengths[Math.floor(rng.uniform() * lengths.length)];
      for (let k = 0; k < n; k++) {
        const days = rng.uniform() < 0.7 ? usual : lengths[Math.floor(rng.uniform() * lengths.length)];
        const end = start + days * 86_400_000;
        const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
        periods.push([`R${c}`, iso(start), iso(end), 10, 'p', rng.uniform() < 0.25 ? { cancel: iso(end) } : undefined]);
        start = end + 86_400_000;
      }
    }
    await loadContracts(periods);
    const spells = await spellsOf();
    const expected = await store.all(`
      WITH lengths AS (
        SELECT contract_id, cancel_date IS NULL AS full_length,
               CASE WHEN period_end - period_start BETWEEN 27 AND 31 THEN 'month'
                    WHEN period_end - period_start BETWEEN 88 AND 92 THEN 'quarter'
                    WHEN period_end - period_start BETWEEN 180 AND 184 THEN 'half_year'
                    WHEN period_end - period_start BETWEEN 364 AND 366 THEN 'year'
                    ELSE 'irregular' END AS unit
        FROM contracts WHERE period_start <= DATE '${AS_OF}'
      ), per_contract AS (
        SELECT contract_id, min(unit) AS lo, max(unit) AS hi,
               min(unit) FILTER (WHERE full_length) AS full_lo, max(unit) FILTER (WHERE full_length) AS full_hi
        FROM lengths GROUP BY contract_id
      )
      SELECT contract_id, CASE WHEN full_lo IS NOT NULL THEN CASE WHEN full_lo = full_hi THEN full_lo ELSE 'irregular' END
                               WHEN lo = hi THEN lo ELSE 'irregular' END AS period_unit
      FROM per_contract ORDER BY contract_id`);
    const units = new Set(expected.map((r) => r.period_unit));
    expect(units.size).toBe(5); // every class occurs
    expect(spells.filter((s) => s.spell === 1).map((s) => ({ contract_id: s.contract_id, period_unit: s.period_unit }))).toEqual(expected);
  });

  it('compresses the runs of renewals per (plan, unit, renewals, active), irregular ones left out', async () => {
    await loadContracts([
      ['A', '2023-01-01', '2023-12-31', 100, 'motor'],
      ['A', '2024-01-01', '2024-12-31', 100, 'motor'], // motor, 1 renewal, active
      ['B', '2023-01-01', '2023-12-31', 100, 'motor'],
      ['B', '2024-01-01', '2024-12-31', 100, 'motor'], // the same
      ['C', '2022-01-01', '2022-12-31', 100, 'motor'], // motor, 0 renewals, lapsed (then came back)
      ['C', '2024-03-01', '2025-02-28', 100, 'motor'], // motor, 0 renewals, active
      ['D', '2024-01-01', '2024-01-31', 10, null], // no plan, month, lapsed
      ['E', '2024-01-01', '2024-03-15', 50, 'motor'], // irregular
    ]);
    await spellsOf();
    expect(await rowsOf(store, CONTRACT_FIT_INPUT, {})).toEqual([
      { plan: null, period_unit: 'month', renewals: 0, active: 0, contracts: 1 },
      { plan: 'motor', period_unit: 'year', renewals: 0, active: 0, contracts: 1 },
      { plan: 'motor', period_unit: 'year', renewals: 0, active: 1, contracts: 1 },
      { plan: 'motor', period_unit: 'year', renewals: 1, active: 1, contracts: 2 },
    ]);
  });
});

describe('contract metrics', () => {
  beforeEach(async () => {
    await loadContracts([
      ['A', '2023-01-01', '2023-12-31', 100, 'motor'],
      ['A', '2024-01-01', '2024-12-31', 120, 'motor'], // active, 1 renewal, motor's own fit
      ['B', '2024-01-01', '2024-12-31', 80, 'pet'], // active, 0 renewals, pet scored with the book
      ['C', '2024-01-01', '2024-12-31', 50, null], // no plan: the book
      ['D', '2022-01-01', '2022-12-31', 100, 'motor'], // lapsed
      ['E', '2024-01-01', '2024-06-10', 50, 'motor'], // irregular (161 days), in grace: not modelled
    ]);
    await spellsOf();
    await store.run(`CREATE OR REPLACE TEMP TABLE run_contract_predictions AS SELECT * FROM (VALUES
      ('motor', 'year', 1, 'motor', 'sbg', 0.8, 4.0, 4.0, 0.8),
      ('pet', 'year', 0, NULL, 'geometric', 0.5, 1.0, 1.0, 0.5),
      (NULL, 'year', 0, NULL, 'geometric', 0.5, 1.0, 1.0, 0.5)
    ) t(plan, period_unit, renewals, model_plan, model_kind, p_renew, derl, value_per_premium, value_per_premium_horizon)`);
  });

  /** Run 3's stored rows and predictions, read back through the view contract_metrics (store migration 13). */
  async function writeRun3(): Promise<void> {
    await store.run('DELETE FROM contract_metrics_stored');
    await store.run('DELETE FROM contract_predictions');
    await insertInto(store, 'contract_predictions', CONTRACT_PREDICTIONS, { run_id: 3 });
    await insertInto(store, 'contract_metrics_stored', CONTRACT_METRICS, { run_id: 3, as_of: AS_OF });
  }

  it('join the predictions of (plan, unit, renewals) back to each current run; lost contracts are worth 0, unmodelled ones NULL', async () => {
    await writeRun3();
    const rows = await store.all('SELECT * FROM contract_metrics WHERE run_id = 3');
    expect(
      rows
        .map((r) => [r.run_id, r.contract_id, r.plan, r.status, r.p_renew, r.derl, r.residual_value, r.residual_value_horizon, round(r.value_at_risk), r.model_plan, r.model_kind, r.as_of])
        .sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    ).toEqual([
      [3, 'A', 'motor', 'active', 0.8, 4, 480, 96, 96, 'motor', 'sbg', AS_OF],
      [3, 'B', 'pet', 'active', 0.5, 1, 80, 40, 40, null, 'geometric', AS_OF],
      [3, 'C', null, 'active', 0.5, 1, 50, 25, 25, null, 'geometric', AS_OF],
      [3, 'D', 'motor', 'lapsed', null, 0, 0, 0, 0, null, null, AS_OF],
      [3, 'E', 'motor', 'in_grace', null, null, null, null, null, null, null, AS_OF],
    ]);
  });

  it('another run\'s predictions are not joined; the view derives renewals and renewal_due', async () => {
    await writeRun3();
    await store.run(`INSERT INTO contract_predictions SELECT 4 AS run_id, * FROM temp.run_contract_predictions`);
    await store.run(`UPDATE contract_predictions SET p_renew = 0.1 WHERE run_id = 4`);
    const rows = await store.all('SELECT contract_id, periods, renewals, status, period_end, renewal_due, p_renew FROM contract_metrics WHERE run_id = 3 ORDER BY contract_id');
    expect(rows.map((r) => [r.contract_id, r.periods, r.renewals, r.status, r.renewal_due === null ? null : r.renewal_due === r.period_end, r.p_renew])).toEqual([
      ['A', 2, 1, 'active', true, 0.8],
      ['B', 1, 0, 'active', true, 0.5],
      ['C', 1, 0, 'active', true, 0.5],
      ['D', 1, 0, 'lapsed', null, null],
      ['E', 1, 0, 'in_grace', true, null],
    ]);
  });

  it('insert into contract_metrics_stored and contract_predictions and sum up in the summary', async () => {
    await writeRun3();
    const [summary] = await rowsOf(store, CONTRACT_SUMMARY, { run_id: 3 });
    expect({ ...summary, value_at_risk: round(summary.value_at_risk) }).toEqual({
      contracts: 5,
      runs_of_renewals: 5,
      active: 3,
      in_grace: 1,
      lapsed: 1,
      cancelled: 0,
      irregular: 1,
      scored: 3,
      premium_in_force: 120 + 80 + 50 + 50,
      residual_value: 480 + 80 + 50,
      residual_value_horizon: 96 + 40 + 25,
      value_at_risk: 96 + 40 + 25,
    });
  });
});

describe('contract retention (product-limit with censoring)', () => {
  it('counts runs at risk per decision, multiplies the survival through departures, and joins the fitted curve', async () => {
    // motor (year): left at decision 1 ×2, left at decision 2 ×1, censored after 1 renewal, after 2, after 0.
    // A contract without a plan (censored after 3 renewals) counts in the whole book only.
    await store.run(`CREATE OR REPLACE TEMP TABLE run_contract_spells AS SELECT * FROM (VALUES
      ('motor', 'year', 0, 0), ('motor', 'year', 0, 0), ('motor', 'year', 1, 0), ('motor', 'year', 1, 1),
      ('motor', 'year', 2, 1), ('motor', 'year', 0, 1), (NULL, 'year', 3, 1), ('motor', 'irregular', 5, 0)
    ) t(plan, period_unit, renewals, active)`);
    await store.run(`CREATE OR REPLACE TEMP TABLE run_contract_curves AS SELECT * FROM (VALUES
      ('motor', 'year', 0, 1.0), ('motor', 'year', 1, 0.7), ('motor', 'year', 2, 0.5), ('motor', 'year', 3, 0.4)
    ) t(plan, period_unit, period, fitted_survival)`);
    const rows = await store.all(`SELECT * FROM (${CONTRACT_RETENTION.sql}) ORDER BY plan NULLS FIRST, period`, { run_id: 4 });
    const near = (rows as { observed_survival: number | null }[]).map((r) => ({ ...r, observed_survival: r.observed_survival === null ? null : Math.round(r.observed_survival * 1e12) / 1e12 }));
    const r12 = (x: number) => Math.round(x * 1e12) / 1e12;
    expect(near).toEqual([
      { run_id: 4, plan: null, period_unit: 'year', period: 0, contracts_at_risk: 7, observed_survival: 1, fitted_survival: null },
      { run_id: 4, plan: null, period_unit: 'year', period: 1, contracts_at_risk: 6, observed_survival: r12(4 / 6), fitted_survival: null },
      { run_id: 4, plan: null, period_unit: 'year', period: 2, contracts_at_risk: 3, observed_survival: r12((4 / 6) * (2 / 3)), fitted_survival: null },
      { run_id: 4, plan: null, period_unit: 'year', period: 3, contracts_at_risk: 1, observed_survival: r12((4 / 6) * (2 / 3)), fitted_survival: null },
      { run_id: 4, plan: 'motor', period_unit: 'year', period: 0, contracts_at_risk: 6, observed_survival: 1, fitted_survival: 1 },
      { run_id: 4, plan: 'motor', period_unit: 'year', period: 1, contracts_at_risk: 5, observed_survival: 0.6, fitted_survival: 0.7 },
      { run_id: 4, plan: 'motor', period_unit: 'year', period: 2, contracts_at_risk: 2, observed_survival: 0.3, fitted_survival: 0.5 },
      { run_id: 4, plan: 'motor', period_unit: 'year', period: 3, contracts_at_risk: 0, observed_survival: null, fitted_survival: 0.4 }, // beyond the data
    ]);
  });
});

describe('contract backtest', () => {
  it('counts the decisions fully observable by the holdout end, and the renewals starting by then, per plan and per band', async () => {
    // As of 2024-06-30, holdout end 2024-12-31, grace 30 days: a renewal may start up to
    // renewal_due + 31 days, so a decision counts when that day is on or before 2024-12-31
    // (renewal_due ≤ 2024-11-30), whatever its outcome.
    await loadContracts([
      ['R1', '2024-07-05', '2025-07-04', 100, 'motor'], // renewed 4 days after its due date
      ['R2', '2024-09-01', '2025-08-31', 100, 'motor'], // 62 days late: not a renewal
      ['R3', '2024-10-01', '2025-09-30', 100, 'life'], // renewed on time
      ['R5', '2025-02-01', '2026-01-31', 100, 'life'], // due after the holdout: not counted
      ['R6', '2025-01-10', '2026-01-09', 100, 'motor'], // renewed within grace but after the holdout end: not known by then
      ['R7', '2024-12-31', '2025-12-30', 100, 'life'], // 30 uncovered days (exactly grace), starting on the holdout end: renewed
      ['R8', '2024-12-31', '2025-12-30', 100, 'motor'], // renewed in the holdout, but due a day too late to be fully observable
    ]);
    // Every column by hand: into contract_metrics_v7, whose rows the view contract_metrics reads as they are.
    await store.run('DELETE FROM contract_metrics_v7');
    const metric = (id: string, plan: string, due: string, p: number | null, status = 'active') =>
      store.run(
        `INSERT INTO contract_metrics_v7 (run_id, contract_id, customer_id, plan, period_unit, first_start, period_start, period_end, periods, renewals, premium, total_premium, status, renewal_due, p_renew, as_of)
         VALUES (7, $id, 'c', $plan, 'year', DATE '2023-01-01', DATE '2023-01-01', CAST($due AS DATE), 1, 0, 100, 100, $status, CAST($due AS DATE), $p, DATE '2024-06-30')`,
        { id, plan, due, p, status },
      );
    await metric('R1', 'motor', '2024-06-30', 0.9);
    await metric('R2', 'motor', '2024-06-30', 0.75);
    await metric('R3', 'life', '2024-09-30', 0.95);
    await metric('R4', 'life', '2024-08-31', null); // not modelled
    await metric('R5', 'life', '2025-01-31', 0.9); // due after the holdout end
    await metric('R6', 'motor', '2024-12-15', 0.8); // its grace runs past the holdout end
    await metric('R7', 'life', '2024-11-30', 0.6); // due + 31 days = the holdout end: counted
    await metric('R8', 'motor', '2024-12-01', 0.85); // due + 31 days = the day after: not counted
    const rows = await rowsOf(store, CONTRACT_BACKTEST, { run_id: 7, as_of: AS_OF, holdout_end: '2024-12-31', grace_days: 30 });
    expect(rows.map((r) => ({ ...r, predicted: round(r.predicted as number), brier: round(r.brier as number) }))).toEqual([
      { grouped_by: 'book', plan: null, band_low: null, band_high: null, decisions: 4, predicted: 3.2, actual: 3, brier: round((0.01 + 0.5625 + 0.0025 + 0.16) / 4) },
      { grouped_by: 'plan', plan: 'life', band_low: null, band_high: null, decisions: 2, predicted: 1.55, actual: 2, brier: round((0.0025 + 0.16) / 2) },
      { grouped_by: 'plan', plan: 'motor', band_low: null, band_high: null, decisions: 2, predicted: 1.65, actual: 1, brier: round((0.01 + 0.5625) / 2) },
      { grouped_by: 'band', plan: null, band_low: 0.6, band_high: 0.7, decisions: 1, predicted: 0.6, actual: 1, brier: round(0.16) },
      { grouped_by: 'band', plan: null, band_low: 0.7, band_high: 0.8, decisions: 1, predicted: 0.75, actual: 0, brier: round(0.5625) },
      { grouped_by: 'band', plan: null, band_low: 0.9, band_high: 1, decisions: 2, predicted: 1.85, actual: 2, brier: round((0.01 + 0.0025) / 2) },
    ]);
  });

  it('a renewal the holdout end has not seen yet leaves its decision out; a day later it counts', async () => {
    // Grace 60 days: R9 (due 2024-11-01) may renew up to 2025-01-01 and does so that day — after
    // a holdout ending 2024-12-31, which therefore cannot tell how it ends: not counted (counting it
    // as lapsed would be wrong). A holdout ending 2025-01-01 sees it renewed.
    await loadContracts([
      ['R1', '2024-07-05', '2025-07-04', 100, 'motor'],
      ['R9', '2025-01-01', '2025-12-31', 100, 'motor'],
    ]);
    await store.run('DELETE FROM contract_metrics_v7');
    await store.run(
      `INSERT INTO contract_metrics_v7 (run_id, contract_id, customer_id, plan, period_unit, first_start, period_start, period_end, periods, renewals, premium, total_premium, status, renewal_due, p_renew, as_of)
       VALUES (7, 'R1', 'c', 'motor', 'year', DATE '2023-07-01', DATE '2023-07-01', DATE '2024-06-30', 1, 0, 100, 100, 'active', DATE '2024-06-30', 0.9, DATE '2024-06-30'),
              (7, 'R9', 'c', 'motor', 'year', DATE '2023-11-02', DATE '2023-11-02', DATE '2024-11-01', 1, 0, 100, 100, 'active', DATE '2024-11-01', 0.8, DATE '2024-06-30')`,
    );
    const book = async (holdoutEnd: string, graceDays: number) =>
      (await rowsOf(store, CONTRACT_BACKTEST, { run_id: 7, as_of: AS_OF, holdout_end: holdoutEnd, grace_days: graceDays }))[0];
    expect(await book('2024-12-31', 60)).toMatchObject({ decisions: 1, actual: 1 });
    // With the holdout to 2025-01-01 it is observable, and renewed that day.
    expect(await book('2025-01-01', 60)).toMatchObject({ decisions: 2, actual: 2 });
  });
});

describe('contract spells (merged policyholders)', () => {
  it("a merged duplicate's contract is its surviving id's; an undone merge gives it back", async () => {
    await loadContracts([
      ['K1', '2024-01-01', '2024-12-31', 100, 'motor', { customer: 'DUP' }],
      ['K2', '2024-01-01', '2024-12-31', 200, 'home', { customer: 'SURV' }],
    ]);
    await store.run('DELETE FROM merges');
    await store.run(
      `INSERT INTO merges (merge_id, duplicate_id, surviving_id, load_id, source_file, source_row, merged_at)
       VALUES (1, 'DUP', 'SURV', 9, 'merges.csv', 2, TIMESTAMP '2024-07-01 00:00:00')`,
    );
    const owners = async () => {
      await materialize(store, CONTRACT_SPELLS, { as_of: AS_OF, grace_days: 30, period: 'auto' });
      return store.all('SELECT contract_id, customer_id FROM temp.run_contract_spells ORDER BY contract_id');
    };
    expect(await owners()).toEqual([
      { contract_id: 'K1', customer_id: 'SURV' },
      { contract_id: 'K2', customer_id: 'SURV' },
    ]);
    await store.run("UPDATE merges SET undone_at = TIMESTAMP '2024-07-02 00:00:00', undone_by = 'test'");
    expect(await owners()).toEqual([
      { contract_id: 'K1', customer_id: 'DUP' },
      { contract_id: 'K2', customer_id: 'SURV' },
    ]);
    await store.run('DELETE FROM merges');
  });
});
