/**
 * `crm run --source` (issue #13): the same transactions in a local store and on ClickHouse
 * (Debian's 18.16, a throwaway server; two shards split by customer behind a Distributed table)
 * give the same customers, segments, tiers and key accounts, the same cohorts, and model
 * parameters equal to 1e-6 relative — through the Distributed table, and with the summary run on
 * each shard's own table (sources.NAME.shards). The scores land in crm_customer_metrics on the
 * cluster. The 80/20 levels are ranked on the cluster (only the level table comes back) and give
 * the same ranks, shares and classes. A warehouse table with its own column names is read with
 * --map / sources.NAME.map, and the store's merges are applied on the cluster, each giving the
 * local run's customers. Spend at the Gamma-Gamma's homogeneous-spend limit scores every customer
 * at the population mean on the cluster too (gg_nu bound in the cluster SQL). Bad sources are
 * refused with the documented exit codes, before anything runs.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFor } from '../../src/run/source.js';
import { ClickHouseClient, copyFromDuckDb, quoteString } from '../../src/store/clickhouse.js';
import { Store } from '../../src/store/db.js';
import { CLI, crm, sql, tempDir } from '../helpers/cli.js';
import { freePort, startClickHouse, type ClickHouseTestServer } from '../helpers/clickhouse-server.js';
import { createStore } from '../helpers/run.js';
import { homogeneousSpendSimulation } from '../helpers/simulate-transactions.js';

const AS_OF = '2025-09-30';
const COLUMNS = ['customer_id', 'order_id', 'order_date', 'amount', 'is_return', 'cost'];
const DDL = (name: string) =>
  `CREATE TABLE ${name} (customer_id String, order_id Nullable(String), order_date Date, amount Decimal(18, 4), is_return UInt8, cost Nullable(Decimal(18, 4))) ENGINE = MergeTree ORDER BY customer_id`;
const PASSWORD_ENV = 'CRM_TEST_CLICKHOUSE_PASSWORD';

let server: ClickHouseTestServer;
let ch: ClickHouseClient;
/** For the signal and cancel tests' polls: a frozen server fails them in 5 s, not at the test's limit. */
let quick: ClickHouseClient;
let dir: string;
let localDb: string;
let port: string;

/** A config file with the given sources; returns its path. */
function config(name: string, sources: Record<string, unknown>): string {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ sources }));
  return file;
}

function run(db: string, args: string[]) {
  // The test server's default user has an empty password: the variable is set, to an empty value.
  return crm(['--db', db, ...args], { env: { [PASSWORD_ENV]: '' } });
}

