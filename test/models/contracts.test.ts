/**
 * How the run applies the sBG to a book (src/models/contracts.ts): per-period discounting, the
 * horizon in whole periods, fits per plan and whole book with the fallback, predictions per
 * (fit, renewals) equal to sbg.ts's closed forms; and parameter recovery through the renewal
 * relation: contracts simulated from known sBG parameters (several plans, monthly and annual,
 * staggered starts so that many are censored) written as period rows, read back by
 * CONTRACT_SPELLS / CONTRACT_FIT_INPUT and fitted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contractPredictions,
  describeContractFit,
  fitContracts,
  fittedCurves,
  horizonPeriods,
  periodDiscountRate,
  scoringFit,
  type ContractFit,
  type FitInputRow,
} from '../../src/models/contracts.js';
import { createRng } from '../../src/models/random.js';
import { materialize, rowsOf } from '../../src/models/relation.js';
import { CONTRACT_FIT_INPUT, CONTRACT_SPELLS } from '../../src/models/relations/contract-spells.js';
import {
  discountedExpectedResidualLifetime,
  renewalProbability,
  renewalSummaryFromSurvivors,
  residualValueOverHorizon,
  survivalCurve,
  type SbgParams,
} from '../../src/models/sbg.js';
import { writeTempRows } from '../../src/store/columnar.js';
import { Store } from '../../src/store/db.js';

describe('per-period discount rate and horizon', () => {
  it('compounds the annual rate to the period: twelve monthly periods discount like one year', () => {
    expect(periodDiscountRate(0.1, 'year')).toBeCloseTo(0.1, 15);
    const monthly = periodDiscountRate(0.1, 'month');
    expect((1 + monthly) ** 12).toBeCloseTo(1.1, 14);
    expect((1 + periodDiscountRate(0.1, 'quarter')) ** 4).toBeCloseTo(1.1, 14);
    expect((1 + periodDiscountRate(0.1, 'half_year')) ** 2).toBeCloseTo(1.1, 14);
    expect(periodDiscountRate(0, 'month')).toBe(0);
    // Below sbg.ts's smallest per-period rate: undiscounted.
    expect(periodDiscountRate(0.0001, 'month')).toBe(0);
  });

  it('counts the horizon in whole periods', () => {
    expect(horizonPeriods(12, 'year')).toBe(1);
    expect(horizonPeriods(11, 'year')).toBe(0);
    expect(horizonPeriods(18, 'quarter')).toBe(6);
    expect(horizonPeriods(18, 'half_year')).toBe(3);
    expect(horizonPeriods(12, 'month')).toBe(12);
  });
});

/** Fit-input rows of one plan and unit from survivor counts (Fader & Hardie 2007, Table 1). */
function cohortRows(plan: string | null, unit: string, survivors: number[]): FitInputRow[] {
  const s = renewalSummaryFromSurvivors(survivors);
  return Array.from(s.renewals, (n, i) => ({ plan, period_unit: unit, renewals: n, active: s.active[i], contracts: s.weight![i] }));
}

// Fader & Hardie (2007)'s "regular" and "high end" cohorts, years 0–7 (per 1000).
const REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241];
const HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491];

