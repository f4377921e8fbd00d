/**
 * `crm quality --suggest-merges [--out FILE]`: a merge file for a person to review — pairs of
 * customer ids that look like one customer — in the columns `crm ingest merges` reads. Nothing in
 * the store changes: the reviewer deletes the rows that are wrong and ingests the rest.
 *
 * Evidence (the keys of ingest/normalise.ts, the one home of "the same e-mail / phone / name"):
 * - `email`: the same normalised e-mail; `phone`: the same normalised phone (≥ 7 digits).
 *   A value shared by more than MAX_SHARED_CONTACT ids is a shared mailbox or switchboard, not
 *   one person: it links nobody (the count is reported).
 * - `name+region`: names whose Jaro-Winkler similarity (Winkler 1990) on the normalised name
 *   (case and full-width folded, blanks collapsed) is at least NAME_SIMILARITY, in the same
 *   region. As a link on its own: a name held by more than MAX_NAME_GROUP customers of a region is a common name
 *   (張偉, Zhang Wei), not evidence; and a name match is dropped when the two records give
 *   different e-mails or different phones (contradicting contacts outweigh a name). Between two
 *   records already linked by a contact, a similar name counts as further evidence.
 *   Names are compared by the sorted-neighbourhood method (Hernández & Stolfo 1995): customers
 *   sorted by region and name, and by region and reversed name (a typo early in a name), each
 *   compared with the next NAME_WINDOW — O(n · window), never all pairs of a region.
 *
 * Groups: records linked by any evidence form one group (connected components, by set-based
 * label propagation: each round every record takes the smallest rank among its neighbours);
 * each record but the group's survivor gets one row merging it into the survivor, so the file
 * holds no chains and ingests as it is.
 *
 * Which id survives: the one with the longest history — the earliest first transaction or
 * contract period, then the earliest signup date, then the smaller id.
 *
 * Confidence: evidence between the duplicate and the survivor themselves — `high` when two or
 * more fields agree and one is a contact (e-mail and phone; e-mail or phone and the name),
 * `medium` when one contact agrees, `low` for the name alone, and `low` for a record linked to
 * the survivor only through another record of its group (`linked_via` names it).
 *
 * Personal data: the file is a review artefact that travels (e-mail, a shared folder) and comes
 * back to `crm ingest merges`. It holds ids, codes and the two names (the reviewer needs them to
 * judge); e-mails and phones are masked (src/reports/pii.ts) unless --show-pii. The merge table
 * stores none of it (only ids, confidence and evidence codes). Writing the file is recorded in the
 * audit trail (`audit`: who, when, the file, how many customers, masked or not).
 */
import path from 'node:path';
import { EMAIL_MATCH_KEY, NAME_MATCH_KEY, PHONE_MATCH_KEY } from '../ingest/normalise.js';
import { writeAtomically } from '../reports/atomic-file.js';
import { maskEmailSql, maskPhoneSql } from '../reports/pii.js';
import { defuseFormulaSql } from '../reports/safe-cells.js';
import { recordAudit } from '../store/audit.js';
import { literal, Store } from '../store/db.js';
import { inputError } from '../util/errors.js';
import { formatBytes, formatCount } from '../util/format.js';

/** Jaro-Winkler similarity of two normalised names at or above which they count as the same name. */
// 0.97: a one-letter typo in a name of 15 letters or more scores above it (katarzyna kowalczyk /
// kowalczky: 0.99), while two short names one letter apart — usually two people (zhou ming / zhou
// jing: 0.956) — score below it.
export const NAME_SIMILARITY = 0.97;
/** A name held by more customers than this in one region is too common to be evidence. */
export const MAX_NAME_GROUP = 2;
/** Each customer's name is compared with this many neighbours in each sort order. */
export const NAME_WINDOW = 4;
/** An e-mail or phone shared by more ids than this is a shared contact (an office), not one person. */
export const MAX_SHARED_CONTACT = 5;
/** Label propagation stops after this many rounds (a group this wide is reported, not followed further). */
const MAX_ROUNDS = 30;

export const DEFAULT_SUGGESTIONS_FILE = 'merge-suggestions.csv';

