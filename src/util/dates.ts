/**
 * Dates given on the command line (`--as-of`, `--since`, `--holdout-end`, `--end-date`): the one
 * place that decides what such a date may be. A calendar day written YYYY-MM-DD, year 0001 to
 * 9999, that exists (no 2024-02-30, no month 13). Checked here, before any work, so a mistyped
 * date is a usage error naming the flag rather than a DuckDB conversion error halfway through.
 */
import { usageError } from './errors.js';

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
  if (year < 1) return 'the year must be from 0001 to 9999';
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
