/**
 * The `base` step of `crm run`, the chain up to the customer base (models/relations/): trend windows →
 * orders (inlined: read once) → purchase days → customer base (temp.run_base), and the customers
 * with only returns counted apart. The seam between where the lines are (the store, or a
 * ClickHouse source: run/source.ts) and the models; everything after it is the same run.
 */
import { inlined, materialize, boundParams, type Relation } from '../../models/relation.js';
import { cohorts as cohortRelation, cohortsFromSource } from '../../models/relations/cohorts.js';
import { customerBase, customerBaseFromSource, returnOnlyCustomers, returnOnlyFromSource } from '../../models/relations/customer-base.js';
import { MONEY_TYPES, moneyScale, type MoneyWidth } from '../../models/relations/money.js';
import { orderIds, orders, ordersUncosted } from '../../models/relations/orders.js';
import { purchaseDays, purchaseDaysOfDailyOrders, purchaseDaysUncosted } from '../../models/relations/purchase-days.js';
import { TREND_WINDOWS_ROW_SQL, trendWindows, trendWindowsFromSource, type TrendWindows } from '../../models/relations/trend-windows.js';
import type { Store } from '../../store/db.js';
import { noPurchasesFallback } from '../customers.js';
import type { Fallback } from '../result.js';
import type { RunOptions } from '../settings.js';
import { checkSourceTable, loadSourceSums, sourceExtent, type RunSource } from '../source.js';
import type { StepTools } from './tools.js';

/** Temp table of the customer base (gone when the run's connection closes). */
export const BASE_TABLE = 'temp.run_base';

/** How many ids of return-only customers the run summary lists. */
const RETURN_ONLY_EXAMPLES = 5;

/** The chain's parameters, bound by name in every relation that reads them. */
export interface ChainParams {
  as_of: string;
  since: string | null;
  trend_window_days: number;
  share: number;
  b_share: number;
  examples: number;
}

/**
 * What the base step leaves for the rest of the run — the seam between where the lines are and the
 * models: temp.run_trend_windows and temp.run_base (one row per customer with a purchase), the
 * return-only count, the cohort relation to materialise (it reads the purchase days locally, the
 * source's activity otherwise) and what runs.input records of the lines read.
 */
export interface CustomerBase {
  trend: TrendWindows;
  onlyReturns: { customers: number; examples: string[] | null };
  cohorts: Relation<'as_of'>;
  /** runs.input for a run from a source (the local run's is read in the write transaction). */
  input: Record<string, unknown>;
  /** temp.run_pareto_levels is loaded already (ranked on the cluster). */
  levelsLoaded: boolean;
}

/** The base on the store: trend windows → orders (inlined: read once) → purchase days → customer base. */
async function localBase(store: Store, chain: ChainParams, { progress, timed }: StepTools): Promise<CustomerBase> {
  let trend!: TrendWindows;
  await progress.step(`summarising customers as of ${chain.as_of}`, async (tick) => {
    await timed('trend_windows', () => materialize(store, trendWindows, chain));
    trend = (await store.one<TrendWindows>(TREND_WINDOWS_ROW_SQL))!;
    const { money_width: money, costed } = (await timed('money_scale', () =>
      store.one<{ money_width: MoneyWidth; costed: boolean }>(moneyScale.sql, boundParams(moneyScale, chain)),
    ))!;
    // No line with a cost: the orders and days without the margin's sums (every margin is NULL).
    const dayOrders = costed ? orders[money] : ordersUncosted[money];
    await timed('purchase_days', async () => {
      // No line with an order id: each order is one customer's day, so the days are the orders.
      const { identified } = (await store.one<{ identified: boolean }>(orderIds.sql, boundParams(orderIds, chain)))!;
      const days = !identified
        ? inlined(purchaseDaysOfDailyOrders, [dayOrders])
        : inlined(costed ? purchaseDays[money] : purchaseDaysUncosted[money], [dayOrders]);
      return materialize(store, days, chain, (f) => tick(f === null ? null : f * 0.6));
    });
    await timed('base', () => materialize(store, customerBase[money], chain, (f) => tick(f === null ? null : 0.6 + f * 0.4)));
  });
  const onlyReturns = (await timed('return_only', () =>
    store.one<{ customers: number; examples: string[] | null }>(returnOnlyCustomers.sql, boundParams(returnOnlyCustomers, chain)),
  ))!;
  return { trend, onlyReturns, cohorts: cohortRelation, input: {}, levelsLoaded: false };
}

/**
 * The base on a source (run/source.ts): the windows from the source's first date, the per-customer
 * sums and cohort activity computed on the cluster and loaded, then the same customer base over
 * them (relations/customer-base.ts customerBaseFromSource).
 */
