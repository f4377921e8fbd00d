/**
 * Overlap with earlier loads: rows of a new transactions file that were already loaded from
 * another file (the same export saved again under another name, plus a line or two), or that a
 * workbook repeats in an earlier sheet (a yearly export whose sheets share their border days).
 *
 * Two rows are the same line when their content key is equal — customer, order id, date and
 * time, product, quantity and amount (not the row number, not the file) — and they are
 * counted with multiplicity: identical lines inside one file are legitimate, so when earlier
 * files hold a key m times and the new file n times, min(n, m) of the new rows overlap and
 * the rest are new. Pairing the k-th new occurrence with the k-th earlier one (row_number
 * on both sides of the key) gives exactly that, and names the earlier row each one repeats.
 *
 * The sheets of one workbook are compared like files: each sheet with the sheets before it.
 *
 * Contract periods (a policy export sent again, or this month's export of the whole book after
 * last month's) are the same period when their contract id and period start are equal: a
 * period is identified by them, and a re-export that changed its status, cancel date or
 * amount still describes that period, which must not count twice (twice the premium, and a
 * duplicate period for renewal detection). Same multiplicity rule.
 *
 * `crm quality` counts the overlaps that were loaded anyway with the same key and rule.
 */
import type { Store } from '../store/db.js';
import { ident } from '../store/db.js';
import type { DatasetKind } from './fields.js';

/** The columns that make two transaction lines the same line (NULLs compare equal). */
export const CONTENT_KEY = ['customer_id', 'order_id', 'order_ts', 'product', 'quantity', 'amount'] as const;

/** What makes two rows of a kind the same row, in the table it loads into, and how to say so. */
export interface OverlapKey {
  table: string;
  columns: readonly string[];
  /** One row, for sentences: line, period. */
  noun: string;
  /** The key in words: `customer, order id, date and time, product, quantity, amount`. */
  words: string;
  /** What counting a row twice does, for the refusal's --append hint. */
  twice: string;
}

export const TRANSACTION_OVERLAP: OverlapKey = {
  table: 'transactions',
  columns: CONTENT_KEY,
  noun: 'line',
  words: 'customer, order id, date and time, product, quantity, amount',
  twice: 'revenue counts them twice',
};

export const CONTRACT_OVERLAP: OverlapKey = {
  table: 'contracts',
  columns: ['contract_id', 'period_start'],
  noun: 'period',
  words: 'contract id, period start',
  twice: 'premium counts them twice and each repeated period is a duplicate period',
};

/** The overlap key of a kind, or null when its files are not compared (customers: a later row of an id wins). */
export function overlapKeyOf(kind: DatasetKind): OverlapKey | null {
  return kind === 'transactions' ? TRANSACTION_OVERLAP : kind === 'contracts' ? CONTRACT_OVERLAP : null;
}

/** At least this share of a file's valid rows overlapping: refused unless --append or --skip-overlap. */
export const OVERLAP_REFUSAL_SHARE = 0.5;

const keyList = (key: OverlapKey, alias?: string) => key.columns.map((c) => (alias ? `${alias}.${c}` : c)).join(', ');
const sameKey = (key: OverlapKey, a: string, b: string) => key.columns.map((c) => `${a}.${c} IS NOT DISTINCT FROM ${b}.${c}`).join(' AND ');

/**
 * Rows loaded before, as a relation with `seq` (the order they were loaded in), `load_id`
 * (NULL for a file earlier in this command, not yet numbered), `file`, `sheet`, `same_file`
 * (true for an earlier sheet of the file being compared), `source_row` and the key.
 */
export function storedRows(excludeLoads: number[], key: OverlapKey = TRANSACTION_OVERLAP): string {
  const where = excludeLoads.length ? `WHERE load_id NOT IN (${excludeLoads.join(', ')})` : '';
  return `SELECT CAST(load_id AS BIGINT) AS seq, load_id, source_file AS file, source_sheet AS sheet, false AS same_file, source_row, ${keyList(key)} FROM ${ident(key.table)} ${where}`;
}

/** The same row in an earlier row, for the `already_loaded` reject: the file (or this workbook), sheet and row. */
const earlierRowText = (key: OverlapKey, e: string) => {
  const same = `the same ${key.noun} (${key.words})`;
  return `CASE WHEN ${e}.same_file
     THEN '${same} is in an earlier sheet of this workbook: sheet "' || ${e}.sheet || '" row ' || ${e}.source_row
     ELSE '${same} was loaded before: ' || ${e}.file || coalesce(' sheet "' || ${e}.sheet || '"', '') || ' row ' || ${e}.source_row
          || coalesce(' (load ' || ${e}.load_id || ')', ' (earlier in this command)') END`;
};

export interface OverlapPlan {
  /** The new rows: a relation with `ord`, `reason` (NULL = valid) and the key columns. */
  newRows: string;
  /** Rows loaded before (see `storedRows`), possibly a UNION ALL with this command's earlier files. */
  earlier: string;
  /** Temporary table to create: one row per overlapping new row (`ord`), the earlier row it repeats, and `detail` naming it. */
  table: string;
  /** The number of valid new rows, when the caller knows it already. */
  valid?: number;
  /** Default: transactions' content key. */
  key?: OverlapKey;
}

