/**
 * The model computations the run hands to a worker thread (worker.ts) so that they use the
 * machine's other core: each is a pure function of plain data (numbers, typed arrays), so it
 * crosses by structured clone and gives the same numbers, bit for bit, in either thread.
 */
import type { ClvOptions } from './clv.js';
import { intervalEvaluations, type IntervalEvaluations, type PurchaseUncertainty } from './intervals.js';
import { fitMbgNbd, type MbgNbdFit } from './mbgnbd.js';
import { fitParetoNbd, type ParetoNbdFit } from './pareto-nbd.js';
import { discountedPurchasesAll } from './purchase-models.js';
import type { RfmSummary } from './rfm-data.js';

export type WorkerTask =
  /** A maximum-likelihood fit (purchase-models.ts: fitChosenPurchaseModelInWorker). */
  | { task: 'fit'; key: 'pareto_nbd' | 'mbgnbd'; data: RfmSummary }
  /** Some of the perturbed models' evaluations of the intervals (intervals.ts: intervalEvaluations). */
  | { task: 'intervals'; u: PurchaseUncertainty; models: number[]; data: RfmSummary; horizon: number; clv: ClvOptions };

export type WorkerResult = ParetoNbdFit | MbgNbdFit | IntervalEvaluations;

export function performTask(t: WorkerTask): WorkerResult {
  if (t.task === 'fit') return t.key === 'pareto_nbd' ? fitParetoNbd(t.data) : fitMbgNbd(t.data);
  return intervalEvaluations(t.u, t.models, t.data, t.horizon, (m, d, alive) => discountedPurchasesAll(m, d, t.clv, alive));
}
