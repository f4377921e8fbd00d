/**
 * `crm export segment` end to end: the real CLI on data/sample after `crm run`, every format
 * read back with an independent reader (a strict CSV parser, exceljs, DuckDB, apache-arrow) and
 * compared with what `crm query` says about the same customers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { tableFromIPC } from 'apache-arrow';
import { SEGMENT_EXPORT_COLUMNS } from '../../src/reports/export.js';
import { Store } from '../../src/store/db.js';
import { crm, ROOT, sql, tempDir, type CliResult } from '../helpers/cli.js';
import { quotePrefixedCells, xlsxText } from '../helpers/xlsx.js';
import { parseCsv } from '../helpers/csv.js';

const FORMATS = ['csv', 'xlsx', 'parquet', 'arrow', 'json'] as const;
type Format = (typeof FORMATS)[number];
type Value = string | number | boolean | null;
type Row = Record<string, Value>;

/** The columns compared value by value (a mix of text, integers, doubles, a date and a boolean). */
const CHECKED = ['customer_id', 'name', 'email', 'phone', 'rfm_segment', 'r_score', 'frequency', 'monetary', 'last_purchase', 'clv', 'net_revenue', 'is_key_account'];
const NUMERIC = new Set(['r_score', 'f_score', 'm_score', 'recency_days', 'frequency', 'monetary', 'p_alive', 'churn_risk', 'p_no_purchase', 'clv', 'net_revenue']);

let dir: string;
let db: string;
let reader: Store;
let segments: { segment: string; customers: number }[];
/** The segment used for the segment exports: "At Risk" when the run produced it. */
let segment: string;
/** reference() of customers, the segment and keyaccounts, computed once. */
const expectedOf: Record<string, Row[]> = {};

function ok(r: CliResult): CliResult {
  if (r.code !== 0) throw new Error(`crm failed (${r.code}): ${r.stderr}`);
  return r;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** What an export of `target` must hold, straight from the tables, in the documented order. */
function reference(target: string): Row[] {
  const filter = target === 'customers' ? 'TRUE' : target === 'keyaccounts' ? 'm.is_key_account' : `m.rfm_segment = ${lit(target)}`;
  const order = target === 'keyaccounts' ? 'm.net_revenue' : 'm.clv';
  return sql<Row>(
    db,
    `WITH c AS (SELECT * FROM customers QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY load_id DESC, source_row DESC) = 1)
     SELECT m.customer_id, c.name, c.email, c.phone, m.rfm_segment, m.r_score, m.frequency, m.monetary,
            CAST(m.last_purchase AS VARCHAR) AS last_purchase, m.clv, m.net_revenue, m.is_key_account
     FROM customer_latest m LEFT JOIN c USING (customer_id)
     WHERE ${filter}
     ORDER BY ${order} DESC NULLS LAST, m.customer_id`,
  );
}


const isoDay = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as number | Date).toISOString().slice(0, 10));

