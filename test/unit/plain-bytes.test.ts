/**
 * The clean form's shortcuts in staging, each taken only on evidence and each giving the same
 * rows and rejects as the full checks:
 * - the control-character check of ids is left out only for a file whose bytes (seen while
 *   hashing) are printable ASCII, tabs and line ends, without a lone CR or a quote character;
 * - a return pattern `^PREFIX` is tested with starts_with, any other pattern as a regular expression.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashFile, plainChunk } from '../../src/ingest/file-scan.js';
import { returnTest } from '../../src/ingest/stage.js';
import { Store } from '../../src/store/db.js';
import { tempDir } from '../helpers/cli.js';
import { ingestFiles } from '../helpers/ingest.js';

async function digestOf(bytes: string | Buffer) {
  const file = path.join(tempDir('crm-plain-'), 'f.csv');
  fs.writeFileSync(file, bytes);
  return hashFile(file);
}

describe('plain bytes, seen while hashing', () => {
  it.each([
    ['printable ASCII, LF', 'id,amount\nC1,1.50\n', true, ''],
    ['tabs and CRLF', 'id\tamount\r\nC1\t1.50\r\n', true, ''],
    ['a double quote', 'id,name\nC1,"a, b"\n', true, '"'],
    ['an apostrophe', "id,name\nC1,O'Brien\n", true, "'"],
    ['a NUL byte', 'id\nC\u00001\n', false, ''],
    ['an escape sequence', 'id\nC\u001b[31m1\n', false, ''],
    ['DEL', 'id\nC\u007f1\n', false, ''],
    ['a no-break space (UTF-8)', 'id\nC1\u00a0\n', false, ''],
    ['a C1 control (UTF-8)', 'id\nC\u009b1\n', false, ''],
    ['a Chinese name', 'id,name\nC1,王芳\n', false, ''],
  ])('%s', async (_name, text, plain, quotes) => {
    const d = await digestOf(text);
    expect(d.plainBytes).toBe(plain);
    expect(d.quoteChars).toBe(quotes);
  });

  it('plainChunk: every byte value at every position, aligned or not, as a byte-by-byte look says', () => {
    const plain = (b: number) => (b >= 0x20 && b <= 0x7e) || b === 0x09 || b === 0x0a || b === 0x0d;
    for (let b = 0; b < 256; b++) {
      for (let start = 0; start < 4; start++) {
        for (let at = 0; at < 11; at++) {
          const buf = Buffer.alloc(16, 0x41);
          buf[start + at] = b;
          expect(plainChunk(buf.subarray(start, start + 11)), `byte ${b} at ${at} (offset ${start})`).toBe(plain(b));
        }
      }
    }
  });

  it('a control character past the first chunk (1 MiB) is seen', async () => {
    const d = await digestOf('id\n' + 'C1\n'.repeat(600_000) + 'C\u00012\n');
    expect(d.plainBytes).toBe(false);
  });
});

describe('the control-character check, with and without the evidence', () => {
  const rejectsOf = async (text: string) => {
    const run = await ingestFiles({ 'tx.csv': text });
    return run.query<{ source_row: number; reason: string }>('SELECT source_row, reason FROM rejects ORDER BY source_row');
  };

  it('a plain file loads every row as before', async () => {
    const run = await ingestFiles({ 'tx.csv': 'customer_id,order_id,order_date,amount\nC1,O1,2024-01-05,10.50\nC2,C2,2024-01-06,-3\n' });
    expect(run.report.totals).toMatchObject({ rows_read: 2, rows_loaded: 2, rows_rejected: 0 });
    expect(await run.query('SELECT customer_id, order_id, amount::VARCHAR AS amount, is_return FROM transactions ORDER BY source_row')).toEqual([
      { customer_id: 'C1', order_id: 'O1', amount: '10.5000', is_return: false },
      { customer_id: 'C2', order_id: 'C2', amount: '-3.0000', is_return: true },
    ]);
  });

  it('ids with blanks or tabs around them are trimmed as before; an id of blanks is missing', async () => {
    const run = await ingestFiles({ 'tx.csv': 'customer_id,order_id,order_date,amount\n C1 ,O1\t,2024-01-05,1\n\tC2,  13607.0 ,2024-01-05,1\nC3\t\t,O3,2024-01-05,1\n   ,O4,2024-01-05,1\nC 5,O5,2024-01-05,1\n' });
    expect(await run.query('SELECT customer_id, order_id FROM transactions ORDER BY source_row')).toEqual([
      { customer_id: 'C1', order_id: 'O1' },
      { customer_id: 'C2', order_id: '13607' },
      { customer_id: 'C3', order_id: 'O3' },
      { customer_id: 'C 5', order_id: 'O5' },
    ]);
    expect(await run.query('SELECT source_row, reason FROM rejects')).toEqual([{ source_row: 5, reason: 'missing_customer_id' }]);
  });

  it('a line break inside a quoted id is still rejected (the file has quotes: no shortcut)', async () => {
    expect(await rejectsOf('customer_id,order_date,amount\nC1,2024-01-05,1\n"C\n2",2024-01-05,1\n')).toEqual([{ source_row: 3, reason: 'invalid_customer_id' }]);
  });

  it('a CR inside an id of an LF file is a line end, as before (a lone CR: no shortcut)', async () => {
    expect(await rejectsOf('customer_id,order_date,amount\nC1,2024-01-05,1\nC\r2,2024-01-05,1\n')).toEqual([{ source_row: 3, reason: 'malformed_row' }]);
  });

  it('an escape character in an order id is still rejected (not plain bytes: no shortcut)', async () => {
    expect(await rejectsOf('customer_id,order_id,order_date,amount\nC1,O1,2024-01-05,1\nC2,O\u001b2,2024-01-05,1\n')).toEqual([{ source_row: 3, reason: 'invalid_order_id' }]);
  });
});

describe('returnTest', () => {
  it('a ^PREFIX pattern is starts_with; any other pattern stays a regular expression', () => {
    expect(returnTest('^C', 'x')).toBe("starts_with(x, 'C')");
    expect(returnTest('^RET-', 'x')).toBe("starts_with(x, 'RET-')");
    for (const p of ['^(C|R)', 'C', '^C.', '^C$', '^c?', '^[C]']) expect(returnTest(p, 'x')).toBe(`regexp_matches(x, '${p}')`);
  });

  it('starts_with answers as the regular expression does, NULL and case included', async () => {
    const store = await Store.open(':memory:', { create: true });
    try {
      for (const p of ['^C', '^RET-', '^R_1']) {
        const rows = await store.all<{ same: boolean }>(
          `SELECT ${returnTest(p, 'v')} IS NOT DISTINCT FROM regexp_matches(v, '${p}') AS same
           FROM (VALUES ('C1'), ('c1'), ('XC'), (NULL), (''), ('RET-9'), ('RET'), ('R_1x'), ('ret-1'), ('\nC')) t(v)`,
        );
        expect(rows.every((r) => r.same)).toBe(true);
      }
    } finally {
      store.close();
    }
  });
});
