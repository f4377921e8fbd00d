/**
 * One customer, one id, in process: `crm quality --suggest-merges` on the fixtures in
 * test/fixtures/merges (e-mail, phone, name + region, a group linked through a third record; no
 * pair across regions, for a common name, for contradicting contacts or for two short names one
 * letter apart; the audit row of each file), and `crm ingest merges` — every reject reason with its column and sentence, row
 * accounting, the store's checks against merges in effect, --replace, no personal data stored —
 * and `crm merges` / `crm merges undo`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, type IngestReport } from '../../src/ingest/index.js';
import { resolveMapping } from '../../src/ingest/mapping.js';
import { customerMergesIn, formatCustomerMerges, listMerges, undoMerge } from '../../src/merges/list.js';
import { suggestMerges, SUGGESTION_COLUMNS } from '../../src/merges/suggest.js';
import { Store } from '../../src/store/db.js';
import type { DatasetKind } from '../../src/ingest/fields.js';
import { createReporter } from '../../src/util/log.js';
import { createProgress } from '../../src/util/progress.js';
import { tempDir } from '../helpers/cli.js';
import { parseCsv } from '../helpers/csv.js';

const FIXTURES = path.resolve('test/fixtures/merges');

/** A CSV file as objects by header. */
function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

async function load(db: string, kind: DatasetKind, file: string, replace = false): Promise<IngestReport> {
  return ingest({ kind, files: [file], storePath: db, replace, reporter: createReporter({ quiet: true }), progress: createProgress({ quiet: true }) });
}

async function query<T>(db: string, sql: string): Promise<T[]> {
  const store = await Store.open(db, { readOnly: true });
  try {
    return await store.all<T & Record<string, unknown>>(sql);
  } finally {
    store.close();
  }
}

