/**
 * Staging: one pass of DuckDB over a source turns its text columns into typed canonical
 * fields and gives every row either no reason (it loads) or exactly one reject reason. The
 * staged table is temporary and built outside the loading transaction (DuckDB appends far
 * faster that way); loading then copies from it atomically.
 *
 * SQL layout (dbt-style, one small step per CTE):
 *   src     — the source relation, text columns as in the file
 *   parsed  — p_* typed values next to t_* original texts
 *   checked — the reject reason, the amount and the return flag
 *   final   — explicit output columns, plus column/detail/raw for rejects
 */
import type { Store } from '../store/db.js';
import { ident, literal } from '../store/db.js';
import type { Tick } from '../util/progress.js';
import type { DatasetKind } from './fields.js';
import { fieldsFor } from './fields.js';
import type { Mapping } from './mapping.js';
import type { SourceTable } from './sources.js';
import {
  dayMonthEvidence,
  decimalExpr,
  detectDecimalSeparator,
  decideDayMonthOrder,
  idExpr,
  planDates,
  textExpr,
  timestampExpr,
  type DatePlan,
  type DayMonthEvidence,
  type DecimalSeparator,
} from './values.js';

export const DEFAULT_RETURN_PATTERN = '^C';

const SAMPLE_ROWS = 200_000;
const SAMPLE_VALUES = 50_000;

export interface Conventions {
  datePlans: Record<string, DatePlan>;
  decimalSeparators: Record<string, DecimalSeparator>;
}

/**
 * Read how this source writes dates and numbers, from a sample of its first rows; when the
 * day/month order of dd/mm/yyyy-like dates is undecided there, look at the whole column.
 */
export async function detectConventions(
  store: Store,
  source: SourceTable,
  kind: DatasetKind,
  mapping: Mapping,
  dateFormatFlag?: string,
): Promise<Conventions> {
  const datePlans: Record<string, DatePlan> = {};
  const decimalSeparators: Record<string, DecimalSeparator> = {};
  for (const field of fieldsFor(kind)) {
    const col = mapping[field.name];
    if (!col) continue;
    const c = ident(col);
    if (field.type === 'date') {
      const values = await store.all<{ v: string }>(
        `SELECT DISTINCT trim(${c}) AS v FROM (SELECT ${c} FROM ${source.sampleRelation} LIMIT ${SAMPLE_ROWS}) WHERE ${c} IS NOT NULL LIMIT ${SAMPLE_VALUES}`,
      );
      let evidence: DayMonthEvidence = dayMonthEvidence(values.map((r) => r.v));
      if (!dateFormatFlag && decideDayMonthOrder(evidence) === 'ambiguous') {
        evidence = await wholeColumnDayMonthEvidence(store, source, col);
      }
      datePlans[field.name] = planDates(evidence, dateFormatFlag);
    } else if (field.type === 'decimal') {
      const values = await store.all<{ v: string }>(
        `SELECT trim(${c}) AS v FROM (SELECT ${c} FROM ${source.sampleRelation} LIMIT ${SAMPLE_ROWS}) WHERE ${c} IS NOT NULL AND TRY_CAST(trim(${c}) AS DECIMAL(18,4)) IS NULL LIMIT 5000`,
      );
      decimalSeparators[field.name] = detectDecimalSeparator(values.map((r) => r.v));
    }
  }
  return { datePlans, decimalSeparators };
}

async function wholeColumnDayMonthEvidence(store: Store, source: SourceTable, col: string): Promise<DayMonthEvidence> {
  const c = `trim(${ident(col)})`;
  const shape = `'^(\\d{1,2})[/.-](\\d{1,2})[/.-](\\d{2}|\\d{4})'`;
  const row = await store.one<{ n: number; a: number | null; b: number | null }>(
    `SELECT count(*) AS n, max(TRY_CAST(regexp_extract(${c}, ${shape}, 1) AS INTEGER)) AS a, max(TRY_CAST(regexp_extract(${c}, ${shape}, 2) AS INTEGER)) AS b
     FROM ${source.sampleRelation} WHERE regexp_matches(${c}, ${shape})`,
  );
  return { candidates: row?.n ?? 0, maxFirst: row?.a ?? 0, maxSecond: row?.b ?? 0 };
}

export interface StagePlan {
  kind: DatasetKind;
  source: SourceTable;
  mapping: Mapping;
  /** Source columns not mapped to a field: kept in `attributes`. */
  unmapped: string[];
  conventions: Conventions;
  /** Regular expression on order_id marking returns (transactions). */
  returnPattern: string;
  /** Name of the temporary stage table to create. */
  table: string;
}

const SQL_TYPE = { id: 'VARCHAR', text: 'VARCHAR', date: 'TIMESTAMP', decimal: 'DECIMAL(18,4)' } as const;

/** Non-empty text: a value was given, so a NULL parse means it was unreadable. */
const given = (t: string) => `(${t} IS NOT NULL AND trim(${t}) <> '')`;
const quoted = (t: string) => `'"' || ${t} || '"'`;