async function sourceBase(store: Store, source: RunSource, hasCost: boolean, chain: ChainParams, { progress, timed }: StepTools): Promise<CustomerBase> {
  const extent = await timed('source_extent', () => sourceExtent(source, hasCost, chain.as_of));
  // The store's merges in effect (customer_merges, as a local run reads them): applied on the cluster.
  const merges = await store.all<{ merge_id: number; duplicate_id: string; surviving_id: string }>('SELECT merge_id, duplicate_id, surviving_id FROM customer_merges ORDER BY merge_id');
  let trend!: TrendWindows;
  let bytes = { bytes: 0, csvBytes: 0 };
  let levels = false;
  await progress.step(`summarising customers as of ${chain.as_of} on ${source.label}`, async () => {
    await timed('trend_windows', () => materialize(store, trendWindowsFromSource, { ...chain, data_start: extent.firstDate }));
    trend = (await store.one<TrendWindows>(TREND_WINDOWS_ROW_SQL))!;
    const windows = (await store.one<{ current_start: string; previous_start: string }>(TREND_WINDOWS_ROW_SQL))!;
    // The money width by the same rule as moneyScale (money.ts), on the source's absolute total.
    const money: MoneyWidth = extent.absoluteTotal < 1e14 ? 'narrow' : 'wide';
    // The 80/20 levels are ranked on the cluster in exact 64-bit units: narrow money only; wide
    // money (totals of 10^14 and more) ranks them here, on the per-customer sums that come back.
    levels = money === 'narrow';
    bytes = (
      await timed('source_sums', () =>
        loadSourceSums(
          store,
          source,
          hasCost,
          { as_of: chain.as_of, pareto_start: chain.since, current_start: windows.current_start, previous_start: windows.previous_start },
          MONEY_TYPES[money],
          merges.map(({ duplicate_id, surviving_id }) => ({ duplicate_id, surviving_id })),
          levels ? { share: chain.share, b_share: chain.b_share } : null,
        ),
      )
    );
    await timed('base', () => materialize(store, customerBaseFromSource[money], chain));
  });
  const onlyReturns = (await timed('return_only', () =>
    store.one<{ customers: number; examples: string[] | null }>(returnOnlyFromSource.sql, boundParams(returnOnlyFromSource, chain)),
  ))!;
  return {
    trend,
    onlyReturns,
    cohorts: cohortsFromSource,
    input: {
      source: source.label,
      shards: source.targets.length,
      ...(Object.keys(source.mapped).length > 0 ? { map: source.mapped } : {}),
      transactions_used: extent.lines,
      bytes_from_source: bytes.bytes,
      csv_bytes_from_source: bytes.csvBytes,
      loads: [],
      // The merges the run applied on the cluster (customer_merges), as a local run records them.
      merges: merges.map((m) => m.merge_id),
    },
    levelsLoaded: levels,
  };
}

/** Every table the run reads on the source checked (the main table and each shard's); whether they have a cost column (all must agree). */
export async function checkSources(source: RunSource): Promise<{ hasCost: boolean }> {
  const main = await checkSourceTable(source.main, source.label, source.columns);
  const shards = await Promise.all(source.targets.filter((t) => t !== source.main).map((t) => checkSourceTable(t, source.label, source.columns)));
  // A cancel may kill the run's statements themselves only if none reads a Distributed table (shards: the write back reads one over the staged sums).
  source.main.client.connection.queryIds.direct = !main.distributed && shards.length === 0;
  return { hasCost: main.hasCost && shards.every((s) => s.hasCost) };
}

/** The chain's parameters from the run's as-of and settings. */
export function chainParams(asOf: string, options: RunOptions): ChainParams {
  const { settings } = options;
  return {
    as_of: asOf,
    since: options.since,
    trend_window_days: settings.key_accounts.trend_window_days,
    share: settings.key_accounts.share,
    b_share: settings.key_accounts.b_share,
    examples: RETURN_ONLY_EXAMPLES,
  };
}

export interface BaseInput {
  chain: ChainParams;
  /** crm run --source (null: the store) and whether its tables have a cost column. */
  source: RunSource | null;
  sourceHasCost: boolean;
  /** The contract step found a period by as-of (run/contracts.ts). */
  hasContracts: boolean;
}

/** The customer base, how many customers it holds, and the no-purchases fallback when none. */
export interface BaseStep extends CustomerBase {
  /** Customers with a purchase by as-of (rows of temp.run_base). */
  customers: number;
  /** No customer with a purchase: the contract part alone (run/customers.ts); null otherwise. */
  noPurchases: Fallback | null;
}

export async function baseStep(store: Store, input: BaseInput, tools: StepTools): Promise<BaseStep> {
  const { chain, source } = input;
  // The seam: a per-customer base (temp.run_base) and what the cohorts read, from the store or
  // from the source; everything after it is the same run.
  const base = source ? await sourceBase(store, source, input.sourceHasCost, chain, tools) : await localBase(store, chain, tools);
  // Customers with a purchase; none: the contract part alone, if there are contracts (run/customers.ts).
  const customers = (await store.value<number>(`SELECT count(*) FROM ${BASE_TABLE}`)) ?? 0;
  const noPurchases = customers === 0 ? noPurchasesFallback(input.hasContracts, chain.as_of) : null;
  return { ...base, customers, noPurchases };
}
