/**
 * How `crm run` applies the sBG retention model (sbg.ts; Fader & Hardie 2007, 2010) to a book of
 * contracts. Everything here works on compressed data: the runs of renewals counted per (plan,
 * period unit, renewals, active) by SQL (relations/contract-spells.ts), and predictions made once
 * per distinct (fit, renewals) and joined back to contracts in SQL (relations/contract-metrics.ts).
 *
 * - Fits: one per (plan, period unit) with at least `min_contracts` runs of renewals, and one per
 *   period unit for the whole book (plan null; every plan, and contracts without a plan). Periods
 *   of different lengths are never pooled: a monthly and an annual churn probability are
 *   different quantities.
 * - Fallback: a plan whose own fit is unusable (too few contracts, not converged, invalid) is
 *   scored with the whole book's fit of its unit. Boundary outcomes (no churn, no renewal,
 *   homogeneous, only first renewals) are usable: they predict with their geometric limit
 *   (retentionModelOf).
 * - Discounting: the run's annual rate d_year becomes the per-period rate
 *   d = (1 + d_year)^(years per period) − 1, so a monthly and an annual contract of the same
 *   yearly premium are worth the same when they renew alike.
 * - Horizon: --horizon months, in whole periods (floor): the residual value over the horizon
 *   counts the renewals whose payment falls within it.
 */
import type { ContractPeriod } from './settings.js';
import {
  fitSbg,
  MIN_DISCOUNT_RATE,
  modelSurvivalCurve,
  predictContracts,
  retentionModelOf,
  type RenewalSummary,
  type RetentionModel,
  type SbgFit,
} from './sbg.js';

/** The period units the model knows (contracts with any other length are 'irregular'). */
export const PERIOD_UNITS = ['month', 'quarter', 'half_year', 'year'] as const;
export type PeriodUnit = (typeof PERIOD_UNITS)[number];

const MONTHS_PER_PERIOD: Record<PeriodUnit, number> = { month: 1, quarter: 3, half_year: 6, year: 12 };

export function isPeriodUnit(unit: string): unit is PeriodUnit {
  return (PERIOD_UNITS as readonly string[]).includes(unit);
}

/**
 * The per-period discount rate from the annual one: (1 + annual)^(years per period) − 1. A rate
 * below sbg.ts's MIN_DISCOUNT_RATE (an annual rate under ~0.012 % for monthly periods) is taken
 * as 0, undiscounted: the DERL series would need more than 35/d terms for a difference below
 * 1e-5 per period.
 */
export function periodDiscountRate(annualRate: number, unit: PeriodUnit): number {
  const d = Math.expm1(Math.log1p(annualRate) * (MONTHS_PER_PERIOD[unit] / 12));
  return d < MIN_DISCOUNT_RATE ? 0 : d;
}

/** Whole periods within a horizon of `months` months. */
export function horizonPeriods(months: number, unit: PeriodUnit): number {
  return Math.floor(months / MONTHS_PER_PERIOD[unit]);
}

/** A row of relations/contract-spells.ts CONTRACT_FIT_INPUT (a type, so that it is a store row). */
export type FitInputRow = {
  plan: string | null;
  period_unit: string;
  renewals: number;
  active: number;
  contracts: number;
};

/** One fit: a plan's (plan non-null) or the whole book's (plan null), for one period unit. */
export interface ContractFit {
  plan: string | null;
  periodUnit: PeriodUnit;
  fit: SbgFit;
  /** What it predicts with, or null when unusable. */
  model: RetentionModel | null;
  /** Largest renewal decision observed (a departure at n+1, or a censored run after n). */
  lastDecision: number;
}

interface Group {
  plan: string | null;
  periodUnit: PeriodUnit;
  renewals: number[];
  active: number[];
  weight: number[];
  lastDecision: number;
}

function groupKey(plan: string | null, unit: string): string {
  return JSON.stringify([plan, unit]);
}

/**
 * The fits of a book: per unit the whole book first, then each plan in plan order. Plans with
 * fewer than `minContracts` runs of renewals get outcome 'too_few_contracts' (and are scored
 * with the whole book); the whole book is fitted from sbg.ts's own minimum (10).
 */
