/**
 * The audit trail: who took which customers' data out of the store, when, and whether it was
 * masked (table `audit`, schema migration 10). This module is its one writer.
 *
 * Who: `--actor NAME` on the command line, else $CRM_ACTOR (for cron and CI jobs that run as a
 * service user), else the operating-system user. The actor is a name a person typed or the OS
 * gave: it is recorded, not verified — the audit answers "who said they ran this", as a shell
 * history would, and is honest about where the name came from (`actor_source`).
 */
import os from 'node:os';
import { Store } from './db.js';
import { CrmError, storeError, messageOf } from '../util/errors.js';

export type ActorSource = 'flag' | 'env' | 'os';

export interface Actor {
  name: string;
  source: ActorSource;
}

let actorFlag: string | undefined;

/** Set by the CLI from the global `--actor` flag, once, before any command runs. */
export function setActorFlag(name: string | undefined): void {
  actorFlag = name === undefined ? undefined : name.trim() || undefined;
}

/** The actor of this process: --actor, else $CRM_ACTOR, else the OS user (else 'unknown'). */
export function currentActor(env: NodeJS.ProcessEnv = process.env): Actor {
  if (actorFlag) return { name: actorFlag, source: 'flag' };
  const fromEnv = env.CRM_ACTOR?.trim();
  if (fromEnv) return { name: fromEnv, source: 'env' };
  let user: string | undefined;
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers): fall back to what the shell says.
    user = env.USER ?? env.LOGNAME;
  }
  return { name: user?.trim() || 'unknown', source: 'os' };
}

/** One audit row, as the command that hands data out describes it. */
export interface AuditEntry {
  /** The command in words, e.g. 'export segment', 'report', 'customer', 'forget'. */
  command: string;
  /** The target in words: a segment name, 'keyaccounts', "Li Na's book", a customer id count. */
  what: string;
  /** The file or folder written, if any. */
  path?: string | null;
  runId?: number | null;
  /** Distinct customers whose data left the store (or were erased). */
  customers: number;
  /** Rows written or shown. */
  rows?: number | null;
  /** Personal data masked (true) or as stored (false). */
  masked: boolean;
  /** Command-specific facts (owner, format, columns, reason). Never personal data. */
  details?: Record<string, unknown> | null;
}

/**
 * Append one audit row. The store must be open for writing; callers that read through a
 * read-only store open a writable one for this (see `withAuditStore`).
 */
export async function recordAudit(store: Store, entry: AuditEntry, actor: Actor = currentActor()): Promise<number> {
  const row = await store.one<{ audit_id: number }>(
    `INSERT INTO audit (logged_at, command, actor, actor_source, what, path, run_id, customers, rows, masked, details)
     VALUES ($logged_at::TIMESTAMP, $command, $actor, $actor_source, $what, $path, $run_id, $customers, $rows, $masked, $details::JSON)
     RETURNING audit_id`,
    {
      // The process clock in UTC, so rows compare across machines whatever their time zone.
      logged_at: new Date().toISOString().replace('T', ' ').replace('Z', ''),
      command: entry.command,
      actor: actor.name,
      actor_source: actor.source,
      what: entry.what,
      path: entry.path ?? null,
      run_id: entry.runId ?? null,
      customers: entry.customers,
      rows: entry.rows ?? null,
      masked: entry.masked,
      details: entry.details ? JSON.stringify(entry.details) : null,
    },
  );
  return Number(row?.audit_id);
}

/** How a hand-out delivers what it audits, and takes it back when the audit row cannot be written. */
export interface HandOut {
  /** Make the data available (move staged files into place). Runs after the audit row is committed. */
  deliver?: () => Promise<void>;
  /** Remove what was prepared or already written (staged files, a rendered report). */
  undo?: () => Promise<void>;
}

/**
 * Audit a hand-out of customer data and deliver it: open the store for writing (waiting as long as
 * `--wait` allows, like any store open), commit the audit row, then `deliver`. The commands that
 * hand data out read through a read-only store (so readers never block each other during a long
 * export), close it, and call this: the writable handle is held only for one INSERT.
 *
 * Order matters: the row commits before the data appears, so a killed process may leave a row for
 * a file that never appeared (harmless: the row over-reports), never a file without its row. If the
 * row cannot be written, `undo` removes what was prepared and the command fails (exit 4); if
 * delivering fails, the row is taken back and the error passes on.
 */
export async function auditHandOut(storePath: string, entry: AuditEntry, handOut?: HandOut): Promise<number>;
export async function auditHandOut(storePath: string, entries: AuditEntry[], handOut?: HandOut): Promise<number[]>;
export async function auditHandOut(storePath: string, what: AuditEntry | AuditEntry[], handOut: HandOut = {}): Promise<number | number[]> {
  const entries = Array.isArray(what) ? what : [what];
  let store: Store | undefined;
  let auditIds: number[];
  try {
    store = await Store.open(storePath);
    const writable = store;
    // One transaction: a hand-out of several files (one digest per owner) is audited whole or not at all.
    auditIds = await writable.transaction(async () => {
      const ids: number[] = [];
      for (const entry of entries) ids.push(await recordAudit(writable, entry));
      return ids;
    });
  } catch (err) {
    store?.close();
    await handOut.undo?.();
    const details = err instanceof CrmError ? err.details : [];
    const named = entries.length === 1 ? `the audit row for ${entries[0].command} (${entries[0].what})` : `the ${entries.length} audit rows for ${entries[0]?.command ?? 'the hand-out'}`;
    throw storeError(`cannot write ${named}: ${messageOf(err)}`, [
      ...details,
      'Nothing was handed out: customer data leaves the store only with its audit row. Fix the store (or retry with --wait) and run the command again.',
    ]);
  }
  try {
    await handOut.deliver?.();
  } catch (err) {
    for (const id of auditIds) await store.run('DELETE FROM audit WHERE audit_id = $1', [id]).catch(() => undefined);
    await handOut.undo?.();
    throw err;
  } finally {
    store.close();
  }
  return Array.isArray(what) ? auditIds : auditIds[0];
}
