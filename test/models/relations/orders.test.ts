/**
 * Orders and purchase days (relations/orders.ts, purchase-days.ts) on hand-made lines:
 *
 *   A  O1 2024-01-10 100 (cost 60) + O1 2024-01-12 50 (no cost)  — one order over two days, dated by its first line
 *      O2 2024-01-10 30 (cost 10)                                — a second order on the same day
 *      R1 2024-01-10 −20 (cost −12)                              — a return that day: apart from the purchases
 *      O9 2025-01-05 999                                         — after as-of: not read
 *   B  no order id: 2024-03-01 40 + 20, 2024-03-02 25             — one order per day
 *   C  only a return, R9 2024-05-01 −15
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlined } from '../../../src/models/relation.js';
import { orderIds, orders, ordersUncosted } from '../../../src/models/relations/orders.js';
import { purchaseDays, purchaseDaysOfDailyOrders, purchaseDaysUncosted } from '../../../src/models/relations/purchase-days.js';
import { moneyScale } from '../../../src/models/relations/money.js';
import { chainDb, type ChainDb, type Line } from './chain-db.js';

const LINES: Line[] = [
  ['A', 'O1', '2024-01-10', 100, 60],
  ['A', 'O1', '2024-01-12', 50, null],
  ['A', 'O2', '2024-01-10', 30, 10],
  ['A', 'R1', '2024-01-10', -20, -12],
  ['A', 'O9', '2025-01-05', 999, null],
  ['B', null, '2024-03-01', 40, null],
  ['B', null, '2024-03-01', 20, null],
  ['B', null, '2024-03-02', 25, null],
  ['C', 'R9', '2024-05-01', -15, null],
];

let db: ChainDb;
beforeAll(async () => {
  db = await chainDb();
  await db.load(LINES);
});
afterAll(() => db.close());

describe.each(['narrow', 'wide'] as const)('orders and purchase days (%s money)', (width) => {
  it('an order id shared across days is one order on its first day; rows without an order id are one order per day; returns apart', async () => {
    await db.materialize(orders[width], { as_of: '2024-12-31' });
    expect(await db.rows('SELECT customer_id, is_return, CAST(order_date AS VARCHAR) AS order_date, amount, lines, margin FROM run_orders ORDER BY ALL')).toEqual([
      { customer_id: 'A', is_return: false, order_date: '2024-01-10', amount: 30, lines: 1, margin: 20 },
      // 100 − 60 over the costed line; the uncosted 50 adds nothing to the margin.
      { customer_id: 'A', is_return: false, order_date: '2024-01-10', amount: 150, lines: 2, margin: 40 },
      { customer_id: 'A', is_return: true, order_date: '2024-01-10', amount: -20, lines: 1, margin: -8 },
      { customer_id: 'B', is_return: false, order_date: '2024-03-01', amount: 60, lines: 2, margin: null },
      { customer_id: 'B', is_return: false, order_date: '2024-03-02', amount: 25, lines: 1, margin: null },
      { customer_id: 'C', is_return: true, order_date: '2024-05-01', amount: -15, lines: 1, margin: null },
    ]);
  });

  it('purchase days: orders summed per customer, day and kind (the orders inlined, as the run reads them)', async () => {
    await db.materialize(inlined(purchaseDays[width], [orders[width]]), { as_of: '2024-12-31' });
    expect(await db.rows('SELECT customer_id, CAST(order_date AS VARCHAR) AS order_date, is_return, orders, amount, lines, margin FROM run_purchase_days ORDER BY ALL')).toEqual([
      // 2024-01-12 is no purchase day: its line belongs to O1, dated 2024-01-10.
      { customer_id: 'A', order_date: '2024-01-10', is_return: false, orders: 2, amount: 180, lines: 3, margin: 60 },
      { customer_id: 'A', order_date: '2024-01-10', is_return: true, orders: 1, amount: -20, lines: 1, margin: -8 },
      { customer_id: 'B', order_date: '2024-03-01', is_return: false, orders: 1, amount: 60, lines: 2, margin: null },
      { customer_id: 'B', order_date: '2024-03-02', is_return: false, orders: 1, amount: 25, lines: 1, margin: null },
      { customer_id: 'C', order_date: '2024-05-01', is_return: true, orders: 1, amount: -15, lines: 1, margin: null },
    ]);
    const types = await db.rows<{ column_name: string; column_type: string }>("SELECT column_name, column_type FROM (DESCRIBE run_purchase_days) WHERE column_name IN ('amount', 'margin')");
    expect(types.map((t) => t.column_type)).toEqual(width === 'narrow' ? ['DECIMAL(18,4)', 'DECIMAL(18,4)'] : ['DECIMAL(38,4)', 'DECIMAL(38,4)']);
  });

  it('as-of is inclusive: the lines on the as-of date count (100 + 30 − 20), the O1 line two days later does not', async () => {
    await db.materialize(orders[width], { as_of: '2024-01-10' });
    expect(await db.rows('SELECT customer_id, sum(amount) AS amount FROM run_orders GROUP BY ALL ORDER BY ALL')).toEqual([{ customer_id: 'A', amount: 110 }]);
  });
});

describe('lines without any cost (the run reads ordersUncosted when moneyScale says costed = false)', () => {
  let uncosted: ChainDb;
  beforeAll(async () => {
    uncosted = await chainDb();
    await uncosted.load(LINES.map(([customer, order, date, amount]) => [customer, order, date, amount, null] as Line));
  });
  afterAll(() => uncosted.close());

  it('moneyScale: costed only when some line up to as-of has a cost', async () => {
    expect(await db.rows(moneyScale.sql.replace('$as_of', "'2024-12-31'"))).toEqual([{ money_width: 'narrow', costed: true }]);
    // A's costed lines are on 2024-01-10: none up to 2024-01-09 (no line at all then).
    expect(await db.rows(moneyScale.sql.replace('$as_of', "'2024-01-09'"))).toEqual([{ money_width: 'narrow', costed: false }]);
    expect(await uncosted.rows(moneyScale.sql.replace('$as_of', "'2024-12-31'"))).toEqual([{ money_width: 'narrow', costed: false }]);
  });

  it.each(['narrow', 'wide'] as const)('the same orders and purchase days, margin NULL, of the same types (%s money)', async (width) => {
    const read = async (costedOrders: typeof orders, days: typeof purchaseDays) => {
      await uncosted.materialize(costedOrders[width], { as_of: '2024-12-31' });
      const o = await uncosted.rows('SELECT * FROM run_orders ORDER BY ALL');
      const oTypes = await uncosted.rows('SELECT column_name, column_type FROM (DESCRIBE run_orders)');
      await uncosted.materialize(inlined(days[width], [costedOrders[width]]), { as_of: '2024-12-31' });
      const d = await uncosted.rows('SELECT * FROM run_purchase_days ORDER BY ALL');
      const dTypes = await uncosted.rows('SELECT column_name, column_type FROM (DESCRIBE run_purchase_days)');
      return { o, oTypes, d, dTypes };
    };
    const costed = await read(orders, purchaseDays);
    const without = await read(ordersUncosted, purchaseDaysUncosted);
    expect(without).toEqual(costed);
    expect(costed.d).toHaveLength(5);
    expect(costed.d.every((r) => r.margin === null)).toBe(true);
  });
});

/**
 * No line with an order id (the run then reads purchaseDaysOfDailyOrders): every order is one
 * customer's day and kind, so the days are the orders. Lines of several per day, costed and not,
 * a purchase and a return on one day, a merged duplicate buying on its survivor's day (one order
 * of the survivor's), a line after as-of.
 */
