/**
 * `crm merges [--json]` lists the merges (in effect and undone); `crm merges undo ID` reverses
 * one. A merge is never deleted: undoing it stamps `undone_at` and `undone_by` (who, as the audit
 * names people: --actor, $CRM_ACTOR or the OS user), so the table keeps the history of who was
 * merged into whom, when, and who took it back. The next `crm run` scores both ids apart again
 * (the customer_merges view no longer holds the merge).
 */
import { currentActor, type Actor } from '../store/audit.js';
import { Store } from '../store/db.js';
import { inputError } from '../util/errors.js';
import { formatCount, renderTable } from '../util/format.js';

export type MergeRow = {
  merge_id: number;
  duplicate_id: string;
  surviving_id: string;
  confidence: string | null;
  evidence: string | null;
  /** The merge file and its row. */
  source_file: string;
  source_row: number;
  load_id: number;
  merged_at: string;
  /** 'in effect' or 'undone'. */
  status: 'in effect' | 'undone';
  undone_at: string | null;
  undone_by: string | null;
};

export interface MergeList {
  merges: MergeRow[];
  in_effect: number;
  undone: number;
}

const MERGE_ROW_SQL = `
SELECT merge_id, duplicate_id, surviving_id, confidence, evidence, source_file, source_row::BIGINT AS source_row, load_id,
       strftime(merged_at, '%Y-%m-%d %H:%M:%S') AS merged_at,
       CASE WHEN undone_at IS NULL THEN 'in effect' ELSE 'undone' END AS status,
       strftime(undone_at, '%Y-%m-%d %H:%M:%S') AS undone_at, undone_by
FROM merges`;

export async function listMerges(store: Store): Promise<MergeList> {
  const merges = (await store.all<MergeRow>(`${MERGE_ROW_SQL} ORDER BY merge_id`)).map((m) => ({ ...m, source_row: Number(m.source_row) }));
  const undone = merges.filter((m) => m.status === 'undone').length;
  return { merges, in_effect: merges.length - undone, undone };
}

export function formatMergeList(list: MergeList): string[] {
  if (!list.merges.length) return ['No merges recorded. Suggest some with: crm quality --suggest-merges, then crm ingest merges FILE'];
  const rows = list.merges.map((m) => [
    String(m.merge_id),
    m.duplicate_id,
    m.surviving_id,
    m.confidence ?? '',
    m.evidence ?? '',
    m.merged_at.slice(0, 10),
    m.status === 'undone' ? `undone ${m.undone_at!.slice(0, 10)} by ${m.undone_by}` : 'in effect',
    `${m.source_file}:${m.source_row}`,
  ]);
  return [
    renderTable(['merge', 'duplicate', 'surviving', 'confidence', 'evidence', 'merged', 'status', 'from'], rows).trimEnd(),
    `${formatCount(list.in_effect)} in effect, ${formatCount(list.undone)} undone. Undo one with: crm merges undo ID (the next crm run scores both ids apart again)`,
  ];
}

export interface UndoResult {
  merge: MergeRow;
  /** Whether this command undid it (false: it was undone before; nothing changed). */
  changed: boolean;
}

/** Mark merge `mergeId` undone (a store opened for writing). Undoing an undone merge changes nothing. */
export async function undoMerge(store: Store, mergeId: number, actor: Actor = currentActor()): Promise<UndoResult> {
  const before = await store.one<MergeRow>(`${MERGE_ROW_SQL} WHERE merge_id = $id`, { id: mergeId });
  if (!before) {
    const known = await store.value<string>(`SELECT string_agg(merge_id::VARCHAR, ', ' ORDER BY merge_id) FROM merges`);
    throw inputError(`no merge ${mergeId} in the store`, [known ? `Merges: ${known} (crm merges lists them).` : 'No merges are recorded.']);
  }
  if (before.undone_at !== null) return { merge: { ...before, source_row: Number(before.source_row) }, changed: false };
  await store.run(`UPDATE merges SET undone_at = $at::TIMESTAMP, undone_by = $by WHERE merge_id = $id`, {
    at: new Date().toISOString().replace('T', ' ').replace('Z', ''),
    by: actor.name,
    id: mergeId,
  });
  const after = (await store.one<MergeRow>(`${MERGE_ROW_SQL} WHERE merge_id = $id`, { id: mergeId }))!;
  return { merge: { ...after, source_row: Number(after.source_row) }, changed: true };
}

