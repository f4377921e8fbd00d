/**
 * Orders: the transaction lines up to as-of grouped into purchase occasions. Lines sharing an
 * order id are one order (on however many days they were recorded); lines without an order id
 * form one order per customer and day. An order is dated by its first line. Returns are orders
 * of their own (`is_return`): they are netted into money but never count as purchases.
 *
 * `margin` sums amount − cost over the lines that carry a cost (a line without one adds
 * nothing), so it is NULL when none of the order's lines does: margin is only ever measured
 * where the cost is known.
 *
 * Sums of money are in the run's money type (narrow when nothing can overflow: money.ts). A line's
 * customer is the one whose history it is (merged-history.ts): an order of a merged duplicate is
 * its surviving id's.
 *
 * When no line up to as-of has a cost (money.ts `moneyScale` says so: `costed`), every margin is
 * NULL by the rule above, and the run reads `ordersUncosted`: the same text with the margin a
 * typed NULL instead of two sums per order (measured on the 9.8M-line bench, which has no costs:
 * the lines → orders → days statement took about a quarter less CPU).
 */
import { historyOwner } from './merged-history.js';
import type { Relation } from '../relation.js';
import { byMoneyWidth } from './money.js';

const owner = historyOwner('t');

function ordersOf(money: string, costed: boolean): Relation<'as_of'> {
  return {
  name: 'run_orders',
  grain: 'one row per customer order (order id, or customer and day for lines without one), purchases and returns apart',
  params: ['as_of'],
  sql: `
WITH order_lines AS (
  -- The customer whose history the line is (a merged duplicate's lines are its survivor's).
  SELECT ${owner.customerId} AS customer_id,
         t.order_id,
         t.order_date,
         t.is_return,
         t.amount,
         t.cost
  FROM transactions t ${owner.join}
  WHERE t.order_date <= CAST($as_of AS DATE)
)
SELECT customer_id,
       is_return,
       min(order_date) AS order_date,
       CAST(sum(amount) AS ${money}) AS amount,
       CAST(count(*) AS INTEGER) AS lines,
       ${
         costed
           ? `-- amount − cost over the costed lines, as two sums of stored columns (64-bit when DuckDB
       -- can bound them; NULL − NULL when no line has a cost).
       CAST(sum(amount) FILTER (WHERE cost IS NOT NULL) - sum(cost) AS ${money}) AS margin`
           : `-- No line up to as-of has a cost: no margin.
       CAST(NULL AS ${money}) AS margin`
       }
FROM order_lines
GROUP BY customer_id, order_id, CASE WHEN order_id IS NULL THEN order_date END, is_return`,
  };
}

export const orders = byMoneyWidth<'as_of'>((money) => ordersOf(money, true));

/**
 * One row: whether any line up to as-of has an order id (`identified`). Without one, every order
 * is one customer's lines of one day and kind by the rule above, so each purchase day holds exactly
 * one order and the run reads the days straight off the orders (purchase-days.ts
 * `purchaseDaysOfDailyOrders`): one grouping pass instead of two. EXISTS stops at the first line
 * with an id (6 ms on the 9.8M-line bench); a store without ids answers from the column's
 * statistics (3 ms).
 */
export const orderIds: Relation<'as_of'> = {
  name: 'run_order_ids',
  grain: 'one row: whether any line up to as-of has an order id',
  params: ['as_of'],
  sql: `
SELECT EXISTS (
  SELECT 1 FROM transactions
  WHERE order_id IS NOT NULL AND order_date <= CAST($as_of AS DATE)
) AS identified`,
};
/** The orders when no line up to as-of has a cost (`moneyScale`'s `costed` false): the margin is NULL. */
export const ordersUncosted = byMoneyWidth<'as_of'>((money) => ordersOf(money, false));
