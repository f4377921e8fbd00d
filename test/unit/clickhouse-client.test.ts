/**
 * The ClickHouse HTTP client (src/store/clickhouse.ts) against a real throwaway server
 * (test/helpers/clickhouse-server.ts): values bound by the one quoting function round-trip
 * exactly (property tests), rows read exactly, errors carry the project's exit codes, and
 * credentials never come from a URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bindValues, chDate, chDecimal, ClickHouseClient, connectionFrom, quoteString } from '../../src/store/clickhouse.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';
import { freePort, startClickHouse, type ClickHouseTestServer } from '../helpers/clickhouse-server.js';

let server: ClickHouseTestServer;
let ch: ClickHouseClient;
beforeAll(async () => {
  server = await startClickHouse();
  ch = new ClickHouseClient({ url: server.url });
}, 60_000);
afterAll(async () => server?.stop());

async function exitCodeOf(promise: Promise<unknown>): Promise<number | string> {
  try {
    await promise;
    return 'no error';
  } catch (err) {
    return err instanceof CrmError ? err.exitCode : `not a CrmError: ${String(err)}`;
  }
}

describe('values bound into ClickHouse SQL round-trip exactly', () => {
  it('any well-formed string (quotes, backslashes, NUL, newlines, tabs, any code point)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => Buffer.from(s).toString() === s), async (text) => {
        const [row] = await ch.rows('SELECT {v:String} AS v, length({v:String}) AS bytes', { v: text });
        expect(row.v).toBe(text);
        expect(row.bytes).toBe(BigInt(Buffer.byteLength(text)));
      }),
      { numRuns: 150 },
    );
  });

  it('strings made of the characters that could break a literal', async () => {
    const nasty = fc.array(fc.constantFrom("'", '\\', '\0', '\n', '\t', '\r', '`', '"', '{', '}', '--', ';', '\\x27', 'é', '中', '😀'), { maxLength: 12 }).map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(nasty, async (text) => {
        const [row] = await ch.rows('SELECT {v:String} AS v', { v: text });
        expect(row.v).toBe(text);
      }),
      { numRuns: 100 },
    );
  });

  it('any finite double, any 64-bit integer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), async (x, n) => {
        const [row] = await ch.rows('SELECT {x:Float64} AS x, {n:Int64} AS n', { x, n });
        expect(Object.is(row.x, x) || row.x === x).toBe(true);
        expect(row.n).toBe(n);
      }),
      { numRuns: 150 },
    );
  });

  it('any date 1970-01-02 … 2104 (18.16 writes day 0, 1970-01-01, as 0000-00-00) and any Decimal(18, 4)', async () => {
    const day = fc.integer({ min: 1, max: 49_000 }).map((d) => new Date(d * 86_400_000).toISOString().slice(0, 10));
    const decimal = fc.bigInt({ min: -(10n ** 18n) + 1n, max: 10n ** 18n - 1n }).map((units) => {
      const sign = units < 0n ? '-' : '';
      const digits = (units < 0n ? -units : units).toString().padStart(5, '0');
      return `${sign}${digits.slice(0, -4)}.${digits.slice(-4)}`;
    });
    await fc.assert(
      fc.asyncProperty(day, decimal, async (d, m) => {
        const [row] = await ch.rows('SELECT {d:Date} AS d, {m:Decimal(18, 4)} AS m, toString({m:Decimal(18, 4)}) AS t', { d: chDate(d), m: chDecimal(m) });
        expect(row.d).toBe(d);
        expect(row.m).toBe(m.replace(/^-(0\.0000)$/, '$1'));
        expect(row.t).toBe(row.m);
      }),
      { numRuns: 100 },
    );
  });

  it('NULL as a Nullable type; booleans as 0/1', async () => {
    const [row] = await ch.rows('SELECT {a:Nullable(String)} AS a, {b:UInt8} AS b', { a: null, b: true });
    expect(row).toEqual({ a: null, b: 1 });
  });

  it('the quoting: a quote or backslash is escaped and control characters become \\xHH', () => {
    expect(quoteString("it's a \\ test\n\0")).toBe("'it\\'s a \\\\ test\\x0a\\x00'");
    expect(() => quoteString('\ud800')).toThrow(/well-formed/);
    expect(() => quoteString('x\udc00')).toThrow(/well-formed/);
    expect(quoteString('😀')).toBe("'😀'");
  });

  it('a placeholder without a value, a value without a placeholder, a non-finite number or a bad date are refused before sending', () => {
    expect(() => bindValues('SELECT {a:String}', {})).toThrow(/no value for ClickHouse parameter \{a:String\}/);
    expect(() => bindValues('SELECT 1', { a: 'x' })).toThrow(/not in the query: a/);
    expect(() => bindValues('SELECT {a:Float64}', { a: Infinity })).toThrow(/not a finite number/);
    expect(() => bindValues('SELECT {a:Decimal(18, 4)}', { a: 0.1 })).toThrow(/needs an exact value/);
    expect(() => bindValues('SELECT {a:Date}', { a: chDate('2024-1-1') })).toThrow(/not a date/);
    expect(() => bindValues('SELECT {a:Decimal(18, 4)}', { a: chDecimal('1e5') })).toThrow(/not a decimal/);
  });
});

describe('reading rows, inserting, errors', () => {
  it('bulk insert (CSV and TabSeparated) and exact reads: decimals as text, dates as text, NULLs', async () => {
    await ch.run('CREATE TABLE lines (id String, note Nullable(String), day Date, amount Decimal(18, 4)) ENGINE = MergeTree ORDER BY id');
    await ch.insert('lines', ['id', 'note', 'day', 'amount'], 'CSV', 'a,"say ""hi"", twice",2024-01-31,99999999999999.9999\nb,\\N,2024-02-29,-0.0001\n');
    await ch.insert('lines', ['id', 'note', 'day', 'amount'], 'TabSeparated', 'c\ttab\\there\t2024-03-01\t1.5\n');
    expect(await ch.rows('SELECT id, note, day, amount FROM lines ORDER BY id')).toEqual([
      { id: 'a', note: 'say "hi", twice', day: '2024-01-31', amount: '99999999999999.9999' },
      { id: 'b', note: null, day: '2024-02-29', amount: '-0.0001' },
      { id: 'c', note: 'tab\there', day: '2024-03-01', amount: '1.5000' },
    ]);
    expect(await ch.rows('SELECT sum(amount) AS total FROM lines')).toEqual([{ total: '100000000000001.4998' }]);
    expect(await ch.jsonRows('SELECT id FROM lines WHERE id = {id:String}', { id: 'b' })).toEqual([{ id: 'b' }]);
  });

  it('compress: bulk inserts and downloads travel gzipped (fewer bytes on the wire), the same rows; a refused query is still exit 6', async () => {
    const zipped = new ClickHouseClient({ url: server.url, compress: true });
    await ch.run('CREATE TABLE zipped (id String, note Nullable(String), amount Decimal(18, 4)) ENGINE = MergeTree ORDER BY id');
    const rows = Array.from({ length: 2000 }, (_, i) => `C${String(i).padStart(7, '0')},${i % 3 === 0 ? '\\N' : `"note ""${i % 7}"", here"`},${i}.${String(i % 10000).padStart(4, '0')}\n`).join('');
    const sent = await zipped.insert('zipped', ['id', 'note', 'amount'], 'CSV', rows);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(Buffer.byteLength(rows) / 3);
    const dir = mkdtempSync(path.join(tmpdir(), 'crm-ch-gzip-'));
    try {
      const [plainFile, zippedFile] = [path.join(dir, 'plain.csv'), path.join(dir, 'zipped.csv')];
      const select = 'SELECT id, note, amount FROM zipped WHERE amount >= {min:Decimal(18, 4)} ORDER BY id';
      const plainBytes = await ch.download(select, { min: chDecimal('0') }, plainFile);
      const wireBytes = await zipped.download(select, { min: chDecimal('0') }, zippedFile);
      expect(readFileSync(zippedFile, 'utf8')).toBe(readFileSync(plainFile, 'utf8'));
      expect(plainBytes).toBe(statSync(plainFile).size);
      expect(readFileSync(plainFile, 'utf8').split('\n').length).toBe(2002);
      expect(wireBytes).toBeLessThan(plainBytes / 3);
      expect(await exitCodeOf(zipped.download('SELECT nope FROM zipped', {}, zippedFile))).toBe(ExitCode.query);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a SQL error is a query error (exit 6) with the server message; an unreachable server an input error (exit 3, as issue #13 says) naming the URL', async () => {
    expect(await exitCodeOf(ch.rows('SELECT * FROM no_such_table'))).toBe(ExitCode.query);
    await expect(ch.rows('SELECT * FROM no_such_table')).rejects.toThrow(/refused the query: Code: 60.*no_such_table/s);
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const closed = new ClickHouseClient({ url: nobody });
    expect(await exitCodeOf(closed.rows('SELECT 1'))).toBe(ExitCode.input);
    await expect(closed.rows('SELECT 1')).rejects.toThrow(`cannot reach ClickHouse at ${nobody}: ECONNREFUSED`);
  });

  it('the connection\'s database is where unqualified names resolve', async () => {
    const shard = new ClickHouseClient({ url: server.url, database: 'shard1' });
    await shard.run('CREATE TABLE here (n UInt8) ENGINE = Memory');
    await shard.insert('here', ['n'], 'TabSeparated', '7\n');
    expect(await ch.rows("SELECT database, name FROM system.tables WHERE name = 'here'")).toEqual([{ database: 'shard1', name: 'here' }]);
    expect(await shard.rows('SELECT n FROM here')).toEqual([{ n: 7 }]);
  });

  it('wrong credentials are an input error (exit 3)', async () => {
    const stranger = new ClickHouseClient({ url: server.url, user: 'nobody', password: 'x' });
    expect(await exitCodeOf(stranger.rows('SELECT 1'))).toBe(ExitCode.input);
  });
});

describe('the throwaway test server', () => {
  it('a missing clickhouse-server fails the tests with the command to install it (never skips)', async () => {
    await expect(startClickHouse(['/nonexistent/clickhouse-server'])).rejects.toThrow(/clickhouse-server is not installed.*apt-get install clickhouse-server clickhouse-client/s);
  });
});

describe('credentials come from the config and the environment, never the URL', () => {
  it('user and password from the environment (password variable named by the config)', () => {
    expect(connectionFrom({ url: 'http://ch.example:8123/' }, { CRM_CLICKHOUSE_USER: 'crm', CRM_CLICKHOUSE_PASSWORD: 's3cret' })).toEqual({
      url: 'http://ch.example:8123', database: undefined, user: 'crm', password: 's3cret',
    });
    expect(connectionFrom({ url: 'https://ch.example', database: 'sales', user: 'analyst', passwordEnv: 'SALES_CH_PASSWORD' }, { SALES_CH_PASSWORD: 'p' })).toEqual({
      url: 'https://ch.example', database: 'sales', user: 'analyst', password: 'p',
    });
  });

  it('a URL carrying a user or password is refused (exit 2); so is a non-HTTP URL', () => {
    expect(() => connectionFrom({ url: 'http://crm:s3cret@ch.example:8123' }, {})).toThrow(/must not carry a user or password/);
    expect(() => connectionFrom({ url: 'clickhouse://ch.example:9000' }, {})).toThrow(/not a ClickHouse HTTP URL/);
    const refused = (() => {
      try {
        connectionFrom({ url: 'http://crm@ch.example' }, {});
        return 'no error';
      } catch (err) {
        return (err as CrmError).exitCode;
      }
    })();
    expect(refused).toBe(ExitCode.usage);
  });
});
