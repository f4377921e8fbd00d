/**
 * The customers' expected order values summed per purchase history (x, t_x, T): what the stored
 * 12-month projection (run_forecast, run/forecast.ts) multiplies the purchase model's per-history
 * figures by. The run reads it from the customer base (temp.run_base) once the Gamma-Gamma is
 * fitted, instead of reading back every customer row it has just written; `crm forecast` sums
 * the same terms over customer_metrics for any group of customers.
 *
 * Per history: customers, Σ expected order value (customer-metrics.ts: expectedOrderValueSql,
 * the rule's one home), and the Gamma-Gamma gradient terms of a group's band
 * (historySpendTermsSql). Ordered like the histories the purchase models read (histories.ts),
 * so row i here is row i there.
 */
import type { Relation } from '../relation.js';
import { expectedOrderValueSql } from './customer-metrics.js';

/**
 * SQL: the three sums of d ln E[M] / d ln (p, q, v) terms of a group of customers' value — Σ over
 * customers with a positive expected order value `eov` of eov·(q − 1)/d, −eov·q/d and v·p/d with
 * d = p·max(x, 1) + q − 1 — named spend_gp, spend_gq, spend_gv. The x of the formula is taken as
 * max(bgnbd_x, 1): exact for repeat customers with a positive mean and one-time buyers; a repeat
 * customer valued by its first day or its own mean gets a slightly different spend term in a
 * group's band (the customer's own clv_low/high are exact). `p`, `q`, `v`: DOUBLE SQL values.
 */
export function historySpendTermsSql(eov: string, x: string, p: string, q: string, v: string): string {
  const denominator = `(${p} * greatest(${x}, 1) + ${q} - 1)`;
  return `sum(CASE WHEN ${eov} > 0 THEN ${eov} * (${q} - 1) / ${denominator} ELSE 0 END) AS spend_gp,
       sum(CASE WHEN ${eov} > 0 THEN ${eov} * (-${q}) / ${denominator} ELSE 0 END) AS spend_gq,
       sum(CASE WHEN ${eov} > 0 THEN ${v} * ${p} / ${denominator} ELSE 0 END) AS spend_gv`;
}

export const HISTORY_VALUES: Relation<'gg_p' | 'gg_q' | 'gg_v' | 'gg_nu'> = {
  name: 'temp.run_history_values',
  grain: 'one row per distinct purchase history (x, t_x, T)',
  sql: `
WITH gamma_gamma AS (
  -- NULL parameters: no usable Gamma-Gamma fit (each customer's own mean value; no spend terms);
  -- nu set (q, v NULL): its homogeneous-spend limit (the population mean p/ν; no spend terms).
  SELECT CAST($gg_p AS DOUBLE) AS p, CAST($gg_q AS DOUBLE) AS q, CAST($gg_v AS DOUBLE) AS v, CAST($gg_nu AS DOUBLE) AS nu
),
valued AS (
  SELECT b.bgnbd_x AS x, b.t_x_days, b.T_days,
         ${expectedOrderValueSql('b', 'gg')} AS expected_order_value,
         gg.p, gg.q, gg.v
  FROM temp.run_base b CROSS JOIN gamma_gamma gg
),
summed AS (
  SELECT x, t_x_days, T_days,
         count(*) AS customers,
         sum(coalesce(expected_order_value, 0)) AS value_sum,
         ${historySpendTermsSql('expected_order_value', 'x', 'p', 'q', 'v')}
  FROM valued
  GROUP BY x, t_x_days, T_days
)
SELECT x, t_x_days, T_days, customers, value_sum,
       -- No usable fit: no spend terms (0, as crm forecast has them).
       coalesce(spend_gp, 0) AS spend_gp, coalesce(spend_gq, 0) AS spend_gq, coalesce(spend_gv, 0) AS spend_gv
FROM summed
ORDER BY x, t_x_days, T_days`,
  params: ['gg_p', 'gg_q', 'gg_v', 'gg_nu'],
};
