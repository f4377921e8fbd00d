/**
 * `crm owners assign`: a proposal of owners for the key accounts of the latest run that nobody
 * owns, written as an owners file (`crm ingest owners` reads it) for a person to review — the
 * store is never changed here. Existing assignments are kept: only unowned key accounts are
 * proposed, and an owner's present book counts towards their limit.
 *
 * The rule (greedy, deterministic): the unowned key accounts, largest net revenue first (ties by
 * id), each go to an owner with room (fewer than `max` key accounts, counting what was proposed
 * before it) — an owner whose book is mostly in the account's region first, else one whose book
 * is mostly in its industry, else any; among those the owner with the lowest book revenue (the
 * revenue `crm owners` shows, plus what was proposed), then the fewest key accounts, then the name.
 * Largest-first to the lightest book is the classic LPT heuristic for balancing loads (Graham
 * 1969, "Bounds on multiprocessing timing anomalies"), here within the region/industry preference.
 *
 * Where the work happens: the books (owner_books), the owners' main region and industry, and the
 * unowned accounts are read set-based in SQL; the loop runs in TS over that compressed input —
 * the unowned key accounts of one run (key accounts are ~20% of customers by the 80/20 rule;
 * thousands at most) and the owners (tens to hundreds). Each pick depends on every pick before
 * it, which a set-based statement cannot express without a recursive query over all orders.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { literal, type Store } from '../store/db.js';
import { inputError } from '../util/errors.js';
import { formatCount, renderTable } from '../util/format.js';
import { writeAtomically } from './atomic-file.js';
import { latestContactsSql } from './contacts.js';
import { latestRuns, ownerBookRows } from './owners.js';
import { maskEmailSql } from './pii.js';

/** An unowned key account of the run, with what the preference reads. */
export interface UnownedAccount {
  customer_id: string;
  net_revenue: number;
  region: string | null;
  industry: string | null;
}

/** An owner as the assignment sees them: the book now, and where it mostly is. */
export interface OwnerRoom {
  owner: string;
  team: string | null;
  owner_email: string | null;
  key_accounts: number;
  revenue: number;
  /** The region most of the owner's customers are in (ties: first by name); null when none is known. */
  main_region: string | null;
  main_industry: string | null;
}

export type MatchBasis = 'region' | 'industry' | 'none';

export interface ProposedOwner {
  customer_id: string;
  account_owner: string;
  team: string | null;
  owner_email: string | null;
  /** Why this owner, in words (the file's `reason` column). */
  reason: string;
  basis: MatchBasis;
  /** The owner's book when this account was placed (earlier proposals included). */
  book_revenue_before: number;
  book_key_accounts_before: number;
  net_revenue: number;
  region: string | null;
  industry: string | null;
}

export interface Proposal {
  proposals: ProposedOwner[];
  /** Unowned key accounts left without a proposal: no owner had room. */
  unassigned: string[];
  /** The smallest --max that would give every unowned key account an owner (null: none needed or no owners). */
  suggested_max: number | null;
}

const MONEY = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** How well an owner fits an account: 2 same main region, 1 same main industry, 0 neither. */
function fit(account: UnownedAccount, owner: OwnerRoom): number {
  if (account.region !== null && account.region === owner.main_region) return 2;
  if (account.industry !== null && account.industry === owner.main_industry) return 1;
  return 0;
}

/** Plain comparison (not localeCompare): the same order on every machine. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The proposal for `accounts` (any order: sorted here, largest revenue first, then id) over
 * `owners` with at most `max` key accounts each. Pure: the same input gives the same output.
 */
export function proposeOwners(accounts: readonly UnownedAccount[], owners: readonly OwnerRoom[], max: number): Proposal {
  const books = owners.map((o) => ({ ...o })).sort((a, b) => byText(a.owner, b.owner));
  const ordered = [...accounts].sort((a, b) => b.net_revenue - a.net_revenue || byText(a.customer_id, b.customer_id));
  const proposals: ProposedOwner[] = [];
  const unassigned: string[] = [];
  for (const account of ordered) {
    const room = books.filter((b) => b.key_accounts < max);
    if (room.length === 0) {
      unassigned.push(account.customer_id);
      continue;
    }
    const bestFit = Math.max(...room.map((b) => fit(account, b)));
    const candidates = room.filter((b) => fit(account, b) === bestFit);
    const chosen = candidates.reduce((best, b) =>
      b.revenue < best.revenue || (b.revenue === best.revenue && b.key_accounts < best.key_accounts) ? b : best,
    );
    const basis: MatchBasis = bestFit === 2 ? 'region' : bestFit === 1 ? 'industry' : 'none';
    proposals.push({
      customer_id: account.customer_id,
      account_owner: chosen.owner,
      team: chosen.team,
      owner_email: chosen.owner_email,
      reason: reasonFor(basis, account, chosen, candidates.length, max),
      basis,
      book_revenue_before: chosen.revenue,
      book_key_accounts_before: chosen.key_accounts,
      net_revenue: account.net_revenue,
      region: account.region,
      industry: account.industry,
    });
    chosen.key_accounts += 1;
    chosen.revenue += account.net_revenue;
  }
  return { proposals, unassigned, suggested_max: unassigned.length ? suggestMax(owners, accounts.length, max) : null };
}

