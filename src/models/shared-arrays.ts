/**
 * Typed arrays in SharedArrayBuffers: a worker thread (worker-client.ts) reads them, and writes
 * its results into them, without the structured-clone copy a plain ArrayBuffer gets. At 100M
 * lines the run's distinct histories are ~50 MB per column, and each copy of the fits' input
 * (four columns) or of an output counted in the run's peak memory (issue #9 §3).
 */

/** A Float64Array of `n` zeros in a SharedArrayBuffer. */
export function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(n * Float64Array.BYTES_PER_ELEMENT));
}

/** `values` copied into a SharedArrayBuffer (returned as is when already shared). */
export function toShared(values: Float64Array): Float64Array {
  if (values.buffer instanceof SharedArrayBuffer) return values;
  const out = sharedFloat64(values.length);
  out.set(values);
  return out;
}

/** `f` of each value, written straight into a SharedArrayBuffer (the same numbers as `values.map(f)`). */
export function mapShared(values: Float64Array, f: (value: number) => number): Float64Array {
  const out = sharedFloat64(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f(values[i]);
  return out;
}