interface Check {
  reason: string;
  when: string;
  field: string | null;
  detail: string;
}

function dateHint(plan: DatePlan, t: string): string {
  return plan.order === null && !plan.explicit
    ? ` || CASE WHEN regexp_matches(trim(${t}), '^\\d{1,2}[/.-]\\d{1,2}[/.-]\\d{2,4}') THEN ' (day/month order unknown: pass --date-format DMY or MDY)' ELSE '' END`
    : '';
}

/** The CREATE TEMP TABLE … AS statement for a stage. */
export function stageSql(plan: StagePlan): string {
  const { kind, source, mapping } = plan;
  const fields = fieldsFor(kind);
  const hasExtra = source.numbering.kind === 'column';
  // Source columns are renamed c1…cN in the first CTE so no header can clash with our names.
  const position = new Map(source.headers.map((h, i) => [h, `c${i + 1}`]));
  const col = (field: string) => position.get(mapping[field])!;
  const parsedCols: string[] = [
    source.numbering.kind === 'column' ? `"__row" AS src_row` : 'CAST(NULL AS BIGINT) AS src_row',
    hasExtra ? `"__extra" AS src_extra` : 'CAST(NULL AS VARCHAR) AS src_extra',
  ];
  for (const f of fields) {
    if (!mapping[f.name]) {
      parsedCols.push(`CAST(NULL AS ${SQL_TYPE[f.type]}) AS p_${f.name}`, `CAST(NULL AS VARCHAR) AS t_${f.name}`);
      continue;
    }
    const c = col(f.name);
    parsedCols.push(`${c} AS t_${f.name}`);
    switch (f.type) {
      case 'id':
        parsedCols.push(`${idExpr(c)} AS p_${f.name}`);
        break;
      case 'text':
        parsedCols.push(`${textExpr(c)} AS p_${f.name}`);
        break;
      case 'date':
        parsedCols.push(`${timestampExpr(c, plan.conventions.datePlans[f.name])} AS p_${f.name}`);
        break;
      case 'decimal':
        parsedCols.push(`${decimalExpr(c, plan.conventions.decimalSeparators[f.name] ?? '.')} AS p_${f.name}`);
        break;
    }
  }
  const attributes = plan.unmapped.length
    ? `json_object(${plan.unmapped.map((h) => `${literal(h)}, ${position.get(h)}`).join(', ')})`
    : 'CAST(NULL AS JSON)';
  parsedCols.push(`${attributes} AS p_attributes`);
  // The original columns travel along so a rejected row's raw text can be rebuilt, for
  // rejected rows only (a CASE branch is evaluated just for the rows that take it).
  parsedCols.push(...source.headers.map((_, i) => `c${i + 1}`));

  const checks: Check[] = [
    {
      reason: 'malformed_row',
      when: 'src_extra IS NOT NULL',
      field: null,
      detail: `'cells beyond the last column: ' || src_extra`,
    },
    {
      reason: 'missing_customer_id',
      when: 'p_customer_id IS NULL',
      field: 'customer_id',
      detail: `'no customer id'`,
    },
  ];
  // Conditions test the parsed value first: AND in a CASE condition only evaluates its second
  // operand on the rows that passed the first, so valid rows never pay for the text check.
  const decimalCheck = (field: string, what: string): Check => ({
    reason: `invalid_${field}`,
    when: `p_${field} IS NULL AND ${given(`t_${field}`)}`,
    field,
    detail: `'cannot read ' || ${quoted(`t_${field}`)} || ' as ${what}'`,
  });
  if (kind === 'transactions') {
    const datePlan = plan.conventions.datePlans.order_date;
    checks.push(
      { reason: 'missing_order_date', when: `p_order_date IS NULL AND NOT ${given('t_order_date')}`, field: 'order_date', detail: `'no order date'` },
      {
        reason: 'invalid_order_date',
        when: 'p_order_date IS NULL',
        field: 'order_date',
        detail: `'cannot read ' || ${quoted('t_order_date')} || ' as a date'${dateHint(datePlan, 't_order_date')}`,
      },
    );
    for (const [field, what] of [
      ['amount', 'an amount'],
      ['quantity', 'a quantity'],
      ['unit_price', 'a price'],
      ['cost', 'a cost'],
    ] as const) {
      if (mapping[field]) checks.push(decimalCheck(field, what));
    }
    checks.push({
      reason: 'missing_amount',
      when: 'amt IS NULL',
      field: mapping.amount ? 'amount' : mapping.quantity && mapping.unit_price ? 'quantity' : null,
      detail: mapping.amount
        ? `'no amount'`
        : `CASE WHEN p_quantity IS NULL OR p_unit_price IS NULL THEN 'no amount: quantity or unit price is empty' ELSE 'quantity × unit price is out of range' END`,
    });
  } else {
    const datePlan = plan.conventions.datePlans.signup_date;
    if (mapping.signup_date) {
      checks.push({
        reason: 'invalid_signup_date',
        when: `p_signup_date IS NULL AND ${given('t_signup_date')}`,
        field: 'signup_date',
        detail: `'cannot read ' || ${quoted('t_signup_date')} || ' as a date'${dateHint(datePlan, 't_signup_date')}`,
      });
    }
  }
  const reasonCase = `CASE ${checks.map((c) => `WHEN ${c.when} THEN ${literal(c.reason)}`).join(' ')} END`;
  const columnCase = `CASE reason ${checks
    .filter((c) => c.field && mapping[c.field])
    .map((c) => `WHEN ${literal(c.reason)} THEN ${literal(mapping[c.field!])}`)
    .join(' ')} END`;
  const detailCase = `CASE reason ${checks
    .map((c) => `WHEN ${literal(c.reason)} THEN ${c.field && mapping[c.field] ? `${literal(mapping[c.field] + ': ')} || ` : ''}${c.detail}`)
    .join(' ')} END`;

  const returnPattern = literal(plan.returnPattern);
  const checked =
    kind === 'transactions'
      ? `SELECT *,
           ${reasonCase} AS reason,
           (amt < 0 OR p_quantity < 0 OR coalesce(regexp_matches(p_order_id, ${returnPattern}), false)) AS is_return
         FROM (SELECT *, COALESCE(p_amount, TRY_CAST(p_quantity * p_unit_price AS DECIMAL(18,4))) AS amt FROM parsed)`
      : `SELECT *, ${reasonCase} AS reason FROM parsed`;

  const output =
    kind === 'transactions'
      ? [
          'p_customer_id AS customer_id',
          'p_order_id AS order_id',
          'CAST(p_order_date AS DATE) AS order_date',
          'p_order_date AS order_ts',
          'p_quantity AS quantity',
          'p_unit_price AS unit_price',
          // Returns always carry a negative amount, whatever sign the export used.
          'CASE WHEN is_return AND amt > 0 THEN -amt ELSE amt END AS amount',
          'p_cost AS cost',
          'p_product AS product',
          'p_category AS category',
          'p_channel AS channel',
          'p_region AS region',
          'coalesce(is_return, false) AS is_return',
        ]
      : [
          'p_customer_id AS customer_id',
          'p_name AS name',
          'p_email AS email',
          'p_phone AS phone',
          'p_region AS region',
          'p_industry AS industry',
          'p_account_owner AS account_owner',
          'CAST(p_signup_date AS DATE) AS signup_date',
        ];

  const srcCols = source.headers.map((h, i) => `${ident(h)} AS c${i + 1}`);
  if (source.numbering.kind === 'column') srcCols.push('"__row"', '"__extra"');
  const raw = rawExpr(source);
  return `CREATE TEMP TABLE ${ident(plan.table)} AS
WITH src AS (
  SELECT ${srcCols.join(', ')} FROM ${source.relation}
),
parsed AS (
  SELECT ${parsedCols.join(',\n    ')}
  FROM src
),
checked AS (
  ${checked}
)
SELECT
  src_row,
  ${output.join(',\n  ')},
  p_attributes AS attributes,
  reason,
  CASE WHEN reason IS NOT NULL THEN ${columnCase} END AS column_name,
  CASE WHEN reason IS NOT NULL THEN ${detailCase} END AS detail,
  CASE WHEN reason IS NOT NULL THEN ${raw} END AS raw${kind === 'customers' ? `,\n  ${raw} AS raw_all` : ''}
FROM checked`;
}

