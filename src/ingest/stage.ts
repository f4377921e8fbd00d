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
import { inputError } from '../util/errors.js';
import type { Tick } from '../util/progress.js';
import type { DatasetKind } from './fields.js';
import { CONTRACT_STATUS_WORDS, fieldsFor, MERGE_CONFIDENCES, MERGE_EVIDENCE_CODES } from './fields.js';
import { numberStage } from './load.js';
import type { Mapping } from './mapping.js';
import type { SourceTable } from './sources.js';
import {
  dayMonthEvidence,
  decideDayMonthOrder,
  decideDecimalSeparator,
  decimalEvidenceExpr,
  decimalExpr,
  EVIDENCE,
  EXCEL_SERIAL_DAYS,
  idExpr,
  planDates,
  statusExpr,
  textExpr,
  timestampExpr,
  trimExpr,
  unstorableDateExpr,
  type DatePlan,
  type DayMonthEvidence,
  type DecimalDecision,
  type DecimalEvidence,
  type DecimalSeparator,
} from './values.js';
import { NARROW_TABLE, transactionTableFor, WIDE_ONLY_COLUMNS } from '../store/transactions.js';

export const DEFAULT_RETURN_PATTERN = '^C';

/**
 * A merge file's evidence as the store keeps it: its codes, lower case, sorted and joined by '+'
 * (`Phone + email` → `email+phone`); NULL when a part is not a known code (the row is rejected).
 */
const EVIDENCE_CODES_SQL = (t: string) => {
  const parts = `list_transform(string_split(lower(${t}), '+'), part -> trim(part))`;
  const codes = `[${MERGE_EVIDENCE_CODES.map((c) => literal(c)).join(', ')}]`;
  return `CASE WHEN len(list_filter(${parts}, part -> NOT list_contains(${codes}, part))) = 0 THEN array_to_string(list_sort(list_distinct(${parts})), '+') END`;
};

/** Rows read to detect conventions (date order, a proven decimal point): the first of the source. */
export const SAMPLE_ROWS = 200_000;
const SAMPLE_VALUES = 50_000;

export interface Conventions {
  datePlans: Record<string, DatePlan>;
  /**
   * The decimal separator of each mapped decimal field; null when no value decides it (then
   * values holding `.` or `,` are rejected). Until `buildStage` has seen every value this is
   * provisional ('.') and `decimalEvidencePending` is true.
   */
  decimalSeparators: Record<string, DecimalDecision>;
  decimalEvidencePending: boolean;
  /**
   * The pending decimal fields whose sample already holds a value that reads only with a decimal
   * point, and none that reads only with a comma (`sampleDecimalEvidence`). The point is then
   * proven without counting every value, so the stage works out a value's evidence for the
   * rejected rows only (see `stageSql`): read with the provisional point, a value that reads
   * only with a comma is always rejected, so those rows hold every comma the column has.
   */
  decimalPointSeen?: Record<string, true>;
}

/**
 * Read how this source writes dates, from a sample of its first rows; when the day/month order
 * of dd/mm/yyyy-like dates is undecided there, look at the whole column. The decimal separator
 * is the user's (--decimal-separator, config) or decided later from every staged value.
 */
export async function detectConventions(
  store: Store,
  source: SourceTable,
  kind: DatasetKind,
  mapping: Mapping,
  dateFormatFlag?: string,
  decimalSeparatorFlag?: DecimalSeparator,
  /** A name for a temporary table of the sample, when more than one query reads it. */
  sampleTable?: string,
): Promise<Conventions> {
  const mapped = fieldsFor(kind).filter((f) => mapping[f.name]);
  const dateFields = mapped.filter((f) => f.type === 'date');
  const decimalFields = mapped.filter((f) => f.type === 'decimal');
  const readsEvidence = !decimalSeparatorFlag && decimalFields.length > 0 && !source.numberCells;
  // The sample is the first SAMPLE_ROWS rows of the source. Read by more than one query (each
  // date column, the decimal evidence), it is read from the file once, into a temporary table:
  // 9.8M-line CSV, two reads of it cost ~0.65 CPU-s.
  const sampleCols = [...new Set([...dateFields, ...(readsEvidence ? decimalFields : [])].map((f) => ident(mapping[f.name]!)))];
  const materialise = sampleTable !== undefined && dateFields.length + (readsEvidence ? 1 : 0) > 1;
  const sample = materialise ? `temp.${ident(sampleTable)}` : `(SELECT * FROM ${source.sampleRelation} LIMIT ${SAMPLE_ROWS})`;
  if (materialise) await store.run(`CREATE OR REPLACE TEMP TABLE ${ident(sampleTable)} AS SELECT ${sampleCols.join(', ')} FROM ${source.sampleRelation} LIMIT ${SAMPLE_ROWS}`);
  try {
    return await conventionsFrom(store, source, kind, mapping, sample, dateFormatFlag, decimalSeparatorFlag);
  } finally {
    if (materialise) await store.run(`DROP TABLE IF EXISTS temp.${ident(sampleTable)}`);
  }
}

