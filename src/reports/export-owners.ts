/**
 * `crm export owners --out DIR`: one file per account owner holding only that owner's customers
 * of the latest run (least privilege: a file sent to a manager names no other owner's customer),
 * with the columns of `crm export segment customers` plus the owner's `team` and `owner_email`. The customers nobody owns are not exported;
 * the result says how many there are. Every file is written atomically (atomic-file.ts); all
 * targets are checked before the first is written, so an existing file (without --force) stops the
 * command before it writes anything.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Store } from '../store/db.js';
import { inputError, outputError, usageError } from '../util/errors.js';
import { checkTarget, type StagedFile } from './atomic-file.js';
import type { ExportFormat } from './export-options.js';
import { exportQuery, listSegments, segmentExportSql } from './export.js';

/** The formats a manager opens: a spreadsheet or a CSV. */
export const OWNER_EXPORT_FORMATS = ['csv', 'xlsx'] as const;

export interface OwnersExportOptions {
  dir: string;
  format?: ExportFormat;
  maskPii?: boolean;
  force?: boolean;
  bom?: boolean;
  /** Leave every file staged (result.staged) until the hand-out is audited; default false. */
  stage?: boolean;
}

export interface OwnerFile {
  owner: string;
  path: string;
  rows: number;
  bytes: number;
}

export interface OwnersExportResult {
  dir: string;
  format: ExportFormat;
  masked_columns: string[];
  files: OwnerFile[];
  /** Customers of the latest run with no owner: in no file. */
  unowned_customers: number;
  /** With `stage`: the files, not yet in place (commit or discard them all). */
  staged?: StagedFile[];
}

/**
 * A file name for an owner: the name itself (Chinese names included), with the characters no file
 * system accepts (and control characters) replaced by `_`; names that would collide (also on a
 * case-insensitive disk) get ` (2)`, ` (3)`, ….
 */
export function ownerFileNames(owners: readonly string[], ext: string): string[] {
  const used = new Set<string>();
  return owners.map((owner) => {
    const base = owner.normalize('NFKC').replace(/[\\/:*?"<>|\x00-\x1f\x7f]/g, '_').replace(/^[.\s]+|[.\s]+$/g, '') || '_';
    let name = `${base}.${ext}`;
    for (let i = 2; used.has(name.toLowerCase()); i++) name = `${base} (${i}).${ext}`;
    used.add(name.toLowerCase());
    return name;
  });
}

/** An XLSX sheet name: at most 31 characters, none of []:*?/\. */
const sheetName = (owner: string) => owner.replace(/[[\]:*?/\\]/g, '_').slice(0, 31) || 'Customers';

export async function exportOwners(store: Store, opts: OwnersExportOptions): Promise<OwnersExportResult> {
  const format = opts.format ?? 'csv';
  if (!(OWNER_EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw usageError(`--format ${format}: crm export owners writes csv or xlsx`, ['One file per owner, for the owner to open: a CSV or a spreadsheet.']);
  }
  if (opts.bom && format !== 'csv') throw usageError('--bom applies to CSV exports only');
  await listSegments(store); // no model run yet: exit 4
  const owners = (await store.all<{ owner: string }>('SELECT DISTINCT account_owner AS owner FROM customer_owners ORDER BY owner')).map((r) => r.owner);
  if (!owners.length) throw inputError('no customer has an account owner: nothing to export', ['Load owners with `crm ingest owners FILE` (or a customers file with an owner column).']);
  const dir = path.resolve(opts.dir);
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw outputError(`${dir} is a file: --out names the folder the owners' files go to`);
  const targets = ownerFileNames(owners, format).map((name) => path.join(dir, name));
  for (const t of targets) checkTarget(t, { force: opts.force });
  const files: OwnerFile[] = [];
  const staged: StagedFile[] = [];
  let masked: string[] = [];
  try {
    // Every file is staged first and moved into place only when all are written: a failure
    // part-way leaves no owner's file behind (nor, with --stage, before the audit row exists).
    for (const [i, owner] of owners.entries()) {
      // The owner's team and e-mail follow the contact columns: the file says whose book it is and
      // whom to ask; the owner's e-mail is personal data too, masked with --mask-pii like the customers'.
      const r = await exportQuery(store, segmentExportSql({ kind: 'customers' }, owner, { ownerColumns: true }), {
        format,
        out: targets[i],
        maskPii: opts.maskPii,
        piiColumns: { email: ['email', 'owner_email'] },
        force: opts.force,
        bom: opts.bom,
        sheetName: sheetName(owner),
        stage: true,
      });
      staged.push(r.staged!);
      masked = r.maskedColumns;
      files.push({ owner, path: r.path, rows: r.rows, bytes: r.bytes });
    }
  } catch (err) {
    await discardAll(staged);
    throw err;
  }
  const unowned = (await store.value<number>('SELECT count(*) FROM customer_latest ANTI JOIN customer_owners USING (customer_id)')) ?? 0;
  const result: OwnersExportResult = { dir, format, masked_columns: masked, files, unowned_customers: Number(unowned) };
  if (opts.stage) return { ...result, staged };
  await commitAll(staged);
  return result;
}

/** Move staged files into place; if one fails, the rest are discarded (those already moved stay). */
export async function commitAll(staged: readonly StagedFile[]): Promise<void> {
  for (const [i, f] of staged.entries()) {
    try {
      await f.commit();
    } catch (err) {
      await discardAll(staged.slice(i + 1));
      throw err;
    }
  }
}

export async function discardAll(staged: readonly StagedFile[]): Promise<void> {
  for (const f of staged) await f.discard();
}
