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
 * `sum(amount) AS amount` would read itself). The run's source queries further down
 * (`clickhouseCustomerSums`, `clickhouseCohortActivity`, `clickhouseRevenueLevels`) read the table
 * through a `SourceReading`: mapped column names and the store's merges, pushed down inline; this
 * first summary reads the store's column names and no merges.
 *
 * The source table needs the store's columns: customer_id String, order_id Nullable(String),
 * order_date Date, amount Decimal(18, 4), is_return UInt8. Sums widen to Decimal(38, 4).
 * On a table sharded by customer (a Distributed table), every group is one customer's, so the
 * rows equal the single-table ones (test/models/relations/clickhouse-summary.test.ts).
 */
import { quoteIdentifier, quoteString } from '../../store/clickhouse.js';

/** The store's transaction columns the run's source queries read (cost optional). */
export const SOURCE_FIELDS = ['customer_id', 'order_id', 'order_date', 'amount', 'is_return', 'cost'] as const;
export type SourceField = (typeof SOURCE_FIELDS)[number];

/** A merge in effect (the store's customer_merges): the duplicate's lines are the survivor's history. */
export interface SourceMerge {
  duplicate_id: string;
  surviving_id: string;
}

/**
 * How the run's source queries read a table of lines: which of its columns holds each field
 * (`crm run --map`, sources.NAME.map; the field's own name without a mapping), whether it has a
 * cost column, and the merges to apply — so a warehouse table with its own column names, and a
 * store with merges, give the same per-customer sums as the store's own lines would.
 */
export interface SourceReading {
  /** [database.]table */
  table: string;
  /** The table's column for each field. */
  columns: Record<SourceField, string>;
  hasCost: boolean;
  /** Each duplicate id's lines are read as its surviving id's (merged-history.ts's rule, pushed down). */
  merges: readonly SourceMerge[];
}

/**
 * The names the source queries give their own values next to the table's columns. ClickHouse
 * aliases are visible across a whole SELECT, so a mapped column with one of these names would be
 * read as the alias (or be a cyclic alias): `checkSourceTable` refuses such a mapping.
 */
export const SOURCE_QUERY_ALIASES = ['crm_customer', 'crm_return', 'crm_day', 'crm_amount', 'crm_lines', 'crm_margin', 'purchase_lines', 'pareto_sum', 'pareto_units', 'last_date', 'first_date', 'lines', 'absolute_total'] as const;

/** A column of the table as SQL (quoted). */
function column(reading: SourceReading, field: SourceField): string {
  return quoteIdentifier(reading.columns[field]);
}

/**
 * The id of the customer whose history a line is: the line's own id, or for a merged duplicate
 * its surviving id — `transform` over the merges written inline as escaped literals (one
 * function, no join: 18.16 runs it on every shard; the merge table is small).
 */
