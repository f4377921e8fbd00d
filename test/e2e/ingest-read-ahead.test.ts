/**
 * `crm ingest` of a CSV samples the file while hashing it (index.ts: readAhead) and reads the
 * sample once: what it loads, rejects and records must be what reading after hashing gives.
 * CRM_DEBUG_SQL=full prints each statement once it is done, in order, ended by `;;`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crm, sql, tempDir } from '../helpers/cli.js';

/** A clean export of `n` lines, plain ASCII, LF line ends. */
function cleanLines(n: number, from = 0): string[] {
  const lines: string[] = [];
  for (let i = from; i < from + n; i++) {
    const day = String((i % 28) + 1).padStart(2, '0');
    lines.push(`O${String(i).padStart(8, '0')},C${String(i % 997).padStart(6, '0')},2023-03-${day},${(i % 500) + 10}.${String(i % 100).padStart(2, '0')}`);
  }
  return lines;
}

const HEADER = 'order_id,customer_id,order_date,amount';

/** Ingest with every statement printed; the statements in order. */
function ingestTraced(db: string, file: string): { code: number; stdout: string; statements: string[] } {
  const r = crm(['--db', db, 'ingest', 'transactions', file, '--json'], { env: { CRM_DEBUG_SQL: 'full' } });
  const statements = r.stderr
    .split('\n;;\n')
    .map((s) => s.split('\n').filter((l) => !/^(-- )?\[sql |^hashing |^reading |^validating |^comparing |^loading /.test(l)).join('\n').trim())
    .filter(Boolean);
  return { code: r.code, stdout: r.stdout, statements };
}

const SAMPLE_READ = /FROM read_csv\([^)]*\) LIMIT 200000/;
const SHA_CHECK = /FROM loads\s+WHERE kind = \$1 AND sha256 = \$2/;

describe('ingest reads a CSV ahead while hashing it', () => {
  it('samples before the unchanged-file check, reads the sample once, stages no src_row, and records the same digest', () => {
    const dir = tempDir();
    const file = path.join(dir, 'orders.csv');
    fs.writeFileSync(file, [HEADER, ...cleanLines(3000)].join('\n') + '\n');
    const db = path.join(dir, 'store.duckdb');
    const r = ingestTraced(db, file);
    expect(r.code).toBe(0);
    const sampleAt = r.statements.findIndex((s) => SAMPLE_READ.test(s));
    const shaAt = r.statements.findIndex((s) => SHA_CHECK.test(s));
    expect(sampleAt).toBeGreaterThanOrEqual(0);
    expect(shaAt).toBeGreaterThan(sampleAt);
    // Date order and decimal evidence read one materialised sample, not the file twice.
    expect(r.statements.filter((s) => SAMPLE_READ.test(s))).toHaveLength(1);
    const stage = r.statements.find((s) => s.startsWith('CREATE TEMP TABLE') && s.includes('_stage_1'))!;
    expect(stage.slice(stage.lastIndexOf('\nSELECT'))).not.toContain('src_row');
    // The file's bytes are plain and hold no quote: the id checks skip the control-character test.
    expect(stage).not.toContain('regexp_matches(p_customer_id');
    const [load] = sql<{ sha256: string; bytes: number; rows_read: number; rows_loaded: number }>(db, 'SELECT sha256, bytes, rows_read, rows_loaded FROM loads');
    expect(load.sha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
    expect(Number(load.bytes)).toBe(fs.statSync(file).size);
    expect([load.rows_read, load.rows_loaded]).toEqual([3000, 3000]);
    const [row] = sql<{ source_row: number; amount: number }>(db, `SELECT source_row, amount::DOUBLE AS amount FROM transactions WHERE order_id = 'O00002999'`);
    expect(row).toEqual({ source_row: 3001, amount: 509.99 });
  });

  it('still finds a re-export of a loaded file (same bytes, another name) unchanged, without reading it ahead', () => {
    const dir = tempDir();
    const file = path.join(dir, 'orders.csv');
    fs.writeFileSync(file, [HEADER, ...cleanLines(500)].join('\n') + '\n');
    const again = path.join(dir, 'orders-again.csv');
    fs.copyFileSync(file, again);
    const db = path.join(dir, 'store.duckdb');
    expect(ingestTraced(db, file).code).toBe(0);
    const r = ingestTraced(db, again);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { files: { status: string; load_id: number; notes: string[] }[] };
    expect(report.files[0].status).toBe('unchanged');
    expect(report.files[0].notes[0]).toMatch(/^already loaded as load 1 /);
    expect(r.statements.some((s) => SAMPLE_READ.test(s))).toBe(false);
    expect(sql<{ n: number }>(db, 'SELECT count(*) AS n FROM loads')).toEqual([{ n: 1 }]);
  });

  it('reads again when the line ends past the sample differ from the head’s (CRLF after 201,000 LF lines)', () => {
    const dir = tempDir();
    const file = path.join(dir, 'mixed.csv');
    // Past the sample's 200,000 rows, so the read ahead samples the file as it is, and only the
    // hash's count of every line end finds the CRLF.
    const lf = 201_000;
    fs.writeFileSync(file, [HEADER, ...cleanLines(lf)].join('\n') + '\n' + cleanLines(100, lf).join('\r\n') + '\r\n' + cleanLines(100, lf + 100).join('\n') + '\n');
    const db = path.join(dir, 'store.duckdb');
    const r = ingestTraced(db, file);
    expect(r.code).toBe(0);
    const samples = r.statements.filter((s) => SAMPLE_READ.test(s));
    expect(samples).toHaveLength(2);
    expect(samples[0]).toContain(`read_csv('${file}'`);
    expect(samples[1]).toMatch(/lf\.csv'/);
    const [load] = sql<{ rows_read: number; rows_loaded: number }>(db, 'SELECT rows_read, rows_loaded FROM loads');
    expect([load.rows_read, load.rows_loaded]).toEqual([lf + 200, lf + 200]);
    // Read through the copy with LF line ends: no CR left in a value, row numbers as in the file.
    const ids = [lf + 50, lf + 150].map((i) => `O${String(i).padStart(8, '0')}`);
    const rows = sql<{ order_id: string; source_row: number; amount: string }>(
      db,
      `SELECT order_id, source_row, amount::VARCHAR AS amount FROM transactions WHERE order_id IN ('${ids[0]}', '${ids[1]}') ORDER BY order_id`,
    );
    expect(rows).toEqual([
      { order_id: ids[0], source_row: lf + 52, amount: `${((lf + 50) % 500) + 10}.${String((lf + 50) % 100).padStart(2, '0')}00` },
      { order_id: ids[1], source_row: lf + 152, amount: `${((lf + 150) % 500) + 10}.${String((lf + 150) % 100).padStart(2, '0')}00` },
    ]);
  });

  it('checks ids for control characters when one is past the head (the head alone looked plain)', () => {
    const dir = tempDir();
    const file = path.join(dir, 'late-escape.csv');
    const head = [HEADER, ...cleanLines(8000)].join('\n') + '\n';
    fs.writeFileSync(file, head + 'O99999999,C\x1b[31mX,2023-03-01,10.00\n');
    const db = path.join(dir, 'store.duckdb');
    const r = ingestTraced(db, file);
    expect(r.code).toBe(0);
    const rejects = sql<{ reason: string; source_row: number }>(db, 'SELECT reason, source_row FROM rejects');
    expect(rejects).toEqual([{ reason: 'invalid_customer_id', source_row: 8002 }]);
  });
});
