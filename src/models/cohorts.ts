/**
 * Acquisition cohorts: customers grouped by the month of their first purchase, followed month
 * by month. For cohort c and k months after acquisition:
 *   retention(c, k) = customers of c with a purchase in month c + k  /  customers in c
 *   revenue(c, k)   = net revenue (purchases minus returns) of c's customers in month c + k
 * Every (cohort, month) up to the as-of month gets a row — a month with no activity is a 0,
 * not a gap. Segment migration counts customers by (segment in the previous run, segment now).
 */
import { literal } from '../store/db.js';

/**
 * SQL: the cohort triangle for customers of `base` (customer_id, cohort_month), from
 * `orders` (customer_id, order_date, is_return, amount: transactions up to as-of).
 */
export function cohortSql(base: string, orders: string, asOf: string): string {
  const asOfDate = `DATE ${literal(asOf)}`;
  return `
WITH cohort_of AS (
  SELECT customer_id, cohort_month FROM ${base}
),
cohort_sizes AS (
  SELECT cohort_month, count(*) AS cohort_size FROM cohort_of GROUP BY cohort_month
),
grid AS (
  SELECT cohort_month, cohort_size,
         unnest(range(0, date_diff('month', cohort_month, date_trunc('month', ${asOfDate})) + 1)) AS months_since
  FROM cohort_sizes
),
activity AS (
  SELECT c.cohort_month,
         date_diff('month', c.cohort_month, date_trunc('month', t.order_date)) AS months_since,
         count(DISTINCT t.customer_id) FILTER (WHERE NOT t.is_return) AS active_customers,
         CAST(sum(t.amount) AS DOUBLE) AS revenue
  FROM ${orders} t JOIN cohort_of c USING (customer_id)
  GROUP BY ALL
)
SELECT g.cohort_month,
       CAST(g.months_since AS INTEGER) AS months_since,
       g.cohort_size,
       coalesce(a.active_customers, 0) AS active_customers,
       coalesce(a.active_customers, 0) / g.cohort_size AS retention,
       coalesce(a.revenue, 0) AS revenue,
       coalesce(a.revenue, 0) / g.cohort_size AS revenue_per_customer
FROM grid g LEFT JOIN activity a USING (cohort_month, months_since)`;
}

/** SQL: customers by (previous segment, current segment) between two runs. */
export function segmentMigrationSql(runId: number, previousRunId: number | null): string {
  if (previousRunId === null) {
    return `SELECT ${runId} AS run_id, NULL::INTEGER AS previous_run_id, NULL::VARCHAR AS from_segment, rfm_segment AS to_segment, count(*) AS customers
            FROM customer_metrics WHERE run_id = ${runId} GROUP BY rfm_segment`;
  }
  return `
WITH now_ AS (SELECT customer_id, rfm_segment FROM customer_metrics WHERE run_id = ${runId}),
before_ AS (SELECT customer_id, rfm_segment FROM customer_metrics WHERE run_id = ${previousRunId})
SELECT ${runId} AS run_id, ${previousRunId} AS previous_run_id, b.rfm_segment AS from_segment, n.rfm_segment AS to_segment, count(*) AS customers
FROM now_ n FULL OUTER JOIN before_ b USING (customer_id)
GROUP BY ALL`;
}
