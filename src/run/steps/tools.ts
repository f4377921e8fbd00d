/**
 * What every step of `crm run` is handed (run/index.ts runWithStore): the progress display and
 * `timed`, which records a part's time in runs.timings under its name. The steps take them as an
 * argument; none keeps state of its own between steps.
 */
import type { Progress } from '../../util/progress.js';

export const DAYS_PER_YEAR = 365.25;

/** Runs `fn` and records its time in runs.timings under `name`. */
export type Timed = <R>(name: string, fn: () => Promise<R>) => Promise<R>;

export interface StepTools {
  progress: Progress;
  timed: Timed;
}

/** The run's tools, and the timings they record (runs.timings, in the order the parts end). */
export function stepTools(progress: Progress): StepTools & { timings: Record<string, number> } {
  const timings: Record<string, number> = {};
  const timed: Timed = async (name, fn) => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = Math.round(performance.now() - t0);
    }
  };
  return { progress, timed, timings };
}

/** Whole days from date `a` to date `b` (YYYY-MM-DD). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86_400_000);
}