/** Read an export back into { header, rows }, values typed the way `crm query --format json` types them. */
async function readBack(file: string, format: Format): Promise<{ header: string[]; rows: Row[] }> {
  switch (format) {
    case 'csv': {
      const [header, ...records] = parseCsv(fs.readFileSync(file, 'utf8'));
      const rows = records.map((r) =>
        Object.fromEntries(
          header.map((h, i): [string, Value] => {
            const v = r[i];
            if (v === '') return [h, null];
            if (NUMERIC.has(h)) return [h, Number(v)];
            if (h === 'is_key_account') return [h, v === 'true'];
            return [h, v];
          }),
        ),
      );
      return { header, rows };
    }
    case 'xlsx': {
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile(file);
      expect(wb.worksheets).toHaveLength(1);
      const ws = wb.worksheets[0];
      const header = (ws.getRow(1).values as unknown[]).slice(1).map(String);
      const rows: Row[] = [];
      for (let r = 2; r <= ws.rowCount; r++) {
        const row = ws.getRow(r);
        rows.push(
          Object.fromEntries(
            header.map((h, c): [string, Value] => {
              const v = row.getCell(c + 1).value as Value | Date | undefined;
              if (v instanceof Date) return [h, isoDay(v)];
              return [h, v ?? null];
            }),
          ),
        );
      }
      return { header, rows };
    }
    case 'parquet':
    case 'json': {
      const fn = format === 'parquet' ? 'read_parquet' : 'read_json';
      const described = await reader.all<{ column_name: string }>(`DESCRIBE SELECT * FROM ${fn}(${lit(file)})`);
      const rows = (await reader.all(`SELECT * FROM ${fn}(${lit(file)})`)) as Row[];
      if (format === 'json') {
        // The file itself is one JSON array of objects with the same keys, in column order.
        const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Row[];
        expect(parsed.length).toBe(rows.length);
        if (parsed.length) expect(Object.keys(parsed[0])).toEqual(described.map((d) => d.column_name));
      }
      return { header: described.map((d) => d.column_name), rows };
    }
    case 'arrow': {
      const table = tableFromIPC(fs.readFileSync(file));
      const header = table.schema.fields.map((f) => f.name);
      const rows = table.toArray().map((r) => {
        const o = r.toJSON() as Record<string, unknown>;
        return Object.fromEntries(
          header.map((h): [string, Value] => [h, h === 'last_purchase' ? isoDay(o[h]) : ((o[h] ?? null) as Value)]),
        );
      });
      return { header, rows };
    }
  }
}

/** Formula-like text as CSV must carry it: with a visible quote in front. */
const csvText = (v: Value) => (typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v);

function pick(row: Row, columns: string[]): Row {
  return Object.fromEntries(columns.map((c) => [c, row[c] ?? null]));
}

beforeAll(async () => {
  dir = tempDir('crm-cli-export-');
  db = path.join(dir, 'crm.duckdb');
  ok(crm(['--db', db, '-q', 'ingest', 'customers', path.join(ROOT, 'data/sample/customers.csv')]));
  ok(crm(['--db', db, '-q', 'ingest', 'transactions', path.join(ROOT, 'data/sample/transactions.csv')]));
  ok(crm(['--db', db, '-q', 'run']));
  segments = JSON.parse(ok(crm(['--db', db, 'export', 'segments', '--json'])).stdout).segments;
  segment = segments.find((s) => s.segment === 'At Risk')?.segment ?? segments[0].segment;
  for (const name of ['customers', segment, 'keyaccounts']) expectedOf[name] = reference(name);
  reader = await Store.open(path.join(dir, 'reader.duckdb'), { create: true });
});

