/**
 * `crm customer QUERY`: find a customer by whatever the caller has — the id, an e-mail address,
 * a phone number, (part of) a name, or attributes of the customers file (`--where key=value`).
 *
 * The normalised forms of ../ingest/normalise.ts (the same ones `crm quality` uses to find
 * duplicates), each test reading only its own column, every user value a bound parameter: the SQL text is
 * chosen from constant fragments, never built from what the user typed. Which fragments apply
 * depends on the query's own normalised forms (a query that is no phone number is not compared
 * with phones), so a name search does not pay for the phone normaliser over every row.
 *
 * Personal data is masked in what is shown (src/reports/pii.ts) unless the caller asks for it.
 */
import { Store, type Row } from '../store/db.js';
import { inputError, usageError } from '../util/errors.js';
import { renderTable, formatCount, visibleText } from '../util/format.js';
import { MIN_PHONE_DIGITS, NORMALISED_EMAIL, NORMALISED_NAME, NORMALISED_PHONE } from '../ingest/normalise.js';
import { maskEmailSql, maskNameSql, maskPhoneSql } from '../reports/pii.js';
import { customer360In, type Customer360 } from './customer360.js';

/** What made a customer a candidate, strongest first (the order candidates are listed in). */
export const MATCH_KINDS = ['id', 'email', 'phone', 'name', 'attribute'] as const;
export type MatchKind = (typeof MATCH_KINDS)[number];

/** `--where key=value`: the customers file's unmapped column `key` (in `attributes`) holds `value`. */
export interface AttributeCondition {
  key: string;
  value: string;
}

export interface PrivacyOptions {
  /** Show e-mail, phone (and name) as stored (`--show-pii`); otherwise masked. */
  showPii: boolean;
  /** Names are personal data too (`privacy.mask_names` in crm.config.json). */
  maskNames: boolean;
}

export interface LookupOptions extends PrivacyOptions {
  where: AttributeCondition[];
  /** The most candidates listed (`--limit`). */
  limit: number;
}

export interface Candidate {
  customer_id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  region: string | null;
  /** The latest run's value tier (null before any run or for a customer the run did not score). */
  value_tier: string | null;
  matched: MatchKind[];
}

export interface CandidateList {
  query: string | null;
  where: AttributeCondition[];
  /** How many customers matched (all of them, not only those listed). */
  matches: number;
  limit: number;
  pii_masked: boolean;
  candidates: Candidate[];
}

/** One match: the 360° view, with what matched. */
export type FoundCustomer = Customer360 & { matched: MatchKind[]; pii_masked: boolean };

export type LookupResult = { kind: 'customer'; customer: FoundCustomer } | { kind: 'candidates'; list: CandidateList };

/** `--where key=value`, split at the first `=` (values may hold `=`). */
export function parseWhere(text: string): AttributeCondition {
  const at = text.indexOf('=');
  const key = at < 0 ? '' : text.slice(0, at).trim();
  if (!key) throw usageError(`--where ${JSON.stringify(text)}: give key=value, e.g. --where plate=沪A12345`);
  return { key, value: text.slice(at + 1) };
}

/** `--limit N`: how many candidates to list, 1 or more. */
export function parseLimit(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw usageError(`--limit ${JSON.stringify(text)}: give a whole number of candidates, 1 or more`);
  return Number(text);
}

/** A JSON pointer (RFC 6901) to a top-level key: no character of the key is read as path syntax. */
const jsonPointer = (key: string) => '/' + key.replaceAll('~', '~0').replaceAll('/', '~1');

/** The query's own normalised forms, computed by the same SQL as the customers' (one home). */
interface QueryForms {
  email: string;
  phone: string;
  phone_like: boolean;
  phone_digits: string;
  name: string;
}

/**
 * A normalised phone's digits in order, as a LIKE pattern (`%1%3%8%…%`): every stored phone that
 * normalises to it holds these digits in this order, so the pattern is a cheap first filter
 * before the normaliser's regular expression runs (a fraction of the time over every customer).
 */
export const PHONE_DIGITS_PATTERN = (normalised: string) => `'%' || regexp_replace(${normalised}, '([0-9])', '\\1%', 'g')`;

const QUERY_FORMS_SQL = `
SELECT ${NORMALISED_EMAIL('$q')} AS email,
       ${NORMALISED_PHONE('$q')} AS phone,
       regexp_full_match(trim($q), '[-+0-9 ()./]+') AS phone_like,
       ${PHONE_DIGITS_PATTERN(NORMALISED_PHONE('$q'))} AS phone_digits,
       ${NORMALISED_NAME('trim($q)')} AS name`;

