/**
 * The Gamma-Gamma on repeat customers' mean repeat value (models/gamma-gamma.ts): its input read
 * before the purchase models are fitted (the fit step), so that the fit can run while theirs do (--model
 * auto); fitted once, and used only when a purchase model is (the `spend` step).
 */
import { fitSpendModel, type SpendModel, type SpendModelFit } from '../../models/gamma-gamma-limits.js';
import { purchaseDays } from '../../models/relations/purchase-days.js';
import { readNumericColumns } from '../../store/columnar.js';
import type { Store } from '../../store/db.js';
import { collectGarbage } from '../../util/memory.js';
import { BASE_TABLE } from './base.js';
import type { StepTools } from './tools.js';

/** The Gamma-Gamma's input and its one fit. */
export interface RepeatSpend {
  /** Repeat customers' repeat purchases and mean repeat value; null when the run falls back, and once fitted (freed). */
  data: { x: Float64Array; m: Float64Array } | null;
  /** Repeat customers fitted (the rows of `data` while it is held). */
  repeatCustomers: number;
  /** Repeat customers left out: mean repeat value not above 0 (runs.gamma_gamma.excluded_non_positive). */
  excluded: number;
  /** There is something to fit (two repeat customers or more). */
  fits: boolean;
  /**
   * The fit, made at the first call (later calls return it): within a progress step of its own,
   * or with `ownStep` false inside another step's line (the model step with --model auto).
   */
  fit(ownStep?: boolean): Promise<SpendModelFit | null>;
}

/** What the Gamma-Gamma fits, read now (`fallingBack`: the models are not fitted, nothing to read). */
export async function readSpend(store: Store, fallingBack: boolean, { progress, timed }: StepTools): Promise<RepeatSpend> {
  const spendData = fallingBack
    ? null
    : await timed('read_spend', () =>
        // Sorted so the fit sums in the same order every run (rows equal in both are interchangeable).
        readNumericColumns(store, `SELECT bgnbd_x AS x, repeat_mean_value AS m FROM ${BASE_TABLE} WHERE bgnbd_x > 0 AND repeat_mean_value > 0 ORDER BY x, m`),
      );
  const excludedSpend = fallingBack ? 0 : ((await store.value<number>(`SELECT count(*) FROM ${BASE_TABLE} WHERE bgnbd_x > 0 AND NOT (repeat_mean_value > 0)`)) ?? 0);
  // (let: dropped once fitted, so that the repeat customers' two columns are not held through the write.)
  let data = spendData ? { x: spendData.x, m: spendData.m } : null;
  const spendFits = data !== null && data.x.length >= 2;
  const repeatCustomers = data?.x.length ?? 0;
  let spendFit: Promise<SpendModelFit | null> | null = null;
  const fitSpend = (ownStep = true): Promise<SpendModelFit | null> => {
    if (!spendFits) return Promise.resolve(null);
    const fit = () =>
      timed('gamma_fit', async () => {
        const input = data!;
        data = null;
        // The Gamma-Gamma, or its homogeneous-spend limit when the maximum is there (models/gamma-gamma-limits.ts).
        const gammaFit = fitSpendModel(input);
        // Its input and work arrays (~450 MB at 100M lines) freed now, not at V8's leisure (util/memory.ts).
        collectGarbage();
        return gammaFit;
      });
    return (spendFit ??= ownStep ? progress.step(`fitting Gamma-Gamma on ${repeatCustomers.toLocaleString('en-US')} repeat customers`, fit) : fit());
  };
  return {
    get data() {
      return data;
    },
    repeatCustomers,
    excluded: excludedSpend,
    fits: spendFits,
    fit: fitSpend,
  };
}

/** The Gamma-Gamma fitted (or the fit made during the model step), and whether its CLV is usable. */
export interface SpendStep {
  gamma: SpendModelFit | null;
  /** A spend model fitted (the Gamma-Gamma converged with a finite mean, or its limit): the customer rows and the forecast use it. */
  usable: boolean;
  /** The model that scores spend, or null (each customer's own mean). */
  model: SpendModel | null;
}

/** The `spend` step: the Gamma-Gamma when a purchase model is used (`fitted`); then the purchase days are freed. */
export async function spendStep(store: Store, spend: RepeatSpend, fitted: boolean): Promise<SpendStep> {
  const gamma: SpendModelFit | null = fitted ? await spend.fit() : null;
  // The purchase days are read by nothing after the cohorts: freed before the rows are assembled.
  await store.run(`DROP TABLE IF EXISTS temp.${purchaseDays.narrow.name}`);
  // The one place the run decides between a spend model and each customer's own mean.
  const model = gamma?.model ?? null;
  return { gamma, usable: model !== null, model };
}
