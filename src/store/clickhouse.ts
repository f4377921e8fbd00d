/**
 * A minimal ClickHouse client over HTTP (Node's built-in http; no driver dependency): the
 * foundation of running the heavy, set-based SQL where the transactions live (issue #13).
 *
 * - Values reach the server as literals written by ONE function, `quoteString` (ClickHouse 18.16,
 *   Debian's, has no server-side query parameters). A query names its values `{name:Type}` —
 *   the syntax of newer servers' query parameters — and each becomes `CAST('<text>' AS Type)`:
 *   the value travels as quoted text and the server parses it as the declared type, so no number,
 *   date or decimal is ever spliced unquoted. Property tests (test/unit/clickhouse-quote.test.ts)
 *   round-trip arbitrary strings, numbers, dates and decimals through a real server.
 * - Rows are read as TabSeparatedWithNamesAndTypes: decimals and 64-bit integers arrive as text
 *   and stay exact (JSONEachRow, also offered, writes decimals as bare JSON numbers).
 * - Credentials come from the environment or the config file (an env var's name), never from the
 *   URL or the command line, and are never stored: `connectionFrom` refuses a URL with a user or
 *   password in it.
 * - Errors: an unreachable server is an input error (exit 3, as issue #13 names it: the source
 *   asked for cannot be used) naming the URL; refused credentials likewise (exit 3); a refused
 *   statement is a query error (exit 6) with the server's message.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { inputError, messageOf, queryError, usageError } from '../util/errors.js';

export interface ClickHouseConnection {
  /** http(s)://host:port — no user or password in it. */
  url: string;
  database?: string;
  user?: string;
  password?: string;
  /** Per request; default 5 minutes. */
  timeoutMs?: number;
  /** Retries of idempotent reads (rows, download) after a dropped connection or a timeout; default 0. Writes are never retried. */
  retries?: number;
  /** ClickHouse settings sent with every request (URL parameters), e.g. insert_distributed_sync. */
  settings?: Record<string, string | number>;
  /**
   * gzip on the wire for the bulk transfers (`download`, `insert`): HTTP compression, which
   * 18.16 has (responses: enable_http_compression, a setting a readonly=1 user may not change —
   * such a user cannot write crm_customer_metrics either; request bodies: Content-Encoding: gzip).
   */
  compress?: boolean;
  /**
   * Where each statement's query_id comes from. The clients of one crm run share one (resolveSource),
   * so `KILL QUERY` can find all of the run's statements on every server; a client given none gets
   * its own.
   */
  queryIds?: QueryIds;
}

/**
 * The query_id (HTTP parameter) of every statement a client sends: `crm_<12 hex>_q<n>`, unique
 * per statement, with a prefix per run, so the run's statements can be found in
 * system.processes and cancelled there — a stopped HTTP client does not stop a statement in
 * ClickHouse 18.16 (a `CREATE … AS SELECT` or a GROUP BY runs on to the end). The cancelling
 * statements themselves (KILL QUERY, the wait, the DROPs after it) are `crm_<hex>_c<n>`: outside
 * the prefix they kill. After `stop()` no new statement of the run is sent (it fails at once):
 * a run being cancelled starts nothing the cancel could miss.
 */
export class QueryIds {
  /** Every query_id of the run's statements starts with this. */
  readonly prefix: string;
  private readonly cleanupPrefix: string;
  private sent = 0;
  private stopped = false;
  /**
   * Whether KILL QUERY may name the run's statements themselves (set once the source check knows
   * none of them reads a Distributed table). Else only their shard queries are killed: on 18.16,
   * KILL of a query reading a Distributed table, sent after it sent its query to a shard and
   * before that shard query registered, holds the process-list mutex while it waits on the
   * shard connection; when the shard is the same server (a loopback shard), the shard query
   * waits for that mutex to register, and the server freezes for good (issue #13).
   */
  direct = false;

  constructor(token: string = randomBytes(6).toString('hex')) {
    this.prefix = `crm_${token}_q`;
    this.cleanupPrefix = `crm_${token}_c`;
  }

  /** The next statement's query_id; refused once the run is being cancelled. */
  next(): string {
    if (this.stopped) throw inputError('the run is being stopped: no new statement is sent to ClickHouse');
    return `${this.prefix}${++this.sent}`;
  }