function lineOwner(reading: SourceReading): string {
  const id = column(reading, 'customer_id');
  if (reading.merges.length === 0) return id;
  const list = (values: string[]) => `[${values.map(quoteString).join(', ')}]`;
  return `transform(${id}, ${list(reading.merges.map((m) => m.duplicate_id))}, ${list(reading.merges.map((m) => m.surviving_id))}, ${id})`;
}

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
 * Orders on ClickHouse (the DuckDB chain's orders.ts): lines sharing an order id are one order,
 * dated by its first line; lines without an order id form one order per customer and day. Returns
 * are orders of their own. A merged duplicate's lines are its surviving id's (merged-history.ts).
 * Columns crm_customer, crm_return, crm_day, crm_amount, crm_lines, crm_margin (NULL without a
 * cost column or `withMargin`: margin is amount − cost over the lines that carry a cost, NULL when
 * none does).
 */
function clickhouseOrders(reading: SourceReading, withMargin: boolean): string {
  const [amount, cost, date, orderId] = [column(reading, 'amount'), column(reading, 'cost'), column(reading, 'order_date'), column(reading, 'order_id')];
  const lineMargin = withMargin && reading.hasCost
    ? `if(countIf(isNotNull(${cost})) = 0, NULL, sumIf(${amount} - assumeNotNull(${cost}), isNotNull(${cost})))`
    : 'CAST(NULL AS Nullable(Decimal(38, 4)))';
  return `
      SELECT ${lineOwner(reading)} AS crm_customer, ${column(reading, 'is_return')} AS crm_return, min(${date}) AS crm_day,
             sum(${amount}) AS crm_amount, count() AS crm_lines, ${lineMargin} AS crm_margin
      FROM ${quoteIdentifier(reading.table)}
      WHERE ${date} <= {as_of:Date}
      GROUP BY crm_customer, ${orderId}, if(isNull(${orderId}), ${date}, toDate(0)), crm_return`;
}

/**
 * Purchase days on ClickHouse (the DuckDB chain's orders.ts + purchase-days.ts): one row per
 * customer, day and kind, with the orders, money, lines and margin of that day. `withMargin`
 * and a cost column: the day's margin (else NULL, as for lines without a cost). The inner level
 * of `clickhouseCustomerSums`.
 */
function clickhousePurchaseDays(reading: SourceReading, withMargin: boolean): string {
  return `
    SELECT crm_customer AS customer_id, crm_day AS day_date, crm_return AS is_return,
           count() AS day_orders, sum(crm_amount) AS day_amount, sum(crm_lines) AS day_lines,
           sum(crm_margin) AS day_margin
    FROM (${clickhouseOrders(reading, withMargin)}
    )
    GROUP BY crm_customer, crm_day, crm_return`;
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
export function clickhouseCustomerSums(reading: SourceReading): string {
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
  FROM (${clickhousePurchaseDays(reading, true)}
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
 * revenue. One grouping of the orders per customer (18.16 has no window functions, and one pass
 * needs no join): each customer's orders are collected in arrays — month, kind, amount — next to
 * the customer's cohort month (the month of the first purchase), and unfolded with ARRAY JOIN. A
 * customer is active in a month once: `arrayEnumerateUniq` over (month, kind) marks each month's
 * first purchase order; every order's amount (returns too) is that month's net revenue. Before,
 * the orders went through purchase days and customer-months first (two more groupings; the
 * same rows, test/models/relations/clickhouse-summary.test.ts).
 *
 * `narrow`: the run's money is narrow (absolute total < 10^14, money.ts), so an order's amount
 * travels in the arrays as exact Int64 units of 0.0001; else as text (18.16 crashes collecting
 * Decimal128 values with groupArray; the text is exact and is cast back after ARRAY JOIN).
 * Customers split by shard: the rows of several shards add up (the run sums them).
 */
export function clickhouseCohortActivity(reading: SourceReading, narrow: boolean): string {
  const [collect, revenue] = narrow
    ? ['toInt64(crm_amount * 10000)', 'toDecimal128(sum(order_amount), 4) / 10000']
    : ['toString(crm_amount)', 'sum(CAST(order_amount AS Decimal(38, 4)))'];
  return `
SELECT cohort_month, months_since, toInt64(sum(order_kind = 0 AND order_seen = 1)) AS active_customers, ${revenue} AS revenue
FROM (
  SELECT cohort_month, toInt64(dateDiff('month', cohort_month, order_month)) AS months_since, order_kind, order_seen, order_amount
  FROM (
    SELECT crm_customer,
           toStartOfMonth(minIf(crm_day, crm_return = 0)) AS cohort_month,
           countIf(crm_return = 0) AS purchase_orders,
           groupArray(toStartOfMonth(crm_day)) AS months,
           groupArray(crm_return) AS kinds,
           groupArray(${collect}) AS amounts,
           arrayEnumerateUniq(months, kinds) AS seen
    FROM (${clickhouseOrders(reading, false)}
    )
    GROUP BY crm_customer
    -- Customers with only returns are in no cohort.
    HAVING purchase_orders > 0
  )
  ARRAY JOIN months AS order_month, kinds AS order_kind, amounts AS order_amount, seen AS order_seen
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
export function clickhouseSourceExtent(reading: SourceReading): string {
  const [date, amount, cost] = [column(reading, 'order_date'), column(reading, 'amount'), column(reading, 'cost')];
  return `
SELECT toString(max(${date})) AS last_date,
       toString(minIf(${date}, ${date} <= {as_of:Date})) AS first_date,
       toInt64(countIf(${date} <= {as_of:Date})) AS lines,
       toFloat64(sumIf(abs(${amount}), ${date} <= {as_of:Date})${reading.hasCost ? ` + sumIf(abs(assumeNotNull(${cost})), ${date} <= {as_of:Date} AND isNotNull(${cost}))` : ''}) AS absolute_total
FROM ${quoteIdentifier(reading.table)}`;
}

/** The columns of `clickhouseRevenueLevels` with their DuckDB types (money: the run's money type), as temp.run_pareto_levels has them. */
export const CLICKHOUSE_REVENUE_LEVELS_COLUMNS = {
  net_revenue: 'money',
  revenue_rank: 'BIGINT',
  cumulative_share: 'DOUBLE',
  positive_total: 'DOUBLE',
  abc_class: 'VARCHAR',
} as const;

/**
 * The 80/20 levels (revenue-levels.ts: the rule, ranks and shares) computed where the lines are:
 * one row per distinct positive net revenue over the 80/20 window, so only the level table comes
 * back. The customers' window sums are grouped by level; the levels are collected in one array,
 * sorted largest first, and `arrayCumSum` gives the cumulative customers and revenue (18.16 has no
 * window functions). The revenue is summed in exact units of 0.0001 as Int64 — valid for the
 * run's narrow money (absolute total < 10^14, money.ts), the only width this runs for — and
 * becomes Float64 as DuckDB's DECIMAL(·, 4) → DOUBLE does (units / 10^4), so the shares and
 * the A/B/C cut are those of a local run bit for bit. The level itself travels as text (18.16
 * crashes collecting Decimal128 with groupArray). `windowed`: the 80/20 window starts at
 * {pareto_start:Date} (--since), else it is all history. Shares bound as {share:Float64},
 * {b_share:Float64}; as-of as {as_of:Date}.
 */
export function clickhouseRevenueLevels(reading: SourceReading, windowed: boolean): string {
  // Each customer with a purchase day and positive net revenue over the window has a level.
  // Without a window (no --since) that revenue is simply the sum of the customer's lines up to
  // as-of, and "a purchase day" is "a line that is not a return": one grouping of the lines
  // instead of orders → days → customers (the same values; the test compares every customer's
  // rank, share and class with a local run's, with and without --since). With a window, the
  // lines' orders decide which days count (an order is dated by its first line).
  const customers = windowed
    ? `
        SELECT customer_id,
               countIf(is_return = 0) AS purchase_day_count,
               sumIf(day_amount, day_date >= {pareto_start:Date}) AS pareto_sum,
               toInt64(pareto_sum * 10000) AS pareto_units
        FROM (${clickhousePurchaseDays(reading, false)}
        )
        GROUP BY customer_id
        HAVING purchase_day_count > 0 AND pareto_sum > 0`
    : `
        SELECT ${lineOwner(reading)} AS crm_customer,
               countIf(${column(reading, 'is_return')} = 0) AS purchase_lines,
               sum(${column(reading, 'amount')}) AS pareto_sum,
               toInt64(pareto_sum * 10000) AS pareto_units
        FROM ${quoteIdentifier(reading.table)}
        WHERE ${column(reading, 'order_date')} <= {as_of:Date}
        GROUP BY crm_customer
        HAVING purchase_lines > 0 AND pareto_sum > 0`;
  return `
SELECT level_text AS net_revenue,
       toInt64(cumulative_customers - level_customers + 1) AS revenue_rank,
       (toFloat64(cumulative_units) / 10000) / (toFloat64(total_units) / 10000) AS cumulative_share,
       toFloat64(total_units) / 10000 AS positive_total,
       -- The share of revenue of the customers with strictly more revenue decides the class.
       multiIf(share_before < {share:Float64}, 'A', share_before < {b_share:Float64}, 'B', 'C') AS abc_class
FROM (
  SELECT level_text, level_customers, cumulative_customers, cumulative_units, total_units,
         (toFloat64(cumulative_units - level_units) / 10000) / (toFloat64(total_units) / 10000) AS share_before
  FROM (
    SELECT arrayReverseSort(groupArray((units, customers, units_total, text))) AS sorted,
           arrayMap(l -> tupleElement(l, 4), sorted) AS texts,
           arrayMap(l -> tupleElement(l, 2), sorted) AS counts,
           arrayMap(l -> tupleElement(l, 3), sorted) AS totals,
           arrayCumSum(counts) AS cumulative_counts,
           arrayCumSum(totals) AS cumulative_totals,
           arraySum(totals) AS total_units
    FROM (
      -- One row per level: its customers and their revenue.
      SELECT pareto_units AS units, toInt64(count()) AS customers, toInt64(sum(pareto_units)) AS units_total, any(toString(pareto_sum)) AS text
      FROM (${customers}
      )
      GROUP BY units
    )
  )
  ARRAY JOIN texts AS level_text, counts AS level_customers, totals AS level_units,
             cumulative_counts AS cumulative_customers, cumulative_totals AS cumulative_units
)`;
}
