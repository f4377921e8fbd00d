/**
 * Seeded pseudo-random numbers and the distributions the behavioural model draws from.
 *
 * Why our own generator: Math.random cannot be seeded, and `generate()` must write
 * byte-identical files for the same options. xoshiro128** (Blackman & Vigna) has a period of
 * 2^128 − 1, passes BigCrush, and needs only 32-bit integer operations (Math.imul, shifts),
 * which V8 runs without allocating. A seed is expanded with splitmix32 so that nearby seeds
 * (1, 2, 3) and nearby stream numbers give unrelated sequences.
 *
 * Why the samplers are safe for byte-identical output: they only use +, −, ×, ÷, Math.sqrt
 * (exactly rounded by IEEE 754) and Math.log / Math.exp, which V8 implements with ports of
 * fdlibm, so the same seed gives the same numbers on every machine running Node 20+.
 * (Math.pow is avoided on purpose; x^(1/a) is written exp(log(x)/a).)
 */

// The xoshiro128** sequence itself is shared (src/util/xoshiro.ts). The seeding and samplers
// here stay apart from src/models/random.ts (the statistics' generator: 53-bit uniforms, other
// samplers) because changing them would change every generated file.
import { splitmix32, Xoshiro128 } from '../util/xoshiro.js';

const TWO_POW_32 = 4294967296;

/** A seeded xoshiro128** generator. `stream` selects an independent sequence for the same seed. */
export class Rng extends Xoshiro128 {
  /** Marsaglia's polar method yields normals in pairs; the second one waits here. */
  private spareNormal = 0;
  private hasSpareNormal = false;

  constructor(seed: number, stream = 0) {
    const st = { s: (Math.imul(seed | 0, 0x2c1b3c6d) ^ Math.imul(stream | 0, 0x297a2d39)) | 0 };
    // Mix the seed's high bits too, so seeds above 2^32 are not silently folded together.
    st.s = (st.s ^ Math.floor(seed / TWO_POW_32)) | 0;
    const a = splitmix32(st);
    const b = splitmix32(st);
    const c = splitmix32(st);
    const d = splitmix32(st);
    super(a, b, c, (a | b | c | d) === 0 ? 1 : d); // the all-zero state is a fixed point
  }

  /** Uniform in [0, 1) with 32 bits of resolution (plenty for a simulation). */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform in (0, 1): safe to take the logarithm of. */
  nextOpen(): number {
    return (this.nextUint32() + 0.5) / TWO_POW_32;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniform integer in [lo, hi], both inclusive. */
  intBetween(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** A standard normal draw (Marsaglia's polar method). */
  normal(): number {
    if (this.hasSpareNormal) {
      this.hasSpareNormal = false;
      return this.spareNormal;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * m;
    this.hasSpareNormal = true;
    return u * m;
  }
}

/** Exponential with the given rate (mean 1/rate). */
export function exponential(rng: Rng, rate: number): number {
  return -Math.log(rng.nextOpen()) / rate;
}

/** Log-normal: exp(N(mu, sigma²)). The median is exp(mu). */
export function lognormal(rng: Rng, mu: number, sigma: number): number {
  return Math.exp(mu + sigma * rng.normal());
}

/**
 * Gamma(shape, scale), mean shape·scale. Marsaglia & Tsang's squeeze method for shape ≥ 1;
 * for shape < 1 the usual boost Gamma(shape) = Gamma(shape + 1) · U^(1/shape).
 */
export function gamma(rng: Rng, shape: number, scale = 1): number {
  if (!(shape > 0) || !(scale > 0)) throw new RangeError(`gamma: shape and scale must be > 0 (got ${shape}, ${scale})`);
  if (shape < 1) {
    const boost = Math.exp(Math.log(rng.nextOpen()) / shape);
    return gamma(rng, shape + 1, scale) * boost;
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.nextOpen();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v * scale;
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v * scale;
  }
}

/** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  return x / (x + y);
}

/**
 * Poisson(mean). Knuth's multiplication method for small means (the only ones the model
 * uses in hot loops); Hörmann's PTRS transformed rejection above 30, which stays O(1).
 */
export function poisson(rng: Rng, mean: number): number {
  if (!(mean >= 0)) throw new RangeError(`poisson: mean must be ≥ 0 (got ${mean})`);
  if (mean === 0) return 0;
  if (mean < 30) {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = rng.nextOpen();
    while (p > limit) {
      k++;
      p *= rng.nextOpen();
    }
    return k;
  }
  const slam = Math.sqrt(mean);
  const loglam = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.nextOpen();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -mean + k * loglam - logFactorial(k)) {
      return k;
    }
  }
}

/** log(k!) via Stirling's series; exact enough for PTRS's acceptance test. */
function logFactorial(k: number): number {
  if (k < 2) return 0;
  if (k < 10) {
    let f = 1;
    for (let i = 2; i <= k; i++) f *= i;
    return Math.log(f);
  }
  const x = k + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x * x * x);
}

/**
 * A fixed discrete distribution over indices 0..n−1, drawn in O(log n) from cumulative
 * weights. Built once per table (channels, regions...) and reused in hot loops.
 */
export class Categorical {
  private readonly cumulative: Float64Array;

  constructor(weights: readonly number[]) {
    if (weights.length === 0) throw new RangeError('Categorical: no weights');
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      if (!(weights[i] >= 0)) throw new RangeError(`Categorical: weight ${i} is negative or NaN`);
      sum += weights[i];
      this.cumulative[i] = sum;
    }
    if (!(sum > 0)) throw new RangeError('Categorical: weights sum to 0');
    for (let i = 0; i < weights.length; i++) this.cumulative[i] /= sum;
    this.cumulative[weights.length - 1] = 1;
  }

  get size(): number {
    return this.cumulative.length;
  }

  draw(rng: Rng): number {
    const u = rng.next();
    const cum = this.cumulative;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < cum[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** A 32-bit integer hash (lowbias32): stateless per-index randomness, e.g. for owner names. */
export function hash32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}
