/**
 * A cut or damaged input file is an input error (exit 3) naming the file, and nothing of the
 * command loads — never a silent no-op (a cut workbook used to exit 0 having loaded nothing,
 * dropping the good CSV given with it) and never a stack trace (a cut .gz exited 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { crm, REAL_XLSX, sql, tempDir } from '../helpers/cli.js';

const dir = tempDir('crm-damaged-');
const at = (name: string) => path.join(dir, name);
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

function csvLines(from: number, count: number): string {
  const lines = ['order_id,customer_id,order_date,amount'];
  for (let i = from; i < from + count; i++) lines.push(`O${i},C${i % 97},2024-0${1 + (i % 9)}-1${i % 10},${(i % 89) + 0.25}`);
  return lines.join('\n') + '\n';
}

const storeCounts = (db: string) =>
  sql(db, 'SELECT (SELECT count(*) FROM loads) AS loads, (SELECT count(*) FROM transactions) AS tx, (SELECT count(*) FROM rejects) AS rejects');

/** A copy of a store holding one earlier load, so "unchanged" means something. */
function seededStore(name: string): string {
  const seed = at('seed.duckdb');
  if (!fs.existsSync(seed)) {
    const r = crm(['--db', seed, '-q', 'ingest', 'transactions', 'seed.csv'], { cwd: dir });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const db = at(name);
  fs.copyFileSync(seed, db);
  return db;
}

beforeAll(async () => {
  fs.writeFileSync(at('seed.csv'), csvLines(0, 50));
  fs.writeFileSync(at('good.csv'), csvLines(1000, 300));
  fs.writeFileSync(at('other.csv'), csvLines(5000, 200));
  // The real Online Retail II workbook, cut at 500 KB as an interrupted download leaves it.
  fs.writeFileSync(at('cut.xlsx'), fs.readFileSync(REAL_XLSX).subarray(0, 500_000));
  const gz = zlib.gzipSync(Buffer.from(csvLines(20_000, 60_000)));
  fs.writeFileSync(at('whole.csv.gz'), gz);
  fs.writeFileSync(at('cut.csv.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  await conn.run(
    `COPY (SELECT 'O' || i AS order_id, 'C' || (i % 997) AS customer_id, DATE '2024-01-01' + CAST(i % 300 AS INTEGER) AS order_date, (i % 1000) / 4 AS amount
           FROM range(200000) t(i))
     TO '${at('whole.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 50000)`,
  );
  conn.closeSync();
  const parquet = fs.readFileSync(at('whole.parquet'));
  fs.writeFileSync(at('cut.parquet'), parquet.subarray(0, Math.floor(parquet.length / 2)));
  // Damage inside the data, footer intact: DuckDB finds it only while reading the rows.
  const damaged = Buffer.from(parquet);
  damaged.fill(0xff, Math.floor(parquet.length / 3), Math.floor(parquet.length / 3) + 4096);
  fs.writeFileSync(at('damaged.parquet'), damaged);
});

describe('damaged files', () => {
  it('a workbook cut at 500 KB fails with exit 3 and the good CSV beside it is not loaded either', () => {
    const db = seededStore('xlsx.duckdb');
    const before = storeCounts(db);
    const r = crm(['--db', db, 'ingest', 'transactions', 'good.csv', 'cut.xlsx'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('crm: error: cut.xlsx: the file ends early');
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stdout).toBe('');
    expect(storeCounts(db)).toEqual(before);
  });

  it('a cut .csv.gz fails with exit 3 (no stack trace), a whole one loads', () => {
    const db = seededStore('gz.duckdb');
    const before = storeCounts(db);
    const r = crm(['--db', db, 'ingest', 'transactions', 'cut.csv.gz'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('crm: error: cut.csv.gz: the file ends early (the gzip stream is cut off)');
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(storeCounts(db)).toEqual(before);
    const whole = crm(['--db', db, '-q', 'ingest', 'transactions', 'whole.csv.gz'], { cwd: dir });
    expect(whole.code).toBe(0);
    expect(whole.stdout).toContain('whole.csv.gz: 60,000 rows read = 60,000 loaded + 0 rejected');
  });

  it('a cut Parquet file and one damaged inside its data fail with exit 3', () => {
    const db = seededStore('parquet.duckdb');
    const before = storeCounts(db);
    const cut = crm(['--db', db, 'ingest', 'transactions', 'good.csv', 'cut.parquet'], { cwd: dir });
    expect(cut.code).toBe(3);
    expect(cut.stderr).toMatch(/crm: error: cut\.parquet: the file ends early/);
    const damaged = crm(['--db', db, 'ingest', 'transactions', 'good.csv', 'damaged.parquet'], { cwd: dir });
    expect(damaged.code).toBe(3);
    expect(damaged.stderr).toMatch(/crm: error: damaged\.parquet: the file (is damaged|ends early or is damaged)/);
    for (const r of [cut, damaged]) expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(storeCounts(db)).toEqual(before);
  });

  it('crm ingest never exits 0 without every file\'s totals line, and a failure leaves the store as it was', () => {
    const good = ['good.csv', 'other.csv', 'whole.csv.gz', 'whole.parquet'];
    const bad = ['cut.xlsx', 'cut.csv.gz', 'cut.parquet', 'damaged.parquet'];
    // Each damaged file alone and after a good file (a cut workbook before a good CSV: above); the good ones together.
    const runs: string[][] = [good, ['other.csv'], ...bad.map((b) => [b]), ...bad.map((b, i) => [good[i], b])];
    let successes = 0;
    let failures = 0;
    for (const [i, files] of runs.entries()) {
      const db = seededStore(`invariant-${i}.duckdb`);
      const before = storeCounts(db);
      const r = crm(['--db', db, 'ingest', 'transactions', ...files], { cwd: dir });
      expect(r.stderr, files.join(' ')).not.toMatch(STACK_FRAME);
      if (r.code === 0) {
        successes++;
        for (const f of files) {
          const totals = new RegExp(`^${f.replace(/\./g, '\\.')}: ([\\d,]+ rows read = [\\d,]+ loaded \\+ [\\d,]+ rejected|unchanged)`, 'm');
          expect(r.stdout, `${files.join(' ')}: totals of ${f}`).toMatch(totals);
        }
        expect(Number(storeCounts(db)[0].loads)).toBe(Number(before[0].loads) + files.length);
      } else {
        failures++;
        expect(r.code, files.join(' ')).toBe(3);
        expect(storeCounts(db), files.join(' ')).toEqual(before);
      }
    }
    // Both branches ran: every damaged file (alone or with good ones) failed, the good ones loaded.
    expect({ successes, failures }).toEqual({ successes: 2, failures: bad.length * 2 });
  }, 600_000);
});
