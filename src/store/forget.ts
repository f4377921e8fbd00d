/**
 * `crm forget ID…`: the right to erasure (PIPL art. 47, GDPR art. 17). A person's personal data
 * leaves every place the store keeps it, while every aggregate stays what it was:
 *
 * - The customer id becomes a pseudonym, `forgotten-<n>` (n counts erasures in this store, in the
 *   order the ids were given), in every column of customer ids (`customer_id`; a merge's
 *   `duplicate_id` and `surviving_id`): the person's transactions, contracts and scores of
 *   earlier runs still count — under a name that points to nobody — so run totals, revenue sums, segment sizes and customer counts reconcile before and
 *   after. Deleting the rows instead would make every stored run disagree with its input. The id
 *   itself may be personal (an e-mail used as id), so it goes too; no table keeps the mapping.
 * - Identifiers that lead back to the person in the business's other systems (their order
 *   numbers, contract and policy numbers) become `forgotten-<n>/order-<k>`, `forgotten-<n>/contract-<k>`,
 *   one per distinct original, so order and contract counts stay the same.
 * - Name, e-mail, phone and the unmapped columns (`attributes`) of the person's rows are emptied
 *   (NULL); region, industry, dates and amounts stay (they are what the aggregates are made of).
 * - Rejected lines (`rejects.raw`, `rejects.detail`) that name the person — the id as a whole
 *   field, the e-mail, the phone's digits or the name — lose their text; the reason code stays, so
 *   the reject counts of every load still reconcile.
 * - JSON the store wrote (runs' summaries, …) that quotes the id gets the pseudonym.
 *
 * How: the store is copied into a fresh DuckDB file with the erasure applied as it is copied
 * (INSERT … SELECT with the rules above as expressions), the audit row is added there, and the
 * fresh file is renamed over the store. DuckDB compresses and reuses blocks: an UPDATE in place
 * would leave the old values in freed blocks until overwritten. The fresh file never held them.
 * A failed or killed forget leaves the old store as it was (the copy is a separate file until the
 * rename); the old file's bytes are then overwritten with zeros.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LIST, VARCHAR, listValue } from './duckdb.js';
import { Store, ident, literal } from './db.js';
import { recordAudit } from './audit.js';
import { retryWhileLocked } from './lock.js';
import { TRANSACTION_TABLES } from './transactions.js';
import { CrmError, inputError, messageOf, storeError, usageError } from '../util/errors.js';

export interface ForgetOptions {
  /** Why (a ticket number, "customer request 2026-12-01"): recorded in the audit row. Never personal data. */
  reason?: string;
}

export interface ForgetTable {
  table: string;
  /** Rows whose text was changed (pseudonym, emptied columns, scrubbed reject). */
  rows_changed: number;
}

export interface ForgetResult {
  customers: number;
  audit_id: number;
  tables: ForgetTable[];
  /** Time to copy the store into the fresh file, erasing as it copies. */
  rewrite_ms: number;
  bytes_before: number;
  bytes_after: number;
}

/**
 * Columns holding customer ids, pseudonymised wherever they are: `customer_id`, and the pair a
 * merge of duplicate records names (issue #11: duplicate_id → surviving_id), so a merges table
 * is covered by the same rule.
 */
export const CUSTOMER_ID_COLUMNS = new Set(['customer_id', 'duplicate_id', 'surviving_id']);
/** The columns emptied on the forgotten persons' rows, in any table with a customer_id. */
const PERSONAL_COLUMNS = new Set(['name', 'email', 'phone', 'attributes']);
/** Identifiers of the person's dealings, renamed per person: column → label in the pseudonym. */
const LINKED_IDS: Record<string, string> = { order_id: 'order', contract_id: 'contract' };
/** Free text of rejected lines: emptied where it names a forgotten person. */
const REJECT_TEXT = { table: 'rejects', columns: new Set(['raw', 'detail']) };
/**
 * Names shorter than this are not searched for in rejected lines or the reason (they would match
 * anything): 3 characters, 2 for a name in CJK characters (张伟 is a whole name).
 */
