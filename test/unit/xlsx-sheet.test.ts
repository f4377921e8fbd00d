/**
 * A worksheet becomes a temporary table holding only the columns that have a value: a sheet
 * naming thousands of columns and filling a few reads in little memory, and a sheet too large
 * for the memory cap anyway is an input error saying what to do, not DuckDB's tuning advice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { workbook, type Cell } from '../../scripts/fixtures/xlsx.js';
import { openSource, type OpenedSource } from '../../src/ingest/sources.js';
import { Store } from '../../src/store/db.js';
import { tempDir } from '../helpers/cli.js';
import { readZip, writeZipInOrder } from '../helpers/xlsx.js';

const dir = tempDir('crm-xlsx-sheet-');
const write = (name: string, bytes: Buffer) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
};

let store: Store | null = null;
let opened: OpenedSource | null = null;
afterEach(async () => {
  await opened?.cleanup();
  store?.close();
  store = opened = null;
});

async function open(file: string, memoryLimit?: string): Promise<OpenedSource> {
  store = await Store.open(path.join(tempDir('crm-xlsx-store-'), 'crm.duckdb'), { create: true, memoryLimit });
  opened = await openSource(store, file, { format: 'xlsx', tag: 'sheet_test', label: path.basename(file) });
  return opened;
}

describe('XLSX: a sheet as a table of the columns that hold values', () => {
  it('stores only the columns with a value (in sheet order, one filled late), lists the empty ones, keeps cells beyond the header', async () => {
    const width = 3000;
    const header: Cell[] = ['Invoice', 'Customer ID', 'Note', 'InvoiceDate', 'Amount', ...Array.from({ length: width - 5 }, (_, i) => `extra ${i + 1}`)];
    const rows: Cell[][] = [header];
    for (let r = 0; r < 300; r++) rows.push([`X${r}`, `K${r}`, null, '2024-05-01', r]);
    rows.push(['X-late', 'K-late', 'filled late', '2024-05-02', 7]);
    const beyond: Cell[] = ['X-beyond', 'K-beyond', null, '2024-05-03', 8];
    beyond[width + 2] = 'stray';
    rows.push(beyond.map((c) => c ?? null));
    const { tables } = await open(write('wide.xlsx', workbook([{ name: 'Wide', rows }])));
    expect(tables).toHaveLength(1);
    const [t] = tables;
    expect(t.headers).toEqual(['Invoice', 'Customer ID', 'Note', 'InvoiceDate', 'Amount']);
    expect(t.fileHeaders).toEqual(t.headers);
    expect(t.emptyColumns).toHaveLength(width - 5);
    expect(t.emptyColumns!.slice(0, 2)).toEqual(['extra 1', 'extra 2']);
    const stored = await store!.all<{ Invoice: string; Note: string | null; __row: bigint; __extra: string | null }>(
      `SELECT "Invoice", "Note", "__row", "__extra" FROM ${t.relation}`,
    );
    expect(stored).toHaveLength(302);
    expect(stored[0]).toMatchObject({ Invoice: 'X0', Note: null, __extra: null });
    expect(Number(stored[0].__row)).toBe(2);
    expect(stored[300]).toMatchObject({ Invoice: 'X-late', Note: 'filled late', __extra: null });
    expect(stored[301]).toMatchObject({ Invoice: 'X-beyond', __extra: '["stray"]' });
  });

  it('keeps every header column of a sheet without rows (nothing says they are empty)', async () => {
    const { tables } = await open(write('header-only.xlsx', workbook([{ name: 'S', rows: [['Invoice', 'Customer ID', 'InvoiceDate', 'Amount']] }])));
    expect(tables[0].headers).toEqual(['Invoice', 'Customer ID', 'InvoiceDate', 'Amount']);
    expect(tables[0].emptyColumns).toBeUndefined();
    expect(Number(await store!.value<number>(`SELECT count(*) FROM ${tables[0].relation}`))).toBe(0);
  });

  it('a sheet too large for the memory cap is an input error (exit 3) that says to save it as CSV', async () => {
    const width = 800;
    const header: Cell[] = Array.from({ length: width }, (_, i) => (i === 0 ? 'Customer ID' : `c${i}`));
    const rows: Cell[][] = [header, ...Array.from({ length: 20 }, (_, r) => Array.from({ length: width }, (_, c) => `v${r}.${c}`))];
    const file = write('too-wide.xlsx', workbook([{ name: 'Wide', rows }]));
    let error: { message: string; exitCode?: number; details?: string[] } | null = null;
    try {
      await open(file, '16MB');
    } catch (err) {
      error = err as typeof error;
    }
    expect(error).not.toBeNull();
    expect(error!.exitCode).toBe(3);
    expect(error!.message).toBe('too-wide.xlsx: the workbook is too large to read within the memory limit (sheet "Wide", 800 columns); nothing was loaded');
    expect(error!.details?.[0]).toMatch(/^Save the sheet as CSV/);
    // The limit in the user's terms: no budget was given, so the command's cap is DuckDB's.
    expect(error!.details?.[1]).toBe("Or delete the columns and rows that hold nothing, or give the command more memory with --memory-limit (now: DuckDB's memory limit 16MB (default); e.g. --memory-limit 4GB, of which DuckDB gets 3GB).");
    expect([error!.message, ...error!.details!].join('\n')).not.toMatch(/memory_limit|PRAGMA|SET /);
  });
});

describe('XLSX: the order of the parts inside the ZIP', () => {
  it('reads a workbook that stores xl/workbook.xml after its worksheet (legal; exceljs itself writes it so at times) with its sheet name', async () => {
    // One sheet: with two, exceljs's streaming reader may lose the second when it parses sheets on
    // sight (the unread-sheet guard then refuses the file, exit 3, rather than load part of it).
    const original = write('ordered.xlsx', workbook([
      { name: 'Jan', rows: [['Invoice', 'Customer ID', 'InvoiceDate', 'Amount'], ['X1', 'K1', '2024-03-01', 10], ['X2', 'K2', '2024-03-02', 20]] },
    ]));
    const parts = [...readZip(original).entries()];
    const late = (name: string) => name === 'xl/workbook.xml';
    const isSheet = (name: string) => /^xl\/worksheets\/sheet\d+\.xml$/.test(name);
    // Relations first (so exceljs parses the sheet on sight), then the sheet, then the workbook part.
    const reordered = [...parts.filter(([n]) => !late(n) && !isSheet(n)), ...parts.filter(([n]) => isSheet(n)), ...parts.filter(([n]) => late(n))];
    expect(reordered.map(([n]) => n).at(-1)).toBe('xl/workbook.xml');
    const file = path.join(dir, 'workbook-part-last.xlsx');
    writeZipInOrder(file, reordered);
    const { tables } = await open(file);
    expect(tables.map((t) => [t.sheet, t.headers])).toEqual([['Jan', ['Invoice', 'Customer ID', 'InvoiceDate', 'Amount']]]);
    expect(await store!.all(`SELECT "Invoice" FROM ${tables[0].relation} ORDER BY "__row"`)).toEqual([{ Invoice: 'X1' }, { Invoice: 'X2' }]);
  });
});