beforeAll(async () => {
  server = await startClickHouse();
  port = new URL(server.url).port;
  ch = new ClickHouseClient({ url: server.url });
  quick = new ClickHouseClient({ url: server.url, timeoutMs: 5_000 });
  dir = tempDir('crm-source-');
  localDb = path.join(dir, 'local.duckdb');
  expect(crm(['generate', '--customers', '300', '--seed', '11', '--dirty-share', '0', '--out', dir]).code).toBe(0);
  expect(crm(['--db', localDb, 'ingest', 'transactions', path.join(dir, 'transactions.csv')]).code).toBe(0);
  // The store's cleaned lines onto both shards, split by customer (the helper's cluster two_shards: databases shard1, shard2).
  const store = await Store.open(localDb, { readOnly: true });
  try {
    for (const [i, shard] of ['shard1', 'shard2'].entries()) {
      await ch.run(DDL(`${shard}.lines`));
      await copyFromDuckDb(
        store,
        `SELECT customer_id, order_id, order_date, amount, CAST(is_return AS INTEGER), cost FROM transactions WHERE hash(customer_id) % 2 = ${i}`,
        ch,
        `${shard}.lines`,
        COLUMNS,
      );
    }
  } finally {
    store.close();
  }
  await ch.run(`CREATE TABLE default.lines AS shard1.lines ENGINE = Distributed(two_shards, '', lines, cityHash64(customer_id))`);
  expect(run(localDb, ['run', '--as-of', AS_OF, '--json']).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface CustomerRow {
  customer_id: string;
  rfm_segment: string;
  value_tier: string;
  churn_tier: string;
  abc_class: string;
  is_key_account: boolean;
  net_revenue: number;
  p_alive: number;
}

const CUSTOMERS = `SELECT customer_id, rfm_segment, value_tier, churn_tier, abc_class, abc_class = 'A' AS is_key_account, net_revenue, p_alive
                   FROM customer_metrics ORDER BY customer_id`;
/** What the 80/20 levels give each customer. */
const LEVELS = 'SELECT customer_id, abc_class, revenue_rank, revenue_share, cumulative_share FROM customer_metrics ORDER BY customer_id';
const COHORTS = 'SELECT CAST(cohort_month AS VARCHAR) AS cohort_month, months_since, cohort_size, active_customers, revenue FROM cohort_retention ORDER BY ALL';

const CLUSTER_COLUMNS = ['customer_id', 'as_of', 'rfm_segment', 'churn_tier', 'value_tier', 'abc_class', 'p_alive', 'churn_risk', 'expected_purchases', 'clv', 'net_revenue'];
const FLOATS = new Set(['p_alive', 'churn_risk', 'expected_purchases', 'clv', 'net_revenue']);

/**
 * The cluster's crm_customer_metrics of run `clusterRun` against a store's customer_metrics of
 * run `localRun`: the same customers in the same order, strings equal, floats to 1e-9 relative
 * (NULL where the local row is NULL). Returns the rows compared.
 */
async function expectClusterMetricsEqual(db: string, localRun: number, clusterRun: number): Promise<number> {
  const local = sql<Record<string, unknown>>(db, `SELECT ${CLUSTER_COLUMNS.map((c) => (c === 'as_of' ? 'CAST(as_of AS VARCHAR) AS as_of' : c)).join(', ')} FROM customer_metrics WHERE run_id = ${localRun} ORDER BY customer_id`);
  const cluster = await ch.rows(`SELECT ${CLUSTER_COLUMNS.join(', ')} FROM default.crm_customer_metrics WHERE run_id = ${clusterRun} ORDER BY customer_id`);
  expect(cluster.length).toBe(local.length);
  expect(cluster.length).toBeGreaterThan(250);
  const differences: string[] = [];
  cluster.forEach((row, i) => {
    for (const column of CLUSTER_COLUMNS) {
      const [a, b] = [row[column], local[i][column]];
      const same = FLOATS.has(column)
        ? (a === null && b === null) || (a !== null && b !== null && Math.abs(Number(a) - Number(b)) <= 1e-9 * Math.max(Math.abs(Number(a)), Math.abs(Number(b))))
        : (a ?? null) === (b ?? null);
      if (!same) differences.push(`${local[i].customer_id} ${column}: cluster ${a}, local ${b}`);
    }
  });
  expect(differences.slice(0, 10)).toEqual([]);
  // Not a vacuous comparison: the rules produced every kind of value.
  for (const column of ['rfm_segment', 'value_tier', 'abc_class', 'churn_tier']) expect(new Set(cluster.map((r) => r[column])).size).toBeGreaterThan(1);
  expect(cluster.filter((r) => r.clv !== null).length).toBeGreaterThan(250);
  return cluster.length;
}

function closeRelative(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b), 1e-300);
}

function expectSameParameters(a: Record<string, unknown>, b: Record<string, unknown>): void {
  for (const key of ['r', 'alpha', 'a', 'b', 'p', 'q', 'v', 'log_likelihood']) {
    if (typeof a[key] !== 'number') continue;
    expect(closeRelative(a[key] as number, b[key] as number), `${key}: ${a[key]} vs ${b[key]}`).toBe(true);
  }
}

describe.each([
  ['through the Distributed table', (p: string) => ({ url: `clickhouse://127.0.0.1:${p}/default.lines`, password_env: PASSWORD_ENV })],
  [
    "on each shard's own table",
    (p: string) => ({ url: `clickhouse://127.0.0.1:${p}/default.lines`, password_env: PASSWORD_ENV, shards: [`clickhouse://127.0.0.1:${p}/shard1.lines`, `clickhouse://127.0.0.1:${p}/shard2.lines`] }),
  ],
])('crm run --source, %s, equals the local run', (_name, entry) => {
  let sourceDb: string;
  let result: Record<string, unknown>;
  beforeAll(() => {
    sourceDb = path.join(tempDir('crm-source-run-'), 'cluster.duckdb');
    const file = config(`config-${_name.length}`, { warehouse: entry(port) });
    const r = run(sourceDb, ['--config', file, 'run', '--source', 'warehouse', '--as-of', AS_OF, '--json']);
    expect(r.code, r.stderr).toBe(0);
    result = JSON.parse(r.stdout);
  });

  it('gives the same customers, segments, tiers and key accounts', () => {
    const local = sql<CustomerRow>(localDb, CUSTOMERS);
    const cluster = sql<CustomerRow>(sourceDb, CUSTOMERS);
    expect(cluster.length).toBeGreaterThan(250);
    expect(cluster.map((c) => [c.customer_id, c.rfm_segment, c.value_tier, c.churn_tier, c.abc_class])).toEqual(
      local.map((c) => [c.customer_id, c.rfm_segment, c.value_tier, c.churn_tier, c.abc_class]),
    );
    expect(cluster.filter((c) => c.is_key_account).length).toBeGreaterThan(0);
    cluster.forEach((c, i) => {
      expect(c.net_revenue).toBe(local[i].net_revenue);
      expect(closeRelative(c.p_alive, local[i].p_alive)).toBe(true);
    });
  });

  it('ranks the 80/20 levels on the cluster: the same ranks, shares and classes, bit for bit', () => {
    // The levels came back ranked: the run had no local ranking step.
    const timings = result.timings_ms as Record<string, number>;
    expect(timings.source_sums).toBeGreaterThan(0);
    expect(timings.pareto).toBeUndefined();
    const cluster = sql(sourceDb, LEVELS);
    expect(cluster.filter((c) => c.abc_class === 'B').length).toBeGreaterThan(0);
    expect(cluster).toEqual(sql(localDb, LEVELS));
  });

  it('fits the same model parameters (1e-6 relative) and the same cohorts', () => {
    const [local] = sql<{ bgnbd: string; gamma_gamma: string; summary: string }>(localDb, 'SELECT bgnbd, gamma_gamma, summary FROM runs');
    const [cluster] = sql<{ bgnbd: string; gamma_gamma: string; summary: string }>(sourceDb, 'SELECT bgnbd, gamma_gamma, summary FROM runs');
    expectSameParameters(JSON.parse(cluster.bgnbd), JSON.parse(local.bgnbd));
    expectSameParameters(JSON.parse(cluster.gamma_gamma), JSON.parse(local.gamma_gamma));
    expect(JSON.parse(cluster.summary)).toEqual(JSON.parse(local.summary));
    expect(sql(sourceDb, COHORTS)).toEqual(sql(localDb, COHORTS));
  });

  it('records the source without credentials, and writes crm_customer_metrics on the cluster', async () => {
    // The read step's staged sums (on the main server, or on each shard and the Distributed table over them) are gone after the run.
    expect(await ch.rows("SELECT name FROM system.tables WHERE name LIKE 'crm_run_sums%'")).toEqual([]);
    const [run] = sql<{ input: string }>(sourceDb, 'SELECT input FROM runs');
    const input = JSON.parse(run.input);
    expect(input.source).toBe(`clickhouse://127.0.0.1:${port}/default.lines`);
    // Both ways gzipped on the wire: fewer bytes than the same rows as CSV. Back to the cluster go
    // the per-history scores (gzipped) and the INSERT … SELECT's text (~30 kB whatever the size),
    // which at 300 customers is most of it.
    expect(input.bytes_from_source).toBeGreaterThan(0);
    expect(input.bytes_from_source).toBeLessThan(input.csv_bytes_from_source / 2);
    expect(input.bytes_to_source).toBeGreaterThan(0);
    expect(input.bytes_to_source).toBeLessThan(input.csv_bytes_to_source);
    expect(result.source).toMatchObject({ bytes_from_source: input.bytes_from_source, csv_bytes_to_source: input.csv_bytes_to_source });
    expect(input.transactions_used).toBe(sql<{ n: number }>(localDb, `SELECT count(*) AS n FROM transactions WHERE order_date <= DATE '${AS_OF}'`)[0].n);
    expect(result.customers).toBeGreaterThan(250);
    const [written] = await ch.rows('SELECT count() AS n, uniqExact(customer_id) AS ids FROM default.crm_customer_metrics WHERE run_id = 1');
    expect(Number(written.n)).toBe(result.customers);
    expect(Number(written.ids)).toBe(result.customers);
  });

  it('computes crm_customer_metrics on the cluster from the per-history scores: the local run\'s customer_metrics, column by column', async () => {
    await expectClusterMetricsEqual(localDb, 1, 1);
  });

  it('--since (the 80/20 window) and --model auto give the same run too', async () => {
    // The window starts on a busy day: the boundary day's purchases count (>=, not >).
    const [busiest] = sql<{ day: string }>(localDb, `SELECT CAST(order_date AS VARCHAR) AS day FROM transactions WHERE order_date BETWEEN DATE '2025-01-01' AND DATE '${AS_OF}' GROUP BY order_date ORDER BY count(*) DESC, order_date LIMIT 1`);
    const flags = ['run', '--as-of', AS_OF, '--since', busiest.day, '--model', 'auto', '--json'];
    // A copy of the local store: the other tests compare with its one run.
    const localCopy = path.join(dir, `local-since-${_name.length}.duckdb`);
    fs.copyFileSync(localDb, localCopy);
    const local = run(localCopy, flags);
    const file = config(`since-${_name.length}`, { warehouse: entry(port) });
    const cluster = run(sourceDb, ['--config', file, ...flags.slice(0, 1), '--source', 'warehouse', ...flags.slice(1)]);
    expect([local.code, cluster.code], cluster.stderr).toEqual([0, 0]);
    const [l, c] = [JSON.parse(local.stdout), JSON.parse(cluster.stdout)];
    expect(c.summary).toEqual(l.summary);
    expect(c.model_choice.chosen).toBe(l.model_choice.chosen);
    expectSameParameters(c.bgnbd, l.bgnbd);
    const latest = `${CUSTOMERS.replace('FROM customer_metrics', 'FROM customer_latest')}`;
    expect(sql(sourceDb, latest)).toEqual(sql(localCopy, latest));
    // The cluster's crm_customer_metrics of this run (the 80/20 window from --since) too.
    await expectClusterMetricsEqual(localCopy, 2, 2);
  });

  it('crm customer and crm quality say that the lines live on the cluster', () => {
    const [first] = sql<{ customer_id: string }>(sourceDb, 'SELECT min(customer_id) AS customer_id FROM customer_metrics');
    const customer = run(sourceDb, ['customer', first.customer_id]);
    expect(customer.code, customer.stderr).toBe(0);
    expect(customer.stdout).toContain(`orders and returns: on clickhouse://127.0.0.1:${port}/default.lines`);
    const quality = run(sourceDb, ['quality', '--json']);
    const findings = (JSON.parse(quality.stdout) as { findings: { check: string; message: string }[] }).findings;
    expect(findings.find((f) => f.check === 'transactions_on_source')?.message).toMatch(/read its transactions from clickhouse:\/\/127\.0\.0\.1:\d+\/default\.lines: they live on the cluster/);
  });
});

describe('crm run --source with merges and a table of other column names (--map)', () => {
  let merged: string;
  let sourceDb: string;
  const merges = [] as [string, string][];
  beforeAll(async () => {
    // Three merges across the base (a duplicate's history moves to its survivor), in both stores.
    const ids = sql<{ customer_id: string }>(localDb, 'SELECT customer_id FROM customer_metrics ORDER BY customer_id').map((r) => r.customer_id);
    merges.push([ids[1], ids[0]], [ids[40], ids[7]], [ids[200], ids[100]]);
    const file = path.join(dir, 'merges.csv');
    fs.writeFileSync(file, `duplicate_id,surviving_id\n${merges.map((m) => m.join(',')).join('\n')}\n`);
    merged = path.join(dir, 'local-merged.duckdb');
    fs.copyFileSync(localDb, merged);
    expect(crm(['--db', merged, 'ingest', 'merges', file]).code).toBe(0);
    expect(run(merged, ['run', '--as-of', AS_OF]).code).toBe(0);
    // The source's store: the customers file (so the merge ids are known) and the same merges.
    sourceDb = path.join(tempDir('crm-source-merged-'), 'cluster.duckdb');
    expect(crm(['--db', sourceDb, 'ingest', 'customers', path.join(dir, 'customers.csv')]).code).toBe(0);
    expect(crm(['--db', sourceDb, 'ingest', 'merges', file]).code).toBe(0);
    // A warehouse table of the same lines under its own names (the date column named like crm's
    // own orders' day would be, had it not reserved crm_ names).
    await ch.run(
      `CREATE TABLE default.warehouse ENGINE = MergeTree ORDER BY client AS
       SELECT customer_id AS client, order_id AS order_no, order_date AS order_day, amount AS amt, is_return AS ret, cost AS unit_cost FROM default.lines`,
    );
  });

  it('applies the merges on the cluster and reads the mapped columns: the local run with the same merges', async () => {
    // Part of the mapping in the config, part on the command line (--map wins per field).
    const file = config('mapped', {
      warehouse: { url: `clickhouse://127.0.0.1:${port}/default.warehouse`, password_env: PASSWORD_ENV, map: { customer_id: 'client', order_id: 'order_no', amount: 'wrong_name' } },
    });
    const r = run(sourceDb, ['--config', file, 'run', '--source', 'warehouse', '--map', 'order_date=order_day', '--map', 'amount=amt', '--map', 'is_return=ret', '--map', 'cost=unit_cost', '--as-of', AS_OF, '--json']);
    expect(r.code, r.stderr).toBe(0);
    // The merged local store has two runs: its latest is compared.
    const latest = (q: string) => q.replace('FROM customer_metrics', 'FROM customer_latest');
    const cluster = sql<CustomerRow>(sourceDb, latest(CUSTOMERS));
    const local = sql<CustomerRow>(merged, latest(CUSTOMERS));
    // Each duplicate has no row of its own; the survivor carries both histories.
    for (const [duplicate] of merges) expect(cluster.find((c) => c.customer_id === duplicate)).toBeUndefined();
    expect(cluster.length).toBe(sql(localDb, CUSTOMERS).length - merges.length);
    expect(cluster).toEqual(local);
    expect(sql(sourceDb, latest(LEVELS))).toEqual(sql(merged, latest(LEVELS)));
    const [runs] = sql<{ input: string; summary: string }>(sourceDb, 'SELECT input, summary FROM runs');
    expect(JSON.parse(runs.summary)).toEqual(JSON.parse(sql<{ summary: string }>(merged, 'SELECT summary FROM runs ORDER BY run_id DESC LIMIT 1')[0].summary));
    expect(JSON.parse(runs.input)).toMatchObject({ merges: [1, 2, 3], map: { customer_id: 'client', order_id: 'order_no', order_date: 'order_day', amount: 'amt', is_return: 'ret', cost: 'unit_cost' } });
    const cohorts = COHORTS.replace('FROM cohort_retention', 'FROM cohort_retention WHERE run_id = (SELECT max(run_id) FROM runs)');
    expect(sql(sourceDb, cohorts)).toEqual(sql(merged, cohorts));
    // crm_customer_metrics on the cluster, with the merges applied there: the merged local run's rows.
    await expectClusterMetricsEqual(merged, 2, 1);
  });

  it('--covariates region (customers keyed by history and covariate cell): crm_customer_metrics on the cluster equals the run\'s customer_metrics', async () => {
    const file = config('mapped-covariates', {
      warehouse: { url: `clickhouse://127.0.0.1:${port}/default.warehouse`, password_env: PASSWORD_ENV, map: { customer_id: 'client', order_id: 'order_no', order_date: 'order_day', amount: 'amt', is_return: 'ret', cost: 'unit_cost' } },
    });
    // A copy of the source run's store (its customers carry the regions): the other tests count its runs.
    const copy = path.join(tempDir('crm-source-covariates-'), 'cluster.duckdb');
    fs.copyFileSync(sourceDb, copy);
    const r = run(copy, ['--config', file, 'run', '--source', 'warehouse', '--covariates', 'region', '--as-of', AS_OF, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const runId = out.run_id as number;
    // The covariate was fitted (a level with its own purchase effect), so the customers are keyed
    // by (history, region) and the write back copies every customer's row (run/source.ts).
    const levels = Object.values(out.bgnbd.covariates.variables.region.levels) as { purchase?: number }[];
    expect(levels.some((l) => typeof l.purchase === 'number')).toBe(true);
    await expectClusterMetricsEqual(copy, runId, runId);
  });

  it('wide money (a total of 10^14 and more: the 80/20 levels ranked locally): crm_customer_metrics on the cluster equals the run\'s customer_metrics', async () => {
    await ch.run(
      `CREATE TABLE default.wide_lines ENGINE = MergeTree ORDER BY customer_id AS
       SELECT customer_id, order_id, order_date, CAST(amount AS Decimal(38, 4)) * 100000000000 AS amount, is_return FROM default.lines`,
    );
    const wideDb = path.join(tempDir('crm-source-wide-'), 'cluster.duckdb');
    const r = run(wideDb, ['run', '--source', `clickhouse://127.0.0.1:${port}/default.wide_lines`, '--as-of', AS_OF, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    // Ranked here, not on the cluster: the local pareto step ran.
    expect(result.timings_ms.pareto).toBeGreaterThanOrEqual(0);
    expect(sql<{ n: number }>(wideDb, "SELECT count(*) AS n FROM customer_metrics WHERE abc_class = 'B'")[0].n).toBeGreaterThan(0);
    await expectClusterMetricsEqual(wideDb, 1, 1);
  });

  it('a query made long by many merges raises max_query_size for itself (ClickHouse parses 256 KiB by default)', async () => {
    const ids = `[${Array.from({ length: 20_000 }, (_, i) => quoteString(`X${i}`)).join(', ')}]`;
    const long = `SELECT count() AS n FROM (SELECT transform(customer_id, ${ids}, ${ids}, customer_id) AS c FROM default.lines) WHERE c LIKE 'X%'`;
    expect(Buffer.byteLength(long)).toBeGreaterThan(262_144);
    await expect(ch.rows(long)).rejects.toThrow(/Max query size exceeded/);
    expect(await clientFor({ client: ch, table: 'default.lines' }, long).rows(long)).toEqual([{ n: 0n }]);
  });

  it('a mistyped or wrongly typed mapped column: exit 3 naming it; --map without --source or of another field: exit 2', () => {
    const source = `clickhouse://127.0.0.1:${port}/default.warehouse`;
    const all = ['--map', 'customer_id=client', '--map', 'order_id=order_no', '--map', 'order_date=order_day', '--map', 'is_return=ret'];
    const typo = run(sourceDb, ['run', '--source', source, ...all, '--map', 'amount=amnt']);
    expect([typo.code, typo.stderr]).toEqual([3, expect.stringMatching(/default\.warehouse on ClickHouse at .* has no column amnt \(--map amount=amnt\)[\s\S]*The table's columns: client, order_no, order_day, amt, ret, unit_cost/)]);
    const typed = run(sourceDb, ['run', '--source', source, ...all, '--map', 'amount=order_day']);
    expect([typed.code, typed.stderr]).toEqual([3, expect.stringMatching(/wrong column types\n.*amount \(column order_day\) is Date, crm needs Decimal/)]);
    const reserved = run(sourceDb, ['run', '--source', source, ...all, '--map', 'amount=crm_amount']);
    expect([reserved.code, reserved.stderr]).toEqual([3, expect.stringMatching(/name their own values crm_amount, which would hide the column mapped to amount/)]);
    const local = run(sourceDb, ['run', '--map', 'amount=amt']);
    expect([local.code, local.stderr]).toEqual([2, expect.stringMatching(/--map is for --source/)]);
    const other = run(sourceDb, ['run', '--source', source, '--map', 'channel=ch']);
    expect([other.code, other.stderr]).toEqual([2, expect.stringMatching(/reads only customer_id, order_id, order_date, amount, is_return, cost; "channel"/)]);
    // Nothing was recorded by the refused runs.
    expect(sql(sourceDb, 'SELECT count(*) AS n FROM runs')).toEqual([{ n: 1 }]);
  });
});

describe('crm run --source refuses a source it cannot use', () => {
  let db: string;
  beforeAll(async () => {
    db = path.join(tempDir('crm-source-bad-'), 'bad.duckdb');
    await ch.run('CREATE TABLE default.no_return (customer_id String, order_id Nullable(String), order_date Date, amount Decimal(18, 4)) ENGINE = MergeTree ORDER BY customer_id');
    await ch.run('CREATE TABLE default.float_money (customer_id String, order_id Nullable(String), order_date Date, amount Float64, is_return UInt8) ENGINE = MergeTree ORDER BY customer_id');
  });
  const source = (table: string) => `clickhouse://127.0.0.1:${port}/default.${table}`;

  it('a password in the URL: exit 2, nothing written', () => {
    const r = run(db, ['run', '--source', `clickhouse://default:secret@127.0.0.1:${port}/default.lines`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/must not carry a user or password/);
    expect(r.stderr).not.toMatch(/secret/);
    expect(fs.existsSync(db)).toBe(false);
  });

  it('an unknown source name or a password variable that is not set: exit 2', () => {
    const file = config('named', { warehouse: { url: source('lines'), password_env: 'CRM_TEST_NOT_SET_ANYWHERE' } });
    expect(run(db, ['--config', file, 'run', '--source', 'elsewhere']).stderr).toMatch(/no such source in crm.config.json[\s\S]*warehouse/);
    const unset = run(db, ['--config', file, 'run', '--source', 'warehouse']);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/CRM_TEST_NOT_SET_ANYWHERE .* is not set/);
  });

  it('a password in the config file is not a setting (schema): exit 3', () => {
    const file = config('password', { warehouse: { url: source('lines'), password: 'secret' } });
    const r = run(db, ['--config', file, 'run', '--source', 'warehouse']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/additional properties[\s\S]*password/);
  });

  it('a missing table, a missing column, a wrong type, an unreachable server: exit 3', async () => {
    const missing = run(db, ['run', '--source', source('nowhere')]);
    expect([missing.code, missing.stderr]).toEqual([3, expect.stringMatching(/has no table default\.nowhere/)]);
    const column = run(db, ['run', '--source', source('no_return')]);
    expect([column.code, column.stderr]).toEqual([3, expect.stringMatching(/has no column is_return/)]);
    const type = run(db, ['run', '--source', source('float_money')]);
    expect([type.code, type.stderr]).toEqual([3, expect.stringMatching(/amount is Float64, crm needs Decimal/)]);
    const closed = await freePort();
    const unreachable = run(db, ['run', '--source', `clickhouse://127.0.0.1:${closed}/default.lines`]);
    expect([unreachable.code, unreachable.stderr]).toEqual([3, expect.stringMatching(/cannot reach ClickHouse at http:\/\/127\.0\.0\.1:\d+/)]);
    // Checked before a store is created.
    expect(fs.existsSync(db)).toBe(false);
  });

  it('a user that may read but not write (readonly=2): exit 6 naming the table it may not write, the run not recorded', () => {
    const file = config('reader', { reader: { url: source('lines'), user: 'reader', password_env: PASSWORD_ENV } });
    const fresh = path.join(tempDir('crm-source-reader-'), 'reader.duckdb');
    const r = run(fresh, ['--config', file, 'run', '--source', 'reader', '--as-of', AS_OF]);
    expect(r.code, r.stderr).toBe(6);
    // Its first write is the staged per-customer sums of the read step.
    expect(r.stderr).toMatch(/refused to write default\.crm_run_sums_\d+_[0-9a-f]{8}: a source run writes on the cluster \(its per-customer sums, the scores, crm_customer_metrics\), and this user may not write there; the run is not recorded/);
    expect(r.stderr).toMatch(/Give the source's user write access to default/);
    expect(sql(fresh, 'SELECT count(*) AS n FROM runs')).toEqual([{ n: 0 }]);
  });

  it('the cluster refusing the INSERT … SELECT midway: no partition of the run left, no scratch table, the run not recorded', async () => {
    // A crm_customer_metrics whose rfm_segment takes one value only: the cluster's INSERT fails on the others.
    await ch.run('CREATE DATABASE IF NOT EXISTS strict');
    await ch.run('CREATE TABLE strict.lines ENGINE = MergeTree ORDER BY customer_id AS SELECT * FROM default.lines');
    await ch.run(
      `CREATE TABLE strict.crm_customer_metrics (run_id UInt32, as_of Date, customer_id String, rfm_segment Enum8('Champions' = 1), churn_tier Nullable(String),
         value_tier Nullable(String), abc_class Nullable(String), p_alive Nullable(Float64), churn_risk Nullable(Float64), expected_purchases Nullable(Float64),
         clv Nullable(Float64), net_revenue Nullable(Float64)) ENGINE = MergeTree() PARTITION BY run_id ORDER BY customer_id`,
    );
    const fresh = path.join(tempDir('crm-source-strict-'), 'strict.duckdb');
    const r = run(fresh, ['run', '--source', `clickhouse://127.0.0.1:${port}/strict.lines`, '--as-of', AS_OF]);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toMatch(/refused the query/);
    expect(sql(fresh, 'SELECT count(*) AS n FROM runs')).toEqual([{ n: 0 }]);
    const [left] = await ch.rows('SELECT count() AS n FROM strict.crm_customer_metrics');
    expect(Number(left.n)).toBe(0);
    // Neither the histories' scores nor the staged per-customer sums are left behind.
    const scratch = await ch.rows("SELECT name FROM system.tables WHERE database = 'strict' AND (name LIKE 'crm_history_scores%' OR name LIKE 'crm_run_sums%')");
    expect(scratch).toEqual([]);
  });

  it('shards that do not split customers (the same table twice): exit 3, nothing recorded', () => {
    const twice = `clickhouse://127.0.0.1:${port}/shard1.lines`;
    const file = config('twice', { twice: { url: source('lines'), shards: [twice, twice] } });
    const r = run(db, ['--config', file, 'run', '--source', 'twice']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/has lines on 2 of the source's shards/);
    expect(sql(db, 'SELECT count(*) AS n FROM runs')).toEqual([{ n: 0 }]);
  });

  it('--holdout-end, --model bgbb, --covariates channel with --source: exit 2 naming the source where the lines stay, nothing written', () => {
    const cases: [string[], RegExp][] = [
      [['--as-of', '2025-06-30', '--holdout-end', AS_OF], /--holdout-end with --source: .*line by line, and those lines stay on clickhouse:\/\/127\.0\.0\.1:\d+\/default\.lines/],
      [['--model', 'bgbb', '--time-unit', 'month'], /--model bgbb with --source: .*those lines stay on clickhouse:\/\/127\.0\.0\.1:\d+\/default\.lines/],
      [['--covariates', 'channel'], /--covariates channel with --source: .*those lines stay on clickhouse:\/\/127\.0\.0\.1:\d+\/default\.lines/],
    ];
    for (const [flags, message] of cases) {
      const r = run(db, ['run', '--source', source('lines'), ...flags]);
      expect([r.code, r.stderr], flags.join(' ')).toEqual([2, expect.stringMatching(message)]);
    }
    // Refused before a store is opened: no run recorded (the store exists if an earlier test made it).
    expect(fs.existsSync(db) ? sql(db, 'SELECT count(*) AS n FROM runs') : [{ n: 0 }]).toEqual([{ n: 0 }]);
  });
});

describe('crm run --source leaves no staged per-customer sums on the cluster', () => {
  const staged = async () => (await quick.rows("SELECT database, name FROM system.tables WHERE startsWith(name, 'crm_run_sums_') ORDER BY database, name")).map((r) => `${r.database}.${r.name}`);
  const memoryTable = (name: string) => ch.run(`CREATE TABLE ${name} (customer_id String) ENGINE = Memory`);

  it('a run that fails after the read step (the write back refused before it joins the sums) drops them, on the main server and on every shard', async () => {
    expect(await staged()).toEqual([]);
    // crm_customer_metrics is a Memory table here: the write back's ALTER … DROP PARTITION fails,
    // after the read step staged the sums (before the write back's own clean-up began).
    await ch.run('CREATE DATABASE IF NOT EXISTS failing');
    await ch.run(`CREATE TABLE failing.lines AS shard1.lines ENGINE = Distributed(two_shards, '', lines, cityHash64(customer_id))`);
    await memoryTable('failing.crm_customer_metrics');
    const main = `clickhouse://127.0.0.1:${port}/failing.lines`;
    const file = config('failing', { failing: { url: main, password_env: PASSWORD_ENV, shards: [`clickhouse://127.0.0.1:${port}/shard1.lines`, `clickhouse://127.0.0.1:${port}/shard2.lines`] } });
    for (const args of [['--source', main], ['--config', file, '--source', 'failing']]) {
      const fresh = path.join(tempDir('crm-source-failing-'), 'failing.duckdb');
      const r = run(fresh, [...(args[0] === '--config' ? args.slice(0, 2) : []), 'run', ...args.slice(args[0] === '--config' ? 2 : 0), '--as-of', AS_OF]);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(/refused the query: .*Partition operations are not supported by storage Memory/);
      expect(sql(fresh, 'SELECT count(*) AS n FROM runs')).toEqual([{ n: 0 }]);
      expect(await staged(), args.join(' ')).toEqual([]);
    }
  });

  it('a run stopped by SIGTERM or SIGINT (Ctrl-C) after its read step drops its staged sums, then ends as killed by the signal', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      // The signal is sent as soon as the run's staged table is on the server; a run that
      // finishes first (300 customers are quick) is tried again.
      let stopped = false;
      for (let attempt = 0; attempt < 8 && !stopped; attempt++) {
        const fresh = path.join(tempDir('crm-source-signal-'), 'signal.duckdb');
        const child = spawn(process.execPath, [CLI, '--db', fresh, 'run', '--source', `clickhouse://127.0.0.1:${port}/default.lines`, '--as-of', AS_OF], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        let ended = false;
        const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
        void exit.then(() => (ended = true));
        while (!ended && (await staged()).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        if (!ended) child.kill(signal);
        const end = await exit;
        if (end.signal === signal) {
          stopped = true;
          expect(stderr).toMatch(new RegExp(`crm: stopped by ${signal}: cancelling this run's statements and dropping the tables this run staged on clickhouse://127\\.0\\.0\\.1:\\d+/default\\.lines`));
          expect(stderr).not.toMatch(/crm: error|internal error/);
          expect(await staged()).toEqual([]);
        } else {
          expect(end, stderr).toEqual({ code: 0, signal: null });
        }
      }
      expect(stopped, `${signal} reached a run that held staged sums`).toBe(true);
    }
  });

  it('a run drops the staged tables that killed runs left (older than an hour), and leaves a running run\'s', async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = ['default', 'shard1', 'shard2'].map((db) => `${db}.crm_run_sums_${now - 2 * 3600}_deadbeef`);
    const fresh = ['default', 'shard1'].map((db) => `${db}.crm_run_sums_${now - 60}_cafebabe`);
    // Not crm's name (no creation time): never touched.
    const foreign = 'default.crm_run_sums_keep';
    // The write back's scratch table of per-history scores, left by a run killed during it.
    const oldScores = `default.crm_history_scores_${now - 2 * 3600}_deadbeef`;
    const freshScores = `default.crm_history_scores_${now - 60}_cafebabe`;
    for (const name of [...old, `${old[0]}_all`, ...fresh, foreign, oldScores, freshScores]) await memoryTable(name);
    const db = path.join(tempDir('crm-source-stale-'), 'stale.duckdb');
    // Through the main table: its database (default) is cleaned.
    expect(run(db, ['run', '--source', `clickhouse://127.0.0.1:${port}/default.lines`, '--as-of', AS_OF]).code).toBe(0);
    expect(await staged()).toEqual([...fresh, foreign, 'shard1.crm_run_sums_' + (now - 2 * 3600) + '_deadbeef', 'shard2.crm_run_sums_' + (now - 2 * 3600) + '_deadbeef'].sort());
    const scoresLeft = await ch.rows("SELECT database, name FROM system.tables WHERE startsWith(name, 'crm_history_scores_') ORDER BY database, name");
    expect(scoresLeft.map((r) => `${r.database}.${r.name}`)).toEqual([freshScores]);
    // With shards: every shard's database too.
    const file = config('stale', { stale: { url: `clickhouse://127.0.0.1:${port}/default.lines`, password_env: PASSWORD_ENV, shards: [`clickhouse://127.0.0.1:${port}/shard1.lines`, `clickhouse://127.0.0.1:${port}/shard2.lines`] } });
    expect(run(db, ['--config', file, 'run', '--source', 'stale', '--as-of', AS_OF]).code).toBe(0);
    expect(await staged()).toEqual([...fresh, foreign].sort());
    for (const name of [...fresh, foreign, freshScores]) await ch.run(`DROP TABLE ${name}`);
  });
});

/**
 * A statement still running on the cluster when the run stops (SIGTERM) or gives up on it (the
 * source's timeout) is cancelled there before the staged tables are dropped: 18.16 runs a
 * statement whose HTTP client left to its end, so without the cancel the `CREATE … AS SELECT`
 * of the staged sums would keep the server busy (and fill its table after the DROP).
 *
 * The slow source: a Memory table holding the lines in one-row blocks, whose customer column is
 * an ALIAS that sleeps 250 ms a row (sleepEachRow; per block, so under 18.16's 3 s cap): every
 * query reading the customer — the staged sums, the cohorts, the 80/20 levels — takes minutes
 * (sleeping, not burning CPU), while the checks and the extent query, which do not read it, stay
 * quick. The waits below are bounded and generous: nothing depends on the machine's speed except
 * that a killed statement leaves system.processes within 20 s.
 */
describe('crm run --source cancels its statements still running on the cluster', () => {
  const SLOW = 'slowdb.lines';
  let slowLines = 0;
  /** Statements on the server other than this question itself. */
  const running = async () => (await quick.rows("SELECT query FROM system.processes WHERE position(query, 'system.processes') = 0")).map((r) => String(r.query));
  const stagedHere = async () => (await quick.rows("SELECT name FROM system.tables WHERE database = 'slowdb' AND startsWith(name, 'crm_')")).map((r) => String(r.name));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** Polls until the server runs nothing and slowdb holds no crm table, at most `ms`; returns what is left. */
  async function settled(ms: number): Promise<{ running: string[]; staged: string[] }> {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = { running: await running(), staged: await stagedHere() };
      if ((left.running.length === 0 && left.staged.length === 0) || Date.now() > deadline) return left;
      await sleep(250);
    }
  }

  beforeAll(async () => {
    await ch.run('CREATE DATABASE IF NOT EXISTS slowdb');
    await ch.run(
      `CREATE TABLE ${SLOW} (customer_id String, order_id Nullable(String), order_date Date, amount Decimal(18, 4), is_return UInt8, cost Nullable(Decimal(18, 4)),
         slow_customer String ALIAS if(sleepEachRow(0.25) = 0, customer_id, '')) ENGINE = Memory`,
    );
    // One row per block: a Memory table keeps the blocks as inserted.
    const oneRowBlocks = new ClickHouseClient({ url: server.url, settings: { max_block_size: 1, min_insert_block_size_rows: 0, min_insert_block_size_bytes: 0 } });
    // (From each shard's own table: not through the Distributed one, which would send every row as a block of its own.)
    for (const shard of ['shard1', 'shard2']) {
      await oneRowBlocks.run(`INSERT INTO ${SLOW} (customer_id, order_id, order_date, amount, is_return, cost) SELECT customer_id, order_id, order_date, amount, is_return, cost FROM ${shard}.lines`);
    }
    slowLines = Number((await ch.rows(`SELECT count() AS n FROM ${SLOW}`))[0].n);
    // Minutes of sleep for any query that reads the customer (at most one thread per core).
    expect(slowLines * 0.25).toBeGreaterThan(240);
  }, 120_000);

  afterAll(async () => {
    await ch.run('DROP DATABASE IF EXISTS slowdb');
  });

  it('SIGTERM while the staged sums are being computed: the statements are killed, the table dropped, exit as killed by SIGTERM (143)', async () => {
    expect(await settled(30_000)).toEqual({ running: [], staged: [] });
    const db = path.join(tempDir('crm-source-cancel-'), 'cancel.duckdb');
    const child = spawn(process.execPath, [CLI, '--db', db, 'run', '--source', `clickhouse://127.0.0.1:${port}/${SLOW}`, '--map', 'customer_id=slow_customer', '--as-of', AS_OF], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let ended = false;
    void exit.then(() => (ended = true));
    // The staged table exists once its CREATE … AS SELECT runs (18.16 creates it, then fills it).
    const deadline = Date.now() + 90_000;
    while (!ended && Date.now() < deadline && (await stagedHere()).length === 0) await sleep(100);
    expect(ended, stderr).toBe(false);
    expect(await stagedHere()).toHaveLength(1);
    expect((await running()).some((q) => q.includes('crm_run_sums_'))).toBe(true);
    child.kill('SIGTERM');
    const end = await exit;
    expect(end, stderr).toEqual({ code: null, signal: 'SIGTERM' });
    expect(stderr).toMatch(/crm: stopped by SIGTERM: cancelling this run's statements and dropping the tables this run staged on clickhouse:\/\/127\.0\.0\.1:\d+\/slowdb\.lines/);
    // Nothing said about statements left running: none is.
    expect(stderr).not.toMatch(/crm: error|internal error|still ran|refused to cancel|may finish/);
    expect(await settled(15_000)).toEqual({ running: [], staged: [] });
  }, 180_000);

  it("a statement with no answer within the source's timeout is killed on the server, and the run's others with it (exit 3)", async () => {
    expect(await settled(30_000)).toEqual({ running: [], staged: [] });
    const db = path.join(tempDir('crm-source-timeout-'), 'timeout.duckdb');
    const file = config('timeout', { slow: { url: `clickhouse://127.0.0.1:${port}/${SLOW}`, password_env: PASSWORD_ENV, timeout_seconds: 4, map: { customer_id: 'slow_customer' } } });
    const r = run(db, ['--config', file, 'run', '--source', 'slow', '--as-of', AS_OF]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/cannot reach ClickHouse at http:\/\/127\.0\.0\.1:\d+: no answer in 4 s; the statement was cancelled there/);
    expect(r.stderr).not.toMatch(/internal error|still ran|refused to cancel|may finish/);
    expect(sql(db, 'SELECT count(*) AS n FROM runs')).toEqual([{ n: 0 }]);
    expect(await settled(15_000)).toEqual({ running: [], staged: [] });
  }, 180_000);
});

describe('crm run --source on a store with contracts', () => {
  it('runs on the source\'s transactions and says the contracts are left out (exit 0, naming the source)', () => {
    const db = path.join(tempDir('crm-source-contracts-'), 'contracts.duckdb');
    expect(run(db, ['ingest', 'contracts', path.resolve('data/sample/contracts.csv')]).code).toBe(0);
    const r = run(db, ['run', '--source', `clickhouse://127.0.0.1:${port}/default.lines`, '--as-of', AS_OF, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: the store's [\d,]+ contract periods are not in this run: a run from clickhouse:\/\/127\.0\.0\.1:\d+\/default\.lines scores that source's transactions only/);
    const result = JSON.parse(r.stdout);
    expect(result.contracts).toBeNull();
    expect(sql(db, 'SELECT count(*) AS n FROM customer_metrics WHERE contracts_in_force IS NOT NULL')).toEqual([{ n: 0 }]);
    // The customers are the source's: those of the local run on the same lines.
    expect(sql(db, 'SELECT count(*) AS n FROM customer_metrics')).toEqual(sql(localDb, 'SELECT count(*) AS n FROM customer_metrics'));
  });
});

describe('crm run --source with spend at the Gamma-Gamma\'s homogeneous-spend limit', () => {
  it('scores every customer at the population mean p/ν on the cluster too: crm_customer_metrics equals the local run\'s customer_metrics', async () => {
    // test/run/spend-limit.test.ts's data: one ν for all, seed 3, whose maximum is at q → ∞.
    const sim = homogeneousSpendSimulation();
    const local = await createStore(sim.csv, 'crm-source-spend-limit-');
    try {
      const s = await Store.open(local.db, { readOnly: true });
      try {
        await ch.run(DDL('default.homogeneous_lines'));
        await copyFromDuckDb(s, 'SELECT customer_id, order_id, order_date, amount, CAST(is_return AS INTEGER), cost FROM transactions', ch, 'default.homogeneous_lines', COLUMNS);
      } finally {
        s.close();
      }
      const localRun = run(local.db, ['run', '--as-of', '2023-12-31', '--json']);
      expect(localRun.code, localRun.stderr).toBe(0);
      const clusterDb = path.join(tempDir('crm-source-spend-limit-run-'), 'cluster.duckdb');
      const clusterRun = run(clusterDb, ['run', '--source', `clickhouse://127.0.0.1:${port}/default.homogeneous_lines`, '--as-of', '2023-12-31', '--json']);
      expect(clusterRun.code, clusterRun.stderr).toBe(0);
      const [a, b] = [JSON.parse(localRun.stdout).gamma_gamma, JSON.parse(clusterRun.stdout).gamma_gamma];
      for (const gg of [a, b]) expect(gg).toMatchObject({ spend_model: 'homogeneous_spend', boundary: 'homogeneous_spend', q: null, v: null, converged: true });
      expect(closeRelative(a.population_mean, b.population_mean)).toBe(true);
      // Every customer of the cluster run at the population mean (the rule's limit branch, gg_nu bound).
      const values = sql<{ n: number; lo: number; hi: number }>(clusterDb, 'SELECT count(*) AS n, min(expected_order_value) AS lo, max(expected_order_value) AS hi FROM customer_metrics');
      expect(values).toEqual([{ n: 600, lo: b.population_mean, hi: b.population_mean }]);
      // The cluster's rows, computed there from the per-history scores, against the run's own and the local run's.
      await expectClusterMetricsEqual(clusterDb, 1, 1);
      await expectClusterMetricsEqual(local.db, 1, 1);
    } finally {
      local.cleanup();
    }
  });
});
