/**
 * `crm owners`: the account managers' books in the latest run — one line per owner with the key
 * accounts held, the accounts at risk, the revenue and lifetime value of the book, and what
 * changed since the previous run; plus the key accounts nobody owns and the owners holding more
 * key accounts than one person can look after (models.key_accounts.max_per_owner).
 *
 * One relation (`ownerBooks`) is the books' one home; `crm quality` reads its unowned row too.
 * Ownership is today's (`customer_owners`, the latest load wins) for both runs: "lost" and "new"
 * are changes in the accounts, not in who was assigned them.
 */
import type { Relation, RelationParams } from '../models/relation.js';
import type { Store } from '../store/db.js';
import { storeError } from '../util/errors.js';
import { formatCount, renderTable } from '../util/format.js';
import { maskEmailSql } from './pii.js';

type BookParam = 'run_id' | 'previous_run_id';

/**
 * One row per owner of the customers in `$run_id` or in customer_owners, and one row with a NULL
 * owner for the customers of the run nobody owns. A customer owned but not scored in the run
 * counts in `customers` only. With no `$previous_run_id` (the first run) the change columns are
 * NULL. An owner whose customers name several teams lists them all (`East, North`).
 */
/**
 * One row per customer of `$run_id` or of customer_owners: its owner (NULL: nobody), whether it is
 * a key account or at risk in `$run_id` and in `$previous_run_id`, and what changed (the one home
 * of "new key account", "became at risk" and "lost": the books count them, the digest lists them).
 */
export const BOOK_ACCOUNTS_SQL = `
WITH
latest AS (
  SELECT customer_id, is_key_account, at_risk, net_revenue, clv
  FROM customer_metrics WHERE run_id = CAST($run_id AS INTEGER)
),
previous AS (
  SELECT customer_id, is_key_account, at_risk
  FROM customer_metrics WHERE run_id = CAST($previous_run_id AS INTEGER)
),
book AS (
  SELECT customer_id, account_owner AS owner, team, owner_email FROM customer_owners
),
accounts AS (
  SELECT customer_id, b.owner, b.team, b.owner_email,
         coalesce(l.is_key_account, false) AS key_account,
         coalesce(l.at_risk, false) AS at_risk,
         l.net_revenue, l.clv,
         coalesce(p.is_key_account, false) AS was_key_account,
         coalesce(p.at_risk, false) AS was_at_risk
  FROM latest l
  FULL JOIN book b USING (customer_id)
  LEFT JOIN previous p USING (customer_id)
)
SELECT *,
       $previous_run_id IS NOT NULL AND key_account AND NOT was_key_account AS new_key_account,
       $previous_run_id IS NOT NULL AND at_risk AND NOT was_at_risk AS became_at_risk,
       $previous_run_id IS NOT NULL AND was_key_account AND NOT key_account AS lost_key_account
FROM accounts`;

/**
 * One row per owner of the customers in `$run_id` or in customer_owners, and one row with a NULL
 * owner for the customers of the run nobody owns. A customer owned but not scored in the run
 * counts in `customers` only. With no `$previous_run_id` (the first run) the change columns are
 * NULL. An owner whose customers name several teams lists them all (`East, North`); the same for
 * the owner's e-mail addresses (`owner_emails`, a list: masked one by one on screen).
 */
export const ownerBooks: Relation<BookParam> = {
  name: 'owner_books',
  grain: 'one row per account owner (and one, owner NULL, for the unowned customers of the run)',
  params: ['run_id', 'previous_run_id'],
  sql: `
WITH accounts AS (${BOOK_ACCOUNTS_SQL}
)
SELECT
  owner,
  string_agg(DISTINCT team, ', ' ORDER BY team) AS team,
  CAST(count(*) AS INTEGER) AS customers,
  CAST(count(*) FILTER (WHERE key_account) AS INTEGER) AS key_accounts,
  CAST(count(*) FILTER (WHERE at_risk) AS INTEGER) AS at_risk,
  CAST(round(coalesce(sum(net_revenue), 0), 2) AS DOUBLE) AS revenue,
  CAST(round(coalesce(sum(clv), 0), 2) AS DOUBLE) AS clv,
  CASE WHEN $previous_run_id IS NOT NULL THEN CAST(count(*) FILTER (WHERE new_key_account) AS INTEGER) END AS new_key_accounts,
  CASE WHEN $previous_run_id IS NOT NULL THEN CAST(count(*) FILTER (WHERE became_at_risk) AS INTEGER) END AS new_at_risk,
  CASE WHEN $previous_run_id IS NOT NULL THEN CAST(count(*) FILTER (WHERE lost_key_account) AS INTEGER) END AS lost,
  -- The book's key accounts, largest first: the unowned row's are the ones to assign.
  coalesce(list(customer_id ORDER BY net_revenue DESC NULLS LAST, customer_id) FILTER (WHERE key_account), []) AS key_account_ids,
  coalesce(list(DISTINCT owner_email ORDER BY owner_email) FILTER (WHERE owner_email IS NOT NULL), []) AS owner_emails
FROM accounts
GROUP BY owner`,
};