  /** A query_id for a statement that cancels or cleans up (never matched by `prefix`, never refused). */
  cleanup(): string {
    return `${this.cleanupPrefix}${++this.sent}`;
  }

  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

/** What `cancelRunning` did: why KILL QUERY was refused (if the server refused it), and how many statements still ran after the wait. */
export interface Cancelled {
  /** -1: not known (the server did not answer). */
  left: number;
  refused?: string;
}

/** Where a config entry (crm.config.json `sources.NAME`) says the connection's secrets are. */
export interface ClickHouseSourceConfig {
  url: string;
  database?: string;
  user?: string;
  /** The environment variable holding the password (default CRM_CLICKHOUSE_PASSWORD). */
  passwordEnv?: string;
}

/**
 * A connection from a config entry and the environment: user from the entry or
 * $CRM_CLICKHOUSE_USER, password from the environment variable the entry names (default
 * $CRM_CLICKHOUSE_PASSWORD). A URL carrying credentials is refused (exit 2): they would end up
 * in shell history, process lists and the store's run parameters.
 */
export function connectionFrom(source: ClickHouseSourceConfig, env: NodeJS.ProcessEnv = process.env): ClickHouseConnection {
  let parsed: URL;
  try {
    parsed = new URL(source.url);
  } catch {
    throw usageError(`not a ClickHouse URL: ${source.url} (expected http://HOST:PORT)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usageError(`not a ClickHouse HTTP URL: ${source.url} (expected http:// or https://)`);
  if (parsed.username !== '' || parsed.password !== '') {
    throw usageError('a ClickHouse URL must not carry a user or password', [
      'put the user in crm.config.json (sources.NAME.user) or $CRM_CLICKHOUSE_USER,',
      'and the password in an environment variable (sources.NAME.passwordEnv, default CRM_CLICKHOUSE_PASSWORD)',
    ]);
  }
  const passwordVariable = source.passwordEnv ?? 'CRM_CLICKHOUSE_PASSWORD';
  return {
    url: `${parsed.protocol}//${parsed.host}`,
    database: source.database,
    user: source.user ?? env.CRM_CLICKHOUSE_USER,
    password: env[passwordVariable],
  };
}

/** A Date column's value, 'YYYY-MM-DD' (a distinct type: a date is never confused with a string). */
export interface ChDate {
  readonly date: string;
}
/** An exact decimal, as its text ('-12.3400'); never a JS number on the way. */
export interface ChDecimal {
  readonly decimal: string;
}
export type ChValue = string | number | bigint | boolean | null | ChDate | ChDecimal;
export const chDate = (iso: string): ChDate => ({ date: iso });
export const chDecimal = (text: string): ChDecimal => ({ decimal: text });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A ClickHouse string literal holding exactly `text` — THE one place values are quoted. Inside
 * single quotes ClickHouse reads backslash escapes, so backslash and quote are escaped, and every
 * control character is written as \xHH (a NUL, newline or tab can never end or bend the literal).
 * Text that is not well-formed Unicode (a lone surrogate) has no exact UTF-8 form: refused.
 */
export function quoteString(text: string): string {
  if (LONE_SURROGATE.test(text)) throw usageError('a value sent to ClickHouse is not well-formed Unicode (lone surrogate)');
  // eslint-disable-next-line no-control-regex
  return `'${text.replace(/[\\'\x00-\x1f\x7f]/g, (c) => (c === '\\' || c === "'" ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}'`;
}

/**
 * A double as its 8 bytes: 18.16 parses float TEXT inexactly (measured: '4.028327206150974e+167'
 * reads one ulp off, and '5e-324' is a syntax error as a literal), so a float travels as the hex
 * of its IEEE 754 bits (quoted like any text) and the server reinterprets them — bit-exact,
 * -0 and subnormals included.
 */
function floatBits(value: number): string {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleLE(value);
  return `reinterpretAsFloat64(unhex(${quoteString(bytes.toString('hex'))}))`;
}

/** The text a value travels as (then CAST to the declared type by the server). */
function valueText(name: string, type: string, value: Exclude<ChValue, null | number>): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? '1' : '0';
  if ('date' in value) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value.date)) throw usageError(`ClickHouse parameter {${name}} is not a date (YYYY-MM-DD): ${value.date}`);
    return value.date;
  }
  if (!/^-?\d+(\.\d+)?$/.test(value.decimal)) throw usageError(`ClickHouse parameter {${name}} is not a decimal: ${value.decimal}`);
  return value.decimal;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z][A-Za-z0-9_]*(?:\([A-Za-z0-9_, ']*\))?)\}/g;

/**
 * `sql` with each `{name:Type}` replaced by `CAST('<value as text>' AS Type)` (NULL:
 * `CAST(NULL AS Type)`, Type then Nullable(…)). Every placeholder needs a value, every value a
 * placeholder: a typo fails here, not on the server.
 */
export function bindValues(sql: string, params: Record<string, ChValue> = {}): string {
  const used = new Set<string>();
  const bound = sql.replace(PLACEHOLDER, (_match, name: string, type: string) => {
    if (!(name in params)) throw usageError(`no value for ClickHouse parameter {${name}:${type}}`);
    used.add(name);
    const value = params[name];
    if (value === null) return `CAST(NULL AS ${type})`;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw usageError(`ClickHouse parameter {${name}} is not a finite number: ${value}`);
      if (/Float(32|64)/.test(type)) return `CAST(${floatBits(value)} AS ${type})`;
      // Integers as their digits (exact); a fraction for a non-float type would be rounded on the way.
      if (!Number.isSafeInteger(value)) throw usageError(`ClickHouse parameter {${name}:${type}} needs an exact value: pass ${value} as chDecimal('…') or a bigint`);
      return `CAST(${quoteString(String(value))} AS ${type})`;
    }
    return `CAST(${quoteString(valueText(name, type, value))} AS ${type})`;
  });
  const unused = Object.keys(params).filter((name) => !used.has(name));
  if (unused.length > 0) throw usageError(`ClickHouse parameters not in the query: ${unused.join(', ')}`);
  return bound;
}

/** A row as read: strings, exact decimals as text, dates as 'YYYY-MM-DD', numbers, null. */
export type ChRow = Record<string, string | number | bigint | null>;

/** TabSeparated's escapes undone (\t, \n, \\, \', \0 … as ClickHouse writes them). */
const TSV_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0', a: '\x07', v: '\v' };
function unescapeTsv(field: string): string {
  return field.replace(/\\(x[0-9a-fA-F]{2}|.)/gs, (_m, c: string) => (c.length === 3 ? String.fromCharCode(parseInt(c.slice(1), 16)) : (TSV_ESCAPES[c] ?? c)));
}

/** A TSV field of `type` as a JS value: 8–32-bit integers and floats as numbers, 64-bit and wider integers as bigint, the rest as text. */
function fieldValue(field: string, type: string): string | number | bigint | null {
  const nullable = /^Nullable\((.*)\)$/.exec(type);
  if (nullable) return field === '\\N' ? null : fieldValue(field, nullable[1]);
  if (/^U?Int(8|16|32)$/.test(type)) return Number(field);
  if (/^U?Int(64|128|256)$/.test(type)) return BigInt(field);
  if (/^Float(32|64)$/.test(type)) return field === 'inf' ? Infinity : field === '-inf' ? -Infinity : field === 'nan' ? NaN : Number(field);
  return unescapeTsv(field);
}

/** Rows of a TabSeparatedWithNamesAndTypes body. */
export function parseTsvWithNamesAndTypes(body: string): ChRow[] {
  const lines = body.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length < 2) return [];
  const names = lines[0].split('\t').map(unescapeTsv);
  const types = lines[1].split('\t').map(unescapeTsv);
  return lines.slice(2).map((line) => {
    const fields = line.split('\t');
    const row: ChRow = {};
    names.forEach((name, i) => (row[name] = fieldValue(fields[i], types[i])));
    return row;
  });
}

/** How long a cancelled statement is waited for to leave system.processes (after a timeout, a failure or a signal). */
export const CANCEL_WAIT_MS = 10_000;
/** The longest one cancelling statement (KILL QUERY, the look at system.processes) is waited for. */
export const CANCEL_CALL_MS = 5_000;

/** ClickHouse's error code from its message ("Code: 60, e.displayText() = DB::Exception: …"). */
function errorCode(message: string): number | undefined {
  const m = /Code: (\d+)/.exec(message);
  return m ? Number(m[1]) : undefined;
}
/** Authentication failures (unknown user, wrong password): the store cannot be used, not a SQL error. */
const AUTH_CODES = new Set([192, 193, 194, 195, 516]);

export class ClickHouseClient {
  readonly connection: ClickHouseConnection & { queryIds: QueryIds };
  /** Statements sent by cleanup(): query ids outside the run's prefix, sent after the run is stopped. */
  private readonly cleaning: boolean;

  constructor(connection: ClickHouseConnection, cleaning = false) {
    this.connection = { ...connection, queryIds: connection.queryIds ?? new QueryIds() };
    this.cleaning = cleaning;
  }

  /**
   * The same connection for statements that cancel or clean up after the run (KILL QUERY, the
   * wait for it, DROP): sent even once the run is stopped, under query ids KILL QUERY of the run
   * does not match, and never waiting longer than `timeoutMs` (default: the connection's).
   */
  cleanup(timeoutMs?: number): ClickHouseClient {
    const timeout = Math.min(timeoutMs ?? Infinity, this.connection.timeoutMs ?? 300_000);
    return new ClickHouseClient({ ...this.connection, timeoutMs: timeout, retries: 0 }, true);
  }

  /**
   * Statements still running on this server cancelled: `KILL QUERY … ASYNC` (18.16 has it, as
   * every later release; a user may always kill its own queries, a readonly one only its own)
   * for the query ids starting with `prefix` — or the one query id `exact` — and the shard
   * queries they started (by initial_query_id); then system.processes asked until none is left,
   * at most `waitMs`. A refused KILL is reported, not thrown (and not waited for: system.processes
   * asked once): the caller says what that leaves.
   * `left`: the statements still running at the end (-1: the server did not say).
   */
  async cancelRunning(match: { prefix: string } | { exact: string }, waitMs: number): Promise<Cancelled> {
    // Each call short (a server that does not answer in 5 s ends the cancel: left -1), the whole bounded by waitMs.
    const client = this.cleanup(Math.min(Math.max(waitMs, 2000), CANCEL_CALL_MS));
    const [where, params] =
      'prefix' in match
        ? ['startsWith(query_id, {id:String}) OR startsWith(initial_query_id, {id:String})', { id: match.prefix }]
        : ['query_id = {id:String} OR initial_query_id = {id:String}', { id: match.exact }];
    // The shard queries only (query_id is 18.16's own, initial_query_id the run's): they read
    // local tables, so cancelling them waits on no shard connection; the Distributed query
    // reading them then fails by itself. The run's statements themselves only when `direct`.
    const kill = this.connection.queryIds.direct
      ? where
      : 'prefix' in match
        ? 'startsWith(initial_query_id, {id:String}) AND NOT startsWith(query_id, {id:String})'
        : 'initial_query_id = {id:String} AND query_id != {id:String}';
    const deadline = Date.now() + waitMs;
    for (;;) {
      // Again on every look: a shard query registered after the last KILL is caught by the next.
      try {
        await client.run(`KILL QUERY WHERE ${kill} ASYNC`, params);
      } catch (err) {
        // Not answered at all (exit 3: unreachable, no answer): nothing more to learn from this server.
        if ((err as { exitCode?: number }).exitCode !== 6) return { left: -1 };
        // Refused: nothing was told to stop, so nothing to wait for (one look: is anything running?).
        const left = await client.rows(`SELECT count() AS n FROM system.processes WHERE ${where}`, params).then((rows) => Number(rows[0]?.n ?? 0), () => -1);
        return { left, refused: messageOf(err) };
      }
      const left = await client.rows(`SELECT count() AS n FROM system.processes WHERE ${where}`, params).then((rows) => Number(rows[0]?.n ?? 0), () => -1);
      if (left <= 0 || Date.now() >= deadline) return { left };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The rows of a SELECT, exact (read as TabSeparatedWithNamesAndTypes). */
  async rows(sql: string, params?: Record<string, ChValue>): Promise<ChRow[]> {
    const query = `${bindValues(sql, params).trimEnd()}\nFORMAT TabSeparatedWithNamesAndTypes`;
    return parseTsvWithNamesAndTypes(await this.retried(() => this.request(query)));
  }

  /**
   * A SELECT's rows streamed into `file` as CSVWithNames (strings quoted, NULL as \N), for DuckDB
   * to read in bulk: no row passes through JS. A read: retried like `rows`. With `compress`, the
   * rows travel gzipped and are unpacked on the way into the file. Returns the bytes that crossed
   * the network (the gzip stream's, when compressed; the file's otherwise).
   */
  async download(sql: string, params: Record<string, ChValue>, file: string): Promise<number> {
    const query = `${bindValues(sql, params).trimEnd()}\nFORMAT CSVWithNames`;
    return this.retried(async () => {
      const response = await this.send(query, undefined, this.connection.compress ?? false);
      const wire = byteCounter();
      try {
        if (response.headers['content-encoding'] === 'gzip') await pipeline(response, wire.stream, createGunzip(), createWriteStream(file));
        else await pipeline(response, wire.stream, createWriteStream(file));
      } catch (err) {
        throw inputError(`reading from ClickHouse at ${this.connection.url} failed: ${messageOf(err)}`);
      }
      return wire.bytes();
    });
  }

  /**
   * `read` again after a dropped connection or a timeout (an input error of `send`), up to
   * `retries` times with a doubling pause; a refused query (exit 6) is not retried: it would
   * fail the same way.
   */
  private async retried<R>(read: () => Promise<R>): Promise<R> {
    const retries = this.connection.retries ?? 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await read();
      } catch (err) {
        const transient = err instanceof Error && (err as { exitCode?: number }).exitCode === 3 && !/refused the credentials/.test(err.message);
        // A run being stopped starts nothing new, a retry neither.
        if (!transient || attempt >= retries || this.connection.queryIds.isStopped) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
  }

  /** The rows of a SELECT as JSONEachRow objects (decimals become JS numbers: use `rows` where exactness matters). */
  async jsonRows<T = Record<string, unknown>>(sql: string, params?: Record<string, ChValue>): Promise<T[]> {
    const body = await this.request(`${bindValues(sql, params).trimEnd()}\nFORMAT JSONEachRow`);
    return body
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as T);
  }

  /** A statement with no result (CREATE, DROP, INSERT … SELECT). */
  async run(sql: string, params?: Record<string, ChValue>): Promise<void> {
    await this.request(bindValues(sql, params));
  }

  /**
   * Bulk insert: `body` (CSV with \N for NULL, or TabSeparated, as `format` says) streamed as
   * the request body of `INSERT INTO table (columns) FORMAT …` — the rows never pass through JS
   * values. `table` and `columns` are identifiers the caller controls, quoted with backticks.
   * With `compress`, the body travels gzipped (Content-Encoding: gzip). Returns the bytes sent.
   */
  async insert(table: string, columns: readonly string[], format: 'CSV' | 'TabSeparated', body: string | Readable): Promise<number> {
    const sql = `INSERT INTO ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(', ')}) FORMAT ${format}`;
    const wire = byteCounter();
    if (this.connection.compress) {
      const source = typeof body === 'string' ? Readable.from([Buffer.from(body)]) : body;
      const gzip = createGzip({ level: 1 });
      source.on('error', (err) => gzip.destroy(err));
      gzip.on('error', (err) => wire.stream.destroy(err));
      await this.request(sql, source.pipe(gzip).pipe(wire.stream), true);
    } else if (typeof body === 'string') {
      await this.request(sql, body);
      return Buffer.byteLength(body);
    } else {
      body.on('error', (err) => wire.stream.destroy(err));
      await this.request(sql, body.pipe(wire.stream));
    }
    return wire.bytes();
  }

  /** Bulk insert of a CSV file (as DuckDB writes it with `COPY … (FORMAT csv, NULLSTR '\N')`); the bytes sent. */
  async insertCsvFile(table: string, columns: readonly string[], file: string): Promise<number> {
    return this.insert(table, columns, 'CSV', createReadStream(file));
  }

  /**
   * One HTTP request: with no `body`, the SQL is the POST body; with a body (insert data), the
   * SQL goes in the `query` URL parameter and the data streams as the body.
   */
  private async request(sql: string, body?: string | Readable, gzipped = false): Promise<string> {
    const response = await this.send(sql, body, gzipped);
    try {
      return await readText(response);
    } catch (err) {
      throw inputError(`reading from ClickHouse at ${this.connection.url} failed: ${messageOf(err)}`);
    }
  }

  /**
   * The request sent; an error status read and thrown; a successful response returned unread.
   * Each request opens its own connection (no keep-alive agent): ClickHouse closes idle
   * connections after keep_alive_timeout (3 s by default), and a request written to such a
   * socket fails — harmless for a read (retried), but a write must never be in doubt.
   * `gzip`: a body (insert data) is gzipped; without a body, the response is asked for gzipped.
   */
  private send(sql: string, body?: string | Readable, gzip = false): Promise<IncomingMessage> {
    const { url, database, user, password, timeoutMs = 300_000, settings = {}, queryIds } = this.connection;
    const queryId = this.cleaning ? queryIds.cleanup() : queryIds.next();
    const target = new URL(url);
    target.searchParams.set('query_id', queryId);
    if (database) target.searchParams.set('database', database);
    for (const [name, value] of Object.entries(settings)) target.searchParams.set(name, String(value));
    if (body !== undefined) target.searchParams.set('query', sql);
    const headers: Record<string, string> = {};
    if (gzip && body !== undefined) headers['content-encoding'] = 'gzip';
    if (gzip && body === undefined) {
      target.searchParams.set('enable_http_compression', '1');
      headers['accept-encoding'] = 'gzip';
    }
    if (user !== undefined || password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${user ?? 'default'}:${password ?? ''}`).toString('base64')}`;
    }
    const payload = body ?? sql;
    if (typeof payload === 'string') headers['content-length'] = String(Buffer.byteLength(payload));
    const unreachable = (reason: string) => inputError(`cannot reach ClickHouse at ${url}: ${reason}`);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method: 'POST', headers, agent: false, timeout: timeoutMs });
      // A statement with no answer in time is cancelled on the server too (the server would run
      // it to the end: a read's retry would run beside it, and a write could still land), and
      // the request fails once it is gone (or after a bounded wait).
      let cancelled: Promise<string> | null = null;
      request.on('timeout', () => {
        // (Not a cancelling statement's own: it has nothing to cancel but itself.)
        if (!this.cleaning) cancelled ??= this.cancelRunning({ exact: queryId }, CANCEL_WAIT_MS).then(
          ({ left, refused }) =>
            refused !== undefined
              ? `; ClickHouse refused to cancel the statement (${refused.split('\n')[0]}), it may still finish there`
              : left === 0
                ? '; the statement was cancelled there'
                : `; the statement was told to stop there but still ran ${CANCEL_WAIT_MS / 1000} s later`,
          () => '',
        );
        request.destroy(Object.assign(new Error(`no answer in ${timeoutMs / 1000} s`), { code: 'TIMEOUT' }));
      });
      request.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'TIMEOUT' && cancelled) void cancelled.then((note) => reject(unreachable(`${err.message}${note}`)));
        else reject(unreachable(err.code ?? err.message));
      });
      request.on('response', (response) => {
        if ((response.statusCode ?? 500) < 300) return resolve(response);
        readText(response).then((text) => {
          const message = text.trim();
          const code = errorCode(message);
          if (code !== undefined && AUTH_CODES.has(code)) reject(inputError(`ClickHouse at ${url} refused the credentials: ${message}`));
          else reject(queryError(`ClickHouse at ${url} refused the query: ${message}`));
        }, (err: unknown) => reject(unreachable(messageOf(err))));
      });
      if (typeof payload === 'string') request.end(payload);
      else payload.on('error', (err) => request.destroy(err)).pipe(request);
    });
  }
}

