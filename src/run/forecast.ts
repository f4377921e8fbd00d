/**
 * `crm forecast` (issue #12 §3): expected purchases and discounted value per period of a run's
 * horizon, for all customers, a segment, a value tier or one customer, with the band of the
 * parameters' sampling uncertainty (models/intervals.ts).
 *
 * Period k covers (t_(k−1), t_k] after the as-of date; its expected purchases are
 * E[X(t_k) | history] − E[X(t_(k−1)) | history] = P(alive) · (E[X(t_k) | alive] − E[X(t_(k−1)) | alive]),
 * and its value those purchases × the customer's expected order value (Gamma-Gamma, the
 * customer_metrics column), discounted to the as-of date at the run's rate. By month the steps
 * and discount factors are clv.ts's (monthly steps, valued at each month's end), so the periods'
 * values add up to the customers' clv; by week the steps are weeks, discounted at each week's end.
 *
 * The work is per distinct history: SQL counts the selected customers per history (x, t_x, T)
 * and sums their expected order values (and the Gamma-Gamma gradient terms of the band); the
 * model (TypeScript) evaluates P(alive) per history and E[X(t) | alive] per distinct (x, T) and
 * period, under the estimate and each perturbed parameter; SQL multiplies by the counts and sums.
 * Sums of customers are delta-method bands too: ∇ ln Σ = Σ count · ∇f / Σ count · f.
 */
import { discountSchedule } from '../models/clv.js';
import { fromBgNbd, PURCHASE_MODEL_NAMES, type FittedPurchaseModel, type PurchaseModelKey } from '../models/purchase-models.js';
import { perturbedModels, purchaseModelAt, quadraticForm, zOfLevel, DELTA_STEP, type PurchaseUncertainty } from '../models/intervals.js';
import { bgbbModelOf, bgbbModelParameterNames, bgbbModelPurchaseProbabilities, bgbbModelScaled, type BgBbModel } from '../models/bgbb-limits.js';
import type { PurchaseModel } from '../models/bgnbd-limits.js';
import { groupPairs, type RfmSummary } from '../models/rfm-data.js';
import { readNumericColumns } from '../store/columnar.js';
import { historySpendTermsSql } from '../models/relations/history-values.js';
import { literal, sqlNumber, type Store } from '../store/db.js';
import { inputError, storeError, usageError } from '../util/errors.js';
import { formatCount, renderTable } from '../util/format.js';

/** `--by`: month or week; year only for a BG/BB run in years (crm run --model bgbb --time-unit year), which forecasts whole years. */
export const FORECAST_PERIODS = ['month', 'week', 'year'] as const;
export type ForecastBy = (typeof FORECAST_PERIODS)[number];

const DAYS_PER_YEAR = 365.25;
const DAYS_PER_WEEK = 7;
const MONTHS_PER_YEAR = 12;
/** Slack so that a horizon of exactly k steps is k steps despite rounding. */
const STEP_ROUNDING_SLACK = 1e-9;

/** Whose forecast: everyone, a segment, a value tier or one customer. */
export type ForecastScope =
  | { kind: 'all' }
  | { kind: 'segment'; name: string }
  | { kind: 'tier'; name: string }
  | { kind: 'customer'; id: string };

export interface ForecastFlags {
  by?: string;
  segment?: string;
  tier?: string;
  customer?: string;
  run?: number;
}

/** A projection's figures with their interval bounds (NULL: no intervals), for a period or a total. */
export interface ForecastBand {
  expected_purchases: number;
  expected_purchases_low: number | null;
  expected_purchases_high: number | null;
  /** Discounted expected value of the purchases (as-of money). */
  value: number;
  value_low: number | null;
  value_high: number | null;
}

export interface ForecastPeriod extends ForecastBand {
  period: number;
  /** First and last day of the period (as-of + the step's ends in days, rounded). */
  start: string;
  end: string;
}

export interface ForecastResult {
  run_id: number;
  as_of: string;
  model: PurchaseModelKey | 'bgbb';
  by: ForecastBy;
  scope: ForecastScope;
  customers: number;
  /** The band's level, null when the run has no intervals (before migration 18, or a BG/NBD boundary fit). */
  level: number | null;
  horizon_months: number;
  discount_rate: number;
  periods: ForecastPeriod[];
  total: Omit<ForecastPeriod, 'period' | 'start' | 'end'>;
  /** Where the time went: histories (SQL), model (TypeScript), sums (SQL). */
  timings_ms: Record<string, number>;
}

