/**
 * Input data of the customer-base models and the O(n) grouping helpers the fast likelihood
 * and prediction code relies on.
 *
 * An `RfmSummary` holds COMPRESSED recency/frequency triples: every row is a distinct
 * (x, t_x, T) combination and `weight` counts the customers who share it.
 *   x   = number of repeat purchases (integer >= 0: purchases after the first one),
 *   t_x = time of the last purchase, measured from the first purchase (0 when x = 0),
 *   T   = time from the first purchase to the end of the observation window (as-of date),
 * both in one time unit of the caller's choosing (weeks, days...; may be fractional), with
 * 0 <= t_x <= T. Rows may come in any order; a SQL `GROUP BY x, t_x, T` is the natural source.
 * Rows with weight 0 are ignored.
 */

/** Compressed (x, t_x, T) triples with the number of customers sharing each triple. */
export interface RfmSummary {
  /** Repeat purchases (integer >= 0). */
  x: Float64Array;
  /** Time of the last purchase since the first purchase (0 if x = 0). */
  tx: Float64Array;
  /** Time since the first purchase to the as-of date. */
  T: Float64Array;
  /** Number of customers sharing the triple (>= 0; may be fractional for sampling weights). */
  weight: Float64Array;
}

/** Starting size of the open-addressing table of groupDistinct (a power of two). */
const INITIAL_HASH_CAPACITY = 1024;
/** Relative slack allowed in t_x <= T (times computed in floating point). */
const RECENCY_SLACK = 1e-9;

/**
 * The first problem that makes `data` unusable for the models, or null if none: mismatched
 * lengths, non-finite values, negative or non-integer x, t_x outside [0, T], negative weights.
 */
export function validateRfmSummary(data: RfmSummary): string | null {
  const n = data.x.length;
  if (data.tx.length !== n || data.T.length !== n || data.weight.length !== n) {
    return `x, tx, T and weight must have the same length (got ${n}, ${data.tx.length}, ${data.T.length}, ${data.weight.length})`;
  }
  for (let i = 0; i < n; i++) {
    const x = data.x[i];
    const tx = data.tx[i];
    const T = data.T[i];
    const w = data.weight[i];
    if (!Number.isFinite(x) || x < 0 || !Number.isInteger(x)) {
      return `row ${i}: x must be a non-negative integer (got ${x})`;
    }
    if (!Number.isFinite(T) || T < 0) return `row ${i}: T must be finite and >= 0 (got ${T})`;
    if (!Number.isFinite(tx) || tx < 0 || tx > T * (1 + RECENCY_SLACK)) {
      return `row ${i}: tx must be within [0, T] (got tx=${tx}, T=${T})`;
    }
    if (!Number.isFinite(w) || w < 0) return `row ${i}: weight must be finite and >= 0 (got ${w})`;
  }
  return null;
}

// Bit-level views for hashing doubles.
const hashScratch = new Float64Array(1);
const hashWords = new Uint32Array(hashScratch.buffer);

