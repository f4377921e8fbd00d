/**
 * Covariates of `crm run --covariates` (models/covariates.ts): each scored customer's level of
 * each covariate, the levels pooled and indexed, and the purchase histories compressed per
 * (x, t_x, T, covariate cell) with how many customers share each — the only input the covariate
 * fit reads.
 *
 * The covariates (one home of their definitions):
 * - region: the customer's `region` in the customers table, from the customer's most recent
 *   customers row (latest load, last row: the rule of every contact list, reports/contacts.ts).
 *   A merged duplicate's row is not read: the surviving id's own row is (relations/merged-history.ts).
 * - channel: the `channel` of the customer's first purchase — the purchase lines (not returns) of
 *   the first purchase day, the earliest by order time, then load and row; lines are read as the
 *   history of their customer after the merges in effect.
 * A missing or blank value is its own level, "(none)" (kept, not rejected: a customer without a
 * region is still scored, and "no region" may itself predict behaviour). Levels with fewer than
 * $min_customers customers are pooled into "(other)" (their coefficients would be noise). The
 * baseline (level index 0) is the level with the most customers after pooling — a real level
 * before "(none)" and "(other)", which are baselines only when nothing else is left (ties: first
 * by name); the other levels are dummy-coded against it, in the same order.
 */
import type { Relation } from '../relation.js';
import { historyOwner } from './merged-history.js';

/** The covariates `--covariates` accepts, in the order they are coded. */
export const COVARIATE_NAMES = ['region', 'channel'] as const;
export type CovariateName = (typeof COVARIATE_NAMES)[number];

/** The level of a missing or blank value, and of the pooled small levels. */
export const MISSING_LEVEL = '(none)';
export const POOLED_LEVEL = '(other)';

const owner = historyOwner('t');

/** Per covariate: a CTE `<name>_of (customer_id, <name>)` over the run's customers. */
const VALUE_CTES: Record<CovariateName, string> = {
  region: `
region_of AS (
  SELECT customer_id, region FROM customers
  WHERE customer_id IN (SELECT customer_id FROM temp.run_base)
  QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY load_id DESC, source_row DESC) = 1
)`,
  channel: `
first_day_lines AS (
  SELECT ${owner.customerId} AS customer_id, t.channel, t.order_ts, t.load_id, t.source_row, t.order_date
  FROM transactions t ${owner.join}
  WHERE NOT t.is_return AND t.order_date <= CAST($as_of AS DATE)
),
channel_of AS (
  SELECT l.customer_id, l.channel
  FROM first_day_lines l JOIN temp.run_base b ON b.customer_id = l.customer_id AND l.order_date = b.first_purchase
  QUALIFY row_number() OVER (PARTITION BY l.customer_id ORDER BY l.order_ts NULLS LAST, l.load_id, l.source_row) = 1
)`,
};

/** `value` as a level: missing or blank is "(none)". */
const levelOf = (value: string) => `coalesce(nullif(trim(${value}), ''), '${MISSING_LEVEL}')`;

/** temp.run_covariate_values: one row per scored customer, one column per chosen covariate (its raw level). */
export function covariateValues(names: readonly CovariateName[]): Relation<'as_of'> {
  return {
    name: 'temp.run_covariate_values',
    grain: 'one row per scored customer',
    params: names.includes('channel') ? ['as_of'] : [],
    sql: `
WITH ${names.map((n) => VALUE_CTES[n].trim()).join(',\n')}
SELECT b.customer_id, b.bgnbd_x AS x, b.t_x_days, b.T_days,
       ${names.map((n) => `${levelOf(`${n}_of.${n}`)} AS ${n}`).join(',\n       ')}
FROM temp.run_base b
${names.map((n) => `LEFT JOIN ${n}_of USING (customer_id)`).join('\n')}`,
  };
}

/**
 * temp.run_covariate_levels: per covariate and raw level, its pooled level and the pooled level's
 * index (0 = baseline) and customers.
 */
