/**
 * The embedded DuckDB store: opening (and creating or migrating) it, typed query helpers that
 * return plain JS values, transactions, and progress reporting for long statements.
 */
import fs from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import type { DuckDBResultReader, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { DuckDBConnection, DuckDBInstance, DuckDBTypeId } from './duckdb.js';
import { ExitCode, CrmError, storeError, messageOf } from '../util/errors.js';
import { currentLockWait, describeHolder, isLockError, lockHolderPid, retryWhileLocked } from './lock.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './schema.js';
import type { Tick } from '../util/progress.js';
import { TOOL_VERSION } from '../version.js';
import { resolveMemory, type MemoryLimit } from './memory.js';

export { DEFAULT_STORE, resolveStorePath } from './path.js';
export { ident, literal, sqlNumber } from './sql.js';

export { DEFAULT_MEMORY_LIMIT } from './memory.js';

/**
 * CRM_DEBUG_SQL=1 prints every statement (shortened), its time and the process's CPU time
 * meanwhile (DuckDB's threads included; steadier than the time on a shared machine) to stderr;
 * CRM_DEBUG_SQL=full prints whole statements, each ended by a line `;;`, to replay them (for
 * developers).
 */
const DEBUG_SQL = Boolean(process.env.CRM_DEBUG_SQL);
const DEBUG_SQL_FULL = process.env.CRM_DEBUG_SQL === 'full';
interface DebugStart {
  t: number;
  cpu: NodeJS.CpuUsage;
}
const debugStart = (): DebugStart => ({ t: performance.now(), cpu: process.cpuUsage() });
function debugSql(sql: string, start: DebugStart): void {
  const ms = (performance.now() - start.t).toFixed(0);
  const used = process.cpuUsage(start.cpu);
  const cpu = `${((used.user + used.system) / 1e6).toFixed(2)} CPU-s`;
  if (DEBUG_SQL_FULL) {
    process.stderr.write(`-- [sql ${ms} ms, ${cpu}]\n${sql.trim()}\n;;\n`);
    return;
  }
  const oneLine = sql.replace(/\s+/g, ' ').trim();
  process.stderr.write(`[sql ${ms} ms, ${cpu}] ${oneLine.length > 160 ? oneLine.slice(0, 160) + '…' : oneLine}\n`);
}


export type Row = Record<string, unknown>;
export type Params = DuckDBValue[] | Record<string, DuckDBValue>;
/** Types for some of the named parameters (a LIST's item type cannot be inferred from its values). */
export type ParamTypes = Record<string, DuckDBType>;

export interface OpenOptions {
  /** Open for reading only: writes are refused by DuckDB itself. */
  readOnly?: boolean;
  /** Create the file when it does not exist (ingest, generate); otherwise a missing store is an error. */
  create?: boolean;
  /** Apply pending migrations (default true). Tests turn it off to build old stores. */
  migrate?: boolean;
  /** This command's own cap on DuckDB's memory; a --memory-limit or $CRM_MEMORY_LIMIT budget wins over it (see memory.ts). */
  memoryLimit?: string;
}

export class Store {
  /**
   * One statement at a time on the connection. DuckDB runs a prepared statement task by task,
   * and anything else reaching the connection between two tasks (another statement, an
   * appender's flush) closes it: "Attempting to execute an unsuccessful or closed pending query
   * result". `crm run` builds the cohorts while the models are fitted, and the model comparison's
   * appender met them on a busy machine (exit 1 in CI). So every use of `conn` waits its turn.
   */
  private turn: Promise<void> = Promise.resolve();
  /** Set inside `exclusive`: its own statements (a transaction's, an appender's table) go straight on. */
  private readonly holding = new AsyncLocalStorage<boolean>();

  private constructor(
    readonly path: string,
    readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
    readonly readOnly: boolean,
    /** The budget it was opened under and DuckDB's cap, for messages about memory. */
    readonly memory: MemoryLimit,
  ) {}

  static async open(file: string, opts: OpenOptions = {}): Promise<Store> {
    const exists = fs.existsSync(file);
    if (!exists && !opts.create) {
      throw storeError(`no store at ${file}`, [
        'Load data first with `crm ingest transactions FILE`, or point --db / CRM_DB at an existing store.',
      ]);
    }
    if (exists) checkStoreFile(file);
    else {
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
      } catch (err) {
        throw storeError(`cannot create the store ${file}: ${messageOf(err)}`);
      }
    }
    const migrate = opts.migrate ?? true;
    if (opts.readOnly && migrate && exists) {
      // A read-only handle cannot migrate. Opened as it is first (one open, 30–130 ms of every
      // read-only command: the common case, a store up to date); an older store is closed,
      // brought up to date by a writable handle and opened again. A newer one has already been
      // refused by checkSchema, which checks that with or without migrating.
      const store = await Store.open(file, { ...opts, migrate: false });
      let version: number;
      try {
        version = await store.schemaVersion();
      } catch (err) {
        store.close();
        throw err;
      }
      if (version >= LATEST_SCHEMA_VERSION) return store;
      store.close();
      const rw = await Store.open(file, { ...opts, readOnly: false });
      rw.close();
      return Store.open(file, { ...opts, migrate: false });
    }
    const config: Record<string, string> = {
      access_mode: opts.readOnly ? 'READ_ONLY' : 'READ_WRITE',
      // Everything crm uses (json, parquet, icu) is built in: SQL never makes DuckDB download
      // an extension (read_csv('http://…') would fetch httpfs) or load one from ~/.duckdb.
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
    };
    const memory = resolveMemory(opts.memoryLimit);
    config.memory_limit = memory.duckdb;
    // Past the limit DuckDB spills to files beside the store (its default too, said here so the
    // folder is ours to name in the README and .gitignore); an in-memory store keeps DuckDB's.
    if (file !== ':memory:') config.temp_directory = `${file}.tmp`;
    let instance: DuckDBInstance;
    try {
      // Another process holding the store: wait for it as long as --wait allows (default: not at all).
      instance = await retryWhileLocked(() => DuckDBInstance.create(file, config));
    } catch (err) {
      throw translateOpenError(file, err);
    }
    const conn = await instance.connect();
    const store = new Store(file, instance, conn, Boolean(opts.readOnly), memory);
    try {
      // Progress tracking (for runWithProgress) without DuckDB printing its own bar. These are
      // connection settings: DuckDB 1.5 refuses them in the instance config ("Failed to set config").
      await conn.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
      // Every commit is written by a checkpoint, never into the WAL. Why: DuckDB (1.5.6)
      // replays a WAL cut short by a kill in part. A `crm run` killed while its COMMIT was
      // writing the WAL (kill -9, SIGTERM or SIGINT alike) left the run's customer rows in
      // metrics_customers without its runs row (test/e2e/atomic.test.ts). A checkpoint commits
      // by swapping the file header, all or nothing; closing the store checkpoints anyway.
      // Set before the migrations too: DuckDB 1.5.6 cannot replay an ALTER TABLE of a table
      // with a generated column ("Calling DatabaseManager::GetDefaultDatabase with no default
      // database set"), which migration 4 is (customer_metrics.revenue_trend), so a new store
      // killed before its first checkpoint — a `crm run --source` creating one, kill -9'd in its
      // first seconds — could never be opened again. A new store's migrations are one commit
      // (one checkpoint); an older store's upgrade checkpoints once per migration.
      if (!opts.readOnly) await conn.run(`SET checkpoint_threshold = '${COMMIT_BY_CHECKPOINT}'`);
      await store.checkSchema(migrate);
    } catch (err) {
      store.close();
      throw err;
    }
    return store;
  }

  /** The schema version recorded in the store (0 for an empty file). */
  async schemaVersion(): Promise<number> {
    const t = await this.value<number>(
      "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'schema_version'",
    );
    if (!t) return 0;
    return (await this.value<number>('SELECT coalesce(max(version), 0) FROM schema_version')) ?? 0;
  }

  private async checkSchema(migrate: boolean): Promise<void> {
    const current = await this.schemaVersion();
    if (current > LATEST_SCHEMA_VERSION) {
      throw storeError(
        `the store ${this.path} has schema version ${current}, newer than this crm-analytics (${TOOL_VERSION}) understands (${LATEST_SCHEMA_VERSION})`,
        ['Upgrade crm-analytics to open it.'],
      );
    }
    if (current === 0 && !this.readOnly) {
      const userTables = await this.value<number>(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary",
      );
      if (userTables) {
        throw storeError(`${this.path} is a DuckDB file but not a crm-analytics store (it has no schema_version table)`);
      }
    }
    if (!migrate || this.readOnly || current === LATEST_SCHEMA_VERSION) return;
    // A new store is built in one transaction: one commit instead of one per migration (each
    // commit writes and syncs the log; 0.2–0.3 s of every first `crm ingest`), and an
    // interrupted creation leaves no half-built store either.
    await this.applyMigrations(MIGRATIONS.filter((m) => m.version > current), { together: current === 0 });
  }

  /**
   * Apply migrations in order, each atomically with its version row; `together`: all of them in
   * one transaction.
   */
  async applyMigrations(migrations: Migration[], opts: { together?: boolean } = {}): Promise<void> {
    const apply = async (m: Migration) => {
      await this.run(
        'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL, tool_version VARCHAR NOT NULL)',
      );
      await this.conn.run(m.sql);
      await this.run('INSERT INTO schema_version VALUES ($1, $2, now()::TIMESTAMP, $3)', [m.version, m.description, TOOL_VERSION]);
    };
    if (opts.together) {
      await this.transaction(async () => {
        for (const m of migrations) await apply(m);
      });
      return;
    }
    for (const m of migrations) await this.transaction(() => apply(m));
  }

  /**
   * Run `fn` with the connection to itself: callers started meanwhile wait until it settles.
   * For work on `conn` beyond one statement (an appender, a result read chunk by chunk); the
   * Store's own methods take their turn themselves, and may be called inside `fn`.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.holding.getStore()) return fn();
    const before = this.turn;
    let release!: () => void;
    this.turn = new Promise<void>((resolve) => (release = resolve));
    await before;
    try {
      return await this.holding.run(true, fn);
    } finally {
      release();
    }
  }

  async run(sql: string, params?: Params, types?: ParamTypes): Promise<number> {
    return this.exclusive(async () => {
      const t0 = DEBUG_SQL ? debugStart() : undefined;
      const r = await this.conn.run(sql, params, types);
      if (t0) debugSql(sql, t0);
      return r.rowsChanged;
    });
  }

  /** All rows as plain objects (see `plainValue` for the conversions). */
  async all<T extends Row = Row>(sql: string, params?: Params, types?: ParamTypes): Promise<T[]> {
    return this.exclusive(async () => {
      const t0 = DEBUG_SQL ? debugStart() : undefined;
      const reader = await this.conn.runAndReadAll(sql, params, types);
      if (t0) debugSql(sql, t0);
      return readerObjects(reader) as T[];
    });
  }

  async one<T extends Row = Row>(sql: string, params?: Params, types?: ParamTypes): Promise<T | undefined> {
    const rows = await this.all<T>(sql, params, types);
    return rows[0];
  }

  /** The first column of the first row. */
  async value<T = unknown>(sql: string, params?: Params): Promise<T | undefined> {
    return this.exclusive(async () => {
      const reader = await this.conn.runAndReadAll(sql, params);
      if (reader.currentRowCount === 0) return undefined;
      return plainValue(reader.value(0, 0), reader.columnTypeId(0)) as T;
    });
  }

  /**
   * Run `fn` inside BEGIN … COMMIT; on any error ROLLBACK and rethrow. A killed process never
   * commits, and DuckDB discards the uncommitted work when the file is next opened. The
   * connection is the transaction's until it ends: a statement started elsewhere meanwhile runs
   * after it, not inside it.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(() => this.inTransaction(fn));
  }

  private async inTransaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const result = await fn();
      // Through run: CRM_DEBUG_SQL shows what committing costs (a large load writes then).
      await this.run('COMMIT');
      return result;
    } catch (err) {
      try {
        await this.conn.run('ROLLBACK');
      } catch {
        /* the transaction may already be aborted */
      }
      throw err;
    }
  }

  /** Run a statement while reporting DuckDB's own progress estimate through `tick`. */
  async runWithProgress(sql: string, tick: Tick, params?: Params, types?: ParamTypes): Promise<number> {
    const timer = setInterval(() => {
      const p = this.conn.progress;
      if (p.percentage >= 0) tick(p.percentage / 100);
    }, 200);
    try {
      return await this.run(sql, params, types);
    } finally {
      clearInterval(timer);
    }
  }

  close(): void {
    try {
      this.conn.closeSync();
    } catch {
      /* already closed */
    }
    try {
      this.instance.closeSync();
    } catch {
      /* already closed */
    }
  }
}

