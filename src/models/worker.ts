/**
 * A worker thread running one model computation (worker-tasks.ts) on the machine's other core
 * while the run's thread computes another or waits on DuckDB (worker-client.ts starts it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performTask, type WorkerTask } from './worker-tasks.js';

parentPort!.postMessage(performTask(workerData as WorkerTask));
