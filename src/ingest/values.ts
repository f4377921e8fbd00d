/**
 * Value parsing for ingest, as SQL expressions run by DuckDB over text columns (set-based:
 * never a JS loop over rows). Detection of a column's conventions (day/month order, decimal
 * comma) happens once per column on samples, in TypeScript; the per-row work is SQL.
 *
 * Every parser returns NULL for a value it cannot read; the caller turns "non-empty input,
 * NULL output" into a reject with a reason, so nothing is silently dropped.
 */
import { literal } from '../store/db.js';
import { usageError } from '../util/errors.js';

/** A SQL expression over one text column, e.g. `"InvoiceDate"`. */
export type SqlExpr = string;

/** The text of a column with surrounding blanks removed; NULL when empty. */
export function textExpr(col: SqlExpr): SqlExpr {
  return `NULLIF(trim(${col}), '')`;
}

/**
 * Identifiers stay text (leading zeros kept). Spreadsheets turn 13607 into `13607.0`; a
 * whole number followed only by zeros after the point is read back as the integer text.
 */
export function idExpr(col: SqlExpr): SqlExpr {
  // The common case (no decimal point) costs one trim; the regex only runs on values with a point.
  return `CASE WHEN contains(${col}, '.') AND regexp_full_match(${col}, '\\s*[0-9]+\\.0+\\s*') THEN split_part(trim(${col}), '.', 1) ELSE NULLIF(trim(${col}), '') END`;
}

// ---------------------------------------------------------------------------------------
// Dates

/** Day/month order for dates written like 05/01/2024. */
export type DayMonthOrder = 'DMY' | 'MDY';

export interface DatePlan {
  /** strptime formats tried in order after DuckDB's own ISO cast. */
  formats: string[];
  /** The day/month order used for dd/mm/yyyy-like values, when any were seen. */
  order: DayMonthOrder | null;
  /** Whether 5-digit Excel serial day numbers (e.g. 45296) are read as dates. */
  excelSerials: boolean;
  /** True when the user gave an exact strptime format with --date-format. */
  explicit: boolean;
  /** Why the order was chosen, for the ingest report. */
  note: string;
}

const TIME_SUFFIXES = ['', ' %H:%M:%S', ' %H:%M', ' %H:%M:%S.%f', ' %I:%M %p', ' %I:%M:%S %p', 'T%H:%M:%S'];
const withTimes = (dateFormats: string[]) => dateFormats.flatMap((f) => TIME_SUFFIXES.map((t) => f + t));

/**
 * Formats that can never be ambiguous: year first, compact YYYYMMDD, Chinese, month names.
 * ISO forms (2024-01-05, 2024/1/5, with T/Z/offsets) go through DuckDB's cast first.
 */
const UNAMBIGUOUS_FORMATS = [
  ...withTimes(['%Y.%m.%d', '%Y%m%d']),
  '%Y%m%d%H%M%S',
  '%Y年%m月%d日',
  '%Y年%m月%d日 %H:%M:%S',
  '%Y年%m月%d日 %H:%M',
  '%Y年%m月%d日%H时%M分%S秒',
  '%Y年%m月%d日 %H时%M分%S秒',
  '%Y年%m月%d日 %H时%M分',
  '%Y年%m月',
  ...withTimes(['%d-%b-%Y', '%d %b %Y', '%d %B %Y', '%b %d, %Y', '%B %d, %Y', '%b %d %Y', '%d-%b-%y']),
];

const DMY_FORMATS = withTimes(['%d/%m/%Y', '%d.%m.%Y', '%d-%m-%Y', '%d/%m/%y', '%d.%m.%y']);
const MDY_FORMATS = withTimes(['%m/%d/%Y', '%m.%d.%Y', '%m-%d-%Y', '%m/%d/%y', '%m.%d.%y']);

/** dd/mm/yyyy or mm/dd/yyyy (any of / . - as separator, 2- or 4-digit year). */
const DAY_MONTH_RE = /^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:\b|[ T])/;

export interface DayMonthEvidence {
  /** Values of the dd/mm-or-mm/dd shape seen. */
  candidates: number;
  /** Largest first and second component seen (> 12 decides the order). */
  maxFirst: number;
  maxSecond: number;
}

export function dayMonthEvidence(values: Iterable<string>): DayMonthEvidence {
  const ev: DayMonthEvidence = { candidates: 0, maxFirst: 0, maxSecond: 0 };
  for (const v of values) {
    const m = DAY_MONTH_RE.exec(v);
    if (!m) continue;
    ev.candidates++;
    ev.maxFirst = Math.max(ev.maxFirst, Number(m[1]));
    ev.maxSecond = Math.max(ev.maxSecond, Number(m[2]));
  }
  return ev;
}

export function mergeEvidence(a: DayMonthEvidence, b: DayMonthEvidence): DayMonthEvidence {
  return {
    candidates: a.candidates + b.candidates,
    maxFirst: Math.max(a.maxFirst, b.maxFirst),
    maxSecond: Math.max(a.maxSecond, b.maxSecond),
  };
}