function reasonFor(basis: MatchBasis, account: UnownedAccount, chosen: OwnerRoom, candidates: number, max: number): string {
  const where =
    basis === 'region' ? `same region (${account.region})` : basis === 'industry' ? `same industry (${account.industry})` : 'no owner with room shares its region or industry';
  const among = candidates === 1 ? `the only owner with room${basis === 'none' ? '' : ' there'}` : `lightest book of ${candidates} owners with room${basis === 'none' ? '' : ' there'}`;
  // The book as it stood when this account was placed (earlier proposals included).
  return `${where}; ${among} (book: ${MONEY.format(chosen.revenue)} revenue, ${chosen.key_accounts}/${max} key accounts)`;
}

/**
 * The smallest limit at or above `max` with room for `count` more key accounts across `owners`
 * (their books as they are now); null without owners.
 */
export function suggestMax(owners: readonly OwnerRoom[], count: number, max: number): number | null {
  if (owners.length === 0) return null;
  const roomAt = (m: number) => owners.reduce((sum, o) => sum + Math.max(0, m - o.key_accounts), 0);
  let m = max;
  while (roomAt(m) < count) m += 1; // at most count / owners.length steps past the largest book
  return m;
}

// ---------------------------------------------------------------------------------------
// Reading the inputs (SQL) and writing the proposal

/** The main region and industry of each owner's customers, the owner's team and e-mail (the latest load's, non-empty first). */
const OWNER_PROFILE_SQL = `
WITH owned AS (
  SELECT o.customer_id, o.account_owner AS owner, o.team, o.owner_email, o.load_id, c.region, c.industry
  FROM customer_owners o
  LEFT JOIN (${latestContactsSql('customer_id IN (SELECT customer_id FROM customer_owners)')}) c USING (customer_id)
),
regions AS (SELECT owner, region, count(*) AS n FROM owned WHERE region IS NOT NULL GROUP BY ALL),
industries AS (SELECT owner, industry, count(*) AS n FROM owned WHERE industry IS NOT NULL GROUP BY ALL)
SELECT owner,
       first(team ORDER BY team IS NULL, load_id DESC, customer_id) AS team,
       first(owner_email ORDER BY owner_email IS NULL, load_id DESC, customer_id) AS owner_email,
       (SELECT first(region ORDER BY n DESC, region) FROM regions r WHERE r.owner = owned.owner) AS main_region,
       (SELECT first(industry ORDER BY n DESC, industry) FROM industries i WHERE i.owner = owned.owner) AS main_industry
FROM owned
GROUP BY owner
ORDER BY owner`;

/** The key accounts of the run with no row in customer_owners (owner_books' unowned key accounts), with region and industry. */
const UNOWNED_SQL = `
WITH unowned AS (
  SELECT customer_id, net_revenue FROM customer_metrics
  WHERE run_id = CAST($run_id AS INTEGER) AND is_key_account
    AND customer_id NOT IN (SELECT customer_id FROM customer_owners)
)
SELECT u.customer_id, u.net_revenue, c.region, c.industry
FROM unowned u LEFT JOIN (${latestContactsSql('customer_id IN (SELECT customer_id FROM unowned)')}) c USING (customer_id)
ORDER BY u.net_revenue DESC, u.customer_id`;

/** The owners file's columns: those `crm ingest owners` reads, then `reason` (kept in the load's attributes). */
export const PROPOSAL_COLUMNS = ['customer_id', 'account_owner', 'team', 'owner_email', 'reason'] as const;

/** Where the proposal goes when --out is not given. */
export const DEFAULT_PROPOSAL_FILE = 'out/owners-proposal.csv';

export interface AssignOptions {
  /** Most key accounts per owner (default models.key_accounts.max_per_owner). */
  max: number;
  /** The file to write; null: do not write (--dry-run). */
  out: string | null;
  force?: boolean;
}

export interface AssignResult extends Proposal {
  run_id: number;
  max_per_owner: number;
  unowned_key_accounts: number;
  owners: number;
  /** The file written (null with --dry-run or when there is nothing to propose). */
  path: string | null;
  bytes: number | null;
}

