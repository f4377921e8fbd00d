import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/models/random.js';
import {
  compressRfm,
  groupDistinct,
  groupIntegers,
  groupPairs,
  pickRows,
  validateRfmSummary,
  unitWeightedSubsample,
  weightedSubsample,
} from '../../src/models/rfm-data.js';

/** Reference grouping with a Map on string keys. */
function referenceGroups(columns: Float64Array[]): Uint32Array {
  const ids = new Map<string, number>();
  return Uint32Array.from({ length: columns[0].length }, (_, i) => {
    const key = columns.map((c) => (Object.is(c[i], -0) ? 0 : c[i])).join('|');
    if (!ids.has(key)) ids.set(key, ids.size);
    return ids.get(key)!;
  });
}

describe('groupDistinct', () => {
  it('matches a Map-based grouping for one to three columns, growing its table', () => {
    const rng = new Rng(1);
    const n = 50_000;
    const a = Float64Array.from({ length: n }, () => Math.floor(rng.uniform() * 40));
    const b = Float64Array.from({ length: n }, () => Math.floor(rng.uniform() * 300) / 7);
    const c = Float64Array.from({ length: n }, () => rng.uniform() < 0.5 ? 0 : Math.floor(rng.uniform() * 5000));
    for (const columns of [[b], [a, b], [a, b, c]]) {
      const groups = groupDistinct(columns);
      const reference = referenceGroups(columns);
      expect(Array.from(groups.groupOf)).toEqual(Array.from(reference));
      expect(groups.groupCount).toBe(Math.max(...reference) + 1);
      for (let g = 0; g < groups.groupCount; g++) expect(groups.groupOf[groups.firstRow[g]]).toBe(g);
    }
  });

  it('treats -0 as 0 and groups NaN keys together', () => {
    const groups = groupDistinct([Float64Array.of(NaN, 1, NaN, -0, 0, 1)]);
    expect(Array.from(groups.groupOf)).toEqual([0, 1, 0, 2, 2, 1]);
  });

  it('groupPairs agrees with groupDistinct on two columns, dense or hashed', () => {
    const rng = new Rng(3);
    const n = 20_000;
    const x = Float64Array.from({ length: n }, () => rng.poisson(2));
    const gridT = Float64Array.from({ length: n }, () => Math.floor(rng.uniform() * 100) / 7);
    const continuousT = Float64Array.from({ length: n }, () => rng.uniform() * 39);
    for (const T of [gridT, continuousT]) {
      expect(Array.from(groupPairs(x, T).groupOf)).toEqual(Array.from(groupDistinct([x, T]).groupOf));
    }
  });

  it('groupPairs groups the same two columns once (the same groups again), and other columns anew', () => {
    const x = Float64Array.of(0, 1, 0, 1, 2);
    const T = Float64Array.of(5, 5, 5, 6, 6);
    const first = groupPairs(x, T);
    expect(groupPairs(x, T)).toBe(first);
    // The same x with another T, and equal values in another array: grouped on their own values.
    const otherT = Float64Array.of(5, 6, 7, 6, 6);
    expect(Array.from(groupPairs(x, otherT).groupOf)).toEqual([0, 1, 2, 1, 3]);
    expect(groupPairs(x, Float64Array.from(T))).not.toBe(first);
    expect(Array.from(groupPairs(Float64Array.from(x), T).groupOf)).toEqual(Array.from(first.groupOf));
    expect(Array.from(groupPairs(x, T).groupOf)).toEqual([0, 1, 0, 2, 3]);
  });

  it('groupIntegers agrees with groupDistinct', () => {
    const values = Float64Array.of(3, 0, 3, 7, 0, 1e7, 2);
    expect(Array.from(groupIntegers(values).groupOf)).toEqual(Array.from(groupDistinct([values]).groupOf));
    const fractional = Float64Array.of(0.5, 1, 0.5);
    expect(Array.from(groupIntegers(fractional).groupOf)).toEqual([0, 1, 0]);
  });
});

describe('compressRfm', () => {
  it('keeps one row per distinct triple with the customer count as weight', () => {
    const data = compressRfm([0, 2, 0, 2, 1], [0, 5, 0, 5, 3], [10, 12, 10, 12, 12]);
    expect(Array.from(data.x)).toEqual([0, 2, 1]);
    expect(Array.from(data.tx)).toEqual([0, 5, 3]);
    expect(Array.from(data.T)).toEqual([10, 12, 12]);
    expect(Array.from(data.weight)).toEqual([2, 2, 1]);
    expect(validateRfmSummary(data)).toBeNull();
    const weighted = compressRfm([1, 1], [2, 2], [3, 3], [0.5, 2]);
    expect(Array.from(weighted.weight)).toEqual([2.5]);
  });
});

describe('unitWeightedSubsample', () => {
  it('draws what weightedSubsample draws from a column of ones: the same rows and weights', () => {
    for (const [rows, target] of [[10_000, 700], [5_001, 2_500], [300, 1_000], [1, 1]]) {
      const a = new Rng(11);
      const b = new Rng(11);
      const withOnes = weightedSubsample(new Float64Array(rows).fill(1), target, () => a.uniform());
      const without = unitWeightedSubsample(rows, target, () => b.uniform());
      expect(without.rows).toEqual(withOnes.rows);
      expect(without.weight).toEqual(withOnes.weight);
      // The generators were drawn from alike: the next draws agree.
      expect(b.uniform()).toBe(a.uniform());
    }
  });
});

describe('weightedSubsample', () => {
  it('keeps heavy rows, samples light ones and preserves the total weight on average', () => {
    const rng = new Rng(2);
    const weight = Float64Array.from({ length: 100_000 }, (_, i) => (i < 10 ? 5000 : 1));
    const sample = weightedSubsample(weight, 5000, () => rng.uniform());
    for (let i = 0; i < 10; i++) expect(sample.rows[i]).toBe(i); // always kept
    const total = weight.reduce((s, w) => s + w, 0);
    const sampledTotal = sample.weight.reduce((s, w) => s + w, 0);
    expect(Math.abs(sampledTotal / total - 1)).toBeLessThan(0.05);
    expect(sample.rows.length).toBeGreaterThan(3000);
    expect(sample.rows.length).toBeLessThan(6000);
    expect(Array.from(pickRows(Float64Array.of(5, 6, 7), Uint32Array.of(2, 0)))).toEqual([7, 5]);
  });
});
