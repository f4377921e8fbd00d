/**
 * `crm run --source`: transactions that live on a ClickHouse cluster (issue #13). The heavy,
 * set-based part runs there — lines → orders → purchase days → per-customer sums, and the cohort
 * activity — on every shard where the rows are (shards split by customer); only per-customer sums
 * and aggregates come back, streamed as CSV into DuckDB temp tables (no row passes through JS).
 * From the per-customer base on, the run is the local run, unchanged (run/index.ts); afterwards
 * the customers' scores go back to the cluster as `crm_customer_metrics` (MergeTree, partitioned
 * by run id).
 *
 * A source is `clickhouse://HOST:PORT/DATABASE.TABLE` or the name of an entry of crm.config.json
 * `sources` (url, user, password_env, timeout_seconds, retries, shards). A password never comes from
 * the command line or a URL (exit 2) and is never stored: runs.input records the URL without
 * credentials.
 *
 * The table needs the store's column names and types (no --map yet): customer_id String,
 * order_id Nullable(String), order_date Date, amount Decimal(P, S ≤ 4), is_return UInt8, and
 * optionally cost (Nullable) Decimal. Checked before anything runs: a missing table, a missing
 * column or a wrong type is exit 3, as is an unreachable server.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CrmConfig, SourceConfig } from '../config.js';
import {
  CLICKHOUSE_COHORT_ACTIVITY_COLUMNS,
  CLICKHOUSE_CUSTOMER_SUMS_COLUMNS,
  clickhouseCohortActivity,
  clickhouseCustomerSums,
  clickhouseSourceExtent,
} from '../models/relations/clickhouse-summary.js';
import { SOURCE_SUMS_TABLE } from '../models/relations/customer-base.js';
import { SOURCE_COHORT_ACTIVITY_TABLE } from '../models/relations/cohorts.js';
import { chDate, ClickHouseClient, connectionFrom, copyFromDuckDb, quoteIdentifier, type ChValue } from '../store/clickhouse.js';
import { literal, type Store } from '../store/db.js';
import { inputError, usageError } from '../util/errors.js';

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
export function resolveSource(flag: string, config: CrmConfig = {}, env: NodeJS.ProcessEnv = process.env): RunSource {
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
  const target = (text: string): SourceTarget & { label: string } => {
    const parsed = parseSourceUrl(text);
    const connection = connectionFrom({ url: parsed.http, user: entry.user, passwordEnv: entry.password_env }, env);
    const client = new ClickHouseClient({
      ...connection,
      timeoutMs: (entry.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
      retries: entry.retries ?? DEFAULT_RETRIES,
    });
    return { client, table: `${parsed.database}.${parsed.table}`, label: parsed.label };
  };
  const main = target(entry.url);
  return { label: main.label, main, targets: entry.shards ? entry.shards.map(target) : [main] };
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
export async function checkSourceTable(target: SourceTarget, label: string): Promise<{ hasCost: boolean }> {
  const [database, table] = target.table.split('.');
  const columns = await target.client.rows('SELECT name, type FROM system.columns WHERE database = {database:String} AND table = {table:String}', { database, table });
  if (columns.length === 0) {
    throw inputError(`ClickHouse at ${target.client.connection.url} has no table ${target.table} (source ${label})`, [
      `Check the name: SELECT database, name FROM system.tables`,
    ]);
  }
  const typeOf = new Map(columns.map((c) => [String(c.name), String(c.type)]));
  const missing = Object.keys(REQUIRED_COLUMNS).filter((name) => !typeOf.has(name));
  if (missing.length > 0) {
    throw inputError(`${target.table} on ClickHouse at ${target.client.connection.url} has no column ${missing.join(', ')}`, [
      `crm reads the store's column names: ${Object.keys(REQUIRED_COLUMNS).join(', ')} (and cost, optional). Rename them in a view over the table.`,
    ]);
  }
  const wrong = Object.entries(REQUIRED_COLUMNS)
    .filter(([name, rule]) => !rule.types.test(typeOf.get(name)!))
    .map(([name, rule]) => `${name} is ${typeOf.get(name)}, crm needs ${rule.wanted}`);
  const costType = typeOf.get('cost');
  if (costType !== undefined && !COST.types.test(costType)) wrong.push(`cost is ${costType}, crm needs ${COST.wanted}`);
  if (wrong.length > 0) throw inputError(`${target.table} on ClickHouse at ${target.client.connection.url}: wrong column types`, wrong);
  return { hasCost: costType !== undefined };
}

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
  const parts = await Promise.all(source.targets.map((t) => t.client.rows(clickhouseSourceExtent(t.table, hasCost), { as_of: chDate(asOf ?? FAR_FUTURE) })));
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

/**
 * The per-customer sums (→ temp.run_source_sums, money in the run's `moneyType`) and the cohort
 * activity (→ temp.run_source_cohort_activity), computed on every target at once, each streamed
 * as CSV into a temp file and read by DuckDB in bulk. Returns the bytes that came back.
 */
