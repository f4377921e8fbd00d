/**
 * How people are matched across records: the normalised forms of e-mail, phone and name, as
 * SQL expressions over a column (or a bound parameter). One home for `crm quality`'s duplicate
 * checks and `crm customer QUERY`'s lookup, so that what quality calls "the same phone" is what
 * the lookup finds.
 *
 * - e-mail: trimmed, lower-cased;
 * - phone: digits only, leading zeros dropped, then the last 10 digits (so +86 138…,
 *   0086 138… and 138… match; local numbers shorter than 10 digits compare whole);
 * - name: full-width forms folded to their ASCII (half-width) counterparts, then lower-cased,
 *   so that `ＺＨＡＮＧ　Ｗｅｉ` and `zhang wei` compare equal. This is the part of Unicode NFKC
 *   that CRM exports from East Asian systems need (full-width Latin letters, digits, punctuation
 *   and the ideographic space); DuckDB has no NFKC function, and the fold is a plain
 *   `translate`, fast enough to run over every customer per query.
 */
import { literal } from '../store/sql.js';

/** U+FF01…U+FF5E are the full-width forms of ASCII U+0021…U+007E, at a fixed offset. */
const FULL_WIDTH_OFFSET = 0xfee0;
const asciiPrintable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));
/** The characters folded and what they become, position by position (the ideographic space becomes a space). */
export const FULL_WIDTH_CHARS = asciiPrintable.map((c) => String.fromCharCode(c.charCodeAt(0) + FULL_WIDTH_OFFSET)).join('') + '\u3000';
export const HALF_WIDTH_CHARS = asciiPrintable.join('') + ' ';


export const NORMALISED_EMAIL = (col: string) => `lower(trim(${col}))`;
export const NORMALISED_PHONE = (col: string) =>
  `right(ltrim(regexp_replace(${col}, '[^0-9]', '', 'g'), '0'), 10)`;
// translate() is costly per row, so it runs only on text that holds a full-width character
// (pure ASCII text, strlen = length, has none): the same result, a fraction of the time.
export const NORMALISED_NAME = (col: string) =>
  `lower(CASE WHEN strlen(${col}) <> length(${col}) AND regexp_matches(${col}, '[${FULL_WIDTH_CHARS.slice(0, 1)}-${FULL_WIDTH_CHARS.slice(-2, -1)}\u3000]')
    THEN translate(${col}, ${literal(FULL_WIDTH_CHARS)}, ${literal(HALF_WIDTH_CHARS)}) ELSE ${col} END)`;

/** Phones with fewer digits than this are not compared (quality does not call them duplicates; lookup does not match them). */
export const MIN_PHONE_DIGITS = 7;

/**
 * The keys two customer records are compared on: the normalised value, or NULL when it cannot
 * match anything (a blank e-mail; a phone with fewer than MIN_PHONE_DIGITS digits). `crm quality`'s
 * duplicate counts and `crm quality --suggest-merges` (merges/suggest.ts) both read them.
 */
export const EMAIL_MATCH_KEY = (col: string) => `CASE WHEN nullif(trim(${col}), '') IS NOT NULL THEN ${NORMALISED_EMAIL(col)} END`;
export const PHONE_MATCH_KEY = (col: string) =>
  `CASE WHEN length(${NORMALISED_PHONE(col)}) >= ${MIN_PHONE_DIGITS} THEN ${NORMALISED_PHONE(col)} END`;
/** A name (or region) as compared: normalised as NORMALISED_NAME, blanks trimmed and runs of blanks as one; NULL when blank. */
export const NAME_MATCH_KEY = (col: string) => `nullif(trim(regexp_replace(${NORMALISED_NAME(col)}, '\\s+', ' ', 'g')), '')`;
