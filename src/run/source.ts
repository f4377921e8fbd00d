/**
 * `crm run --source`: transactions that live on a ClickHouse cluster (issue #13). The heavy,
 * set-based part runs there — lines → orders → purchase days → per-customer sums, and the cohort
 * activity — on every shard where the rows are (shards split by customer); only per-customer sums
 * and aggregates come back, streamed as CSV into DuckDB temp tables (no row passes through JS).
 * From the per-customer base on, the run is the local run, unchanged (run/index.ts); afterwards
 * only the distinct histories' scores go back, and the cluster computes `crm_customer_metrics`
 * (MergeTree, partitioned by run id) by joining them with the per-customer sums the read step
 * staged there (models/relations/cluster-metrics.ts).
 *
 * A source is `clickhouse://HOST:PORT/DATABASE.TABLE` or the name of an entry of crm.config.json
 * `sources` (url, user, password_env, timeout_seconds, retries, shards). A password never comes from
 * the command line or a URL (exit 2) and is never stored: runs.input records the URL without
 * credentials.
 *
 * The table needs the store's fields with these types: customer_id String, order_id
 * Nullable(String), order_date Date, amount Decimal(P, S ≤ 4), is_return UInt8, and optionally
 * cost (Nullable) Decimal — under the store's column names, or under its own names with a mapping
 * (`crm run --map field=column`, as for ingest, or sources.NAME.map; --map wins per field), which
 * the pushed-down SQL reads directly. Checked before anything runs: a missing table, a missing
 * (or mistyped mapped) column or a wrong type is exit 3, as is an unreachable server.
 *
 * The store's merges (customer_merges) are applied where the lines are: the small merge table goes
 * inline into the queries as escaped literals (clickhouse-summary.ts `lineOwner`), so a source run
 * scores merged customers as a local run does. The 80/20 levels are ranked on the cluster too
 * (`clickhouseRevenueLevels`; only the level table comes back) when the run's money is narrow.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CrmConfig, SourceConfig } from '../config.js';
import {
  CLICKHOUSE_COHORT_ACTIVITY_COLUMNS,
  CLICKHOUSE_CUSTOMER_SUMS_COLUMNS,
  CLICKHOUSE_REVENUE_LEVELS_COLUMNS,
  clickhouseCohortActivity,
  clickhouseCustomerSums,
  clickhouseRevenueLevels,
  clickhouseSourceExtent,
  SOURCE_FIELDS,
  SOURCE_QUERY_ALIASES,
  type SourceField,
  type SourceMerge,
  type SourceReading,
} from '../models/relations/clickhouse-summary.js';
import { MONEY_TYPES } from '../models/relations/money.js';
import { revenueLevels } from '../models/relations/revenue-levels.js';
import { SOURCE_SUMS_TABLE } from '../models/relations/customer-base.js';
import { SOURCE_COHORT_ACTIVITY_TABLE } from '../models/relations/cohorts.js';
import { bindValues, CANCEL_WAIT_MS, chDate, ClickHouseClient, connectionFrom, copyFromDuckDb, QueryIds, quoteIdentifier, quoteString, type ChValue } from '../store/clickhouse.js';
import { literal, type Store } from '../store/db.js';
import { inputError, messageOf, queryError, usageError } from '../util/errors.js';
import { randomBytes } from 'node:crypto';
import type { RelationParams } from '../models/relation.js';
import { clusterCustomerMetrics, HISTORY_SCORES_COLUMNS } from '../models/relations/cluster-metrics.js';
import type { CustomerMetricsParam } from '../models/relations/customer-metrics.js';
import { historyKey } from '../models/relations/histories.js';
import type { ValueTierRule } from '../models/tiers.js';

/** One place the summary runs: a server and the table of lines it reads there. */
export interface SourceTarget {
  client: ClickHouseClient;
  /** DATABASE.TABLE */
  table: string;
}

export interface RunSource {
  /** clickhouse://HOST:PORT/DATABASE.TABLE, never with credentials: what runs.input records. */
  label: string;
  /** The server and table named by the source: checked, and where crm_customer_metrics is written. */
  main: SourceTarget;
  /** Where the summary runs: each shard's local table (sources.NAME.shards), else the main table. */
  targets: SourceTarget[];
  /** The table's column for each field (--map, sources.NAME.map; else the field's name). */
  columns: Record<SourceField, string>;
  /** The fields mapped to other columns (field → column), for messages and runs.input. */
  mapped: Partial<Record<SourceField, string>>;
  /**
   * Set by the read step (loadSourceSums): the tables it staged the per-customer sums in
   * (DATABASE.crm_run_sums_<unix seconds>_<8 hex>, Memory) — on the main server, or one on each
   * shard — which the write back joins instead of computing the sums a second time; and the write
   * back's scores table while it exists. Dropped after the write back, or when the run fails or
   * is stopped (withStagedCleanup).
   */
  staged?: StagedTable[];
}

/** A table a source run made on the cluster, and the server it is on. */
export interface StagedTable {
  target: SourceTarget;
  table: string;
}

/**
 * The mapping of a source: sources.NAME.map, then `--map field=column` flags (the flag wins per
 * field). Only the fields the source queries read can be mapped; a column must be a plain
 * ClickHouse identifier (exit 2 otherwise).
 */
