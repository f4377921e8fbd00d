/**
 * A full garbage collection on request. The run's typed arrays live outside V8's heap, and V8
 * collects when its own heap (~10 MB here) grows, not when the process's memory does: the
 * distinct histories' arrays of a finished step stayed allocated through the write, DuckDB's
 * largest step (at 9.8M lines, 218 MB of array buffers held before a collection, 101 MB after;
 * the figures scale with the data). Node exposes `gc` only with --expose-gc, so the flag is set
 * at run time and the function taken from a new context, which is then created with it.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | null | undefined;

/** Frees the memory of unreachable objects (typed arrays included) now; a no-op where the engine refuses. */
export function collectGarbage(): void {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  collect?.();
}
