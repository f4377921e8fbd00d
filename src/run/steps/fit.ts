/**
 * The `fit` step of `crm run`: the purchase model fitted on the distinct histories — the BG/NBD (the
 * default), the one --model names (models/purchase-models.ts), all three compared with --model
 * auto (models/model-choice.ts), or --model bgbb: the BG/BB on the distinct period histories of
 * relations/period-histories.ts — and which model scores the customers (null: the recency fallback).
 */
import { fitPurchaseModel, type PurchaseModelFit } from '../../models/bgnbd-limits.js';
import { chooseModel, type ModelChoice } from '../../models/model-choice.js';
import {
  fitBgBbModel,
  fitChosenPurchaseModel,
  fitChosenPurchaseModelInWorker,
  fromBgNbd,
  PURCHASE_MODEL_KEYS,
  PURCHASE_MODEL_NAMES,
  type BgBbModelFit,
  type FittedPurchaseModel,
  type ModelKey,
  type PurchaseModelChoiceFit,
  type PurchaseModelKey,
  type PurchaseModelReport,
} from '../../models/purchase-models.js';
import { materialize, rowsOf } from '../../models/relation.js';
import { CHOICE_AUC, CHOICE_BUCKETS, type ChoiceAucRow, type ChoiceBucketRow } from '../../models/relations/model-choice.js';
import { periodHistories, periodHistoryCounts } from '../../models/relations/period-histories.js';
import type { RfmSummary } from '../../models/rfm-data.js';
import type { BgBbPeriodUnit } from '../../models/settings.js';
import { readNumericColumns, writeDoubleTable } from '../../store/columnar.js';
import type { Store } from '../../store/db.js';
import type { Fallback } from '../result.js';
import type { RunOptions } from '../settings.js';
import { describeBgNbd } from './describe.js';
import type { Histories } from './histories.js';
import type { RepeatSpend } from './spend.js';
import { daysBetween, type StepTools } from './tools.js';

export interface FitInput {
  /** The fallback decided before any fit (run/steps/histories.ts): then nothing is fitted. */
  fallback: Fallback | null;
  options: RunOptions;
  asOf: string;
  unitDays: number;
  horizonUnits: number;
  /** Customers with a purchase (the model choice's BIC counts them). */
  customers: number;
  histories: Histories;
  /** With --model auto the Gamma-Gamma is fitted while the worker finishes. */
  spend: RepeatSpend;
}

/** The fits, and the run's fallback after them (a fit that failed). */
export interface PurchaseFits {
  fallback: Fallback | null;
  /** The BG/NBD's fit (the default, or one of --model auto's). */
  bgnbd: PurchaseModelFit | null;
  /** --model other than the BG/NBD (models/purchase-models.ts): fitted instead of it, same outputs; with --model auto the chosen one when it is not the BG/NBD. */
  chosen: PurchaseModelChoiceFit | null;
  /** --model auto (models/model-choice.ts): all three fitted, compared, one used. */
  modelChoice: ModelChoice | null;
  /** --model auto: the reports of the models other than the BG/NBD. */
  otherReports: Partial<Record<'pareto_nbd' | 'mbgnbd', PurchaseModelReport>>;
  /**
   * --model bgbb: the BG/BB on period histories (relations/period-histories.ts), fitted instead of
   * the continuous-time models; its predictions are keyed by the period history.
   */
  bgbb: BgBbStep | null;
}

export async function fitPurchaseModels(store: Store, input: FitInput, tools: StepTools): Promise<PurchaseFits> {
  const unfitted: PurchaseFits = { fallback: input.fallback, bgnbd: null, chosen: null, modelChoice: null, otherReports: {}, bgbb: null };
  if (input.fallback) return unfitted;
  const { options } = input;
  if (options.model === 'bgbb') {
    const bgbb = await bgbbStep(store, { asOf: input.asOf, unit: options.settings.time_unit as BgBbPeriodUnit }, tools);
    return { ...unfitted, bgbb, fallback: bgbb.fallback };
  }
  if (options.model === 'auto') return fitAuto(store, input, tools);
  if (options.model !== 'bgnbd') return fitOne(options.model, input, tools);
  return fitBgNbd(input, tools);
}

/** Lets DuckDB's finished statements call back, so that the next one starts while this thread computes. */
const letDuckDbGo = () => new Promise<void>((resolve) => setImmediate(resolve));