/**
 * The flags as a scope and a period (exit 2 for two scopes or an unknown period). Without --by:
 * undefined, the run's own (by month; a BG/BB run's time unit).
 */
export function parseForecastFlags(flags: ForecastFlags): { by: ForecastBy | undefined; scope: ForecastScope } {
  const by = flags.by as ForecastBy | undefined;
  if (by !== undefined && !(FORECAST_PERIODS as readonly string[]).includes(by)) throw usageError(`--by ${flags.by}: use month or week (year for a BG/BB run in years)`);
  const given = (['segment', 'tier', 'customer'] as const).filter((k) => flags[k] !== undefined);
  if (given.length > 1) throw usageError(`give one of --segment, --tier and --customer (got ${given.map((k) => `--${k}`).join(' and ')})`);
  const scope: ForecastScope =
    flags.segment !== undefined ? { kind: 'segment', name: flags.segment } : flags.tier !== undefined ? { kind: 'tier', name: flags.tier } : flags.customer !== undefined ? { kind: 'customer', id: flags.customer } : { kind: 'all' };
  return { by, scope };
}

export interface RunRow extends Record<string, unknown> {
  run_id: number;
  as_of: string;
  time_unit: string;
  horizon_months: number;
  model: PurchaseModelKey | 'bgbb' | null;
  model_status: string;
  discount_rate: number | null;
  bgnbd: string | null;
  purchase_model: string | null;
  /** The run scored its customers with the covariate model (runs.covariates.used). */
  covariates_used: boolean;
}

interface IntervalRow extends Record<string, unknown> {
  level: number;
  purchase_params: string;
  purchase_covariance: number[];
  gg_p: number | null;
  gg_q: number | null;
  gg_v: number | null;
  gg_covariance: number[] | null;
}

const UNIT_DAYS: Record<string, number> = { day: 1, week: 7, month: DAYS_PER_YEAR / MONTHS_PER_YEAR, year: DAYS_PER_YEAR };

/** The run to forecast from: --run, else the latest (exit 4 without runs, 3 for an unknown id or a run without a fitted model). */
async function runRow(store: Store, runId: number | undefined): Promise<RunRow> {
  const where = runId === undefined ? '(SELECT max(run_id) FROM runs)' : String(runId);
  const row = await store.one<RunRow>(
    `SELECT run_id, CAST(as_of AS VARCHAR) AS as_of, time_unit, horizon_months, model, model_status,
            CAST(json_extract(params, '$.discount_rate') AS DOUBLE) AS discount_rate,
            CAST(bgnbd AS VARCHAR) AS bgnbd, CAST(purchase_model AS VARCHAR) AS purchase_model,
            coalesce(CAST(json_extract(covariates, '$.used') AS BOOLEAN), false) AS covariates_used
     FROM runs WHERE run_id = ${where}`,
  );
  if (!row) {
    if (runId === undefined) throw storeError(`no model run in ${store.path} yet`, ['Run `crm run` first: the forecast uses its fitted purchase model.']);
    throw inputError(`no run ${runId} in the store`, ['`crm query "SELECT run_id, as_of FROM runs"` lists the runs.']);
  }
  if (row.model_status !== 'fitted') {
    throw inputError(`run ${row.run_id} has no fitted purchase model (it fell back to the recency score): nothing to forecast`, ['Run `crm run` on data with repeat purchases.']);
  }
  if (row.covariates_used) {
    throw inputError(`run ${row.run_id} scored its customers with covariates (crm run --covariates): crm forecast projects the models without covariates only`, [
      'Run `crm run` without --covariates for a forecast with its interval band.',
    ]);
  }
  // Runs before migration 12 fitted the BG/NBD and left runs.model NULL.
  if (row.model === null) row.model = 'bgnbd';
  return row;
}

/** The purchase model the run used, rebuilt from its stored parameters. */
function modelOfRun(run: RunRow): FittedPurchaseModel {
  if (run.model === 'bgnbd') {
    const b = JSON.parse(run.bgnbd!) as Record<string, number | string | null>;
    const boundary = (b.boundary ?? null) as PurchaseModel['boundary'];
    const params: Record<string, number> = {};
    for (const name of ['r', 'alpha', 'a', 'b', 'p']) if (typeof b[name] === 'number') params[name] = b[name] as number;
    // The one purchase rate is a parameter only at a homogeneous-rates boundary (run/format.ts).
    if (boundary?.includes('homogeneous_rates') && typeof b.rate === 'number') params.rate = b.rate;
    return fromBgNbd({ boundary, params } as PurchaseModel);
  }
  const p = JSON.parse(run.purchase_model!) as Record<string, number>;
  return purchaseModelAt(run.model as PurchaseModelKey, p);
}

