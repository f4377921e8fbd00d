/**
 * The `predict` step of `crm run`: the predictions per distinct history (temp.run_predictions,
 * relations/predictions.ts) — the used model's P(alive), expected and discounted expected
 * purchases and the intervals from its parameters' uncertainty (models/intervals.ts); the BG/BB's
 * per period history; the recency rule when no model is used.
 */
import { bgnbdUncertainty, bgbbHistoryIntervals, intervalRows, intervalRowsSplit, perturbedModels, sharedIntervalRowsOutput, type DiscountedBy, type PurchaseUncertainty } from '../../models/intervals.js';
import type { IntervalRowsDone } from '../../models/worker-tasks.js';
import { discountedExpectedPurchasesAll } from '../../models/clv.js';
import { discountedPurchasesAll, predictBgBbHistories, type BgBbModelFit, type ModelKey } from '../../models/purchase-models.js';
import { materialize } from '../../models/relation.js';
import { periodHistories } from '../../models/relations/period-histories.js';
import { PREDICTIONS, RECENCY_PREDICTIONS } from '../../models/relations/predictions.js';
import type { RfmSummary } from '../../models/rfm-data.js';
import type { BgBbPeriodUnit, ChurnBasis } from '../../models/settings.js';
import { inWorker } from '../../models/worker-client.js';
import { writeDoubleTable } from '../../store/columnar.js';
import type { Store } from '../../store/db.js';
import type { RunOptions } from '../settings.js';
import type { BgBbStep, PurchaseFits, UsedModels } from './fit.js';
import type { Histories } from './histories.js';
import { DAYS_PER_YEAR, type StepTools } from './tools.js';

/** A model's estimate and covariance of ln params, as run_intervals stores them: a continuous-time model's (PurchaseUncertainty) or the BG/BB's. */
export type IntervalModel = Omit<PurchaseUncertainty, 'key'> & { key: ModelKey };

/** Each interval model's P(alive) per distinct history, which the run's forecast reuses. */
export interface ForecastEvaluated {
  data: RfmSummary;
  alive: Float64Array[];
}

export interface PredictInput {
  settings: RunOptions['settings'];
  unitDays: number;
  horizonUnits: number;
  histories: Histories;
  fits: Pick<PurchaseFits, 'bgnbd' | 'chosen' | 'bgbb'>;
  used: UsedModels;
}

export interface Predicted {
  /** The continuous-time model's estimate and covariance when its intervals were computed. */
  uncertainty: PurchaseUncertainty | null;
  /** --model bgbb: the BG/BB's estimate and covariance when its intervals were computed (run_intervals; no forecast reads them). */
  bgbbUncertainty: IntervalModel | null;
  /** With intervals: each of their models' P(alive) per distinct history, which the run's forecast reuses. */
  forecastEvaluated: ForecastEvaluated | null;
}

