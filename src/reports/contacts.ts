/**
 * One contact row per customer, as every list for people reads it (segment exports, the renewal
 * list): a customer loaded several times keeps the row of the most recent customer load (and,
 * within it, the last row), so a corrected export wins over the first one.
 */

/** Contact fields taken from `customers`, in file order. */
export const CONTACT_COLUMNS = ['name', 'email', 'phone', 'region', 'industry', 'account_owner'] as const;

/**
 * The latest contact row per customer of `customers`, narrowed to the customers `filter` keeps
 * (a condition on customer_id, e.g. `customer_id IN (SELECT customer_id FROM due)`, so that
 * millions of contacts are not ranked for a list of a few).
 */
export function latestContactsSql(filter = 'TRUE'): string {
  return `SELECT customer_id, ${CONTACT_COLUMNS.join(', ')}
    FROM customers
    WHERE ${filter}
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY load_id DESC, source_row DESC) = 1`;
}
