/**
 * The renewal-due list (`crm renewals`, `crm export renewals`): the contracts of the latest run
 * whose current period ends within a window after the run's as-of date — and those already past
 * their end but still in their grace period, which are due now — ordered by what is at stake.
 *
 * One relation (`renewalList`) is the list's one home: the command reads its rows and totals,
 * the export writes it through the export machinery (export.ts), so both show the same contracts
 * in the same order with the same reasons. It reads only `contract_latest` (written by `crm run`)
 * and `customers` (names and owners).
 */
import { materialize, type Relation, type RelationParams } from '../models/relation.js';
import type { Store } from '../store/db.js';
import { storeError, usageError } from '../util/errors.js';
import { formatCount, formatPercent, renderTable } from '../util/format.js';
import { latestContactsSql } from './contacts.js';
import { checkOwner } from './owner-filter.js';
import type { ExportOptions, ExportResult } from './export.js';
import { DEFAULT_LANG, renewalReasonSql, type Lang, type RenewalReasonCode } from './i18n.js';

/** `--within` when not given: contracts due in the next 30 days. */
export const DEFAULT_WITHIN_DAYS = 30;

/** Statuses on the list: in force at as-of (`active`), or ended but within the grace days (`in_grace`). */
export const DUE_STATUSES = ['active', 'in_grace'] as const;

/**
 * Which contracts of a run are up for renewal (a condition on contract_metrics rows): in force or
 * in grace, with a renewal date. How soon is the window's business: `days_until_due` below
 * (negative in grace: due now). The list and the report's renewals-due figures both use these.
 */
export const UP_FOR_RENEWAL_SQL = `status IN (${DUE_STATUSES.map((s) => `'${s}'`).join(', ')}) AND renewal_due IS NOT NULL`;
/** Days from the run's as-of date to the renewal date, as a column of contract_metrics rows. */
export const DAYS_UNTIL_DUE_SQL = `CAST(date_diff('day', as_of, renewal_due) AS INTEGER)`;

type ListParam = 'within_days' | 'owner' | 'lang';

/**
 * The list, one row per contract due: `$within_days` after each contract's as-of date (the run's),
 * `$owner` (NULL: every owner) matched exactly against the customer's account_owner, `$lang` the
 * language of the reason. Ordered (and ranked) by value at risk, highest first; contracts without
 * one (not modelled) last; then by premium. The reason's code says which sentence applies:
 * `plan` (the contract's plan has its own fit), `book` (scored by the whole-book fit),
 * `irregular` / `not_modelled` (no renewal probability); the words are in i18n.ts.
 */
export const renewalList: Relation<ListParam> = {
  name: 'renewal_list',
  grain: 'one row per contract of the latest run due for renewal within $within_days days of the run’s as-of date (or in grace)',
  params: ['within_days', 'owner', 'lang'],
  sql: `
WITH
due AS (
  SELECT customer_id, contract_id, plan, status, renewal_due, period_unit,
         ${DAYS_UNTIL_DUE_SQL} AS days_until_due,
         renewals, p_renew, premium, residual_value, value_at_risk, model_plan
  FROM contract_latest
  WHERE ${UP_FOR_RENEWAL_SQL}
    -- in grace: renewal_due is already past, so they are always due (the window has no lower end)
    AND ${DAYS_UNTIL_DUE_SQL} <= CAST($within_days AS INTEGER)
),
contacts AS (
  ${latestContactsSql('customer_id IN (SELECT customer_id FROM due)')}
),
listed AS (
  SELECT d.*, c.name, c.email, c.phone, c.account_owner,
         CASE WHEN d.p_renew IS NULL THEN CASE WHEN d.period_unit = 'irregular' THEN 'irregular' ELSE 'not_modelled' END
              WHEN d.model_plan IS NULL THEN 'book'
              ELSE 'plan' END AS reason_code
  FROM due d LEFT JOIN contacts c USING (customer_id)
  WHERE CAST($owner AS VARCHAR) IS NULL OR c.account_owner = CAST($owner AS VARCHAR)
)
SELECT
  CAST(row_number() OVER (ORDER BY value_at_risk DESC NULLS LAST, premium DESC, contract_id, customer_id) AS INTEGER) AS rank,
  customer_id, name, email, phone, account_owner, contract_id, plan, status, renewal_due, days_until_due, renewals,
  p_renew, premium, residual_value, value_at_risk, reason_code,
  -- Under the sBG a contract that survived n renewals renews with (β+n)/(α+β+n) (Fader & Hardie
  -- 2007, eq. 5 shifted by n): its p_renew, which is also the plan's retention rate at its
  -- (n+1)th renewal, so 1 − p_renew is the share of the plan's customers who leave there.
  ${renewalReasonSql('reason_code', 'CAST($lang AS VARCHAR)', 'renewals + 1', '1 - p_renew')} AS reason
FROM listed
ORDER BY rank`,
};