export function sourceMapping(configured: Record<string, string> | undefined, flags: string[] | undefined): Partial<Record<SourceField, string>> {
  const out: Partial<Record<SourceField, string>> = {};
  const add = (field: string, columnName: string, what: string) => {
    if (!(SOURCE_FIELDS as readonly string[]).includes(field)) {
      throw usageError(`${what}: a source run reads only ${SOURCE_FIELDS.join(', ')}; ${JSON.stringify(field)} is not one of them`);
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(columnName)) {
      throw usageError(`${what}: ${JSON.stringify(columnName)} is not a ClickHouse column name (letters, digits, _)`, ['Give the column a plain name in a view over the table.']);
    }
    out[field as SourceField] = columnName;
  };
  for (const [field, columnName] of Object.entries(configured ?? {})) add(field, columnName, `sources map ${field}=${columnName}`);
  const fromFlags = new Map<string, string>();
  for (const flag of flags ?? []) {
    const eq = flag.indexOf('=');
    if (eq <= 0 || eq === flag.length - 1) throw usageError(`--map ${JSON.stringify(flag)}: expected field=column, e.g. --map customer_id=client_no`);
    const [field, columnName] = [flag.slice(0, eq).trim(), flag.slice(eq + 1).trim()];
    if (fromFlags.has(field) && fromFlags.get(field) !== columnName) {
      throw usageError(`--map gives ${field} twice: ${JSON.stringify(fromFlags.get(field))} and ${JSON.stringify(columnName)}`, ['Keep the one you mean.']);
    }
    fromFlags.set(field, columnName);
    add(field, columnName, `--map ${flag}`);
  }
  return out;
}

const DEFAULT_TIMEOUT_SECONDS = 300;
const DEFAULT_RETRIES = 2;

interface ParsedUrl {
  http: string;
  database: string;
  table: string;
  label: string;
}

