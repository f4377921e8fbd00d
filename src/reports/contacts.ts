/**
 * One contact row per customer, as every list for people reads it (segment exports, the renewal
 * list): a customer loaded several times keeps the row of the most recent customer load (and,
 * within it, the last row), so a corrected export wins over the first one. The owner is the one
 * in effect (the `customer_owners` view: the latest customers or owners load that names one), so
 * a customer named only by an owners file is listed too, with no contact data.
 */

/** Contact fields, in file order: `account_owner` from customer_owners, the others from `customers`. */
export const CONTACT_COLUMNS = ['name', 'email', 'phone', 'region', 'industry', 'account_owner'] as const;

/**
 * The latest contact row per customer, narrowed to the customers `filter` keeps (a condition on
 * customer_id only, e.g. `customer_id IN (SELECT customer_id FROM due)`, so that millions of
 * contacts are not ranked for a list of a few).
 */
export function latestContactsSql(filter = 'TRUE'): string {
  return `SELECT customer_id, c.name, c.email, c.phone, c.region, c.industry, o.account_owner
    FROM (
      SELECT customer_id, name, email, phone, region, industry
      FROM customers
      WHERE ${filter}
      QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY load_id DESC, source_row DESC) = 1
    ) c
    FULL JOIN (SELECT customer_id, account_owner FROM customer_owners WHERE ${filter}) o USING (customer_id)`;
}
