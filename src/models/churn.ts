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
 * Tiers: high when churn_risk ≥ `high`, medium when ≥ `medium`, else low.
 * Reasons compare the silence to the customer's own rhythm (mean days between purchase days).
 */

import { sqlNumber } from '../store/db.js';

export interface ChurnTiers {
  medium: number;
  high: number;
}

export function churnTierSql(risk: string, tiers: ChurnTiers): string {
  return `CASE WHEN ${risk} >= ${sqlNumber(tiers.high)} THEN 'high' WHEN ${risk} >= ${sqlNumber(tiers.medium)} THEN 'medium' ELSE 'low' END`;
}

/** The recency fallback risk over a relation with `recency_days`. */
export const RECENCY_RISK_SQL = 'percent_rank() OVER (ORDER BY recency_days)';

/**
 * "no purchase in 140 days; usually buys every 30", from a customer's purchase days, days since
 * the last purchase, and days from first to last purchase (SQL expressions; by default the
 * columns purchase_days, recency_days and t_x_days).
 */
export function churnReasonSql(cols: { purchaseDays: string; recencyDays: string; txDays: string } = { purchaseDays: 'purchase_days', recencyDays: 'recency_days', txDays: 't_x_days' }): string {
  const { purchaseDays, recencyDays, txDays } = cols;
  const usual = `CAST(round(${txDays} / (${purchaseDays} - 1)) AS INTEGER)`;
  const days = (n: string) => `${n} || CASE WHEN ${n} = 1 THEN ' day' ELSE ' days' END`;
  return `CASE
    WHEN ${purchaseDays} = 1 AND ${recencyDays} = 0 THEN 'first purchase today'
    WHEN ${purchaseDays} = 1 THEN 'bought once, ' || ${days(recencyDays)} || ' ago'
    WHEN ${recencyDays} = 0 THEN 'last purchase today; usually buys every ' || ${days(usual)}
    WHEN ${recencyDays} <= ${usual} THEN 'last purchase ' || ${days(recencyDays)} || ' ago; usually buys every ' || ${days(usual)}
    ELSE 'no purchase in ' || ${days(recencyDays)} || '; usually buys every ' || ${days(usual)}
  END`;
}