export function fitContracts(rows: readonly FitInputRow[], minContracts: number): ContractFit[] {
  const groups = new Map<string, Group>();
  const add = (plan: string | null, unit: PeriodUnit, row: FitInputRow) => {
    const key = groupKey(plan, unit);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { plan, periodUnit: unit, renewals: [], active: [], weight: [], lastDecision: 0 }));
    group.renewals.push(row.renewals);
    group.active.push(row.active);
    group.weight.push(row.contracts);
    group.lastDecision = Math.max(group.lastDecision, row.active === 1 ? row.renewals : row.renewals + 1);
  };
  for (const row of rows) {
    if (!isPeriodUnit(row.period_unit)) continue;
    add(null, row.period_unit, row);
    if (row.plan !== null) add(row.plan, row.period_unit, row);
  }
  const ordered = [...groups.values()].sort(
    (a, b) =>
      PERIOD_UNITS.indexOf(a.periodUnit) - PERIOD_UNITS.indexOf(b.periodUnit) ||
      (a.plan === null ? -1 : b.plan === null ? 1 : a.plan < b.plan ? -1 : a.plan > b.plan ? 1 : 0),
  );
  return ordered.map((group) => {
    const summary: RenewalSummary = { renewals: group.renewals, active: group.active, weight: group.weight };
    const fit = group.plan === null ? fitSbg(summary) : fitSbg(summary, { minContracts });
    return { plan: group.plan, periodUnit: group.periodUnit, fit, model: retentionModelOf(fit), lastDecision: group.lastDecision };
  });
}

/** The fit that scores a plan's contracts of a unit: its own when usable, else the whole book's (null: none usable). */
export function scoringFit(fits: readonly ContractFit[], plan: string | null, unit: PeriodUnit): ContractFit | null {
  const own = plan === null ? undefined : fits.find((f) => f.plan === plan && f.periodUnit === unit);
  if (own?.model) return own;
  const book = fits.find((f) => f.plan === null && f.periodUnit === unit);
  return book?.model ? book : null;
}

export interface PredictionSettings {
  annualDiscountRate: number;
  horizonMonths: number;
}

/** Predictions per (plan, unit, renewals): the columns of temp.run_contract_predictions. */
export interface PredictionRows {
  plan: (string | null)[];
  period_unit: string[];
  renewals: number[];
  model_plan: (string | null)[];
  model_kind: string[];
  p_renew: number[];
  derl: number[];
  value_per_premium: number[];
  value_per_premium_horizon: number[];
}

/**
 * Renewal probability, DERL and residual value per unit of premium (without and with the
 * horizon) for each censored current run's (plan, unit, renewals) — the distinct keys, a few
 * hundred at most — under the fit that scores it. Keys no usable fit scores are left out
 * (their contracts get NULLs). A divergent DERL (d = 0 and α ≤ 1) is Infinity here, NULL in SQL.
 */
export function contractPredictions(
  fits: readonly ContractFit[],
  keys: readonly { plan: string | null; period_unit: string; renewals: number }[],
  settings: PredictionSettings,
): PredictionRows {
  const out: PredictionRows = {
    plan: [],
    period_unit: [],
    renewals: [],
    model_plan: [],
    model_kind: [],
    p_renew: [],
    derl: [],
    value_per_premium: [],
    value_per_premium_horizon: [],
  };
  const byGroup = new Map<string, { plan: string | null; unit: PeriodUnit; renewals: number[] }>();
  for (const k of keys) {
    if (!isPeriodUnit(k.period_unit)) continue;
    const key = groupKey(k.plan, k.period_unit);
    let group = byGroup.get(key);
    if (!group) byGroup.set(key, (group = { plan: k.plan, unit: k.period_unit, renewals: [] }));
    group.renewals.push(k.renewals);
  }
  for (const { plan, unit, renewals } of byGroup.values()) {
    const scoring = scoringFit(fits, plan, unit);
    if (!scoring) continue;
    const model = scoring.model!;
    const discountRate = periodDiscountRate(settings.annualDiscountRate, unit);
    const ones = new Float64Array(renewals.length).fill(1);
    const lifetime = predictContracts(model, renewals, ones, { discountRate });
    const horizon = predictContracts(model, renewals, ones, { discountRate, horizonPeriods: horizonPeriods(settings.horizonMonths, unit) });
    for (let i = 0; i < renewals.length; i++) {
      out.plan.push(plan);
      out.period_unit.push(unit);
      out.renewals.push(renewals[i]);
      out.model_plan.push(scoring.plan);
      out.model_kind.push(model.kind);
      out.p_renew.push(lifetime.renewalProbability[i]);
      out.derl.push(lifetime.derl[i]);
      out.value_per_premium.push(lifetime.residualValue[i]);
      out.value_per_premium_horizon.push(horizon.residualValue[i]);
    }
  }
  return out;
}

