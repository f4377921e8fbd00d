/**
 * Helpers for `crm run` end-to-end tests: CSV files loaded by the real ingest code, then the
 * real CLI (`crm run` and the views) as a process, and in-process read-only queries of the
 * result.
 *
 * A CLI process costs ~1.2 s of CPU on the 2-core machine (Node start-up and module loading),
 * so only what is under test runs as a process: `crm run`, the views and their exit codes.
 * Loading goes through the ingest library function (`via: 'library'`, the default: the same
 * code `crm ingest` calls) unless a test asks for the `crm ingest` process (`via: 'cli'`).
 * Reads use an in-process read-only Store rather than `crm query`; every handle is closed
 * before the next CLI call (DuckDB allows one writer per file).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ingest } from '../../src/ingest/index.js';
import { Store, type Row } from '../../src/store/db.js';
import { createReporter } from '../../src/util/log.js';
import { createProgress } from '../../src/util/progress.js';
import { crm, tempDir, type CliResult } from './cli.js';

export interface TxRow {
  customer_id: string;
  order_date: string;
  amount: number;
  order_id?: string;
}

/** A transactions CSV (customer_id, order_id, order_date, amount). Order ids default to one per row. */
export function transactionsCsv(rows: TxRow[]): string {
  const lines = ['customer_id,order_id,order_date,amount'];
  rows.forEach((r, i) => lines.push(`${r.customer_id},${r.order_id ?? `O${i + 1}`},${r.order_date},${r.amount}`));
  return lines.join('\n') + '\n';
}

export interface TestStore {
  dir: string;
  db: string;
  /** Run the CLI against this store, in its folder (so a crm.config.json there applies). */
  cli(args: string[]): CliResult;
  /** Run the CLI and parse its --json output; throws with stderr when it fails. */
  json<T = Record<string, unknown>>(args: string[]): T;
  /** Read-only SQL in process. */
  query<T = Row>(sql: string): Promise<T[]>;
  /** Write a file into the store's folder. */
  write(name: string, text: string): string;
  /** Write and ingest a file (transactions unless `kind` says otherwise). */
  ingest(rows: TxRow[] | string, opts?: IngestVia & { kind?: 'transactions' | 'customers' }): Promise<void>;
  cleanup(): void;
}

export interface IngestVia {
  /** 'library' (default): the ingest function in process; 'cli': a `crm ingest` process. */
  via?: 'library' | 'cli';
}

let files = 0;

/** A fresh store in a temporary folder, loaded with `rows` (a CSV text or rows) unless null. */
export async function createStore(rows: TxRow[] | string | null, prefix = 'crm-run-', opts: IngestVia = {}): Promise<TestStore> {
  const dir = tempDir(prefix);
  const db = path.join(dir, 'store.duckdb');
  const store: TestStore = {
    dir,
    db,
    cli: (args) => crm(['--db', db, '-q', ...args], { cwd: dir }),
    json<T>(args: string[]): T {
      const r = store.cli([...args, '--json']);
      if (r.code !== 0) throw new Error(`crm ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    async query<T>(sql: string): Promise<T[]> {
      const s = await Store.open(db, { readOnly: true });
      try {
        return (await s.all(sql)) as T[];
      } finally {
        s.close();
      }
    },
    write(name, text) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    },
    async ingest(input, { kind = 'transactions', via = 'library' } = {}) {
      const name = `${kind}-${++files}.csv`;
      const file = store.write(name, typeof input === 'string' ? input : transactionsCsv(input));
      if (via === 'cli') {
        const r = store.cli(['ingest', kind, name]);
        if (r.code !== 0) throw new Error(`crm ingest exited ${r.code}: ${r.stderr}`);
      } else {
        await ingest({ kind, files: [file], storePath: db, config: {}, reporter: createReporter({ quiet: true }), progress: createProgress({ quiet: true }) });
      }
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
  if (rows !== null) await store.ingest(rows, opts);
  return store;
}

/** The subset of `crm run --json` the tests read. */
export interface RunJson {
  run_id: number;
  as_of: string;
  customers: number;
  model_status: 'fitted' | 'fallback';
  fallback_reason: string | null;
  bgnbd: null | { boundary: string | null; r: number; alpha: number; a: number; b: number; rate: number; log_likelihood: number; converged: boolean; standard_errors: { r: number; alpha: number; a: number; b: number } | null; message: string };
  gamma_gamma: null | { p: number; q: number; v: number; converged: boolean; customers: number; excluded_non_positive: number; message: string };
  backtest: null | {
    holdout_days: number;
    customers: number;
    predicted_total: number;
    actual_total: number;
    by_frequency: { bucket: string; customers: number; predicted: number; actual: number }[];
    auc: number | null;
    auc_p_no_purchase: number | null;
    buyers: number;
    non_buyers: number;
    method: string;
  };
  summary: { segments: { segment: string; customers: number }[]; key_accounts: { customers: number; revenue_share: number }; customers_only_returns: number; customers_only_returns_examples: string[]; churn_basis?: string };
}

/** Add `days` to an ISO date. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(date + 'T00:00:00Z') + days * 86_400_000).toISOString().slice(0, 10);
}
