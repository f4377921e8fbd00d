/**
 * readNumericColumns (src/store/columnar.ts): each column allocated once at the result's row
 * count, in a SharedArrayBuffer on request, the values exactly DuckDB's (NULL as NaN), across
 * many of DuckDB's 2,048-row chunks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { readNumericColumns } from '../../src/store/columnar.js';

let store: Store;
beforeAll(async () => {
  store = await Store.open(':memory:', { create: true });
});
afterAll(() => store.close());

describe('readNumericColumns', () => {
  const sql = `SELECT i AS k, CASE WHEN i % 1000 = 7 THEN NULL ELSE i / 3.0 END AS v, CAST(i % 5 AS INTEGER) AS w FROM range(10007) t(i) ORDER BY i`;
  for (const shared of [false, true]) {
    it(`${shared ? 'SharedArrayBuffer' : 'ArrayBuffer'} columns: every row, exact, at the result's size`, async () => {
      const read = await readNumericColumns(store, sql, { shared });
      expect(Object.keys(read)).toEqual(['k', 'v', 'w']);
      for (const column of Object.values(read)) {
        expect(column).toHaveLength(10007);
        expect(column.buffer.byteLength).toBe(10007 * 8);
        expect(column.buffer instanceof SharedArrayBuffer).toBe(shared);
      }
      for (const i of [0, 1, 2047, 2048, 6000, 10006]) {
        expect(read.k[i]).toBe(i);
        expect(read.v[i]).toBe(i / 3);
        expect(read.w[i]).toBe(i % 5);
      }
      expect(read.v[7]).toBeNaN();
      expect(read.v[1007]).toBeNaN();
    });
  }
  it('an empty result gives empty columns', async () => {
    const read = await readNumericColumns(store, 'SELECT 1.5 AS a WHERE false');
    expect(read.a).toHaveLength(0);
  });
});