/** clickhouse://HOST:PORT/DATABASE.TABLE → its parts; a user or password in it is refused (exit 2). */
export function parseSourceUrl(text: string): ParsedUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--source ${text}: not a URL (expected clickhouse://HOST:PORT/DATABASE.TABLE or a source name from crm.config.json)`);
  }
  if (url.protocol !== 'clickhouse:') throw usageError(`--source ${text}: only clickhouse://HOST:PORT/DATABASE.TABLE is supported`);
  if (url.username !== '' || url.password !== '') {
    throw usageError('--source: a ClickHouse URL must not carry a user or password (it would end up in shell history and process lists)', [
      'Name the source in crm.config.json (sources.NAME: url, user, password_env) and put the password in that environment variable.',
    ]);
  }
  const match = /^\/([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(url.pathname);
  if (!match || url.search !== '' || url.hash !== '' || url.hostname === '') {
    throw usageError(`--source ${text}: expected clickhouse://HOST:PORT/DATABASE.TABLE`);
  }
  const host = url.port ? `${url.hostname}:${url.port}` : `${url.hostname}:8123`;
  return { http: `http://${host}`, database: match[1], table: match[2], label: `clickhouse://${host}/${match[1]}.${match[2]}` };
}

/** The source `--source` names: a URL, or an entry of crm.config.json `sources`. */
export function resolveSource(flag: string, config: CrmConfig = {}, env: NodeJS.ProcessEnv = process.env, mapFlags: string[] = []): RunSource {
  let entry: SourceConfig;
  if (flag.includes('://')) entry = { url: flag };
  else {
    const named = config.sources?.[flag];
    if (!named) {
      const names = Object.keys(config.sources ?? {});
      throw usageError(`--source ${flag}: no such source in crm.config.json`, [
        names.length ? `Sources defined: ${names.join(', ')}.` : 'Define one under "sources" (url, user, password_env), or pass clickhouse://HOST:PORT/DATABASE.TABLE.',
      ]);
    }
    entry = named;
  }
  if (entry.password_env !== undefined && env[entry.password_env] === undefined) {
    throw usageError(`--source ${flag}: the environment variable ${entry.password_env} (sources.${flag}.password_env) is not set`);
  }
  // One query-id prefix for the run on every server: its statements can be cancelled anywhere (cancelSourceStatements).
  const queryIds = new QueryIds();
  const target = (text: string): SourceTarget & { label: string } => {
    const parsed = parseSourceUrl(text);
    const connection = connectionFrom({ url: parsed.http, user: entry.user, passwordEnv: entry.password_env }, env);
    const client = new ClickHouseClient({
      ...connection,
      timeoutMs: (entry.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
      retries: entry.retries ?? DEFAULT_RETRIES,
      queryIds,
      // The per-customer rows cross the network both ways: gzipped (about a third of the CSV).
      compress: true,
    });
    return { client, table: `${parsed.database}.${parsed.table}`, label: parsed.label };
  };
  const main = target(entry.url);
  const mapped = sourceMapping(entry.map, mapFlags);
  const columns = Object.fromEntries(SOURCE_FIELDS.map((f) => [f, mapped[f] ?? f])) as Record<SourceField, string>;
  return { label: main.label, main, targets: entry.shards ? entry.shards.map(target) : [main], columns, mapped };
}

/** How the source queries read one of the source's tables. */
export function readingOf(source: RunSource, target: SourceTarget, hasCost: boolean, merges: readonly SourceMerge[]): SourceReading {
  return { table: target.table, columns: source.columns, hasCost, merges };
}

/**
 * ClickHouse parses at most max_query_size bytes of a query (256 KiB by default): a query made
 * long by inline merges raises it for that request only (a short query sends no setting, so a
 * read-only user that may not change settings still runs every other query).
 */
export function clientFor(target: SourceTarget, sql: string): ClickHouseClient {
  const size = Buffer.byteLength(sql);
  if (size < 200_000) return target.client;
  const { connection } = target.client;
  return new ClickHouseClient({ ...connection, settings: { ...(connection.settings ?? {}), max_query_size: size + 65_536 } });
}

/** The columns the summary reads, and what each may be (ClickHouse type names). */
const REQUIRED_COLUMNS: Record<string, { types: RegExp; wanted: string }> = {
  customer_id: { types: /^(LowCardinality\()?String\)?$/, wanted: 'String' },
  order_id: { types: /^(Nullable\()?(LowCardinality\()?String\)?\)?$/, wanted: 'String or Nullable(String)' },
  order_date: { types: /^Date$/, wanted: 'Date' },
  // Money is exact: a Decimal of at most 4 places (the store's DECIMAL(18, 4)); Float is refused.
  amount: { types: /^Decimal(32|64|128)?\(\d+, ?[0-4]\)$/, wanted: 'Decimal(P, S) with S ≤ 4' },
  is_return: { types: /^U?Int8$/, wanted: 'UInt8 (1 for a return line)' },
};
const COST = { types: /^(Nullable\()?Decimal(32|64|128)?\(\d+, ?[0-4]\)\)?$/, wanted: 'Decimal(P, S) or Nullable(Decimal(P, S)) with S ≤ 4' };

/**
 * The table checked before anything runs (system.columns): it exists, has the columns the
 * summary reads, with types crm can sum exactly. Exit 3 naming the table, column and type.
 * Returns whether it has a cost column (margin).
 */
export async function checkSourceTable(target: SourceTarget, label: string, columnsOf: Record<SourceField, string> = IDENTITY_COLUMNS): Promise<{ hasCost: boolean; distributed: boolean }> {
  const [database, table] = target.table.split('.');
  // (Whether the run's statements read through a Distributed table: then a cancel kills only their shard queries, QueryIds.direct.)
  const [engine] = await target.client.rows('SELECT engine FROM system.tables WHERE database = {database:String} AND name = {table:String}', { database, table });
  const columns = await target.client.rows('SELECT name, type FROM system.columns WHERE database = {database:String} AND table = {table:String}', { database, table });
  if (columns.length === 0) {
    throw inputError(`ClickHouse at ${target.client.connection.url} has no table ${target.table} (source ${label})`, [
      `Check the name: SELECT database, name FROM system.tables`,
    ]);
  }
  const typeOf = new Map(columns.map((c) => [String(c.name), String(c.type)]));
  // A field read from another column: said so in every message ("amount (column amt)").
  const named = (field: SourceField) => (columnsOf[field] === field ? field : `${field} (column ${columnsOf[field]})`);
  const mapping = (field: SourceField) => (columnsOf[field] === field ? '' : ` (--map ${field}=${columnsOf[field]})`);
  const clash = SOURCE_FIELDS.filter((f) => (SOURCE_QUERY_ALIASES as readonly string[]).includes(columnsOf[f]));
  if (clash.length > 0) {
    throw inputError(`${target.table}: crm's source queries name their own values ${clash.map((f) => columnsOf[f]).join(', ')}, which would hide the column${clash.length === 1 ? '' : 's'} mapped to ${clash.join(', ')}`, [
      `Rename the column in a view over the table (crm reserves ${SOURCE_QUERY_ALIASES.join(', ')}).`,
    ]);
  }
  const missing = Object.keys(REQUIRED_COLUMNS).filter((f) => !typeOf.has(columnsOf[f as SourceField])) as SourceField[];
  if (missing.length > 0) {
    throw inputError(`${target.table} on ClickHouse at ${target.client.connection.url} has no column ${missing.map((f) => `${columnsOf[f]}${mapping(f)}`).join(', ')}`, [
      `crm reads ${Object.keys(REQUIRED_COLUMNS).join(', ')} (and cost, optional): under these names, or map each to the table's own column with --map field=column (or sources.NAME.map).`,
      `The table's columns: ${[...typeOf.keys()].join(', ')}`,
    ]);
  }
  const wrong = Object.entries(REQUIRED_COLUMNS)
    .filter(([field, rule]) => !rule.types.test(typeOf.get(columnsOf[field as SourceField])!))
    .map(([field, rule]) => `${named(field as SourceField)} is ${typeOf.get(columnsOf[field as SourceField])}, crm needs ${rule.wanted}`);
  const costType = typeOf.get(columnsOf.cost);
  if (costType === undefined && columnsOf.cost !== 'cost') {
    throw inputError(`${target.table} on ClickHouse at ${target.client.connection.url} has no column ${columnsOf.cost} (--map cost=${columnsOf.cost})`, [`The table's columns: ${[...typeOf.keys()].join(', ')}`]);
  }
  if (costType !== undefined && !COST.types.test(costType)) wrong.push(`${named('cost')} is ${costType}, crm needs ${COST.wanted}`);
  if (wrong.length > 0) throw inputError(`${target.table} on ClickHouse at ${target.client.connection.url}: wrong column types`, wrong);
  return { hasCost: costType !== undefined, distributed: String(engine?.engine ?? 'Distributed') === 'Distributed' };
}

const IDENTITY_COLUMNS = Object.fromEntries(SOURCE_FIELDS.map((f) => [f, f])) as Record<SourceField, string>;

/** What the run needs to know of the source before the chain (one row, shards combined). */
export interface SourceExtent {
  /** Last order date of any line; null: no line. */
  lastDate: string | null;
  /** First order date up to as-of; null: no line by then. */
  firstDate: string | null;
  /** Lines up to as-of (runs.input.transactions_used). */
  lines: number;
  /** Σ|amount| + Σ|cost| up to as-of: the run's money width (money.ts). */
  absoluteTotal: number;
}

/** The latest date ClickHouse 18.16's Date holds comfortably: "no as-of yet" when asking for the last date. */
const FAR_FUTURE = '2105-12-31';

export async function sourceExtent(source: RunSource, hasCost: boolean, asOf: string | null): Promise<SourceExtent> {
  const parts = await Promise.all(source.targets.map((t) => t.client.rows(clickhouseSourceExtent(readingOf(source, t, hasCost, [])), { as_of: chDate(asOf ?? FAR_FUTURE) })));
  // An empty table's min/max Date prints as 0000-00-00: only shards with lines count.
  const rows = parts.flat();
  const dated = (field: 'last_date' | 'first_date', lines: (r: (typeof rows)[number]) => boolean) =>
    rows.filter(lines).map((r) => String(r[field])).filter((d) => d !== '0000-00-00');
  const lastDates = dated('last_date', () => true);
  const firstDates = dated('first_date', (r) => Number(r.lines) > 0);
  return {
    lastDate: lastDates.length ? lastDates.sort().at(-1)! : null,
    firstDate: firstDates.length ? firstDates.sort()[0] : null,
    lines: rows.reduce((n, r) => n + Number(r.lines), 0),
    absoluteTotal: rows.reduce((n, r) => n + Number(r.absolute_total), 0),
  };
}

export interface SourceWindows {
  as_of: string;
  pareto_start: string | null;
  current_start: string;
  previous_start: string;
}

/** The 80/20 settings the levels are ranked with on the cluster (revenue-levels.ts's parameters). */
export interface SourceLevels {
  share: number;
  b_share: number;
}

/**
 * The per-customer sums (→ temp.run_source_sums, money in the run's `moneyType`) and the cohort
 * activity (→ temp.run_source_cohort_activity), computed on every target at once, each streamed
 * as CSV into a temp file and read by DuckDB in bulk; with `levels`, the 80/20 levels too, ranked
 * on the main table (one global ranking: through the Distributed table) → temp.run_pareto_levels,
 * the table the local run would build (revenue-levels.ts). The merges are applied on the cluster.
 * Returns the bytes that came back over the network (gzipped) and as CSV.
 */
export async function loadSourceSums(
  store: Store,
  source: RunSource,
  hasCost: boolean,
  windows: SourceWindows,
  moneyType: string,
  merges: readonly SourceMerge[],
  levels: SourceLevels | null,
): Promise<{ bytes: number; csvBytes: number }> {
  // Narrow money (money.ts): the cohort activity carries amounts as exact Int64 units.
  const narrow = moneyType === MONEY_TYPES.narrow;
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-source-'));
  try {
    const params: Record<string, ChValue> = {
      as_of: chDate(windows.as_of),
      pareto_start: windows.pareto_start === null ? null : chDate(windows.pareto_start),
      current_start: chDate(windows.current_start),
      previous_start: chDate(windows.previous_start),
    };
    const sumsFiles = source.targets.map((_, i) => path.join(dir, `sums-${i}.csv`));
    const activityFiles = source.targets.map((_, i) => path.join(dir, `activity-${i}.csv`));
    const levelsFile = path.join(dir, 'levels.csv');
    const download = (target: SourceTarget, sql: string, values: Record<string, ChValue>, file: string) => clientFor(target, sql).download(sql, values, file);
    // The sums are staged where they are computed (the main server, or each shard: the same
    // name in each shard's database), then read back, so the write back joins the same rows
    // instead of computing them again (one grouping of the lines fewer per run; and a line
    // arriving meanwhile cannot change a customer's history between the fit and
    // crm_customer_metrics). Not staged when two shards name the same server and database (the
    // same name twice): the split check below refuses such shards anyway.
    await dropStaleStagedSums(source);
    const name = stagedSumsName();
    const places = source.targets.map(placeOf);
    const staged = new Set(places).size === places.length;
    source.staged = [];
    const stageSums = async (target: SourceTarget, sql: string, values: Record<string, ChValue>, file: string): Promise<number> => {
      const table = `${target.table.split('.')[0]}.${name}`;
      const create = `CREATE TABLE ${quoteIdentifier(table)} ENGINE = Memory AS ${sql}`;
      // Listed before the CREATE is sent: a run stopped while the cluster builds it still drops it.
      source.staged!.push({ target, table });
      await clientFor(target, create).run(create, values).catch((err: unknown) => refusedWrite(err, source, table));
      return target.client.download(`SELECT * FROM ${quoteIdentifier(table)}`, {}, file);
    };
    const wire = await Promise.all([
      ...source.targets.flatMap((t, i) => {
        const reading = readingOf(source, t, hasCost, merges);
        return [
          staged ? stageSums(t, clickhouseCustomerSums(reading), params, sumsFiles[i]) : download(t, clickhouseCustomerSums(reading), params, sumsFiles[i]),
          download(t, clickhouseCohortActivity(reading, narrow), { as_of: params.as_of }, activityFiles[i]),
        ];
      }),
      ...(levels
        ? [
            download(
              source.main,
              clickhouseRevenueLevels(readingOf(source, source.main, hasCost, merges), windows.pareto_start !== null),
              { as_of: params.as_of, ...(windows.pareto_start !== null ? { pareto_start: params.pareto_start } : {}), share: levels.share, b_share: levels.b_share },
              levelsFile,
            ),
          ]
        : []),
    ]);
    const money = (type: string) => (type === 'money' ? moneyType : type);
    const typed = (columns: Record<string, string>) => Object.fromEntries(Object.entries(columns).map(([c, t]) => [c, money(t)]));
    await readCsvInto(store, SOURCE_SUMS_TABLE, sumsFiles, typed(CLICKHOUSE_CUSTOMER_SUMS_COLUMNS));
    await readCsvInto(store, SOURCE_COHORT_ACTIVITY_TABLE, activityFiles, CLICKHOUSE_COHORT_ACTIVITY_COLUMNS);
    if (levels) await readCsvInto(store, revenueLevels.name, [levelsFile], typed(CLICKHOUSE_REVENUE_LEVELS_COLUMNS));
    // Shards must split customers: a customer on two shards would be two half customers.
    const split = await store.one<{ customer_id: string; shards: number }>(
      `SELECT customer_id, CAST(count(*) AS INTEGER) AS shards FROM temp.${SOURCE_SUMS_TABLE} GROUP BY customer_id HAVING count(*) > 1 ORDER BY customer_id LIMIT 1`,
    );
    if (split) {
      throw inputError(`customer ${JSON.stringify(split.customer_id)} has lines on ${split.shards} of the source's shards (${source.label})`, [
        'The shards must split the lines by customer (e.g. a Distributed table sharded by cityHash64(customer_id)); or leave out `shards` to read through the Distributed table.',
        ...(merges.length > 0 ? ['With merges, a duplicate and its surviving id must be on the same shard; or leave out `shards`.'] : []),
      ]);
    }
    const csvBytes = [...sumsFiles, ...activityFiles, ...(levels ? [levelsFile] : [])].reduce((n, f) => n + statSync(f).size, 0);
    return { bytes: wire.reduce((n, b) => n + b, 0), csvBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CSVWithNames files (ClickHouse's: strings always quoted, NULL as \N) into a temp table of the given columns. */
async function readCsvInto(store: Store, table: string, files: string[], columns: Record<string, string>): Promise<void> {
  const withRows = files.filter((f) => statSync(f).size > 0);
  const definition = Object.entries(columns).map(([name, type]) => `${name} ${type}`).join(', ');
  await store.run(`DROP TABLE IF EXISTS temp.${table}`);
  await store.run(`CREATE TEMP TABLE ${table} (${definition})`);
  if (withRows.length === 0) return;
  const spec = `{${Object.entries(columns).map(([name, type]) => `${literal(name)}: ${literal(type)}`).join(', ')}}`;
  await store.run(
    `INSERT INTO temp.${table} SELECT * FROM read_csv([${withRows.map(literal).join(', ')}], header = true, delim = ',', quote = '"', escape = '"',
       nullstr = '\\N', allow_quoted_nulls = false, columns = ${spec})`,
  );
}

/** crm_customer_metrics on the cluster: the run's customer scores, one partition per run. */
export const CLUSTER_METRICS_TABLE = 'crm_customer_metrics';
const CLUSTER_METRICS_COLUMNS = {
  run_id: 'UInt32',
  as_of: 'Date',
  customer_id: 'String',
  rfm_segment: 'Nullable(String)',
  churn_tier: 'Nullable(String)',
  value_tier: 'Nullable(String)',
  abc_class: 'Nullable(String)',
  p_alive: 'Nullable(Float64)',
  churn_risk: 'Nullable(Float64)',
  expected_purchases: 'Nullable(Float64)',
  clv: 'Nullable(Float64)',
  net_revenue: 'Nullable(Float64)',
} as const;

/** What the write back needs of the run beyond its id: the customer-metrics parameters and the value tiers. */
export interface WriteBackRun {
  metrics: RelationParams<CustomerMetricsParam>;
  tiers: ValueTierRule[];
  /** The value tiers' cuts the run's customer rows were tiered by (run/customers.ts writeCustomerRows). */
  tierCuts: number[];
  /** Records a part's time in runs.timings (write_back_scores, write_back_join). */
  timed?: <R>(name: string, fn: () => Promise<R>) => Promise<R>;
}

/**
 * The run's scores on the cluster: DATABASE.crm_customer_metrics next to the source table
 * (MergeTree, one partition per run, created if missing). Inside the run's write transaction,
 * before the runs row: if the cluster refuses, the local run is not recorded either, and the
 * partition an attempt began is dropped again (as is one left by an earlier attempt with this run
 * id). Returns the bytes sent (gzipped, plus the statements' text) and the same as CSV.
 *
 * Per history (cluster-metrics.ts): the run's distinct histories' scores go to a scratch table
 * (DATABASE.crm_history_scores_<seconds>_<hex>, dropped afterwards) and one INSERT … SELECT joins
 * them to the cluster's own per-customer sums. Per customer (the copy of every customer's row,
 * as before) when the run's customers are not keyed by their plain history: --covariates keys
 * them by (history, covariate cell), which the cluster cannot compute.
 */
export async function writeBackMetrics(store: Store, source: RunSource, runId: number, run?: WriteBackRun): Promise<{ sent: number; csv: number }> {
  const database = source.main.table.split('.')[0];
  const table = `${database}.${CLUSTER_METRICS_TABLE}`;
  const columns = Object.keys(CLUSTER_METRICS_COLUMNS);
  const client = source.main.client;
  const refused = (err: unknown): never => refusedWrite(err, source, table);
  try {
    await client.run(
      `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (${Object.entries(CLUSTER_METRICS_COLUMNS).map(([c, t]) => `${c} ${t}`).join(', ')})
       ENGINE = MergeTree() PARTITION BY run_id ORDER BY customer_id`,
    );
    await client.run(`ALTER TABLE ${quoteIdentifier(table)} DROP PARTITION ${Number(runId)}`);
  } catch (err) {
    refused(err);
  }
  try {
    if (run && (await byPlainHistory(store))) return await writeBackPerHistory(store, source, runId, run, table, columns);
    return await copyFromDuckDb(store, `SELECT ${columns.join(', ')} FROM customer_metrics WHERE run_id = ${Number(runId)}`, client, table, columns);
  } catch (err) {
    // No partial partition: what an INSERT wrote before it failed goes again (best effort: the
    // next attempt with this run id drops it too).
    // (A cleanup statement: sent even when a signal stopped the run and killed its INSERT.)
    await client.cleanup().run(`ALTER TABLE ${quoteIdentifier(table)} DROP PARTITION ${Number(runId)}`).catch(() => undefined);
    return refused(err);
  } finally {
    await dropStagedSums(source);
  }
}

const STAGED_PREFIX = 'crm_run_sums_';
/** The write back's scratch table of per-history scores (writeBackMetrics). */
const SCORES_PREFIX = 'crm_history_scores_';
/**
 * The run's scratch tables on the cluster: crm_run_sums_<unix seconds>_<8 hex> (and `_all` for
 * the Distributed table over a sharded run's) and crm_history_scores_<unix seconds>_<8 hex>.
 */
const STAGED_NAME = /^crm_(?:run_sums|history_scores)_(\d+)_[0-9a-f]{8}(_all)?$/;

/** A new scratch table's name: its creation time (so a later run can tell a stale one) and a random part (so concurrent runs never meet). */
function scratchName(prefix: string, now: number): string {
  return `${prefix}${Math.floor(now / 1000)}_${randomBytes(4).toString('hex')}`;
}

/** A new staged table's name (scratchName). */
export function stagedSumsName(now: number = Date.now()): string {
  return scratchName(STAGED_PREFIX, now);
}

/**
 * How old a staged table must be to count as left by a killed run: an hour, or 12 × the
 * source's timeout when that is longer. A run holds its tables from the read step to the end of
 * the write back — the local fit and a few cluster queries, each within the timeout: under a
 * minute at 10M lines (docs/scale.md) — so a table that old is no running run's.
 */
export function staleAfterSeconds(target: SourceTarget): number {
  return Math.max(3600, 12 * ((target.client.connection.timeoutMs ?? 300_000) / 1000));
}

/** A server and database, as one string: where a staged table of a target goes. */
function placeOf(target: SourceTarget): string {
  return `${target.client.connection.url} ${target.table.split('.')[0]}`;
}

/**
 * At the start of a source run: the staged tables that killed runs left (kill -9 cannot drop
 * them) dropped from the databases this run stages in, when their name says they are older than
 * staleAfterSeconds; younger ones may be another run's, in progress, and stay. Best effort: a
 * listing or drop the cluster refuses changes nothing for this run.
 */
export async function dropStaleStagedSums(source: RunSource, now: number = Date.now()): Promise<string[]> {
  const places = new Map([source.main, ...source.targets].map((t) => [placeOf(t), t]));
  const dropped = await Promise.all(
    [...places.values()].map(async (target) => {
      const database = target.table.split('.')[0];
      const oldest = now / 1000 - staleAfterSeconds(target);
      const tables = await target.client
        .rows('SELECT name FROM system.tables WHERE database = {database:String} AND startsWith(name, {prefix:String})', { database, prefix: 'crm_' })
        .catch(() => []);
      const stale = tables.map((t) => String(t.name)).filter((name) => Number(STAGED_NAME.exec(name)?.[1] ?? Infinity) < oldest);
      for (const name of stale) await target.client.run(`DROP TABLE IF EXISTS ${quoteIdentifier(`${database}.${name}`)}`).catch(() => undefined);
      return stale.map((name) => `${database}.${name}`);
    }),
  );
  return dropped.flat();
}

/**
 * The tables the read step staged on the cluster, dropped (after the write back; on any failure
 * or SIGINT/SIGTERM through withStagedCleanup, after cancelSourceStatements). Best effort: a
 * table the cluster keeps is stale for the next run after staleAfterSeconds. Sent as cleanup
 * statements: they go out even when the run is being stopped.
 */
export async function dropStagedSums(source: RunSource, warn: (line: string) => void = (line) => process.stderr.write(`crm: ${line}\n`)): Promise<void> {
  const staged = source.staged ?? [];
  source.staged = undefined;
  // Bounded (CANCEL_WAIT_MS): a stopped run ends within its fuse even when a server does not answer.
  await Promise.all(
    staged.map(({ target, table }) =>
      target.client
        .cleanup(CANCEL_WAIT_MS)
        .run(`DROP TABLE IF EXISTS ${quoteIdentifier(table)}`)
        .catch((err: unknown) => {
          // No answer (exit 3): the table may stay; a refused DROP (exit 6) is the server's own say, as before.
          if ((err as { exitCode?: number }).exitCode === 3) warn(`ClickHouse at ${target.client.connection.url} did not answer the DROP of ${table}: ${sweepOf(target, [table])}.`);
        }),
    ),
  );
}

/** When the stale-table sweep (dropStaleStagedSums) takes `tables` of `target`: a sentence for the line saying they may stay. */
function sweepOf(target: SourceTarget, tables: string[]): string {
  const created = Math.min(...tables.map((t) => Number(STAGED_NAME.exec(t.split('.')[1])?.[1] ?? Date.now() / 1000)));
  const sweep = new Date((created + staleAfterSeconds(target)) * 1000).toISOString().slice(0, 16).replace('T', ' ');
  return `the first source run after ${sweep} UTC drops ${tables.length === 1 ? 'it' : 'them'}`;
}

/** A server and user, as one string: where KILL QUERY is sent once. */
function serverOf(target: SourceTarget): string {
  return `${target.client.connection.url} ${target.client.connection.user ?? ''}`;
}

/**
 * Before the staged tables are dropped after a failure or a signal: the run's statements still
 * running on the cluster cancelled, on each of the source's servers (query ids under the run's
 * prefix, QueryIds; nothing new is sent after this), and waited for until system.processes no
 * longer holds them (at most CANCEL_WAIT_MS). Else a `CREATE … AS SELECT` still running would
 * finish after the DROP — a stopped HTTP client does not stop it in ClickHouse 18.16 — leave its
 * table until the stale-table sweep, and burn the cluster's CPU meanwhile. A server that refuses
 * KILL QUERY, or whose statements outlive the wait, gets one line saying what may stay and when
 * the sweep takes it.
 */
export async function cancelSourceStatements(source: RunSource, warn: (line: string) => void = (line) => process.stderr.write(`crm: ${line}\n`)): Promise<void> {
  const queryIds = source.main.client.connection.queryIds;
  queryIds.stop();
  const servers = new Map([source.main, ...source.targets].map((t) => [serverOf(t), t]));
  const staged = source.staged ?? [];
  await Promise.all(
    [...servers.entries()].map(async ([server, target]) => {
      const { left, refused } = await target.client.cancelRunning({ prefix: queryIds.prefix }, CANCEL_WAIT_MS);
      const tables = staged.filter((t) => serverOf(t.target) === server);
      // Unknown (the server did not answer) with no table of the run there: the run's own error says the server is gone.
      if (left === 0 || (left < 0 && tables.length === 0)) return;
      const url = target.client.connection.url;
      const why =
        refused !== undefined
          ? `ClickHouse at ${url} refused to cancel this run's statements (KILL QUERY: ${refused.split('\n')[0].replace(/^ClickHouse at \S+ refused the query: /, '')})`
          : left > 0
            ? `${left} statement${left === 1 ? '' : 's'} of this run still ran on ClickHouse at ${url} ${CANCEL_WAIT_MS / 1000} s after KILL QUERY`
            : `ClickHouse at ${url} did not answer KILL QUERY or system.processes`;
      if (tables.length === 0) return warn(`${why}: a statement of this run still running there runs to its end.`);
      // The sweep (dropStaleStagedSums) takes a table once its name's creation time is staleAfterSeconds old.
      const names = tables.map((t) => t.table);
      warn(`${why}: a statement of this run still running there may finish after the drop and leave ${names.join(', ')}; ${sweepOf(target, names)}.`);
    }),
  );
}

/**
 * `run` (the run's chain of steps) such that the tables its read step staged on the cluster are
 * dropped however it ends: when it returns, when it throws, and when the process gets SIGINT or
 * SIGTERM (then the signal ends the process once they are dropped, or after 20 s: exit status
 * 130 or 143 in a shell; a second Ctrl-C ends it at once). On a failure or a signal, the run's
 * statements still running on the cluster are cancelled first (cancelSourceStatements), so none
 * of them fills a table after its DROP. A failed or stopped run leaves the cluster as it was;
 * only kill -9 cannot, and the next run drops the stale tables (dropStaleStagedSums).
 */
export async function withStagedCleanup<R>(source: RunSource | null, run: () => Promise<R>): Promise<R> {
  if (!source) return run();
  let stopping: Promise<never> | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`crm: stopped by ${signal}: cancelling this run's statements and dropping the tables this run staged on ${source.label}\n`);
    // Then the signal again, with Node's default action (the process ends as killed by it, as
    // without this handler): never a run recorded after Ctrl-C.
    const again = () => {
      unlisten();
      process.kill(process.pid, signal);
    };
    setTimeout(again, CANCEL_WAIT_MS + 10_000).unref();
    stopping = new Promise<never>(() => void cancelSourceStatements(source).then(() => dropStagedSums(source)).finally(again));
  };
  const unlisten = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await run();
  } catch (err) {
    // A query that failed because the signal's cancel or drop took it is not the run's error: the signal ends the process.
    if (stopping) await stopping;
    // The run's other statements may still run on the cluster (Promise.all fails at the first error).
    await cancelSourceStatements(source);
    throw err;
  } finally {
    unlisten();
    await dropStagedSums(source);
  }
}

/**
 * The table the write back reads the staged sums from: the main server's own, or, when every
 * shard staged its part, a Distributed table on the main server over them (DATABASE.NAME_all, on
 * the cluster and database of the main table's Distributed engine). Checked to hold exactly the
 * rows the run read (a shard list that is not the cluster's would miss or double some); null —
 * compute the sums again through the main table — when there is no such table or the check fails.
 */
async function stagedSumsTable(store: Store, source: RunSource): Promise<string | null> {
  // The read step's tables (the list also holds the write back's scores table).
  const staged = (source.staged ?? []).filter((t) => t.table.split('.')[1].startsWith(STAGED_PREFIX));
  if (staged.length === 0) return null;
  if (staged.length === 1 && staged[0].target === source.main) return staged[0].table;
  const client = source.main.client;
  const [database, table] = source.main.table.split('.');
  const [main] = await client.rows('SELECT engine_full FROM system.tables WHERE database = {database:String} AND name = {table:String}', { database, table });
  const engine = /^Distributed\(\s*'?([A-Za-z0-9_.-]+)'?\s*,\s*'?([A-Za-z0-9_]*)'?\s*,/.exec(String(main?.engine_full ?? ''));
  if (!engine) return null;
  const [shardDatabase, name] = staged[0].table.split('.');
  const columns = await staged[0].target.client.rows('SELECT name, type FROM system.columns WHERE database = {database:String} AND table = {table:String}', { database: shardDatabase, table: name });
  const all = `${database}.${name}_all`;
  source.staged!.push({ target: source.main, table: all });
  const definition = columns.map((c) => `${quoteIdentifier(String(c.name))} ${String(c.type)}`).join(', ');
  await client.run(`CREATE TABLE ${quoteIdentifier(all)} (${definition}) ENGINE = Distributed(${quoteIdentifier(engine[1])}, ${quoteString(engine[2])}, ${quoteString(name)})`);
  const read = Number(await store.value<number>(`SELECT count(*) FROM temp.${SOURCE_SUMS_TABLE}`));
  const seen = await client.rows(`SELECT count() AS n FROM ${quoteIdentifier(all)}`).then((r) => Number(r[0].n), () => -1);
  return seen === read ? all : null;
}

/**
 * A write the cluster refused because of the user's rights (a readonly user): exit 6 naming the
 * table and what to grant. A source run writes on the cluster — the staged per-customer sums, the
 * histories' scores, crm_customer_metrics — so such a user is refused at its first write, before
 * the run is recorded. Anything else is rethrown as it is.
 */
function refusedWrite(err: unknown, source: RunSource, table: string): never {
  const message = messageOf(err);
  const database = source.main.table.split('.')[0];
  if (/readonly|read-only|not enough privileges|access denied/i.test(message)) {
    throw queryError(`ClickHouse at ${source.main.client.connection.url} refused to write ${table}: a source run writes on the cluster (its per-customer sums, the scores, crm_customer_metrics), and this user may not write there; the run is not recorded`, [
      message,
      `Give the source's user write access to ${database} (CREATE TABLE, INSERT, DROP TABLE, ALTER TABLE … DROP PARTITION), or run from a user that has it.`,
    ]);
  }
  throw err;
}

/** Whether every customer of the run is keyed by the plain history key (histories.ts) — not so with --covariates. */
async function byPlainHistory(store: Store): Promise<boolean> {
  const other = await store.value<number>(`SELECT count(*) FROM temp.run_base WHERE history_key <> ${historyKey('bgnbd_x', 't_x_days', 'T_days')}`);
  return Number(other ?? 0) === 0;
}

async function writeBackPerHistory(store: Store, source: RunSource, runId: number, run: WriteBackRun, table: string, columns: string[]): Promise<{ sent: number; csv: number }> {
  const database = source.main.table.split('.')[0];
  const client = source.main.client;
  const p = run.metrics;
  // The run's parameters, read where the run keeps them: the windows (run_trend_windows), the
  // value-tier cuts (the ones the run's customer rows were tiered by) and
  // the least revenue of each 80/20 class (the level table the run used, cluster- or locally ranked).
  const windows = (await store.one<{ pareto_start: string | null; current_start: string; previous_start: string }>(
    'SELECT CAST(pareto_start AS VARCHAR) AS pareto_start, CAST(current_start AS VARCHAR) AS current_start, CAST(previous_start AS VARCHAR) AS previous_start FROM temp.run_trend_windows',
  ))!;
  const timed = run.timed ?? (<R>(_name: string, fn: () => Promise<R>) => fn());
  const tierCuts = run.tierCuts;
  const classes = (await store.one<{ a: string | null; b: string | null }>(
    `SELECT CAST(min(net_revenue) FILTER (WHERE abc_class = 'A') AS VARCHAR) AS a, CAST(min(net_revenue) FILTER (WHERE abc_class = 'B') AS VARCHAR) AS b FROM temp.${revenueLevels.name}`,
  ))!;
  const merges = await store.all<{ duplicate_id: string; surviving_id: string }>('SELECT duplicate_id, surviving_id FROM customer_merges ORDER BY merge_id');
  const scores = `${database}.${scratchName(SCORES_PREFIX, Date.now())}`;
  // Listed with the staged tables too: a run stopped by a signal during the write back drops it as well.
  (source.staged ??= []).push({ target: source.main, table: scores });
  await client.run(`CREATE TABLE ${quoteIdentifier(scores)} (${Object.entries(HISTORY_SCORES_COLUMNS).map(([c, t]) => `${c} ${t}`).join(', ')}) ENGINE = Memory`);
  try {
    const sent = await timed('write_back_scores', () =>
      copyFromDuckDb(store, `SELECT ${Object.keys(HISTORY_SCORES_COLUMNS).join(', ')} FROM temp.run_predictions`, client, scores, Object.keys(HISTORY_SCORES_COLUMNS)),
    );
    const staged = await stagedSumsTable(store, source).catch(() => null);
    const { sql, params } = clusterCustomerMetrics(
      // The sums the read step staged, else computed again (margin is not among the cluster's
      // columns: the cost column is not read then).
      staged ? { staged } : readingOf(source, source.main, false, merges),
      scores,
      table,
      columns,
      {
        run_id: runId,
        as_of: String(p.as_of),
        pareto_start: windows.pareto_start,
        current_start: windows.current_start,
        previous_start: windows.previous_start,
        fitted: Boolean(p.fitted),
        r_cuts: (p.r_cuts as number[]).map(Number),
        f_cuts: (p.f_cuts as number[]).map(Number),
        m_cuts: (p.m_cuts as number[]).map(Number),
        rfm_bins: Number(p.rfm_bins),
        segment_cells: p.segment_cells as string[],
        gg: p.gg_p === null || p.gg_p === undefined ? null : { p: Number(p.gg_p), q: p.gg_q === null ? null : Number(p.gg_q), v: p.gg_v === null ? null : Number(p.gg_v), nu: p.gg_nu === null ? null : Number(p.gg_nu) },
        tier_names: run.tiers.map((t) => t.name),
        tier_cuts: tierCuts,
        a_least: classes.a,
        b_least: classes.b,
      },
    );
    const bound = bindValues(sql, params);
    await timed('write_back_join', () => clientFor(source.main, bound).run(bound));
    const text = Buffer.byteLength(bound);
    return { sent: sent.sent + text, csv: sent.csv + text };
  } finally {
    await client.cleanup().run(`DROP TABLE IF EXISTS ${quoteIdentifier(scores)}`).catch(() => undefined);
  }
}

// The latest run's source: in latest-source.ts, which the lookup loads without this module.
export { latestRunSource } from './latest-source.js';
