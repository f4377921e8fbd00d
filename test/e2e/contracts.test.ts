/**
 * `crm ingest contracts` with the real CLI on the committed Chinese policy export
 * (data/zh/保单_gb18030.csv): row accounting, the rejects table, a rerun that is a no-op, a
 * re-export under another name refused as overlapping (and --skip-overlap), --replace, a failed
 * command that leaves the store as it was, and `crm quality`'s contract checks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { crm, ROOT, sql, tempDir } from '../helpers/cli.js';

const SAMPLE = path.join(ROOT, 'data/zh/保单_gb18030.csv');
const dir = tempDir('crm-contracts-e2e-');
const at = (name: string) => path.join(dir, name);
const gb = new TextDecoder('gb18030');

function ingest(db: string, args: string[]) {
  return crm(['--db', db, 'ingest', 'contracts', '--encoding', 'gb18030', ...args], { cwd: dir });
}

/** What the store holds, to compare before and after a command. */
function snapshot(db: string) {
  return sql(
    db,
    `SELECT (SELECT count(*) FROM contracts) AS periods, (SELECT CAST(sum(amount) AS VARCHAR) FROM contracts) AS premium,
            (SELECT count(*) FROM loads) AS loads, (SELECT count(*) FROM rejects) AS rejects`,
  )[0];
}

/** The sample plus two new policy years, written back in GB18030 (the bytes of its own lines reused). */
function reExport(): Buffer {
  const bytes = fs.readFileSync(SAMPLE);
  const extra = Buffer.from('BD26000001,KH0001,TR,2025-06-01,2026-05-31,100.00,X,,\r\nBD26000002,KH0002,TR,2025-06-01,2026-05-31,200.00,X,,\r\n', 'ascii');
  return Buffer.concat([bytes, extra]);
}

let db: string;
let first: { rows_read: number; rows_loaded: number; rows_rejected: number; rejected_by_reason: Record<string, number>; load_id: number };

