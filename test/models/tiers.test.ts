/**
 * Value-tier boundaries (src/models/tiers.ts): the least value of each share tier is the k-th
 * largest value with k = ⌈share·N⌉. Checked against a sort in JavaScript on data with heavy
 * ties, a few distinct values, tiny N, and NULLs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { valueTierCuts } from '../../src/models/tiers.js';
import { Store } from '../../src/store/db.js';
import { createRng } from '../../src/models/random.js';
import type { ValueTierRule } from '../../src/models/tiers.js';

const TIERS: ValueTierRule[] = [
  { name: 'Platinum', top_share: 0.05 },
  { name: 'Gold', top_share: 0.2 },
  { name: 'Silver', top_share: 0.5 },
  { name: 'Bronze' },
];

/** The reference: sort descending, NULLs last; k-th value among the non-NULL ones. */
function expectedCuts(values: (number | null)[], tiers: ValueTierRule[]): number[] {
  const n = values.length;
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => b - a);
  return tiers.slice(0, -1).map((t) => {
    if (sorted.length === 0) return Infinity;
    const k = Math.max(1, Math.ceil(t.top_share! * n - 1e-9));
    return sorted[Math.min(k, sorted.length) - 1];
  });
}

let dir: string;
let store: Store;
let tables = 0;

async function cutsOf(values: (number | null)[], tiers = TIERS): Promise<number[]> {
  const table = `vals_${++tables}`;
  await store.run(`CREATE TABLE ${table} (v DOUBLE)`);
  for (let i = 0; i < values.length; i += 1000) {
    const chunk = values.slice(i, i + 1000).map((v) => `(${v === null ? 'NULL' : v})`);
    await store.run(`INSERT INTO ${table} VALUES ${chunk.join(', ')}`);
  }
  return valueTierCuts(store, table, 'v', tiers);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-tiers-'));
  store = await Store.open(path.join(dir, 'store.duckdb'), { create: true });
});
afterAll(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('value-tier boundaries', () => {
  it('equal the k-th largest value on continuous data (N = 12,345)', async () => {
    const rng = createRng(7);
    const rand = () => rng.uniform();
    const values = Array.from({ length: 12_345 }, () => Math.round(rand() * 1e6) / 100);
    expect(await cutsOf(values)).toEqual(expectedCuts(values, TIERS));
  });

  it('ties at a boundary: every tied customer is in the upper tier (the cut is the tied value)', async () => {
    // 100 customers: 3 worth 100, then 10 worth 50 (positions 4–13; Platinum k = 5 and
    // Gold k = 20 fall inside / after the block), then 87 worth 1.
    const values = [...Array(3).fill(100), ...Array(10).fill(50), ...Array(87).fill(1)];
    expect(await cutsOf(values)).toEqual([50, 1, 1]);
    expect(await cutsOf(values)).toEqual(expectedCuts(values, TIERS));
  });

  it('tiny N: one, two and three customers', async () => {
    for (const values of [[42], [5, 7], [3, 9, 1]]) {
      expect(await cutsOf(values), JSON.stringify(values)).toEqual(expectedCuts(values, TIERS));
    }
    expect(await cutsOf([42])).toEqual([42, 42, 42]);
  });

  it('shares that are exact multiples of 1/N, and many random sizes', async () => {
    const rng = createRng(11);
    const rand = () => rng.uniform();
    for (let trial = 0; trial < 25; trial++) {
      const n = 1 + Math.floor(rand() * 400);
      const values = Array.from({ length: n }, () => Math.floor(rand() * 20));
      const tiers: ValueTierRule[] = [{ name: 'A', top_share: 0.1 }, { name: 'B', top_share: 0.25 }, { name: 'C', top_share: 0.5 }, { name: 'D' }];
      expect(await cutsOf(values, tiers), `n=${n}`).toEqual(expectedCuts(values, tiers));
    }
  });

  it('NULL values rank last; no value at all gives no boundary (Infinity)', async () => {
    const values = [10, null, 30, null, 20, null, null, null, null, null];
    expect(await cutsOf(values)).toEqual(expectedCuts(values, TIERS));
    expect(await cutsOf([null, null])).toEqual([Infinity, Infinity, Infinity]);
  });

  it('fixed amounts (min_clv) are used as given', async () => {
    const tiers: ValueTierRule[] = [{ name: 'High', min_clv: 1000 }, { name: 'Mid', min_clv: 100 }, { name: 'Low' }];
    expect(await cutsOf([1, 2, 3], tiers)).toEqual([1000, 100]);
  });
});