export async function predict(store: Store, input: PredictInput, { timed }: StepTools): Promise<Predicted> {
  const { settings, unitDays, horizonUnits } = input;
  const { triples, data } = input.histories;
  const { bgnbd, chosen, bgbb } = input.fits;
  const { model, bgModel, bgbbModel } = input.used;
  let uncertainty: PurchaseUncertainty | null = null;
  let bgbbUncertainty: IntervalModel | null = null;
  let forecastEvaluated: ForecastEvaluated | null = null;
  if (bgbb && bgbbModel) {
    const covariance = bgbb.fit!.covariance;
    await timed('bgbb_predict', () =>
      predictBgBbStep(store, bgbb!, bgbbModel, {
        unit: settings.time_unit as BgBbPeriodUnit,
        horizonMonths: settings.horizon_months,
        discountRate: settings.discount_rate,
        tiers: { tier_basis: settings.churn_tiers.basis, high: settings.churn_tiers.high, medium: settings.churn_tiers.medium },
        intervals: covariance ? { covariance, level: settings.interval } : null,
      }),
    );
    if (covariance) bgbbUncertainty = { key: 'bgbb', params: { ...bgbbModel.params }, covariance };
  } else if (model) {
    await timed('bgnbd_predict', async () => {
      const clvOptions = { horizon: horizonUnits, unitsPerYear: DAYS_PER_YEAR / unitDays, annualDiscountRate: settings.discount_rate };
      // Intervals per distinct history from the parameters' uncertainty (models/intervals.ts);
      // NULL without a covariance (a BG/NBD boundary limit).
      uncertainty = chosen ? chosen.uncertainty : bgnbd ? bgnbdUncertainty(bgnbd) : null;
      const u = uncertainty;
      const n = triples.x.length;
      // The rows of the k + 1 models of the intervals split between a worker (the later rows, all
      // k + 1 models) and this thread, chunk by chunk into shared arrays (intervalRows). The first
      // model is the estimate's own: the model predicting here has the same parameters (u is its
      // fit's), so on this thread's rows its prediction and discounted purchases are the
      // intervals' first evaluation, not computed again.
      const k = u ? perturbedModels(u).length - 1 : 0;
      const split = intervalRowsSplit(n, k);
      const rows = u ? sharedIntervalRowsOutput(n, k) : null;
      const discountedBy: DiscountedBy = (m, d, alive) => discountedPurchasesAll(m, d, clvOptions, alive);
      const far = u ? inWorker<IntervalRowsDone>({ task: 'interval-rows', u, data, horizon: horizonUnits, level: settings.interval, clv: clvOptions, out: rows!, from: split, to: n }) : null;
      // Awaited below; a failure is reported there, not as an unhandled rejection meanwhile.
      far?.catch(() => undefined);
      const prediction = model.predict(data, horizonUnits);
      const discounted = bgModel ? discountedExpectedPurchasesAll(bgModel, data, clvOptions) : discountedBy(model, data, prediction.pAlive);
      const bounds = u
        ? await timed('intervals', async () => {
            // (The BG/NBD's own CLV path above is the same sum, but NaN-guards rows the intervals never had: its dep is computed apart.)
            intervalRows(u, data, horizonUnits, settings.interval, discountedBy, rows!, 0, split, { expected: prediction.expectedPurchases, alive: prediction.pAlive, ...(bgModel ? {} : { dep: discounted }) });
            await far;
            // The forecast (writeRunForecast) projects the same k + 1 models: their P(alive) is kept for it.
            forecastEvaluated = { data, alive: [prediction.pAlive, ...rows!.alive] };
            return rows!;
          })
        : { expectedPurchasesLow: new Float64Array(n).fill(NaN), expectedPurchasesHigh: new Float64Array(n).fill(NaN), discountedLogSd: new Float64Array(n).fill(NaN) };
      await writeDoubleTable(store, 'run_predictions_raw', {
        x: triples.x,
        t_x_days: triples.t_x_days,
        T_days: triples.T_days,
        p_alive: prediction.pAlive,
        p_no_purchase: prediction.pNoPurchase,
        expected_purchases: prediction.expectedPurchases,
        discounted_purchases: discounted,
        expected_purchases_low: bounds.expectedPurchasesLow,
        expected_purchases_high: bounds.expectedPurchasesHigh,
        discounted_log_sd: bounds.discountedLogSd,
      });
      // Per distinct history (~4× fewer than customers on the bench), keyed like run_base.
      await materialize(store, PREDICTIONS, { tier_basis: settings.churn_tiers.basis, high: settings.churn_tiers.high, medium: settings.churn_tiers.medium, churn_method: model.key });
      await store.run('DROP TABLE temp.run_predictions_raw');
    });
  } else {
    await timed('recency_predict', () => materialize(store, RECENCY_PREDICTIONS, { high: settings.churn_tiers.high, medium: settings.churn_tiers.medium }));
  }
  return { uncertainty, bgbbUncertainty, forecastEvaluated };
}

/**
 * The BG/BB's predictions per distinct period history over the horizon in whole periods (12
 * months = 12 monthly or 1 yearly opportunity), each period's expected purchases discounted at
 * its end ((1 + rate)^(−k/12) for month k, (1 + rate)^(−k) for year k: clv.ts's convention), into
 * temp.run_predictions; the customers keyed by their period history (temp.run_base.history_key
 * ← period_key), so the one tier rule and the customer rows read them as any model's. With the
 * fit's covariance, the intervals per history as the other models' (intervals.ts).
 */
async function predictBgBbStep(
  store: Store,
  step: BgBbStep,
  model: NonNullable<BgBbModelFit['model']>,
  o: {
    unit: BgBbPeriodUnit;
    horizonMonths: number;
    discountRate: number;
    tiers: { tier_basis: ChurnBasis; high: number; medium: number };
    /** The fit's covariance of ln params and the level; null: no intervals (NULL bounds). */
    intervals: { covariance: number[][]; level: number } | null;
  },
): Promise<void> {
  const monthsPerPeriod = o.unit === 'year' ? 12 : 1;
  const periods = o.horizonMonths / monthsPerPeriod;
  const discount = Float64Array.from({ length: periods }, (_, k) => Math.pow(1 + o.discountRate, -((k + 1) * monthsPerPeriod) / 12));
  const p = predictBgBbHistories(model, step.data, periods, discount);
  const none = new Float64Array(step.data.x.length).fill(NaN);
  const bounds = o.intervals
    ? bgbbHistoryIntervals(model, o.intervals.covariance, step.data, periods, discount, o.intervals.level)
    : { expectedPurchasesLow: none, expectedPurchasesHigh: none, discountedLogSd: none };
  // The period history passes through the fields of a day history (histories.ts: historyKey), as the covariate keys do.
  await writeDoubleTable(store, 'run_predictions_raw', {
    x: step.data.x,
    t_x_days: step.data.tx,
    T_days: step.data.T,
    p_alive: p.pAlive,
    p_no_purchase: p.pNoPurchase,
    expected_purchases: p.expectedPurchases,
    discounted_purchases: p.discounted,
    expected_purchases_low: bounds.expectedPurchasesLow,
    expected_purchases_high: bounds.expectedPurchasesHigh,
    discounted_log_sd: bounds.discountedLogSd,
  });
  await store.run(`UPDATE temp.run_base SET history_key = h.period_key FROM temp.${periodHistories.name} h WHERE run_base.customer_id = h.customer_id`);
  await materialize(store, PREDICTIONS, { ...o.tiers, churn_method: 'bgbb' });
  await store.run('DROP TABLE temp.run_predictions_raw');
}
