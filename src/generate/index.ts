/**
 * `generate()`: deterministic synthetic customer and transaction exports.
 *
 * Writes `customers.csv` and `transactions.csv` into `outDir`, streaming: one customer at a
 * time is drawn (customers.ts), simulated (orders.ts) and written, so memory is bounded by
 * the customer count (one number each, for the 80/20 statistic) and never by the lines.
 * With `contracts`, a policy book follows (contracts.ts): contracts.csv, the contract-only
 * customers appended to customers.csv, and contracts.truth.json with the true parameters.
 *
 * Determinism: all randomness comes from seeded generators (random.ts), dates are integer day
 * numbers formatted by hand (calendar.ts), money is integer cents (orders.ts): the same
 * options give byte-identical files on any machine. Three independent streams — behaviour,
 * transaction dirt, customer dirt — keep a change to the dirt settings from reshuffling the
 * behaviour.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Calendar } from './calendar.js';
import { buildCatalogue } from './catalog.js';
import { CsvSink } from './csv-sink.js';
import { CUSTOMERS_HEADER, CustomerFactory } from './customers.js';
import { CONTRACT_DIRT } from './contract-model.js';
import { CONTRACTS_HEADER, CONTRACTS_HEADER_ZH, ContractBook } from './contracts.js';
import { ContractDirtPlanner, DirtPlanner } from './dirt.js';
import { EXPECTED_LINES_PER_CUSTOMER, MIN_DIRTY } from './model.js';
import { resolveOptions, type GenerateOptions, type GenerateResult, type ResolvedOptions } from './options.js';
import { OrderWriter, TRANSACTIONS_HEADER } from './orders.js';
import { People } from './people.js';
import { Rng } from './random.js';
import { GenerationStats } from './stats.js';
import { asOutputError } from '../util/errors.js';

export { GENERATE_DEFAULTS, GENERATE_LIMITS } from './options.js';
export type { GenerateLang, GenerateOptions, GenerateResult, GeneratedFile, TransactionDirtKind } from './options.js';
export { CUSTOMERS_HEADER } from './customers.js';
export { CONTRACTS_HEADER, CONTRACTS_HEADER_ZH, contractId, type ContractCounts, type PlanTruth } from './contracts.js';
export { TRANSACTIONS_HEADER } from './orders.js';
export { describeResult } from './summary.js';

export const CUSTOMERS_FILE = 'customers.csv';
export const TRANSACTIONS_FILE = 'transactions.csv';
export const CONTRACTS_FILE = 'contracts.csv';
export const CONTRACTS_TRUTH_FILE = 'contracts.truth.json';

/**
 * Random stream numbers: one per independent concern. The contract streams are separate from
 * the purchase ones, so adding `contracts` leaves customers.csv's purchase customers and
 * transactions.csv byte-identical.
 */
const STREAM = { behaviour: 1, transactionDirt: 2, customerDirt: 3, contracts: 4, contractDirt: 5, contractIdentities: 6 } as const;

/** Rows per contract, roughly (the plan mix over three years), used only to size the minimum dirt. */
const EXPECTED_ROWS_PER_CONTRACT = 3;

/** Progress is reported about this many times per run. */
const PROGRESS_STEPS = 100;

/** Small runs get a handful of dirty rows even when the share would round to none. */
export function effectiveDirtyShare(customers: number, dirtyShare: number): number {
  if (dirtyShare <= 0 || customers < MIN_DIRTY.customers) return dirtyShare;
  return Math.max(dirtyShare, MIN_DIRTY.rows / (customers * EXPECTED_LINES_PER_CUSTOMER));
}

/** The contracts' dirty share, raised like the transactions' so a small book has a handful of each kind. */
export function effectiveContractDirtyShare(contracts: number, dirtyShare: number): number {
  if (dirtyShare <= 0 || contracts < CONTRACT_DIRT.minContracts) return dirtyShare;
  return Math.max(dirtyShare, CONTRACT_DIRT.minRows / (contracts * EXPECTED_ROWS_PER_CONTRACT));
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
  let contractsSink: CsvSink | null = null;
  try {
    transactionsSink = await CsvSink.open(transactionsPath, TRANSACTIONS_HEADER);
    if (o.contracts > 0) contractsSink = await CsvSink.open(join(o.outDir, CONTRACTS_FILE), o.lang === 'zh' ? CONTRACTS_HEADER_ZH : CONTRACTS_HEADER);
    return await run(o, customersSink, transactionsSink, contractsSink);
  } catch (err) {
    await customersSink.abort().catch(() => undefined);
    await transactionsSink?.abort().catch(() => undefined);
    await contractsSink?.abort().catch(() => undefined);
    throw asOutputError(err, o.outDir);
  }
}