export async function loadSourceSums(store: Store, source: RunSource, hasCost: boolean, windows: SourceWindows, moneyType: string): Promise<{ bytes: number }> {
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
    await Promise.all(
      source.targets.flatMap((t, i) => [
        t.client.download(clickhouseCustomerSums(t.table, hasCost), params, sumsFiles[i]),
        t.client.download(clickhouseCohortActivity(t.table), { as_of: params.as_of }, activityFiles[i]),
      ]),
    );
    const money = (type: string) => (type === 'money' ? moneyType : type);
    await readCsvInto(store, SOURCE_SUMS_TABLE, sumsFiles, Object.fromEntries(Object.entries(CLICKHOUSE_CUSTOMER_SUMS_COLUMNS).map(([c, t]) => [c, money(t)])));
    await readCsvInto(store, SOURCE_COHORT_ACTIVITY_TABLE, activityFiles, CLICKHOUSE_COHORT_ACTIVITY_COLUMNS);
    // Shards must split customers: a customer on two shards would be two half customers.
    const split = await store.one<{ customer_id: string; shards: number }>(
      `SELECT customer_id, CAST(count(*) AS INTEGER) AS shards FROM temp.${SOURCE_SUMS_TABLE} GROUP BY customer_id HAVING count(*) > 1 ORDER BY customer_id LIMIT 1`,
    );
    if (split) {
      throw inputError(`customer ${JSON.stringify(split.customer_id)} has lines on ${split.shards} of the source's shards (${source.label})`, [
        'The shards must split the lines by customer (e.g. a Distributed table sharded by cityHash64(customer_id)); or leave out `shards` to read through the Distributed table.',
      ]);
    }
    const bytes = [...sumsFiles, ...activityFiles].reduce((n, f) => n + statSync(f).size, 0);
    return { bytes };
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

/**
 * The run's customer rows copied to DATABASE.crm_customer_metrics next to the source table
 * (created if missing), so the cluster can join the scores to its own data. Inside the run's
 * write transaction, before the runs row: if the cluster refuses, the local run is not recorded
 * either. A partition left by an attempt that failed after this step is replaced. Returns the
 * bytes sent.
 */
export async function writeBackMetrics(store: Store, source: RunSource, runId: number): Promise<number> {
  const database = source.main.table.split('.')[0];
  const table = `${database}.${CLUSTER_METRICS_TABLE}`;
  const columns = Object.keys(CLUSTER_METRICS_COLUMNS);
  const client = source.main.client;
  await client.run(
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (${Object.entries(CLUSTER_METRICS_COLUMNS).map(([c, t]) => `${c} ${t}`).join(', ')})
     ENGINE = MergeTree() PARTITION BY run_id ORDER BY customer_id`,
  );
  await client.run(`ALTER TABLE ${quoteIdentifier(table)} DROP PARTITION ${Number(runId)}`);
  return copyFromDuckDb(store, `SELECT ${columns.join(', ')} FROM customer_metrics WHERE run_id = ${Number(runId)}`, client, table, columns);
}

/**
 * The source the latest run read its transactions from (runs.input.source), or null for a run
 * on the store's own lines: `crm customer` and `crm quality` say that the lines live there.
 */
export async function latestRunSource(store: Store): Promise<string | null> {
  return (await store.value<string | null>("SELECT input->>'$.source' FROM runs ORDER BY run_id DESC LIMIT 1")) ?? null;
}