/** --model auto: the BG/NBD, the Pareto/NBD and the MBG/NBD fitted, compared, one used. */
async function fitAuto(store: Store, input: FitInput, { progress, timed }: StepTools): Promise<PurchaseFits> {
  const { histories: { data, triples }, spend } = input;
  const alsoSpend = spend.fits ? ` (and Gamma-Gamma on ${spend.repeatCustomers.toLocaleString('en-US')} repeat customers)` : '';
  const auto = await progress.step(`fitting BG/NBD, Pareto/NBD and MBG/NBD on ${triples.x.length.toLocaleString('en-US')} distinct histories${alsoSpend}`, () =>
    timed('model_fit', async () => {
      // The Pareto/NBD (the slowest: its likelihood's hypergeometric series) on the other core
      // while this thread fits the BG/NBD and the MBG/NBD: the same fits, in less time.
      const paretoNbd = fitChosenPurchaseModelInWorker('pareto_nbd', data);
      paretoNbd.catch(() => undefined); // awaited below, where a failure is reported
      const bgnbdFit = await timed('bgnbd_fit', async () => fitPurchaseModel(data));
      await letDuckDbGo();
      const mbgnbd = await timed('mbgnbd_fit', async () => fitChosenPurchaseModel('mbgnbd', data));
      await letDuckDbGo();
      // This thread's share is done before the worker's: the Gamma-Gamma meanwhile.
      await spend.fit(false);
      return { bgnbd: bgnbdFit, others: [await paretoNbd, mbgnbd] };
    }),
  );
  const modelChoice = await timed('model_choice', () => compareModels(store, auto.bgnbd, auto.others, data, triples, input.customers, { asOf: input.asOf, holdoutEnd: input.options.holdoutEnd, unitDays: input.unitDays, horizonUnits: input.horizonUnits }));
  const otherReports = Object.fromEntries(auto.others.map((f) => [f.key, f.report]));
  const chosen = auto.others.find((f) => f.key === modelChoice.chosen) ?? null;
  const fallback: Fallback | null =
    modelChoice.chosen === null ? ['fit_failed', `no purchase model converged: ${modelChoice.models.map((m) => `${PURCHASE_MODEL_NAMES[m.key]} ${m.excluded}`).join('; ')}`] : null;
  return { fallback, bgnbd: auto.bgnbd, chosen, modelChoice, otherReports, bgbb: null };
}

/** --model pareto-nbd or mbgnbd: that model alone, fitted instead of the BG/NBD. */
async function fitOne(key: Exclude<PurchaseModelKey, 'bgnbd'>, input: FitInput, { progress, timed }: StepTools): Promise<PurchaseFits> {
  const name = PURCHASE_MODEL_NAMES[key];
  const chosen = await progress.step(`fitting ${name} on ${input.histories.triples.x.length.toLocaleString('en-US')} distinct histories`, () =>
    timed('model_fit', async () => fitChosenPurchaseModel(key, input.histories.data)),
  );
  const fallback: Fallback | null = chosen.model === null ? ['fit_failed', `the ${name} fit did not converge: ${chosen.report.message}`] : null;
  return { fallback, bgnbd: null, chosen, modelChoice: null, otherReports: {}, bgbb: null };
}

/** The default: the BG/NBD. */
async function fitBgNbd(input: FitInput, { progress, timed }: StepTools): Promise<PurchaseFits> {
  const bgnbd = await progress.step(`fitting BG/NBD on ${input.histories.triples.x.length.toLocaleString('en-US')} distinct histories`, () =>
    timed('bgnbd_fit', async () => fitPurchaseModel(input.histories.data)),
  );
  // A maximum at the boundary of the parameter space is a fit too (its limiting model).
  const fallback: Fallback | null = bgnbd.model === null ? ['fit_failed', `the BG/NBD fit did not converge: ${bgnbd.message}`] : null;
  return { fallback, bgnbd, chosen: null, modelChoice: null, otherReports: {}, bgbb: null };
}

/** Which model scores the customers, read off the fits. */
export interface UsedModels {
  /** The BG/NBD's own CLV path when it is the model used (with --model auto it may be fitted and not chosen). */
  bgModel: NonNullable<PurchaseModelFit['model']> | null;
  /** The continuous-time model used (null: the BG/BB or the fallback). */
  model: FittedPurchaseModel | null;
  /** --model bgbb: the BG/BB used. */
  bgbbModel: NonNullable<BgBbModelFit['model']> | null;
  fitted: boolean;
  /** The key of the model that scored the customers (null: the recency fallback). */
  modelKey: ModelKey | null;
}

export function usedModels(fits: PurchaseFits): UsedModels {
  const { fallback, chosen, bgnbd, bgbb } = fits;
  const bgModel = fallback === null && chosen === null ? (bgnbd?.model ?? null) : null;
  const model: FittedPurchaseModel | null = fallback !== null ? null : chosen ? chosen.model : bgModel ? fromBgNbd(bgModel) : null;
  const bgbbModel = fallback === null ? (bgbb?.fit?.model ?? null) : null;
  const fitted = model !== null || bgbbModel !== null;
  const modelKey: ModelKey | null = model ? model.key : bgbbModel ? 'bgbb' : null;
  return { bgModel, model, bgbbModel, fitted, modelKey };
}

/** --model bgbb: the period histories the BG/BB was fitted on, and the fit. */
export interface BgBbStep {
  /** The distinct period histories: x, t_x, n (in T) and how many customers share each (weight). */
  data: RfmSummary;
  /** null when no customer bought in a whole period after the first (then `fallback` says so). */
  fit: BgBbModelFit | null;
  fallback: Fallback | null;
  partialPeriodCustomers: number;
}