/** Read the books and the unowned key accounts of the latest run (set-based). */
export async function assignmentInputs(store: Store): Promise<{ run_id: number; accounts: UnownedAccount[]; owners: OwnerRoom[] }> {
  const runs = await latestRuns(store);
  const books = new Map((await ownerBookRows(store, runs)).filter((b) => b.owner !== null).map((b) => [b.owner, b]));
  const profiles = await store.all<Omit<OwnerRoom, 'key_accounts' | 'revenue'> & Record<string, unknown>>(OWNER_PROFILE_SQL);
  const owners = profiles.map((p) => ({ ...p, key_accounts: books.get(p.owner)?.key_accounts ?? 0, revenue: books.get(p.owner)?.revenue ?? 0 }));
  const accounts = await store.all<UnownedAccount & Record<string, unknown>>(UNOWNED_SQL, { run_id: runs.run_id });
  return { run_id: runs.run_id, accounts, owners };
}

/** `crm owners assign`: the proposal, written to `opts.out` unless it is null. */
export async function assignOwners(store: Store, opts: AssignOptions): Promise<AssignResult> {
  const { run_id, accounts, owners } = await assignmentInputs(store);
  if (owners.length === 0) {
    throw inputError('no customer has an account owner: there is nobody to propose', [
      'Load the account managers first: `crm ingest owners FILE` (customer_id, account_owner, team, owner_email) for a few of their accounts.',
    ]);
  }
  const proposal = proposeOwners(accounts, owners, opts.max);
  let written: { path: string; bytes: number } | null = null;
  if (opts.out !== null && proposal.proposals.length > 0) {
    const target = path.resolve(opts.out);
    const { bytes } = await writeAtomically(target, { force: opts.force }, (tmp) => fs.writeFile(tmp, proposalCsv(proposal.proposals), 'utf8'));
    written = { path: target, bytes };
  }
  return {
    run_id,
    max_per_owner: opts.max,
    unowned_key_accounts: accounts.length,
    owners: owners.length,
    ...proposal,
    path: written?.path ?? null,
    bytes: written?.bytes ?? null,
  };
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. Values stay exact, for `crm ingest owners`. */
function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The proposal as an owners file. */
export function proposalCsv(rows: readonly ProposedOwner[]): string {
  const lines = [PROPOSAL_COLUMNS.join(',')];
  for (const r of rows) lines.push(PROPOSAL_COLUMNS.map((c) => csvField(r[c])).join(','));
  return lines.join('\n') + '\n';
}

export function formatAssign(r: AssignResult): string[] {
  const lines: string[] = [];
  if (r.unowned_key_accounts === 0) {
    lines.push(`run ${r.run_id}: every key account has an owner; nothing to propose`);
    return lines;
  }
  lines.push(
    `run ${r.run_id}: ${formatCount(r.unowned_key_accounts)} key account${r.unowned_key_accounts === 1 ? '' : 's'} without an owner; ${formatCount(r.proposals.length)} proposed across ${formatCount(r.owners)} owners (at most ${r.max_per_owner} key accounts each)`,
  );
  if (r.proposals.length) {
    lines.push(
      '',
      renderTable(
        ['customer', 'revenue', 'region', 'industry', 'proposed owner', 'team', 'same', 'book before', 'key accounts'],
        r.proposals.map((p) => [
          p.customer_id,
          MONEY.format(p.net_revenue),
          p.region ?? '',
          p.industry ?? '',
          p.account_owner,
          p.team ?? '',
          p.basis === 'none' ? '—' : p.basis,
          MONEY.format(p.book_revenue_before),
          `${p.book_key_accounts_before} → ${p.book_key_accounts_before + 1} of ${r.max_per_owner}`,
        ]),
      ),
    );
  }
  if (r.unassigned.length) {
    lines.push(
      '',
      `${formatCount(r.unassigned.length)} key account${r.unassigned.length === 1 ? ' stays' : 's stay'} unowned: no owner has room for more than ${r.max_per_owner}` +
        (r.suggested_max === null ? '' : `; --max ${r.suggested_max} would give every one an owner`),
    );
  }
  lines.push('', "same: the owner's book is mostly in the account's region (or industry); the file's reason column says why in words");
  if (r.path) lines.push(`proposal written to ${r.path}: review it, then load it with: crm ingest owners ${JSON.stringify(r.path)}`);
  else if (r.proposals.length) lines.push('dry run: nothing written (leave out --dry-run to write the owners file)');
  return lines;
}

/** The result as shown on screen: the owners' e-mail addresses masked (pii.ts's rule, in SQL). */
export async function maskProposalEmails(store: Store, r: AssignResult): Promise<AssignResult> {
  const emails = [...new Set(r.proposals.map((p) => p.owner_email).filter((e): e is string => e !== null))];
  if (emails.length === 0) return r;
  const rows = await store.all<{ e: string; masked: string }>(
    `SELECT e, ${maskEmailSql('e')} AS masked FROM (VALUES ${emails.map((e) => `(${literal(e)})`).join(', ')}) t(e)`,
  );
  const masked = new Map(rows.map((x) => [x.e, x.masked]));
  return { ...r, proposals: r.proposals.map((p) => ({ ...p, owner_email: p.owner_email === null ? null : (masked.get(p.owner_email) ?? '***') })) };
}
