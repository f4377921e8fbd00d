import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/models/random.js';

const SAMPLES = 200_000;

/** Sample mean and variance of n draws. */
function moments(draw: () => number, n = SAMPLES): { mean: number; variance: number } {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const v = draw();
    sum += v;
    squares += v * v;
  }
  const mean = sum / n;
  return { mean, variance: squares / n - mean * mean };
}

/** The sample mean is within 5 standard errors of the true mean; the variance within 5 %. */
function expectMoments(draw: () => number, mean: number, variance: number): void {
  const m = moments(draw);
  expect(Math.abs(m.mean - mean)).toBeLessThan(5 * Math.sqrt(variance / SAMPLES));
  expect(Math.abs(m.variance / variance - 1)).toBeLessThan(0.05);
}

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const seqA = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(seqA);
  });

  it('draws uniforms strictly inside (0, 1) with the right moments', () => {
    const rng = new Rng(1);
    let min = 1;
    let max = 0;
    expectMoments(
      () => {
        const u = rng.uniform();
        min = Math.min(min, u);
        max = Math.max(max, u);
        return u;
      },
      0.5,
      1 / 12,
    );
    expect(min).toBeGreaterThan(0);
    expect(max).toBeLessThan(1);
  });

  it('samples normal, exponential, gamma, beta and Poisson variates with the right moments', () => {
    const rng = new Rng(2);
    expectMoments(() => rng.normal(), 0, 1);
    expectMoments(() => rng.exponential(2.5), 0.4, 0.16);
    for (const [shape, rate] of [
      [0.24, 4.41],
      [1, 1],
      [6.25, 0.5],
    ]) {
      expectMoments(() => rng.gamma(shape, rate), shape / rate, shape / (rate * rate));
    }
    for (const [a, b] of [
      [0.79, 2.43],
      [5, 1.5],
    ]) {
      const mean = a / (a + b);
      expectMoments(() => rng.beta(a, b), mean, (a * b) / ((a + b) ** 2 * (a + b + 1)));
    }
    for (const mean of [0.3, 7, 150]) expectMoments(() => rng.poisson(mean), mean, mean);
  });

  it('keeps tiny gamma shapes finite in log-space', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 1000; i++) {
      expect(Number.isFinite(rng.logGamma(0.01))).toBe(true);
      const p = rng.beta(0.01, 0.01);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
  });
});