/**
 * DuckDB's checkpoint_threshold (alias wal_autocheckpoint): a commit whose WAL would pass it is
 * checkpointed instead of logged. At 0 every commit is (when no other transaction is open, the
 * case of a crm command's one connection).
 */
export const COMMIT_BY_CHECKPOINT = '0b';

/** Bytes 8–11 of every DuckDB database file (after the header checksum). */
const DUCKDB_MAGIC = 'DUCK';

/**
 * Only a DuckDB file (or an empty one, which DuckDB initialises) is opened as a store: DuckDB
 * itself would open a CSV or Parquet file given as the database as an in-memory database with a
 * view named after it, and the command would fail later on an odd error.
 */
function checkStoreFile(file: string): void {
  const stat = fs.statSync(file);
  if (stat.isDirectory()) throw storeError(`the store ${file} is a folder, not a DuckDB file`, ['Point --db (or CRM_DB) at a store file such as crm.duckdb.']);
  if (!stat.isFile() || stat.size === 0) return;
  const head = Buffer.alloc(12);
  try {
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, head, 0, head.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw storeError(`cannot read the store ${file}: ${messageOf(err)}`);
  }
  if (head.subarray(8, 12).toString('latin1') !== DUCKDB_MAGIC) {
    throw storeError(`${file} is not a DuckDB file, so not a crm store`, ['Point --db (or CRM_DB) at a store that `crm ingest` created, or at a new file name to create one.']);
  }
}

