import { describe, expect, it } from 'vitest';
import { type BgNbdParams, compressRfm, conditionalExpectedPurchases } from '../../src/models/bgnbd.js';
import {
  customerLifetimeValue,
  discountSchedule,
  discountedExpectedPurchases,
  discountedExpectedPurchasesAll,
} from '../../src/models/clv.js';
import { Rng } from '../../src/models/random.js';
import { simulateBgNbd } from '../../src/models/simulate.js';

const CDNOW: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const WEEKS_PER_YEAR = 52;
const ONE_YEAR = { horizon: 52, unitsPerYear: WEEKS_PER_YEAR, annualDiscountRate: 0.1 };

describe('discountSchedule', () => {
  it('cuts the horizon into monthly steps discounted at the end of each month', () => {
    const schedule = discountSchedule(ONE_YEAR);
    expect(schedule.stepEnds).toHaveLength(12);
    expect(schedule.stepEnds[0]).toBeCloseTo(52 / 12, 12);
    expect(schedule.stepEnds[11]).toBeCloseTo(52, 12);
    const monthly = Math.pow(1.1, 1 / 12) - 1;
    for (let i = 1; i <= 12; i++) expect(schedule.discountFactors[i - 1]).toBeCloseTo(Math.pow(1 + monthly, -i), 14);
    expect(schedule.discountFactors[11]).toBeCloseTo(1 / 1.1, 14);
  });

  it('ends with a partial step when the horizon is not a whole number of months', () => {
    const schedule = discountSchedule({ ...ONE_YEAR, horizon: 50 });
    expect(schedule.stepEnds).toHaveLength(12);
    expect(schedule.stepEnds[11]).toBe(50);
    expect(discountSchedule({ ...ONE_YEAR, horizon: 0 }).stepEnds).toHaveLength(0);
  });

  it('rejects invalid options', () => {
    expect(() => discountSchedule({ ...ONE_YEAR, horizon: -1 })).toThrow(RangeError);
    expect(() => discountSchedule({ ...ONE_YEAR, unitsPerYear: 0 })).toThrow(RangeError);
    expect(() => discountSchedule({ ...ONE_YEAR, annualDiscountRate: -1 })).toThrow(RangeError);
  });
});

describe('discounted expected purchases and CLV', () => {
  const customers: [number, number, number][] = [
    [0, 0, 30],
    [1, 5, 30],
    [3, 20, 38],
    [10, 35, 39],
  ];

  it('equals E[Y(H) | x, t_x, T] without discounting', () => {
    for (const [x, tx, T] of customers) {
      const dep = discountedExpectedPurchases(CDNOW, x, tx, T, { ...ONE_YEAR, annualDiscountRate: 0 });
      expect(dep).toBeCloseTo(conditionalExpectedPurchases(CDNOW, 52, x, tx, T), 12);
    }
  });

  it('sums monthly increments of eq. 10 times the discount factors', () => {
    const { stepEnds, discountFactors } = discountSchedule(ONE_YEAR);
    for (const [x, tx, T] of customers) {
      let expected = 0;
      let previous = 0;
      stepEnds.forEach((end, i) => {
        const cumulative = conditionalExpectedPurchases(CDNOW, end, x, tx, T);
        expected += (cumulative - previous) * discountFactors[i];
        previous = cumulative;
      });
      const dep = discountedExpectedPurchases(CDNOW, x, tx, T, ONE_YEAR);
      expect(dep).toBeCloseTo(expected, 12);
      expect(dep).toBeLessThan(conditionalExpectedPurchases(CDNOW, 52, x, tx, T));
      expect(customerLifetimeValue(CDNOW, x, tx, T, 35.5, ONE_YEAR)).toBeCloseTo(35.5 * dep, 10);
    }
  });

  it('decreases as the discount rate rises', () => {
    const values = [0, 0.05, 0.2, 1].map((rate) =>
      discountedExpectedPurchases(CDNOW, 3, 20, 38, { ...ONE_YEAR, horizon: 156, annualDiscountRate: rate }),
    );
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThan(values[i - 1]);
  });

  it('vectorised form equals the per-customer one', () => {
    const sim = simulateBgNbd(CDNOW, 4000, { minT: 1, maxT: 39, resolution: 1 / 7 }, new Rng(9));
    const data = compressRfm(sim.x, sim.tx, sim.T);
    const all = discountedExpectedPurchasesAll(CDNOW, data, { ...ONE_YEAR, horizon: 104 });
    for (let i = 0; i < data.x.length; i++) {
      const single = discountedExpectedPurchases(CDNOW, data.x[i], data.tx[i], data.T[i], { ...ONE_YEAR, horizon: 104 });
      expect(Math.abs(all[i] - single)).toBeLessThanOrEqual(1e-13 * single);
    }
  });
});
