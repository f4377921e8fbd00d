/**
 * Value parsing for ingest, as SQL expressions run by DuckDB over text columns (set-based:
 * never a JS loop over rows). The day/month order of dates is decided once per column on
 * samples, in TypeScript; the decimal separator from what every value of the column says
 * (`decimalEvidenceExpr`, counted in SQL); the per-row work is SQL.
 *
 * Every parser returns NULL for a value it cannot read; the caller turns "non-empty input,
 * NULL output" into a reject with a reason, so nothing is silently dropped.
 */
import { literal } from '../store/db.js';
import { STORABLE_YEARS } from '../util/dates.js';
import { usageError } from '../util/errors.js';
import { CONTRACT_STATUS_WORDS, foldStatusWord } from './fields.js';

/** A SQL expression over one text column, e.g. `"InvoiceDate"`. */
export type SqlExpr = string;

/**
 * Unicode white space, as JavaScript's `trim` knows it: tab, line feed, vertical tab, form feed,
 * carriage return, NEL, the space separators (space, no-break, en/em…, narrow no-break,
 * ideographic), line and paragraph separators, and the byte-order mark. DuckDB's `trim(x)`
 * removes only the space separators, so `C5<tab>` would stay a customer apart from `C5`.
 */
const WHITE_SPACE_CODES = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007,
  0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
];
/** The white space characters as one SQL string (a constant DuckDB folds once per query). */
const WHITE_SPACE = `(${WHITE_SPACE_CODES.map((c) => `chr(${c})`).join(' || ')})`;

/**
 * A value with Unicode white space removed at both ends (see `WHITE_SPACE_CODES`). DuckDB's
 * trim with a character set is several times slower than its plain trim, so it only runs on
 * values that start or end with something other than a visible ASCII character.
 */
export function trimExpr(col: SqlExpr): SqlExpr {
  return `CASE WHEN ascii(${col}) BETWEEN 33 AND 126 AND ascii(${col}[-1]) BETWEEN 33 AND 126 THEN ${col} ELSE trim(${col}, ${WHITE_SPACE}) END`;
}

/**
 * `trimExpr` for a value known to hold only printable ASCII and tabs (SourceTable.plainFields):
 * its only white space is the blank and the tab, so a first character from `!` to `~` and a last
 * that is neither leaves nothing to trim. Testing the last character by `ends_with` spares the
 * `col[-1]` of `trimExpr`, which costs as much as the rest of the id's parsing.
 */
export function plainTrimExpr(col: SqlExpr): SqlExpr {
  return `CASE WHEN ascii(${col}) BETWEEN 33 AND 126 AND NOT (ends_with(${col}, ' ') OR ends_with(${col}, chr(9))) THEN ${col} ELSE trim(${col}, ${WHITE_SPACE}) END`;
}

/** `trimExpr`, or `plainTrimExpr` for a value of a plain-text source (SourceTable.plainFields). */
function trimFor(col: SqlExpr, plainAscii: boolean): SqlExpr {
  return plainAscii ? plainTrimExpr(col) : trimExpr(col);
}

/**
 * The text of a column with surrounding white space removed; NULL when empty. `plainAscii`: the
 * source holds only printable ASCII and tabs (SourceTable.plainFields), so the cheaper test of
 * its ends applies, as for ids (the same value either way).
 */
export function textExpr(col: SqlExpr, plainAscii = false): SqlExpr {
  return `NULLIF(${trimFor(col, plainAscii)}, '')`;
}

/**
 * Identifiers stay text (leading zeros kept), white space around them removed. Spreadsheets
 * turn 13607 into `13607.0`; a whole number followed only by zeros after the point is read
 * back as the integer text.
 */
export function idExpr(col: SqlExpr, plainAscii = false): SqlExpr {
  const t = trimFor(col, plainAscii);
  // The common case (no decimal point) costs one trim; the regex only runs on values with a point.
  return `CASE WHEN contains(${col}, '.') AND regexp_full_match(${t}, '[0-9]+\\.0+') THEN split_part(${t}, '.', 1) ELSE NULLIF(${t}, '') END`;
}

/**
 * A contract status: the file's word, folded as `foldStatusWord` folds the known words (lower
 * case; blanks, `_` and `-` as one space), read through CONTRACT_STATUS_WORDS; NULL when empty
 * or not a known word (the stage tells the two apart and rejects the unknown word).
 */