/** The columns of the merge file, in order: the first four are what `crm ingest merges` loads. */
export const SUGGESTION_COLUMNS = [
  'duplicate_id',
  'surviving_id',
  'confidence',
  'evidence',
  'linked_via',
  'duplicate_name',
  'surviving_name',
  'duplicate_region',
  'surviving_region',
  'duplicate_email',
  'surviving_email',
  'duplicate_phone',
  'surviving_phone',
  'duplicate_first_activity',
  'surviving_first_activity',
  'duplicate_transactions',
  'surviving_transactions',
] as const;

export interface SuggestOptions {
  storePath: string;
  out: string;
  force?: boolean;
  /** Write e-mails and phones as stored (default: masked). */
  showPii?: boolean;
}

export interface SuggestResult {
  path: string;
  bytes: number;
  /** Rows written: one per duplicate. */
  rows: number;
  by_confidence: Record<'high' | 'medium' | 'low', number>;
  by_evidence: Record<string, number>;
  groups: number;
  masked: boolean;
  /** Shared e-mails / phones and common names left out as evidence. */
  skipped: { shared_emails: number; shared_phones: number; common_names: number };
  timings_ms: Record<string, number>;
}

/** Temp tables of one suggestion (gone when the connection closes). */
const T = {
  people: 'merge_people',
  edges: 'merge_edges',
  labels: 'merge_labels',
  next: 'merge_labels_next',
  pairs: 'merge_pairs',
} as const;

export async function suggestMerges(opts: SuggestOptions): Promise<SuggestResult> {
  // Writable: the file hands names (and, with --show-pii, contacts) out of the store, so the
  // command records it in the audit trail (store/audit.ts), in this process, before it reports.
  const store = await Store.open(opts.storePath);
  const timings: Record<string, number> = {};
  const timed = async <R>(name: string, fn: () => Promise<R>): Promise<R> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = Math.round(performance.now() - t0);
    }
  };
  try {
    const customers = (await store.value<number>('SELECT count(*) FROM customers')) ?? 0;
    if (!customers) throw inputError('no customers in the store: load a customers file first (crm ingest customers FILE)');
    await timed('people', () => store.run(PEOPLE_SQL));
    const skipped = (await store.one<SuggestResult['skipped']>(SKIPPED_SQL))!;
    await timed('edges', () => store.run(EDGES_SQL));
    const rounds = await timed('groups', () => propagateLabels(store));
    await timed('pairs', () => store.run(PAIRS_SQL));
    const counts = (await store.one<{ rows: number; groups: number; high: number; medium: number; low: number }>(
      `SELECT count(*)::INTEGER AS rows, count(DISTINCT surviving_id)::INTEGER AS groups,
              count(*) FILTER (WHERE confidence = 'high')::INTEGER AS high,
              count(*) FILTER (WHERE confidence = 'medium')::INTEGER AS medium,
              count(*) FILTER (WHERE confidence = 'low')::INTEGER AS low
       FROM temp.${T.pairs}`,
    ))!;
    const evidence = await store.all<{ evidence: string; n: number }>(`SELECT evidence, count(*)::INTEGER AS n FROM temp.${T.pairs} GROUP BY evidence ORDER BY n DESC, evidence`);
    const masked = !opts.showPii;
    const { bytes } = await timed('write', () =>
      writeAtomically(opts.out, { force: opts.force }, async (tmp) => {
        // As the CSV exports write it (reports/export.ts): RFC 4180 with CRLF line ends.
        await store.run(`COPY (${fileSql(masked)}) TO ${literal(tmp)} (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"', ESCAPE '"', NULLSTR '', NEW_LINE '\\r\\n')`);
      }),
    );
    timings.rounds = rounds;
    const customersInFile = (await store.value<number>(`SELECT count(DISTINCT id) FROM (SELECT duplicate_id AS id FROM temp.${T.pairs} UNION ALL SELECT surviving_id FROM temp.${T.pairs})`)) ?? 0;
    await recordAudit(store, {
      command: 'quality --suggest-merges',
      what: 'merge suggestions',
      path: path.resolve(opts.out),
      customers: Number(customersInFile),
      rows: counts.rows,
      masked,
      details: { format: 'csv', columns: [...SUGGESTION_COLUMNS], masked_columns: masked ? ['duplicate_email', 'surviving_email', 'duplicate_phone', 'surviving_phone'] : [] },
    });
    return {
      path: path.resolve(opts.out),
      bytes,
      rows: counts.rows,
      by_confidence: { high: counts.high, medium: counts.medium, low: counts.low },
      by_evidence: Object.fromEntries(evidence.map((e) => [e.evidence, e.n])),
      groups: counts.groups,
      masked,
      skipped,
      timings_ms: timings,
    };
  } finally {
    store.close();
  }
}

