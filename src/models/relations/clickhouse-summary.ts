/**
 * The first heavy step of the run — orders → purchase days → per-customer summary — written for
 * ClickHouse, so it can run where the transactions live (issue #13). It gives, per customer with
 * a purchase on or before as-of, the same values as the DuckDB chain (orders.ts, purchase-days.ts,
 * customer-base.ts): first and last purchase, orders, purchase days, the BG/NBD history
 * (x, t_x, T; Fader, Hardie & Lee 2005) and the exact money sums (Decimal, never Float).
 *
 * Kept to SQL that Debian's ClickHouse 18.16 runs and current releases still run: no window
 * functions, no FILTER clause (the -If combinators instead: sumIf, countIf, minIf, argMinIf),
 * subqueries rather than CTEs (18.16's WITH binds expressions, not tables), no join, and
 * aliases distinct from column names (ClickHouse aliases are visible across the whole SELECT, so
 * `sum(amount) AS amount` would read itself). Merges (customer_merges) are not applied: the
 * cluster has no merges table yet.
 *
 * The source table needs the store's columns: customer_id String, order_id Nullable(String),
 * order_date Date, amount Decimal(18, 4), is_return UInt8. Sums widen to Decimal(38, 4).
 * On a table sharded by customer (a Distributed table), every group is one customer's, so the
 * rows equal the single-table ones (test/models/relations/clickhouse-summary.test.ts).
 */
import { quoteIdentifier } from '../../store/clickhouse.js';

/** The columns of the summary, in order. */
export const CLICKHOUSE_SUMMARY_COLUMNS = [
  'customer_id',
  'first_purchase',
  'last_purchase',
  'frequency',
  'purchase_days',
  'gross_revenue',
  'returned',
  'net_revenue',
  'return_lines',
  'first_day_value',
  'bgnbd_x',
  't_x_days',
  'T_days',
] as const;

/** The summary's SELECT over `table` ([database.]table), as-of bound as {as_of:Date}. */
export function clickhouseCustomerSummary(table: string): string {
  return `
SELECT customer_id,
       first_purchase,
       last_purchase,
       toInt32(orders_total) AS frequency,
       toInt32(purchase_day_count) AS purchase_days,
       gross_sum AS gross_revenue,
       returned_sum AS returned,
       gross_sum + returned_sum AS net_revenue,
       toInt32(return_line_count) AS return_lines,
       first_day_sum AS first_day_value,
       toInt32(purchase_day_count - 1) AS bgnbd_x,
       toInt32(dateDiff('day', first_purchase, last_purchase)) AS t_x_days,
       toInt32(dateDiff('day', first_purchase, {as_of:Date})) AS T_days
FROM (
  -- One row per customer: purchase days and return days in one pass, the -If combinators
  -- standing in for FILTER.
  SELECT customer_id,
         countIf(is_return = 0) AS purchase_day_count,
         minIf(day_date, is_return = 0) AS first_purchase,
         maxIf(day_date, is_return = 0) AS last_purchase,
         argMinIf(day_amount, day_date, is_return = 0) AS first_day_sum,
         sumIf(day_orders, is_return = 0) AS orders_total,
         sumIf(day_amount, is_return = 0) AS gross_sum,
         sumIf(day_amount, is_return = 1) AS returned_sum,
         sumIf(day_lines, is_return = 1) AS return_line_count
  FROM (
    -- Purchase days: a customer's orders summed per day, purchases and returns apart.
    SELECT customer_id, order_day AS day_date, is_return,
           count() AS day_orders, sum(order_amount) AS day_amount, sum(order_lines) AS day_lines
    FROM (
      -- Orders: lines sharing an order id are one order, dated by its first line; lines without
      -- an order id form one order per customer and day. Returns are orders of their own.
      SELECT customer_id, is_return, min(order_date) AS order_day,
             sum(amount) AS order_amount, count() AS order_lines
      FROM ${quoteIdentifier(table)}
      WHERE order_date <= {as_of:Date}
      GROUP BY customer_id, order_id, if(isNull(order_id), order_date, toDate(0)), is_return
    )
    GROUP BY customer_id, order_day, is_return
  )
  GROUP BY customer_id
  -- Customers whose only lines are returns have no purchase history: not in the summary.
  HAVING purchase_day_count > 0
)
ORDER BY customer_id`;
}
