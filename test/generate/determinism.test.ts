import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../src/generate/index.js';
import { TX, dirtOf, readCsv, sha256, withTempDir } from './helpers.js';

const CUSTOMERS = 3000;

async function hashes(dir: string): Promise<[string, string]> {
  return [await sha256(join(dir, 'customers.csv')), await sha256(join(dir, 'transactions.csv'))];
}

describe('generate() determinism', () => {
  it('writes byte-identical files for the same options', async () => {
    await withTempDir(async (tmp) => {
      const a = await generate({ customers: CUSTOMERS, seed: 11, outDir: join(tmp, 'a') });
      const b = await generate({ customers: CUSTOMERS, seed: 11, outDir: join(tmp, 'b') });
      expect(await hashes(join(tmp, 'a'))).toEqual(await hashes(join(tmp, 'b')));
      // The reports agree too, apart from where the files went.
      const strip = (r: typeof a) => ({ ...r, files: { customers: { ...r.files.customers, path: '' }, transactions: { ...r.files.transactions, path: '' } } });
      expect(strip(a)).toEqual(strip(b));
    });
  });

  it('writes different files for a different seed', async () => {
    await withTempDir(async (tmp) => {
      await generate({ customers: CUSTOMERS, seed: 11, outDir: join(tmp, 'a') });
      await generate({ customers: CUSTOMERS, seed: 12, outDir: join(tmp, 'b') });
      const [ca, ta] = await hashes(join(tmp, 'a'));
      const [cb, tb] = await hashes(join(tmp, 'b'));
      expect(ca).not.toBe(cb);
      expect(ta).not.toBe(tb);
    });
  });

  it('uses the documented defaults (seed 42, 2023-01-01..2025-12-31)', async () => {
    await withTempDir(async (tmp) => {
      const implicit = await generate({ customers: 200, outDir: join(tmp, 'a') });
      await generate({ customers: 200, seed: 42, endDate: '2025-12-31', years: 3, dirtyShare: 0.005, outDir: join(tmp, 'b') });
      expect(await hashes(join(tmp, 'a'))).toEqual(await hashes(join(tmp, 'b')));
      expect(implicit.options).toMatchObject({ seed: 42, startDate: '2023-01-01', endDate: '2025-12-31', years: 3 });
      const tx = await readCsv(join(tmp, 'a', 'transactions.csv'));
      const dates = tx.rows.filter((r) => dirtOf(r) === null).map((r) => r[TX.date]).sort();
      expect(dates[0] >= '2023-01-01').toBe(true);
      expect(dates[dates.length - 1] <= '2025-12-31').toBe(true);
    });
  });

  it('changing dirtyShare changes which lines are dirty and nothing else', async () => {
    await withTempDir(async (tmp) => {
      await generate({ customers: CUSTOMERS, seed: 5, dirtyShare: 0, outDir: join(tmp, 'clean') });
      await generate({ customers: CUSTOMERS, seed: 5, dirtyShare: 0.02, outDir: join(tmp, 'dirty') });
      expect(await sha256(join(tmp, 'clean', 'customers.csv'))).toBe(await sha256(join(tmp, 'dirty', 'customers.csv')));
      const clean = await readCsv(join(tmp, 'clean', 'transactions.csv'));
      const dirty = await readCsv(join(tmp, 'dirty', 'transactions.csv'));
      expect(dirty.rows.length).toBe(clean.rows.length);
      let differing = 0;
      const bad: number[] = [];
      for (let i = 0; i < clean.rows.length; i++) {
        if (dirtOf(clean.rows[i]) !== null) bad.push(i);
        if (clean.lines[i + 1] !== dirty.lines[i + 1]) {
          differing++;
          if (dirtOf(dirty.rows[i]) === null || dirty.rows[i][TX.order] !== clean.rows[i][TX.order]) bad.push(i);
        }
      }
      expect(bad).toEqual([]);
      expect(differing).toBeGreaterThan(0.015 * clean.rows.length);
    });
  });
});
