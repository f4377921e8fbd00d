/**
 * Stores for the `crm report` tests, built through the real CLI: the sample exports in
 * data/sample plus one hostile customer (a name holding a <script> tag, e-mail and phone that
 * must never reach a report) who is the biggest spender, so that it lands in the top-N tables.
 * Two runs: run 1 as of 2025-06-30 with a backtest to 2025-12-31, run 2 as of the last day.
 */
import fs from 'node:fs';
import path from 'node:path';
import { crm, ROOT, tempDir } from './cli.js';

export const SAMPLE = path.join(ROOT, 'data/sample');

export const HOSTILE_CUSTOMER = {
  id: 'C9000001',
  name: '<script>alert("pwned")</script> & Sons',
  email: 'ceo.hostile@evil.example',
  phone: '+44 20 7946 0958',
  owner: '<b>Mallory</b>',
};

export interface ReportStore {
  dir: string;
  db: string;
}

function run(args: string[]): string {
  const r = crm(args);
  if (r.code !== 0) throw new Error(`crm ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The sample store with the hostile customer and two runs. */
export function buildSampleStore(prefix = 'crm-report-e2e-'): ReportStore {
  const dir = tempDir(prefix);
  const db = path.join(dir, 'crm.duckdb');
  const c = HOSTILE_CUSTOMER;
  const customers = path.join(dir, 'extra_customers.csv');
  fs.writeFileSync(
    customers,
    'customer_id,name,email,phone,region,industry,account_owner,signup_date\n' +
      [c.id, c.name, c.email, c.phone, 'Europe', 'Retail', c.owner, '2023-02-01'].map(csvField).join(',') +
      '\n',
  );
  const transactions = path.join(dir, 'extra_transactions.csv');
  const days = ['2023-03-01', '2023-09-15', '2024-03-01', '2024-09-01', '2025-02-01', '2025-05-01', '2025-08-01', '2025-11-01'];
  fs.writeFileSync(
    transactions,
    'order_id,customer_id,order_date,product,category,channel,quantity,unit_price\n' +
      days.map((d, i) => `9${String(i).padStart(6, '0')},${c.id},${d},P9001,Furniture,web,2,2500.00`).join('\n') +
      '\n',
  );
  run(['--db', db, '-q', 'ingest', 'customers', path.join(SAMPLE, 'customers.csv')]);
  run(['--db', db, '-q', 'ingest', 'transactions', path.join(SAMPLE, 'transactions.csv')]);
  run(['--db', db, '-q', 'ingest', 'customers', customers]);
  run(['--db', db, '-q', 'ingest', 'transactions', transactions]);
  run(['--db', db, '-q', 'run', '--as-of', '2025-06-30', '--holdout-end', '2025-12-31']);
  run(['--db', db, '-q', 'run']);
  return { dir, db };
}

/** A store of three customers: too few for the models, so the run falls back. */
export function buildFallbackStore(prefix = 'crm-report-fallback-'): ReportStore {
  const dir = tempDir(prefix);
  const db = path.join(dir, 'crm.duckdb');
  const file = path.join(dir, 'transactions.csv');
  const rows = [
    ['1', 'F001', '2025-01-05', '120.00'],
    ['2', 'F001', '2025-03-10', '80.00'],
    ['3', 'F002', '2025-02-01', '300.00'],
    ['4', 'F003', '2024-11-20', '45.50'],
    ['5', 'F001', '2025-06-01', '60.00'],
  ];
  fs.writeFileSync(file, 'order_id,customer_id,order_date,amount\n' + rows.map((r) => r.join(',')).join('\n') + '\n');
  run(['--db', db, '-q', 'ingest', 'transactions', file]);
  run(['--db', db, '-q', 'run']);
  return { dir, db };
}

/** `crm report` with the given flags; throws with stderr on failure. */
export function report(db: string, args: string[]): { stdout: string; stderr: string } {
  const r = crm(['--db', db, '-q', 'report', ...args]);
  if (r.code !== 0) throw new Error(`crm report ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}
