/**
 * Whose history a line is (relations/merged-history.ts), through the run's orders and purchase
 * days on hand-made lines, with the merges in effect set by hand:
 *
 *   S  O1 2024-01-10 100, O2 2024-03-01 50          — the survivor
 *   D  O3 2024-02-01 30, R3 2024-02-05 −10          — its duplicate: an order and a return
 *   E  O4 2024-04-01 70                              — merged into S too
 *   X  O5 2024-05-01 20                              — nobody's duplicate
 *
 * And a property: any merge set (each duplicate into a survivor that is no duplicate, as
 * crm ingest merges guarantees) leaves total revenue and the number of orders unchanged, and
 * removes exactly the merged-away ids.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlined } from '../../../src/models/relation.js';
import { historyOwner } from '../../../src/models/relations/merged-history.js';
import { orders } from '../../../src/models/relations/orders.js';
import { purchaseDays } from '../../../src/models/relations/purchase-days.js';
import { chainDb, type ChainDb, type Line } from './chain-db.js';

const LINES: Line[] = [
  ['S', 'O1', '2024-01-10', 100, null],
  ['S', 'O2', '2024-03-01', 50, null],
  ['D', 'O3', '2024-02-01', 30, null],
  ['D', 'R3', '2024-02-05', -10, null],
  ['E', 'O4', '2024-04-01', 70, null],
  ['X', 'O5', '2024-05-01', 20, null],
];

let db: ChainDb;
beforeAll(async () => {
  db = await chainDb();
  await db.load(LINES);
});
afterAll(() => db.close());

type CustomerOrders = { customer_id: string; purchases: number; returns: number; net: number };

async function ordersByCustomer(): Promise<CustomerOrders[]> {
  await db.materialize(orders.narrow, { as_of: '2024-12-31' });
  return db.rows<CustomerOrders>(
    `SELECT customer_id, count(*) FILTER (WHERE NOT is_return)::INTEGER AS purchases, count(*) FILTER (WHERE is_return)::INTEGER AS returns, sum(amount)::DOUBLE AS net
     FROM run_orders GROUP BY customer_id ORDER BY customer_id`,
  );
}

describe('merged history', () => {
  it('without merges every line stays with its own id', async () => {
    await db.merge([]);
    expect(await ordersByCustomer()).toEqual([
      { customer_id: 'D', purchases: 1, returns: 1, net: 20 },
      { customer_id: 'E', purchases: 1, returns: 0, net: 70 },
      { customer_id: 'S', purchases: 2, returns: 0, net: 150 },
      { customer_id: 'X', purchases: 1, returns: 0, net: 20 },
    ]);
  });

  it("maps a duplicate's orders and returns to its surviving id: the survivor's frequency is the sum of both, the duplicate has none", async () => {
    await db.merge([
      ['D', 'S'],
      ['E', 'S'],
    ]);
    expect(await ordersByCustomer()).toEqual([
      { customer_id: 'S', purchases: 4, returns: 1, net: 240 },
      { customer_id: 'X', purchases: 1, returns: 0, net: 20 },
    ]);
    await db.materialize(inlined(purchaseDays.narrow, [orders.narrow]), { as_of: '2024-12-31' });
    expect(await db.rows("SELECT CAST(order_date AS VARCHAR) AS day, is_return FROM run_purchase_days WHERE customer_id = 'S' ORDER BY day")).toEqual([
      { day: '2024-01-10', is_return: false },
      { day: '2024-02-01', is_return: false },
      { day: '2024-02-05', is_return: true },
      { day: '2024-03-01', is_return: false },
      { day: '2024-04-01', is_return: false },
    ]);
  });

  it('an undone merge (no longer in customer_merges) gives both ids their own history again', async () => {
    await db.merge([
      ['D', 'S'],
      ['E', 'S'],
    ]);
    await db.merge([['E', 'S']]);
    expect(await ordersByCustomer()).toEqual([
      { customer_id: 'D', purchases: 1, returns: 1, net: 20 },
      { customer_id: 'S', purchases: 3, returns: 0, net: 220 },
      { customer_id: 'X', purchases: 1, returns: 0, net: 20 },
    ]);
  });

  it('reads the id in one step: a merge naming an id that is itself merged is not followed (chains never reach the view: crm ingest merges rejects them)', async () => {
    await db.merge([
      ['D', 'S'],
      ['S', 'X'],
    ]);
    const rows = await ordersByCustomer();
    expect(rows.map((r) => r.customer_id)).toEqual(['E', 'S', 'X']);
    expect(rows.find((r) => r.customer_id === 'S')).toEqual({ customer_id: 'S', purchases: 1, returns: 1, net: 20 });
  });

  it('the owner SQL reads the alias given', () => {
    const owner = historyOwner('t');
    expect(owner.join).toBe('LEFT JOIN customer_merges merge_of_t ON merge_of_t.duplicate_id = t.customer_id');
    expect(owner.customerId).toBe('coalesce(merge_of_t.surviving_id, t.customer_id)');
  });
});

describe('merged history (property)', () => {
  const customers = ['A', 'B', 'C', 'D', 'E', 'F'];
  const line = fc.record({
    customer: fc.constantFrom(...customers),
    day: fc.integer({ min: 1, max: 28 }),
    amount: fc.integer({ min: -50, max: 500 }).filter((a) => a !== 0),
  });
  // Each customer: its own id (-1) or merged into a survivor; survivors are the customers not merged.
  const mergeSet = fc.array(fc.integer({ min: -1, max: customers.length - 1 }), { minLength: customers.length, maxLength: customers.length });

  it('any merge set leaves total revenue and the number of orders unchanged and removes exactly the merged-away ids', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 25 }), mergeSet, async (lines, targets) => {
        // Order ids unique across customers (one order id is one order, whoever it is filed under).
        await db.load(lines.map((l, i): Line => [l.customer, `${l.amount < 0 ? 'R' : 'O'}${i}`, `2024-02-${String(l.day).padStart(2, '0')}`, l.amount, null]));
        const pairs: [string, string][] = [];
        targets.forEach((t, i) => {
          // A survivor must not be a duplicate itself: only ids that merge nobody away can be merged, into ids that are not merged.
          if (t >= 0 && t !== i && targets[t] === -1) pairs.push([customers[i], customers[t]]);
        });
        await db.merge([]);
        const before = await ordersByCustomer();
        await db.merge(pairs);
        const after = await ordersByCustomer();
        const total = (rows: CustomerOrders[]) => rows.reduce((a, r) => a + r.net, 0);
        const count = (rows: CustomerOrders[]) => rows.reduce((a, r) => a + r.purchases + r.returns, 0);
        expect(total(after)).toBeCloseTo(total(before), 6);
        expect(count(after)).toBe(count(before));
        const duplicates = new Set(pairs.map(([d]) => d));
        const expected = [...new Set(before.map((r) => pairs.find(([d]) => d === r.customer_id)?.[1] ?? r.customer_id))].sort();
        expect(after.map((r) => r.customer_id)).toEqual(expected);
        for (const r of after) expect(duplicates.has(r.customer_id)).toBe(false);
      }),
      { numRuns: 40 },
    );
  });
});