const MIN_NAME_LENGTH = 3;
const MIN_CJK_NAME_LENGTH = 2;
const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]/u;
export function searchableText(text: string | null): text is string {
  if (text === null) return false;
  const t = text.trim();
  return [...t].length >= (CJK.test(t) ? MIN_CJK_NAME_LENGTH : MIN_NAME_LENGTH);
}
/** Phone numbers with fewer digits are not searched for in rejected lines. */
const MIN_PHONE_DIGITS = 7;

const PSEUDONYM_PREFIX = 'forgotten-';
const SRC = 'forget_src';
const FRESH = 'forget_fresh';

/** The fresh copy while it is being written; a killed forget leaves it, the next one removes it. */
export function freshPathFor(storePath: string): string {
  return `${storePath}.forget-tmp`;
}

interface Column {
  table: string;
  column: string;
  type: string;
}

interface Person {
  customer_id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
}

export async function forget(storePath: string, ids: string[], opts: ForgetOptions = {}): Promise<ForgetResult> {
  const wanted = [...new Set(ids.map((id) => id.trim()))];
  if (wanted.some((id) => id === '')) throw usageError('an empty customer id was given');
  // Bring an older store up to date (and fail early on a missing or locked one) the usual way.
  (await Store.open(storePath)).close();
  removeStale(storePath);

  const scratch = await Store.open(':memory:', { create: true, migrate: false });
  let attachedFresh = false;
  let attachedSrc = false;
  const fresh = freshPathFor(storePath);
  try {
    // Spill (if the copy needs to) beside the store, as every command does; the memory cap is the usual one.
    await scratch.run(`SET temp_directory = ${literal(`${storePath}.tmp`)}`);
    // Attached for writing: the exclusive lock keeps every other process out until the rename.
    await retryWhileLocked(() => scratch.run(`ATTACH ${literal(storePath)} AS ${SRC}`));
    attachedSrc = true;
    // Nothing of the store may live only in its write-ahead log when the file is replaced.
    await scratch.run(`CHECKPOINT ${SRC}`);

    const columns = await scratch.all<Column & Record<string, unknown>>(
      `SELECT c.table_name AS "table", c.column_name AS "column", c.data_type AS "type"
       FROM duckdb_columns() c JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
       WHERE c.database_name = '${SRC}' AND c.schema_name = 'main'
       ORDER BY t.table_name, c.column_index`,
    );
    const tables = [...new Set(columns.map((c) => c.table))];
    const withCustomer = tables.filter((t) => columns.some((c) => c.table === t && c.column === 'customer_id'));

    await checkKnown(scratch, withCustomer, wanted);
    const people = await scratch.all<Person & Record<string, unknown>>(
      `SELECT DISTINCT customer_id, name, email, phone FROM ${SRC}.main.customers WHERE list_contains($ids, customer_id)`,
      { ids: listValue(wanted) },
      { ids: listOfVarchar },
    );
    checkReason(opts.reason, wanted, people);

    await definePseudonyms(scratch, withCustomer, columns, wanted);

    const bytesBefore = fileSize(storePath);
    const started = performance.now();
    await scratch.run(`ATTACH ${literal(fresh)} AS ${FRESH}`);
    attachedFresh = true;
    await scratch.run(`COPY FROM DATABASE ${SRC} TO ${FRESH} (SCHEMA)`);
    await scratch.run(`USE ${FRESH}`);
    const changed: ForgetTable[] = [];
    let auditId = 0;
    await scratch.transaction(async () => {
      for (const table of tables) {
        const cols = columns.filter((c) => c.table === table);
        const rules = tableRules(table, cols, people, wanted);
        await scratch.run(
          `INSERT INTO ${FRESH}.main.${ident(table)} (${cols.map((c) => ident(c.column)).join(', ')})
           SELECT ${rules.select.join(', ')} FROM ${SRC}.main.${ident(table)}`,
        );
        if (rules.changed) {
          const n = Number((await scratch.value<number>(`SELECT count(*) FROM ${SRC}.main.${ident(table)} WHERE ${rules.changed}`)) ?? 0);
          // The tables under the transactions view are reported as `transactions`, as before migration 28.
          const name = (TRANSACTION_TABLES as readonly string[]).includes(table) ? 'transactions' : table;
          const entry = changed.find((c) => c.table === name);
          if (entry) entry.rows_changed += n;
          else if (n > 0) changed.push({ table: name, rows_changed: n });
        }
      }
      await checkReconciles(scratch, tables);
      // The erasure is recorded in the fresh store, by the audit trail's one writer: the fact, the
      // count and the reason, never the ids or the data.
      auditId = await recordAudit(scratch, {
        command: 'forget',
        what: `${wanted.length} customer${wanted.length === 1 ? '' : 's'}`,
        customers: wanted.length,
        rows: changed.reduce((n, t) => n + t.rows_changed, 0),
        masked: true,
        details: { reason: opts.reason ?? null, tables: changed },
      });
    });
    await scratch.run('USE memory');
    await scratch.run(`DETACH ${FRESH}`); // checkpoints the fresh file and closes it
    attachedFresh = false;
    const rewriteMs = performance.now() - started;
    fsyncPath(fresh);
    if (fs.existsSync(`${storePath}.wal`)) throw storeError(`${storePath}.wal appeared during the erasure: the store was not replaced`, ['Run crm forget again.']);
    // The fresh file gets the store's permissions: a store readable only by its owner stays so.
    fs.chmodSync(fresh, fs.statSync(storePath).mode & 0o7777);
    const old = fs.openSync(storePath, 'r+');
    try {
      fs.renameSync(fresh, storePath);
      fsyncPath(path.dirname(path.resolve(storePath)));
      await scratch.run(`DETACH ${SRC}`);
      attachedSrc = false;
      // The old file is unlinked but its blocks still hold the data: overwrite them.
      zeroFile(old);
    } finally {
      fs.closeSync(old);
    }
    return { customers: wanted.length, audit_id: auditId, tables: changed, rewrite_ms: rewriteMs, bytes_before: bytesBefore, bytes_after: fileSize(storePath) };
  } catch (err) {
    if (attachedFresh) await scratch.run(`USE memory; DETACH ${FRESH}`).catch(() => undefined);
    removeStale(storePath);
    if (err instanceof CrmError) throw err;
    throw storeError(`crm forget failed; the store was not changed: ${messageOf(err)}`);
  } finally {
    if (attachedSrc) await scratch.run(`DETACH ${SRC}`).catch(() => undefined);
    scratch.close();
  }
}