/** Fitted survival curves per group: the columns of temp.run_contract_curves. */
export interface CurveRows {
  plan: (string | null)[];
  period_unit: string[];
  period: number[];
  fitted_survival: number[];
}

/**
 * S(t) of the model that scores each group (a plan's own fit or the whole book's), for
 * t = 0 … the longer of the data (its last decision) and the horizon, for every group that was
 * fitted or attempted. Groups no usable fit scores have no curve.
 */
export function fittedCurves(fits: readonly ContractFit[], horizonMonths: number): CurveRows {
  const out: CurveRows = { plan: [], period_unit: [], period: [], fitted_survival: [] };
  for (const group of fits) {
    const scoring = scoringFit(fits, group.plan, group.periodUnit);
    if (!scoring) continue;
    const periods = Math.max(group.lastDecision, horizonPeriods(horizonMonths, group.periodUnit));
    const curve = modelSurvivalCurve(scoring.model!, periods);
    for (let t = 0; t < curve.length; t++) {
      out.plan.push(group.plan);
      out.period_unit.push(group.periodUnit);
      out.period.push(t);
      out.fitted_survival.push(curve[t]);
    }
  }
  return out;
}

/** runs.contracts.sbg[i]: one fit, as `crm model show --json` shows it. */
export interface SbgReport {
  /** null: the whole book of the unit. */
  plan: string | null;
  period_unit: PeriodUnit;
  alpha: number | null;
  beta: number | null;
  log_likelihood: number | null;
  standard_errors: { alpha: number; beta: number } | null;
  /** Runs of renewals fitted (a contract that lapsed and came back counts once per run). */
  contracts: number;
  churned: number;
  active: number;
  converged: boolean;
  outcome: SbgFit['outcome'];
  message: string;
  /** What it predicts with: sbg, geometric (a boundary's limit), or null (unusable). */
  model_kind: RetentionModel['kind'] | null;
  /** The geometric limit's churn probability per renewal decision (boundary outcomes), else null. */
  limit_churn_probability: number | null;
  /** Plans only: the plan's contracts are scored with the whole book's fit (its own is unusable). */
  fallback_to_book: boolean;
  /** The per-period discount rate the predictions used. */
  discount_rate: number;
}

const finiteOrNull = (v: number | null | undefined) => (v !== null && v !== undefined && Number.isFinite(v) ? v : null);

export function describeContractFit(f: ContractFit, annualDiscountRate: number): SbgReport {
  const { fit } = f;
  return {
    plan: f.plan,
    period_unit: f.periodUnit,
    alpha: finiteOrNull(fit.params?.alpha),
    beta: finiteOrNull(fit.params?.beta),
    log_likelihood: finiteOrNull(fit.logLikelihood),
    standard_errors: fit.standardErrors ? { alpha: fit.standardErrors.alpha, beta: fit.standardErrors.beta } : null,
    contracts: finiteOrNull(fit.contracts) ?? 0,
    churned: finiteOrNull(fit.churned) ?? 0,
    active: finiteOrNull(fit.active) ?? 0,
    converged: fit.converged,
    outcome: fit.outcome,
    message: fit.message,
    model_kind: f.model?.kind ?? null,
    limit_churn_probability: finiteOrNull(fit.limitChurnProbability),
    fallback_to_book: f.plan !== null && f.model === null,
    discount_rate: periodDiscountRate(annualDiscountRate, f.periodUnit),
  };
}

/** The settings a run's contract part used (recorded in runs.contracts). */
export interface ContractRunSettings {
  grace_days: number;
  period: ContractPeriod;
  min_contracts: number;
}
