/**
 * Purchase days: a customer's orders summed per day, purchases and returns apart. A customer's
 * purchase days (the days with a purchase order) are the BG/NBD's repeat-purchase events; the
 * return days carry the money and lines that are netted in. The customer base and the cohorts
 * both read this relation. Sums of money in the run's money type (money.ts).
 */
import type { Relation } from '../relation.js';
import { byMoneyWidth } from './money.js';

function purchaseDaysOf(money: string, costed: boolean): Relation<never> {
  return {
    name: 'run_purchase_days',
    grain: 'one row per customer, order date and kind (purchase or return)',
    params: [],
    sql: `
WITH customer_orders AS (
  SELECT customer_id, is_return, order_date, amount, lines, margin
  FROM run_orders
)
SELECT customer_id,
       order_date,
       is_return,
       CAST(count(*) AS INTEGER) AS orders,
       CAST(sum(amount) AS ${money}) AS amount,
       CAST(sum(lines) AS INTEGER) AS lines,
       ${costed ? `CAST(sum(margin) AS ${money}) AS margin` : `-- No line up to as-of has a cost (orders.ts ordersUncosted): no margin.
       CAST(NULL AS ${money}) AS margin`}
FROM customer_orders
GROUP BY customer_id, order_date, is_return`,
  };
}

export const purchaseDays = byMoneyWidth((money) => purchaseDaysOf(money, true));

/**
 * The purchase days when no line up to as-of has an order id (orders.ts `orderIds`): every order
 * is then one customer's lines of one day and kind (orders.ts), so the orders are already one per
 * customer, day and kind, and each such day is exactly one order — the grouping above would give
 * count 1 and sums of one value (the same DECIMAL, INTEGER, or NULL margin). The same rows and
 * types without the second grouping pass: on the 9.8M-line bench with its order ids removed,
 * 2.17–2.31 CPU-s against 3.73–4.05 (one thread, 3 alternated pairs, load ~8). Reads run_orders
 * in either money width and with or without costs (it sums nothing).
 */
export const purchaseDaysOfDailyOrders: Relation<never> = {
  name: 'run_purchase_days',
  grain: 'one row per customer, order date and kind (purchase or return)',
  params: [],
  sql: `
SELECT customer_id,
       order_date,
       is_return,
       -- One order per customer, day and kind: no order id to tell two apart.
       CAST(1 AS INTEGER) AS orders,
       amount,
       lines,
       margin
FROM run_orders`,
};
/** The purchase days over `ordersUncosted` (no line up to as-of has a cost): the margin is NULL. */
export const purchaseDaysUncosted = byMoneyWidth((money) => purchaseDaysOf(money, false));