/** The SQL condition of the scope on customer_metrics; unknown names and ids exit 3, listing what exists. */
async function scopeCondition(store: Store, runId: number, scope: ForecastScope): Promise<{ condition: string; scope: ForecastScope }> {
  if (scope.kind === 'all') return { condition: 'TRUE', scope };
  if (scope.kind === 'customer') {
    const found = await store.value<number>(`SELECT count(*) FROM customer_metrics WHERE run_id = ${runId} AND customer_id = $1`, [scope.id]);
    if (!found) throw inputError(`unknown customer "${scope.id}" in run ${runId}`, ['Give the customer id exactly as stored; `crm customer QUERY` finds it by e-mail, phone or name.']);
    return { condition: `customer_id = ${literal(scope.id)}`, scope };
  }
  const column = scope.kind === 'segment' ? 'rfm_segment' : 'value_tier';
  const present = await store.all<{ name: string; customers: number }>(
    `SELECT ${column} AS name, count(*) AS customers FROM customer_metrics WHERE run_id = ${runId} AND ${column} IS NOT NULL GROUP BY 1 ORDER BY 1`,
  );
  // Case, spaces, dashes and underscores do not matter ("at-risk" finds "At Risk"), as in crm export.
  const normal = (s: string) => s.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
  const match = present.find((p) => normal(p.name) === normal(scope.name));
  if (!match) {
    const what = scope.kind === 'segment' ? 'segment' : 'value tier';
    throw inputError(`unknown ${what} "${scope.name}" in run ${runId}`, [
      `${scope.kind === 'segment' ? 'Segments' : 'Value tiers'} in the run: ${present.map((p) => `${p.name} (${formatCount(p.customers)})`).join(', ') || 'none'}`,
    ]);
  }
  // The name as stored ("at-risk" is shown as At Risk).
  return { condition: `${column} = ${literal(match.name)}`, scope: { kind: scope.kind, name: match.name } };
}

/** The period grid in model time units, and each period's discount factor. */
export function forecastSteps(by: ForecastBy, horizonUnits: number, unitDays: number, discountRate: number): { ends: Float64Array; discount: Float64Array } {
  const unitsPerYear = DAYS_PER_YEAR / unitDays;
  if (by === 'month') {
    // clv.ts's own schedule, so that the months' values add up to clv.
    const s = discountSchedule({ horizon: horizonUnits, unitsPerYear, annualDiscountRate: discountRate });
    return { ends: s.stepEnds, discount: s.discountFactors };
  }
  const step = DAYS_PER_WEEK / unitDays;
  const steps = Math.ceil(horizonUnits / step - STEP_ROUNDING_SLACK);
  const ends = new Float64Array(steps);
  const discount = new Float64Array(steps);
  const logDiscount = Math.log1p(discountRate);
  for (let k = 1; k <= steps; k++) {
    ends[k - 1] = Math.min(k * step, horizonUnits);
    discount[k - 1] = Math.exp((-k * step * logDiscount) / unitsPerYear);
  }
  return { ends, discount };
}

/** Options of the computation (the report asks for 12 months whatever the run's horizon). */
export interface ForecastOptions {
  /** The periods; undefined: by month (a BG/BB run: by its time unit). */
  by?: ForecastBy;
  scope: ForecastScope;
  runId?: number;
  /** Months to forecast (default: the run's horizon). */
  months?: number;
  /** A further condition on customer_metrics (crm report --owner: the owner's book). */
  condition?: string;
  /** The run's row as crm run is about to write it (the run's own projection, before runs has it). */
  run?: RunRow;
  /**
   * The selected customers' histories with their sums, as HISTORY_VALUES gives them
   * (models/relations/history-values.ts): crm run has them from its customer base; otherwise
   * they are read from customer_metrics.
   */
  histories?: ForecastHistories;
  /**
   * What crm run computed already for the same models (perturbedModels of the run's intervals, in
   * that order) on its distinct histories: the histories as the models read them and each
   * model's P(alive) per history. Used when they are the forecast's histories (same rows).
   */
  evaluated?: { data: RfmSummary; alive: Float64Array[] };
}