/**
 * One row per customer not already merged away, with its match keys and its rank: 1 is the
 * longest history (earliest first activity, then signup, then id).
 */
const PEOPLE_SQL = `
CREATE OR REPLACE TEMP TABLE ${T.people} AS
WITH first_activity AS (
  SELECT customer_id, min(first_day) AS first_activity, sum(lines)::BIGINT AS transactions
  FROM (
    SELECT customer_id, min(order_date) AS first_day, count(*) AS lines FROM transactions GROUP BY customer_id
    UNION ALL
    SELECT customer_id, min(period_start), 0 FROM contracts GROUP BY customer_id
  )
  GROUP BY customer_id
),
keyed AS (
  SELECT c.customer_id, c.name, c.email, c.phone, c.region, c.signup_date,
         ${EMAIL_MATCH_KEY('c.email')} AS email_key,
         ${PHONE_MATCH_KEY('c.phone')} AS phone_key,
         ${NAME_MATCH_KEY('c.name')} AS name_key,
         ${NAME_MATCH_KEY('c.region')} AS region_key,
         f.first_activity, coalesce(f.transactions, 0) AS transactions
  FROM customers c
  LEFT JOIN first_activity f USING (customer_id)
  -- Already merged away: its history is its survivor's; the survivor stands for it.
  WHERE c.customer_id NOT IN (SELECT duplicate_id FROM customer_merges)
)
SELECT *,
       row_number() OVER (ORDER BY first_activity NULLS LAST, signup_date NULLS LAST, customer_id) AS seniority,
       count(*) OVER (PARTITION BY email_key) AS email_sharers,
       count(*) OVER (PARTITION BY phone_key) AS phone_sharers,
       count(*) OVER (PARTITION BY region_key, name_key) AS name_holders
FROM keyed`;

const SKIPPED_SQL = `
SELECT count(DISTINCT email_key) FILTER (WHERE email_key IS NOT NULL AND email_sharers > ${MAX_SHARED_CONTACT})::INTEGER AS shared_emails,
       count(DISTINCT phone_key) FILTER (WHERE phone_key IS NOT NULL AND phone_sharers > ${MAX_SHARED_CONTACT})::INTEGER AS shared_phones,
       count(DISTINCT (region_key, name_key)) FILTER (WHERE name_key IS NOT NULL AND region_key IS NOT NULL AND name_holders > ${MAX_NAME_GROUP})::INTEGER AS common_names
FROM temp.${T.people}`;

/** Two records' names are near-identical, in the same region (evidence between two records). */
const namesSimilar = (a: string, b: string) => `(${a}.region_key = ${b}.region_key
    AND jaro_winkler_similarity(${a}.name_key, ${b}.name_key) >= ${NAME_SIMILARITY})`;

/** A name links two records on its own: near-identical in the same region, and no contact contradicts it. */
const namesAgree = (a: string, b: string) => `(${namesSimilar(a, b)}
    AND NOT coalesce(${a}.email_key <> ${b}.email_key, false)
    AND NOT coalesce(${a}.phone_key <> ${b}.phone_key, false))`;

/** The next NAME_WINDOW records' ranks in a window's order (NULL past the end of the region). */
const NEIGHBOURS = (window: string) => Array.from({ length: NAME_WINDOW }, (_, k) => `lead(seniority, ${k + 1}) OVER ${window}`).join(', ');

/**
 * Links between records (a, b by seniority; both directions are read later): a shared contact
 * links each holder to the contact's senior holder (a star, linear in the holders); names link
 * sorted neighbours.
 */
