/**
 * `crm run --source`'s source resolution (run/source.ts) and the client's retries of reads
 * (store/clickhouse.ts): fast, without a ClickHouse server (a plain HTTP server stands in for
 * the dropped connection).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSourceUrl, resolveSource, sourceMapping } from '../../src/run/source.js';
import { ClickHouseClient } from '../../src/store/clickhouse.js';

describe('sourceMapping (--map for a source)', () => {
  it('takes sources.NAME.map, then --map flags winning per field; the other fields keep their names', () => {
    expect(sourceMapping({ customer_id: 'client', amount: 'old' }, ['amount=amt', 'order_date = day'])).toEqual({ customer_id: 'client', amount: 'amt', order_date: 'day' });
    const source = resolveSource('w', { sources: { w: { url: 'clickhouse://h:1/a.b', map: { customer_id: 'client' } } } }, {}, ['is_return=ret']);
    expect(source.columns).toEqual({ customer_id: 'client', order_id: 'order_id', order_date: 'order_date', amount: 'amount', is_return: 'ret', cost: 'cost' });
    expect(source.mapped).toEqual({ customer_id: 'client', is_return: 'ret' });
  });

  it('refuses other fields, names that are not plain identifiers, a field mapped twice and a bad flag (exit 2)', () => {
    for (const [configured, flags, message] of [
      [undefined, ['channel=ch'], /reads only customer_id, .*"channel"/],
      [undefined, ['amount=amt`; DROP'], /not a ClickHouse column name/],
      [{ amount: 'a b' }, [], /sources map amount=a b: "a b" is not a ClickHouse column name/],
      [undefined, ['amount=a', 'amount=b'], /--map gives amount twice/],
      [undefined, ['amount'], /expected field=column/],
    ] as const) {
      expect(() => sourceMapping(configured, [...flags]), String(flags)).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(message) }));
    }
  });
});

describe('parseSourceUrl', () => {
  it('reads clickhouse://HOST:PORT/DATABASE.TABLE (port 8123 by default)', () => {
    expect(parseSourceUrl('clickhouse://db.example.com:9123/sales.lines')).toEqual({
      http: 'http://db.example.com:9123',
      database: 'sales',
      table: 'lines',
      label: 'clickhouse://db.example.com:9123/sales.lines',
    });
    expect(parseSourceUrl('clickhouse://warehouse/sales.lines').http).toBe('http://warehouse:8123');
  });

  it('refuses credentials, other schemes and other paths (exit 2)', () => {
    for (const bad of ['clickhouse://me:pw@h:1/a.b', 'clickhouse://me@h:1/a.b', 'http://h:1/a.b', 'clickhouse://h:1/a', 'clickhouse://h:1/a.b?password=x', 'clickhouse://h:1/a.b;DROP']) {
      expect(() => parseSourceUrl(bad), bad).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
    expect(() => parseSourceUrl('clickhouse://me:pw@h:1/a.b')).toThrow(/must not carry a user or password/);
  });
});

describe('resolveSource', () => {
  const config = {
    sources: {
      warehouse: { url: 'clickhouse://h:1/sales.lines', user: 'analyst', password_env: 'WAREHOUSE_PW', timeout_seconds: 7, retries: 4 },
      sharded: { url: 'clickhouse://h:1/sales.lines', shards: ['clickhouse://s1:2/sales.lines_local', 'clickhouse://s2:2/sales.lines_local'] },
    },
  };

  it('a named entry: user, the password from the variable it names, timeout and retries', () => {
    const source = resolveSource('warehouse', config, { WAREHOUSE_PW: 'pw' });
    expect(source.label).toBe('clickhouse://h:1/sales.lines');
    expect(source.targets).toEqual([source.main]);
    expect(source.main.client.connection).toMatchObject({ url: 'http://h:1', user: 'analyst', password: 'pw', timeoutMs: 7000, retries: 4 });
  });

  it('shards: the summary runs on each shard table', () => {
    const source = resolveSource('sharded', config, {});
    expect(source.targets.map((t) => [t.client.connection.url, t.table])).toEqual([
      ['http://s1:2', 'sales.lines_local'],
      ['http://s2:2', 'sales.lines_local'],
    ]);
    expect(source.main.client.connection.retries).toBe(2);
  });

  it('an unknown name, or a password variable that is not set: exit 2', () => {
    expect(() => resolveSource('nowhere', config, {})).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => resolveSource('warehouse', config, {})).toThrow(/WAREHOUSE_PW .* is not set/);
  });
});

describe('ClickHouse client retries', () => {
  let server: Server;
  let url: string;
  let requests = 0;
  /** Drops the connection of every odd request, answers the even ones with one TSV row. */
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      req.resume();
      if (requests % 2 === 1) return req.socket.destroy();
      res.end('n\nUInt8\n1\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a read is retried after a dropped connection', async () => {
    requests = 0;
    expect(await new ClickHouseClient({ url, retries: 1 }).rows('SELECT 1 AS n')).toEqual([{ n: 1 }]);
    expect(requests).toBe(2);
  });

  it('without retries, or for a write, the dropped connection is exit 3', async () => {
    requests = 0;
    await expect(new ClickHouseClient({ url, retries: 0 }).rows('SELECT 1 AS n')).rejects.toMatchObject({ exitCode: 3 });
    requests = 0;
    await expect(new ClickHouseClient({ url, retries: 3 }).run('INSERT INTO t VALUES (1)')).rejects.toThrow(/cannot reach ClickHouse/);
    expect(requests).toBe(1);
  });
});
