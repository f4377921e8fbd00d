/**
 * A throwaway ClickHouse server for a test file: Debian's clickhouse-server run as a plain child
 * process with its own config, data folder (a temp directory) and free loopback ports — no root
 * service, no ZooKeeper. Start it in beforeAll, stop it in afterAll (the folder goes with it).
 *
 * The config declares a cluster `two_shards`: two shards on this one server, told apart by their
 * default database (shard1, shard2), so a `Distributed(two_shards, '', table, key)` table spreads
 * rows over both databases' `table` — sharding without a second process.
 *
 * A missing clickhouse-server FAILS (never skips): `npm test`'s pretest installs it
 * (scripts/install-system-deps.sh).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where clickhouse-server is: $CRM_CLICKHOUSE_SERVER (as scripts/install-system-deps.sh reads it), else Debian's path. */
const SERVER_BINARIES = [process.env.CRM_CLICKHOUSE_SERVER ?? '/usr/sbin/clickhouse-server'];

export interface ClickHouseTestServer {
  /** http://127.0.0.1:PORT */
  url: string;
  tcpPort: number;
  stop(): Promise<void>;
}

/** A loopback port nothing listens on (now). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function configXml(dir: string, httpPort: number, tcpPort: number): string {
  const replica = (db: string) => `<shard><replica><host>127.0.0.1</host><port>${tcpPort}</port><default_database>${db}</default_database></replica></shard>`;
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>error</level><console>1</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <timezone>UTC</timezone>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <remote_servers><two_shards>${replica('shard1')}${replica('shard2')}</two_shards></remote_servers>
</yandex>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles><default></default><reader><readonly>2</readonly></reader></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <!-- May read and change settings, not write (readonly=2): the user of a warehouse that refuses the write back. -->
    <reader><password></password><networks><ip>127.0.0.1</ip></networks><profile>reader</profile><quota>default</quota></reader>
  </users>
  <quotas><default></default></quotas>
</yandex>
`;

async function ping(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/ping`);
    return response.ok;
  } catch {
    return false;
  }
}

/** `binaries`: where to look for clickhouse-server (a test of the missing-server message passes none that exist). */
export async function startClickHouse(binaries: readonly string[] = SERVER_BINARIES): Promise<ClickHouseTestServer> {
  const binary = binaries.find((candidate) => existsSync(candidate));
  if (!binary) {
    throw new Error(
      'clickhouse-server is not installed: the ClickHouse tests need it. `npm test` installs it when run as root ' +
        '(scripts/install-system-deps.sh); otherwise run: sudo apt-get install clickhouse-server clickhouse-client',
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-clickhouse-'));
  const httpPort = await freePort();
  let tcpPort = await freePort();
  while (tcpPort === httpPort) tcpPort = await freePort();
  writeFileSync(path.join(dir, 'config.xml'), configXml(dir, httpPort, tcpPort));
  writeFileSync(path.join(dir, 'users.xml'), USERS_XML);
  const url = `http://127.0.0.1:${httpPort}`;
  let output = '';
  const child: ChildProcess = spawn(binary, [`--config-file=${path.join(dir, 'config.xml')}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // Throwaway: nothing in it is kept, so no graceful shutdown (SIGTERM waits seconds for queries and merges).
      child.kill('SIGKILL');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 300; attempt++) {
    if (await ping(url)) {
      const create = async (db: string) => {
        const response = await fetch(url, { method: 'POST', body: `CREATE DATABASE IF NOT EXISTS ${db}` });
        if (!response.ok) throw new Error(`cannot create ${db}: ${await response.text()}`);
      };
      await create('shard1');
      await create('shard2');
      return { url, tcpPort, stop };
    }
    if (exited) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`clickhouse-server did not start on ${url}:\n${output.slice(-2000)}`);
}