afterAll(() => {
  reader?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('crm export segments', () => {
  it('lists the segments of the latest run with their sizes, plus keyaccounts and customers', () => {
    const r = ok(crm(['--db', db, 'export', 'segments', '--json']));
    const listed = JSON.parse(r.stdout) as { segments: { segment: string; customers: number }[]; keyaccounts: number; customers: number };
    const expected = sql<{ segment: string; customers: number }>(
      db,
      'SELECT rfm_segment AS segment, count(*) AS customers FROM customer_latest GROUP BY ALL ORDER BY segment',
    );
    expect(listed.segments).toEqual(expected);
    expect(expected.length).toBeGreaterThan(3);
    const [counts] = sql<{ all: number; keys: number }>(db, 'SELECT count(*) AS "all", count(*) FILTER (WHERE is_key_account) AS keys FROM customer_latest');
    expect(listed.customers).toBe(counts.all);
    expect(listed.keyaccounts).toBe(counts.keys);

    const text = ok(crm(['--db', db, 'export', 'segments'])).stdout;
    for (const s of expected) expect(text).toMatch(new RegExp(`^${s.segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+${s.customers}$`, 'm'));
    expect(text).toContain(`keyaccounts (${counts.keys})`);
  });
});

describe('crm export segment: every format, read back', () => {
  const cases = ['customers', 'a segment', 'keyaccounts'].flatMap((which) => FORMATS.map((format): [string, Format] => [which, format]));
  it.each(cases)('%s as %s matches `crm query`', async (which, format) => {
    const name = which === 'a segment' ? segment : which;
    const expected = expectedOf[name];
    expect(expected.length).toBeGreaterThan(0);
    const out = path.join(dir, 'all', `${name.replace(/\W+/g, '-')}.${format}`);
    // The format comes from the extension; stdout is the JSON result only.
    const r = ok(crm(['--db', db, '-q', 'export', 'segment', name, '--out', out, '--json']));
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ rows: expected.length, path: out, format, masked_columns: [], warnings: [] });
    expect(result.bytes).toBe(fs.statSync(out).size);
    expect(result.columns).toEqual([...SEGMENT_EXPORT_COLUMNS]);

    const { header, rows } = await readBack(out, format);
    expect(header).toEqual(result.columns);
    expect(rows.length).toBe(expected.length);
    // Same customers in the same order, and exact values for the first few.
    expect(rows.map((x) => x.customer_id)).toEqual(expected.map((x) => x.customer_id));
    for (let i = 0; i < 3; i++) {
      const want = pick(expected[i], CHECKED);
      const got = pick(rows[i], CHECKED);
      if (format === 'csv') for (const c of ['name', 'email', 'phone']) want[c] = csvText(want[c]);
      expect(got, `row ${i + 1}`).toEqual(want);
    }
  });

  it("the sample's '+' phone numbers: a visible quote in CSV, the value unchanged with quotePrefix in XLSX", async () => {
    for (const format of ['csv', 'xlsx']) {
      ok(crm(['--db', db, '-q', 'export', 'segment', 'customers', '--out', path.join(dir, 'all', `customers.${format}`), '--force']));
    }
    const cust = expectedOf.customers;
    const plus = cust.findIndex((r) => typeof r.phone === 'string' && r.phone.startsWith('+'));
    expect(plus).toBeGreaterThanOrEqual(0);
    const csv = parseCsv(fs.readFileSync(path.join(dir, 'all', 'customers.csv'), 'utf8'));
    expect(csv[plus + 1][3]).toBe(`'${cust[plus].phone}`);
    const phoneRefs = cust.map((r, i) => (typeof r.phone === 'string' && r.phone.startsWith('+') ? `D${i + 2}` : null)).filter((x) => x !== null);
    expect(quotePrefixedCells(path.join(dir, 'all', 'customers.xlsx'))).toEqual(phoneRefs);
    const xlsx = await readBack(path.join(dir, 'all', 'customers.xlsx'), 'xlsx');
    expect(xlsx.rows.map((r) => r.phone)).toEqual(cust.map((r) => r.phone));
  });

  it('segment names match ignoring case, dashes and underscores, including names with a quote', () => {
    const dashed = segment.toLowerCase().replace(/ /g, '-');
    const r = ok(crm(['--db', db, '-q', 'export', 'segment', dashed, '--out', path.join(dir, 'dashed.json'), '--json']));
    expect(JSON.parse(r.stdout)).toMatchObject({ target: 'segment', segment, rows: segments.find((s) => s.segment === segment)!.customers });
    const quoted = segments.find((s) => s.segment.includes("'"));
    if (quoted) {
      const q = ok(crm(['--db', db, '-q', 'export', 'segment', quoted.segment.toUpperCase(), '--out', path.join(dir, 'quoted.csv'), '--json']));
      expect(JSON.parse(q.stdout)).toMatchObject({ segment: quoted.segment, rows: quoted.customers });
    }
  });

  it('prints rows, path, format and columns for people', () => {
    const out = path.join(dir, 'human', 'keys.parquet');
    const r = ok(crm(['--db', db, 'export', 'segment', 'keyaccounts', '--out', out, '--columns', 'customer_id,net_revenue', '--mask-pii']));
    const keys = expectedOf.keyaccounts.length;
    expect(r.stdout).toBe(
      `${keys} rows of keyaccounts written to ${out} (parquet, ${r.stdout.match(/\(parquet, ([^)]+)\)/)?.[1]})\n` +
        'columns: customer_id, net_revenue\n' +
        'masked: none (no e-mail or phone column exported)\n',
    );
  });
});