const listOfVarchar = LIST(VARCHAR);

/** Every id must name a customer somewhere in the store; otherwise nothing changes (exit 3). */
async function checkKnown(store: Store, tables: string[], ids: string[]): Promise<void> {
  const union = tables.map((t) => `SELECT customer_id FROM ${SRC}.main.${ident(t)}`).join(' UNION ');
  const unknown = await store.all<{ id: string }>(
    `SELECT id FROM unnest($ids) AS u(id) WHERE id NOT IN (${union}) ORDER BY id`,
    { ids: listValue(ids) },
    { ids: listOfVarchar },
  );
  if (unknown.length) {
    throw inputError(`no customer ${unknown.map((u) => JSON.stringify(u.id)).join(', ')} in the store: nothing was erased`, [
      'Give customer ids as the store has them (crm customer QUERY finds one by e-mail, phone or name).',
    ]);
  }
}

/** The reason is kept in the audit trail: it must not carry what is being erased. */
function checkReason(reason: string | undefined, ids: string[], people: Person[]): void {
  if (reason === undefined) return;
  const text = reason.toLowerCase();
  const personal = [...ids, ...people.flatMap((p) => [p.name, p.email, p.phone])].filter(searchableText).map((v) => v.trim());
  if (personal.some((v) => text.includes(v.toLowerCase()))) {
    throw usageError('--reason names the person being erased; the reason is kept in the audit trail', [
      'Give a ticket number or a short note instead, e.g. --reason "request #1234".',
    ]);
  }
}

/**
 * Session variables the copy reads: `forget_customer` (id → pseudonym) and `forget_linked`
 * (customer id + NUL + order or contract id → its pseudonym). Variables are constants to DuckDB:
 * the copy needs no join, so every table keeps its rows' order.
 */
