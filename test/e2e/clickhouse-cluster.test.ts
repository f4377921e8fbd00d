/**
 * scripts/clickhouse-cluster.sh (issue #13 §2): two clickhouse-server processes as a two-shard
 * cluster on loopback, tables created and a generated data set loaded; `crm run --source` on it
 * gives the run of the same lines in a local store — through the Distributed table and on each
 * server's own table (`shards`, whose per-customer sums are staged on each server and read back
 * through a Distributed table over them) — and leaves no staged table on either server; stop ends
 * both servers and removes the folder.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crm, ROOT, sql, tempDir } from '../helpers/cli.js';

const SCRIPT = path.join(ROOT, 'scripts/clickhouse-cluster.sh');
const dir = path.join(tempDir('crm-cluster-'), 'cluster');

function cluster(...args: string[]) {
  const r = spawnSync('bash', [SCRIPT, ...args], { env: { ...process.env, CRM_CLICKHOUSE_CLUSTER_DIR: dir }, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Running: the process exists and is not a zombie waiting for its parent (init) to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
}

const CUSTOMERS = 'SELECT customer_id, rfm_segment, value_tier, churn_tier, abc_class FROM customer_metrics ORDER BY customer_id';

describe('scripts/clickhouse-cluster.sh', () => {
  // Stops what it started, even when a test fails.
  afterAll(() => {
    if (fs.existsSync(dir)) cluster('stop');
  });

  it('start → crm run --source → stop', async () => {
    const started = cluster('start', '--customers', '150');
    expect(started.code, started.stderr).toBe(0);
    const env = Object.fromEntries(started.stdout.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
    expect(env.SOURCE).toMatch(/^clickhouse:\/\/127\.0\.0\.1:\d+\/crm\.transactions$/);
    const pids = [Number(env.PID1), Number(env.PID2)];
    expect(pids.every(alive)).toBe(true);

    // Both shards hold lines (split by customer), and together all of the store's.
    const status = cluster('status');
    expect(status.code).toBe(0);
    const perShard = [...status.stdout.matchAll(/shard on \d+: (\d+) lines/g)].map((m) => Number(m[1]));
    expect(perShard).toHaveLength(2);
    expect(perShard.every((n) => n > 0)).toBe(true);
    expect(perShard[0] + perShard[1]).toBe(sql<{ n: number }>(env.STORE, 'SELECT count(*) AS n FROM transactions')[0].n);

    const clusterDb = path.join(tempDir('crm-cluster-run-'), 'run.duckdb');
    const fromCluster = crm(['--db', clusterDb, 'run', '--source', env.SOURCE, '--json']);
    expect(fromCluster.code, fromCluster.stderr).toBe(0);
    const local = crm(['--db', env.STORE, 'run', '--json']);
    expect(local.code, local.stderr).toBe(0);
    expect(JSON.parse(fromCluster.stdout).summary).toEqual(JSON.parse(local.stdout).summary);
    expect(sql(clusterDb, CUSTOMERS)).toEqual(sql(env.STORE, CUSTOMERS));

    // On each server's own table: the same customers, and crm_customer_metrics has every one.
    const config = path.join(path.dirname(clusterDb), 'crm.config.json');
    const shards = [env.HTTP1, env.HTTP2].map((p) => `clickhouse://127.0.0.1:${p}/crm.transactions_local`);
    fs.writeFileSync(config, JSON.stringify({ sources: { sharded: { url: env.SOURCE, shards } } }));
    const shardedDb = path.join(path.dirname(clusterDb), 'sharded.duckdb');
    const sharded = crm(['--db', shardedDb, '--config', config, 'run', '--source', 'sharded', '--json']);
    expect(sharded.code, sharded.stderr).toBe(0);
    expect(sql(shardedDb, CUSTOMERS)).toEqual(sql(env.STORE, CUSTOMERS));
    const ask = async (port: string, query: string) => (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: query })).text();
    expect(Number(await ask(env.HTTP1, 'SELECT count() FROM crm.crm_customer_metrics WHERE run_id = 1'))).toBe(sql(shardedDb, 'SELECT count(*) AS n FROM customer_metrics')[0].n);
    for (const port of [env.HTTP1, env.HTTP2]) expect(await ask(port, "SELECT count() FROM system.tables WHERE startsWith(name, 'crm_run_sums_')"), port).toBe('0\n');

    const stopped = cluster('stop');
    expect(stopped.code).toBe(0);
    expect(pids.some(alive)).toBe(false);
    expect(fs.existsSync(dir)).toBe(false);
    expect(cluster('status').code).toBe(3);
  }, 180_000);
});