/** The list's columns the command shows (the export has them all, with e-mail and phone). */
export const RENEWAL_COLUMNS = [
  'rank',
  'customer_id',
  'name',
  'account_owner',
  'contract_id',
  'plan',
  'status',
  'renewal_due',
  'days_until_due',
  'renewals',
  'p_renew',
  'premium',
  'residual_value',
  'value_at_risk',
  'reason_code',
  'reason',
] as const;

export interface RenewalRow {
  rank: number;
  customer_id: string;
  name: string | null;
  account_owner: string | null;
  contract_id: string;
  plan: string | null;
  status: (typeof DUE_STATUSES)[number];
  renewal_due: string;
  days_until_due: number;
  renewals: number;
  p_renew: number | null;
  premium: number;
  residual_value: number | null;
  value_at_risk: number | null;
  reason_code: RenewalReasonCode;
  reason: string;
}

export interface RenewalsOptions {
  /** Days after as-of (default 30). */
  withinDays?: number;
  /** Only the contracts of customers whose account_owner is exactly this. */
  owner?: string;
  /** The language of the reasons (default English). */
  lang?: Lang;
}

/** The run the list is drawn from and the window. */
export interface RenewalScope {
  run_id: number;
  as_of: string;
  within_days: number;
  /** The window's last day: as_of + within_days. */
  window_end: string;
  owner: string | null;
}

export interface RenewalTotals {
  /** Contracts due (in grace included). */
  contracts: number;
  in_grace: number;
  /** Σ premium of the contracts due: what renews if all renew. */
  premium_due: number;
  /** Σ value_at_risk (residual value × (1 − p_renew)) of the modelled contracts due. */
  value_at_risk: number;
  /** Contracts due without a renewal probability (no value at risk). */
  not_modelled: number;
}

export interface RenewalsResult extends RenewalScope, RenewalTotals {
  lang: Lang;
  renewals: RenewalRow[];
}

/**
 * The latest run, checked to hold contracts, and the owner checked to exist. No run yet and a
 * run without contracts are store errors (exit 4: `crm run`, `crm ingest contracts` first); an
 * owner no customer has is an input error (exit 3), naming the owners there are when few.
 */
export async function renewalScope(store: Store, opts: RenewalsOptions): Promise<RenewalScope> {
  const withinDays = opts.withinDays ?? DEFAULT_WITHIN_DAYS;
  if (!Number.isInteger(withinDays) || withinDays < 0) throw usageError(`--within ${withinDays}: give a whole number of days, 0 or more`);
  const run = await store.one<{ run_id: number; as_of: string; window_end: string; contracts: number }>(
    `SELECT run_id, CAST(as_of AS VARCHAR) AS as_of, CAST(as_of + CAST($within_days AS INTEGER) AS VARCHAR) AS window_end,
            (SELECT count(*) FROM contract_metrics m WHERE m.run_id = r.run_id) AS contracts
     FROM runs r ORDER BY run_id DESC LIMIT 1`,
    { within_days: withinDays },
  );
  if (!run) {
    throw storeError('no model run yet: run `crm run` first', ['The renewal list comes from a run: `crm run` scores every contract as of a date.']);
  }
  if (!run.contracts) {
    throw storeError(`run ${run.run_id} (as of ${run.as_of}) has no contracts`, [
      'Load policies, plans or subscriptions with `crm ingest contracts FILE…`, then `crm run`.',
    ]);
  }
  const owner = opts.owner ?? null;
  if (owner !== null) await checkOwner(store, owner);
  return { run_id: run.run_id, as_of: run.as_of, within_days: withinDays, window_end: run.window_end, owner };
}

function listParams(scope: RenewalScope, lang: Lang): RelationParams<ListParam> {
  return { within_days: scope.within_days, owner: scope.owner, lang };
}

/** Materialise the list as the temporary table `renewal_list` (temporary: works on a read-only store). */
async function buildList(store: Store, scope: RenewalScope, lang: Lang): Promise<void> {
  await materialize(store, renewalList, listParams(scope, lang));
}

