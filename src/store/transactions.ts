/**
 * Where transaction lines are stored (migration 28). Readers use the `transactions` view; the
 * code that adds or removes lines names the tables under it:
 * - `transactions_narrow`: loads that give only the core columns (a typical four-column export);
 * - `transactions_wide`: every other load, with all the columns (and every line of a store
 *   from before migration 28).
 * Each load's lines are in exactly one of them.
 */

export const NARROW_TABLE = 'transactions_narrow';
export const WIDE_TABLE = 'transactions_wide';
/** The tables under the `transactions` view: a writer that deletes lines deletes from both. */
export const TRANSACTION_TABLES = [NARROW_TABLE, WIDE_TABLE] as const;

/** The data columns transactions_narrow keeps (besides load_id, source_file and source_row). */
export const NARROW_COLUMNS = ['customer_id', 'order_id', 'order_date', 'order_ts', 'amount', 'is_return'] as const;
/** The fields a load must leave unmapped to go to transactions_narrow (the view shows NULL for them). */
export const WIDE_ONLY_FIELDS = ['quantity', 'unit_price', 'cost', 'product', 'category', 'channel', 'region'] as const;
/** The columns of transactions_wide that transactions_narrow has not (besides source_sheet), with their types. */
export const WIDE_ONLY_COLUMNS: Readonly<Record<string, string>> = {
  quantity: 'DECIMAL(18,4)',
  unit_price: 'DECIMAL(18,4)',
  cost: 'DECIMAL(18,4)',
  product: 'VARCHAR',
  category: 'VARCHAR',
  channel: 'VARCHAR',
  region: 'VARCHAR',
  attributes: 'JSON',
};

/**
 * The table a load of transactions goes to: narrow when nothing it could store is missing
 * there — none of the wide-only fields mapped, no unmapped columns (they would fill
 * `attributes`) and no sheet (`source_sheet`).
 */
export function transactionTableFor(mapping: Record<string, string | undefined>, unmapped: readonly string[], sheet: string | null): string {
  const narrow = sheet === null && unmapped.length === 0 && WIDE_ONLY_FIELDS.every((f) => !mapping[f]);
  return narrow ? NARROW_TABLE : WIDE_TABLE;
}
