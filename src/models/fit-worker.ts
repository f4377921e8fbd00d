/**
 * A worker thread that fits one purchase model (purchase-models.ts: fitInWorker) so that it runs
 * on the machine's other core while the run fits the others or waits on DuckDB. The same code on
 * the same numbers: the fit is the one the run's own thread would make, bit for bit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fitMbgNbd } from './mbgnbd.js';
import { fitParetoNbd } from './pareto-nbd.js';
import type { RfmSummary } from './rfm-data.js';

const { key, data } = workerData as { key: 'pareto_nbd' | 'mbgnbd'; data: RfmSummary };
parentPort!.postMessage(key === 'pareto_nbd' ? fitParetoNbd(data) : fitMbgNbd(data));