describe('fits per plan and for the whole book', () => {
  const rows: FitInputRow[] = [
    ...cohortRows('high_end', 'year', HIGH_END),
    ...cohortRows('regular', 'year', REGULAR),
    { plan: 'pet', period_unit: 'year', renewals: 0, active: 0, contracts: 5 }, // too few for its own fit
    { plan: 'pet', period_unit: 'year', renewals: 2, active: 1, contracts: 4 },
    { plan: null, period_unit: 'year', renewals: 1, active: 1, contracts: 7 }, // no plan: the book only
    { plan: 'mobile', period_unit: 'month', renewals: 0, active: 0, contracts: 3 },
    { plan: 'mobile', period_unit: 'irregular', renewals: 0, active: 0, contracts: 50 }, // not modelled
  ];
  const fits = fitContracts(rows, 30);
  const find = (plan: string | null, unit: string) => fits.find((f) => f.plan === plan && f.periodUnit === unit)!;

  it('fits the whole book per unit first, then each plan; irregular periods never', () => {
    expect(fits.map((f) => [f.periodUnit, f.plan, f.fit.outcome])).toEqual([
      ['month', null, 'too_few_contracts'],
      ['month', 'mobile', 'too_few_contracts'],
      ['year', null, 'fitted'],
      ['year', 'high_end', 'fitted'],
      ['year', 'pet', 'too_few_contracts'],
      ['year', 'regular', 'fitted'],
    ]);
    expect(find(null, 'year').fit.contracts).toBe(1000 + 1000 + 9 + 7);
    expect(find('pet', 'year').fit.contracts).toBe(9);
  });

  it('recovers Fader & Hardie (2007)\'s published estimates for their two cohorts', () => {
    // Their Table 2: regular α = 0.704, β = 1.182; high end α = 0.668, β = 3.806.
    expect(find('regular', 'year').fit.params!.alpha).toBeCloseTo(0.704, 2);
    expect(find('regular', 'year').fit.params!.beta).toBeCloseTo(1.182, 2);
    expect(find('high_end', 'year').fit.params!.alpha).toBeCloseTo(0.668, 2);
    expect(find('high_end', 'year').fit.params!.beta).toBeCloseTo(3.806, 2);
  });

  it('scores a plan with its own usable fit, else with the whole book of its unit, else not at all', () => {
    expect(scoringFit(fits, 'regular', 'year')).toBe(find('regular', 'year'));
    expect(scoringFit(fits, 'pet', 'year')).toBe(find(null, 'year'));
    expect(scoringFit(fits, null, 'year')).toBe(find(null, 'year'));
    expect(scoringFit(fits, 'unknown', 'year')).toBe(find(null, 'year'));
    expect(scoringFit(fits, 'mobile', 'month')).toBeNull();
  });

  it('uses a boundary fit\'s geometric limit: a plan nobody left is usable', () => {
    const noChurn = fitContracts([{ plan: 'loyal', period_unit: 'year', renewals: 3, active: 1, contracts: 40 }], 30);
    const loyal = noChurn.find((f) => f.plan === 'loyal')!;
    expect(loyal.fit.outcome).toBe('no_churn');
    expect(loyal.model).toEqual({ kind: 'geometric', churnProbability: 0 });
    expect(scoringFit(noChurn, 'loyal', 'year')).toBe(loyal);
    expect(describeContractFit(loyal, 0.1)).toMatchObject({ plan: 'loyal', alpha: null, beta: null, model_kind: 'geometric', limit_churn_probability: 0, fallback_to_book: false, converged: false });
  });

  it('predicts per (plan, unit, renewals) with the closed forms of sbg.ts and the per-period rate', () => {
    const keys = [
      { plan: 'regular', period_unit: 'year', renewals: 0 },
      { plan: 'regular', period_unit: 'year', renewals: 4 },
      { plan: 'pet', period_unit: 'year', renewals: 2 },
      { plan: 'mobile', period_unit: 'month', renewals: 0 }, // no usable fit: left out
    ];
    const p = contractPredictions(fits, keys, { annualDiscountRate: 0.1, horizonMonths: 36 });
    expect(p.plan).toEqual(['regular', 'regular', 'pet']);
    expect(p.model_plan).toEqual(['regular', 'regular', null]);
    expect(p.model_kind).toEqual(['sbg', 'sbg', 'sbg']);
    const models: SbgParams[] = [find('regular', 'year').fit.params!, find('regular', 'year').fit.params!, find(null, 'year').fit.params!];
    keys.slice(0, 3).forEach((k, i) => {
      expect(p.p_renew[i]).toBe(renewalProbability(models[i], k.renewals));
      expect(p.derl[i]).toBe(discountedExpectedResidualLifetime(models[i], k.renewals, 0.1));
      expect(p.value_per_premium[i]).toBe(p.derl[i]);
      expect(p.value_per_premium_horizon[i]).toBeCloseTo(residualValueOverHorizon(models[i], k.renewals, 1, 0.1, 3), 14);
    });
  });

  it('draws each group\'s fitted curve from the model that scores it, to the longer of data and horizon', () => {
    const curves = fittedCurves(fits, 120);
    const of = (plan: string | null) => curves.fitted_survival.filter((_, i) => curves.plan[i] === plan && curves.period_unit[i] === 'year');
    expect(of('regular')).toEqual(Array.from(survivalCurve(find('regular', 'year').fit.params!, 10)));
    expect(of('pet')).toEqual(Array.from(survivalCurve(find(null, 'year').fit.params!, 10)));
    expect(curves.plan.filter((p, i) => p === 'mobile' && curves.period_unit[i] === 'month')).toEqual([]);
    expect(of('regular').length).toBe(11); // the data reach decision 7, the horizon 10 years
    const short = fittedCurves(fits, 12);
    expect(short.period.filter((_, i) => short.plan[i] === 'regular')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

// ---------------------------------------------------------------------------------------------
// Parameter recovery through the relation

interface SimulatedPlan {
  plan: string;
  unit: 'month' | 'year';
  params: SbgParams;
  contracts: number;
  /** Contracts start uniformly over this many days before as-of. */
  window_days: number;
}

const SIM_AS_OF = '2024-12-31';
const PLANS: SimulatedPlan[] = [
  { plan: 'motor', unit: 'year', params: { alpha: 1.5, beta: 4 }, contracts: 3000, window_days: 12 * 365 },
  { plan: 'life', unit: 'year', params: { alpha: 0.7, beta: 3.5 }, contracts: 3000, window_days: 12 * 365 },
  { plan: 'mobile', unit: 'month', params: { alpha: 2.5, beta: 12 }, contracts: 3000, window_days: 4 * 365 },
  { plan: 'gym', unit: 'month', params: { alpha: 1, beta: 4 }, contracts: 2500, window_days: 3 * 365 },
  { plan: 'pet', unit: 'year', params: { alpha: 1, beta: 3 }, contracts: 12, window_days: 5 * 365 },
];

describe('parameter recovery: simulated periods → renewal relation → sBG fit', () => {
  let store: Store;
  let fits: ContractFit[];
  let spells: { status: string; n: number }[];

  beforeAll(async () => {
    store = await Store.open(':memory:', { create: true });
    const rng = createRng(20261207);
    const contract: string[] = [];
    const plan: string[] = [];
    const unit: string[] = [];
    const startOffset: number[] = [];
    const periods: number[] = [];
    for (const p of PLANS) {
      for (let i = 0; i < p.contracts; i++) {
        // θ ~ Beta(α, β); the contract leaves at the end of its T-th period, T shifted-geometric.
        const theta = rng.beta(p.params.alpha, p.params.beta);
        let t = 1;
        while (t < 400 && rng.uniform() >= theta) t++;
        contract.push(`${p.plan}-${i}`);
        plan.push(p.plan);
        unit.push(p.unit);
        startOffset.push(Math.floor(rng.uniform() * p.window_days));
        periods.push(t);
      }
    }
    await writeTempRows(store, 'sim', {
      contract_id: { type: 'VARCHAR', values: contract },
      plan: { type: 'VARCHAR', values: plan },
      unit: { type: 'VARCHAR', values: unit },
      start_offset: { type: 'INTEGER', values: startOffset },
      periods: { type: 'INTEGER', values: periods },
    });
    // One row per period, seamless renewals; periods up to a year after as-of are written too
    // (the relation must ignore them).
    await store.run(`
      INSERT INTO contracts (load_id, source_file, source_row, customer_id, contract_id, period_start, period_end, amount, plan)
      WITH expanded AS (
        SELECT contract_id, plan, unit, CAST($as_of AS DATE) - start_offset AS first_start, unnest(range(periods)) AS k
        FROM temp.sim
      ),
      dated AS (
        SELECT contract_id, plan,
               CAST(first_start + CASE unit WHEN 'year' THEN to_years(CAST(k AS INTEGER)) ELSE to_months(CAST(k AS INTEGER)) END AS DATE) AS period_start,
               CAST(first_start + CASE unit WHEN 'year' THEN to_years(CAST(k + 1 AS INTEGER)) ELSE to_months(CAST(k + 1 AS INTEGER)) END AS DATE) - 1 AS period_end
        FROM expanded
      )
      SELECT 1, 'simulated.csv', row_number() OVER (ORDER BY contract_id, period_start), contract_id, contract_id, period_start, period_end, 100, plan
      FROM dated
      WHERE period_start <= CAST($as_of AS DATE) + 365`,
      { as_of: SIM_AS_OF },
    );
    await materialize(store, CONTRACT_SPELLS, { as_of: SIM_AS_OF, grace_days: 30, period: 'auto' });
    spells = await store.all('SELECT status, count(*) AS n FROM temp.run_contract_spells GROUP BY status ORDER BY status');
    const rows = await rowsOf<FitInputRow, string>(store, CONTRACT_FIT_INPUT, {});
    fits = fitContracts(rows, 30);
  }, 60_000);
  afterAll(() => store?.close());

  it('sees one regular run per simulated contract, many of them censored', async () => {
    const irregular = await store.value<number>("SELECT count(*) FROM temp.run_contract_spells WHERE period_unit = 'irregular' OR spell > 1");
    expect(irregular).toBe(0);
    const total = spells.reduce((a, s) => a + s.n, 0);
    expect(total).toBe(PLANS.reduce((a, p) => a + p.contracts, 0));
    const censored = spells.filter((s) => s.status === 'active' || s.status === 'in_grace').reduce((a, s) => a + s.n, 0);
    expect(censored / total).toBeGreaterThan(0.2);
    expect(spells.find((s) => s.status === 'lapsed')!.n / total).toBeGreaterThan(0.2);
  });

  it.each(PLANS.filter((p) => p.contracts >= 30))('recovers $plan ($unit) α, β within 3 standard errors', (p) => {
    const fit = fits.find((f) => f.plan === p.plan && f.periodUnit === p.unit)!.fit;
    expect(fit.outcome).toBe('fitted');
    const se = fit.standardErrors!;
    // The test has power: the estimates are precise to better than a third of their value ...
    expect(se.alpha / p.params.alpha).toBeLessThan(0.35);
    expect(se.beta / p.params.beta).toBeLessThan(0.35);
    // ... and land within 3 SE of the truth (a 99.7 % interval per parameter for a normal MLE).
    expect(Math.abs(fit.params!.alpha - p.params.alpha)).toBeLessThan(3 * se.alpha);
    expect(Math.abs(fit.params!.beta - p.params.beta)).toBeLessThan(3 * se.beta);
  });

  it('scores the small plan with the whole book of its unit', () => {
    const pet = fits.find((f) => f.plan === 'pet')!;
    expect(pet.fit.outcome).toBe('too_few_contracts');
    expect(scoringFit(fits, 'pet', 'year')).toBe(fits.find((f) => f.plan === null && f.periodUnit === 'year'));
    expect(describeContractFit(pet, 0.1)).toMatchObject({ plan: 'pet', fallback_to_book: true, model_kind: null, contracts: 12 });
  });
});
