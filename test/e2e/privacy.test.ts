/**
 * Privacy by design through the real CLI, on the demo's sample data plus one person whose data
 * is everywhere a store keeps personal data (customers with extra columns, orders with a note,
 * a policy with a VIN, an owners row with a note, a rejected order line):
 * - every hand-out (exports, report, notebook, crm customer) writes exactly one audit row;
 * - `crm audit` lists them;
 * - `crm forget` leaves none of the person's data in any column of any table or view (found
 *   through SQL from duckdb_columns(), so tables added later are checked too) nor in an
 *   uncompressed export of the whole database, keeps every aggregate, records the erasure
 *   without the data, and leaves the store unchanged when it fails or is killed.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Store } from '../../src/store/db.js';
import { ExitCode } from '../../src/util/errors.js';
import { crm, crmSpawn, ROOT, sql, tempDir } from '../helpers/cli.js';

const SAMPLE = path.join(ROOT, 'data/sample');
/** The person to forget: the id is an e-mail address, as some CRMs use. */
const PERSON = {
  id: 'weiforget.zhang@corp.example',
  name: 'Zhang Weiforget',
  email: 'zhang.weiforget@mail.example.cn',
  phone: '+86 139 8765 4321',
  plate: '沪A99X77',
  wechat: 'zw_forget_77',
  note: 'leave at door 17F weiforget',
  vin: 'LFV2A21K9X3000777',
  ownerNote: 'vip since 2019 weiforget',
  contract: 'PZW000777',
  orders: ['9900001', '9900002', '9900003'],
};
const NEEDLES = [PERSON.id, PERSON.name, PERSON.email, PERSON.phone, PERSON.plate, PERSON.wechat, PERSON.note, PERSON.vin, PERSON.ownerNote, PERSON.contract, ...PERSON.orders];

let dir: string;
let db: string;

