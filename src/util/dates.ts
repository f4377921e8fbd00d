/**
 * Dates given on the command line (`--as-of`, `--since`, `--holdout-end`, `--end-date`): the one
 * place that decides what such a date may be. A calendar day written YYYY-MM-DD, in the years a
 * stored date may have (STORABLE_YEARS), that exists (no 2024-02-30, no month 13). Checked here,
 * before any work, so a mistyped date is a usage error naming the flag rather than a DuckDB
 * conversion error halfway through.
 */
import { usageError } from './errors.js';

/**
 * The years a date may have, on the command line and in the store: those written with four
 * digits, as YYYY-MM-DD. DuckDB reads far more (`99999-01-01`; `-0044-03-15` as 45 BC;
 * `0000-01-01` as 1 BC; `infinity`; `epoch` as 1970-01-01): such a value is a typo or a
 * placeholder, not an order or signup date, and no export, spreadsheet or comparison with
 * YYYY-MM-DD text would handle it. Ingest rejects other years (src/ingest/values.ts).
 */
export const STORABLE_YEARS = { first: 1000, last: 9999 } as const;

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Why `text` is not a calendar day, or null when it is one. */
export function isoDayProblem(text: string): string | null {
  const m = ISO_DAY.exec(text);
  if (!m) return 'expected a date written YYYY-MM-DD, e.g. 2025-12-31';
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < STORABLE_YEARS.first || year > STORABLE_YEARS.last) return `the year must be from ${STORABLE_YEARS.first} to ${STORABLE_YEARS.last}`;
  if (month < 1 || month > 12) return `there is no month ${m[2]}: months run from 01 to 12`;
  const last = daysInMonth(year, month);
  if (day < 1 || day > last) return `there is no day ${m[3]} in ${MONTH_NAMES[month - 1]} ${year}: it has ${last} days`;
  return null;
}

/** The date given for `flag`, checked; a usage error (exit 2) naming the flag and the value otherwise. */
export function parseDateFlag(flag: string, value: string): string {
  const problem = isoDayProblem(value);
  if (problem) throw usageError(`${flag} ${JSON.stringify(value)}: ${problem}`);
  return value;
}

/** A commander argument parser for a date flag. */
export const dateFlag = (flag: string) => (value: string) => parseDateFlag(flag, value);
