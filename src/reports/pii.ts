/**
 * Masking of personal contact data in exports (`--mask-pii`).
 *
 * Masking is done in SQL, in the SELECT that feeds every writer, so that CSV, XLSX, Arrow,
 * Parquet and JSON all get exactly the same masked values and DuckDB's COPY (Parquet, JSON)
 * never sees a clear-text address. The expressions are pure DuckDB SQL (no temporary macros),
 * so they work on a store opened read-only and leave no state on the connection.
 *
 * Rules (see docs/exports.md):
 * - e-mail: keep the first character of the local part and the domain:
 *   `anna.schmidt@example.com` → `a***@example.com`. A value that is not `local@domain`
 *   becomes `***`; NULL stays NULL and the empty string stays empty.
 * - phone: keep the country code (a leading `+` and 1–3 digits followed by a separator),
 *   the first 3 and the last 4 digits of the rest, and replace each digit in between with `*`:
 *   `+86 138 1234 5678` → `+86 138****5678`, `(555) 123-4567` → `555***4567`.
 *   Separators are dropped. Fewer than 8 digits (after the country code) are masked entirely,
 *   since keeping 3 + 4 of them would reveal almost the whole number.
 */

export type PiiKind = 'email' | 'phone';

/** Column names (case-insensitive) whose values are masked, by kind. */
export interface PiiColumns {
  email: string[];
  phone: string[];
}

export const DEFAULT_PII_COLUMNS: PiiColumns = { email: ['email'], phone: ['phone'] };

/** National numbers shorter than this are masked completely. */
const MIN_DIGITS_TO_REVEAL = 8;
const KEEP_LEADING_DIGITS = 3;
const KEEP_TRAILING_DIGITS = 4;

/** The kind of personal data held by `column`, or null when it is not masked. */
export function piiKindOf(column: string, pii: PiiColumns = DEFAULT_PII_COLUMNS): PiiKind | null {
  const name = column.toLowerCase();
  if (pii.email.some((c) => c.toLowerCase() === name)) return 'email';
  if (pii.phone.some((c) => c.toLowerCase() === name)) return 'phone';
  return null;
}

/** Merge a caller's partial list with the defaults (a given kind replaces its default list). */
export function resolvePiiColumns(given?: Partial<PiiColumns>): PiiColumns {
  return {
    email: given?.email ?? DEFAULT_PII_COLUMNS.email,
    phone: given?.phone ?? DEFAULT_PII_COLUMNS.phone,
  };
}

/** SQL masking the e-mail address in `expr` (any type; cast to VARCHAR). */
export function maskEmailSql(expr: string): string {
  const e = `trim(CAST(${expr} AS VARCHAR))`;
  // One '@' exactly, with something before it: keep the first character and '@domain'.
  return `CASE
    WHEN ${expr} IS NULL THEN NULL
    WHEN ${e} = '' THEN ''
    WHEN regexp_matches(${e}, '^[^@]+@[^@]*$') THEN regexp_replace(${e}, '^(.)[^@]*(@[^@]*)$', '\\1***\\2')
    ELSE '***'
  END`;
}

/** SQL masking the digits of a national number held in `digits` (a VARCHAR of 0-9 only). */
function maskDigitsSql(digits: string): string {
  const hidden = KEEP_LEADING_DIGITS + KEEP_TRAILING_DIGITS;
  return `CASE
      WHEN length(${digits}) >= ${MIN_DIGITS_TO_REVEAL}
        THEN left(${digits}, ${KEEP_LEADING_DIGITS}) || repeat('*', length(${digits}) - ${hidden}) || right(${digits}, ${KEEP_TRAILING_DIGITS})
      ELSE repeat('*', length(${digits}))
    END`;
}

/** SQL masking the phone number in `expr` (any type; cast to VARCHAR). */
export function maskPhoneSql(expr: string): string {
  const p = `trim(CAST(${expr} AS VARCHAR))`;
  // '+CC' counts as a country code only when a separator follows it: in '+8613812345678'
  // the split between country code and number is unknowable, so all digits are the number.
  const countryCode = `'^\\+\\d{1,3}[\\s\\-.(/]'`;
  const afterCountryCode = `regexp_replace(regexp_replace(${p}, '^\\+\\d{1,3}', ''), '\\D', '', 'g')`;
  const allDigits = `regexp_replace(${p}, '\\D', '', 'g')`;
  return `CASE
    WHEN ${expr} IS NULL THEN NULL
    WHEN regexp_matches(${p}, ${countryCode})
      THEN regexp_extract(${p}, '^(\\+\\d{1,3})', 1) || ' ' || ${maskDigitsSql(afterCountryCode)}
    WHEN starts_with(${p}, '+') THEN '+' || ${maskDigitsSql(allDigits)}
    ELSE ${maskDigitsSql(allDigits)}
  END`;
}

export function maskSql(kind: PiiKind, expr: string): string {
  return kind === 'email' ? maskEmailSql(expr) : maskPhoneSql(expr);
}

/**
 * SQL masking the person's name in `expr` (shown on screen only where `privacy.mask_names` says
 * names are personal data): each word keeps its first character, the rest becomes `***`, so
 * `Anna Schmidt` → `A*** S***` and `张伟` → `张***` (the surname stays, as on Chinese forms).
 * The mask's length does not follow the name's. NULL stays NULL and the empty string stays empty.
 */
export function maskNameSql(expr: string): string {
  // A word ends at any space, the ideographic space (U+3000, \pZ) included.
  return `regexp_replace(trim(CAST(${expr} AS VARCHAR)), '([^\\s\\pZ])[^\\s\\pZ]*', '\\1***', 'g')`;
}