/** One entry per distinct history of the selected customers, ordered by (x, t_x_days, T_days). */
export interface ForecastHistories {
  x: Float64Array;
  t_x_days: Float64Array;
  T_days: Float64Array;
  customers: Float64Array;
  value_sum: Float64Array;
  spend_gp: Float64Array;
  spend_gq: Float64Array;
  spend_gv: Float64Array;
}

/**
 * The forecast of a run for a scope (store open read-only is enough: temp tables only).
 */
export async function computeForecast(store: Store, opts: ForecastOptions): Promise<ForecastResult> {
  const run = opts.run ?? (await runRow(store, opts.runId));
  const { condition, scope } = await scopeCondition(store, run.run_id, opts.scope);
  const intervals = await store.one<IntervalRow>(
    `SELECT level, CAST(purchase_params AS VARCHAR) AS purchase_params, purchase_covariance, gg_p, gg_q, gg_v, gg_covariance FROM run_intervals WHERE run_id = ${run.run_id}`,
  );
  // The BG/BB forecasts its own periods (whole months or years) from its period histories.
  if (run.model === 'bgbb') return bgbbForecast(store, run, { ...opts, condition: `${condition} AND ${opts.condition ?? 'TRUE'}` }, scope, intervals);
  const by = opts.by ?? 'month';
  if (by === 'year') {
    throw usageError(`--by year: run ${run.run_id} used ${PURCHASE_MODEL_NAMES[run.model!]}, forecast by month or week; only a BG/BB run in years (crm run --model bgbb --time-unit year) forecasts by year`);
  }
  const unitDays = UNIT_DAYS[run.time_unit];
  const months = opts.months ?? run.horizon_months;
  const horizonUnits = (months * DAYS_PER_YEAR) / MONTHS_PER_YEAR / unitDays;
  const discountRate = run.discount_rate ?? 0;
  const steps = forecastSteps(by, horizonUnits, unitDays, discountRate);

  // The models: the estimate, then one per perturbed parameter when the run has intervals.
  let models: FittedPurchaseModel[];
  let uncertainty: PurchaseUncertainty | null = null;
  if (intervals) {
    const k = Math.round(Math.sqrt(intervals.purchase_covariance.length));
    const covariance = Array.from({ length: k }, (_, i) => intervals.purchase_covariance.slice(i * k, (i + 1) * k).map(Number));
    uncertainty = { key: run.model as PurchaseModelKey, params: JSON.parse(intervals.purchase_params) as Record<string, number>, covariance };
    models = perturbedModels(uncertainty);
  } else {
    models = [modelOfRun(run)];
  }
  const spendTerms = spendTermsSql(intervals);

  const timings: Record<string, number> = {};
  let clock = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - clock);
    clock = now;
  };
  // One row per distinct history of the selected customers, with their count and value sums.
  const histories: ForecastHistories = opts.histories ?? await readNumericColumns(
    store,
    `SELECT bgnbd_x AS x,
            CAST(last_purchase - first_purchase AS INTEGER) AS t_x_days,
            CAST(as_of - first_purchase AS INTEGER) AS T_days,
            count(*) AS customers,
            sum(coalesce(expected_order_value, 0)) AS value_sum,
            ${spendTerms}
     FROM customer_metrics
     WHERE run_id = ${run.run_id} AND purchase_days IS NOT NULL AND ${condition} AND ${opts.condition ?? 'TRUE'}
     GROUP BY ALL
     ORDER BY x, t_x_days, T_days`,
  ) as unknown as ForecastHistories;
  lap('histories');
  const n = histories.x.length;
  const customers = histories.customers.reduce((a, b) => a + b, 0);
  const tx = histories.t_x_days.map((d) => d / unitDays);
  const T = histories.T_days.map((d) => d / unitDays);
  // The run's own evaluations when they are of these models on these very histories.
  const reuse = opts.evaluated && opts.evaluated.alive.length === models.length && sameHistories(opts.evaluated.data, histories.x, tx, T) ? opts.evaluated : null;
  // (The run's columns themselves, so that their (x, T) grouping is the one it made: rfm-data.ts groupPairs.)
  const data: RfmSummary = reuse ? { ...reuse.data, weight: histories.customers } : { x: histories.x, tx, T, weight: histories.customers };
  const pairs = groupPairs(data.x, data.T);
  const periods = steps.ends.length;
  // P(alive) per history and model; E[X(t_k) | alive] − E[X(t_(k−1)) | alive] per (x, T), period and model.
  const alive = reuse ? reuse.alive : models.map((model) => (n > 0 ? model.pAlive(data) : new Float64Array(0)));
  const steps_ = models.map((model) => {
    const step = new Float64Array(pairs.groupCount * periods);
    for (let g = 0; g < pairs.groupCount; g++) {
      const row = pairs.firstRow[g];
      let previous = 0;
      for (let k = 0; k < periods; k++) {
        const cumulative = model.expectedPurchasesIfAlive(steps.ends[k], data.x[row], data.T[row]);
        step[g * periods + k] = cumulative - previous;
        previous = cumulative;
      }
    }
    return step;
  });
  lap('model');
  const rows = sumForecast(histories, pairs, alive, steps_, steps.discount);
  lap('sums');

  const banded = bandOf(intervals, uncertainty?.covariance ?? null, models.length - 1);
  const dayOf = (units: number) => addDays(run.as_of, Math.round(units * unitDays));
  const byPeriod = new Map(rows.filter((r) => r.period !== null).map((r) => [Number(r.period), r]));
  const empty = { purchases_0: 0, value_0: 0 };
  const periodRows: ForecastPeriod[] = Array.from({ length: periods }, (_, k) => ({
    period: k + 1,
    start: addDays(dayOf(k === 0 ? 0 : steps.ends[k - 1]), 1),
    end: dayOf(steps.ends[k]),
    ...banded(byPeriod.get(k + 1) ?? empty),
  }));
  const totalRow = rows.find((r) => r.period === null) ?? empty;
  return {
    run_id: run.run_id,
    as_of: run.as_of,
    model: run.model!,
    by,
    scope,
    customers,
    level: intervals?.level ?? null,
    horizon_months: months,
    discount_rate: discountRate,
    periods: periodRows,
    total: banded(totalRow),
    timings_ms: timings,
  };
}