const STORE_IN_USE = 'is in use by';

function translateOpenError(file: string, err: unknown): CrmError {
  const msg = messageOf(err);
  if (isLockError(msg)) {
    const waited = currentLockWait().seconds;
    return storeError(`the store ${file} ${STORE_IN_USE} ${describeHolder(lockHolderPid(msg))}`, [
      waited > 0
        ? `Waited ${waited} s; it still holds the store. DuckDB allows one writer at a time.`
        : 'DuckDB allows one writer at a time: pass --wait SECONDS to wait for it to finish.',
    ]);
  }
  if (/not a valid DuckDB database|Unable to open database|IO Error/i.test(msg)) {
    return storeError(`cannot open the store ${file}: ${msg.split('\n')[0]}`);
  }
  return new CrmError(`cannot open the store ${file}: ${msg}`, ExitCode.store);
}

/**
 * Convert a DuckDB value to a plain JSON-friendly JS value: DECIMAL and HUGEINT to number,
 * BIGINT to number when it is exact (else a string), DATE to 'YYYY-MM-DD', TIMESTAMP to
 * 'YYYY-MM-DD HH:MM:SS', nested types recursively.
 */
export function plainValue(value: DuckDBValue, typeId: DuckDBTypeId): unknown {
  if (value === null || value === undefined) return null;
  switch (typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT: {
      const b = value as bigint;
      return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b.toString();
    }
    case DuckDBTypeId.DECIMAL:
      return (value as { toDouble(): number }).toDouble();
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.INTERVAL:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.ENUM:
      return String(value);
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return value;
    default:
      return nestedToJs(value);
  }
}