const EDGES_SQL = `
CREATE OR REPLACE TEMP TABLE ${T.edges} AS
WITH contact_links AS (
  SELECT seniority AS a, min(seniority) OVER (PARTITION BY email_key) AS b, 'email' AS code
  FROM temp.${T.people} WHERE email_key IS NOT NULL AND email_sharers BETWEEN 2 AND ${MAX_SHARED_CONTACT}
  UNION ALL
  SELECT seniority, min(seniority) OVER (PARTITION BY phone_key), 'phone'
  FROM temp.${T.people} WHERE phone_key IS NOT NULL AND phone_sharers BETWEEN 2 AND ${MAX_SHARED_CONTACT}
),
named AS (
  SELECT seniority, name_key, region_key, email_key, phone_key
  FROM temp.${T.people}
  WHERE name_key IS NOT NULL AND region_key IS NOT NULL AND name_holders <= ${MAX_NAME_GROUP}
),
candidates AS (
  -- Each record and the next NAME_WINDOW in each order (window functions: no join, linear).
  SELECT seniority AS a, unnest([${NEIGHBOURS('by_name')}]) AS b FROM named
  WINDOW by_name AS (PARTITION BY region_key ORDER BY name_key, seniority)
  UNION
  SELECT seniority, unnest([${NEIGHBOURS('by_reversed_name')}]) FROM named
  WINDOW by_reversed_name AS (PARTITION BY region_key ORDER BY reverse(name_key), seniority)
),
neighbours AS (
  SELECT c.a, c.b
  FROM candidates c JOIN named x ON x.seniority = c.a JOIN named y ON y.seniority = c.b
  WHERE ${namesAgree('x', 'y')}
)
SELECT DISTINCT least(a, b) AS a, greatest(a, b) AS b, code FROM contact_links WHERE a <> b
UNION
SELECT DISTINCT least(a, b), greatest(a, b), 'name' FROM neighbours`;

/** Label propagation: every linked record's label becomes the smallest rank in its group. Returns the rounds taken. */
async function propagateLabels(store: Store): Promise<number> {
  await store.run(
    `CREATE OR REPLACE TEMP TABLE ${T.labels} AS
     SELECT node, min(node) AS label FROM (SELECT a AS node FROM temp.${T.edges} UNION ALL SELECT b FROM temp.${T.edges}) GROUP BY node`,
  );
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    await store.run(
      `CREATE OR REPLACE TEMP TABLE ${T.next} AS
       WITH links AS (SELECT a AS node, b AS other FROM temp.${T.edges} UNION ALL SELECT b, a FROM temp.${T.edges})
       SELECT l.node, least(l.label, coalesce(min(o.label), l.label)) AS label
       FROM temp.${T.labels} l LEFT JOIN links k ON k.node = l.node LEFT JOIN temp.${T.labels} o ON o.node = k.other
       GROUP BY l.node, l.label`,
    );
    const changed = (await store.value<number>(
      `SELECT count(*) FROM temp.${T.next} n JOIN temp.${T.labels} l USING (node) WHERE n.label <> l.label`,
    )) ?? 0;
    await store.run(`DROP TABLE temp.${T.labels}`);
    await store.run(`ALTER TABLE temp.${T.next} RENAME TO ${T.labels}`);
    if (!changed) return round;
  }
  return MAX_ROUNDS;
}

/** Evidence codes of the duplicate against the survivor itself, joined by '+' in code order. */
const DIRECT_EVIDENCE = `concat_ws('+',
    CASE WHEN d.email_key = s.email_key THEN 'email' END,
    CASE WHEN ${namesSimilar('d', 's')} THEN 'name' END,
    CASE WHEN d.phone_key = s.phone_key THEN 'phone' END,
    CASE WHEN ${namesSimilar('d', 's')} THEN 'region' END)`;

