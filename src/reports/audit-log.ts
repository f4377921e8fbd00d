/**
 * `crm audit`: the audit trail (table `audit`, written only by store/audit.ts), newest first,
 * filtered by date, actor and command. It reads the store read-only and is not audited itself:
 * the rows hold who handed out how many customers, never the customers' data.
 */
import type { Store } from '../store/db.js';
import { formatCount, renderTable } from '../util/format.js';

export interface AuditFilter {
  /** Rows logged on or after this day (UTC, YYYY-MM-DD). */
  since?: string;
  actor?: string;
  command?: string;
  limit?: number;
}

export const DEFAULT_AUDIT_LIMIT = 50;

/** One audit row as `crm audit --json` gives it (stable keys, in this order). */
export interface AuditRow {
  audit_id: number;
  logged_at: string;
  command: string;
  actor: string;
  actor_source: string;
  what: string;
  path: string | null;
  run_id: number | null;
  customers: number;
  rows: number | null;
  masked: boolean;
  details: Record<string, unknown> | null;
}

export interface AuditListing {
  /** Rows matching the filter (all of them; `entries` holds at most `limit`). */
  total: number;
  limit: number;
  entries: AuditRow[];
}

export async function listAudit(store: Store, filter: AuditFilter = {}): Promise<AuditListing> {
  const limit = filter.limit ?? DEFAULT_AUDIT_LIMIT;
  const where = `($since IS NULL OR logged_at >= CAST($since AS DATE))
    AND ($actor IS NULL OR actor = $actor)
    AND ($command IS NULL OR command = $command)`;
  const params = { since: filter.since ?? null, actor: filter.actor ?? null, command: filter.command ?? null };
  const total = Number((await store.value<number>(`SELECT count(*) FROM audit WHERE ${where}`, params)) ?? 0);
  const rows = await store.all<Omit<AuditRow, 'details'> & { details: string | null }>(
    `SELECT audit_id, strftime(logged_at, '%Y-%m-%d %H:%M:%S') AS logged_at, command, actor, actor_source, what, path,
            run_id, customers, rows, masked, CAST(details AS VARCHAR) AS details
     FROM audit WHERE ${where}
     ORDER BY audit_id DESC LIMIT ${Number(limit)}`,
    params,
  );
  const entries = rows.map((r) => ({
    ...r,
    audit_id: Number(r.audit_id),
    customers: Number(r.customers),
    rows: r.rows === null ? null : Number(r.rows),
    details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>),
  }));
  return { total, limit, entries };
}

export function formatAudit(listing: AuditListing): string[] {
  if (listing.total === 0) return ['no audit rows match'];
  const table = renderTable(
    ['#', 'logged (UTC)', 'command', 'actor', 'what', 'customers', 'rows', 'masked', 'path'],
    listing.entries.map((e) => [
      String(e.audit_id),
      e.logged_at,
      e.command,
      e.actor_source === 'os' ? e.actor : `${e.actor} (${e.actor_source})`,
      e.what,
      formatCount(e.customers),
      e.rows === null ? '' : formatCount(e.rows),
      e.masked ? 'yes' : 'no',
      e.path ?? '',
    ]),
    { maxCellWidth: 50 },
  );
  const shown = listing.entries.length;
  return [table, shown < listing.total ? `${formatCount(shown)} of ${formatCount(listing.total)} rows (newest first; --limit N for more)` : `${formatCount(shown)} rows`];
}