export interface OverlapSource {
  load_id: number | null;
  file: string;
  /** Set when the rows repeat an earlier sheet of the same workbook: that sheet. */
  sheet?: string;
  rows: number;
}

export interface OverlapResult {
  /** Valid new rows. */
  valid: number;
  /** Of those, rows that repeat an earlier row. */
  rows: number;
  bySource: OverlapSource[];
}

/**
 * Find the overlapping rows. One hash join on a 64-bit hash of the key columns — the new rows'
 * hashes build it, the earlier rows probe it — keeps only the candidate earlier rows; the
 * ranking windows and the exact comparison of the key columns then run on the candidates
 * alone (usually none), never on the whole store. A hash collision only adds a candidate,
 * never a match.
 */
export function overlapSql(plan: OverlapPlan): string {
  const key = plan.key ?? TRANSACTION_OVERLAP;
  const cols = (alias?: string) => keyList(key, alias);
  const hashed = `hash(${cols()})`;
  return `CREATE OR REPLACE TEMP TABLE ${ident(plan.table)} AS
WITH new_hashes AS (
  SELECT ${hashed} AS h FROM ${plan.newRows} WHERE reason IS NULL
),
earlier_candidates AS (
  SELECT * FROM (SELECT *, ${hashed} AS h FROM (${plan.earlier})) WHERE h IN (SELECT h FROM new_hashes)
),
new_candidates AS (
  SELECT * FROM (SELECT ord, ${cols()}, ${hashed} AS h FROM ${plan.newRows} WHERE reason IS NULL)
  WHERE h IN (SELECT h FROM earlier_candidates)
),
earlier_ranked AS (
  SELECT *, row_number() OVER (PARTITION BY ${cols()} ORDER BY seq, source_row) AS k FROM earlier_candidates
),
new_ranked AS (
  SELECT *, row_number() OVER (PARTITION BY ${cols()} ORDER BY ord) AS k FROM new_candidates
)
SELECT n.ord, ${cols('n')}, e.seq AS earlier_seq, e.load_id AS earlier_load, e.file AS earlier_file, e.source_row AS earlier_row,
  CASE WHEN e.same_file THEN e.sheet END AS earlier_sheet, ${earlierRowText(key, 'e')} AS detail
FROM new_ranked n JOIN earlier_ranked e ON ${sameKey(key, 'n', 'e')} AND n.k = e.k`;
}

export async function findOverlap(store: Store, plan: OverlapPlan): Promise<OverlapResult> {
  await store.run(overlapSql(plan));
  const valid = plan.valid ?? (await store.value<number>(`SELECT count(*) FROM ${plan.newRows} WHERE reason IS NULL`)) ?? 0;
  const bySource = await store.all<{ seq: number; load_id: number | null; file: string; sheet: string | null; rows: number }>(
    `SELECT min(earlier_seq) AS seq, earlier_load AS load_id, earlier_file AS file, earlier_sheet AS sheet, count(*) AS rows
     FROM temp.${ident(plan.table)} GROUP BY earlier_load, earlier_file, earlier_sheet ORDER BY seq`,
  );
  return {
    valid: Number(valid),
    rows: bySource.reduce((a, s) => a + Number(s.rows), 0),
    bySource: bySource.map((s) => ({ load_id: s.load_id, file: s.file, ...(s.sheet === null ? {} : { sheet: s.sheet }), rows: Number(s.rows) })),
  };
}

/**
 * Rows of the store that repeat rows of an earlier load or of an earlier sheet of the same
 * workbook (forced in with --append, or below the refusal share), per load. Same key and
 * multiplicity rule as above: a sheet (or a file) holding a key n times after earlier loads
 * and sheets held it m times adds min(n, m) overlaps. A load made with --skip-overlap added
 * none by construction (its file may have held a key more often than the store, which the
 * store alone cannot tell), so it is not counted against earlier loads or sheets.
 */
export function storedOverlapSql(key: OverlapKey = TRANSACTION_OVERLAP): string {
  const cols = () => keyList(key);
  return `WITH per_part AS (
  SELECT load_id, source_sheet, ${cols()}, count(*) AS n FROM ${ident(key.table)} GROUP BY ALL
),
ordered AS (
  -- A load's sheets in the workbook's order (loads.sheets); a file without sheets is one part.
  SELECT p.*, coalesce(list_position(l.sheets, p.source_sheet), 0) AS part FROM per_part p LEFT JOIN loads l USING (load_id)
),
cumulated AS (
  SELECT *,
    coalesce(sum(n) OVER (PARTITION BY ${cols()} ORDER BY load_id, part ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
    coalesce(sum(n) OVER (PARTITION BY ${cols()}, load_id ORDER BY part ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before_in_load
  FROM ordered
)
-- Earlier loads' rows are paired first (as in overlapSql); the rest repeat earlier sheets of the same load.
SELECT c.load_id, l.file_name AS file, CAST(sum(least(c.n, c.before)) AS BIGINT) AS rows,
  CAST(sum(least(c.n, c.before) - least(c.n, c.before - c.before_in_load)) AS BIGINT) AS from_earlier_sheets
FROM cumulated c JOIN loads l USING (load_id)
WHERE c.before > 0 AND coalesce(l.options->'overlap'->>'decision', '') <> 'skipped'
GROUP BY c.load_id, l.file_name ORDER BY c.load_id`;
}
