/**
 * cancelSourceStatements when the server will not cancel (issue #13): a server that refuses KILL
 * QUERY while the run's statements still run gets one line saying what may stay and when the
 * stale-table sweep drops it; with nothing running, no line. Either way no new statement of the
 * run is sent afterwards, and every statement carried a query_id under the run's prefix. A fake
 * server (the real 18.16 lets a user kill its own queries, so it never refuses crm's).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelSourceStatements, resolveSource } from '../../src/run/source.js';

let server: Server;
let url: string;
let running = 0;
const seen: { queryId: string | null; sql: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ queryId: new URL(req.url ?? '/', 'http://x').searchParams.get('query_id'), sql: body });
      if (body.startsWith('KILL QUERY')) {
        res.statusCode = 500;
        return res.end('Code: 164, e.displayText() = DB::Exception: Readonly user crm attempts to kill query created by etl, e.what() = DB::Exception\n');
      }
      if (body.includes('system.processes')) return res.end(`n\nUInt64\n${running}\n`);
      res.end('');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a server that refuses KILL QUERY', () => {
  it('with two of the run\'s statements still running: one line naming the staged table and when the sweep drops it', async () => {
    running = 2;
    seen.length = 0;
    const source = resolveSource(`clickhouse://${url}/db.lines`);
    await source.main.client.run('SELECT 1');
    source.staged = [{ target: source.main, table: 'db.crm_run_sums_1796680000_deadbeef' }];
    const lines: string[] = [];
    await cancelSourceStatements(source, (line) => lines.push(line));
    // Created at 1796680000 s; stale after an hour (the default timeout's 12 × 300 s is shorter).
    const sweep = new Date((1796680000 + 3600) * 1000).toISOString().slice(0, 16).replace('T', ' ');
    expect(lines).toEqual([
      `ClickHouse at http://${url} refused to cancel this run's statements (KILL QUERY: Code: 164, e.displayText() = DB::Exception: Readonly user crm attempts to kill query created by etl, e.what() = DB::Exception): a statement of this run still running there may finish after the drop and leave db.crm_run_sums_1796680000_deadbeef; the first source run after ${sweep} UTC drops it.`,
    ]);
    const prefix = source.main.client.connection.queryIds.prefix;
    expect(prefix).toMatch(/^crm_[0-9a-f]{12}_q$/);
    expect(seen[0]).toEqual({ queryId: `${prefix}1`, sql: 'SELECT 1' });
    // The KILL and the wait: outside the prefix they kill, and naming it. Not known to read no
    // Distributed table (no source check): only the shard queries are killed (the 18.16 deadlock, QueryIds.direct).
    expect(seen[1].sql).toContain(`KILL QUERY WHERE startsWith(initial_query_id, CAST('${prefix}' AS String)) AND NOT startsWith(query_id, CAST('${prefix}' AS String)) ASYNC`);
    expect(seen.slice(1).every((s) => s.queryId !== null && !s.queryId.startsWith(prefix))).toBe(true);
    // Nothing new of the run after the cancel.
    const before = seen.length;
    await expect(source.main.client.run('SELECT 2')).rejects.toThrow(/being stopped/);
    expect(seen.length).toBe(before);
  }, 30_000);

  it('a run known to read no Distributed table: KILL names its statements themselves', async () => {
    running = 0;
    seen.length = 0;
    const source = resolveSource(`clickhouse://${url}/db.lines`);
    source.main.client.connection.queryIds.direct = true;
    const prefix = source.main.client.connection.queryIds.prefix;
    await cancelSourceStatements(source, () => undefined);
    expect(seen[0].sql).toContain(`KILL QUERY WHERE startsWith(query_id, CAST('${prefix}' AS String)) OR startsWith(initial_query_id, CAST('${prefix}' AS String)) ASYNC`);
  });

  it('with nothing of the run running: no line', async () => {
    running = 0;
    const source = resolveSource(`clickhouse://${url}/db.lines`);
    source.staged = [{ target: source.main, table: 'db.crm_run_sums_1796680000_deadbeef' }];
    const lines: string[] = [];
    await cancelSourceStatements(source, (line) => lines.push(line));
    expect(lines).toEqual([]);
  });
});
