/**
 * Churn risk presentation: tiers, plain-language reasons, and the recency fallback.
 *
 * With a fitted BG/NBD model, churn_risk = 1 − P(alive) (see bgnbd.ts). When the model cannot
 * be fitted (too few customers, nobody repeats, everyone bought on one day, no convergence) the
 * run falls back to a recency score, labelled `churn_method = 'recency'`:
 *
 *     churn_risk = percent rank of recency_days among all scored customers
 *
 * i.e. the share of customers who bought more recently — 0 for the most recent buyers, 1 for
 * the longest silent. It orders customers sensibly but is not a probability.
 *
 * Tiers: high when churn_risk ≥ `high`, medium when ≥ `medium`, else low (models/relations/
 * predictions.ts, for the fitted model and the fallback alike).
 * Reasons ("no purchase in 140 days; usually buys every 30") compare the silence to the
 * customer's own rhythm (mean days between purchase days); the sentence is the view column
 * customer_metrics.churn_reason, worded when read from churn_reason_code and usual_gap_days
 * (src/store/schema.ts, migration 6).
 */

export interface ChurnTiers {
  medium: number;
  high: number;
}