/**
 * The match tests that apply to this query, as SQL over `customers` with bound parameters. The
 * id is always tested; then the query is read as what it looks like: with an `@` an e-mail
 * address, written like a phone number (digits and + - ( ) . / spaces, at least
 * MIN_PHONE_DIGITS digits) a phone, else (part of) a name. So the digits of an id such as
 * C0001234567 are not taken for a phone, and each query scans with one normaliser only.
 */
function matchTests(forms: QueryForms | null): { kind: MatchKind; sql: string }[] {
  if (!forms) return [];
  const tests: { kind: MatchKind; sql: string }[] = [{ kind: 'id', sql: 'customer_id = $q' }];
  if (forms.email.includes('@')) {
    // contains(lower(…)) first: cheaper than trimming every address, and true for every match.
    tests.push({ kind: 'email', sql: `(contains(lower(email), $email) AND ${NORMALISED_EMAIL('email')} = $email)` });
  } else if (forms.phone_like && forms.phone.length >= MIN_PHONE_DIGITS) {
    tests.push({ kind: 'phone', sql: `(phone LIKE $phone_digits AND ${NORMALISED_PHONE('phone')} = $phone)` });
  } else if (forms.name !== '') {
    // contains() is a literal substring test: % and _ in a name are characters, not LIKE wildcards.
    tests.push({ kind: 'name', sql: `contains(${NORMALISED_NAME('name')}, $name)` });
  }
  return tests;
}

/** Attribute values compare whole, trimmed, case- and width-insensitively (as names do). */
function attributeTests(where: AttributeCondition[]): string[] {
  return where.map((_, i) => `${NORMALISED_NAME(`trim(json_extract_string(attributes, $key${i}))`)} = ${NORMALISED_NAME(`trim($value${i})`)}`);
}

function shown(expr: string, mask: (e: string) => string, masked: boolean): string {
  return masked ? mask(expr) : expr;
}

/**
 * The candidates: every customer matching the query (any test) and every --where condition,
 * strongest match first (id, e-mail, phone, the whole name, part of the name), then by id.
 */
async function candidates(store: Store, query: string | null, options: LookupOptions): Promise<CandidateList> {
  const forms = query === null ? null : ((await store.one<QueryForms & Row>(QUERY_FORMS_SQL, { q: query })) as QueryForms);
  const tests = matchTests(forms);
  // DuckDB refuses a bound parameter the statement does not use: bind those of the tests that apply.
  const params: Record<string, string | number> = { limit: options.limit };
  if (forms) {
    const value: Record<MatchKind, string> = { id: query!, email: forms.email, phone: forms.phone, name: forms.name, attribute: '' };
    for (const t of tests) params[t.kind === 'id' ? 'q' : t.kind] = value[t.kind];
    if (tests.some((t) => t.kind === 'phone')) params.phone_digits = forms.phone_digits;
  }
  options.where.forEach((w, i) => Object.assign(params, { [`key${i}`]: jsonPointer(w.key), [`value${i}`]: w.value }));
  const masked = !options.showPii;
  const wholeName = tests.some((t) => t.kind === 'name') ? [{ kind: 'whole_name', sql: `${NORMALISED_NAME('name')} = $name` }] : [];
  // Each test scans by itself, so DuckDB pushes it into the scan: it reads the tested column of
  // every customer and the shown columns of the matching rows only (the id test is an equality
  // checked against each block's min/max first). UNION keeps a row found by two tests once (by
  // its rowid). One scan with the tests OR-ed decompressed all five columns of every customer:
  // most of a lookup's time on 2.5M customers.
  const attributes = attributeTests(options.where).map((t) => `\n    AND ${t}`).join('');
  const scans = (tests.length ? tests.map((t) => `(${t.sql})`) : ['true']).map(
    (test) => `SELECT rowid AS customer_row, customer_id, name, email, phone, region\n  FROM customers\n  WHERE ${test}${attributes}`,
  );
  const flags = [...tests, ...wholeName].map((t) => `coalesce(${t.sql}, false) AS by_${t.kind}`);
  // A customer matched only by --where has 'attribute' as its reason; with a query too, the
  // attributes are a filter and the query's tests are the reasons.
  const reasons = tests.length ? tests.map((t) => `CASE WHEN by_${t.kind} THEN '${t.kind}' END`) : [`'attribute'`];
  const strongestFirst = [...tests, ...wholeName].map((t) => `by_${t.kind} DESC`).concat('customer_id').join(', ');
  const sql = `
WITH hits AS (
  ${scans.join('\n  UNION\n  ')}
),
tested AS (
  SELECT *${flags.map((f) => `,\n         ${f}`).join('')}, count(*) OVER () AS matches
  FROM hits
),
listed AS (
  SELECT *, list_filter([${reasons.join(', ')}], x -> x IS NOT NULL) AS matched
  FROM tested ORDER BY ${strongestFirst} LIMIT $limit
)
SELECT customer_id,
       ${shown('l.name', maskNameSql, masked && options.maskNames)} AS name,
       ${shown('l.email', maskEmailSql, masked)} AS email,
       ${shown('l.phone', maskPhoneSql, masked)} AS phone,
       l.region, m.value_tier, l.matched, l.matches
FROM listed l LEFT JOIN customer_latest m USING (customer_id)
ORDER BY ${strongestFirst.split(', ').map((k) => `l.${k}`).join(', ')}`;
  const rows = await store.all<Row>(sql, params);
  return {
    query,
    where: options.where,
    matches: rows.length ? Number(rows[0]!.matches) : 0,
    limit: options.limit,
    pii_masked: masked,
    candidates: rows.map(({ matches: _matches, ...c }) => c as unknown as Candidate),
  };
}