export function covariateLevels(names: readonly CovariateName[]): Relation<'min_customers'> {
  return {
    name: 'temp.run_covariate_levels',
    grain: 'one row per covariate and raw level',
    params: ['min_customers'],
    sql: `
WITH raw_counts AS (
  ${names.map((n) => `SELECT '${n}' AS covariate, ${n} AS level, count(*) AS customers FROM temp.run_covariate_values GROUP BY ${n}`).join('\n  UNION ALL\n  ')}
),
pooled AS (
  SELECT covariate, level, customers,
         CASE WHEN customers < CAST($min_customers AS BIGINT) THEN '${POOLED_LEVEL}' ELSE level END AS pooled_level
  FROM raw_counts
),
pooled_counts AS (
  SELECT covariate, pooled_level, sum(customers) AS pooled_customers FROM pooled GROUP BY covariate, pooled_level
),
indexed AS (
  SELECT covariate, pooled_level, pooled_customers,
         CAST(row_number() OVER (PARTITION BY covariate ORDER BY pooled_level IN ('${MISSING_LEVEL}', '${POOLED_LEVEL}'), pooled_customers DESC, pooled_level) - 1 AS INTEGER) AS level_index
  FROM pooled_counts
)
SELECT p.covariate, p.level, p.customers, p.pooled_level, i.level_index, CAST(i.pooled_customers AS BIGINT) AS pooled_customers
FROM pooled p JOIN indexed i USING (covariate, pooled_level)
ORDER BY p.covariate, i.level_index, p.level`,
  };
}

/**
 * temp.run_covariate_histories: the purchase histories compressed per (x, t_x, T, cell), cell =
 * Σ level_index_k · $radix[k] (mixed radix over the chosen covariates, in their order), with
 * `covariate_key` numbering the rows 1… (the key the run joins customers on instead of the
 * history key, run/covariates.ts).
 */
export function covariateHistories(names: readonly CovariateName[]): Relation<'radix'> {
  const cell = names.map((n, k) => `CAST(${n}_level.level_index AS BIGINT) * CAST($radix[${k + 1}] AS BIGINT)`).join(' + ');
  return {
    name: 'temp.run_covariate_histories',
    grain: 'one row per distinct purchase history and covariate cell',
    params: ['radix'],
    sql: `
WITH customer_cells AS (
  SELECT v.x, v.t_x_days, v.T_days, ${cell} AS cell
  FROM temp.run_covariate_values v
  ${names.map((n) => `JOIN temp.run_covariate_levels ${n}_level ON ${n}_level.covariate = '${n}' AND ${n}_level.level = v.${n}`).join('\n  ')}
)
SELECT x, t_x_days, T_days, cell, count(*) AS customers,
       row_number() OVER (ORDER BY cell, x, t_x_days, T_days) AS covariate_key
FROM customer_cells
GROUP BY x, t_x_days, T_days, cell
ORDER BY cell, x, t_x_days, T_days`,
  };
}

/** The same cell expression per customer: customer_id → covariate_key (to re-key run_base). */
export function customerCovariateKeys(names: readonly CovariateName[]): Relation<'radix'> {
  const cell = names.map((n, k) => `CAST(${n}_level.level_index AS BIGINT) * CAST($radix[${k + 1}] AS BIGINT)`).join(' + ');
  return {
    name: 'temp.run_customer_covariate_keys',
    grain: 'one row per scored customer',
    params: ['radix'],
    sql: `
SELECT v.customer_id, h.covariate_key
FROM temp.run_covariate_values v
${names.map((n) => `JOIN temp.run_covariate_levels ${n}_level ON ${n}_level.covariate = '${n}' AND ${n}_level.level = v.${n}`).join('\n')}
JOIN temp.run_covariate_histories h
  ON h.x = v.x AND h.t_x_days = v.t_x_days AND h.T_days = v.T_days AND h.cell = ${cell}`,
  };
}