/** One row per record of a group that is not its survivor. */
const PAIRS_SQL = `
CREATE OR REPLACE TEMP TABLE ${T.pairs} AS
WITH members AS (
  SELECT node, label FROM temp.${T.labels} WHERE node <> label
),
links AS (SELECT a AS node, b AS other, code FROM temp.${T.edges} UNION ALL SELECT b, a, code FROM temp.${T.edges}),
compared AS (
  SELECT d.customer_id AS duplicate_id, s.customer_id AS surviving_id, d.seniority AS duplicate_rank, s.seniority AS surviving_rank,
         nullif(${DIRECT_EVIDENCE}, '') AS direct
  FROM members m
  JOIN temp.${T.people} d ON d.seniority = m.node
  JOIN temp.${T.people} s ON s.seniority = m.label
),
via AS (
  -- For a record with no evidence against the survivor: what linked it, and to whom.
  SELECT c.duplicate_id,
         array_to_string(list_sort(list_distinct(list(CASE k.code WHEN 'name' THEN 'name+region' ELSE k.code END))), '+') AS codes,
         string_agg(DISTINCT o.customer_id, ' ' ORDER BY o.customer_id) AS linked_via
  FROM compared c
  JOIN links k ON k.node = c.duplicate_rank
  JOIN temp.${T.people} o ON o.seniority = k.other
  WHERE c.direct IS NULL
  GROUP BY c.duplicate_id
)
SELECT c.duplicate_id, c.surviving_id,
       CASE WHEN c.direct IS NULL THEN 'low'
            -- Two contacts, or a contact and the name: two fields agree, one of them a contact.
            WHEN contains(c.direct, 'email') AND contains(c.direct, 'phone') THEN 'high'
            WHEN (contains(c.direct, 'email') OR contains(c.direct, 'phone')) AND contains(c.direct, 'name') THEN 'high'
            WHEN contains(c.direct, 'email') OR contains(c.direct, 'phone') THEN 'medium'
            ELSE 'low' END AS confidence,
       coalesce(c.direct, v.codes) AS evidence,
       v.linked_via
FROM compared c LEFT JOIN via v USING (duplicate_id)`;

/** The file's rows: high confidence first, then by survivor. */
function fileSql(masked: boolean): string {
  const email = (e: string) => (masked ? maskEmailSql(e) : e);
  const phone = (p: string) => (masked ? maskPhoneSql(p) : p);
  return `
SELECT p.duplicate_id, p.surviving_id, p.confidence, p.evidence, p.linked_via,
       ${defuseFormulaSql('d.name')} AS duplicate_name, ${defuseFormulaSql('s.name')} AS surviving_name,
       ${defuseFormulaSql('d.region')} AS duplicate_region, ${defuseFormulaSql('s.region')} AS surviving_region,
       ${defuseFormulaSql(email('d.email'))} AS duplicate_email, ${defuseFormulaSql(email('s.email'))} AS surviving_email,
       ${defuseFormulaSql(phone('d.phone'))} AS duplicate_phone, ${defuseFormulaSql(phone('s.phone'))} AS surviving_phone,
       d.first_activity AS duplicate_first_activity, s.first_activity AS surviving_first_activity,
       d.transactions AS duplicate_transactions, s.transactions AS surviving_transactions
FROM temp.${T.pairs} p
JOIN temp.${T.people} d ON d.customer_id = p.duplicate_id
JOIN temp.${T.people} s ON s.customer_id = p.surviving_id
ORDER BY CASE p.confidence WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, p.surviving_id, p.duplicate_id`;
}

/** Lines for people: what was written, by confidence and evidence, and what to do next. */
export function formatSuggestResult(r: SuggestResult): string[] {
  const n = (k: number, one: string, many: string) => `${formatCount(k)} ${k === 1 ? one : many}`;
  // The file as the user would name it: relative to the current folder when inside it.
  const relative = path.relative(process.cwd(), r.path);
  const shown = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : r.path;
  const lines = [
    `${n(r.rows, 'suggested merge', 'suggested merges')} in ${n(r.groups, 'group', 'groups')} written to ${shown} (${formatBytes(r.bytes)}; e-mails and phones ${r.masked ? 'masked' : 'as stored'})`,
    `  by confidence: high ${formatCount(r.by_confidence.high)}, medium ${formatCount(r.by_confidence.medium)}, low ${formatCount(r.by_confidence.low)}`,
  ];
  const evidence = Object.entries(r.by_evidence);
  if (evidence.length) lines.push(`  by evidence: ${evidence.map(([k, v]) => `${k} ${formatCount(v)}`).join(', ')}`);
  const s = r.skipped;
  if (s.shared_emails || s.shared_phones || s.common_names) {
    lines.push(
      `  not evidence: ${n(s.shared_emails, 'e-mail', 'e-mails')} and ${n(s.shared_phones, 'phone', 'phones')} shared by more than ${MAX_SHARED_CONTACT} ids, ${n(s.common_names, 'name', 'names')} held by more than ${MAX_NAME_GROUP} customers of a region`,
    );
  }
  if (r.rows) lines.push(`Review the file (delete the rows that are not one customer), then: crm ingest merges ${/[\s"'$`\\]/.test(shown) ? JSON.stringify(shown) : shown}`);
  return lines;
}
