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

/**
 * Purchase days on ClickHouse (the DuckDB chain's orders.ts + purchase-days.ts): one row per
 * customer, day and kind, with the orders, money, lines and margin of that day. `hasCost`: the
 * source has a cost column (else margin is NULL, as for lines without a cost). The inner level of
 * the run's source queries (`clickhouseCustomerSums`, `clickhouseCohortActivity`).
 */
function clickhousePurchaseDays(table: string, hasCost: boolean): string {
  // Margin: amount − cost over the lines that carry a cost; NULL when none does (orders.ts).
  const lineMargin = hasCost
    ? 'if(countIf(isNotNull(cost)) = 0, NULL, sumIf(amount - assumeNotNull(cost), isNotNull(cost)))'
    : 'CAST(NULL AS Nullable(Decimal(38, 4)))';
  return `
    SELECT customer_id, order_day AS day_date, is_return,
           count() AS day_orders, sum(order_amount) AS day_amount, sum(order_lines) AS day_lines,
           sum(order_margin) AS day_margin
    FROM (
      -- Orders: lines sharing an order id are one order, dated by its first line; lines without
      -- an order id form one order per customer and day. Returns are orders of their own.
      SELECT customer_id, is_return, min(order_date) AS order_day,
             sum(amount) AS order_amount, count() AS order_lines, ${lineMargin} AS order_margin
      FROM ${quoteIdentifier(table)}
      WHERE order_date <= {as_of:Date}
      GROUP BY customer_id, order_id, if(isNull(order_id), order_date, toDate(0)), is_return
    )
    GROUP BY customer_id, order_day, is_return`;
}

/** The columns of `clickhouseCustomerSums`, in order, with their DuckDB types as crm reads them (money: the run's money type). */
export const CLICKHOUSE_CUSTOMER_SUMS_COLUMNS = {
  customer_id: 'VARCHAR',
  purchase_days: 'BIGINT',
  first_purchase: 'DATE',
  last_purchase: 'DATE',
  first_day_value: 'money',
  orders: 'BIGINT',
  gross_revenue: 'money',
  returned: 'money',
  return_lines: 'BIGINT',
  margin: 'money',
  pareto_revenue: 'money',
  trend_current: 'money',
  trend_previous: 'money',
} as const;

/**
 * One row per customer with a line on or before as-of — the `customer_sums` of the local
 * customer base (customer-base.ts), the same sums over the same purchase days — computed where
 * the lines live. Customers with only returns are kept (purchase_days 0, purchase dates NULL): the
 * local base leaves them out and counts them, exactly as for a local run. Money stays Decimal.
 * Windows bound as {pareto_start:Nullable(Date)}, {current_start:Date}, {previous_start:Date}
 * (the run's trend windows, trend-windows.ts).
 */
export function clickhouseCustomerSums(table: string, hasCost: boolean): string {
  return `
SELECT customer_id,
       purchase_day_count AS purchase_days,
       if(purchase_day_count = 0, NULL, first_day) AS first_purchase,
       if(purchase_day_count = 0, NULL, last_day) AS last_purchase,
       if(purchase_day_count = 0, NULL, first_day_sum) AS first_day_value,
       orders_total AS orders,
       if(purchase_day_count = 0, NULL, gross_sum) AS gross_revenue,
       returned_sum AS returned,
       return_line_count AS return_lines,
       margin_sum AS margin,
       pareto_sum AS pareto_revenue,
       current_sum AS trend_current,
       previous_sum AS trend_previous
FROM (
  SELECT customer_id,
         countIf(is_return = 0) AS purchase_day_count,
         minIf(day_date, is_return = 0) AS first_day,
         maxIf(day_date, is_return = 0) AS last_day,
         -- argMinIf over no rows gives 0, not NULL: guarded above by purchase_day_count.
         argMinIf(day_amount, day_date, is_return = 0) AS first_day_sum,
         sumIf(day_orders, is_return = 0) AS orders_total,
         sumIf(day_amount, is_return = 0) AS gross_sum,
         sumIf(day_amount, is_return = 1) AS returned_sum,
         sumIf(day_lines, is_return = 1) AS return_line_count,
         sum(day_margin) AS margin_sum,
         sumIf(day_amount, isNull({pareto_start:Nullable(Date)}) OR day_date >= assumeNotNull({pareto_start:Nullable(Date)})) AS pareto_sum,
         sumIf(day_amount, day_date >= {current_start:Date}) AS current_sum,
         sumIf(day_amount, day_date >= {previous_start:Date} AND day_date < {current_start:Date}) AS previous_sum
  FROM (${clickhousePurchaseDays(table, hasCost)}
  )
  GROUP BY customer_id
)`;
}