const ok = (args: string[]) => {
  const r = crm(['--db', db, ...args], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r;
};

function writeFixtures(): string[] {
  const files = {
    'vip.csv': `customer_id,name,email,phone,region,industry,signup_date,plate,wechat\n${PERSON.id},${PERSON.name},${PERSON.email},${PERSON.phone},Asia Pacific,Retail,2024-02-01,${PERSON.plate},${PERSON.wechat}\n`,
    'vip-orders.csv':
      'order_id,customer_id,order_date,product,category,channel,quantity,unit_price,delivery_note\n' +
      `${PERSON.orders[0]},${PERSON.id},2025-03-02,P1001,Tech,web,2,120.50,${PERSON.note}\n` +
      `${PERSON.orders[1]},${PERSON.id},2025-05-17,P1002,Tech,web,1,310.00,${PERSON.note}\n` +
      `${PERSON.orders[2]},${PERSON.id},2025-13-40,P1003,Tech,web,1,99.00,${PERSON.note}\n`,
    'vip-contracts.csv':
      'customer_id,contract_id,plan,period_start,period_end,amount,channel,region,status,cancel_date,vin\n' +
      `${PERSON.id},${PERSON.contract},motor,2024-07-01,2025-06-30,2100.00,agent,Asia Pacific,active,,${PERSON.vin}\n` +
      `${PERSON.id},${PERSON.contract},motor,2025-07-01,2026-06-30,2150.00,agent,Asia Pacific,active,,${PERSON.vin}\n`,
    'vip-owners.csv': `customer_id,account_owner,team,owner_email,note\n${PERSON.id},Li Na,East,li.na@sales.example,${PERSON.ownerNote}\n`,
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return Object.keys(files).map((f) => path.join(dir, f));
}

beforeAll(() => {
  dir = tempDir('crm-privacy-e2e-');
  db = path.join(dir, 'crm.duckdb');
  const [vip, orders, contracts, owners] = writeFixtures();
  ok(['-q', 'ingest', 'customers', path.join(SAMPLE, 'customers.csv'), path.join(SAMPLE, 'policyholders.csv')]);
  ok(['-q', 'ingest', 'customers', vip]);
  ok(['-q', 'ingest', 'transactions', path.join(SAMPLE, 'transactions.csv')]);
  ok(['-q', 'ingest', 'transactions', orders]);
  ok(['-q', 'ingest', 'contracts', path.join(SAMPLE, 'contracts.csv'), contracts]);
  ok(['-q', 'ingest', 'owners', path.join(SAMPLE, 'owners.csv')]);
  ok(['-q', 'ingest', 'owners', owners]);
  ok(['-q', 'run', '--as-of', '2025-06-30']);
  ok(['-q', 'run']);
}, 180_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface AuditJson {
  total: number;
  entries: { audit_id: number; command: string; actor: string; actor_source: string; what: string; path: string | null; run_id: number | null; customers: number; rows: number | null; masked: boolean; details: Record<string, unknown> | null }[];
}
const audit = (args: string[] = []) => JSON.parse(ok(['audit', '--json', ...args]).stdout) as AuditJson;
const auditCount = () => audit().total;

describe('every hand-out writes one audit row', () => {
  test('export segment, export renewals, export owners: one row each, after the file is written', () => {
    const before = auditCount();
    const seg = path.join(dir, 'out', 'customers.csv');
    ok(['--actor', 'analyst', 'export', 'segment', 'customers', '--out', seg, '--mask-pii']);
    const customers = sql<{ n: number }>(db, 'SELECT count(*) AS n FROM customer_latest')[0].n;
    let rows = audit().entries;
    expect(rows[0]).toMatchObject({ command: 'export segment', actor: 'analyst', actor_source: 'flag', what: 'customers', path: seg, run_id: 2, customers, rows: customers, masked: true });
    expect(rows[0].details).toMatchObject({ format: 'csv', masked_columns: ['email', 'phone'], owner: null });
    expect(fs.existsSync(seg)).toBe(true);

    const ren = path.join(dir, 'out', 'renewals.xlsx');
    ok(['export', 'renewals', '--within', '400', '--out', ren]);
    const due = sql<{ contracts: number; customers: number }>(db, "SELECT count(*) AS contracts, count(DISTINCT customer_id) AS customers FROM contract_latest WHERE status IN ('active', 'in_grace') AND renewal_due <= as_of + 400")[0];
    rows = audit().entries;
    expect(rows[0]).toMatchObject({ command: 'export renewals', path: ren, run_id: 2, rows: due.contracts, customers: due.customers, masked: false });
    expect(rows[0].details).toMatchObject({ format: 'xlsx', lang: 'en' });

    const folder = path.join(dir, 'out', 'owners');
    const result = JSON.parse(ok(['export', 'owners', '--out', folder, '--json']).stdout) as { files: { owner: string; rows: number }[] };
    rows = audit().entries;
    const owned = result.files.reduce((n, f) => n + f.rows, 0);
    expect(rows[0]).toMatchObject({ command: 'export owners', path: folder, customers: owned, rows: owned, masked: false });
    expect(rows[0].details!.owners).toEqual(result.files.map((f) => ({ owner: f.owner, file: expect.any(String), customers: f.rows })));
    expect(auditCount()).toBe(before + 3);
  });

  test('an export that fails writes no row and no file', () => {
    const before = auditCount();
    const seg = path.join(dir, 'out', 'customers.csv'); // exists: --force needed
    const r = crm(['--db', db, 'export', 'segment', 'customers', '--out', seg], { cwd: dir });
    expect(r.code).toBe(ExitCode.output);
    expect(auditCount()).toBe(before);
  });

  test('crm customer: one row per lookup that shows someone, masked or not; none when nobody matched', () => {
    const before = auditCount();
    ok(['customer', PERSON.id]);
    ok(['customer', PERSON.id, '--show-pii']);
    expect(crm(['--db', db, 'customer', 'no such person anywhere'], { cwd: dir }).code).toBe(ExitCode.input);
    const rows = audit().entries;
    expect(audit().total).toBe(before + 2);
    expect(rows[0]).toMatchObject({ command: 'customer', what: '360° view', customers: 1, rows: 1, masked: false, path: null });
    expect(rows[1]).toMatchObject({ command: 'customer', masked: true });
    // How the person was found, never the query itself.
    expect(JSON.stringify(rows.slice(0, 2))).not.toContain(PERSON.id);
  });

  test('crm report and crm notebook render: one row each', () => {
    const before = auditCount();
    ok(['report', '--out', path.join(dir, 'report')]);
    const notebook = path.join(dir, 'tiny.md');
    fs.writeFileSync(notebook, '# Tiny\n\n```sql n\nSELECT count(*) AS customers FROM customers\n```\n\n```table n\n```\n');
    ok(['notebook', 'render', notebook, '--out', path.join(dir, 'nb')]);
    const rows = audit().entries;
    expect(auditCount()).toBe(before + 2);
    const runCustomers = sql<{ n: number }>(db, 'SELECT customers AS n FROM runs WHERE run_id = 2')[0].n;
    expect(rows[1]).toMatchObject({ command: 'report', path: path.join(dir, 'report', 'report.html'), run_id: 2, customers: runCustomers, masked: true, details: { lang: 'en' } });
    expect(rows[0]).toMatchObject({ command: 'notebook render', what: 'tiny.md', path: path.join(dir, 'nb', 'tiny.html'), run_id: 2, masked: false, rows: 1 });
  });

  test('crm audit filters by command and actor (written after the command) and prints a table', () => {
    expect(audit(['--command', 'export segment']).entries.every((e) => e.command === 'export segment')).toBe(true);
    expect(audit(['--actor', 'analyst']).entries.map((e) => e.what)).toEqual(['customers']);
    const text = ok(['audit', '--limit', '2']).stdout;
    expect(text).toMatch(/^#\s+logged \(UTC\)\s+command\s+actor\s+what\s+customers\s+rows\s+masked\s+path/);
    expect(text).toMatch(/2 of \d+ rows \(newest first; --limit N for more\)/);
  });
});

/** Every column of every table and view (cast to text: a superset of the text and JSON columns) holding a needle. */
async function findNeedles(file: string): Promise<string[]> {
  const store = await Store.open(file, { readOnly: true });
  try {
    const columns = await store.all<{ t: string; c: string }>(
      `SELECT table_name AS t, column_name AS c FROM duckdb_columns()
       WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal ORDER BY ALL`,
    );
    const tables = new Set(columns.map((x) => x.t));
    // Tables and views alike (duckdb_columns lists both): a table added later is checked too.
    expect(tables).toContain('customers');
    expect(tables).toContain('customer_latest');
    const q = (s: string) => '"' + s.replace(/"/g, '""') + '"';
    const lit = (s: string) => "'" + s.replace(/'/g, "''") + "'";
    await store.run(`CREATE TEMP TABLE needles AS SELECT lower(unnest([${NEEDLES.map(lit).join(', ')}])) AS needle`);
    // One scan per table or view: its columns as text, unpivoted to (column, value) rows.
    const parts = [...tables].map((t) => {
      const cols = columns.filter((x) => x.t === t).map((x) => `CAST(${q(x.c)} AS VARCHAR) AS ${q(x.c)}`);
      return `SELECT DISTINCT '${t}.' || u.col AS place, n.needle
              FROM (UNPIVOT (SELECT ${cols.join(', ')} FROM main.${q(t)}) ON COLUMNS(*) INTO NAME col VALUE v) AS u
              JOIN needles n ON contains(lower(u.v), n.needle)`;
    });
    const hits = await store.all<{ place: string; needle: string }>(parts.join('\nUNION ALL\n'));
    return hits.map((h) => `${h.place}: ${h.needle}`).sort();
  } finally {
    store.close();
  }
}

/** Every file of an uncompressed EXPORT DATABASE (FORMAT csv) holding a needle. */
async function findNeedlesInExport(file: string, out: string): Promise<string[]> {
  const store = await Store.open(file, { readOnly: true });
  try {
    await store.run(`EXPORT DATABASE '${out}' (FORMAT csv)`);
  } finally {
    store.close();
  }
  const hits: string[] = [];
  for (const f of fs.readdirSync(out)) {
    const text = fs.readFileSync(path.join(out, f), 'utf8').toLowerCase();
    for (const n of NEEDLES) if (text.includes(n.toLowerCase())) hits.push(`${f}: ${n}`);
  }
  return hits.sort();
}

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** What must not change when a person is forgotten (read in this process: one store open). */
async function aggregates(): Promise<Record<string, unknown>> {
  const queries = {
    runs: 'SELECT run_id, customers, CAST(summary AS VARCHAR) AS summary, model_status FROM runs ORDER BY run_id',
    transactions: 'SELECT count(*) AS n, CAST(sum(amount) AS VARCHAR) AS amount, count(DISTINCT customer_id) AS customers, count(DISTINCT order_id) AS orders FROM transactions',
    contracts: 'SELECT count(*) AS n, CAST(sum(amount) AS VARCHAR) AS amount, count(DISTINCT contract_id) AS contracts FROM contracts',
    metrics: 'SELECT run_id, count(*) AS n, round(sum(monetary), 4) AS monetary, round(sum(clv), 4) AS clv, count(*) FILTER (WHERE is_key_account) AS key FROM customer_metrics GROUP BY run_id ORDER BY run_id',
    segments: 'SELECT rfm_segment, count(*) AS n FROM customer_latest GROUP BY ALL ORDER BY ALL',
    contractMetrics: 'SELECT run_id, count(*) AS n, round(sum(premium), 4) AS premium FROM contract_metrics GROUP BY run_id ORDER BY run_id',
    rejects: 'SELECT load_id, reason, count(*) AS n FROM rejects GROUP BY ALL ORDER BY ALL',
    customers: 'SELECT count(*) AS n, count(DISTINCT customer_id) AS ids FROM customers',
    owners: 'SELECT account_owner, count(*) AS n FROM customer_owners GROUP BY ALL ORDER BY ALL',
  };
  const store = await Store.open(db, { readOnly: true });
  try {
    const out: Record<string, unknown> = {};
    for (const [k, q] of Object.entries(queries)) out[k] = await store.all(q);
    return out;
  } finally {
    store.close();
  }
}

describe('crm forget', () => {
  test('unknown ids: exit 3 naming them, the store unchanged', () => {
    const before = sha(db);
    const r = crm(['--db', db, 'forget', PERSON.id, 'nobody-1', 'nobody-2'], { cwd: dir });
    expect(r.code).toBe(ExitCode.input);
    expect(r.stderr).toContain('no customer "nobody-1", "nobody-2" in the store: nothing was erased');
    expect(sha(db)).toBe(before);
  });

  test('a reason that names the person is refused (exit 2), the store unchanged', () => {
    const before = sha(db);
    const r = crm(['--db', db, 'forget', PERSON.id, '--reason', `asked by ${PERSON.name}`], { cwd: dir });
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(/--reason names the person being erased/);
    expect(sha(db)).toBe(before);
  });

  test('a killed forget leaves the store as it was, or the erasure complete: never half of it', async () => {
    const copy = path.join(dir, 'killed.duckdb');
    fs.copyFileSync(db, copy);
    const before = sha(copy);
    const child = crmSpawn(['--db', copy, 'forget', PERSON.id]);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Killed while the fresh copy is being written (or, on a fast machine, just after the rename).
    let running = true;
    void exited.then(() => (running = false));
    while (running && !fs.existsSync(`${copy}.forget-tmp`)) await new Promise((resolve) => setTimeout(resolve, 2));
    child.kill('SIGKILL');
    await exited;
    if (sha(copy) !== before) expect(await findNeedles(copy)).toEqual([]);
    // The store opens and a new forget completes (and clears what the killed one left).
    expect(crm(['--db', copy, 'forget', '--json', sha(copy) === before ? PERSON.id : 'C0000001']).code).toBe(0);
    expect(fs.existsSync(`${copy}.forget-tmp`)).toBe(false);
  }, 60_000);

  test('erases the person everywhere, keeps the aggregates, records the erasure without the data', async () => {
    // The checks can fail: before the erasure they find the person in every kind of place.
    const found = await findNeedles(db);
    for (const place of ['customers.name', 'customers.email', 'customers.phone', 'customers.attributes', 'transactions.attributes', 'transactions.order_id', 'contracts.attributes', 'contracts.contract_id', 'owners.attributes', 'rejects.raw', 'metrics_customers.customer_id', 'contract_metrics.contract_id', 'customer_latest.customer_id']) {
      expect(found.some((h) => h.startsWith(`${place}: `)), place).toBe(true);
    }
    expect(await findNeedlesInExport(db, path.join(dir, 'export-before'))).not.toEqual([]);
    const before = await aggregates();
    const other = sql(db, "SELECT * FROM customers WHERE customer_id = 'C0000001'");

    const r = ok(['--actor', 'dpo', 'forget', PERSON.id, '--reason', 'request #1234', '--json']);
    const result = JSON.parse(r.stdout) as { customers: number; audit_id: number; tables: { table: string; rows_changed: number }[] };
    expect(result.customers).toBe(1);
    expect(result.tables.map((t) => t.table)).toEqual(expect.arrayContaining(['customers', 'transactions', 'contracts', 'owners', 'rejects', 'metrics_customers', 'contract_metrics_stored']));

    expect(await findNeedles(db)).toEqual([]);
    expect(await findNeedlesInExport(db, path.join(dir, 'export-after'))).toEqual([]);
    expect(await aggregates()).toEqual(before);
    expect(sql(db, "SELECT * FROM customers WHERE customer_id = 'C0000001'")).toEqual(other);
    // The person's rows are still there, under a pseudonym that points to nobody.
    const pseudonym = sql<{ customer_id: string; name: string | null; region: string }>(db, "SELECT customer_id, name, email, phone, attributes, region FROM customers WHERE customer_id LIKE 'forgotten-%'");
    expect(pseudonym).toEqual([{ customer_id: 'forgotten-1', name: null, email: null, phone: null, attributes: null, region: 'Asia Pacific' }]);
    expect(sql(db, "SELECT DISTINCT contract_id FROM contracts WHERE customer_id = 'forgotten-1'")).toEqual([{ contract_id: 'forgotten-1/contract-1' }]);
    expect(sql(db, "SELECT count(DISTINCT order_id) AS n FROM transactions WHERE customer_id = 'forgotten-1'")).toEqual([{ n: 2 }]);

    const row = audit(['--command', 'forget']).entries[0];
    expect(row).toMatchObject({ audit_id: result.audit_id, command: 'forget', actor: 'dpo', what: '1 customer', customers: 1, masked: true, path: null });
    expect(row.details).toMatchObject({ reason: 'request #1234' });
    // The audit ids go on from where they were (the sequence survived the rewrite).
    expect(row.audit_id).toBe(Math.max(0, ...audit(['--limit', '1000']).entries.filter((e) => e.command !== 'forget').map((e) => e.audit_id)) + 1);
    expect(fs.existsSync(`${db}.forget-tmp`)).toBe(false);
  }, 120_000);
});