/** detectConventions over `sample`, a relation of the sample's rows (at least its date and decimal columns). */
async function conventionsFrom(
  store: Store,
  source: SourceTable,
  kind: DatasetKind,
  mapping: Mapping,
  sample: string,
  dateFormatFlag?: string,
  decimalSeparatorFlag?: DecimalSeparator,
): Promise<Conventions> {
  const datePlans: Record<string, DatePlan> = {};
  const dateEvidence: Record<string, DayMonthEvidence> = {};
  const decimalSeparators: Record<string, DecimalDecision> = {};
  for (const field of fieldsFor(kind)) {
    const col = mapping[field.name];
    if (!col) continue;
    const c = ident(col);
    if (field.type === 'date') {
      const values = await store.all<{ v: string }>(
        `SELECT DISTINCT ${trimExpr(c)} AS v FROM (SELECT ${c} FROM ${sample}) WHERE ${c} IS NOT NULL LIMIT ${SAMPLE_VALUES}`,
      );
      let evidence: DayMonthEvidence = dayMonthEvidence(values.map((r) => r.v));
      if (!dateFormatFlag && decideDayMonthOrder(evidence) === 'ambiguous') {
        evidence = await wholeColumnDayMonthEvidence(store, source, col);
      }
      datePlans[field.name] = planDates(evidence, dateFormatFlag);
      dateEvidence[field.name] = evidence;
    } else if (field.type === 'decimal') {
      decimalSeparators[field.name] = decimalSeparatorFlag ?? '.';
    }
  }
  if (!dateFormatFlag) settleDayMonthFromSiblings(datePlans, dateEvidence);
  const decimalEvidencePending = !decimalSeparatorFlag && Object.keys(decimalSeparators).length > 0;
  const decimalPointSeen = decimalEvidencePending ? await sampleDecimalEvidence(store, source, sample, Object.keys(decimalSeparators).map((f) => [f, mapping[f]!])) : {};
  return {
    datePlans,
    decimalSeparators,
    decimalEvidencePending,
    ...(Object.keys(decimalPointSeen).length ? { decimalPointSeen } : {}),
  };
}

/**
 * The decimal fields whose sample rows (the first SAMPLE_ROWS) hold a value that reads only with
 * a decimal point and none that reads only with a comma: for them a point is proven by a value the
 * stage will hold too, and only a comma elsewhere in the file can still change the decision (see
 * `Conventions.decimalPointSeen`). Sources with typed numbers are left out: their evidence needs
 * the `"__numbers"` column, and they are small (spreadsheets) or typed (JSON, Parquet).
 */
async function sampleDecimalEvidence(store: Store, source: SourceTable, sample: string, fields: [string, string][]): Promise<Record<string, true>> {
  if (source.numberCells || !fields.length) return {};
  // Each value's evidence worked out once (e0, e1…), then counted twice.
  const row = await store.one<Record<string, number>>(
    `SELECT ${fields.map((_, i) => `count(*) FILTER (WHERE e${i} = ${EVIDENCE.point}) AS p${i}, count(*) FILTER (WHERE e${i} = ${EVIDENCE.comma}) AS c${i}`).join(', ')}
     FROM (SELECT ${fields.map(([, col], i) => `${decimalEvidenceExpr(ident(col))} AS e${i}`).join(', ')} FROM ${sample})`,
  );
  const seen: Record<string, true> = {};
  fields.forEach(([f], i) => {
    if (Number(row?.[`p${i}`] ?? 0) > 0 && Number(row?.[`c${i}`] ?? 0) === 0) seen[f] = true;
  });
  return seen;
}

/**
 * One export writes all its dates one way: a date column whose own values cannot tell day from
 * month (no component above 12: `05/01/2024`) takes the order its sibling date columns agree on
 * (a contract's start, end and cancel dates), as a decimal column without evidence takes its
 * siblings' separator. Siblings that disagree, or decide nothing, leave it undecided.
 */
function settleDayMonthFromSiblings(datePlans: Record<string, DatePlan>, evidence: Record<string, DayMonthEvidence>): void {
  const decided = new Set(Object.keys(evidence).map((f) => decideDayMonthOrder(evidence[f])).filter((d) => d === 'DMY' || d === 'MDY'));
  if (decided.size !== 1) return;
  const order = [...decided][0];
  for (const [field, ev] of Object.entries(evidence)) {
    if (decideDayMonthOrder(ev) !== 'ambiguous') continue;
    const siblings = Object.entries(evidence).filter(([f]) => f !== field && decideDayMonthOrder(evidence[f]) === order).map(([f]) => f);
    const plan = planDates({ ...ev, ...(order === 'DMY' ? { maxFirst: 13 } : { maxSecond: 13 }) });
    datePlans[field] = { ...plan, note: `${order} (as ${siblings.join(', ')}: this column's own values fit either order)` };
  }
}

