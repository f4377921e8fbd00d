/**
 * The model computations the run hands to a worker thread (worker.ts) so that they use the
 * machine's other core: each is a pure function of plain data (numbers, typed arrays), so it
 * crosses by structured clone and gives the same numbers, bit for bit, in either thread.
 */
import type { ClvOptions } from './clv.js';
import { intervalEvaluations, intervalRows, type IntervalEvaluations, type IntervalRowsOutput, type PurchaseUncertainty } from './intervals.js';
import { fitMbgNbd, type MbgNbdFit } from './mbgnbd.js';
import { fitParetoNbd, type ParetoNbdFit } from './pareto-nbd.js';
import { discountedPurchasesAll } from './purchase-models.js';
import type { RfmSummary } from './rfm-data.js';

export type WorkerTask =
  /** A maximum-likelihood fit (purchase-models.ts: fitChosenPurchaseModelInWorker). */
  | { task: 'fit'; key: 'pareto_nbd' | 'mbgnbd'; data: RfmSummary }
  /** Some of the perturbed models' evaluations of the intervals (intervals.ts: intervalEvaluations). */
  | { task: 'intervals'; u: PurchaseUncertainty; models: number[]; data: RfmSummary; horizon: number; clv: ClvOptions }
  /**
   * The intervals of rows [from, to) (intervals.ts: intervalRows), written into `out`: shared
   * arrays (shared-arrays.ts), as `data` should be, so that neither crosses by copy.
   */
  | { task: 'interval-rows'; u: PurchaseUncertainty; data: RfmSummary; horizon: number; level: number; clv: ClvOptions; out: IntervalRowsOutput; from: number; to: number };

/** interval-rows: its results are in the task's shared `out`; this says how many rows it wrote. */
export interface IntervalRowsDone {
  rows: number;
}

export type WorkerResult = ParetoNbdFit | MbgNbdFit | IntervalEvaluations | IntervalRowsDone;

export function performTask(t: WorkerTask): WorkerResult {
  if (t.task === 'fit') return t.key === 'pareto_nbd' ? fitParetoNbd(t.data) : fitMbgNbd(t.data);
  if (t.task === 'interval-rows') {
    intervalRows(t.u, t.data, t.horizon, t.level, (m, d, alive) => discountedPurchasesAll(m, d, t.clv, alive), t.out, t.from, t.to);
    return { rows: t.to - t.from };
  }
  return intervalEvaluations(t.u, t.models, t.data, t.horizon, (m, d, alive) => discountedPurchasesAll(m, d, t.clv, alive));
}