/** Murmur3-style mixing of one 32-bit block into the running hash. */
function mixWord(hash: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  const h = hash ^ k;
  return (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
}

/** Mix both words of a double into the running hash (+0 and -0 hash alike: they compare equal). */
function hashDouble(value: number, hash: number): number {
  hashScratch[0] = value === 0 ? 0 : value;
  return mixWord(mixWord(hash, hashWords[0]), hashWords[1]);
}

/** Murmur3 finaliser: spreads every input bit over the low bits used as table index. */
function finalizeHash(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Key equality for grouping: ===, except that NaN keys form one group (as in SQL GROUP BY). */
function sameKey(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

/** Result of grouping rows by the values of one or more key columns. */
export interface DistinctGroups {
  /** Group id of each row, 0..groupCount-1, in order of first appearance. */
  groupOf: Uint32Array;
  /** Index of the first row of each group (its representative). */
  firstRow: Uint32Array;
  groupCount: number;
}

/**
 * Group rows by equal keys (one to three Float64 columns) with an open-addressing hash table,
 * O(n). Keys compare with === (+0 equals -0), and NaN keys form one group.
 */
export function groupDistinct(columns: readonly Float64Array[], rows = columns[0].length): DistinctGroups {
  // The table starts small and doubles at half load, so that few distinct keys (the usual
  // case for T and t_x on a daily grid) stay in cache however many rows there are. Each
  // group's key is copied into compact arrays: comparing against the representative row in
  // the (large) input columns would cost a cache miss per row.
  const keyColumns = columns.length;
  if (keyColumns < 1 || keyColumns > 3) throw new RangeError('groupDistinct: one to three key columns');
  let capacity = INITIAL_HASH_CAPACITY;
  let mask = capacity - 1;
  let slots = new Int32Array(capacity).fill(-1); // group id per slot
  let slotHash = new Int32Array(capacity);
  let firstRow = new Uint32Array(INITIAL_HASH_CAPACITY);
  let keys = new Float64Array(3 * INITIAL_HASH_CAPACITY);
  const groupOf = new Uint32Array(rows);
  let groupCount = 0;
  const c0 = columns[0];
  const c1 = keyColumns > 1 ? columns[1] : null;
  const c2 = keyColumns > 2 ? columns[2] : null;
  // Rows from a sorted GROUP BY repeat keys back to back: remember the previous row's group.
  let previousGroup = -1;
  let p0 = NaN;
  let p1 = NaN;
  let p2 = NaN;
  for (let i = 0; i < rows; i++) {
    const v0 = c0[i];
    const v1 = c1 === null ? 0 : c1[i];
    const v2 = c2 === null ? 0 : c2[i];
    if (v0 === p0 && v1 === p1 && v2 === p2) {
      groupOf[i] = previousGroup;
      continue;
    }
    p0 = v0;
    p1 = v1;
    p2 = v2;
    let hash = hashDouble(v0, 0x9e3779b9);
    if (c1 !== null) hash = hashDouble(v1, hash);
    if (c2 !== null) hash = hashDouble(v2, hash);
    hash = finalizeHash(hash);
    let slot = hash & mask;
    for (;;) {
      const group = slots[slot];
      if (group === -1) {
        if (groupCount === firstRow.length) {
          const grownRows = new Uint32Array(2 * firstRow.length);
          grownRows.set(firstRow);
          firstRow = grownRows;
          const grownKeys = new Float64Array(2 * keys.length);
          grownKeys.set(keys);
          keys = grownKeys;
        }
        slots[slot] = groupCount;
        slotHash[slot] = hash;
        firstRow[groupCount] = i;
        keys[3 * groupCount] = v0;
        keys[3 * groupCount + 1] = v1;
        keys[3 * groupCount + 2] = v2;
        previousGroup = groupCount;
        groupOf[i] = groupCount++;
        if (2 * groupCount > capacity) {
          const oldSlots = slots;
          const oldHash = slotHash;
          capacity *= 2;
          mask = capacity - 1;
          slots = new Int32Array(capacity).fill(-1);
          slotHash = new Int32Array(capacity);
          for (let s = 0; s < oldSlots.length; s++) {
            if (oldSlots[s] === -1) continue;
            let t = oldHash[s] & mask;
            while (slots[t] !== -1) t = (t + 1) & mask;
            slots[t] = oldSlots[s];
            slotHash[t] = oldHash[s];
          }
        }
        break;
      }
      const k = 3 * group;
      if (slotHash[slot] === hash && sameKey(keys[k], v0) && sameKey(keys[k + 1], v1) && sameKey(keys[k + 2], v2)) {
        previousGroup = group;
        groupOf[i] = group;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return { groupOf, firstRow: firstRow.slice(0, groupCount), groupCount };
}

/** Rows drawn by `weightedSubsample` and their Horvitz–Thompson weights. */
export interface WeightedSample {
  rows: Uint32Array;
  weight: Float64Array;
}

/**
 * Probability-proportional-to-weight (Poisson) sample of about `targetRows` rows: row i is kept
 * with probability π_i = min(1, w_i / c), c = Σw / targetRows, and then weighs w_i / π_i =
 * max(w_i, c), so weighted sums over the sample (log-likelihoods) estimate the full sums without
 * bias. `uniform` supplies U(0,1) draws (a seeded Rng for reproducibility).
 */
export function weightedSubsample(
  weight: ArrayLike<number>,
  targetRows: number,
  uniform: () => number,
): WeightedSample {
  let total = 0;
  for (let i = 0; i < weight.length; i++) if (weight[i] > 0) total += weight[i];
  const c = total / targetRows;
  const rows: number[] = [];
  for (let i = 0; i < weight.length; i++) {
    const w = weight[i];
    if (!(w > 0)) continue;
    if (w >= c || uniform() < w / c) rows.push(i);
  }
  const picked = Uint32Array.from(rows);
  const sampleWeight = new Float64Array(picked.length);
  for (let k = 0; k < picked.length; k++) sampleWeight[k] = Math.max(weight[picked[k]], c);
  return { rows: picked, weight: sampleWeight };
}

/**
 * weightedSubsample of `rows` rows that each weigh 1, without a column of ones (the Gamma-Gamma's
 * input is one row per repeat customer: 13.9M at 100M lines): the same draws, rows and weights.
 */
export function unitWeightedSubsample(rows: number, targetRows: number, uniform: () => number): WeightedSample {
  // Σ of `rows` ones, exact in a double.
  const c = rows / targetRows;
  const picked: number[] = [];
  for (let i = 0; i < rows; i++) if (1 >= c || uniform() < 1 / c) picked.push(i);
  return { rows: Uint32Array.from(picked), weight: new Float64Array(picked.length).fill(Math.max(1, c)) };
}

/** The values of `column` at `rows`. */
export function pickRows(column: ArrayLike<number>, rows: Uint32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = column[rows[k]];
  return out;
}

/** Largest value for which groupIntegers indexes an array directly instead of hashing. */
const DIRECT_INDEX_LIMIT = 1 << 22;

/**
 * groupDistinct for one column of non-negative integers (e.g. purchase counts): a direct
 * lookup array when the largest value is small, the hash table otherwise.
 */
export function groupIntegers(values: Float64Array): DistinctGroups {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && Number.isInteger(v))) return groupDistinct([values]);
    if (v > max) max = v;
  }
  if (max >= DIRECT_INDEX_LIMIT) return groupDistinct([values]);
  const groupOfValue = new Int32Array(max + 1).fill(-1);
  const groupOf = new Uint32Array(values.length);
  const firstRow: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let group = groupOfValue[v];
    if (group === -1) {
      group = firstRow.length;
      groupOfValue[v] = group;
      firstRow.push(i);
    }
    groupOf[i] = group;
  }
  return { groupOf, firstRow: Uint32Array.from(firstRow), groupCount: firstRow.length };
}

/** Largest dense (x group × T group) table groupPairs uses before falling back to hashing pairs. */
const DENSE_PAIR_CELLS = 1 << 24;

/**
 * The last grouping of each pair of columns, by the columns themselves (the same arrays): a run
 * groups the same (x, T) columns of its distinct histories in every prediction of every model —
 * the estimate's and each perturbed model's predictions, discounted purchases and forecast, ~15
 * times, at ~0.2–0.4 s each for 858k histories on the bench. Columns are never changed after they
 * are grouped (an RfmSummary's columns are read-only everywhere), and the groups are only read.
 */
const pairGroups = new WeakMap<Float64Array, { b: Float64Array; rows: number; groups: DistinctGroups }>();

/**
 * groupDistinct([a, b]) through the groups of each column: when both columns have few distinct
 * values (purchase counts and dates on a grid), a dense table of (group of a, group of b) cells
 * replaces the pair hash table, whose random accesses miss the cache on millions of rows. The
 * same two arrays give the same groups object again (pairGroups): callers must not change either.
 */
export function groupPairs(a: Float64Array, b: Float64Array): DistinctGroups {
  const cached = pairGroups.get(a);
  if (cached !== undefined && cached.b === b && cached.rows === a.length) return cached.groups;
  const groups = groupPairsOnce(a, b);
  pairGroups.set(a, { b, rows: a.length, groups });
  return groups;
}

function groupPairsOnce(a: Float64Array, b: Float64Array): DistinctGroups {
  const rows = a.length;
  const groupsA = groupIntegers(a);
  const groupsB = groupDistinct([b], rows);
  const cells = groupsA.groupCount * groupsB.groupCount;
  if (cells > DENSE_PAIR_CELLS || cells > 4 * rows + 1024) return groupDistinct([a, b], rows);
  const groupOfCell = new Int32Array(cells).fill(-1);
  const groupOf = new Uint32Array(rows);
  const firstRow: number[] = [];
  for (let i = 0; i < rows; i++) {
    const cell = groupsA.groupOf[i] * groupsB.groupCount + groupsB.groupOf[i];
    let group = groupOfCell[cell];
    if (group === -1) {
      group = firstRow.length;
      groupOfCell[cell] = group;
      firstRow.push(i);
    }
    groupOf[i] = group;
  }
  return { groupOf, firstRow: Uint32Array.from(firstRow), groupCount: firstRow.length };
}

/**
 * Compress per-customer (x, t_x, T) into distinct triples with weights (customer counts).
 * Optional per-customer weights are summed. Order of the output: first appearance.
 */
export function compressRfm(
  x: ArrayLike<number>,
  tx: ArrayLike<number>,
  T: ArrayLike<number>,
  customerWeight?: ArrayLike<number>,
): RfmSummary {
  const xs = Float64Array.from(x);
  const txs = Float64Array.from(tx);
  const Ts = Float64Array.from(T);
  const groups = groupDistinct([xs, txs, Ts]);
  const weight = new Float64Array(groups.groupCount);
  for (let i = 0; i < xs.length; i++) weight[groups.groupOf[i]] += customerWeight ? customerWeight[i] : 1;
  const pick = (values: Float64Array) => {
    const out = new Float64Array(groups.groupCount);
    for (let g = 0; g < groups.groupCount; g++) out[g] = values[groups.firstRow[g]];
    return out;
  };
  return { x: pick(xs), tx: pick(txs), T: pick(Ts), weight };
}
