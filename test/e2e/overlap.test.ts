/**
 * The same export saved again under another name, plus two lines, used to load every row again
 * and double revenue silently. Now it is refused (exit 3) with the counts and the earlier file;
 * --append loads it all anyway, --skip-overlap loads only the two new lines; crm quality keeps
 * reporting overlaps that were forced in.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { crm, ROOT, sql, tempDir } from '../helpers/cli.js';

const dir = tempDir('crm-overlap-e2e-');
const at = (name: string) => path.join(dir, name);
const EXPORT = path.join(ROOT, 'data/sample/transactions.csv');
/** Two new lines in the export's own columns: amounts 10.00 and 2 × 5.50. */
const NEW_LINES = '2000001,C9999,2025-01-01,P1,Cat,web,1,10.00\n2000002,C9999,2025-01-02,P2,Cat,web,2,5.50\n';
const NEW_REVENUE = 210_000n; // 21.0000 in units of 0.0001

/** Exact revenue of the store, in units of 0.0001 (amounts are DECIMAL(18,4)). */
function revenue(db: string): bigint {
  const [{ r }] = sql<{ r: string }>(db, 'SELECT CAST(CAST(sum(amount) * 10000 AS HUGEINT) AS VARCHAR) AS r FROM transactions');
  return BigInt(r);
}

function ingest(db: string, args: string[]) {
  return crm(['--db', db, 'ingest', 'transactions', ...args], { cwd: dir });
}

