/**
 * The model worker (src/models/worker.ts) as the built CLI runs it: a task computed in a worker
 * thread gives what the calling thread computes, bit for bit. Reads the compiled modules
 * (dist/, built by `npm test` before vitest starts): under the TypeScript sources there is no
 * compiled worker and inWorker runs in-thread.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const dist = (module: string) => import(pathToFileURL(path.join(ROOT, 'dist/src/models', module)).href);

describe('model worker', () => {
  it('a task large enough for a worker gives the calling thread\'s result exactly', async () => {
    const client = await dist('worker-client.js');
    const tasks = await dist('worker-tasks.js');
    const n = client.WORKER_MIN_ROWS as number;
    // Histories of a grid (x, t_x ≤ T), as many rows as the worker takes.
    const x = Float64Array.from({ length: n }, (_, i) => i % 7);
    const data = { x, tx: Float64Array.from(x, (v, i) => (v === 0 ? 0 : Math.min(v * 3 + (i % 5), 50))), T: Float64Array.from(x, (_, i) => 50 + (i % 40)), weight: new Float64Array(n).fill(1) };
    const u = { key: 'bgnbd', params: { r: 0.5, alpha: 5, a: 0.8, b: 3 }, covariance: [[0.01, 0, 0, 0], [0, 0.01, 0, 0], [0, 0, 0.02, 0], [0, 0, 0, 0.02]] };
    const task = { task: 'intervals', u, models: [2, 3, 4], data, horizon: 52, clv: { horizon: 52, unitsPerYear: 52, annualDiscountRate: 0.1 } };
    const here = tasks.performTask(task);
    const there = await client.inWorker(task);
    expect(there.expected).toHaveLength(3);
    expect(there).toEqual(here);
  });

  it('interval-rows: the worker writes its rows into shared arrays, the numbers the calling thread writes', async () => {
    const client = await dist('worker-client.js');
    const tasks = await dist('worker-tasks.js');
    const shared = await dist('shared-arrays.js');
    const intervals = await dist('intervals.js');
    const n = client.WORKER_MIN_ROWS as number;
    const x = Float64Array.from({ length: n }, (_, i) => i % 7);
    // The data in shared buffers, as the run reads it: not copied to the worker.
    const data = {
      x: shared.toShared(x),
      tx: shared.toShared(Float64Array.from(x, (v, i) => (v === 0 ? 0 : Math.min(v * 3 + (i % 5), 50)))),
      T: shared.toShared(Float64Array.from(x, (_, i) => 50 + (i % 40))),
      weight: shared.toShared(new Float64Array(n).fill(1)),
    };
    const u = { key: 'bgnbd', params: { r: 0.5, alpha: 5, a: 0.8, b: 3 }, covariance: [[0.01, 0, 0, 0], [0, 0.01, 0, 0], [0, 0, 0.02, 0], [0, 0, 0, 0.02]] };
    const task = (out: unknown) => ({ task: 'interval-rows', u, data, horizon: 52, level: 0.9, clv: { horizon: 52, unitsPerYear: 52, annualDiscountRate: 0.1 }, out, from: 100, to: n });
    const here = intervals.sharedIntervalRowsOutput(n, 4);
    const there = intervals.sharedIntervalRowsOutput(n, 4);
    tasks.performTask(task(here));
    expect(await client.inWorker(task(there))).toEqual({ rows: n - 100 });
    expect(there.discountedLogSd[n - 1]).toBeGreaterThan(0);
    expect(there.discountedLogSd[99]).toBe(0);
    expect(there).toEqual(here);
  });
});