const TOTALS_SQL = `
SELECT count(*) AS contracts,
       count(*) FILTER (WHERE status = 'in_grace') AS in_grace,
       coalesce(sum(premium), 0) AS premium_due,
       coalesce(sum(value_at_risk), 0) AS value_at_risk,
       count(*) FILTER (WHERE p_renew IS NULL) AS not_modelled
FROM ${renewalList.name}`;

/** `crm renewals`: the list and its totals. */
export async function renewals(store: Store, opts: RenewalsOptions = {}): Promise<RenewalsResult> {
  const lang = opts.lang ?? DEFAULT_LANG;
  const scope = await renewalScope(store, opts);
  await buildList(store, scope, lang);
  const columns = RENEWAL_COLUMNS.map((c) => (c === 'renewal_due' ? 'CAST(renewal_due AS VARCHAR) AS renewal_due' : c));
  const rows = await store.all<RenewalRow & Record<string, unknown>>(`SELECT ${columns.join(', ')} FROM ${renewalList.name} ORDER BY rank`);
  const totals = (await store.one<RenewalTotals & Record<string, unknown>>(TOTALS_SQL))!;
  return { ...scope, lang, ...totals, renewals: rows };
}

/**
 * `crm export renewals`: the same list, with e-mail and phone for calling (masked with
 * --mask-pii), written by the export machinery like a segment.
 */
export async function exportRenewals(store: Store, opts: ExportOptions & RenewalsOptions): Promise<ExportResult & { scope: RenewalScope; customers: number }> {
  const { exportQuery } = await import('./export.js');
  const lang = opts.lang ?? DEFAULT_LANG;
  const scope = await renewalScope(store, opts);
  await buildList(store, scope, lang);
  const result = await exportQuery(store, `SELECT * FROM ${renewalList.name} ORDER BY rank`, { ...opts, sheetName: opts.sheetName ?? 'Renewals' });
  // A customer may hold several contracts due: the audit counts people, not rows.
  const customers = Number((await store.value<number>(`SELECT count(DISTINCT customer_id) FROM ${renewalList.name}`)) ?? 0);
  return { ...result, scope, customers };
}

// ---------------------------------------------------------------------------------------
// Text output

/** One formatter for every amount: Number.toLocaleString builds a new one per call (seconds for a long list). */
const MONEY = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const money = (x: number | null) => (x === null ? '—' : MONEY.format(x));
/** The headline: how many are due, by when, from which run. */
function headline(r: RenewalsResult): string {
  const who = r.owner === null ? '' : ` for ${r.owner}`;
  const window = `by ${r.window_end} (within ${r.within_days} days of ${r.as_of}, run ${r.run_id})`;
  if (r.contracts === 0) return `no contract due for renewal${who} ${window}`;
  const grace = r.in_grace > 0 ? `; ${formatCount(r.in_grace)} already ended and in grace` : '';
  return `${formatCount(r.contracts)} contract${r.contracts === 1 ? '' : 's'} due for renewal${who} ${window}${grace}`;
}

export function formatRenewals(r: RenewalsResult): string[] {
  const lines = [headline(r)];
  if (r.contracts === 0) return lines;
  lines.push(
    '',
    renderTable(
      ['#', 'customer', 'name', 'owner', 'contract', 'plan', 'due', 'days', 'status', 'renewals', 'p(renew)', 'premium', 'residual value', 'value at risk', 'reason'],
      r.renewals.map((x) => [
        String(x.rank),
        x.customer_id,
        x.name ?? '',
        x.account_owner ?? '',
        x.contract_id,
        x.plan ?? '',
        x.renewal_due,
        String(x.days_until_due),
        x.status === 'in_grace' ? 'in grace' : x.status,
        String(x.renewals),
        x.p_renew === null ? '—' : formatPercent(x.p_renew, 0),
        money(x.premium),
        money(x.residual_value),
        money(x.value_at_risk),
        x.reason,
      ]),
      { maxCellWidth: 90 },
    ),
    '',
    `total: ${formatCount(r.contracts)} contract${r.contracts === 1 ? '' : 's'} due, premium due ${money(r.premium_due)}, value at risk ${money(r.value_at_risk)}` +
      (r.not_modelled > 0 ? ` (${formatCount(r.not_modelled)} not modelled: no value at risk)` : ''),
  );
  return lines;
}