export interface OwnerBook {
  owner: string;
  team: string | null;
  customers: number;
  key_accounts: number;
  at_risk: number;
  revenue: number;
  clv: number;
  new_key_accounts: number | null;
  new_at_risk: number | null;
  lost: number | null;
  /** The owner's e-mail address(es), comma-separated; masked (l***@example.com) unless --show-pii. */
  owner_email: string | null;
}

export interface OverLimit {
  owner: string;
  key_accounts: number;
  max_per_owner: number;
}

export interface OwnersResult {
  run_id: number;
  owners: OwnerBook[];
  /** Key accounts of the run without an owner, largest revenue first. */
  unowned_key_accounts: string[];
  over_limit: OverLimit[];
}

export type BookRuns = RelationParams<BookParam> & { run_id: number; previous_run_id: number | null };

/** The latest run and the one before it (null: none); null when there is no run. */
export async function bookRuns(store: Store): Promise<BookRuns | null> {
  const runs = await store.all<{ run_id: number }>('SELECT run_id FROM runs ORDER BY run_id DESC LIMIT 2');
  return runs.length ? { run_id: runs[0].run_id, previous_run_id: runs[1]?.run_id ?? null } : null;
}

/** bookRuns, or a store error when there is no run. */
export async function latestRuns(store: Store): Promise<BookRuns> {
  const runs = await bookRuns(store);
  if (!runs) throw storeError('no model run yet: run `crm run` first', ['Key accounts and risk come from a run: `crm run` scores every customer.']);
  return runs;
}

type BookRow = OwnerBook & { owner: string | null; key_account_ids: string[] };

/**
 * The books of a run, as the relation gives them (the unowned row included), with the owner's
 * e-mail addresses joined into one text — each masked unless `showPii` (personal data on screen).
 */
export async function ownerBookRows(store: Store, params: RelationParams<BookParam>, { showPii = false } = {}): Promise<BookRow[]> {
  const email = showPii ? 'e' : maskEmailSql('e');
  return store.all<BookRow & Record<string, unknown>>(
    `SELECT * EXCLUDE (owner_emails), nullif(array_to_string(list_transform(owner_emails, lambda e: ${email}), ', '), '') AS owner_email
     FROM (${ownerBooks.sql}) ORDER BY owner IS NULL, key_accounts DESC, revenue DESC, owner`,
    params as Record<string, number | null>,
  );
}

/**
 * `crm owners`: the books of the latest run (`result`, the --json document) and the run the
 * changes are counted from (null: the first run); `maxPerOwner` is models.key_accounts.max_per_owner.
 */
export async function owners(store: Store, maxPerOwner: number, { showPii = false } = {}): Promise<{ result: OwnersResult; previousRunId: number | null }> {
  const runs = await latestRuns(store);
  const rows = await ownerBookRows(store, runs, { showPii });
  const books = rows.filter((r): r is BookRow & { owner: string } => r.owner !== null);
  const result: OwnersResult = {
    run_id: runs.run_id,
    owners: books.map(({ key_account_ids: _ids, ...book }) => book),
    unowned_key_accounts: rows.find((r) => r.owner === null)?.key_account_ids ?? [],
    over_limit: books.filter((b) => b.key_accounts > maxPerOwner).map((b) => ({ owner: b.owner, key_accounts: b.key_accounts, max_per_owner: maxPerOwner })),
  };
  return { result, previousRunId: runs.previous_run_id };
}

const MONEY = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
/** Unowned key account ids shown in the text output (all of them are in --json). */
const IDS_SHOWN = 10;

const change = (n: number | null) => (n === null ? '—' : String(n));

export function formatOwners(r: OwnersResult, previousRunId: number | null): string[] {
  const lines: string[] = [];
  if (!r.owners.length) {
    lines.push(`run ${r.run_id}: no customer has an account owner; load them with \`crm ingest owners FILE\``);
  } else {
    lines.push(
      `${formatCount(r.owners.length)} account owner${r.owners.length === 1 ? '' : 's'} in run ${r.run_id} (${previousRunId === null ? 'the first run: no changes to show' : `changes since run ${previousRunId}`})`,
      '',
      renderTable(
        ['owner', 'team', 'e-mail', 'customers', 'key accounts', 'at risk', 'revenue', 'CLV', 'new key', 'new at risk', 'lost'],
        r.owners.map((o) => [
          o.owner,
          o.team ?? '',
          o.owner_email ?? '',
          formatCount(o.customers),
          formatCount(o.key_accounts),
          formatCount(o.at_risk),
          MONEY.format(o.revenue),
          MONEY.format(o.clv),
          change(o.new_key_accounts),
          change(o.new_at_risk),
          change(o.lost),
        ]),
      ),
    );
  }
  const n = r.unowned_key_accounts.length;
  lines.push('');
  if (n === 0) lines.push('every key account has an owner');
  else {
    const shown = r.unowned_key_accounts.slice(0, IDS_SHOWN).join(', ');
    lines.push(`${formatCount(n)} key account${n === 1 ? ' has' : 's have'} no owner: ${shown}${n > IDS_SHOWN ? `, … (${formatCount(n - IDS_SHOWN)} more: --json lists all)` : ''}`);
  }
  for (const o of r.over_limit) {
    lines.push(`${o.owner} holds ${formatCount(o.key_accounts)} key accounts, more than ${formatCount(o.max_per_owner)} (models.key_accounts.max_per_owner)`);
  }
  return lines;
}