describe('crm export segment: options', () => {
  it.each(FORMATS)('--mask-pii leaves no clear-text e-mail address of `customers` in %s', async (format) => {
    const emails = sql<{ email: string }>(db, 'SELECT DISTINCT email FROM customers WHERE email LIKE \'%@%\'').map((r) => r.email);
    expect(emails.length).toBeGreaterThan(400);
    const localParts = emails.map((e) => e.slice(0, e.indexOf('@'))).filter((l) => l.length > 1);
    const out = path.join(dir, 'masked', `customers.${format}`);
    const r = ok(crm(['--db', db, '-q', 'export', 'segment', 'customers', '--out', out, '--mask-pii', '--json']));
    expect(JSON.parse(r.stdout).masked_columns).toEqual(['email', 'phone']);
    // Decoded values: every e-mail is masked (first character, ***, the domain, which the
    // sample's dirty addresses such as `chris.johnson@` lack; no '@' at all: ***) ...
    const { rows } = await readBack(out, format);
    const masked = rows.map((x) => x.email).filter((e): e is string => typeof e === 'string');
    expect(masked.length).toBeGreaterThan(400);
    for (const e of masked) expect(e).toMatch(/^(.\*\*\*@[^@]*|\*\*\*)$/u);
    for (const x of rows) expect(String(x.phone ?? '')).not.toMatch(/\d{5}/);
    // ... and no clear-text address or local part is anywhere in the file's bytes (XLSX: in
    // any zipped part; Parquet pages may be compressed, so its decoded values above count).
    const text = format === 'xlsx' ? xlsxText(out) : fs.readFileSync(out).toString('utf8');
    expect(emails.filter((e) => text.includes(e))).toEqual([]);
    if (format !== 'parquet') expect(localParts.filter((l) => text.includes(`${l}@`))).toEqual([]);
  });

  it.each(FORMATS)('--columns picks the columns in the given order (%s)', async (format) => {
    const expected = expectedOf[segment].map((r) => ({ clv: r.clv, customer_id: r.customer_id, email: r.email }));
    const out = path.join(dir, 'columns', `subset.${format}`);
    const r = ok(crm(['--db', db, '-q', 'export', 'segment', segment, '--format', format, '--out', out, '--columns', 'clv, CUSTOMER_ID,email', '--json']));
    expect(JSON.parse(r.stdout).columns).toEqual(['clv', 'customer_id', 'email']);
    const { header, rows } = await readBack(out, format);
    expect(header).toEqual(['clv', 'customer_id', 'email']);
    expect(rows).toEqual(expected);
  });

  it('an unknown --columns name is a usage error naming the available columns', () => {
    const bad = crm(['--db', db, 'export', 'segment', segment, '--out', path.join(dir, 'columns', 'bad.csv'), '--columns', 'customer_id,nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/nope/);
    expect(bad.stderr).toMatch(/customer_id/);
    expect(fs.existsSync(path.join(dir, 'columns', 'bad.csv'))).toBe(false);
  });

  it('an existing file is refused (exit 5, untouched) without --force and replaced with it', () => {
    const out = path.join(dir, 'force', 'keys.csv');
    ok(crm(['--db', db, '-q', 'export', 'segment', 'keyaccounts', '--out', out, '--columns', 'customer_id']));
    const before = fs.readFileSync(out);
    const mtime = fs.statSync(out).mtimeMs;

    const refused = crm(['--db', db, 'export', 'segment', 'keyaccounts', '--out', out, '--columns', 'customer_id,clv']);
    expect(refused.code).toBe(5);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`crm: error: ${out} already exists`);
    expect(refused.stderr).toContain('--force');
    expect(refused.stderr).not.toContain('exporting'); // refused before any progress output
    expect(fs.readFileSync(out).equals(before)).toBe(true);
    expect(fs.statSync(out).mtimeMs).toBe(mtime);

    ok(crm(['--db', db, '-q', 'export', 'segment', 'keyaccounts', '--out', out, '--columns', 'customer_id,clv', '--force']));
    const header = parseCsv(fs.readFileSync(out, 'utf8'))[0];
    expect(header).toEqual(['customer_id', 'clv']);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['keys.csv']); // no temporary file left
  });

  it('--bom starts a CSV with the UTF-8 byte-order mark', () => {
    const out = path.join(dir, 'bom', 'seg.csv');
    ok(crm(['--db', db, '-q', 'export', 'segment', segment, '--out', out, '--bom']));
    expect(fs.readFileSync(out).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const refused = crm(['--db', db, 'export', 'segment', segment, '--out', path.join(dir, 'bom', 'seg.xlsx'), '--bom']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--bom applies to CSV exports only');
  });

  it('--format defaults from the extension; an unknown extension needs --format; a mismatch warns', () => {
    const noExt = crm(['--db', db, 'export', 'segment', segment, '--out', path.join(dir, 'fmt', 'list.txt')]);
    expect(noExt.code).toBe(2);
    expect(noExt.stderr).toContain('cannot tell the export format from the file name "list.txt"');
    expect(noExt.stderr).toContain('--format');

    const txt = ok(crm(['--db', db, '-q', 'export', 'segment', segment, '--out', path.join(dir, 'fmt', 'list.txt'), '--format', 'CSV', '--json']));
    expect(JSON.parse(txt.stdout).format).toBe('csv');

    const feather = ok(crm(['--db', db, '-q', 'export', 'segment', segment, '--out', path.join(dir, 'fmt', 'list.feather'), '--json']));
    expect(JSON.parse(feather.stdout).format).toBe('arrow');

    // A mismatch is allowed but warned about, even with --quiet.
    const mismatch = ok(crm(['--db', db, '-q', 'export', 'segment', segment, '--out', path.join(dir, 'fmt', 'list.csv'), '--format', 'json']));
    expect(mismatch.stderr).toBe('warning: writing json to list.csv, whose extension suggests csv\n');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'fmt', 'list.csv'), 'utf8'))).toHaveLength(segments.find((s) => s.segment === segment)!.customers);

    const bad = crm(['--db', db, 'export', 'segment', segment, '--out', path.join(dir, 'fmt', 'x.csv'), '--format', 'xls']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('crm: error: unknown export format "xls"\n  Use one of: csv, xlsx, parquet, arrow, json.\n');
  });

  it('an unknown segment is a usage error that lists the segments present', () => {
    const out = path.join(dir, 'unknown', 'x.csv');
    const r = crm(['--db', db, 'export', 'segment', 'Whales', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('crm: error: unknown segment "Whales"');
    for (const s of segments) expect(r.stderr).toContain(`${s.segment} (${s.customers})`);
    expect(r.stderr).toContain('keyaccounts');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('before `crm run`: exit 4 asking for `crm run`, and no file', () => {
    const fresh = path.join(dir, 'fresh.duckdb');
    ok(crm(['--db', fresh, '-q', 'ingest', 'customers', path.join(ROOT, 'data/sample/customers.csv')]));
    const out = path.join(dir, 'norun', 'x.csv');
    for (const args of [['export', 'segment', 'customers', '--out', out], ['export', 'segments']]) {
      const r = crm(['--db', fresh, ...args]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/^crm: error: no model run in .*fresh\.duckdb yet\n {2}Run `crm run` first/);
    }
    expect(fs.existsSync(out)).toBe(false);
    const missing = crm(['--db', path.join(dir, 'missing.duckdb'), 'export', 'segment', 'customers', '--out', out]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('no store at');
  });

  it('reads the store read-only: the one thing it writes is its audit row (issue #11), and no WAL is left', () => {
    // The export reads through a read-only store; only the audit row needs a (short) write.
    const tables = "SELECT table_name, estimated_size FROM duckdb_tables() WHERE table_name <> 'audit' ORDER BY ALL";
    const before = { tables: sql(db, tables), audit: sql(db, 'SELECT count(*) AS n FROM audit')[0].n as number };
    ok(crm(['--db', db, '-q', 'export', 'segment', 'customers', '--out', path.join(dir, 'ro', 'c.csv')]));
    expect(sql(db, tables)).toEqual(before.tables);
    expect(sql(db, 'SELECT count(*) AS n FROM audit')[0].n).toBe(before.audit + 1);
    expect(fs.existsSync(`${db}.wal`)).toBe(false);
  });
});