beforeAll(() => {
  fs.copyFileSync(SAMPLE, at('保单.csv'));
  fs.writeFileSync(at('保单 (1).csv'), reExport());
  db = at('crm.duckdb');
  const r = ingest(db, ['保单.csv', '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  first = JSON.parse(r.stdout).files[0];
});

// Each test spawns the CLI several times: on a busy 2-core machine that takes minutes, not seconds.
describe('crm ingest contracts on the Chinese policy export', { timeout: 180_000 }, () => {
  it('loads 59 policy years and rejects 2, and the totals reconcile everywhere', () => {
    expect(first).toMatchObject({ rows_read: 61, rows_loaded: 59, rows_rejected: 2, rejected_by_reason: { negative_amount: 1, period_end_before_start: 1 } });
    expect(first.rows_read).toBe(first.rows_loaded + first.rows_rejected);
    expect(sql(db, `SELECT kind, rows_read, rows_loaded, rows_rejected, mapping->>'contract_id' AS contract FROM loads`)).toEqual([
      { kind: 'contracts', rows_read: 61, rows_loaded: 59, rows_rejected: 2, contract: '保单号' },
    ]);
    expect(
      sql(db, `SELECT count(*) AS periods, count(DISTINCT contract_id) AS contracts, count(DISTINCT customer_id) AS customers, CAST(sum(amount) AS VARCHAR) AS premium FROM contracts`),
    ).toEqual([{ periods: 59, contracts: 16, customers: 12, premium: '428730.0000' }]);
    // The README of data/zh says the same.
    const readme = fs.readFileSync(path.join(ROOT, 'data/zh/README.md'), 'utf8');
    expect(readme).toContain('Rows loaded: **59**');
    expect(readme).toContain('Sum of loaded premiums: **428730.00**');
  });

  it('keeps each rejected row with its reason, column, sentence and the original line', () => {
    const lines = gb.decode(fs.readFileSync(SAMPLE)).split('\r\n');
    const rejects = sql<{ source_row: number; reason: string; column_name: string; detail: string; raw: string }>(
      db,
      'SELECT source_row, reason, column_name, detail, raw FROM rejects ORDER BY source_row',
    );
    expect(rejects.map((r) => [r.reason, r.column_name, r.detail])).toEqual([
      ['negative_amount', '保费', '保费: "-320.00" is negative: a refund or correction is not a contract period'],
      ['period_end_before_start', '终保日期', '终保日期: the period ends on 2024-02-28, before it starts on 2025-03-01'],
    ]);
    for (const r of rejects) expect(r.raw).toBe(lines[r.source_row - 1]);
  });

  it('stores statuses as words it knows and period ends exactly as written (both conventions)', () => {
    expect(sql(db, `SELECT status, count(*) AS n FROM contracts GROUP BY status ORDER BY status`)).toEqual([
      { status: 'active', n: 12 },
      { status: 'cancelled', n: 2 },
      { status: 'lapsed', n: 45 },
    ]);
    expect(
      sql(db, `SELECT contract_id, CAST(period_start AS VARCHAR) AS s, CAST(period_end AS VARCHAR) AS e FROM contracts WHERE contract_id IN ('BD21000101', 'BD21000301') AND year(period_start) = 2021 ORDER BY contract_id`),
    ).toEqual([
      { contract_id: 'BD21000101', s: '2021-04-01', e: '2022-04-01' },
      { contract_id: 'BD21000301', s: '2021-05-20', e: '2022-05-19' },
    ]);
  });

  it('does nothing when the same file is loaded again', () => {
    const before = snapshot(db);
    const r = ingest(db, ['保单.csv']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^保单\.csv: unchanged — already loaded as load 1 /);
    expect(snapshot(db)).toEqual(before);
  });

  it('refuses the re-export under another name (the same periods), and --skip-overlap loads only the new ones', () => {
    const copy = at('overlap.duckdb');
    fs.copyFileSync(db, copy);
    const before = snapshot(copy);
    const refused = ingest(copy, ['保单 (1).csv']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('crm: error: 保单 (1).csv: 59 of its 61 rows (96.7 %) were loaded before from other files: 保单.csv (load 1, 59 rows); nothing was loaded');
    expect(refused.stderr).toContain('Rows count as the same when contract id and period start are equal (contract_id, period_start).');
    expect(snapshot(copy)).toEqual(before);

    const skipped = ingest(copy, ['保单 (1).csv', '--skip-overlap', '--json']);
    expect(skipped.code).toBe(0);
    const file = JSON.parse(skipped.stdout).files[0];
    expect(file).toMatchObject({ rows_read: 63, rows_loaded: 2, overlap: { rows: 59, valid_rows: 61, decision: 'skipped' } });
    expect(file.rejected_by_reason).toEqual({ already_loaded: 59, negative_amount: 1, period_end_before_start: 1 });
    expect(file.rows_read).toBe(file.rows_loaded + file.rows_rejected);
    expect(sql(copy, `SELECT count(*) AS n FROM rejects WHERE reason = 'already_loaded' AND detail LIKE 'the same period (contract id, period start) was loaded before: 保单.csv row % (load 1)'`)).toEqual([{ n: 59 }]);
    expect(sql(copy, `SELECT count(*) AS n, count(DISTINCT (contract_id, period_start)) AS distinct_periods FROM contracts`)).toEqual([{ n: 61, distinct_periods: 61 }]);
  });

  it('--append keeps both copies, and crm quality reports them as duplicate periods and repeated loads', () => {
    const copy = at('append.duckdb');
    fs.copyFileSync(db, copy);
    expect(ingest(copy, ['-q', '保单 (1).csv', '--append']).code).toBe(0);
    const q = crm(['--db', copy, 'quality', '--as-of', '2025-06-30', '--json']);
    expect(q.code).toBe(0);
    const c = JSON.parse(q.stdout).contracts;
    expect(c.duplicate_periods).toMatchObject({ groups: 59, extra: 59 });
    expect(c.overlapping_loads).toEqual({ rows: 59, loads: [{ load_id: 2, file: '保单 (1).csv', rows: 59, from_earlier_sheets: 0 }] });
  });

  it('--replace swaps the earlier load of the same file for the new version', () => {
    const copy = at('replace.duckdb');
    fs.copyFileSync(db, copy);
    fs.writeFileSync(at('保单.csv'), reExport());
    try {
      const r = ingest(copy, ['保单.csv', '--replace', '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).files[0]).toMatchObject({ rows_loaded: 61, replaced_loads: [1] });
      expect(sql(copy, `SELECT count(*) AS n FROM contracts`)).toEqual([{ n: 61 }]);
      expect(sql(copy, `SELECT load_id, status FROM loads ORDER BY load_id`)).toEqual([
        { load_id: 1, status: 'replaced' },
        { load_id: 2, status: 'loaded' },
      ]);
      expect(sql(copy, `SELECT DISTINCT load_id FROM rejects`)).toEqual([{ load_id: 2 }]);
    } finally {
      fs.copyFileSync(SAMPLE, at('保单.csv'));
    }
  });

  it('leaves the store as it was when any file of the command fails', () => {
    const copy = at('atomic.duckdb');
    fs.copyFileSync(db, copy);
    const before = snapshot(copy);
    fs.writeFileSync(at('new.csv'), 'policy,customer,start date,end date,premium\nN1,KH0001,2025-01-01,2025-12-31,10\n');
    fs.writeFileSync(at('broken.csv'), 'policy,customer,start date,premium\nN2,KH0001,2025-01-01,10\n');
    const r = crm(['--db', copy, 'ingest', 'contracts', 'new.csv', 'broken.csv'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('crm: error: broken.csv: no column found for period_end');
    expect(snapshot(copy)).toEqual(before);
  });

  it('crm quality finds the lapse and reinstatement of BD21000701, and no overlaps', () => {
    const q = crm(['--db', db, 'quality', '--as-of', '2025-06-30', '--json']);
    expect(q.code).toBe(0);
    const r = JSON.parse(q.stdout);
    expect(r.tables.contracts).toBe(59);
    expect(r.contracts).toMatchObject({
      grace_days: 30,
      contracts: 16,
      gaps: { count: 1, contracts: 1, examples: ['BD21000701'] },
      overlaps: { count: 0 },
      duplicate_periods: { groups: 0 },
      cancel_outside_period: { count: 0 },
      shared_contract_ids: { count: 0 },
    });
    const text = crm(['--db', db, 'quality', '--as-of', '2025-06-30']);
    expect(text.stdout).toContain('! 1 contract has a period starting more than 30 days (the grace period) after the cover ended: a lapse, then a reinstatement (1 time in all)');
    expect(text.stdout).toMatch(/gaps \(> 30 days\)\s+1\s+BD21000701/);
  });

  it('judges gaps with models.contracts.grace_days from crm.config.json', () => {
    fs.writeFileSync(at('crm.config.json'), JSON.stringify({ models: { contracts: { grace_days: 150 } } }));
    try {
      const r = JSON.parse(crm(['--db', db, 'quality', '--json'], { cwd: dir }).stdout);
      expect(r.contracts).toMatchObject({ grace_days: 150, gaps: { count: 0 } });
    } finally {
      fs.rmSync(at('crm.config.json'));
    }
  });
});