/** A store with the export loaded once, copied for each case. */
function storeWithExport(name: string): string {
  const base = at('base.duckdb');
  if (!fs.existsSync(base)) {
    const r = ingest(base, ['-q', 'export.csv']);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  fs.copyFileSync(base, at(name));
  return at(name);
}

let exportRevenue: bigint;
let exportRows: number;

beforeAll(() => {
  fs.copyFileSync(EXPORT, at('export.csv'));
  const text = fs.readFileSync(EXPORT, 'utf8');
  fs.writeFileSync(at('export (1).csv'), text + NEW_LINES);
  const base = storeWithExport('probe.duckdb');
  exportRevenue = revenue(base);
  exportRows = Number(sql<{ n: number }>(base, 'SELECT count(*) AS n FROM transactions')[0].n);
});

describe('the same export saved again under another name, plus two lines', () => {
  it('is refused with the counts and the earlier file named, and nothing loads', () => {
    const db = storeWithExport('refused.duckdb');
    const r = ingest(db, ['export (1).csv']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `crm: error: export (1).csv: ${exportRows.toLocaleString('en-US')} of its ${(exportRows + 2).toLocaleString('en-US')} rows (99.9 %) were loaded before from other files: export.csv (load 1, ${exportRows.toLocaleString('en-US')} rows); nothing was loaded`,
    );
    expect(r.stderr).toContain('--skip-overlap loads only the 2 new rows');
    expect(r.stderr).toContain('--append loads all');
    expect(revenue(db)).toBe(exportRevenue);
    expect(sql(db, 'SELECT count(*) AS n FROM loads')).toEqual([{ n: 1 }]);
  });

  it('--skip-overlap loads only the two new lines; the others are rejected as already_loaded and the totals reconcile', () => {
    const db = storeWithExport('skip.duckdb');
    const r = ingest(db, ['export (1).csv', '--skip-overlap', '--json']);
    expect(r.code).toBe(0);
    const file = JSON.parse(r.stdout).files[0];
    expect(file).toMatchObject({ rows_loaded: 2, overlap: { rows: exportRows, valid_rows: exportRows + 2, decision: 'skipped', earlier: [{ load_id: 1, file: 'export.csv', rows: exportRows }] } });
    expect(file.rejected_by_reason.already_loaded).toBe(exportRows);
    expect(file.rows_read).toBe(file.rows_loaded + file.rows_rejected);
    expect(revenue(db)).toBe(exportRevenue + NEW_REVENUE);
    // Each skipped row names the earlier row it repeats (identical lines inside the export pair one to one).
    expect(
      sql(
        db,
        `SELECT count(*) AS n, count(DISTINCT regexp_extract(detail, 'row (\\d+)', 1)) AS earlier_rows FROM rejects WHERE reason = 'already_loaded' AND detail LIKE '%export.csv row % (load 1)'`,
      ),
    ).toEqual([{ n: exportRows, earlier_rows: exportRows }]);
    expect(sql(db, `SELECT options->'overlap'->>'decision' AS decision FROM loads WHERE load_id = 2`)).toEqual([{ decision: 'skipped' }]);
    // Nothing was forced in: quality has no overlap to report.
    const quality = JSON.parse(crm(['--db', db, 'quality', '--json']).stdout);
    expect(quality.overlaps).toEqual({ rows: 0, loads: [] });
  });

  it('--append loads every row again (both copies count), and crm quality reports the overlap', () => {
    const db = storeWithExport('append.duckdb');
    const r = ingest(db, ['export (1).csv', '--append']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`export (1).csv: ${(exportRows + 2 + 11).toLocaleString('en-US')} rows read = ${(exportRows + 2).toLocaleString('en-US')} loaded + 11 rejected (load 2)`);
    expect(r.stdout).toContain(`note: ${exportRows.toLocaleString('en-US')} rows (99.9 %) repeat rows loaded before from export.csv (load 1, ${exportRows.toLocaleString('en-US')} rows): loaded again (--append)`);
    expect(revenue(db)).toBe(2n * exportRevenue + NEW_REVENUE);
    expect(sql(db, `SELECT options->'overlap'->>'decision' AS decision, CAST(options->'overlap'->>'rows' AS INTEGER) AS rows FROM loads WHERE load_id = 2`)).toEqual([
      { decision: 'appended', rows: exportRows },
    ]);
    const quality = crm(['--db', db, 'quality', '--json']);
    const report = JSON.parse(quality.stdout);
    expect(report.overlaps).toEqual({ rows: exportRows, loads: [{ load_id: 2, file: 'export (1).csv', rows: exportRows, from_earlier_sheets: 0 }] });
    expect(report.findings).toContainEqual(expect.objectContaining({ check: 'overlapping_loads', severity: 'warning', count: exportRows }));
    expect(crm(['--db', db, 'quality']).stdout).toContain(`! ${exportRows.toLocaleString('en-US')} transaction rows repeat a row of an earlier load from another file and count twice (load 2 export (1).csv)`);
  });

  it('is caught in the same command too: the second file overlaps the first', () => {
    const db = at('same-command.duckdb');
    const refused = ingest(db, ['export.csv', 'export (1).csv']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('were loaded before from other files: export.csv (earlier in this command,');
    expect(fs.existsSync(db) ? sql(db, 'SELECT count(*) AS n FROM loads') : [{ n: 0 }]).toEqual([{ n: 0 }]);
    const skipped = ingest(db, ['-q', 'export.csv', 'export (1).csv', '--skip-overlap']);
    expect(skipped.code).toBe(0);
    expect(revenue(db)).toBe(exportRevenue + NEW_REVENUE);
    expect(sql(db, `SELECT detail FROM rejects WHERE reason = 'already_loaded' LIMIT 1`)[0].detail).toMatch(/export\.csv row \d+ \(earlier in this command\)$/);
  });

  it('a few overlapping rows (under half the file) load, and the report and crm quality note them', () => {
    const db = storeWithExport('few.duckdb');
    const lines = fs.readFileSync(EXPORT, 'utf8').split('\n');
    // Header, 3 lines of the export (distinct ones), and 5 new lines.
    const fresh = Array.from({ length: 5 }, (_, i) => `300000${i},C7777,2025-02-0${i + 1},P9,Cat,web,1,1.00`);
    fs.writeFileSync(at('few.csv'), [lines[0], lines[1], lines[5], lines[9], ...fresh].join('\n') + '\n');
    const r = ingest(db, ['few.csv']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('few.csv: 8 rows read = 8 loaded + 0 rejected (load 2)');
    expect(r.stdout).toContain('note: 3 rows (37.5 %) repeat rows loaded before from export.csv (load 1, 3 rows): loaded again (fewer than 50.0 % of the file)');
    expect(JSON.parse(crm(['--db', db, 'quality', '--json']).stdout).overlaps.rows).toBe(3);
  });

  it('a grown file at the same path: refused as changed, --skip-overlap adds only its new lines', () => {
    const grownDir = at('grown');
    fs.mkdirSync(grownDir);
    const db = path.join(grownDir, 'crm.duckdb');
    fs.copyFileSync(EXPORT, path.join(grownDir, 'export.csv'));
    expect(crm(['--db', db, '-q', 'ingest', 'transactions', 'export.csv'], { cwd: grownDir }).code).toBe(0);
    fs.appendFileSync(path.join(grownDir, 'export.csv'), NEW_LINES);
    const refused = crm(['--db', db, 'ingest', 'transactions', 'export.csv'], { cwd: grownDir });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('--skip-overlap to add only the rows not loaded before');
    const grown = crm(['--db', db, '-q', 'ingest', 'transactions', 'export.csv', '--skip-overlap'], { cwd: grownDir });
    expect(grown.code).toBe(0);
    expect(grown.stdout).toContain(`export.csv: ${(exportRows + 2 + 11).toLocaleString('en-US')} rows read = 2 loaded + ${(exportRows + 11).toLocaleString('en-US')} rejected (load 2)`);
    expect(revenue(db)).toBe(exportRevenue + NEW_REVENUE);
  });
});

describe('flags that exclude each other are usage errors (exit 2)', () => {
  it.each([
    [['--replace', '--append'], '--replace and --append exclude each other'],
    [['--skip-overlap', '--append'], '--skip-overlap and --append exclude each other'],
  ])('%j', (flags, message) => {
    const db = at('flags.duckdb');
    const r = ingest(db, ['export.csv', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`crm: error: ${message}`);
    expect(fs.existsSync(db) && sql(db, 'SELECT count(*) AS n FROM loads')[0].n).toBeFalsy();
  });

  it('--skip-overlap on customers', () => {
    const r = crm(['--db', at('customers.duckdb'), 'ingest', 'customers', path.join(ROOT, 'data/sample/customers.csv'), '--skip-overlap']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--skip-overlap applies to transactions and contracts only');
  });
});

/**
 * A workbook written by exceljs (as a spreadsheet program would, with shared strings). Not the
 * fixture zip writer: exceljs's stream reader intermittently skips the second sheet of those tiny
 * inline-string workbooks (a sheet it skips is refused as unreadable, never lost silently).
 */
async function writeWorkbook(file: string, sheets: { name: string; rows: Cell[][] }[]): Promise<void> {
  const book = new ExcelJS.Workbook();
  for (const sheet of sheets) book.addWorksheet(sheet.name).addRows(sheet.rows);
  await book.xlsx.writeFile(file);
}

type Cell = string | number;

describe('sheets of one workbook that repeat each other', () => {
  const HEADER: Cell[] = ['Invoice', 'Customer ID', 'InvoiceDate', 'Amount'];
  const L1: Cell[] = ['X1', 'K1', '2024-03-01 10:00:00', 10];
  const L2: Cell[] = ['X2', 'K2', '2024-03-02 11:00:00', 20];
  const L3: Cell[] = ['X3', 'K3', '2024-03-03 12:00:00', 30];
  const L4: Cell[] = ['X4', 'K4', '2024-03-04 13:00:00', 40];

  it('a sheet repeating under half of the workbook loads, with a note naming the earlier sheet, counted with multiplicity; crm quality reports it', async () => {
    // "Jan" holds L1 twice: of the second sheet's three L1, two repeat it and one is new.
    await writeWorkbook(at('border.xlsx'), [
      { name: 'Jan', rows: [HEADER, L1, L1, L2, L3] },
      { name: 'Jan and Feb', rows: [HEADER, L1, L2, L3, L1, L1, L4] },
    ]);
    const db = at('border.duckdb');
    const r = ingest(db, ['border.xlsx', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [file] = JSON.parse(r.stdout).files;
    expect(file).toMatchObject({ rows_read: 10, rows_loaded: 10, overlap: { rows: 4, valid_rows: 10, decision: 'loaded', earlier: [{ load_id: null, file: 'border.xlsx', sheet: 'Jan', rows: 4 }] } });
    expect(file.notes).toContain('4 rows (40.0 %) repeat rows of sheet "Jan" earlier in this workbook (4 rows): loaded again (fewer than 50.0 % of the file): both copies count; crm quality reports them');
    const quality = JSON.parse(crm(['--db', db, 'quality', '--json']).stdout);
    expect(quality.overlaps).toEqual({ rows: 4, loads: [{ load_id: 1, file: 'border.xlsx', rows: 4, from_earlier_sheets: 4 }] });
    expect(crm(['--db', db, 'quality']).stdout).toContain('! 4 transaction rows repeat a row of an earlier sheet of the same workbook and count twice (load 1 border.xlsx)');
  });

  it('a sheet that copies the one before is refused; --skip-overlap loads one copy, rejecting the other rows as already_loaded with the sheet and row they repeat', async () => {
    await writeWorkbook(at('copies.xlsx'), [
      { name: 'Mar', rows: [HEADER, L1, L2, L3] },
      { name: 'Mar (copy)', rows: [HEADER, L1, L2, L3] },
    ]);
    const db = at('copies.duckdb');
    const refused = ingest(db, ['copies.xlsx']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('crm: error: copies.xlsx: 3 of its 6 rows (50.0 %) repeat rows of sheet "Mar" earlier in this workbook (3 rows); nothing was loaded');
    expect(fs.existsSync(db) ? sql(db, 'SELECT count(*) AS n FROM loads') : [{ n: 0 }]).toEqual([{ n: 0 }]);
    const skipped = ingest(db, ['copies.xlsx', '--skip-overlap', '--json']);
    expect(skipped.code, skipped.stderr).toBe(0);
    const [file] = JSON.parse(skipped.stdout).files;
    expect(file.tables.map((t: { sheet: string; rows_read: number; rows_loaded: number; rejected_by_reason: object }) => [t.sheet, t.rows_read, t.rows_loaded, t.rejected_by_reason])).toEqual([
      ['Mar', 3, 3, {}],
      ['Mar (copy)', 3, 0, { already_loaded: 3 }],
    ]);
    expect(sql(db, 'SELECT sum(amount) AS revenue FROM transactions')).toEqual([{ revenue: 60 }]);
    expect(sql(db, `SELECT source_sheet, source_row, detail FROM rejects WHERE reason = 'already_loaded' ORDER BY source_row LIMIT 1`)).toEqual([
      {
        source_sheet: 'Mar (copy)',
        source_row: 2,
        detail: 'the same line (customer, order id, date and time, product, quantity, amount) is in an earlier sheet of this workbook: sheet "Mar" row 2',
      },
    ]);
  });
});
