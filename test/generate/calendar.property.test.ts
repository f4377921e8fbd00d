/**
 * Month arithmetic for contract periods (calendar.ts addMonths): clamping at month ends, and
 * the periods counted from one anchor date being contiguous, checked against an independent
 * implementation on JavaScript's UTC dates.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMonths, civilFromDays, daysFromCivil, daysInMonth, isoFromDay, parseIsoDay } from '../../src/generate/calendar.js';

const day = (iso: string) => parseIsoDay(iso);

/** Independent: JavaScript's Date, day clamped to the target month's last day (Date.UTC(y, m + 1, 0)). */
function referenceAddMonths(iso: string, months: number): string {
  const [y, m, d] = iso.split('-').map(Number);
  const target = new Date(Date.UTC(y, m - 1 + months, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d, last));
  return target.toISOString().slice(0, 10);
}

/** Any day from 1900-01-01 to 2199-12-31. */
const dayArb = fc.integer({ min: daysFromCivil(1900, 1, 1), max: daysFromCivil(2199, 12, 31) });
const monthsArb = fc.integer({ min: -240, max: 240 });

describe('addMonths', () => {
  it('clamps at month ends: Jan 31 + 1 month is the last day of February', () => {
    expect(isoFromDay(addMonths(day('2023-01-31'), 1))).toBe('2023-02-28');
    expect(isoFromDay(addMonths(day('2024-01-31'), 1))).toBe('2024-02-29');
    expect(isoFromDay(addMonths(day('2024-02-29'), 12))).toBe('2025-02-28');
    expect(isoFromDay(addMonths(day('2024-02-29'), 48))).toBe('2028-02-29');
    expect(isoFromDay(addMonths(day('2025-03-31'), -1))).toBe('2025-02-28');
    expect(isoFromDay(addMonths(day('2025-08-31'), 1))).toBe('2025-09-30');
    expect(isoFromDay(addMonths(day('2025-12-15'), 1))).toBe('2026-01-15');
    expect(isoFromDay(addMonths(day('2025-01-15'), -1))).toBe('2024-12-15');
  });

  it('agrees with an independent implementation on JavaScript dates', () => {
    fc.assert(
      fc.property(dayArb, monthsArb, (d, k) => {
        expect(isoFromDay(addMonths(d, k))).toBe(referenceAddMonths(isoFromDay(d), k));
      }),
      { numRuns: 2000 },
    );
  });

  it('lands in the target month, on the same day or the month’s last day', () => {
    fc.assert(
      fc.property(dayArb, monthsArb, (d, k) => {
        const from = civilFromDays(d);
        const to = civilFromDays(addMonths(d, k));
        expect(to.y * 12 + to.m).toBe(from.y * 12 + from.m + k);
        expect(to.d).toBe(Math.min(from.d, daysInMonth(to.y, to.m)));
      }),
    );
  });

  it('is monotone in the months added, and the identity for 0', () => {
    fc.assert(
      fc.property(dayArb, monthsArb, (d, k) => {
        expect(addMonths(d, 0)).toBe(d);
        expect(addMonths(d, k + 1)).toBeGreaterThan(addMonths(d, k));
      }),
    );
  });

  it('composes for days up to the 28th (no clamping involved)', () => {
    fc.assert(
      fc.property(dayArb, monthsArb, monthsArb, (d0, a, b) => {
        const c = civilFromDays(d0);
        const d = daysFromCivil(c.y, c.m, Math.min(c.d, 28));
        expect(addMonths(addMonths(d, a), b)).toBe(addMonths(d, a + b));
      }),
    );
  });

  it('gives contiguous periods of a plausible length when counted from one anchor', () => {
    const lengths = { 1: [28, 31], 3: [89, 92], 12: [365, 366] } as const;
    fc.assert(
      fc.property(dayArb, fc.constantFrom(1, 3, 12), fc.integer({ min: 1, max: 60 }), (anchor, months, periods) => {
        let start = anchor;
        for (let n = 0; n < periods; n++) {
          const end = addMonths(anchor, (n + 1) * months) - 1;
          expect(end - start + 1).toBeGreaterThanOrEqual(lengths[months as 1 | 3 | 12][0]);
          expect(end - start + 1).toBeLessThanOrEqual(lengths[months as 1 | 3 | 12][1]);
          start = end + 1; // the next period starts the day after: no gap, no overlap
          expect(start).toBe(addMonths(anchor, (n + 1) * months));
        }
      }),
    );
  });

  it('daysInMonth knows leap years', () => {
    expect([2023, 2024, 1900, 2000].map((y) => daysInMonth(y, 2))).toEqual([28, 29, 28, 29]);
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: 1, max: 12 }), (y, m) => {
        expect(daysInMonth(y, m)).toBe(new Date(Date.UTC(y, m, 0)).getUTCDate());
      }),
    );
  });
});