export function formatUndo(r: UndoResult): string[] {
  const m = r.merge;
  if (!r.changed) return [`merge ${m.merge_id} (${m.duplicate_id} → ${m.surviving_id}) was undone before, on ${m.undone_at} by ${m.undone_by}: nothing changed`];
  return [
    `merge ${m.merge_id} undone: ${m.duplicate_id} is no longer merged into ${m.surviving_id}`,
    'The next crm run scores both ids apart again.',
  ];
}

// ---------------------------------------------------------------------------------------
// The 360° view (crm customer): which ids a customer's history is merged from, or into

/** A merge in effect as one customer's view shows it: the other id, and why. */
export interface MergeNote {
  merge_id: number;
  /** The other customer: the duplicate merged into this one, or the survivor this one is merged into. */
  customer_id: string;
  confidence: string | null;
  evidence: string | null;
  /** YYYY-MM-DD. */
  merged_at: string;
}

export interface CustomerMerges {
  /** This id is a merged-away duplicate: its history is scored as this survivor's. */
  merged_into: MergeNote | null;
  /** Duplicates whose history this customer's includes. */
  merged_from: MergeNote[];
}

/** The merges in effect (customer_merges) that touch one customer id. */
export async function customerMergesIn(store: Store, customerId: string): Promise<CustomerMerges> {
  const rows = await store.all<{ merge_id: number; duplicate_id: string; surviving_id: string; confidence: string | null; evidence: string | null; merged_at: string }>(
    `SELECT merge_id, duplicate_id, surviving_id, confidence, evidence, strftime(merged_at, '%Y-%m-%d') AS merged_at
     FROM customer_merges WHERE duplicate_id = $id OR surviving_id = $id ORDER BY merge_id`,
    { id: customerId },
  );
  const note = (r: (typeof rows)[number], other: string): MergeNote => ({
    merge_id: r.merge_id,
    customer_id: other,
    confidence: r.confidence,
    evidence: r.evidence,
    merged_at: r.merged_at,
  });
  const into = rows.find((r) => r.duplicate_id === customerId);
  return {
    merged_into: into ? note(into, into.surviving_id) : null,
    merged_from: rows.filter((r) => r.surviving_id === customerId).map((r) => note(r, r.duplicate_id)),
  };
}

/** Evidence codes in words: `email+name+region` → `e-mail, name`. */
function evidenceWords(evidence: string | null): string | null {
  if (!evidence) return null;
  const words: Record<string, string> = { email: 'e-mail', phone: 'phone', name: 'name' };
  return evidence.split('+').flatMap((c) => (words[c] ? [words[c]] : [])).join(', ') || null;
}

/** "C0000123 (e-mail, high), 2026-12-07, merge 4" */
function describeNote(n: MergeNote): string {
  const why = [evidenceWords(n.evidence), n.confidence].filter(Boolean).join(', ');
  return `${n.customer_id}${why ? ` (${why})` : ''}, ${n.merged_at}, merge ${n.merge_id}`;
}

/** The 360° view's lines about merges (none when the customer has none in effect). */
export function formatCustomerMerges(m: CustomerMerges): string[] {
  const lines: string[] = [];
  if (m.merged_into) {
    lines.push(`  merged into ${describeNote(m.merged_into)}: its history is scored as ${m.merged_into.customer_id}'s (crm customer ${m.merged_into.customer_id}; undo with crm merges undo ${m.merged_into.merge_id})`);
  }
  for (const n of m.merged_from) lines.push(`  merged from ${describeNote(n)}`);
  return lines;
}