/** Decide day/month order from the data: a first component above 12 means day first, and vice versa. */
export function decideDayMonthOrder(ev: DayMonthEvidence): DayMonthOrder | 'ambiguous' | 'conflict' | null {
  if (ev.candidates === 0) return null;
  const dayFirst = ev.maxFirst > 12;
  const monthFirst = ev.maxSecond > 12;
  if (dayFirst && monthFirst) return 'conflict';
  if (dayFirst) return 'DMY';
  if (monthFirst) return 'MDY';
  return 'ambiguous';
}

/**
 * The strptime specifiers DuckDB reads (https://duckdb.org/docs/sql/functions/dateformat; each
 * checked against DuckDB's strptime). Checked before any file is read: DuckDB stops with a
 * conversion error on an unknown one, and only after the file was staged.
 */
export const STRPTIME_SPECIFIERS: readonly string[] = [
  '%a', '%A', '%b', '%B', '%c', '%d', '%-d', '%f', '%g', '%G', '%h', '%H', '%-H', '%I', '%-I', '%j', '%-j', '%m', '%-m',
  '%M', '%-M', '%n', '%p', '%S', '%-S', '%T', '%u', '%U', '%V', '%w', '%W', '%x', '%X', '%y', '%-y', '%Y', '%z', '%Z', '%%',
];

/** The `%…` specifiers of a strptime format that DuckDB does not know (a lone `%` at the end included). */
export function unknownStrptimeSpecifiers(format: string): string[] {
  const used = format.match(/%-?[\s\S]?/g) ?? [];
  return [...new Set(used.filter((s) => !STRPTIME_SPECIFIERS.includes(s)))];
}

/**
 * Parse the --date-format flag: `DMY`, `MDY`, `YMD`, or an exact strptime format such as
 * `%d.%m.%Y %H:%M` (https://duckdb.org/docs/sql/functions/dateformat).
 */
export function parseDateFormatFlag(flag: string): { order?: DayMonthOrder; exact?: string } {
  const f = flag.trim();
  const upper = f.toUpperCase();
  if (upper === 'DMY' || upper === 'MDY') return { order: upper };
  if (upper === 'YMD' || upper === 'ISO') return {};
  if (f.includes('%')) {
    const unknown = unknownStrptimeSpecifiers(f);
    if (unknown.length) {
      throw usageError(`--date-format ${JSON.stringify(flag)}: ${unknown.join(', ')} ${unknown.length === 1 ? 'is not a strptime specifier' : 'are not strptime specifiers'}`, [
        `Specifiers: ${STRPTIME_SPECIFIERS.join(' ')}`,
        'Or use DMY (31/12/2024), MDY (12/31/2024) or YMD.',
      ]);
    }
    return { exact: f };
  }
  throw usageError(`--date-format ${JSON.stringify(flag)} is not understood`, [
    'Use DMY (31/12/2024), MDY (12/31/2024), YMD, or a strptime format such as %d.%m.%Y.',
  ]);
}

/** Build the date plan for a column from the evidence and the user's --date-format, if any. */
export function planDates(evidence: DayMonthEvidence, flag?: string): DatePlan {
  if (flag) {
    const parsed = parseDateFormatFlag(flag);
    if (parsed.exact) {
      return { formats: [parsed.exact], order: null, excelSerials: false, explicit: true, note: `--date-format ${parsed.exact}` };
    }
    const order = parsed.order ?? null;
    return {
      formats: [...UNAMBIGUOUS_FORMATS, ...(order === 'DMY' ? DMY_FORMATS : order === 'MDY' ? MDY_FORMATS : [])],
      order,
      excelSerials: true,
      explicit: false,
      note: `--date-format ${flag}`,
    };
  }
  const decided = decideDayMonthOrder(evidence);
  if (decided === 'DMY' || decided === 'MDY') {
    const first = decided === 'DMY' ? 'day' : 'month';
    return {
      formats: [...UNAMBIGUOUS_FORMATS, ...(decided === 'DMY' ? DMY_FORMATS : MDY_FORMATS)],
      order: decided,
      excelSerials: true,
      explicit: false,
      note: `${decided} (a ${first} above 12 was found in the first position)`,
    };
  }
  // No day/month-shaped values, or they cannot be told apart: such values are rejected with a
  // reason asking for --date-format rather than guessed.
  return {
    formats: UNAMBIGUOUS_FORMATS,
    order: null,
    excelSerials: true,
    explicit: false,
    note:
      decided === 'ambiguous'
        ? 'day/month order undecidable (no component above 12): such dates are rejected; pass --date-format DMY or MDY'
        : decided === 'conflict'
          ? 'both day-first and month-first dates were found: values that fit neither order are rejected'
          : 'ISO and other unambiguous forms',
  };
}

/**
 * Excel stores dates as days since 1899-12-30 (the 1900 leap-year bug included). A number
 * between 20000 and 80000 (1954–2119) in a date column is such a serial, possibly with a
 * fraction of a day for the time.
 */
