/**
 * The xoshiro128** generator (Blackman & Vigna 2018, "Scrambled linear pseudorandom number
 * generators"): 128-bit state, period 2^128 − 1, passes BigCrush, only 32-bit integer
 * operations (Math.imul, shifts) that V8 runs without allocating. Seeds are expanded with
 * splitmix32, so nearby seeds give unrelated sequences.
 *
 * The core of both seeded generators: src/generate/random.ts (the data generator: 32-bit
 * uniforms, byte-identical files) and src/models/random.ts (statistics: 53-bit uniforms). They
 * differ in how they seed and sample, never in this sequence.
 */

/** splitmix32: advances `state` and returns a well-mixed unsigned 32-bit word. */
export function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** xoshiro128** from four state words (not all zero: the all-zero state is a fixed point). */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(s0: number, s1: number, s2: number, s3: number) {
    if ((s0 | s1 | s2 | s3) === 0) throw new Error('xoshiro128**: the all-zero state is a fixed point');
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** The next unsigned 32-bit output. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }
}