/** Whether `data` holds exactly the histories (x, t_x, T in model units), row for row. */
function sameHistories(data: RfmSummary, x: Float64Array, tx: Float64Array, T: Float64Array): boolean {
  if (data.x.length !== x.length) return false;
  for (let i = 0; i < x.length; i++) if (data.x[i] !== x[i] || data.tx[i] !== tx[i] || data.T[i] !== T[i]) return false;
  return true;
}

/**
 * SQL sums of a group's Gamma-Gamma gradient terms: d ln E[M] / d ln (p, q, v) per customer
 * (relations/customer-metrics.ts has the rule), weighted by the expected order value. The x of
 * the formula is taken as max(bgnbd_x, 1): exact for repeat customers with a positive mean and
 * one-time buyers; a repeat customer valued by its first day or its own mean gets a slightly
 * different spend term in a group's band (the customer's own clv_low/high are exact). As
 * DOUBLEs: a plain decimal literal is a DECIMAL in DuckDB, and p · x overflows it for heavy buyers.
 */
function spendTermsSql(intervals: IntervalRow | null | undefined): string {
  const gg = intervals && intervals.gg_p !== null ? { p: intervals.gg_p, q: intervals.gg_q!, v: intervals.gg_v! } : null;
  if (!gg) return '0 AS spend_gp, 0 AS spend_gq, 0 AS spend_gv';
  // relations/history-values.ts has the group's terms (the same sums run_history_values holds).
  return historySpendTermsSql('expected_order_value', 'bgnbd_x', sqlNumber(gg.p), sqlNumber(gg.q), sqlNumber(gg.v));
}

/**
 * The band of one period's (or the total's) sums: `r` holds purchases_j and value_j under the
 * estimate (j = 0) and the `k` perturbed models, and value_gp/gq/gv (the spend terms); the delta
 * method on the sums themselves (∇ ln Σ from the perturbed sums), plus the Gamma-Gamma's term.
 * No intervals (covariance null): the bounds are null.
 */
