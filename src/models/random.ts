/**
 * Seeded, deterministic pseudo-random numbers for simulation, tests and subsampling.
 *
 * Generator: xoshiro128** (Blackman & Vigna 2018, "Scrambled linear pseudorandom number
 * generators"), 128-bit state seeded through splitmix32 so that any 32-bit seed gives a
 * well-mixed state. Uniforms use 53 random bits and lie strictly inside (0, 1).
 *
 * Samplers:
 * - normal: Marsaglia's polar method;
 * - exponential: inversion, -ln(U) / rate;
 * - gamma(shape, rate): Marsaglia & Tsang (2000) squeeze method for shape >= 1, and the
 *   boost Gamma(k) = Gamma(k + 1) · U^(1/k) for shape < 1, done in log-space so tiny shapes
 *   do not underflow;
 * - beta(a, b): X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b), from their logarithms;
 * - poisson(mean): multiplication of uniforms (Knuth) below mean 30, Hörmann's (1993)
 *   transformed rejection with squeeze (PTRS) above.
 */

// The data generator (src/generate/random.ts) shares the xoshiro128** sequence
// (src/util/xoshiro.ts) but seeds and samples its own way: it promises byte-identical files
// across machines, so it uses 32-bit uniforms and pow-free samplers and must never change; this
// one serves statistics (53-bit uniforms, exact Poisson tails).
import { splitmix32, Xoshiro128 } from '../util/xoshiro.js';
import { lgamma } from './special.js';

const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;
/** Below this Poisson mean, multiplication of uniforms is both exact and fast. */
const POISSON_INVERSION_MAX_MEAN = 30;

/** A seeded xoshiro128** generator with distribution samplers. */
export class Rng extends Xoshiro128 {
  private spareNormal: number | null = null;

  constructor(seed: number) {
    // splitmix32 expands the seed into four state words (never all zero).
    const state = { s: seed | 0 };
    const s0 = splitmix32(state);
    const s1 = splitmix32(state);
    const s2 = splitmix32(state);
    const s3 = splitmix32(state);
    super((s0 | s1 | s2 | s3) === 0 ? 1 : s0, s1, s2, s3);
  }

  /** Uniform on the open interval (0, 1), 53-bit resolution. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * TWO_POW_26 + low + 0.5) / TWO_POW_53;
  }

  /** Standard normal variate. */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const factor = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = v * factor;
        return u * factor;
      }
    }
  }

  /** Exponential variate with the given rate (mean 1/rate). */
  exponential(rate = 1): number {
    return -Math.log(this.uniform()) / rate;
  }

  /** ln of a Gamma(shape, 1) variate; finite even when the variate underflows. */
  logGamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError(`gamma shape must be > 0 (got ${shape})`);
    if (shape < 1) return this.logGamma(shape + 1) + Math.log(this.uniform()) / shape;
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return Math.log(d * v);
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return Math.log(d * v);
    }
  }

  /** Gamma variate with shape k and rate θ (mean k/θ). */
  gamma(shape: number, rate = 1): number {
    return Math.exp(this.logGamma(shape)) / rate;
  }

  /** Beta(a, b) variate. */
  beta(a: number, b: number): number {
    const logX = this.logGamma(a);
    const logY = this.logGamma(b);
    // X / (X + Y) = 1 / (1 + e^(lnY - lnX)), safe when both variates underflow.
    return 1 / (1 + Math.exp(logY - logX));
  }

  /** Poisson variate with the given mean (>= 0). */
  poisson(mean: number): number {
    if (!(mean >= 0) || !Number.isFinite(mean)) {
      throw new RangeError(`Poisson mean must be finite and >= 0 (got ${mean})`);
    }
    if (mean === 0) return 0;
    if (mean < POISSON_INVERSION_MAX_MEAN) {
      const limit = Math.exp(-mean);
      let k = 0;
      let product = this.uniform();
      while (product > limit) {
        k++;
        product *= this.uniform();
      }
      return k;
    }
    return this.poissonPtrs(mean);
  }

  /** Hörmann (1993) "The transformed rejection method for generating Poisson random variables". */
  private poissonPtrs(mean: number): number {
    const sqrtMean = Math.sqrt(mean);
    const logMean = Math.log(mean);
    const b = 0.931 + 2.53 * sqrtMean;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <=
        -mean + k * logMean - lgamma(k + 1)
      ) {
        return k;
      }
    }
  }
}

/** Convenience constructor: `createRng(42).uniform()`. */
export function createRng(seed: number): Rng {
  return new Rng(seed);
}
