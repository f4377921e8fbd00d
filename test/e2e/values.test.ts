/**
 * The real CLI on values that must never change silently: a column mixing decimal separators
 * exits 3 and loads nothing; `--decimal-separator` decides.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crm, sql, tempDir } from '../helpers/cli.js';

describe('crm ingest: decimal separators', () => {
  it('a conflict exits 3 without a stack and loads nothing; --decimal-separator . loads and rejects "7,5"', () => {
    const dir = tempDir();
    const db = path.join(dir, 's.duckdb');
    const file = path.join(dir, 'mixed.csv');
    fs.writeFileSync(file, 'customer_id;order_date;amount\nC1;2024-01-05;10.00\nC2;2024-01-05;0.5\nC3;2024-01-05;1,234.50\nC4;2024-01-05;7,5\n');
    const refused = crm(['--db', db, 'ingest', 'transactions', file]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('column "amount" mixes decimal separators: row 2 has "10.00" (decimal point) and row 5 has "7,5" (decimal comma)');
    expect(refused.stderr).not.toMatch(/^\s+at /m);
    expect(sql(db, 'SELECT count(*) AS n FROM loads')).toEqual([{ n: 0 }]);

    const decided = crm(['--db', db, 'ingest', 'transactions', file, '--decimal-separator', '.', '--json']);
    expect(decided.code).toBe(0);
    expect(JSON.parse(decided.stdout).totals).toMatchObject({ rows_read: 4, rows_loaded: 3, rows_rejected: 1, rejected_by_reason: { invalid_amount: 1 } });
    expect(sql(db, 'SELECT CAST(sum(amount) AS VARCHAR) AS total FROM transactions')).toEqual([{ total: '1245.0000' }]);
  });
});
