/**
 * Stored text reaches the terminal escaped: a hostile export's control characters (ESC colour
 * codes, CR that rewrites the line, C1 CSI) never leave `crm query`, `crm customer` or any
 * table raw; --format csv/json keep the exact value.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { crm, tempDir } from '../helpers/cli.js';

const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
let db: string;

beforeAll(() => {
  const dir = tempDir('crm-terminal-');
  db = path.join(dir, 'crm.duckdb');
  const customers = path.join(dir, 'customers.csv');
  const transactions = path.join(dir, 'transactions.csv');
  fs.writeFileSync(customers, 'customer_id,name\nC1,"Ann\u001b[2J\u001b[31m Evil\rCorp\u009b0m"\n');
  // Row 3's id holds ESC: rejected, and its raw line keeps the escape.
  fs.writeFileSync(transactions, 'customer_id,order_date,amount,product\nC1,2024-01-05,10,"Lamp\u001b[5m"\nC\u001b[31m2,2024-01-06,5,Desk\n');
  for (const [kind, file] of [['customers', customers], ['transactions', transactions]]) {
    const r = crm(['--db', db, '-q', 'ingest', kind, file]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
});

describe('control characters in stored text', () => {
  it('crm query (table) shows them escaped', () => {
    const r = crm(['--db', db, 'query', 'SELECT raw FROM rejects UNION ALL SELECT product FROM transactions UNION ALL SELECT name FROM customers']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain('C\\u001b[31m2,2024-01-06,5,Desk');
    expect(r.stdout).toContain('Lamp\\u001b[5m');
    expect(r.stdout).toContain('Ann\\u001b[2J\\u001b[31m Evil\\rCorp\\u009b0m');
  });

  it('crm query --format json and csv keep the exact value', () => {
    const json = crm(['--db', db, 'query', 'SELECT name FROM customers', '--format', 'json']);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json.stdout)).toEqual([{ name: 'Ann\u001b[2J\u001b[31m Evil\rCorp\u009b0m' }]);
    const csv = crm(['--db', db, 'query', 'SELECT product FROM transactions', '--format', 'csv']);
    expect(csv.stdout).toBe('product\n"Lamp\u001b[5m"\n');
  });

  it('crm customer shows them escaped', () => {
    const r = crm(['--db', db, 'customer', 'C1']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain('customer C1 — Ann\\u001b[2J');
    expect(r.stdout).toContain('Lamp\\u001b[5m');
  });
});
