/**
 * Helpers for the generator tests: read the generated CSVs back with an independent parser
 * and recompute from the files what generate() claims about them.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Split one CSV line (RFC 4180 quoting, no embedded line breaks). */
export function parseCsvLine(line: string, delimiter = ','): string[] {
  const fields: string[] = [];
  let field = '';
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (inQuotes) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') inQuotes = false;
      else field += ch;
    } else if (ch === '"' && field === '') inQuotes = true;
    else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

export interface Table {
  header: string[];
  rows: string[][];
  /** Physical lines, header included, without the final empty string after the last `\n`. */
  lines: string[];
}

export async function readCsv(path: string): Promise<Table> {
  const text = await readFile(path, 'utf8');
  if (!text.endsWith('\n')) throw new Error(`${path} does not end with a line break`);
  const lines = text.slice(0, -1).split('\n');
  return { header: parseCsvLine(lines[0]), rows: lines.slice(1).map((l) => parseCsvLine(l)), lines };
}

export async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-gen-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function isIsoDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** ISO date `days` after (or before, if negative) `iso`. */
export function addDays(iso: string, days: number): string {
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export const TX = { order: 0, customer: 1, date: 2, product: 3, category: 4, channel: 5, quantity: 6, price: 7 } as const;
export const CU = { id: 0, name: 1, email: 2, phone: 3, region: 4, industry: 5, owner: 6, signup: 7 } as const;

export type DirtKind = 'missingCustomerId' | 'invalidDate' | 'invalidAmount';

/** How a loader would judge a transactions.csv row: null when clean. */
export function dirtOf(row: string[]): DirtKind | null {
  if (row[TX.customer] === '') return 'missingCustomerId';
  if (!isIsoDate(row[TX.date])) return 'invalidDate';
  if (!/^\d+\.\d{2}$/.test(row[TX.price]) || !/^-?\d+$/.test(row[TX.quantity])) return 'invalidAmount';
  return null;
}

export function priceCents(price: string): number {
  const [units, cents] = price.split('.');
  return Number(units) * 100 + Number(cents);
}

export interface FileProfile {
  netRevenue: number;
  buyingCustomers: number;
  top20RevenueShare: number;
  inactiveLast6MonthsShare: number;
  oneTimeBuyerShare: number;
  /** Clean order (non-return) ids, and clean return ids. */
  orders: number;
  returns: number;
  /** Customers by year of their first clean purchase. */
  firstPurchaseByYear: Map<string, number>;
  maxOrdersPerCustomer: number;
}

/**
 * Recompute the generator's profile from transactions.csv: clean rows only, net revenue per
 * customer, the top 20% share, inactivity in the last 182 days before `endDate`.
 */
export function profileOf(rows: string[][], endDate: string): FileProfile {
  const net = new Map<string, number>();
  const orders = new Map<string, Set<string>>();
  const first = new Map<string, string>();
  const last = new Map<string, string>();
  const orderIds = new Set<string>();
  const returnIds = new Set<string>();
  for (const r of rows) {
    if (dirtOf(r) !== null) continue;
    const c = r[TX.customer];
    net.set(c, (net.get(c) ?? 0) + Number(r[TX.quantity]) * priceCents(r[TX.price]));
    if (r[TX.order].startsWith('C')) {
      returnIds.add(r[TX.order]);
      continue;
    }
    orderIds.add(r[TX.order]);
    let set = orders.get(c);
    if (!set) orders.set(c, (set = new Set()));
    set.add(r[TX.order]);
    const d = r[TX.date];
    if (!first.has(c) || d < first.get(c)!) first.set(c, d);
    if (!last.has(c) || d > last.get(c)!) last.set(c, d);
  }
  const values = [...net.values()].sort((a, b) => b - a);
  const total = values.reduce((a, b) => a + b, 0);
  const k = Math.ceil(values.length * 0.2);
  const top = values.slice(0, k).reduce((a, b) => a + b, 0);
  const cutoff = addDays(endDate, -181);
  let eligible = 0;
  let inactive = 0;
  const byYear = new Map<string, number>();
  for (const [c, f] of first) {
    byYear.set(f.slice(0, 4), (byYear.get(f.slice(0, 4)) ?? 0) + 1);
    if (f < cutoff) {
      eligible++;
      if (last.get(c)! < cutoff) inactive++;
    }
  }
  let oneTime = 0;
  let maxOrders = 0;
  for (const c of net.keys()) {
    const n = orders.get(c)?.size ?? 0;
    if (n === 1) oneTime++;
    maxOrders = Math.max(maxOrders, n);
  }
  return {
    netRevenue: total / 100,
    buyingCustomers: net.size,
    top20RevenueShare: top / total,
    inactiveLast6MonthsShare: inactive / eligible,
    oneTimeBuyerShare: oneTime / net.size,
    orders: orderIds.size,
    returns: returnIds.size,
    firstPurchaseByYear: byYear,
    maxOrdersPerCustomer: maxOrders,
  };
}

export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