/**
 * The BG/BB's period histories (relations/period-histories.ts, per customer in
 * temp.run_period_histories; read while the purchase days are still there) and its fit on the
 * distinct ones. No customer with a purchase in a whole period after the first: nothing to fit.
 */
async function bgbbStep(store: Store, at: { asOf: string; unit: BgBbPeriodUnit }, { progress, timed }: StepTools): Promise<BgBbStep> {
  await timed('period_histories', async () => {
    await materialize(store, periodHistories, { as_of: at.asOf, period_unit: at.unit });
    await materialize(store, periodHistoryCounts, {});
  });
  const h = await readNumericColumns(store, `SELECT x, t_x, n, customers FROM temp.${periodHistoryCounts.name} ORDER BY x, t_x, n`);
  await store.run(`DROP TABLE temp.${periodHistoryCounts.name}`);
  const partialPeriodCustomers = (await store.value<number>(`SELECT count(*) FROM temp.${periodHistories.name} WHERE partial_period_purchase`)) ?? 0;
  const data: RfmSummary = { x: h.x, tx: h.t_x, T: h.n, weight: h.customers };
  if (!h.x.some((x) => x > 0)) {
    const reason = `no customer has bought in a whole ${at.unit} after their first ${at.unit}, so the BG/BB cannot tell the purchase probability from drop-out`;
    return { data, fit: null, fallback: ['no_repeat_purchases', reason], partialPeriodCustomers };
  }
  const fit = await progress.step(`fitting BG/BB on ${h.x.length.toLocaleString('en-US')} distinct period histories (${at.unit}s)`, () =>
    timed('model_fit', async () => fitBgBbModel(data)),
  );
  return { data, fit, fallback: fit.model ? null : ['fit_failed', `the BG/BB fit did not converge: ${fit.report.message}`], partialPeriodCustomers };
}

/**
 * --model auto: the comparison table (models/model-choice.ts). With a holdout every usable model
 * predicts each distinct history's holdout purchases, P(alive) and P(no purchase over the
 * horizon) — in TS on the compressed histories —; the comparison with what customers bought is
 * SQL (models/relations/model-choice.ts).
 */
async function compareModels(
  store: Store,
  bgnbd: PurchaseModelFit,
  others: PurchaseModelChoiceFit[],
  data: RfmSummary,
  triples: Record<string, Float64Array>,
  customers: number,
  at: { asOf: string; holdoutEnd: string | null; unitDays: number; horizonUnits: number },
): Promise<ModelChoice> {
  const fits: { key: PurchaseModelKey; report: PurchaseModelReport; model: FittedPurchaseModel | null }[] = [
    { key: 'bgnbd', report: describeBgNbd(bgnbd) as unknown as PurchaseModelReport, model: bgnbd.model ? fromBgNbd(bgnbd.model) : null },
    ...others,
  ];
  if (!at.holdoutEnd) return chooseModel(fits.map((f) => ({ key: f.key, report: f.report, usable: f.model !== null })), 'bic', customers);
  const holdoutUnits = daysBetween(at.asOf, at.holdoutEnd) / at.unitDays;
  const n = triples.x.length;
  const usable = fits.filter((f) => f.model !== null);
  const columns = ['model_index', 'x', 't_x_days', 'T_days', 'predicted', 'churn_risk', 'p_no_purchase'] as const;
  const table = Object.fromEntries(columns.map((c) => [c, new Float64Array(n * usable.length)])) as Record<(typeof columns)[number], Float64Array>;
  usable.forEach((f, m) => {
    const holdout = f.model!.predict(data, holdoutUnits);
    const horizon = f.model!.predict(data, at.horizonUnits);
    const offset = m * n;
    table.model_index.fill(PURCHASE_MODEL_KEYS.indexOf(f.key), offset, offset + n);
    table.x.set(triples.x, offset);
    table.t_x_days.set(triples.t_x_days, offset);
    table.T_days.set(triples.T_days, offset);
    table.predicted.set(holdout.expectedPurchases, offset);
    table.churn_risk.set(horizon.pAlive.map((p) => 1 - p), offset);
    table.p_no_purchase.set(horizon.pNoPurchase, offset);
  });
  await writeDoubleTable(store, 'run_choice_predictions', table);
  const params = { as_of: at.asOf, holdout_end: at.holdoutEnd };
  const buckets = await rowsOf<ChoiceBucketRow, keyof typeof params>(store, CHOICE_BUCKETS, params);
  const aucs = await rowsOf<ChoiceAucRow, keyof typeof params>(store, CHOICE_AUC, params);
  await store.run('DROP TABLE temp.run_choice_predictions');
  return chooseModel(
    fits.map((f) => {
      const index = PURCHASE_MODEL_KEYS.indexOf(f.key);
      const auc = (score: string) => aucs.find((a) => a.score === `${index}:${score}`)?.auc ?? null;
      return {
        key: f.key,
        report: f.report,
        usable: f.model !== null,
        buckets: buckets.filter((b) => b.model_index === index),
        auc: auc('churn_risk'),
        auc_p_no_purchase: auc('p_no_purchase'),
      };
    }),
    'holdout',
    customers,
  );
}
