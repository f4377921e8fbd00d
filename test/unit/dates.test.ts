/**
 * Dates on the command line (src/util/dates.ts): a day that exists, written YYYY-MM-DD, or a
 * usage error naming the flag and the value.
 */
import { describe, expect, it } from 'vitest';
import { daysInMonth, isoDayProblem, parseDateFlag } from '../../src/util/dates.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';

describe('command-line dates', () => {
  it.each(['2024-02-29', '2000-02-29', '2025-12-31', '1000-01-01', '9999-12-31', '2024-04-30'])('%s is a day', (day) => {
    expect(isoDayProblem(day)).toBeNull();
    expect(parseDateFlag('--as-of', day)).toBe(day);
  });

  it.each([
    ['2024-02-30', /no day 30 in February 2024: it has 29 days/],
    ['2023-02-29', /no day 29 in February 2023: it has 28 days/],
    ['1900-02-29', /February 1900: it has 28 days/],
    ['2024-04-31', /April 2024: it has 30 days/],
    ['2024-13-01', /no month 13/],
    ['2024-00-10', /no month 00/],
    ['2024-01-00', /no day 00/],
    ['0000-01-01', /year must be from 1000 to 9999/],
    // A day no ingested date can be (STORABLE_YEARS): one rule for the command line and the store.
    ['0999-12-31', /year must be from 1000 to 9999/],
    ['0001-01-01', /year must be from 1000 to 9999/],
    ['99999-01-01', /YYYY-MM-DD/],
    ['2024-1-5', /YYYY-MM-DD/],
    ['31/12/2024', /YYYY-MM-DD/],
    ['2024-01-01T00:00', /YYYY-MM-DD/],
    ['', /YYYY-MM-DD/],
  ])('%s is refused: %s', (value, why) => {
    expect(isoDayProblem(value)).toMatch(why);
    let thrown: unknown;
    try {
      parseDateFlag('--since', value);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CrmError);
    expect((thrown as CrmError).exitCode).toBe(ExitCode.usage);
    expect((thrown as CrmError).message).toBe(`--since ${JSON.stringify(value)}: ${isoDayProblem(value)}`);
  });

  it('knows the length of every month, leap years included', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2023, m))).toEqual([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    expect([1900, 2000, 2024, 2100].map((y) => daysInMonth(y, 2))).toEqual([28, 29, 29, 28]);
  });
});