function describeSearch(query: string | null, where: AttributeCondition[]): string {
  const parts = [
    ...(query === null ? [] : [`${JSON.stringify(query)} (by id, e-mail, phone or name)`]),
    ...where.map((w) => `${w.key}=${JSON.stringify(w.value)}`),
  ];
  return parts.join(' and ');
}

/**
 * Find a customer: an exact id wins (as `crm customer ID` always did, including customers known
 * only by their orders or contracts; with --where, the id must also hold the attributes); one
 * match shows its 360° view; several are listed.
 */
export async function lookupCustomer(storePath: string, query: string | null, options: LookupOptions): Promise<LookupResult> {
  if (query === null && options.where.length === 0) throw usageError('give a customer id, e-mail, phone or name, or --where key=value');
  const store = await Store.open(storePath, { readOnly: true });
  try {
    return await lookupIn(store, query, options);
  } finally {
    store.close();
  }
}

/** lookupCustomer on an open store. */
export async function lookupIn(store: Store, query: string | null, options: LookupOptions): Promise<LookupResult> {
  // An exact id wins: probed first (a point lookup in customers), so the commonest use pays for no scan.
  const byIdOnly = query !== null && options.where.length === 0;
  if (byIdOnly && (await store.value<number>('SELECT count(*) FROM customers WHERE customer_id = $q', { q: query }))) {
    return { kind: 'customer', customer: { ...(await customer360In(store, query, options))!, matched: ['id'], pii_masked: !options.showPii } };
  }
  const list = await candidates(store, query, options);
  const byId = list.candidates.find((c) => c.matched.includes('id'));
  const one = byId ?? (list.matches === 1 ? list.candidates[0] : undefined);
  if (one) return { kind: 'customer', customer: { ...(await customer360In(store, one.customer_id, options))!, matched: one.matched, pii_masked: list.pii_masked } };
  if (list.matches === 0 && byIdOnly) {
    // Not in the customers table: a customer known by orders or contracts only, by exact id.
    const view = await customer360In(store, query, options);
    if (view) return { kind: 'customer', customer: { ...view, matched: ['id'], pii_masked: list.pii_masked } };
  }
  if (list.matches === 0) throw inputError(`no customer ${describeSearch(query, options.where)} in the store`, query === null ? [] : ['An id must match exactly; an e-mail or phone must match whole (after normalising); a name may match in part.']);
  return { kind: 'candidates', list };
}

export function formatCandidates(l: CandidateList): string[] {
  const head = `${formatCount(l.matches)} customers match ${describeSearch(l.query, l.where)}${l.matches > l.candidates.length ? `; the first ${l.candidates.length} (--limit)` : ''}:`;
  const table = renderTable(
    ['customer', 'name', 'email', 'phone', 'region', 'tier', 'matched'],
    l.candidates.map((c) => [c.customer_id, c.name ?? '', c.email ?? '', c.phone ?? '', c.region ?? '', c.value_tier ?? '—', c.matched.join(', ')].map((v) => visibleText(v))),
    { maxCellWidth: 40 },
  );
  return [head, '', table, '', 'Show one with `crm customer ID`.'];
}
