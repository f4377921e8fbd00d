/**
 * Loading a merge file (`crm ingest merges FILE`): the checks that need the other rows of the file
 * or the store, then the accepted rows into `merges` and the others into `rejects`. Called by
 * ingest/load.ts inside the load's transaction, after staging has checked each row on its own
 * (ids given, not a self-merge, known confidence and evidence codes: ingest/stage.ts).
 *
 * Rules (each rejected row keeps its reason; the first rule a row breaks is its reason):
 * - unknown_duplicate_id / unknown_surviving_id: the id is in no customers, transactions or
 *   contracts row — a typo would otherwise move nothing, or create a customer from nothing.
 * - merged_twice: the file merges one duplicate into different surviving ids; none of its rows
 *   is loaded (which one is right is the reviewer's call, not ours).
 * - repeated_merge: the same duplicate → survivor pair again in the file; the first row loads.
 * - already_merged: the duplicate has a merge in effect (customer_merges); undo it first
 *   (`crm merges undo ID`) to merge it elsewhere.
 * - merge_cycle: following the file's merges from the surviving id comes back to the duplicate
 *   (A → B, B → A): no id could survive.
 * - chained_merge: the surviving id is itself merged away, by the file or in the store. Chains
 *   are rejected, not resolved to the final survivor: the file names the id the reviewer chose,
 *   and crm never changes a value without evidence. The detail names the final survivor to write.
 * - duplicate_is_survivor: the duplicate keeps the history of another id (a merge in effect):
 *   merging it away would make a chain; undo that merge and merge both ids into the survivor.
 * So customer_merges never holds a chain or a cycle: each duplicate maps to one survivor that is
 * no duplicate, in one step.
 */
import { ident, literal, type Store } from '../store/db.js';

/** The reasons decided here, in the order they are checked. */
export const MERGE_LOAD_REASONS = [
  'unknown_duplicate_id',
  'unknown_surviving_id',
  'merged_twice',
  'repeated_merge',
  'already_merged',
  'merge_cycle',
  'chained_merge',
  'duplicate_is_survivor',
] as const;

export interface MergeWrite {
  loadId: number;
  kind: string;
  sourceFile: string;
  sheet: string | null;
  /** The numbered stage: duplicate_id, surviving_id, confidence, evidence, reason, source_row, ord, raw_all. */
  relation: string;
  /** The file's columns of the two ids (rejects name the source column at fault). */
  columns: { duplicate_id: string; surviving_id: string };
  /** A temp table name this step may use. */
  work: string;
}

export interface MergeWriteCounts {
  loaded: number;
  /** Rows rejected here, by reason. */
  rejectedByReason: Record<string, number>;
}

/**
 * The ids of `ids` the store knows: any customer, buyer or policyholder. Each table is probed with
 * the file's few ids (a semi join built on them), not read into a list of every id it holds.
 */
const knownIdsSql = (ids: string) => `
SELECT DISTINCT customer_id AS id FROM (
  SELECT customer_id FROM customers WHERE customer_id IN (SELECT id FROM ${ids})
  UNION ALL SELECT customer_id FROM transactions WHERE customer_id IN (SELECT id FROM ${ids})
  UNION ALL SELECT customer_id FROM contracts WHERE customer_id IN (SELECT id FROM ${ids})
)`;

