/**
 * Purchase histories: the BG/NBD sees a customer only through (x, t_x, T) — repeat purchase days,
 * days from the first to the last purchase day, days from the first purchase day to as-of — so
 * the fit reads the distinct histories with how many customers share each (~4× fewer rows than
 * customers on the bench), and predictions made per history are joined back on `history_key`.
 */
import type { Relation } from '../relation.js';
import { DUCKDB, type SqlDialect } from './dialect.js';

/**
 * A purchase history (x, t_x, T in days) as one BIGINT, x·2⁴⁰ + t_x·2²⁰ + T: predictions made per
 * distinct history are joined back to customers on one 64-bit key instead of three columns.
 * Exact while T < 2²⁰ days (2,870 years) and x < 2²³. The one definition (SQL text builder, used
 * when the relations' constant texts are built and by the run's joins).
 */
export function historyKey(x: string, txDays: string, tDays: string, d: SqlDialect = DUCKDB): string {
  return `(${d.bigint(x)} * 1099511627776 + ${d.bigint(txDays)} * 1048576 + ${d.bigint(tDays)})`;
}

/**
 * The three fields of a history key (the inverse of historyKey, for any key in [0, 2⁶³)): the
 * covariate step (run/covariates.ts) keys customers by (history, covariate cell) and passes its
 * keys through the relations that rebuild the key from (x, t_x_days, T_days) — the one churn
 * tier rule (predictions.ts) and the backtest (backtest.ts) — as these fields.
 */
export function historyKeyFields(key: string): { x: string; txDays: string; tDays: string } {
  return { x: `(${key} >> 40)`, txDays: `((${key} >> 20) & 1048575)`, tDays: `(${key} & 1048575)` };
}

export const histories: Relation = {
  name: 'run_histories',
  grain: 'one row per distinct purchase history (x, t_x, T)',
  params: [],
  sql: `
WITH customer_histories AS (
  SELECT bgnbd_x AS x, t_x_days, T_days
  FROM run_base
)
SELECT x, t_x_days, T_days, count(*) AS customers
FROM customer_histories
GROUP BY x, t_x_days, T_days
ORDER BY x, t_x_days, T_days`,
};
