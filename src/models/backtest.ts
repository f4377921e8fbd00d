/**
 * Backtest: how far to trust the scores. The models are fitted on transactions up to the as-of
 * date (calibration); the holdout is (as_of, holdout_end]. For every customer scored in the
 * run we compare
 *   predicted = E[repeat purchases in the holdout | calibration history]  (BG/NBD eq. 10)
 *   actual    = days with a purchase in the holdout
 * in total and by calibration frequency (x = 0, 1, …, 6, 7+), as in Fader, Hardie & Lee (2005)
 * fig. 4; and the AUC of churn_risk for the event "no purchase in the holdout": the probability
 * that a randomly chosen customer who did not buy has a higher risk than one who did
 * (Mann–Whitney, ties counting one half; 0.5 = no better than chance).
 */

export interface BacktestBucket {
  bucket: string;
  customers: number;
  predicted: number;
  actual: number;
}

export interface Backtest {
  holdout_start: string;
  holdout_end: string;
  holdout_days: number;
  customers: number;
  predicted_total: number;
  actual_total: number;
  by_frequency: BacktestBucket[];
  /** AUC of churn_risk for "no purchase in the holdout"; null when everyone (or no one) bought. */
  auc: number | null;
  /** The same for p_no_purchase (BG/NBD's probability of no purchase in the horizon). */
  auc_p_no_purchase: number | null;
  /** Customers who bought in the holdout / did not. */
  buyers: number;
  non_buyers: number;
  method: 'bgnbd' | 'recency';
}

export const BUCKET_CAP = 7;

/**
 * SQL over `scored` (customer_id, bgnbd_x, predicted, churn_risk) and `actuals` (customer_id,
 * actual): the totals and buckets, one row per bucket.
 */
export function backtestBucketsSql(scored: string, actuals: string): string {
  return `
WITH joined AS (
  SELECT s.bgnbd_x, s.predicted, coalesce(a.actual, 0) AS actual
  FROM ${scored} s LEFT JOIN ${actuals} a USING (customer_id)
)
SELECT least(bgnbd_x, ${BUCKET_CAP}) AS bucket_x, count(*) AS customers, sum(predicted) AS predicted, sum(actual) AS actual
FROM joined GROUP BY bucket_x ORDER BY bucket_x`;
}

/** SQL: AUC of `score` for the positive event `positive` (a boolean column) over `relation`. */
export function aucSql(relation: string, score: string, positive: string): string {
  return `
WITH s AS (SELECT ${score} AS score, ${positive} AS pos FROM ${relation}),
r AS (
  SELECT pos, rank() OVER (ORDER BY score) AS low_rank, count(*) OVER (PARTITION BY score) AS ties FROM s
),
totals AS (SELECT count(*) FILTER (WHERE pos) AS n_pos, count(*) FILTER (WHERE NOT pos) AS n_neg FROM s)
SELECT n_pos, n_neg,
       CASE WHEN n_pos > 0 AND n_neg > 0 THEN
         (sum(low_rank + (ties - 1) / 2.0) FILTER (WHERE pos) - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
       END AS auc
FROM r CROSS JOIN totals GROUP BY n_pos, n_neg`;
}