export function statusExpr(col: SqlExpr, plainAscii = false): SqlExpr {
  const text = textExpr(col, plainAscii);
  // Lookups in a constant map (a CASE would fold the value once per status). Most files write
  // the words plainly: the regular expression folding blanks, `_` and `-` only runs on the
  // values the plain lookup missed (COALESCE evaluates its second argument for those rows only).
  const entries = Object.entries(CONTRACT_STATUS_WORDS).flatMap(([status, words]) =>
    [...new Set(words.map(foldStatusWord))].map((w) => `${literal(w)}: ${literal(status)}`),
  );
  const words = `MAP {${entries.join(', ')}}`;
  return `coalesce(map_extract_value(${words}, lower(${text})), map_extract_value(${words}, lower(regexp_replace(${text}, '[\\s_-]+', ' ', 'g'))))`;
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
 * between 20000 and 80000 (1954-10-03 to 2119-01-11) in a date column is such a serial,
 * possibly with a fraction of a day for the time; any other number is not read as a date.
 */
export const EXCEL_SERIAL_DAYS = { first: 20000, last: 80000, firstDate: '1954-10-03', lastDate: '2119-01-11' } as const;

export function excelSerialExpr(t: SqlExpr): SqlExpr {
  const { first, last } = EXCEL_SERIAL_DAYS;
  return `CASE WHEN regexp_full_match(${t}, '[0-9]{5}(\\.[0-9]+)?') AND TRY_CAST(${t} AS DOUBLE) BETWEEN ${first} AND ${last} THEN TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(TRY_CAST(${t} AS DOUBLE) * 86400000000) AS BIGINT)) END`;
}

// The years a stored date may have live with the command-line dates: one rule for both.
export { STORABLE_YEARS };

/**
 * Why a timestamp parsed by `timestampExpr` must not be stored, as SQL text; NULL when it may
 * (or is NULL). `text` is the column the timestamp was read from. A stored date pays one
 * BETWEEN and one comparison; the text is only looked at for 1970-01-01 (is it `epoch`?).
 */
export function unstorableDateExpr(ts: SqlExpr, text: SqlExpr): SqlExpr {
  const { first, last } = STORABLE_YEARS;
  const word = `'a word, not a date'`;
  return `CASE WHEN ${ts} BETWEEN TIMESTAMP '${first}-01-01' AND TIMESTAMP '${last}-12-31 23:59:59.999999' THEN CASE WHEN ${ts} = TIMESTAMP '1970-01-01' AND NOT regexp_matches(${text}, '[0-9]') THEN ${word} END WHEN isinf(${ts}) THEN ${word} WHEN ${ts} IS NOT NULL THEN 'year ' || year(${ts}) || ' is out of range (${first}–${last})' END`;
}

/**
 * A TIMESTAMP expression for a date/time column, NULL when unreadable. Its year may lie outside
 * STORABLE_YEARS: the caller rejects those with `unstorableDateExpr`, which names the year.
 */
export function timestampExpr(col: SqlExpr, plan: DatePlan, plainAscii = false): SqlExpr {
  const t = trimFor(col, plainAscii);
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
 * Parse --decimal-separator (or `decimalSeparator` in crm.config.json): `.` or `,`, also
 * spelt `point`/`dot` and `comma` (the spellings schema/crm.config.schema.json lists). Checked
 * with the other options before the store is opened (src/ingest/options.ts).
 */
export function parseDecimalSeparatorFlag(flag: string): DecimalSeparator {
  const f = flag.trim().toLowerCase();
  if (f === '.' || f === 'point' || f === 'dot') return '.';
  if (f === ',' || f === 'comma') return ',';
  throw usageError(`--decimal-separator ${JSON.stringify(flag)} is not understood`, ['Use . (12.50) or , (12,50); the words point, dot and comma are understood too.']);
}

/**
 * The shapes an amount may take: optional sign or parentheses, an optional currency symbol or
 * ISO code before or after, the number (captured: its digits and marks), and SAP-style
 * trailing minus. Anything else (letters in the number, two numbers) is not an amount.
 */
const CURRENCY = `(?:[A-Z]{3}|RMB|US\\$|[$€£¥￥₩₹元])`;
const BLANKS = `' ' || chr(160) || chr(8239)`;
const AMOUNT_SHAPE = `^\\(?\\s*[-+]?\\s*${CURRENCY}?\\s*[-+]?\\s*([0-9.,][0-9.,' \\x{00A0}\\x{202F}]*)\\s*${CURRENCY}?\\s*-?\\s*\\)?$`;

/**
 * A whole number, plain or grouped in threes by one kind of separator. A grouped number never
 * starts with 0: `0,123` is not a thousands-grouped 123.
 */
const groupedInteger = (group: string) => `[1-9][0-9]{0,2}(?:${group}[0-9]{3})+`;
const BLANK_GROUP = `[ \\x{00A0}\\x{202F}]`;
const NEUTRAL_INTEGERS = ['[0-9]+', groupedInteger("'"), groupedInteger(BLANK_GROUP)];
/** A number with a decimal point; `,` ' and blanks group thousands. */
const POINT_NUMBER = `(?:${[...NEUTRAL_INTEGERS, groupedInteger(',')].join('|')})(?:\\.[0-9]+)?|\\.[0-9]+`;
/** A number with a decimal comma; `.` ' and blanks group thousands. */
const COMMA_NUMBER = `(?:${[...NEUTRAL_INTEGERS, groupedInteger('\\.')].join('|')})(?:,[0-9]+)?|,[0-9]+`;
/** A whole number without `.` or `,`: reads the same in both conventions. */
const NEUTRAL_NUMBER = NEUTRAL_INTEGERS.join('|');

/** The number inside an amount's text (digits, marks and group separators), '' when the text is not an amount. */
function amountCore(t: SqlExpr): SqlExpr {
  return `rtrim(regexp_extract(${t}, ${literal(AMOUNT_SHAPE)}, 1), ${BLANKS})`;
}

/**
 * How a column writes its decimals, decided by `decideDecimalSeparator` from every value:
 * `.` or `,`, or null when no value tells (then only values that read the same either way load).
 */
export type DecimalDecision = DecimalSeparator | null;

/**
 * A DECIMAL(18,4) expression for a money or quantity column, NULL when unreadable. The
 * separator other than the decimal mark groups thousands, and only in groups of three
 * (`1,234,567.89`; `7,5` and `12,34.5` are not point-decimal numbers). With no decision
 * (`null`), a value holding `.` or `,` is unreadable: `1,234` could be 1234 or 1.234.
 *
 * `numberCell`, when the source has typed numbers (see `SourceTable.numberCells`), is a boolean
 * SQL expression true for a value that was a number, not text: its text is the reader's plain
 * point notation (`10.5`, `1e-7`), read exactly whatever the column's separator.
 */
export function decimalExpr(col: SqlExpr, sep: DecimalDecision, numberCell?: SqlExpr): SqlExpr {
  const t = trimExpr(col);
  const core = amountCore(t);
  const grammar = sep === '.' ? POINT_NUMBER : sep === ',' ? COMMA_NUMBER : NEUTRAL_NUMBER;
  const normalised =
    sep === ','
      ? `replace(regexp_replace(${core}, '[^0-9,]', '', 'g'), ',', '.')`
      : `regexp_replace(${core}, '[^0-9.]', '', 'g')`;
  const negative = `(starts_with(${t}, '(') OR contains(${t}, '-'))`;
  const cleaned = `CASE WHEN regexp_full_match(${core}, ${literal(grammar)}) THEN CASE WHEN ${negative} THEN -1 ELSE 1 END * TRY_CAST(${normalised} AS DECIMAL(18,4)) END`;
  // Plain numbers (the common case) take DuckDB's fast cast; only the rest is cleaned.
  // DuckDB's decimal cast accepts surrounding blanks, so the fast path needs no trim; it never
  // accepts a comma, and a point is only read as decimal when the column decided so.
  const fast = sep === '.' ? `TRY_CAST(${col} AS DECIMAL(18,4))` : `CASE WHEN NOT contains(${col}, '.') THEN TRY_CAST(${col} AS DECIMAL(18,4)) END`;
  const text = `COALESCE(${fast}, ${cleaned})`;
  return numberCell ? `CASE WHEN ${numberCell} THEN TRY_CAST(${col} AS DECIMAL(18,4)) ELSE ${text} END` : text;
}

/** Evidence a value gives about its column's decimal separator (see `decimalEvidenceExpr`). */
export const EVIDENCE = { point: 1, comma: 2, ambiguous: 3 } as const;

/**
 * What one value says about the decimal separator, as a TINYINT: 1 when it reads only with a
 * decimal point (`12.50`, `1,234.5`, `0.5`, `1,234,567`), 2 only with a decimal comma (`7,5`,
 * `1.234,50`, `1.234.567`), 3 both ways with different values (`1,234`, `1.234`); NULL when it
 * holds neither mark, reads neither way, or was a typed number (`numberCell`, see `decimalExpr`).
 */
export function decimalEvidenceExpr(col: SqlExpr, numberCell?: SqlExpr): SqlExpr {
  // A typed number's point is the reader's notation, not the file's convention: no evidence.
  const written = numberCell ? `NOT ${numberCell} AND ` : '';
  return `CASE WHEN ${written}(contains(${col}, '.') OR contains(${col}, ',')) THEN ${plainPointEvidence(col)} END`;
}

/**
 * The evidence of a value holding `.` or `,` (see `decimalEvidenceExpr`). Most exports write
 * plain numbers (`49.19`): for a value that is only digits around one point, the amount shape
 * captures the whole text, so it reads with a point, and with a comma exactly when it looks
 * like one group of thousands (`1.234`: both ways). One small regular expression and string
 * functions decide that; the amount grammar (twenty times slower: it cost most of staging) only
 * sees the rest. `decimalEvidenceGrammarExpr` gives the same answer from the grammar alone (tests compare them).
 */
function plainPointEvidence(col: SqlExpr): SqlExpr {
  const plain = `regexp_full_match(${col}, '[0-9]*\\.[0-9]+')`;
  // Of the plain values, those that are also one group of thousands, [1-9][0-9]{0,2}\.[0-9]{3}:
  // a point after one to three digits, the first not 0, and three digits after it (string
  // functions: the plain shape already holds only digits and that one point).
  const oneGroup = `(strpos(${col}, '.') BETWEEN 2 AND 4 AND length(${col}) - strpos(${col}, '.') = 3 AND NOT starts_with(${col}, '0'))`;
  return `CASE WHEN ${plain} THEN CAST(CASE WHEN ${oneGroup} THEN ${EVIDENCE.ambiguous} ELSE ${EVIDENCE.point} END AS TINYINT) ELSE ${grammarEvidence(col)} END`;
}

/** What a value holding `.` or `,` says, from the amount grammar alone. */
function grammarEvidence(col: SqlExpr): SqlExpr {
  const t = trimExpr(col);
  const core = amountCore(t);
  const point = `(regexp_full_match(${core}, ${literal(POINT_NUMBER)}) OR TRY_CAST(${col} AS DECIMAL(18,4)) IS NOT NULL)`;
  const comma = `regexp_full_match(${core}, ${literal(COMMA_NUMBER)})`;
  return `CAST(NULLIF(CASE WHEN ${point} THEN 1 ELSE 0 END + CASE WHEN ${comma} THEN 2 ELSE 0 END, 0) AS TINYINT)`;
}

/** `decimalEvidenceExpr` without its plain-number shortcut: the reference the shortcut must agree with. */
export function decimalEvidenceGrammarExpr(col: SqlExpr): SqlExpr {
  return `CASE WHEN (contains(${col}, '.') OR contains(${col}, ',')) THEN ${grammarEvidence(col)} END`;
}

/** Counts of a column's values by the evidence they give. */
export interface DecimalEvidence {
  point: number;
  comma: number;
  ambiguous: number;
}

/**
 * The decimal separator a column's values prove: one that some value needs and no value
 * contradicts. Values on both sides are a conflict for the user to settle; no value on either
 * side decides nothing (null).
 */
export function decideDecimalSeparator(ev: DecimalEvidence): DecimalDecision | 'conflict' {
  if (ev.point > 0 && ev.comma > 0) return 'conflict';
  if (ev.point > 0) return '.';
  if (ev.comma > 0) return ',';
  return null;
}

/** A whole-row regular expression matching any email-like text (used by quality checks). */
export const EMAIL_RE = "^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";
