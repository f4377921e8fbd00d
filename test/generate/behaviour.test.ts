/**
 * The behavioural model produces what the analytics downstream are meant to find: revenue
 * concentrated in a fifth of the customers, churn, returns, heavy and light buyers, and dirt
 * at the configured share.
 */
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, generate, type GenerateResult } from '../../src/generate/index.js';
import { CrmError } from '../../src/util/errors.js';
import { dirtOf, profileOf, readCsv, withTempDir, type FileProfile, type Table } from './helpers.js';

const CUSTOMERS = 5000;
const DIRTY_SHARE = 0.005;

let dir: string;
let result: GenerateResult;
let transactions: Table;
let profile: FileProfile;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-gen-behaviour-'));
  result = await generate({ customers: CUSTOMERS, seed: 42, dirtyShare: DIRTY_SHARE, outDir: dir });
  transactions = await readCsv(join(dir, 'transactions.csv'));
  profile = profileOf(transactions.rows, result.options.endDate);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('behavioural model (5,000 customers)', () => {
  it('concentrates revenue: the top 20% of customers bring 70–90% of net revenue', () => {
    expect(profile.top20RevenueShare).toBeGreaterThan(0.7);
    expect(profile.top20RevenueShare).toBeLessThan(0.9);
  });

  it('has churn: most customers acquired before the last 6 months bought nothing in them, but not all', () => {
    expect(profile.inactiveLast6MonthsShare).toBeGreaterThan(0.5);
    expect(profile.inactiveLast6MonthsShare).toBeLessThan(0.97);
  });

  it('has one-time buyers, repeat buyers and a few very frequent ones', () => {
    expect(profile.oneTimeBuyerShare).toBeGreaterThan(0.4);
    expect(profile.oneTimeBuyerShare).toBeLessThan(0.85);
    expect(profile.maxOrdersPerCustomer).toBeGreaterThanOrEqual(15);
  });

  it('returns about 3% of orders', () => {
    const share = result.counts.returns / result.counts.orders;
    expect(share).toBeGreaterThan(0.02);
    expect(share).toBeLessThan(0.04);
  });

  it('averages about 4 transaction lines per customer', () => {
    const perCustomer = transactions.rows.length / CUSTOMERS;
    expect(perCustomer).toBeGreaterThan(3.5);
    expect(perCustomer).toBeLessThan(4.5);
  });

  it('acquires more customers in later years (the business grows)', () => {
    const y = profile.firstPurchaseByYear;
    expect(y.get('2025') ?? 0).toBeGreaterThan(1.2 * (y.get('2023') ?? 0));
  });

  it('plants dirty rows at the configured share, of every kind', () => {
    const kinds = { missingCustomerId: 0, invalidDate: 0, invalidAmount: 0 };
    for (const r of transactions.rows) {
      const k = dirtOf(r);
      if (k) kinds[k]++;
    }
    const total = kinds.missingCustomerId + kinds.invalidDate + kinds.invalidAmount;
    const share = total / transactions.rows.length;
    expect(share).toBeGreaterThan(0.7 * DIRTY_SHARE);
    expect(share).toBeLessThan(1.3 * DIRTY_SHARE);
    for (const n of Object.values(kinds)) expect(n).toBeGreaterThan(total / 5);
  });
});

describe('generate() dirt and options', () => {
  it('plants at least a handful of dirty rows in a small run', async () => {
    await withTempDir(async (tmp) => {
      const r = await generate({ customers: 60, seed: 1, outDir: tmp });
      expect(r.counts.dirtyRows.total).toBeGreaterThanOrEqual(5);
      expect(r.counts.dirtyRows.missingCustomerId).toBeGreaterThan(0);
      expect(r.counts.dirtyRows.invalidDate).toBeGreaterThan(0);
      expect(r.counts.dirtyRows.invalidAmount).toBeGreaterThan(0);
    });
  });

  it('plants no dirty rows with dirtyShare 0', async () => {
    await withTempDir(async (tmp) => {
      const r = await generate({ customers: 500, seed: 1, dirtyShare: 0, outDir: tmp });
      expect(r.counts.dirtyRows.total).toBe(0);
      const tx = await readCsv(join(tmp, 'transactions.csv'));
      expect(tx.rows.filter((row) => dirtOf(row) !== null)).toEqual([]);
    });
  });

  it('reports progress from 0 to 1, in order', async () => {
    await withTempDir(async (tmp) => {
      const seen: number[] = [];
      await generate({ customers: 1000, outDir: tmp, onProgress: (f) => seen.push(f) });
      expect(seen[0]).toBe(0);
      expect(seen[seen.length - 1]).toBe(1);
      expect(seen.length).toBeGreaterThan(50);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
    });
  });

  it('honours endDate and years', async () => {
    await withTempDir(async (tmp) => {
      const r = await generate({ customers: 300, endDate: '2024-06-30', years: 1, outDir: tmp });
      expect(r.options.startDate).toBe('2023-07-01');
      const tx = await readCsv(join(tmp, 'transactions.csv'));
      const dates = tx.rows.filter((row) => dirtOf(row) === null).map((row) => row[2]).sort();
      expect(dates[0] >= '2023-07-01').toBe(true);
      expect(dates[dates.length - 1] <= '2024-06-30').toBe(true);
    });
  });

  it('rejects bad options with a usage error before writing anything', async () => {
    await withTempDir(async (tmp) => {
      const out = join(tmp, 'never');
      await expect(generate({ customers: 0, outDir: out })).rejects.toBeInstanceOf(CrmError);
      await expect(generate({ customers: 1.5, outDir: out })).rejects.toThrow(/--customers/);
      await expect(generate({ customers: 10, endDate: '2025-02-30', outDir: out })).rejects.toThrow(/no such date/);
      await expect(generate({ customers: 10, dirtyShare: 2, outDir: out })).rejects.toThrow(/dirtyShare/);
      await expect(generate({ customers: 10, years: 0, outDir: out })).rejects.toThrow(/years/);
      const { existsSync } = await import('node:fs');
      expect(existsSync(out)).toBe(false);
    });
  });
});

describe('describeResult()', () => {
  it('names both files and states the measured 80/20 share', () => {
    const text = describeResult(result).join('\n');
    expect(text).toContain('customers.csv: 5,000 customers');
    expect(text).toContain(`transactions.csv: ${transactions.rows.length.toLocaleString('en-US')} lines`);
    expect(text).toContain(`top 20% of buying customers bring ${(result.profile.top20RevenueShare * 100).toFixed(1)}% of net revenue`);
  });
});