async function definePseudonyms(store: Store, withCustomer: string[], columns: Column[], ids: string[]): Promise<void> {
  const taken = withCustomer.map(
    (t) => `SELECT max(TRY_CAST(substr(customer_id, ${PSEUDONYM_PREFIX.length + 1}) AS BIGINT)) AS n FROM ${SRC}.main.${ident(t)} WHERE starts_with(customer_id, '${PSEUDONYM_PREFIX}')`,
  );
  const first = Number((await store.value<number>(`SELECT coalesce(max(n), 0) + 1 FROM (${taken.join(' UNION ALL ')})`)) ?? 1);
  await store.run(
    `SET VARIABLE forget_customer = (
       SELECT map(list(id ORDER BY i), list('${PSEUDONYM_PREFIX}' || (${first} + i - 1) ORDER BY i))
       FROM unnest($ids) WITH ORDINALITY AS u(id, i))`,
    { ids: listValue(ids) },
    { ids: listOfVarchar },
  );
  const linked = columns.filter((c) => c.column in LINKED_IDS && withCustomer.includes(c.table));
  const sources = linked.map(
    (c) => `SELECT '${c.column}' AS kind, customer_id, ${ident(c.column)} AS original FROM ${SRC}.main.${ident(c.table)}
            WHERE ${ident(c.column)} IS NOT NULL AND map_extract_value(getvariable('forget_customer'), customer_id) IS NOT NULL`,
  );
  const labels = Object.entries(LINKED_IDS).map(([k, v]) => `WHEN '${k}' THEN '${v}'`).join(' ');
  await store.run(
    sources.length === 0
      ? `SET VARIABLE forget_linked = MAP([]::VARCHAR[], []::VARCHAR[])`
      : `SET VARIABLE forget_linked = (
           SELECT coalesce(map(list(customer_id || chr(0) || original), list(pseudonym)), MAP([]::VARCHAR[], []::VARCHAR[]))
           FROM (
             SELECT customer_id, original,
                    map_extract_value(getvariable('forget_customer'), customer_id) || '/' || (CASE kind ${labels} END) || '-'
                      || dense_rank() OVER (PARTITION BY customer_id, kind ORDER BY original) AS pseudonym
             FROM (${sources.join(' UNION ')})
           ))`,
  );
}

const FORGOTTEN = (col = 'customer_id') => `map_extract_value(getvariable('forget_customer'), ${ident(col)})`;

