/**
 * `generate()`: deterministic synthetic customer and transaction exports.
 *
 * Writes `customers.csv` and `transactions.csv` into `outDir`, streaming: one customer at a
 * time is drawn (customers.ts), simulated (orders.ts) and written, so memory is bounded by
 * the customer count (one number each, for the 80/20 statistic) and never by the lines.
 *
 * Determinism: all randomness comes from seeded generators (random.ts), dates are integer day
 * numbers formatted by hand (calendar.ts), money is integer cents (orders.ts): the same
 * options give byte-identical files on any machine. Three independent streams — behaviour,
 * transaction dirt, customer dirt — keep a change to the dirt settings from reshuffling the
 * behaviour.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Calendar } from './calendar.js';
import { buildCatalogue } from './catalog.js';
import { CsvSink } from './csv-sink.js';
import { CUSTOMERS_HEADER, CustomerFactory } from './customers.js';
import { DirtPlanner } from './dirt.js';
import { EXPECTED_LINES_PER_CUSTOMER, MIN_DIRTY } from './model.js';
import { resolveOptions, type GenerateOptions, type GenerateResult, type ResolvedOptions } from './options.js';
import { OrderWriter, TRANSACTIONS_HEADER } from './orders.js';
import { People } from './people.js';
import { Rng } from './random.js';
import { GenerationStats } from './stats.js';
import { asOutputError } from '../util/errors.js';

export { GENERATE_DEFAULTS, GENERATE_LIMITS } from './options.js';
export type { GenerateOptions, GenerateResult, GeneratedFile, TransactionDirtKind } from './options.js';
export { CUSTOMERS_HEADER } from './customers.js';
export { TRANSACTIONS_HEADER } from './orders.js';
export { describeResult } from './summary.js';

export const CUSTOMERS_FILE = 'customers.csv';
export const TRANSACTIONS_FILE = 'transactions.csv';

/** Random stream numbers: one per independent concern. */
const STREAM = { behaviour: 1, transactionDirt: 2, customerDirt: 3 } as const;

/** Progress is reported about this many times per run. */
const PROGRESS_STEPS = 100;

/** Small runs get a handful of dirty rows even when the share would round to none. */
export function effectiveDirtyShare(customers: number, dirtyShare: number): number {
  if (dirtyShare <= 0 || customers < MIN_DIRTY.customers) return dirtyShare;
  return Math.max(dirtyShare, MIN_DIRTY.rows / (customers * EXPECTED_LINES_PER_CUSTOMER));
}

export async function generate(opts: GenerateOptions): Promise<GenerateResult> {
  const o = resolveOptions(opts);
  // A folder that cannot be made or written (a file in its place, no space, no permission) is
  // an output error naming it, not a crash.
  try {
    await mkdir(o.outDir, { recursive: true });
  } catch (err) {
    throw asOutputError(err, o.outDir);
  }
  const customersPath = join(o.outDir, CUSTOMERS_FILE);
  const transactionsPath = join(o.outDir, TRANSACTIONS_FILE);
  const customersSink = await CsvSink.open(customersPath, CUSTOMERS_HEADER).catch((err: unknown) => {
    throw asOutputError(err, customersPath);
  });
  let transactionsSink: CsvSink | null = null;
  try {
    transactionsSink = await CsvSink.open(transactionsPath, TRANSACTIONS_HEADER);
    return await run(o, customersSink, transactionsSink);
  } catch (err) {
    await customersSink.abort().catch(() => undefined);
    await transactionsSink?.abort().catch(() => undefined);
    throw asOutputError(err, o.outDir);
  }
}

async function run(o: ResolvedOptions, customersSink: CsvSink, transactionsSink: CsvSink): Promise<GenerateResult> {
  const calendar = new Calendar(o.endDate, o.years);
  const catalogue = buildCatalogue();
  const people = new People(o.seed);
  const rng = new Rng(o.seed, STREAM.behaviour);
  const dirtShare = effectiveDirtyShare(o.customers, o.dirtyShare);
  const dirt = new DirtPlanner(new Rng(o.seed, STREAM.transactionDirt), dirtShare);
  const factory = new CustomerFactory(o.customers, rng, new Rng(o.seed, STREAM.customerDirt), calendar, people, catalogue);
  const orders = new OrderWriter(rng, calendar, catalogue, dirt, transactionsSink);
  const stats = new GenerationStats(o.customers, calendar.days);
  const progressEvery = Math.max(1, Math.ceil(o.customers / PROGRESS_STEPS));

  o.onProgress(0);
  for (let i = 0; i < o.customers; i++) {
    const profile = factory.draw(i);
    orders.simulate(profile);
    stats.add(orders.tally);
    customersSink.write(factory.row(profile.buys ? profile.acquisition : null));
    if (transactionsSink.wantsFlush) await transactionsSink.flush();
    if (customersSink.wantsFlush) await customersSink.flush();
    if ((i + 1) % progressEvery === 0) o.onProgress((i + 1) / o.customers);
  }
  await Promise.all([customersSink.close(), transactionsSink.close()]);
  o.onProgress(1);

  const returnLines = orders.returns;
  const transactionLines = orders.orderLines + returnLines;
  const summary = stats.summary();
  const d = dirt.counts;
  return {
    options: {
      customers: o.customers,
      seed: o.seed,
      startDate: calendar.iso(0),
      endDate: o.endDate,
      years: o.years,
      dirtyShare: o.dirtyShare,
      effectiveDirtyShare: dirtShare,
    },
    files: {
      customers: { path: customersSink.path, rows: o.customers, bytes: customersSink.bytes },
      transactions: { path: transactionsSink.path, rows: transactionLines, bytes: transactionsSink.bytes },
    },
    bytes: customersSink.bytes + transactionsSink.bytes,
    counts: {
      customers: o.customers,
      customersWithoutTransactions: stats.withoutTransactions,
      transactionLines,
      orders: orders.orders,
      orderLines: orders.orderLines,
      returns: orders.returns,
      returnLines,
      dirtyRows: { ...d, total: d.missingCustomerId + d.invalidDate + d.invalidAmount },
      customerIssues: { ...factory.issues },
      keyAccounts: factory.keyAccounts,
      accountOwners: factory.ownersAssigned,
    },
    profile: { ...summary, linesPerCustomer: transactionLines / o.customers },
  };
}
