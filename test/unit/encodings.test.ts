/**
 * Encodings and hostile bytes: UTF-16 without a byte-order mark, the hint after a UTF-8 error,
 * and control characters (NUL, terminal escapes) inside ids.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectEncoding } from '../../src/ingest/detect.js';
import { ROOT } from '../helpers/cli.js';
import { ingestError, ingestFiles } from '../helpers/ingest.js';

const CSV = 'customer_id,order_date,amount\r\nC1,2024-01-05,10.5\r\nC2,2024-01-06,7\r\n';

function utf16be(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  return Buffer.from(le).swap16();
}

/** The hint lines of the UTF-8 error for these bytes. */
function utf8Error(bytes: Buffer): { message: string; details: string[] } {
  try {
    detectEncoding('f.csv', bytes);
  } catch (err) {
    return err as { message: string; details: string[] };
  }
  throw new Error('no error');
}

describe('UTF-16 without a byte-order mark', () => {
  it('little-endian loads (before: "no column found", headers full of \\u0000)', async () => {
    const run = await ingestFiles({ 'tx.csv': Buffer.from(CSV, 'utf16le') });
    expect(run.report.files[0].encoding).toBe('utf-16le');
    expect(await run.query('SELECT customer_id, CAST(amount AS VARCHAR) AS amount FROM transactions ORDER BY source_row')).toEqual([
      { customer_id: 'C1', amount: '10.5000' },
      { customer_id: 'C2', amount: '7.0000' },
    ]);
  });

  it('big-endian loads', async () => {
    const run = await ingestFiles({ 'tx.csv': utf16be(CSV) });
    expect(run.report.files[0].encoding).toBe('utf-16be');
    expect(run.report.files[0].rows_loaded).toBe(2);
  });
});

describe('the hint after a UTF-8 error', () => {
  it('a Latin-1 é between letters suggests windows-1252, not gb18030', () => {
    const err = utf8Error(Buffer.from('customer_id,order_date,amount,name\nC1,2024-01-05,10,S\xe9verine\n', 'latin1'));
    expect(err.message).toContain('line 2 is not valid UTF-8');
    expect(err.details[0]).toContain('It looks like windows-1252 (latin1): pass --encoding windows-1252');
  });

  it('a Windows-1252 € (0x80) suggests windows-1252', () => {
    const err = utf8Error(Buffer.from('customer_id,order_date,amount\nC1,2024-01-05,\x8012\n', 'latin1'));
    expect(err.details[0]).toContain('pass --encoding windows-1252');
  });

  it('a Latin-1 byte after UTF-8 text says the file mixes encodings', () => {
    const bytes = Buffer.concat([Buffer.from('customer_id,name\nC1,Müller\n', 'utf8'), Buffer.from('C2,Jos\xe9\n', 'latin1')]);
    expect(utf8Error(bytes).details[0]).toContain('the file mixes encodings');
  });

  it('real GB18030 text still suggests gb18030', () => {
    const bytes = fs.readFileSync(path.join(ROOT, 'data/zh/交易记录_gb18030.csv'));
    expect(utf8Error(bytes).details[0]).toContain('pass --encoding gb18030');
  });
});

describe('control characters in ids', () => {
  it('a NUL byte, an ESC sequence or a C1 CSI in an id rejects the row with a reason', async () => {
    const csv = 'customer_id,order_id,order_date,amount\nC1,O1,2024-01-05,10\nC\u00002,O2,2024-01-05,10\n"C3\u001b[31m",O3,2024-01-05,10\nC4,O\u009b4,2024-01-05,10\n';
    const run = await ingestFiles({ 'tx.csv': csv });
    expect(await run.query('SELECT customer_id, order_id FROM transactions')).toEqual([{ customer_id: 'C1', order_id: 'O1' }]);
    const rejects = await run.query<{ source_row: number; reason: string; detail: string }>('SELECT source_row, reason, detail FROM rejects ORDER BY source_row');
    expect(rejects.map((r) => [r.source_row, r.reason])).toEqual([
      [3, 'invalid_customer_id'],
      [4, 'invalid_customer_id'],
      [5, 'invalid_order_id'],
    ]);
    expect(rejects[1].detail).toBe('customer_id: the customer id holds the control character U+001B at character 3 (a NUL byte or terminal escape): it is not stored');
    expect(rejects[2].detail).toContain('U+009B at character 2');
  });

  it('customer files too', async () => {
    const run = await ingestFiles({ 'c.csv': 'customer_id,name\nC1,Ann\nC\u001b2,Bob\n' }, { kind: 'customers' });
    expect(run.report.totals).toMatchObject({ rows_loaded: 1, rows_rejected: 1, rejected_by_reason: { invalid_customer_id: 1 } });
  });
});