function bandOf(intervals: IntervalRow | null | undefined, covariance: number[][] | null, k: number): (r: Record<string, number | null>) => ForecastBand {
  const z = intervals ? zOfLevel(intervals.level) : null;
  const spendCovariance = intervals?.gg_covariance ? Array.from({ length: 3 }, (_, i) => intervals.gg_covariance!.slice(i * 3, i * 3 + 3).map(Number)) : null;
  return (r) => {
    const purchases = Number(r.purchases_0 ?? 0);
    const value = Number(r.value_0 ?? 0);
    const out = { expected_purchases: purchases, expected_purchases_low: null as number | null, expected_purchases_high: null as number | null, value, value_low: null as number | null, value_high: null as number | null };
    if (covariance && z !== null) {
      const logGradient = (name: 'purchases' | 'value', base: number) => Array.from({ length: k }, (_, i) => (Math.log(Number(r[`${name}_${i + 1}`])) - Math.log(base)) / DELTA_STEP);
      if (purchases > 0) {
        const sd = Math.sqrt(quadraticForm(logGradient('purchases', purchases), covariance));
        [out.expected_purchases_low, out.expected_purchases_high] = [purchases * Math.exp(-z * sd), purchases * Math.exp(z * sd)];
      } else [out.expected_purchases_low, out.expected_purchases_high] = [0, 0];
      if (value > 0) {
        let variance = quadraticForm(logGradient('value', value), covariance);
        if (spendCovariance) variance += quadraticForm([Number(r.value_gp) / value, Number(r.value_gq) / value, Number(r.value_gv) / value], spendCovariance);
        const sd = Math.sqrt(variance);
        [out.value_low, out.value_high] = [value * Math.exp(-z * sd), value * Math.exp(z * sd)];
      } else [out.value_low, out.value_high] = [0, 0];
    }
    return out;
  };
}

/**
 * The forecast of a BG/BB run (crm run --model bgbb): per whole period of the run's time unit
 * (month or year; --by must be that unit), P(purchase at opportunity n+k | x, t_x, n) summed over
 * the selected customers' period histories (bgbb_histories, schema 24), its value those
 * probabilities × each customer's expected order value, discounted at the period's end —
 * the run's own convention, so the periods add up to expected_purchases and clv. Period 1 is
 * the first period after the last whole one by as-of (the as-of period itself when as-of is not
 * its last day). The band: the same delta method on the sums, under the estimate and the models
 * with one of its ln parameters raised by DELTA_STEP (four; two at the no-dropout limit; run_intervals).
 */
