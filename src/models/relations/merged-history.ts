/**
 * Whose history a stored line is: the run scores each surviving id with its duplicates' history.
 * A transaction line or contract period keeps the customer id its file gave; the merges in effect
 * (the `customer_merges` view, store/schema.ts migration 11: one duplicate → one surviving id that
 * is no duplicate itself, no chains) say which customer it belongs to. Every relation of the run
 * that groups lines by customer reads the id through `historyOwner` — orders (orders.ts), the
 * backtest's holdout purchases (backtest.ts) and the contracts' policyholder (contract-spells.ts) —
 * so frequency, money, RFM, the purchase models, CLV, 80/20 key accounts and contract values are
 * all computed on the merged history, and a merged-away id has no row of its own in
 * customer_metrics ("every customer once": the person is the survivor's row).
 *
 * Undoing a merge (crm merges undo) removes it from customer_merges; the next run scores both ids
 * apart again. Nothing stored is rewritten: a merge changes only what the run reads.
 *
 * Cost: a LEFT JOIN on the customer id against customer_merges, built from the (small) merges
 * table; with no merge the build side is empty and the join passes the lines through.
 */

/** The SQL that reads `alias`'s customer id as the id of the customer whose history the line is. */
export interface HistoryOwner {
  /** A LEFT JOIN to add after `FROM <table> <alias>`. */
  join: string;
  /** The owning customer's id: the surviving id of a merged duplicate, else the line's own id. */
  customerId: string;
}

export function historyOwner(alias: string): HistoryOwner {
  const merge = `merge_of_${alias}`;
  return {
    join: `LEFT JOIN customer_merges ${merge} ON ${merge}.duplicate_id = ${alias}.customer_id`,
    customerId: `coalesce(${merge}.surviving_id, ${alias}.customer_id)`,
  };
}
