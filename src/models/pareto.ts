/**
 * 80/20 per customer: the columns customer_metrics takes from a customer's row of the base and
 * its revenue level. The rule itself (ranks, shares, ABC classes, key accounts) lives in the
 * levels relation (relations/revenue-levels.ts), the windows and "the data covers a period" in
 * relations/trend-windows.ts, the revenue trend in REVENUE_TREND_SQL.
 */
import { REVENUE_TREND_SQL } from './relations/trend-windows.js';

export type { TrendWindows } from './relations/trend-windows.js';

/**
 * Select expressions of the per-customer 80/20 columns, for a row of the base (alias `b`, with
 * pareto_revenue, trend_current, trend_previous) left-joined to its level (alias `pl`, from
 * run_pareto_levels ON pl.net_revenue = b.pareto_revenue). Customers with net revenue ≤ 0 have
 * no level: no rank, share 0, class C. trend_previous is NULL when the data does not cover the
 * previous window: revenue_previous and revenue_trend are then NULL too. revenue_trend is the
 * stored column's own expression over the two columns just named (DuckDB reads a select list's
 * earlier aliases), so the run and the store cannot disagree on it.
 */
export function paretoColumns(b = 'b', pl = 'pl'): string {
  return `CAST(${b}.pareto_revenue AS DOUBLE) AS net_revenue,
         CAST(${pl}.revenue_rank AS INTEGER) AS revenue_rank,
         CASE WHEN ${b}.pareto_revenue > 0 THEN CAST(${b}.pareto_revenue AS DOUBLE) / ${pl}.positive_total ELSE 0 END AS revenue_share,
         ${pl}.cumulative_share,
         coalesce(${pl}.abc_class, 'C') AS abc_class,
         CAST(${b}.trend_current AS DOUBLE) AS revenue_current,
         CAST(${b}.trend_previous AS DOUBLE) AS revenue_previous,
         ${REVENUE_TREND_SQL} AS revenue_trend`;
}
