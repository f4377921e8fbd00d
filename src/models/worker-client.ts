/**
 * Runs a model computation (worker-tasks.ts) in a worker thread (worker.ts): the caller's thread
 * is free meanwhile, and the result is the one it would have computed itself (the same code on
 * the same numbers). For small inputs (WORKER_MIN_ROWS), and where the compiled worker does not
 * exist (the TypeScript sources under test), the task is computed in this thread before the
 * promise resolves.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { performTask, type WorkerResult, type WorkerTask } from './worker-tasks.js';

const WORKER = new URL('./worker.js', import.meta.url);

/**
 * Below this many rows (distinct histories) a task runs in the calling thread: starting a worker
 * (loading the models' modules again) took 90–200 ms here, more than a fit of a few thousand
 * histories, and the test suite runs `crm run` on small stores hundreds of times.
 */
export const WORKER_MIN_ROWS = 20_000;

export function inWorker<R extends WorkerResult>(task: WorkerTask): Promise<R> {
  if (task.data.x.length < WORKER_MIN_ROWS || WORKER.protocol !== 'file:' || !existsSync(fileURLToPath(WORKER))) return Promise.resolve(performTask(task) as R);
  return new Promise<R>((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: task });
    worker.once('message', (result: R) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      // After a result, the exit is the terminate() above; before one, the worker failed.
      reject(new Error(`a model worker (${task.task}) stopped without a result (exit code ${code})`));
    });
  });
}