/** The columns of `clickhouseCohortActivity` with their DuckDB types. */
export const CLICKHOUSE_COHORT_ACTIVITY_COLUMNS = {
  cohort_month: 'DATE',
  months_since: 'BIGINT',
  active_customers: 'BIGINT',
  revenue: 'DECIMAL(38, 4)',
} as const;

/**
 * The cohort triangle's activity (cohorts.ts `activity`) computed where the lines live: per
 * acquisition month and months since, the customers with a purchase that month and their net
 * revenue. Each customer's months are collected in arrays and unfolded with ARRAY JOIN next to
 * the customer's cohort month (18.16 has no window functions, and one pass needs no join).
 * Customers split by shard: the rows of several shards add up (the run sums them).
 */
export function clickhouseCohortActivity(table: string): string {
  return `
SELECT cohort_month, months_since, toInt64(sum(month_purchased)) AS active_customers, sum(month_revenue) AS revenue
FROM (
  SELECT cohort_month, toInt64(dateDiff('month', cohort_month, month_start)) AS months_since, month_purchased,
         CAST(month_revenue_text AS Decimal(38, 4)) AS month_revenue
  FROM (
    SELECT customer_id,
           minIf(month, purchased = 1) AS cohort_month,
           max(purchased) AS any_purchase,
           groupArray(month) AS months,
           groupArray(purchased) AS flags,
           -- As text: 18.16 crashes (segfault) collecting Decimal128 values with groupArray; the
           -- text is exact and is cast back after ARRAY JOIN.
           groupArray(toString(revenue)) AS revenues
    FROM (
      -- Each customer's months: whether they bought, what they spent net.
      SELECT customer_id, toStartOfMonth(day_date) AS month, max(is_return = 0) AS purchased, sum(day_amount) AS revenue
      FROM (${clickhousePurchaseDays(table, false)}
      )
      GROUP BY customer_id, month
    )
    GROUP BY customer_id
    -- Customers with only returns are in no cohort.
    HAVING any_purchase = 1
  )
  ARRAY JOIN months AS month_start, flags AS month_purchased, revenues AS month_revenue_text
)
-- Months before the first purchase (returns only) are outside the triangle.
WHERE months_since >= 0
GROUP BY cohort_month, months_since`;
}

/**
 * What the run needs of the source before the chain: its last date (the default as-of), and up
 * to as-of the first date (the trend windows' data start), the lines, and the absolute money
 * (the run's money width, money.ts). One row; shards' rows combine by min / max / sum.
 */
export function clickhouseSourceExtent(table: string, hasCost: boolean): string {
  return `
SELECT toString(max(order_date)) AS last_date,
       toString(minIf(order_date, order_date <= {as_of:Date})) AS first_date,
       toInt64(countIf(order_date <= {as_of:Date})) AS lines,
       toFloat64(sumIf(abs(amount), order_date <= {as_of:Date})${hasCost ? ' + sumIf(abs(assumeNotNull(cost)), order_date <= {as_of:Date} AND isNotNull(cost))' : ''}) AS absolute_total
FROM ${quoteIdentifier(table)}`;
}
