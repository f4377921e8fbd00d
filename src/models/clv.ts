/**
 * Discounted customer lifetime value from a fitted BG/NBD model and an expected value per
 * transaction (e.g. the Gamma-Gamma conditional expected value), in the spirit of Fader,
 * Hardie & Lee (2005) "RFM and CLV: Using iso-value curves for customer base analysis",
 * Journal of Marketing Research 42(4), with the discounting done over monthly steps.
 *
 * Convention (exactly):
 *  - The horizon H (model time units) is cut into monthly steps of length s = unitsPerYear / 12;
 *    step i = 1..n covers (t_(i-1), t_i] with t_i = min(i·s, H) and n = ceil(H / s), so the last
 *    step may be shorter.
 *  - The purchases expected in step i, ΔE_i = E[Y(t_i) | x, t_x, T] − E[Y(t_(i-1)) | x, t_x, T]
 *    (BG/NBD eq. 10, Y counted from the as-of date T), are all valued at the END of their month:
 *    discount factor d_i = (1 + annualRate)^(−i/12) = (1 + monthlyRate)^(−i) with the equivalent
 *    compound monthly rate monthlyRate = (1 + annualRate)^(1/12) − 1.
 *  - CLV = expectedValue · Σ_i ΔE_i · d_i. The sum without the value factor is the
 *    "discounted expected purchases" (DEP), computed once per triple so that
 *    CLV = DEP × expected value per transaction for any value model.
 * Since E[Y(t) | ·] = P(alive) · E[Y(t) | alive, x, T] and the second factor depends on (x, T)
 * only, the vectorised form evaluates the monthly 2F1 terms once per distinct (x, T).
 * A zero discount rate gives the undiscounted E[Y(H)] × value. The same convention applies to
 * a fit at the boundary of the BG/NBD parameter space (a `PurchaseModel`, see bgnbd-limits.ts):
 * only P(alive) and E[Y(t) | alive] change.
 */

import { type BgNbdParams, type RfmSummary, validRow } from './bgnbd.js';
import { modelExpectedPurchasesIfAlive, modelPAlive, modelPAliveAll, type PurchaseModel } from './bgnbd-limits.js';
import { groupPairs } from './rfm-data.js';

/** Time horizon and discounting of a CLV computation. */
export interface ClvOptions {
  /** Horizon in the model's time unit (e.g. 52 for one year when the unit is weeks). */
  horizon: number;
  /** Model time units per year: 52.1786 for weeks (365.25/7), 365.25 for days, 12 for months. */
  unitsPerYear: number;
  /** Annual discount rate as a fraction (0.1 = 10 %); 0 for no discounting. */
  annualDiscountRate: number;
}

const MONTHS_PER_YEAR = 12;
/** Slack so that a horizon of exactly k months is k steps despite rounding in H / s. */
const STEP_ROUNDING_SLACK = 1e-9;

/** The monthly steps: end times t_i and discount factors d_i. */
export interface DiscountSchedule {
  stepEnds: Float64Array;
  discountFactors: Float64Array;
}

/** Step end times and discount factors for `opts` (see the module header for the convention). */
export function discountSchedule(opts: ClvOptions): DiscountSchedule {
  const { horizon, unitsPerYear, annualDiscountRate } = opts;
  if (!(horizon >= 0) || !Number.isFinite(horizon)) throw new RangeError(`CLV horizon must be finite and >= 0 (got ${horizon})`);
  if (!(unitsPerYear > 0) || !Number.isFinite(unitsPerYear)) {
    throw new RangeError(`unitsPerYear must be finite and > 0 (got ${unitsPerYear})`);
  }
  if (!(annualDiscountRate > -1) || !Number.isFinite(annualDiscountRate)) {
    throw new RangeError(`annualDiscountRate must be finite and > -1 (got ${annualDiscountRate})`);
  }
  const step = unitsPerYear / MONTHS_PER_YEAR;
  const steps = horizon === 0 ? 0 : Math.ceil(horizon / step - STEP_ROUNDING_SLACK);
  const stepEnds = new Float64Array(steps);
  const discountFactors = new Float64Array(steps);
  const logDiscount = Math.log1p(annualDiscountRate) / MONTHS_PER_YEAR;
  for (let i = 1; i <= steps; i++) {
    stepEnds[i - 1] = Math.min(i * step, horizon);
    discountFactors[i - 1] = Math.exp(-i * logDiscount);
  }
  return { stepEnds, discountFactors };
}

/** The BG/NBD parameters as an interior model; a fitted model (possibly a limit, see bgnbd-limits.ts) as it is. */
const asModel = (model: BgNbdParams | PurchaseModel): PurchaseModel => ('boundary' in model ? model : { boundary: null, params: model });

/** Σ_i ΔE_i d_i for a customer known to be alive (depends on x and T only). */
function discountedPurchasesIfAlive(model: PurchaseModel, x: number, T: number, schedule: DiscountSchedule): number {
  let total = 0;
  let previous = 0;
  for (let i = 0; i < schedule.stepEnds.length; i++) {
    const cumulative = modelExpectedPurchasesIfAlive(model, schedule.stepEnds[i], x, T);
    total += (cumulative - previous) * schedule.discountFactors[i];
    previous = cumulative;
  }
  return total;
}

/** Discounted expected purchases of one customer over the horizon (CLV per unit of value). */
export function discountedExpectedPurchases(
  params: BgNbdParams | PurchaseModel,
  x: number,
  tx: number,
  T: number,
  opts: ClvOptions,
): number {
  const schedule = discountSchedule(opts);
  const model = asModel(params);
  return modelPAlive(model, x, tx, T) * discountedPurchasesIfAlive(model, x, T, schedule);
}

/** Discounted CLV of one customer: DEP × expected value per transaction. */
export function customerLifetimeValue(
  params: BgNbdParams | PurchaseModel,
  x: number,
  tx: number,
  T: number,
  expectedValue: number,
  opts: ClvOptions,
): number {
  return discountedExpectedPurchases(params, x, tx, T, opts) * expectedValue;
}

/**
 * Discounted expected purchases for every triple of `data` (NaN for invalid rows). Multiply by
 * each customer's expected value per transaction to get CLV.
 */
export function discountedExpectedPurchasesAll(
  params: BgNbdParams | PurchaseModel,
  data: RfmSummary,
  opts: ClvOptions,
): Float64Array {
  const schedule = discountSchedule(opts);
  const model = asModel(params);
  const n = data.x.length;
  const alive = modelPAliveAll(model, data);
  const pairs = groupPairs(data.x, data.T);
  const perPair = new Float64Array(pairs.groupCount);
  for (let g = 0; g < pairs.groupCount; g++) {
    const row = pairs.firstRow[g];
    perPair[g] = validRow(data, row) ? discountedPurchasesIfAlive(model, data.x[row], data.T[row], schedule) : NaN;
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = alive[i] * perPair[pairs.groupOf[i]];
  return out;
}
