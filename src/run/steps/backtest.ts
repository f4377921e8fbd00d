/**
 * --holdout-end: the backtest (models/backtest.ts). The holdout predictions per distinct history
 * are made before the write transaction (the covariate step wrote the covariate model's own,
 * keyed by cell); the comparison with what customers bought is SQL (relations/backtest.ts), in it.
 */
import { BUCKET_CAP, type Backtest } from '../../models/backtest.js';
import type { FittedPurchaseModel, PurchaseModelKey } from '../../models/purchase-models.js';
import { rowsOf } from '../../models/relation.js';
import { BACKTEST_AUC, BACKTEST_BUCKETS, type BacktestAucRow, type BacktestBucketRow } from '../../models/relations/backtest.js';
import { writeDoubleTable } from '../../store/columnar.js';
import type { Store } from '../../store/db.js';
import type { CovariatesReport } from '../covariates.js';
import type { Histories } from './histories.js';
import { daysBetween, type StepTools } from './tools.js';

export interface BacktestPredictInput {
  asOf: string;
  holdoutEnd: string | null;
  unitDays: number;
  model: FittedPurchaseModel | null;
  covariates: CovariatesReport | null;
  histories: Histories;
}

/** The `backtest` step: each distinct history's expected purchases over the holdout (temp.run_holdout_predictions). */
export async function backtestPredictions(store: Store, input: BacktestPredictInput, { timed }: StepTools): Promise<void> {
  const { asOf, holdoutEnd, unitDays, model, covariates } = input;
  const { triples, data } = input.histories;
  // Backtest predictions need the holdout length in units; prepared before the transaction.
  // (The covariate step wrote the covariate model's own, keyed by cell.)
  if (holdoutEnd && model && !covariates?.used) {
    await timed('backtest_predict', async () => {
      const holdoutUnits = daysBetween(asOf, holdoutEnd) / unitDays;
      const p = model.predict(data, holdoutUnits);
      await writeDoubleTable(store, 'run_holdout_predictions', { x: triples.x, t_x_days: triples.t_x_days, T_days: triples.T_days, predicted: p.expectedPurchases });
    });
  }
}

/** The backtest from the holdout predictions and the run's rows, inside the write transaction. */
export async function computeBacktest(store: Store, runId: number, asOf: string, holdoutEnd: string, method: PurchaseModelKey | null): Promise<Backtest> {
  // Without a fitted model (method null) there are no holdout predictions: every customer's is 0.
  await store.run('CREATE TEMP TABLE IF NOT EXISTS run_holdout_predictions (x DOUBLE, t_x_days DOUBLE, T_days DOUBLE, predicted DOUBLE)');
  const params = { as_of: asOf, holdout_end: holdoutEnd, run_id: runId };
  const buckets = await rowsOf<BacktestBucketRow, keyof typeof params>(store, BACKTEST_BUCKETS, params);
  const aucs = await rowsOf<BacktestAucRow, keyof typeof params>(store, BACKTEST_AUC, params);
  const auc = aucs.find((a) => a.score === 'churn_risk');
  const aucNoPurchase = aucs.find((a) => a.score === 'p_no_purchase');
  return {
    holdout_start: asOf,
    holdout_end: holdoutEnd,
    holdout_days: daysBetween(asOf, holdoutEnd),
    customers: buckets.reduce((a, b) => a + b.customers, 0),
    predicted_total: buckets.reduce((a, b) => a + b.predicted, 0),
    actual_total: buckets.reduce((a, b) => a + b.actual, 0),
    by_frequency: buckets.map((b) => ({
      bucket: b.bucket_x >= BUCKET_CAP ? `${BUCKET_CAP}+` : String(b.bucket_x),
      customers: b.customers,
      predicted: b.predicted,
      actual: b.actual,
    })),
    auc: auc?.auc ?? null,
    auc_p_no_purchase: aucNoPurchase?.auc ?? null,
    buyers: auc?.n_neg ?? 0,
    non_buyers: auc?.n_pos ?? 0,
    method: method ?? 'recency',
  };
}