let dir: string;
let db: string;
beforeAll(async () => {
  dir = tempDir('crm-merges-');
  db = path.join(dir, 'store.duckdb');
  await load(db, 'customers', path.join(FIXTURES, 'customers.csv'));
  await load(db, 'transactions', path.join(FIXTURES, 'transactions.csv'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('crm quality --suggest-merges', () => {
  let rows: Record<string, string>[];
  let out: string;
  beforeAll(async () => {
    out = path.join(dir, 'suggested.csv');
    const result = await suggestMerges({ storePath: db, out });
    expect(result).toMatchObject({ rows: 7, groups: 6, by_confidence: { high: 2, medium: 3, low: 2 }, masked: true, skipped: { common_names: 1 } });
    rows = csvObjects(fs.readFileSync(out, 'utf8'));
  });

  it('writes exactly the columns crm ingest merges reads first, then the evidence for the reviewer', () => {
    expect(Object.keys(rows[0])).toEqual([...SUGGESTION_COLUMNS]);
  });

  it('pairs a shared e-mail, a shared phone and a near-identical name in one region, each with its evidence and confidence; the longest history survives', () => {
    expect(rows.map((r) => [r.duplicate_id, r.surviving_id, r.confidence, r.evidence, r.linked_via])).toEqual([
      // Same e-mail (case, blanks), phone (+86 / 0086) and name (case): M002 bought first (2023-06), so it survives though M001 signed up earlier.
      ['M001', 'M002', 'high', 'email+name+phone+region', ''],
      // Phone written two ways and the full-width name.
      ['M004', 'M003', 'high', 'name+phone+region', ''],
      ['M006', 'M005', 'medium', 'phone', ''],
      ['M008', 'M007', 'medium', 'email', ''],
      ['M019', 'M018', 'medium', 'email', ''],
      // A typo in a long name, same region, no contact contradicting it.
      ['M010', 'M009', 'low', 'name+region', ''],
      // Linked to the survivor only through M019 (its phone): one group, no chain in the file.
      ['M020', 'M018', 'low', 'phone', 'M019'],
    ]);
  });

  it('makes no pair across regions, for a name held by 3 customers of a region, for contradicting e-mails, or for two short names one letter apart', () => {
    const ids = new Set(rows.flatMap((r) => [r.duplicate_id, r.surviving_id]));
    for (const id of ['M011', 'M012', 'M013', 'M014', 'M015', 'M016', 'M017', 'M021', 'M022']) expect(ids.has(id), id).toBe(false);
  });

  it('masks e-mails and phones in the file unless --show-pii; names stay for the reviewer', async () => {
    const first = rows[0];
    expect(first.duplicate_email).toBe('l***@example.com');
    expect(first.duplicate_phone).toMatch(/\*/);
    expect(first.duplicate_name).toBe('Li Na');
    const clear = path.join(dir, 'clear.csv');
    await suggestMerges({ storePath: db, out: clear, showPii: true });
    expect(csvObjects(fs.readFileSync(clear, 'utf8'))[0].duplicate_email).toBe('li.na@example.com');
  });

  it('refuses to replace the file without force', async () => {
    await expect(suggestMerges({ storePath: db, out })).rejects.toThrow(/already exists/);
  });

  it('records each file written in the audit trail: who, the file, how many customers, masked or not', async () => {
    const audit = await query<{ command: string; what: string; path: string; customers: number; rows: number; masked: boolean }>(
      db,
      "SELECT command, what, path, customers::INTEGER AS customers, rows::INTEGER AS rows, masked FROM audit WHERE command = 'quality --suggest-merges' ORDER BY audit_id",
    );
    expect(audit).toEqual([
      { command: 'quality --suggest-merges', what: 'merge suggestions', path: out, customers: 13, rows: 7, masked: true },
      { command: 'quality --suggest-merges', what: 'merge suggestions', path: path.join(dir, 'clear.csv'), customers: 13, rows: 7, masked: false },
    ]);
  });

  it('ingests as written: every suggested row loads', async () => {
    const copy = tempDir('crm-merges-copy-');
    const copyDb = path.join(copy, 'store.duckdb');
    fs.copyFileSync(db, copyDb);
    const report = await load(copyDb, 'merges', out);
    expect([report.totals.rows_read, report.totals.rows_loaded, report.totals.rows_rejected]).toEqual([7, 7, 0]);
    // A merged-away id is not suggested again.
    const again = await suggestMerges({ storePath: copyDb, out: path.join(copy, 'again.csv') });
    expect(again.rows).toBe(0);
    fs.rmSync(copy, { recursive: true, force: true });
  });
});

describe('crm ingest merges', () => {
  it('reads Chinese headers', () => {
    const { mapping } = resolveMapping({ kind: 'merges', headers: ['重复客户编号', '保留客户编号', '置信度', '依据'], sourceLabel: 'm.csv' });
    expect(mapping).toEqual({ duplicate_id: '重复客户编号', surviving_id: '保留客户编号', confidence: '置信度', evidence: '依据' });
  });

  it('rejects each bad row with its reason, column and sentence; rows reconcile; the file, not the store, decides nothing by guessing', async () => {
    const work = tempDir('crm-merges-rejects-');
    const store = path.join(work, 'store.duckdb');
    fs.copyFileSync(db, store);
    const file = path.join(work, 'merges.csv');
    fs.writeFileSync(
      file,
      [
        'duplicate_id,surviving_id,confidence,evidence,duplicate_name',
        'M001,M002,high,email+phone,Li Na', // 2 loads
        'M004,M003,HIGH,Phone + Name,Anna', // 3 loads (words folded)
        'M004,M003,high,phone,Anna', // 4 repeated_merge
        'M999,M002,low,name,x', // 5 unknown_duplicate_id
        'M005,M998,low,name,x', // 6 unknown_surviving_id
        'M006,M006,low,name,x', // 7 self_merge
        'M007,M008,sure,email,x', // 8 invalid_confidence
        'M009,M010,low,surname,x', // 9 invalid_evidence
        'M011,M012,low,name,x', // 10 merged_twice
        'M011,M013,low,name,x', // 11 merged_twice
        'M014,M015,low,name,x', // 12 merge_cycle
        'M015,M014,low,name,x', // 13 merge_cycle
        'M016,M001,low,name,x', // 14 chained_merge (M001 is merged into M002 by row 2)
        ',M002,low,name,x', // 15 missing_duplicate_id
      ].join('\n') + '\n',
    );
    const report = await load(store, 'merges', file);
    const f = report.files[0];
    expect([f.rows_read, f.rows_loaded, f.rows_rejected]).toEqual([14, 2, 12]);
    expect(f.rejected_by_reason).toEqual({
      repeated_merge: 1,
      unknown_duplicate_id: 1,
      unknown_surviving_id: 1,
      self_merge: 1,
      invalid_confidence: 1,
      invalid_evidence: 1,
      merged_twice: 2,
      merge_cycle: 2,
      chained_merge: 1,
      missing_duplicate_id: 1,
    });
    const rejects = await query<{ source_row: number; reason: string; column_name: string; detail: string }>(
      store,
      "SELECT source_row::INTEGER AS source_row, reason, column_name, detail FROM rejects WHERE kind = 'merges' ORDER BY source_row",
    );
    expect(rejects.map((r) => [r.source_row, r.reason, r.column_name])).toEqual([
      [4, 'repeated_merge', 'duplicate_id'],
      [5, 'unknown_duplicate_id', 'duplicate_id'],
      [6, 'unknown_surviving_id', 'surviving_id'],
      [7, 'self_merge', 'surviving_id'],
      [8, 'invalid_confidence', 'confidence'],
      [9, 'invalid_evidence', 'evidence'],
      [10, 'merged_twice', 'duplicate_id'],
      [11, 'merged_twice', 'duplicate_id'],
      [12, 'merge_cycle', 'duplicate_id'],
      [13, 'merge_cycle', 'duplicate_id'],
      [14, 'chained_merge', 'surviving_id'],
      [15, 'missing_duplicate_id', 'duplicate_id'],
    ]);
    const detail = Object.fromEntries(rejects.map((r) => [r.reason, r.detail]));
    expect(detail.unknown_duplicate_id).toBe('no customer, transaction or contract has the id "M999"');
    expect(detail.merged_twice).toBe('"M011" is merged into several ids in this file (M012, M013): none is loaded');
    expect(detail.chained_merge).toBe('"M001" is itself merged into "M002": name that id as the surviving id');
    expect(detail.self_merge).toMatch(/cannot be merged into itself/);

    const merges = await query<Record<string, unknown>>(store, 'SELECT merge_id, duplicate_id, surviving_id, confidence, evidence, source_row::INTEGER AS source_row, undone_at FROM merges ORDER BY merge_id');
    expect(merges).toEqual([
      { merge_id: 1, duplicate_id: 'M001', surviving_id: 'M002', confidence: 'high', evidence: 'email+phone', source_row: 2, undone_at: null },
      { merge_id: 2, duplicate_id: 'M004', surviving_id: 'M003', confidence: 'high', evidence: 'name+phone', source_row: 3, undone_at: null },
    ]);
    // Only ids, codes and provenance: the file's name column is not kept (no attributes column either).
    const columns = (await query<{ column_name: string }>(store, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'merges'")).map((c) => c.column_name);
    expect(columns).toEqual(['merge_id', 'duplicate_id', 'surviving_id', 'confidence', 'evidence', 'load_id', 'source_file', 'source_sheet', 'source_row', 'merged_at', 'undone_at', 'undone_by']);

    // Against the merges in effect: a duplicate merged before, a duplicate that keeps another's history, a survivor merged away.
    const second = path.join(work, 'second.csv');
    fs.writeFileSync(second, ['duplicate_id,surviving_id', 'M001,M005', 'M002,M005', 'M006,M004', 'M007,M008'].join('\n') + '\n');
    const r2 = (await load(store, 'merges', second)).files[0];
    expect(r2.rejected_by_reason).toEqual({ already_merged: 1, duplicate_is_survivor: 1, chained_merge: 1 });
    expect(r2.rows_loaded).toBe(1);
    const later = await query<{ reason: string; detail: string }>(store, `SELECT reason, detail FROM rejects WHERE load_id = ${r2.load_id} ORDER BY source_row`);
    expect(later).toEqual([
      { reason: 'already_merged', detail: '"M001" is already merged into "M002" (merge 1): undo it first with crm merges undo 1' },
      { reason: 'duplicate_is_survivor', detail: '"M002" keeps the history of "M001" (merge 1): undo that merge and merge both ids into the surviving id' },
      { reason: 'chained_merge', detail: '"M004" is itself merged into "M003": name that id as the surviving id' },
    ]);

    // --replace swaps the first file's merges for the new version's.
    fs.writeFileSync(file, 'duplicate_id,surviving_id\nM020,M018\n');
    const r3 = await load(store, 'merges', file, true);
    expect(r3.files[0].replaced_loads).toEqual([f.load_id]);
    expect((await query<{ duplicate_id: string }>(store, 'SELECT duplicate_id FROM customer_merges ORDER BY duplicate_id')).map((m) => m.duplicate_id)).toEqual(['M007', 'M020']);
    fs.rmSync(work, { recursive: true, force: true });
  });
});

describe('crm merges and crm merges undo', () => {
  it('lists merges, undoes one (stamped with when and who), and the 360° lines follow', async () => {
    const work = tempDir('crm-merges-undo-');
    const store = path.join(work, 'store.duckdb');
    fs.copyFileSync(db, store);
    const file = path.join(work, 'm.csv');
    fs.writeFileSync(file, 'duplicate_id,surviving_id,confidence,evidence\nM001,M002,high,email+phone\nM019,M018,medium,email\n');
    await load(store, 'merges', file);
    const s = await Store.open(store);
    try {
      const list = await listMerges(s);
      expect([list.in_effect, list.undone, list.merges.map((m) => m.status)]).toEqual([2, 0, ['in effect', 'in effect']]);
      const survivor = await customerMergesIn(s, 'M002');
      expect(survivor.merged_into).toBeNull();
      expect(formatCustomerMerges(survivor)[0]).toMatch(/^ {2}merged from M001 \(e-mail, phone, high\), \d{4}-\d{2}-\d{2}, merge 1$/);
      expect(formatCustomerMerges(await customerMergesIn(s, 'M001'))[0]).toMatch(/^ {2}merged into M002 \(e-mail, phone, high\), .*crm merges undo 1\)$/);

      const undone = await undoMerge(s, 1, { name: 'reviewer', source: 'flag' });
      expect(undone.changed).toBe(true);
      expect(undone.merge).toMatchObject({ status: 'undone', undone_by: 'reviewer' });
      expect((await undoMerge(s, 1, { name: 'someone', source: 'flag' })).changed).toBe(false);
      await expect(undoMerge(s, 7)).rejects.toThrow('no merge 7 in the store');
      expect(await customerMergesIn(s, 'M002')).toEqual({ merged_into: null, merged_from: [] });
      const after = await listMerges(s);
      expect([after.in_effect, after.undone]).toEqual([1, 1]);
      expect(after.merges[0]).toMatchObject({ merge_id: 1, status: 'undone', undone_by: 'reviewer' });
    } finally {
      s.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