/** A regular expression matching any of `texts` literally. */
function alternation(texts: string[]): string {
  return texts.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

/** Whether a reject's text names one of the people: id as a whole field, e-mail, phone digits, name. */
function rejectMatch(col: string, people: Person[], ids: string[]): string {
  const c = ident(col);
  const tests = [`regexp_matches(${c}, ${literal(`(^|[^0-9A-Za-z_-])(${alternation(ids)})($|[^0-9A-Za-z_-])`)})`];
  for (const p of people) {
    if (p.email?.trim()) tests.push(`contains(lower(${c}), ${literal(p.email.trim().toLowerCase())})`);
    const digits = (p.phone ?? '').replace(/\D/g, '');
    if (digits.length >= MIN_PHONE_DIGITS) tests.push(`contains(regexp_replace(${c}, '[^0-9]', '', 'g'), ${literal(digits)})`);
    if (p.phone?.trim()) tests.push(`contains(${c}, ${literal(p.phone.trim())})`);
    if (searchableText(p.name)) tests.push(`contains(lower(${c}), ${literal(p.name.trim().toLowerCase())})`);
  }
  return `coalesce(${tests.join(' OR ')}, false)`;
}

/** JSON text quoting a forgotten id gets the pseudonym instead. */
function jsonRewrite(col: string, ids: string[]): { expr: string; test: string } {
  const c = `CAST(${ident(col)} AS VARCHAR)`;
  const quoted = (id: string) => literal(JSON.stringify(id));
  const test = ids.map((id) => `contains(${c}, ${quoted(id)})`).join(' OR ');
  let replaced = c;
  for (const id of ids) replaced = `replace(${replaced}, ${quoted(id)}, to_json(map_extract_value(getvariable('forget_customer'), ${literal(id)}))::VARCHAR)`;
  return { expr: `CASE WHEN ${test} THEN CAST(${replaced} AS JSON) ELSE ${ident(col)} END`, test: `coalesce(${test}, false)` };
}

/** The SELECT list that copies `table` with the erasure applied, and which rows it changes. */
function tableRules(table: string, cols: Column[], people: Person[], ids: string[]): { select: string[]; changed: string | null } {
  const hasCustomer = cols.some((c) => c.column === 'customer_id');
  const changed: string[] = [];
  for (const c of cols) if (CUSTOMER_ID_COLUMNS.has(c.column) && c.type === 'VARCHAR') changed.push(`${FORGOTTEN(c.column)} IS NOT NULL`);
  const isAudit = table === 'audit';
  const select = cols.map((c) => {
    const col = ident(c.column);
    if (CUSTOMER_ID_COLUMNS.has(c.column) && c.type === 'VARCHAR') return `coalesce(${FORGOTTEN(c.column)}, ${col}) AS ${col}`;
    if (hasCustomer && c.column in LINKED_IDS) {
      return `CASE WHEN ${FORGOTTEN()} IS NOT NULL THEN coalesce(map_extract_value(getvariable('forget_linked'), customer_id || chr(0) || ${col}), ${col}) ELSE ${col} END AS ${col}`;
    }
    if (hasCustomer && PERSONAL_COLUMNS.has(c.column)) {
      // Other customers' JSON may still quote a forgotten id (a referral): it gets the pseudonym.
      const rewrite = c.type === 'JSON' && !isAudit ? jsonRewrite(c.column, ids) : null;
      if (rewrite) changed.push(rewrite.test);
      return `CASE WHEN ${FORGOTTEN()} IS NOT NULL THEN NULL ELSE ${rewrite ? rewrite.expr : col} END AS ${col}`;
    }
    if (table === REJECT_TEXT.table && REJECT_TEXT.columns.has(c.column)) {
      const match = [...REJECT_TEXT.columns].map((r) => rejectMatch(r, people, ids)).join(' OR ');
      changed.push(match);
      return `CASE WHEN ${match} THEN NULL ELSE ${col} END AS ${col}`;
    }
    if (c.type === 'JSON' && !isAudit) {
      const rewrite = jsonRewrite(c.column, ids);
      changed.push(rewrite.test);
      return `${rewrite.expr} AS ${col}`;
    }
    return col;
  });
  return { select, changed: changed.length ? [...new Set(changed)].join(' OR ') : null };
}

/** Row counts of every table and the money columns must be the same in the copy. */
async function checkReconciles(store: Store, tables: string[]): Promise<void> {
  for (const t of tables) {
    const [a, b] = await Promise.all([
      store.value<number>(`SELECT count(*) FROM ${SRC}.main.${ident(t)}`),
      store.value<number>(`SELECT count(*) FROM ${FRESH}.main.${ident(t)}`),
    ]);
    if (Number(a) !== Number(b)) throw new Error(`the copy of ${t} has ${b} rows, the store ${a}`);
  }
  const sums = [...TRANSACTION_TABLES, 'contracts'].filter((t) => tables.includes(t));
  for (const t of sums) {
    const a = await store.value<string>(`SELECT CAST(sum(amount) AS VARCHAR) FROM ${SRC}.main.${t}`);
    const b = await store.value<string>(`SELECT CAST(sum(amount) AS VARCHAR) FROM ${FRESH}.main.${t}`);
    if (a !== b) throw new Error(`the copy's sum of ${t}.amount is ${b}, the store's ${a}`);
  }
}

function removeStale(storePath: string): void {
  const fresh = freshPathFor(storePath);
  for (const f of [fresh, `${fresh}.wal`]) fs.rmSync(f, { force: true });
}

function fileSize(file: string): number {
  return fs.statSync(file).size;
}

function fsyncPath(p: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(p, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* directories cannot be synced on every platform */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Overwrite an (unlinked) file's bytes with zeros and sync them. */
function zeroFile(fd: number): void {
  const size = fs.fstatSync(fd).size;
  const zeros = Buffer.alloc(Math.min(size, 1 << 20));
  for (let at = 0; at < size; at += zeros.length) fs.writeSync(fd, zeros, 0, Math.min(zeros.length, size - at), at);
  fs.fsyncSync(fd);
}