async function bgbbForecast(
  store: Store,
  run: RunRow,
  opts: ForecastOptions & { condition: string },
  scope: ForecastScope,
  intervals: IntervalRow | null | undefined,
): Promise<ForecastResult> {
  const unit = run.time_unit as 'month' | 'year';
  const by = opts.by ?? unit;
  if (by !== unit) {
    throw usageError(`--by ${by}: run ${run.run_id} used the BG/BB on whole ${unit}s (crm run --model bgbb --time-unit ${unit}), which forecasts whole ${unit}s; use --by ${unit} or leave --by out`);
  }
  const monthsPerPeriod = unit === 'year' ? MONTHS_PER_YEAR : 1;
  const months = opts.months ?? run.horizon_months;
  const periods = Math.floor(months / monthsPerPeriod);
  const discountRate = run.discount_rate ?? 0;
  const discount = Array.from({ length: periods }, (_, k) => Math.pow(1 + discountRate, -((k + 1) * monthsPerPeriod) / MONTHS_PER_YEAR));
  // The BG/BB or its no-dropout limit (bgbb-limits.ts: α, β only), as the run stored it.
  const estimate = bgbbModelOf(JSON.parse(intervals ? intervals.purchase_params : run.purchase_model!) as Record<string, unknown>);
  const names = bgbbModelParameterNames(estimate);
  const models: BgBbModel[] = [estimate, ...(intervals ? names.map((name) => bgbbModelScaled(estimate, name, Math.exp(DELTA_STEP))) : [])];
  const k = names.length;
  const covariance = intervals ? Array.from({ length: k }, (_, i) => intervals.purchase_covariance.slice(i * k, i * k + k).map(Number)) : null;

  const t0 = performance.now();
  // One row per distinct period history of the selected customers, with their count and value sums.
  const histories = await store.all<{ x: number; t_x: number; n: number; customers: number; value_sum: number; spend_gp: number; spend_gq: number; spend_gv: number }>(
    `SELECT h.x, h.t_x, h.n, CAST(count(*) AS DOUBLE) AS customers,
            CAST(sum(coalesce(expected_order_value, 0)) AS DOUBLE) AS value_sum,
            ${spendTermsSql(intervals)}
     FROM customer_metrics m JOIN bgbb_histories h USING (run_id, customer_id)
     WHERE m.run_id = ${run.run_id} AND m.purchase_days IS NOT NULL AND ${opts.condition}
     GROUP BY ALL
     ORDER BY h.x, h.t_x, h.n`,
  );
  const t1 = performance.now();
  // Per period k: Σ customers · P_k and Σ value · P_k · d_k under each model; the spend terms under the estimate.
  const rows: Record<string, number>[] = Array.from({ length: periods }, () => ({}));
  const add = (row: Record<string, number>, key: string, v: number) => (row[key] = (row[key] ?? 0) + v);
  for (const h of histories) {
    models.forEach((m, j) => {
      const p = bgbbModelPurchaseProbabilities(m, periods, Number(h.x), Number(h.t_x), Number(h.n));
      for (let k = 0; k < periods; k++) {
        add(rows[k], `purchases_${j}`, Number(h.customers) * p[k]);
        add(rows[k], `value_${j}`, Number(h.value_sum) * p[k] * discount[k]);
        if (j === 0) for (const g of ['gp', 'gq', 'gv'] as const) add(rows[k], `value_${g}`, Number(h[`spend_${g}`]) * p[k] * discount[k]);
      }
    });
  }
  const total: Record<string, number> = {};
  for (const r of rows) for (const [key, v] of Object.entries(r)) add(total, key, v);
  const banded = bandOf(intervals, covariance, models.length - 1);
  // Period k: the (last whole period + k)-th calendar period.
  const [y, mo, d] = run.as_of.split('-').map(Number);
  const next = new Date(Date.UTC(y, mo - 1, d + 1));
  const wholeAsOf = unit === 'year' ? next.getUTCFullYear() > y : next.getUTCMonth() !== mo - 1;
  const lastWhole = unit === 'year' ? y - (wholeAsOf ? 0 : 1) : y * 12 + (mo - 1) - (wholeAsOf ? 0 : 1);
  const startOf = (index: number) => (unit === 'year' ? new Date(Date.UTC(index, 0, 1)) : new Date(Date.UTC(Math.floor(index / 12), index % 12, 1)));
  const day = (t: Date) => t.toISOString().slice(0, 10);
  const periodRows: ForecastPeriod[] = rows.map((r, k) => ({
    period: k + 1,
    start: day(startOf(lastWhole + k + 1)),
    end: day(new Date(startOf(lastWhole + k + 2).getTime() - 86_400_000)),
    ...banded(r),
  }));
  return {
    run_id: run.run_id,
    as_of: run.as_of,
    model: 'bgbb',
    by,
    scope,
    customers: histories.reduce((a, h) => a + Number(h.customers), 0),
    level: intervals?.level ?? null,
    horizon_months: months,
    discount_rate: discountRate,
    periods: periodRows,
    total: banded(total),
    timings_ms: { histories: Math.round(t1 - t0), model: Math.round(performance.now() - t1) },
  };
}

/**
 * Σ over customers, per period and for all periods together, of each model's expected purchases
 * and discounted value (and the Gamma-Gamma gradient terms under the estimate, model 0): the
 * histories are summed per (x, T) first — count × P(alive), value sum × P(alive) — then times the
 * (x, T)'s step of each period. Rows as the band reads them: purchases_j, value_j, value_gp/gq/gv,
 * period (null: the total).
 */