async function wholeColumnDayMonthEvidence(store: Store, source: SourceTable, col: string): Promise<DayMonthEvidence> {
  const c = trimExpr(ident(col));
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

const SQL_TYPE = { id: 'VARCHAR', text: 'VARCHAR', date: 'TIMESTAMP', decimal: 'DECIMAL(18,4)', status: 'VARCHAR' } as const;

/** Non-empty text: a value was given, so a NULL parse means it was unreadable. */
const given = (t: string) => `(${t} IS NOT NULL AND ${trimExpr(t)} <> '')`;
const quoted = (t: string) => `'"' || ${t} || '"'`;

interface Check {
  reason: string;
  when: string;
  field: string | null;
  detail: string;
  /** The control-character check of an id (left out when the source cannot hold one: `SourceTable.plainFields`). */
  control?: true;
}

function dateHint(plan: DatePlan, t: string): string {
  const dayMonth =
    plan.order === null && !plan.explicit
      ? ` WHEN regexp_matches(${trimExpr(t)}, '^\\d{1,2}[/.-]\\d{1,2}[/.-]\\d{2,4}') THEN ' (day/month order unknown: pass --date-format DMY or MDY)'`
      : '';
  const { first, last, firstDate, lastDate } = EXCEL_SERIAL_DAYS;
  const serial = plan.excelSerials
    ? ` WHEN regexp_full_match(${trimExpr(t)}, '-?[0-9]+(\\.[0-9]+)?') THEN ' (a number is read as an Excel serial day only from ${first} to ${last}: ${firstDate} to ${lastDate})'`
    : '';
  return dayMonth || serial ? ` || CASE${dayMonth}${serial} ELSE '' END` : '';
}

/**
 * A date column's check: unreadable, or read but not storable (`unstorableDateExpr`: a year
 * outside 1000–9999, `infinity`…), each with its sentence. `when` tests the parsed value first.
 */
function dateCheck(field: string, plan: DatePlan, required: boolean): Check {
  const [p, t] = [`p_${field}`, `t_${field}`];
  const unreadable = required ? `${p} IS NULL` : `(${p} IS NULL AND ${given(t)})`;
  return {
    reason: `invalid_${field}`,
    when: `${unreadable} OR ${unstorableDateExpr(p, t)} IS NOT NULL`,
    field,
    detail: `CASE WHEN ${p} IS NULL THEN 'cannot read ' || ${quoted(t)} || ' as a date'${dateHint(plan, t)} ELSE ${quoted(t)} || ': ' || ${unstorableDateExpr(p, t)} END`,
  };
}

/**
 * Control characters: C0 except tab (NUL, ESC, line breaks…), DEL and C1 (CSI 0x9B…). In an id
 * they would corrupt joins, exports and any terminal that prints the id.
 */
const CONTROL_CHARACTER = '[\\x{00}-\\x{08}\\x{0A}-\\x{1F}\\x{7F}-\\x{9F}]';

/** An id holding a control character is rejected, naming the character by code point (never printing it). */
function controlCharacterCheck(field: string, what: string): Check {
  const found = `regexp_extract(p_${field}, ${literal(CONTROL_CHARACTER)})`;
  return {
    reason: `invalid_${field}`,
    when: `regexp_matches(p_${field}, ${literal(CONTROL_CHARACTER)})`,
    control: true,
    field,
    detail: `'the ${what} holds the control character ' || printf('U+%04X', unicode(${found})) || ' at character ' || strpos(p_${field}, ${found}) || ' (a NUL byte or terminal escape): it is not stored'`,
  };
}

/** Why a rejected value would read with the other decimal separator, or with either. */
function decimalHint(sep: DecimalDecision, t: string): string {
  const readsOnlyOtherWay = sep === null ? EVIDENCE.ambiguous : sep === '.' ? EVIDENCE.comma : EVIDENCE.point;
  const why =
    sep === null
      ? ' (no value of the column tells whether . or , is its decimal mark; pass --decimal-separator . or ,)'
      : ` (this column writes decimals with a ${sep === '.' ? 'point' : 'comma'}; thousands are grouped in threes)`;
  return ` || CASE WHEN ${decimalEvidenceExpr(t)} = ${readsOnlyOtherWay} THEN ${literal(why)} ELSE '' END`;
}

/** `day` of a parsed timestamp, for a sentence: 2024-01-05. */
const dayText = (p: string) => `strftime(${p}, '%Y-%m-%d')`;

/** A few words of each status, for the sentence of an unknown one: active (有效, 生效…), … */
const KNOWN_STATUS_WORDS = Object.entries(CONTRACT_STATUS_WORDS)
  .map(([status, words]) => `${status} (${words.filter((w) => /[^\x00-\x7f]/.test(w)).slice(0, 3).join(', ')}…)`)
  .join(', ');

/**
 * A contract period's checks, after the customer id's: its id, both dates and the amount
 * given and readable, a known status and a readable cancel date, then the checks across
 * fields. The first that fails is the row's reason.
 *
 * - period_end before period_start: the dates are swapped or wrong; neither is guessed.
 * - A negative amount is a refund or a correction of an earlier period's premium, not a
 *   period of cover: loading it as one would count a contract that was never in force.
 * - A cancel date before the period starts: the cancellation belongs to another period (or
 *   the dates are wrong). A cancel date after the period's end is loaded: `crm quality`
 *   reports it, since an export may give a contract's cancellation on each of its periods.
 */
function contractChecks(plan: StagePlan, decimalCheck: (field: string, what: string) => Check): Check[] {
  const { mapping } = plan;
  const datePlans = plan.conventions.datePlans;
  const day = (field: string) => `CAST(p_${field} AS DATE)`;
  const checks: Check[] = [
    { reason: 'missing_contract_id', when: 'p_contract_id IS NULL', field: 'contract_id', detail: `'no contract id'` },
    controlCharacterCheck('contract_id', 'contract id'),
  ];
  for (const [field, what] of [
    ['period_start', 'period start'],
    ['period_end', 'period end'],
  ] as const) {
    checks.push(
      { reason: `missing_${field}`, when: `p_${field} IS NULL AND NOT ${given(`t_${field}`)}`, field, detail: `'no ${what}'` },
      // After missing_*: a NULL parse here means the text was given.
      dateCheck(field, datePlans[field], true),
    );
  }
  checks.push(decimalCheck('amount', 'an amount'), { reason: 'missing_amount', when: 'p_amount IS NULL', field: 'amount', detail: `'no amount'` });
  if (mapping.status) {
    checks.push({
      reason: 'invalid_status',
      when: `p_status IS NULL AND ${given('t_status')}`,
      field: 'status',
      detail: `${quoted('t_status')} || ' is not a status word crm knows: ' || ${literal(KNOWN_STATUS_WORDS)} || '; see the README'`,
    });
  }
  if (mapping.cancel_date) checks.push(dateCheck('cancel_date', datePlans.cancel_date, false));
  checks.push(
    {
      reason: 'period_end_before_start',
      when: `${day('period_end')} < ${day('period_start')}`,
      field: 'period_end',
      detail: `'the period ends on ' || ${dayText('p_period_end')} || ', before it starts on ' || ${dayText('p_period_start')}`,
    },
    {
      reason: 'negative_amount',
      when: 'p_amount < 0',
      field: 'amount',
      detail: `${quoted('t_amount')} || ' is negative: a refund or correction is not a contract period'`,
    },
  );
  if (mapping.cancel_date) {
    checks.push({
      reason: 'cancel_date_before_start',
      when: `${day('cancel_date')} < ${day('period_start')}`,
      field: 'cancel_date',
      detail: `'cancelled on ' || ${dayText('p_cancel_date')} || ', before the period starts on ' || ${dayText('p_period_start')}`,
    });
  }
  return checks;
}

/** An e-mail address as far as a file can show one: one @ with text on both sides and no blank. */
const EMAIL_SHAPE = '^[^@\\s]+@[^@\\s]+$';

/**
 * An owner row's checks, after the customer id's: an owner given (a blank owner says nothing
 * about who owns the customer, so it is not read as "unowned"), and an owner e-mail, when given,
 * shaped like one (a name or phone number in that column is a column mix-up, not an address).
 */
function ownerChecks(plan: StagePlan): Check[] {
  const checks: Check[] = [{ reason: 'missing_account_owner', when: 'p_account_owner IS NULL', field: 'account_owner', detail: `'no account owner'` }];
  if (plan.mapping.owner_email) {
    checks.push({
      reason: 'invalid_owner_email',
      when: `p_owner_email IS NOT NULL AND NOT regexp_matches(p_owner_email, ${literal(EMAIL_SHAPE)})`,
      field: 'owner_email',
      detail: `${quoted('t_owner_email')} || ' is not an e-mail address'`,
    });
  }
  return checks;
}

/**
 * A merge row's own checks: both ids given and clean, not the same id, a known confidence word
 * and evidence made of known codes. Checks that need the other rows or the store (unknown ids,
 * chains, cycles, a duplicate merged twice) are made when the file is loaded (merges/load.ts).
 */
function mergeChecks(plan: StagePlan): Check[] {
  const checks: Check[] = [
    { reason: 'missing_duplicate_id', when: 'p_duplicate_id IS NULL', field: 'duplicate_id', detail: `'no duplicate id'` },
    controlCharacterCheck('duplicate_id', 'duplicate id'),
    { reason: 'missing_surviving_id', when: 'p_surviving_id IS NULL', field: 'surviving_id', detail: `'no surviving id'` },
    controlCharacterCheck('surviving_id', 'surviving id'),
    {
      reason: 'self_merge',
      when: 'p_duplicate_id = p_surviving_id',
      field: 'surviving_id',
      detail: `'"' || p_surviving_id || '" is the duplicate id too: a customer cannot be merged into itself'`,
    },
  ];
  if (plan.mapping.confidence) {
    checks.push({
      reason: 'invalid_confidence',
      when: `p_confidence IS NOT NULL AND lower(p_confidence) NOT IN (${MERGE_CONFIDENCES.map(literal).join(', ')})`,
      field: 'confidence',
      detail: `${quoted('t_confidence')} || ' is not a confidence: use ${MERGE_CONFIDENCES.join(', ')}'`,
    });
  }
  if (plan.mapping.evidence) {
    checks.push({
      reason: 'invalid_evidence',
      when: `p_evidence IS NOT NULL AND ${EVIDENCE_CODES_SQL('p_evidence')} IS NULL`,
      field: 'evidence',
      detail: `${quoted('t_evidence')} || ' is not evidence codes: use ${MERGE_EVIDENCE_CODES.join(', ')} joined by +'`,
    });
  }
  return checks;
}

/**
 * Whether a stage is of a load for transactions_narrow (src/store/transactions.ts): then the
 * columns that table has not are left out of the stage too — writing eight columns of NULL
 * into the temporary table was 1.5–2.3 CPU-s on 9.8 M lines — and `stageRows` gives them back
 * as NULL to the steps that read them (load.ts: stageRows).
 */
export function isNarrowStage(plan: Pick<StagePlan, 'kind' | 'mapping' | 'unmapped' | 'source'>): boolean {
  return plan.kind === 'transactions' && transactionTableFor(plan.mapping, plan.unmapped, plan.source.sheet) === NARROW_TABLE;
}

/** A row's checks, in order: the first that fails is its reason. */
function stageChecks(plan: StagePlan): Check[] {
  const { kind, source, mapping } = plan;
  const checks: Check[] = [
    {
      reason: 'malformed_row',
      when: 'src_extra IS NOT NULL',
      field: null,
      detail: `'cells beyond the last column: ' || src_extra`,
    },
    ...(kind === 'merges'
      ? mergeChecks(plan)
      : [
          {
            reason: 'missing_customer_id',
            when: 'p_customer_id IS NULL',
            field: 'customer_id',
            detail: `'no customer id'`,
          },
          controlCharacterCheck('customer_id', 'customer id'),
        ]),
  ];
  if (kind === 'transactions' && mapping.order_id) checks.push(controlCharacterCheck('order_id', 'order id'));
  // Conditions test the parsed value first: AND in a CASE condition only evaluates its second
  // operand on the rows that passed the first, so valid rows never pay for the text check.
  const decimalCheck = (field: string, what: string): Check => ({
    reason: `invalid_${field}`,
    when: `p_${field} IS NULL AND ${given(`t_${field}`)}`,
    field,
    detail: `'cannot read ' || ${quoted(`t_${field}`)} || ' as ${what}'${decimalHint(plan.conventions.decimalSeparators[field] ?? null, `t_${field}`)}`,
  });
  if (kind === 'transactions') {
    const datePlan = plan.conventions.datePlans.order_date;
    checks.push(
      { reason: 'missing_order_date', when: `p_order_date IS NULL AND NOT ${given('t_order_date')}`, field: 'order_date', detail: `'no order date'` },
      // After missing_order_date: a NULL parse here means the text was given.
      dateCheck('order_date', datePlan, true),
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
  } else if (kind === 'contracts') {
    checks.push(...contractChecks(plan, decimalCheck));
  } else if (kind === 'owners') {
    checks.push(...ownerChecks(plan));
  } else if (kind === 'merges') {
    // Checked with the ids above; the checks across rows and the store are in merges/load.ts.
  } else {
    const datePlan = plan.conventions.datePlans.signup_date;
    if (mapping.signup_date) {
      checks.push(dateCheck('signup_date', datePlan, false));
    }
  }
  // A file whose bytes show that no value holds a control character (see SourceTable.plainFields)
  // skips that check: it could not fire, and it costs a regular expression per id.
  if (source.plainFields) checks.splice(0, checks.length, ...checks.filter((c) => !c.control));
  return checks;
}

/**
 * The file's column a reject reason is about (NULL for a reason about no column): worked out
 * when the rejects are written, from the reason, so the stage holds no column of it — NULL on
 * every row that loads (~0.2 CPU-s of writing at 9.8M lines).
 */
export function rejectColumnSql(plan: StagePlan): string {
  const { mapping } = plan;
  const named = stageChecks(plan).filter((c) => c.field && mapping[c.field]);
  return named.length ? `CASE reason ${named.map((c) => `WHEN ${literal(c.reason)} THEN ${literal(mapping[c.field!])}`).join(' ')} END` : 'CAST(NULL AS VARCHAR)';
}

/** The CREATE TEMP TABLE … AS statement for a stage. */
export function stageSql(plan: StagePlan): string {
  const { kind, source, mapping } = plan;
  const narrow = isNarrowStage(plan);
  const fields = fieldsFor(kind);
  const hasExtra = source.numbering.kind === 'column';
  // Only a source numbered by a column (spreadsheets) has a row number to stage: for any other
  // src_row would be a column of NULLs, which costs writing (load.ts numbers those rows itself).
  const hasRowColumn = source.numbering.kind === 'column';
  // Source columns are renamed c1…cN in the first CTE so no header can clash with our names.
  const position = new Map(source.headers.map((h, i) => [h, `c${i + 1}`]));
  const col = (field: string) => position.get(mapping[field])!;
  const plain = source.plainFields === true;
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
      // A plain-text file's values are trimmed with the cheaper test of their ends (values.ts,
      // plainTrimExpr): `col[-1]` was about a fifth of a contracts stage's CPU (plan, channel,
      // region, status).
      case 'id':
        parsedCols.push(`${idExpr(c, plain)} AS p_${f.name}`);
        break;
      case 'text':
        parsedCols.push(`${textExpr(c, plain)} AS p_${f.name}`);
        break;
      case 'status':
        parsedCols.push(`${statusExpr(c, plain)} AS p_${f.name}`);
        break;
      case 'date':
        parsedCols.push(`${timestampExpr(c, plan.conventions.datePlans[f.name], plain)} AS p_${f.name}`);
        break;
      case 'decimal': {
        // Whether this row's value was a typed number: its character in the source's "__numbers".
        const numberCell = source.numberCells ? `coalesce(substr(src_numbers, ${source.headers.indexOf(mapping[f.name]) + 1}, 1) = '1', false)` : undefined;
        parsedCols.push(`${decimalExpr(c, plan.conventions.decimalSeparators[f.name] ?? null, numberCell)} AS p_${f.name}`);
        // A field whose point the sample proved works out its evidence for rejected rows only (below).
        if (plan.conventions.decimalEvidencePending && !plan.conventions.decimalPointSeen?.[f.name]) {
          parsedCols.push(`${decimalEvidenceExpr(c, numberCell)} AS ev_${f.name}`);
        }
        break;
      }
    }
  }
  const attributes = plan.unmapped.length
    ? `json_object(${plan.unmapped.map((h) => `${literal(h)}, ${position.get(h)}`).join(', ')})`
    : 'CAST(NULL AS JSON)';
  parsedCols.push(`${attributes} AS p_attributes`);
  // The original columns travel along so a rejected row's raw text can be rebuilt, for
  // rejected rows only (a CASE branch is evaluated just for the rows that take it).
  parsedCols.push(...source.headers.map((_, i) => `c${i + 1}`));

  const checks = stageChecks(plan);
  const reasonCase = `CASE ${checks.map((c) => `WHEN ${c.when} THEN ${literal(c.reason)}`).join(' ')} END`;
  const detailCase = `CASE reason ${checks
    .map((c) => `WHEN ${literal(c.reason)} THEN ${c.field && mapping[c.field] ? `${literal(mapping[c.field] + ': ')} || ` : ''}${c.detail}`)
    .join(' ')} END`;

  const checked =
    kind === 'transactions'
      ? `SELECT *,
           ${reasonCase} AS reason,
           (amt < 0 OR p_quantity < 0 OR coalesce(${returnTest(plan.returnPattern, 'p_order_id')}, false)) AS is_return
         FROM (SELECT *, COALESCE(p_amount, TRY_CAST(p_quantity * p_unit_price AS DECIMAL(18,4))) AS amt FROM parsed)`
      : `SELECT *, ${reasonCase} AS reason FROM parsed`;

  // A CASE branch runs only for the rows that take it: the evidence of a field whose point the
  // sample proved costs nothing on a row that loads (Conventions.decimalPointSeen).
  const evidence = plan.conventions.decimalEvidencePending
    ? fields
        .filter((f) => f.type === 'decimal' && mapping[f.name])
        .map((f) => (plan.conventions.decimalPointSeen?.[f.name] ? `CASE WHEN reason IS NOT NULL THEN ${decimalEvidenceExpr(`t_${f.name}`)} END AS ev_${f.name}` : `ev_${f.name}`))
    : [];
  const output =
    kind === 'transactions'
      ? [
          ...evidence,
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
        ].filter((c) => !narrow || !(c.slice(c.lastIndexOf(' AS ') + 4) in WIDE_ONLY_COLUMNS))
      : kind === 'contracts'
        ? [
            ...evidence,
            'p_customer_id AS customer_id',
            'p_contract_id AS contract_id',
            'CAST(p_period_start AS DATE) AS period_start',
            // As the file gives it: the period's last day, or the next period's start.
            'CAST(p_period_end AS DATE) AS period_end',
            'p_amount AS amount',
            'p_plan AS plan',
            'p_channel AS channel',
            'p_region AS region',
            'p_status AS status',
            'CAST(p_cancel_date AS DATE) AS cancel_date',
          ]
        : kind === 'owners'
          ? ['p_customer_id AS customer_id', 'p_account_owner AS account_owner', 'p_team AS team', 'p_owner_email AS owner_email']
          : kind === 'merges'
            ? ['p_duplicate_id AS duplicate_id', 'p_surviving_id AS surviving_id', 'lower(p_confidence) AS confidence', `${EVIDENCE_CODES_SQL('p_evidence')} AS evidence`]
            : [
          'p_customer_id AS customer_id',
          'p_name AS name',
          'p_email AS email',
          'p_phone AS phone',
          'p_region AS region',
          'p_industry AS industry',
          'p_account_owner AS account_owner',
          'p_team AS team',
          'p_owner_email AS owner_email',
          'CAST(p_signup_date AS DATE) AS signup_date',
        ];

  const srcCols = source.headers.map((h, i) => `${ident(h)} AS c${i + 1}`);
  if (source.numbering.kind === 'column') srcCols.push('"__row"', '"__extra"');
  if (source.numberCells) srcCols.push('"__numbers" AS src_numbers');
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
SELECT${hasRowColumn ? '\n  src_row,' : ''}
  ${output.join(',\n  ')},${narrow ? '' : '\n  p_attributes AS attributes,'}
  reason,
  CASE WHEN reason IS NOT NULL THEN ${detailCase} END AS detail,
  CASE WHEN reason IS NOT NULL THEN ${raw} END AS raw${kind === 'customers' || kind === 'owners' || kind === 'merges' ? `,\n  ${raw} AS raw_all` : ''}
FROM checked`;
}

/**
 * Whether an order id matches the return pattern. `^` followed by letters, digits, `_` or `-`
 * (the default `^C`) says "starts with" exactly as the regular expression does, without running
 * one per row; any other pattern is run as written.
 */
export function returnTest(pattern: string, col: string): string {
  const prefix = /^\^([A-Za-z0-9_-]+)$/.exec(pattern);
  return prefix ? `starts_with(${col}, ${literal(prefix[1])})` : `regexp_matches(${col}, ${literal(pattern)})`;
}

/** The original row as text: re-serialised in the file's own delimiter, or as a JSON object. */
function rawExpr(source: SourceTable): string {
  const cols = source.headers.map((_, i) => `c${i + 1}`);
  if (source.raw.kind === 'json') {
    return `CAST(json_object(${source.headers.map((h, i) => `${literal(h)}, c${i + 1}`).join(', ')}) AS VARCHAR)`;
  }
  const d = literal(source.raw.delimiter);
  // Unquoted text (columns separated by blanks) is re-joined as it was read: no field was quoted.
  if (source.raw.quote === null) return `concat_ws(${d}, ${cols.map((c) => `coalesce(${c}, '')`).join(', ')})`;
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
  await runStageSql(store, plan, tick);
  if (plan.conventions.decimalEvidencePending) {
    let settled = await settleDecimalSeparators(store, plan);
    if (settled === 'count-all') {
      delete plan.conventions.decimalPointSeen;
      await dropStage(store, plan);
      await runStageSql(store, plan, tick);
      settled = await settleDecimalSeparators(store, plan);
    }
    if (settled === 'restage') {
      await dropStage(store, plan);
      await runStageSql(store, plan, tick);
    }
  }
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

/**
 * Run the stage's statement without DuckDB's common-subexpression optimizer. That optimizer
 * computes a subexpression written twice in a projection (the amount grammar inside
 * `decimalExpr`, the trimmed text) for every row, below the COALESCE or CASE that needs it
 * for a few rows only; the parsers are written so that the costly part runs only for the
 * values the cheap part cannot read, which the optimizer undid (staging took ten times
 * longer than the values need).
 */
async function runStageSql(store: Store, plan: StagePlan, tick: Tick): Promise<void> {
  await store.run(`SET disabled_optimizers = 'common_subexpressions'`);
  try {
    await store.runWithProgress(stageSql(plan), tick);
  } finally {
    await store.run('RESET disabled_optimizers');
  }
}

/** Drop a stage and what reading its source left behind, so the source can be staged again. */
async function dropStage(store: Store, plan: StagePlan): Promise<void> {
  await store.run(`DROP TABLE IF EXISTS temp.${ident(plan.table)}`);
  const n = plan.source.numbering;
  if (n.kind === 'csv') {
    await store.run(`DROP TABLE IF EXISTS temp.${ident(n.rejectsTable)}`);
    await store.run(`DROP TABLE IF EXISTS temp.${ident(n.rejectsScan)}`);
  }
}

/**
 * Decide each decimal field's separator from what every staged value says (counted in SQL),
 * and record it in `plan.conventions`. A field with no evidence of its own takes the separator
 * its sibling decimal columns agree on, if they do. A field with values on both sides stops the
 * command. Returns whether the stage must be built again: `restage` when it was read with a
 * provisional point and some value would read differently with the decision; `count-all` when
 * the evidence of every value is needed (Conventions.decimalPointSeen).
 */
async function settleDecimalSeparators(store: Store, plan: StagePlan): Promise<'done' | 'restage' | 'count-all'> {
  const fields = Object.keys(plan.conventions.decimalSeparators);
  const counts = await store.one<Record<string, number>>(
    `SELECT ${fields
      .flatMap((f) =>
        (Object.keys(EVIDENCE) as (keyof typeof EVIDENCE)[]).map((k) => `count(*) FILTER (WHERE ev_${f} = ${EVIDENCE[k]}) AS ${f}_${k}`),
      )
      .join(', ')} FROM temp.${ident(plan.table)}`,
  );
  const evidence = Object.fromEntries(
    fields.map((f): [string, DecimalEvidence] => [f, { point: counts![`${f}_point`], comma: counts![`${f}_comma`], ambiguous: counts![`${f}_ambiguous`] }]),
  );
  const seen = plan.conventions.decimalPointSeen ?? {};
  // A field whose point the sample proved counted its rejected rows only: with no comma there, it
  // reads with a point, as the whole count would say. A comma there is a conflict, which is
  // counted over every value and shown as before.
  if (fields.some((f) => seen[f] && evidence[f].comma > 0)) return 'count-all';
  for (const f of fields) if (seen[f]) evidence[f] = { ...evidence[f], point: Math.max(evidence[f].point, 1) };
  const decided: Record<string, DecimalDecision> = {};
  for (const f of fields) {
    const d = decideDecimalSeparator(evidence[f]);
    if (d === 'conflict') throw await decimalConflictError(store, plan, f, evidence[f]);
    decided[f] = d;
  }
  const fileWide = new Set(Object.values(decided).filter((d) => d !== null));
  let restage = false;
  for (const f of fields) {
    if (decided[f] === null && fileWide.size === 1) decided[f] = [...fileWide][0];
    const ev = evidence[f];
    if (decided[f] !== '.' && ev.point + ev.comma + ev.ambiguous > 0) restage = true;
  }
  plan.conventions.decimalSeparators = decided;
  plan.conventions.decimalEvidencePending = false;
  return restage ? 'restage' : 'done';
}

/** The error for a column holding values that read only with a point and others only with a comma. */
async function decimalConflictError(store: Store, plan: StagePlan, field: string, ev: DecimalEvidence): Promise<Error> {
  const { source } = plan;
  const column = plan.mapping[field];
  const staged = (await store.value<number>(`SELECT count(*) FROM temp.${ident(plan.table)}`)) ?? 0;
  const numbering = await numberStage(store, source, plan.table, staged, `${plan.table}_ev`, null);
  const example = async (kind: number) => {
    const at = await store.one<{ ord: number; source_row: number }>(
      `SELECT ord, source_row FROM ${numbering.relation} WHERE ev_${field} = ${kind} ORDER BY ord LIMIT 1`,
    );
    // The stage keeps the file's order (as does a plain read), so its position finds the text.
    const text = await store.value<string>(`SELECT ${ident(column)} FROM ${source.sampleRelation} LIMIT 1 OFFSET ${at!.ord}`);
    return `row ${at!.source_row} has ${JSON.stringify(text)}`;
  };
  const point = await example(EVIDENCE.point);
  const comma = await example(EVIDENCE.comma);
  const configKey = `ingest.${plan.kind}.decimalSeparator`;
  return inputError(
    `${source.label}: column ${JSON.stringify(column)} mixes decimal separators: ${point} (decimal point) and ${comma} (decimal comma)`,
    [
      `${ev.point.toLocaleString('en-US')} values read only with a decimal point, ${ev.comma.toLocaleString('en-US')} only with a decimal comma; nothing was loaded.`,
      `Say which one the file uses: --decimal-separator . or --decimal-separator , (or set ${configKey} in crm.config.json); values written the other way are then rejected.`,
    ],
  );
}