/** The original row as text: re-serialised in the file's own delimiter, or as a JSON object. */
function rawExpr(source: SourceTable): string {
  const cols = source.headers.map((_, i) => `c${i + 1}`);
  if (source.raw.kind === 'json') {
    return `CAST(json_object(${source.headers.map((h, i) => `${literal(h)}, c${i + 1}`).join(', ')}) AS VARCHAR)`;
  }
  const d = literal(source.raw.delimiter);
  const q = literal(source.raw.quote);
  const field = (c: string) =>
    `CASE WHEN ${c} IS NULL THEN '' WHEN contains(${c}, ${d}) OR contains(${c}, ${q}) OR contains(${c}, chr(10)) OR contains(${c}, chr(13)) THEN ${q} || replace(${c}, ${q}, ${q} || ${q}) || ${q} ELSE ${c} END`;
  return `concat_ws(${d}, ${cols.map(field).join(', ')})`;
}

export interface StageCounts {
  staged: number;
  byReason: Record<string, number>;
}

export async function buildStage(store: Store, plan: StagePlan, tick: Tick): Promise<StageCounts> {
  await store.runWithProgress(stageSql(plan), tick);
  const rows = await store.all<{ reason: string | null; n: number }>(
    `SELECT reason, count(*) AS n FROM temp.${ident(plan.table)} GROUP BY reason`,
  );
  const byReason: Record<string, number> = {};
  let staged = 0;
  for (const r of rows) {
    staged += r.n;
    if (r.reason) byReason[r.reason] = r.n;
  }
  return { staged, byReason };
}
