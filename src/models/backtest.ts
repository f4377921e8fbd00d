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
  method: 'bgnbd' | 'pareto_nbd' | 'mbgnbd' | 'recency';
}

/** The last frequency bucket ("7+"; models/relations/backtest.ts groups by least(x, 7)). */
export const BUCKET_CAP = 7;