async function run(o: ResolvedOptions, customersSink: CsvSink, transactionsSink: CsvSink, contractsSink: CsvSink | null): Promise<GenerateResult> {
  const calendar = new Calendar(o.endDate, o.years);
  const catalogue = buildCatalogue();
  const people = new People(o.seed);
  const rng = new Rng(o.seed, STREAM.behaviour);
  const dirtShare = effectiveDirtyShare(o.customers, o.dirtyShare);
  const dirt = new DirtPlanner(new Rng(o.seed, STREAM.transactionDirt), dirtShare);
  const factory = new CustomerFactory(o.customers, rng, new Rng(o.seed, STREAM.customerDirt), calendar, people, catalogue);
  const orders = new OrderWriter(rng, calendar, catalogue, dirt, transactionsSink);
  const stats = new GenerationStats(o.customers, calendar.days);
  // Progress counts customers and contracts alike (a contract costs about what a customer does).
  const work = o.customers + o.contracts;
  const progressEvery = Math.max(1, Math.ceil(work / PROGRESS_STEPS));
  // The purchase customers' regions, for their contracts (a byte each, only when needed).
  const regions = contractsSink && o.customers > 0 ? new Uint8Array(o.customers) : null;

  o.onProgress(0);
  for (let i = 0; i < o.customers; i++) {
    const profile = factory.draw(i);
    orders.simulate(profile);
    stats.add(orders.tally);
    if (regions) regions[i] = profile.region;
    customersSink.write(factory.row(profile.buys ? profile.acquisition : null));
    if (transactionsSink.wantsFlush) await transactionsSink.flush();
    if (customersSink.wantsFlush) await customersSink.flush();
    if ((i + 1) % progressEvery === 0) o.onProgress((i + 1) / work);
  }
  const book = contractsSink ? await writeContracts(o, calendar, people, factory.owners, regions, customersSink, contractsSink, (done) => o.onProgress((o.customers + done) / work)) : null;
  await Promise.all([customersSink.close(), transactionsSink.close(), contractsSink?.close()]);
  const truth = book && contractsSink ? await writeTruth(o, calendar, book, contractDirtShare(o)) : null;
  o.onProgress(1);

  const returnLines = orders.returns;
  const transactionLines = orders.orderLines + returnLines;
  const summary = stats.summary();
  const d = dirt.counts;
  const contractOnly = book?.counts.contractOnlyCustomers ?? 0;
  return {
    options: {
      customers: o.customers,
      seed: o.seed,
      startDate: calendar.iso(0),
      endDate: o.endDate,
      years: o.years,
      dirtyShare: o.dirtyShare,
      effectiveDirtyShare: dirtShare,
      ...(book ? { contracts: o.contracts, lang: o.lang } : {}),
    },
    files: {
      customers: { path: customersSink.path, rows: o.customers + contractOnly, bytes: customersSink.bytes },
      transactions: { path: transactionsSink.path, rows: transactionLines, bytes: transactionsSink.bytes },
      ...(book && contractsSink && truth
        ? { contracts: { path: contractsSink.path, rows: book.counts.rows, bytes: contractsSink.bytes }, contractsTruth: truth }
        : {}),
    },
    bytes: customersSink.bytes + transactionsSink.bytes + (contractsSink?.bytes ?? 0),
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
      ...(book ? { contracts: book.counts } : {}),
    },
    profile: { ...summary, linesPerCustomer: o.customers === 0 ? 0 : transactionLines / o.customers },
  };
}

const contractDirtShare = (o: ResolvedOptions) => effectiveContractDirtyShare(o.contracts, o.dirtyShare);

async function writeContracts(
  o: ResolvedOptions,
  calendar: Calendar,
  people: People,
  keyAccountOwners: number,
  regions: Uint8Array | null,
  customersSink: CsvSink,
  contractsSink: CsvSink,
  onProgress: (done: number) => void,
): Promise<ContractBook> {
  const book = new ContractBook({
    contracts: o.contracts,
    purchaseCustomers: o.customers,
    purchaseRegions: regions,
    firstAgent: keyAccountOwners,
    rng: new Rng(o.seed, STREAM.contracts),
    identityRng: new Rng(o.seed, STREAM.contractIdentities),
    dirt: new ContractDirtPlanner(new Rng(o.seed, STREAM.contractDirt), contractDirtShare(o)),
    calendar,
    people,
    contractsSink,
    customersSink,
    onProgress,
  });
  await book.write();
  return book;
}

/** contracts.truth.json: what the book was drawn from, for tests and the bench to check fits against. */
async function writeTruth(o: ResolvedOptions, calendar: Calendar, book: ContractBook, dirtShare: number): Promise<{ path: string; bytes: number }> {
  const path = join(o.outDir, CONTRACTS_TRUTH_FILE);
  const text =
    JSON.stringify(
      {
        description:
          'The true sBG parameters of each plan of contracts.csv (theta ~ Beta(alpha, beta), renewal with probability 1 - theta at each period end) and the (renewals, active) counts the process produced: active = 1 for contracts in force on end_date (censored). With dirty_share 0 the counts are exactly what the file says; dirt (a reinstatement gap, duplicated or overlapping periods) changes what a reader of the file sees for a handful of contracts.',
        seed: o.seed,
        start_date: calendar.iso(0),
        end_date: o.endDate,
        contracts: o.contracts,
        dirty_share: dirtShare,
        plans: book.truth().map((p) => ({
          plan: p.plan,
          period: p.period,
          alpha: p.alpha,
          beta: p.beta,
          mean_churn: Number(p.meanChurn.toFixed(6)),
          contracts: p.contracts,
          summary: p.summary,
        })),
        counts: book.counts,
      },
      null,
      2,
    ) + '\n';
  await writeFile(path, text, 'utf8');
  return { path, bytes: Buffer.byteLength(text) };
}