/** Check the staged rows that passed staging across the file and the store, then write them. Call inside a transaction. */
export async function writeMerges(store: Store, t: MergeWrite): Promise<MergeWriteCounts> {
  const w = `temp.${ident(t.work)}`;
  await store.run(
    `CREATE OR REPLACE TEMP TABLE ${ident(t.work)} AS
     SELECT ord, source_row, duplicate_id, surviving_id, confidence, evidence, raw_all,
            CAST(NULL AS VARCHAR) AS reason, CAST(NULL AS VARCHAR) AS detail
     FROM ${t.relation} WHERE reason IS NULL`,
  );
  const ids = `(SELECT duplicate_id AS id FROM ${w} UNION SELECT surviving_id FROM ${w})`;
  await store.run(`CREATE OR REPLACE TEMP TABLE ${ident(t.work + '_known')} AS ${knownIdsSql(ids)}`);
  const known = `temp.${ident(t.work + '_known')}`;
  const reject = (reason: string, when: string, detail: string) =>
    store.run(`UPDATE ${w} AS r SET reason = ${literal(reason)}, detail = ${detail} WHERE r.reason IS NULL AND (${when})`);

  await reject('unknown_duplicate_id', `r.duplicate_id NOT IN (SELECT id FROM ${known})`, `'no customer, transaction or contract has the id "' || r.duplicate_id || '"'`);
  await reject('unknown_surviving_id', `r.surviving_id NOT IN (SELECT id FROM ${known})`, `'no customer, transaction or contract has the id "' || r.surviving_id || '"'`);
  await reject(
    'merged_twice',
    `r.duplicate_id IN (SELECT duplicate_id FROM ${w} WHERE reason IS NULL GROUP BY duplicate_id HAVING count(DISTINCT surviving_id) > 1)`,
    `'"' || r.duplicate_id || '" is merged into several ids in this file (' ||
      (SELECT string_agg(DISTINCT o.surviving_id, ', ' ORDER BY o.surviving_id) FROM ${w} o WHERE o.duplicate_id = r.duplicate_id) || '): none is loaded'`,
  );
  await reject(
    'repeated_merge',
    `EXISTS (SELECT 1 FROM ${w} o WHERE o.reason IS NULL AND o.duplicate_id = r.duplicate_id AND o.surviving_id = r.surviving_id AND o.ord < r.ord)`,
    `'the same merge as row ' || (SELECT min(o.source_row) FROM ${w} o WHERE o.duplicate_id = r.duplicate_id AND o.ord < r.ord) || ': loaded once'`,
  );
  await reject(
    'already_merged',
    `r.duplicate_id IN (SELECT duplicate_id FROM customer_merges)`,
    `(SELECT '"' || m.duplicate_id || '" is already merged into "' || m.surviving_id || '" (merge ' || m.merge_id || '): undo it first with crm merges undo ' || m.merge_id
      FROM customer_merges m WHERE m.duplicate_id = r.duplicate_id)`,
  );
  // Cycles among the rows still in: follow the file's merges from each survivor (a row's survivor is
  // the duplicate of at most one row now); a walk that reaches the row's duplicate is a cycle.
  await reject(
    'merge_cycle',
    `r.ord IN (
       WITH RECURSIVE walk(start_ord, start_id, at_id, steps) AS (
         SELECT ord, duplicate_id, surviving_id, 1 FROM ${w} WHERE reason IS NULL
         UNION ALL
         SELECT walk.start_ord, walk.start_id, n.surviving_id, walk.steps + 1
         FROM walk JOIN ${w} n ON n.duplicate_id = walk.at_id AND n.reason IS NULL
         WHERE walk.at_id <> walk.start_id AND walk.steps < (SELECT count(*) FROM ${w})
       )
       SELECT start_ord FROM walk WHERE at_id = start_id)`,
    `'"' || r.duplicate_id || '" and "' || r.surviving_id || '" are merged into each other (directly or through other rows): no id would survive'`,
  );
  await reject(
    'chained_merge',
    `r.surviving_id IN (SELECT duplicate_id FROM ${w} WHERE reason IS NULL) OR r.surviving_id IN (SELECT duplicate_id FROM customer_merges)`,
    `'"' || r.surviving_id || '" is itself merged into "' ||
      coalesce((SELECT min(o.surviving_id) FROM ${w} o WHERE o.duplicate_id = r.surviving_id AND o.reason IS NULL),
               (SELECT m.surviving_id FROM customer_merges m WHERE m.duplicate_id = r.surviving_id)) ||
      '": name that id as the surviving id'`,
  );
  await reject(
    'duplicate_is_survivor',
    `r.duplicate_id IN (SELECT surviving_id FROM customer_merges)`,
    `'"' || r.duplicate_id || '" keeps the history of ' ||
      (SELECT string_agg('"' || m.duplicate_id || '" (merge ' || m.merge_id || ')', ', ' ORDER BY m.merge_id) FROM customer_merges m WHERE m.surviving_id = r.duplicate_id) ||
      ': undo that merge and merge both ids into the surviving id'`,
  );

  const merged_at = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const loaded = await store.run(
    `INSERT INTO merges (merge_id, duplicate_id, surviving_id, confidence, evidence, load_id, source_file, source_sheet, source_row, merged_at)
     SELECT (SELECT coalesce(max(merge_id), 0) FROM merges) + row_number() OVER (ORDER BY ord),
            duplicate_id, surviving_id, confidence, evidence, ${t.loadId}, ${literal(t.sourceFile)}, ${t.sheet === null ? 'NULL' : literal(t.sheet)}, source_row,
            ${literal(merged_at)}::TIMESTAMP
     FROM ${w} WHERE reason IS NULL ORDER BY ord`,
  );
  const column = (reason: string) => literal(reason === 'unknown_surviving_id' || reason === 'chained_merge' ? t.columns.surviving_id : t.columns.duplicate_id);
  await store.run(
    `INSERT INTO rejects (load_id, kind, source_file, source_sheet, source_row, reason, column_name, detail, raw)
     SELECT ${t.loadId}, ${literal(t.kind)}, ${literal(t.sourceFile)}, ${t.sheet === null ? 'NULL' : literal(t.sheet)}, source_row, reason,
            CASE reason ${MERGE_LOAD_REASONS.map((r) => `WHEN ${literal(r)} THEN ${column(r)}`).join(' ')} END, detail, raw_all
     FROM ${w} WHERE reason IS NOT NULL ORDER BY ord`,
  );
  const rows = await store.all<{ reason: string; n: number }>(`SELECT reason, count(*)::INTEGER AS n FROM ${w} WHERE reason IS NOT NULL GROUP BY reason`);
  await store.run(`DROP TABLE ${w}`);
  await store.run(`DROP TABLE ${known}`);
  return { loaded, rejectedByReason: Object.fromEntries(rows.map((r) => [r.reason, r.n])) };
}