export function excelSerialExpr(t: SqlExpr): SqlExpr {
  return `CASE WHEN regexp_full_match(${t}, '[0-9]{5}(\\.[0-9]+)?') AND TRY_CAST(${t} AS DOUBLE) BETWEEN 20000 AND 80000 THEN TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(TRY_CAST(${t} AS DOUBLE) * 86400000000) AS BIGINT)) END`;
}

/** A TIMESTAMP expression for a date/time column, NULL when unreadable. */
export function timestampExpr(col: SqlExpr, plan: DatePlan): SqlExpr {
  const t = `trim(${col})`;
  const list = `[${plan.formats.map(literal).join(', ')}]`;
  if (plan.explicit) return `TRY_STRPTIME(${t}, ${list})`;
  // COALESCE evaluates each argument only for the rows still NULL: the cheap ISO cast handles
  // most values, and the (costly) list of strptime formats only sees the rest.
  const parts = [
    // DuckDB's own cast reads ISO 8601 (with T, Z or offsets: the wall-clock time is kept).
    `TRY_CAST(${col} AS TIMESTAMP)`,
    `TRY_CAST(${t} AS TIMESTAMP)`,
    `TRY_STRPTIME(${t}, ${list})`,
  ];
  if (plan.excelSerials) parts.push(excelSerialExpr(t));
  return `COALESCE(${parts.join(', ')})`;
}

/** Whether a parsed timestamp carries a time of day (so `order_ts` is worth keeping). */
export function hasTimeExpr(ts: SqlExpr): SqlExpr {
  return `(${ts} <> date_trunc('day', ${ts}))`;
}

// ---------------------------------------------------------------------------------------
// Amounts

export type DecimalSeparator = '.' | ',';

/**
 * Decide whether a column writes decimals with a point or a comma, from sample values.
 * Values with both marks vote for the one that comes last; `12,5` or `1234,56` vote comma;
 * `1,234` and `1.234` alone are ambiguous and do not vote. Ties go to the point.
 */
export function detectDecimalSeparator(values: Iterable<string>): DecimalSeparator {
  let point = 0;
  let comma = 0;
  for (const raw of values) {
    const s = raw.replace(/[^0-9.,]/g, '');
    const lastDot = s.lastIndexOf('.');
    const lastComma = s.lastIndexOf(',');
    if (lastDot >= 0 && lastComma >= 0) {
      if (lastComma > lastDot) comma++;
      else point++;
    } else if (lastComma >= 0) {
      if (!/^\d{1,3}(,\d{3})+$/.test(s)) comma++;
    } else if (lastDot >= 0) {
      if (!/^\d{1,3}(\.\d{3})+$/.test(s)) point++;
    }
  }
  return comma > point ? ',' : '.';
}

/**
 * The shapes an amount may take: optional sign or parentheses, an optional currency symbol or
 * ISO code before or after, digits with thousands separators (`,` `.` space `'` or a thin or
 * no-break space), a decimal part, and SAP-style trailing minus. Anything else (letters in
 * the number, two numbers) is not an amount.
 */
const CURRENCY = `(?:[A-Z]{3}|RMB|US\\$|[$€£¥￥₩₹元])`;
const AMOUNT_SHAPE = `\\(?\\s*[-+]?\\s*${CURRENCY}?\\s*[-+]?\\s*[0-9][0-9.,' \\x{00A0}\\x{202F}]*\\s*${CURRENCY}?\\s*-?\\s*\\)?`;

/** A DECIMAL(18,4) expression for a money or quantity column, NULL when unreadable. */
export function decimalExpr(col: SqlExpr, sep: DecimalSeparator): SqlExpr {
  const t = `trim(${col})`;
  // Separators other than the decimal mark are thousands separators and are dropped.
  const digits = `regexp_replace(${t}, '[^0-9.,]', '', 'g')`;
  const normalised =
    sep === ','
      ? `replace(replace(${digits}, '.', ''), ',', '.')`
      : `replace(${digits}, ',', '')`;
  const negative = `(starts_with(${t}, '(') OR contains(${t}, '-'))`;
  const cleaned = `CASE WHEN regexp_full_match(${t}, ${literal(AMOUNT_SHAPE)}) THEN CASE WHEN ${negative} THEN -1 ELSE 1 END * TRY_CAST(${normalised} AS DECIMAL(18,4)) END`;
  // Plain numbers (the common case) take DuckDB's fast cast; only the rest is cleaned.
  // DuckDB's decimal cast accepts surrounding blanks, so the fast path needs no trim.
  const fast = sep === '.' ? `TRY_CAST(${col} AS DECIMAL(18,4))` : `CASE WHEN NOT contains(${col}, '.') THEN TRY_CAST(${col} AS DECIMAL(18,4)) END`;
  return `COALESCE(${fast}, ${cleaned})`;
}

/** A whole-row regular expression matching any email-like text (used by quality checks). */
export const EMAIL_RE = "^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";