function nestedToJs(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.items)) return (v.items as unknown[]).map(nestedToJs);
  if (Array.isArray(v.entries) && v.constructor?.name === 'DuckDBStructValue') {
    return Object.fromEntries((v.entries as { key: string; value: unknown }[]).map((e) => [e.key, nestedToJs(e.value)]));
  }
  if (v.entries && typeof v.entries === 'object' && !Array.isArray(v.entries)) {
    return Object.fromEntries(Object.entries(v.entries as Record<string, unknown>).map(([k, x]) => [k, nestedToJs(x)]));
  }
  if (Array.isArray(v.entries)) {
    return (v.entries as { key: unknown; value: unknown }[]).map((e) => ({ key: nestedToJs(e.key), value: nestedToJs(e.value) }));
  }
  if (typeof (v as { toDouble?: unknown }).toDouble === 'function') return (v as unknown as { toDouble(): number }).toDouble();
  return String(value);
}

export function readerObjects(reader: DuckDBResultReader): Row[] {
  const names = reader.deduplicatedColumnNames();
  const types = names.map((_, i) => reader.columnTypeId(i));
  const rows: Row[] = [];
  for (let r = 0; r < reader.currentRowCount; r++) {
    const row: Row = {};
    for (let c = 0; c < names.length; c++) row[names[c]] = plainValue(reader.value(c, r), types[c]);
    rows.push(row);
  }
  return rows;
}