/** A pass-through stream that counts the bytes through it. */
function byteCounter(): { stream: Transform; bytes: () => number } {
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, bytes: () => bytes };
}

/** A response body as text (UTF-8), unpacked if it came gzipped. */
async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  const body = response.headers['content-encoding'] === 'gzip' ? response.pipe(createGunzip()) : response;
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A ClickHouse identifier in backticks (database.table is split at the dot). */
export function quoteIdentifier(name: string): string {
  return name
    .split('.')
    .map((part) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) throw usageError(`not a ClickHouse identifier: ${name}`);
      return `\`${part}\``;
    })
    .join('.');
}

/** Anything that runs a DuckDB statement (the store's Store, a DuckDBConnection). */
export interface DuckDbRunner {
  run(sql: string): Promise<unknown>;
}

/**
 * Bulk copy from DuckDB into a ClickHouse table: DuckDB writes `select`'s rows as CSV (NULL as
 * \N) into a temp file, which streams to the server as one INSERT — set-based on both sides, no
 * row passes through JS. `select`'s columns must be in `columns`' order, booleans as 0/1.
 * Returns the bytes sent (gzipped, if the client compresses) and the CSV's own size.
 */
export async function copyFromDuckDb(duck: DuckDbRunner, select: string, ch: ClickHouseClient, table: string, columns: readonly string[]): Promise<{ sent: number; csv: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-clickhouse-copy-'));
  const file = path.join(dir, 'rows.csv');
  try {
    await duck.run(`COPY (${select}) TO '${file.replace(/'/g, "''")}' (FORMAT csv, HEADER false, NULLSTR '\\N')`);
    // crm run --source records what crosses the network.
    const sent = await ch.insertCsvFile(table, columns, file);
    return { sent, csv: statSync(file).size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
