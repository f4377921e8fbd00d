/**
 * Everything generate() reports can be recounted from the files it wrote, and the files are
 * well-formed and internally consistent (orders, returns, signups, owners).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMERS_HEADER, TRANSACTIONS_HEADER, generate, type GenerateResult } from '../../src/generate/index.js';
import { CU, EMAIL, TX, dirtOf, isIsoDate, priceCents, profileOf, readCsv, type Table } from './helpers.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

let dir: string;
let result: GenerateResult;
let customers: Table;
let transactions: Table;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-gen-reconcile-'));
  result = await generate({ customers: 4000, seed: 3, outDir: dir });
  customers = await readCsv(join(dir, 'customers.csv'));
  transactions = await readCsv(join(dir, 'transactions.csv'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generate() result vs files', () => {
  it('reports the files, their row counts and sizes', async () => {
    expect(customers.lines[0]).toBe(CUSTOMERS_HEADER);
    expect(transactions.lines[0]).toBe(TRANSACTIONS_HEADER);
    expect(customers.rows.length).toBe(result.counts.customers);
    expect(result.files.customers.rows).toBe(customers.rows.length);
    expect(transactions.rows.length).toBe(result.counts.transactionLines);
    expect(result.files.transactions.rows).toBe(transactions.rows.length);
    expect(result.counts.transactionLines).toBe(result.counts.orderLines + result.counts.returnLines);
    const cBytes = (await stat(join(dir, 'customers.csv'))).size;
    const tBytes = (await stat(join(dir, 'transactions.csv'))).size;
    expect(result.files.customers.bytes).toBe(cBytes);
    expect(result.files.transactions.bytes).toBe(tBytes);
    expect(result.bytes).toBe(cBytes + tBytes);
  });

  it('keeps the CSV well-formed: 8 fields on every line', () => {
    expect(customers.rows.every((r) => r.length === 8)).toBe(true);
    expect(transactions.rows.every((r) => r.length === 8)).toBe(true);
  });

  it('counts orders, order lines and returns as they appear in the file', () => {
    const orderIds = new Set<string>();
    let orderLines = 0;
    let returnLines = 0;
    const returnIds = new Set<string>();
    for (const r of transactions.rows) {
      if (r[TX.order].startsWith('C')) {
        returnLines++;
        returnIds.add(r[TX.order]);
      } else {
        orderLines++;
        orderIds.add(r[TX.order]);
      }
    }
    expect(orderIds.size).toBe(result.counts.orders);
    expect(orderLines).toBe(result.counts.orderLines);
    expect(returnLines).toBe(result.counts.returnLines);
    expect(returnIds.size).toBe(result.counts.returns);
  });

  it('counts the dirty rows by kind', () => {
    const counts = { missingCustomerId: 0, invalidDate: 0, invalidAmount: 0 };
    for (const r of transactions.rows) {
      const kind = dirtOf(r);
      if (kind) counts[kind]++;
    }
    expect(counts).toEqual({
      missingCustomerId: result.counts.dirtyRows.missingCustomerId,
      invalidDate: result.counts.dirtyRows.invalidDate,
      invalidAmount: result.counts.dirtyRows.invalidAmount,
    });
    expect(result.counts.dirtyRows.total).toBe(counts.missingCustomerId + counts.invalidDate + counts.invalidAmount);
  });

  it('reports the same revenue, 80/20 share, churn and one-time buyers as the clean rows give', () => {
    const p = profileOf(transactions.rows, result.options.endDate);
    expect(p.netRevenue).toBeCloseTo(result.profile.netRevenue, 2);
    expect(p.buyingCustomers).toBe(result.profile.buyingCustomers);
    expect(p.top20RevenueShare).toBeCloseTo(result.profile.top20RevenueShare, 10);
    expect(p.inactiveLast6MonthsShare).toBeCloseTo(result.profile.inactiveLast6MonthsShare, 10);
    expect(p.oneTimeBuyerShare).toBeCloseTo(result.profile.oneTimeBuyerShare, 10);
    expect(result.profile.linesPerCustomer).toBe(transactions.rows.length / customers.rows.length);
  });

  it('counts customers without transactions', () => {
    const seen = new Set(transactions.rows.map((r) => r[TX.customer]));
    const without = customers.rows.filter((r) => !seen.has(r[CU.id])).length;
    expect(without).toBe(result.counts.customersWithoutTransactions);
    expect(without).toBeGreaterThan(0);
  });

  it('counts the customer-level dirt: invalid and missing e-mails, missing phones, duplicate persons', () => {
    const rows = customers.rows;
    expect(rows.filter((r) => r[CU.email] !== '' && !EMAIL.test(r[CU.email])).length).toBe(result.counts.customerIssues.invalidEmails);
    expect(rows.filter((r) => r[CU.email] === '').length).toBe(result.counts.customerIssues.missingEmails);
    expect(rows.filter((r) => r[CU.phone] === '').length).toBe(result.counts.customerIssues.missingPhones);
    // A duplicate person repeats an earlier customer's name and their e-mail (compared
    // case-insensitively) or phone, under a new id.
    const byEmail = new Map<string, string[]>();
    const byPhone = new Map<string, string[]>();
    let duplicates = 0;
    for (const r of rows) {
      const email = r[CU.email].toLowerCase();
      const earlier = (email && byEmail.get(email)) || (r[CU.phone] && byPhone.get(r[CU.phone]));
      if (earlier) {
        duplicates++;
        expect(r[CU.name]).toBe(earlier[CU.name]);
        expect(r[CU.id]).not.toBe(earlier[CU.id]);
      }
      if (email && !byEmail.has(email)) byEmail.set(email, r);
      if (r[CU.phone] && !byPhone.has(r[CU.phone])) byPhone.set(r[CU.phone], r);
    }
    expect(duplicates).toBe(result.counts.customerIssues.duplicatePersons);
    expect(duplicates).toBeGreaterThan(0);
  });

  it('gives customers unique zero-padded ids and a signup on or before the first order', () => {
    const ids = customers.rows.map((r) => r[CU.id]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^C\d{7}$/.test(id))).toBe(true);
    expect(ids[0]).toBe('C0000001');
    const firstOrder = new Map<string, string>();
    for (const r of transactions.rows) {
      if (dirtOf(r) !== null || r[TX.order].startsWith('C')) continue;
      const f = firstOrder.get(r[TX.customer]);
      if (f === undefined || r[TX.date] < f) firstOrder.set(r[TX.customer], r[TX.date]);
    }
    let checked = 0;
    const bad: string[] = [];
    for (const r of customers.rows) {
      const f = firstOrder.get(r[CU.id]);
      if (!isIsoDate(r[CU.signup]) || (f !== undefined && r[CU.signup] > f)) bad.push(`${r[CU.id]} ${r[CU.signup]} ${f}`);
      if (f !== undefined) checked++;
    }
    expect(bad).toEqual([]);
    expect(checked).toBeGreaterThan(0.9 * customers.rows.length);
  });

  it('gives key accounts an owner, about one owner per ten of them, and most customers none', () => {
    const owners = customers.rows.map((r) => r[CU.owner]).filter((o) => o !== '');
    const distinct = new Set(owners);
    expect(distinct.size).toBe(result.counts.accountOwners);
    expect(owners.length).toBeGreaterThanOrEqual(result.counts.keyAccounts);
    expect(owners.length).toBeLessThan(0.1 * customers.rows.length);
    const perOwner = result.counts.keyAccounts / distinct.size;
    expect(perOwner).toBeGreaterThan(5);
    expect(perOwner).toBeLessThan(20);
    expect([...distinct].every((o) => /^\S+( \S+)+$/.test(o))).toBe(true);
    // Owners only on business customers (those have an industry).
    expect(customers.rows.every((r) => r[CU.owner] === '' || r[CU.industry] !== '')).toBe(true);
  });

  it('writes orders of 1 to 5 lines sharing customer, date and channel', () => {
    const orders = new Map<string, string[][]>();
    for (const r of transactions.rows) {
      if (r[TX.order].startsWith('C')) continue;
      let lines = orders.get(r[TX.order]);
      if (!lines) orders.set(r[TX.order], (lines = []));
      lines.push(r);
    }
    const sizes = new Set<number>();
    const bad: string[] = [];
    for (const [id, lines] of orders) {
      sizes.add(lines.length);
      const clean = lines.filter((l) => dirtOf(l) === null);
      const shared = new Set(clean.map((l) => `${l[TX.customer]}|${l[TX.date]}|${l[TX.channel]}`));
      if (lines.length < 1 || lines.length > 5 || shared.size > 1) bad.push(id);
    }
    expect(bad).toEqual([]);
    expect([...sizes].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('writes clean lines with valid values: channels, positive quantities, 2-decimal prices, dates in the period', () => {
    const channels = new Set<string>();
    const bad: string[] = [];
    for (const r of transactions.rows) {
      if (dirtOf(r) !== null) continue;
      channels.add(r[TX.channel]);
      const q = Number(r[TX.quantity]);
      const ok =
        /^P\d{4}$/.test(r[TX.product]) &&
        /^[A-Z][a-z]+$/.test(r[TX.category]) &&
        r[TX.date] >= result.options.startDate &&
        r[TX.date] <= result.options.endDate &&
        priceCents(r[TX.price]) > 0 &&
        q !== 0 &&
        q < 0 === r[TX.order].startsWith('C');
      if (!ok) bad.push(r.join(','));
    }
    expect(bad).toEqual([]);
    expect([...channels].sort()).toEqual(['partner', 'phone', 'store', 'web']);
  });

  it('writes each return as one line for an earlier order of the same customer: same product and price, later date, at most the bought quantity', () => {
    const lines = new Map<string, string[][]>();
    for (const r of transactions.rows) {
      if (r[TX.order].startsWith('C')) continue;
      let l = lines.get(r[TX.order]);
      if (!l) lines.set(r[TX.order], (l = []));
      l.push(r);
    }
    let returns = 0;
    const bad: string[] = [];
    for (const r of transactions.rows) {
      if (!r[TX.order].startsWith('C')) continue;
      returns++;
      const original = lines.get(r[TX.order].slice(1)) ?? [];
      const match = original.find(
        (o) => o[TX.product] === r[TX.product] && o[TX.price] === r[TX.price] && Number(o[TX.quantity]) >= -Number(r[TX.quantity]),
      );
      const cleanOriginal = original.find((o) => dirtOf(o) === null);
      const consistent = !cleanOriginal || (r[TX.customer] === cleanOriginal[TX.customer] && r[TX.date] > cleanOriginal[TX.date]);
      if (!match || !consistent) bad.push(r.join(','));
    }
    expect(bad).toEqual([]);
    expect(returns).toBe(result.counts.returns);
  });
});
