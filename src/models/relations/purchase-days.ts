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
/** The purchase days over `ordersUncosted` (no line up to as-of has a cost): the margin is NULL. */
export const purchaseDaysUncosted = byMoneyWidth((money) => purchaseDaysOf(money, false));