function sumForecast(
  h: ForecastHistories,
  pairs: { groupOf: Int32Array | Uint32Array | number[]; groupCount: number },
  alive: Float64Array[],
  steps: Float64Array[],
  discount: Float64Array,
): Record<string, number | null>[] {
  const m = alive.length;
  const periods = discount.length;
  const aliveCustomers = alive.map(() => new Float64Array(pairs.groupCount));
  const aliveValue = alive.map(() => new Float64Array(pairs.groupCount));
  const aliveSpend = [0, 1, 2].map(() => new Float64Array(pairs.groupCount));
  for (let i = 0; i < h.customers.length; i++) {
    const g = pairs.groupOf[i];
    for (let j = 0; j < m; j++) {
      aliveCustomers[j][g] += h.customers[i] * alive[j][i];
      aliveValue[j][g] += h.value_sum[i] * alive[j][i];
    }
    aliveSpend[0][g] += h.spend_gp[i] * alive[0][i];
    aliveSpend[1][g] += h.spend_gq[i] * alive[0][i];
    aliveSpend[2][g] += h.spend_gv[i] * alive[0][i];
  }
  const purchases = alive.map(() => new Float64Array(periods + 1));
  const value = alive.map(() => new Float64Array(periods + 1));
  const spend = [0, 1, 2].map(() => new Float64Array(periods + 1));
  for (let g = 0; g < pairs.groupCount; g++) {
    for (let k = 0; k < periods; k++) {
      for (let j = 0; j < m; j++) {
        const step = steps[j][g * periods + k];
        purchases[j][k] += aliveCustomers[j][g] * step;
        value[j][k] += aliveValue[j][g] * step * discount[k];
      }
      for (let t = 0; t < 3; t++) spend[t][k] += aliveSpend[t][g] * steps[0][g * periods + k] * discount[k];
    }
  }
  const row = (k: number, period: number | null) => {
    const r: Record<string, number | null> = { period };
    for (let j = 0; j < m; j++) [r[`purchases_${j}`], r[`value_${j}`]] = [purchases[j][k], value[j][k]];
    [r.value_gp, r.value_gq, r.value_gv] = [spend[0][k], spend[1][k], spend[2][k]];
    return r;
  };
  // The total: the periods' sums added up (index `periods`).
  for (let k = 0; k < periods; k++) {
    for (let j = 0; j < m; j++) [purchases[j][periods], value[j][periods]] = [purchases[j][periods] + purchases[j][k], value[j][periods] + value[j][k]];
    for (let t = 0; t < 3; t++) spend[t][periods] += spend[t][k];
  }
  return h.customers.length === 0 ? [] : [...Array.from({ length: periods }, (_, k) => row(k, k + 1)), row(periods, null)];
}

function addDays(date: string, days: number): string {
  const t = Date.parse(date + 'T00:00:00Z') + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** What the forecast is of, in words. */
export function scopeLabel(scope: ForecastScope): string {
  if (scope.kind === 'all') return 'all customers';
  if (scope.kind === 'customer') return `customer ${scope.id}`;
  return `${scope.kind === 'segment' ? 'segment' : 'value tier'} ${scope.name}`;
}

/** The rows of the table, CSV and XLSX: one per period, then the total. */
export function forecastRows(r: ForecastResult): Record<string, string | number | null>[] {
  return [
    ...r.periods.map((p) => ({ ...p })),
    { period: 'total', start: r.periods[0]?.start ?? null, end: r.periods[r.periods.length - 1]?.end ?? null, ...r.total },
  ] as Record<string, string | number | null>[];
}

export const FORECAST_COLUMNS = ['period', 'start', 'end', 'expected_purchases', 'expected_purchases_low', 'expected_purchases_high', 'value', 'value_low', 'value_high'] as const;

/** `crm forecast` for people: a line saying what, then the table. */
export function formatForecast(r: ForecastResult): string[] {
  const band = r.level === null ? 'no interval (the run has none: rerun `crm run`)' : `${Math.round(r.level * 100)}% interval from the parameters' uncertainty`;
  const head = `Forecast of ${scopeLabel(r.scope)} (${formatCount(r.customers)} customer${r.customers === 1 ? '' : 's'}), run ${r.run_id} as of ${r.as_of}, ${PURCHASE_MODEL_NAMES[r.model]}, by ${r.by}; value discounted at ${Math.round(r.discount_rate * 1000) / 10}% a year; ${band}`;
  const num = (v: number | null, digits: number) => (v === null ? '—' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  const range = (low: number | null, high: number | null, digits: number) => (low === null ? '—' : `${num(low, digits)}–${num(high, digits)}`);
  const table = renderTable(
    ['period', 'from', 'to', 'purchases', 'interval', 'value', 'interval'],
    forecastRows(r).map((p) => [
      String(p.period),
      String(p.start ?? ''),
      String(p.end ?? ''),
      num(p.expected_purchases as number, 2),
      range(p.expected_purchases_low as number | null, p.expected_purchases_high as number | null, 2),
      num(p.value as number, 0),
      range(p.value_low as number | null, p.value_high as number | null, 0),
    ]),
    { rightAlign: [true, false, false, true, true, true, true] },
  );
  return [head, '', ...table.split('\n')];
}