describe('lines without any order id (the run reads purchaseDaysOfDailyOrders when orderIds says identified = false)', () => {
  const UNIDENTIFIED: Line[] = [
    ['A', null, '2024-01-10', 100, 60],
    ['A', null, '2024-01-10', 50, null],
    ['A', null, '2024-01-10', -20, -12],
    ['A', null, '2024-01-12', 30, null],
    ['A', null, '2025-01-05', 999, null],
    ['A2', null, '2024-01-12', 5, null],
    ['B', null, '2024-03-01', 40, null],
    ['B', null, '2024-03-01', 20, null],
    ['C', null, '2024-05-01', -15, null],
  ];
  let bare: ChainDb;
  beforeAll(async () => {
    bare = await chainDb();
    await bare.load(UNIDENTIFIED);
    await bare.merge([['A2', 'A']]);
  });
  afterAll(() => bare.close());

  it('orderIds: identified only when some line up to as-of has an order id', async () => {
    expect(await bare.select(orderIds, { as_of: '2024-12-31' })).toEqual([{ identified: false }]);
    expect(await db.select(orderIds, { as_of: '2024-12-31' })).toEqual([{ identified: true }]);
    // O9 is A's only line after 2024-12-31; up to 2024-01-09 there is no line at all.
    expect(await db.select(orderIds, { as_of: '2024-01-09' })).toEqual([{ identified: false }]);
  });

  it.each([
    ['narrow', 'costed'],
    ['wide', 'costed'],
    ['narrow', 'uncosted'],
    ['wide', 'uncosted'],
  ] as const)('the days read off the orders are the grouped days, row for row and type for type (%s money, %s orders)', async (width, costs) => {
    const dayOrders = (costs === 'costed' ? orders : ordersUncosted)[width];
    const read = async (days: Parameters<typeof inlined>[0]) => {
      await bare.materialize(inlined(days, [dayOrders]), { as_of: '2024-12-31' });
      return {
        rows: await bare.rows('SELECT customer_id, CAST(order_date AS VARCHAR) AS order_date, is_return, orders, amount, lines, margin FROM run_purchase_days ORDER BY ALL'),
        types: await bare.rows('SELECT column_name, column_type, "null" FROM (DESCRIBE run_purchase_days)'),
      };
    };
    const grouped = await read((costs === 'costed' ? purchaseDays : purchaseDaysUncosted)[width]);
    const daily = await read(purchaseDaysOfDailyOrders);
    expect(daily).toEqual(grouped);
    const margin = (m: number) => (costs === 'costed' ? m : null);
    expect(daily.rows).toEqual([
      // 100 − 60 over the costed line; the 50 adds nothing to the margin.
      { customer_id: 'A', order_date: '2024-01-10', is_return: false, orders: 1, amount: 150, lines: 2, margin: margin(40) },
      { customer_id: 'A', order_date: '2024-01-10', is_return: true, orders: 1, amount: -20, lines: 1, margin: margin(-8) },
      // A2 merged into A: its line is in A's order of that day.
      { customer_id: 'A', order_date: '2024-01-12', is_return: false, orders: 1, amount: 35, lines: 2, margin: null },
      { customer_id: 'B', order_date: '2024-03-01', is_return: false, orders: 1, amount: 60, lines: 2, margin: null },
      { customer_id: 'C', order_date: '2024-05-01', is_return: true, orders: 1, amount: -15, lines: 1, margin: null },
    ]);
  });
});
