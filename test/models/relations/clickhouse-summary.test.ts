/**
 * The per-customer summary written for ClickHouse (relations/clickhouse-summary.ts) gives the
 * same rows as the DuckDB chain (orders → purchase days → customer base) on the same lines:
 * loaded into an in-memory DuckDB, copied in bulk to a throwaway ClickHouse 18.16 server
 * (test/helpers/clickhouse-server.ts), summed on both, compared — money as exact decimal text.
 * Also through a Distributed table over two shards split by customer. The cohort activity a
 * source run brings back (`clickhouseCohortActivity`, both money widths) equals the local
 * cohort triangle's (cohorts.ts) cell by cell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inlined } from '../../../src/models/relation.js';
import { CLICKHOUSE_SUMMARY_COLUMNS, clickhouseCohortActivity, clickhouseCustomerSummary } from '../../../src/models/relations/clickhouse-summary.js';
import { cohorts } from '../../../src/models/relations/cohorts.js';
import { customerBase } from '../../../src/models/relations/customer-base.js';
import { orders } from '../../../src/models/relations/orders.js';
import { purchaseDays } from '../../../src/models/relations/purchase-days.js';
import { trendWindows } from '../../../src/models/relations/trend-windows.js';
import { chDate, ClickHouseClient, copyFromDuckDb, type ChRow } from '../../../src/store/clickhouse.js';
import { startClickHouse, type ClickHouseTestServer } from '../../helpers/clickhouse-server.js';
import { chainDb, type ChainDb } from './chain-db.js';

/** customer, order id (null: none), date, amount as exact text (negative: a return). */
type Line = [string, string | null, string, string];

const AS_OF = '2024-12-31';
const COLUMNS = ['customer_id', 'order_id', 'order_date', 'amount', 'is_return'];
const TABLE_DDL = (name: string) =>
  `CREATE TABLE ${name} (customer_id String, order_id Nullable(String), order_date Date, amount Decimal(18, 4), is_return UInt8) ENGINE = MergeTree ORDER BY customer_id`;

let server: ClickHouseTestServer;
let ch: ClickHouseClient;
let db: ChainDb;
beforeAll(async () => {
  server = await startClickHouse();
  ch = new ClickHouseClient({ url: server.url });
  db = await chainDb();
  await ch.run(TABLE_DDL('transactions'));
  for (const shard of ['shard1', 'shard2']) await ch.run(TABLE_DDL(`${shard}.transactions`));
  // Two shards on one server (the helper's cluster `two_shards`: shard1, shard2 databases).
  await ch.run(`CREATE TABLE transactions_all AS transactions ENGINE = Distributed(two_shards, '', transactions, cityHash64(customer_id))`);
}, 60_000);
afterAll(async () => {
  db?.close();
  await server?.stop();
});

/** The same lines into DuckDB (the store's types) and ClickHouse: one table, and split by customer over the two shards. */
async function load(lines: Line[]): Promise<void> {
  await db.conn.run('DELETE FROM transactions');
  for (const [customer, order, date, amount] of lines) {
    await db.conn.run('INSERT INTO transactions VALUES ($1, $2, CAST($3 AS DATE), CAST($4 AS DECIMAL(18, 4)), NULL, $4::DECIMAL(18, 4) < 0)', [customer, order, date, amount]);
  }
  const select = 'SELECT customer_id, order_id, order_date, amount, CAST(is_return AS INTEGER) FROM transactions';
  await ch.run('TRUNCATE TABLE transactions');
  await copyFromDuckDb(db.conn, select, ch, 'transactions', COLUMNS);
  // Shards split by customer: each customer's lines all on one shard (the parity of the id's first character decides).
  for (const [i, shard] of ['shard1', 'shard2'].entries()) {
    await ch.run(`TRUNCATE TABLE ${shard}.transactions`);
    await copyFromDuckDb(db.conn, `${select} WHERE ascii(customer_id) % 2 = ${i}`, ch, `${shard}.transactions`, COLUMNS);
  }
}

/** The DuckDB chain's summary: run_base's columns, and the exact money sums over run_purchase_days. */
async function duckSummary(): Promise<Record<string, unknown>[]> {
  const params = { as_of: AS_OF, since: null, trend_window_days: 180 };
  await db.materialize(trendWindows, params);
  await db.materialize(inlined(purchaseDays.wide, [orders.wide]), params);
  await db.materialize(customerBase.wide, params);
  return db.rows(`
    WITH money AS (
      SELECT customer_id,
             sum(amount) FILTER (WHERE NOT is_return) AS gross,
             coalesce(sum(amount) FILTER (WHERE is_return), 0) AS returned,
             arg_min(amount, order_date) FILTER (WHERE NOT is_return) AS first_day
      FROM run_purchase_days GROUP BY customer_id
    )
    SELECT b.customer_id, CAST(b.first_purchase AS VARCHAR) AS first_purchase, CAST(b.last_purchase AS VARCHAR) AS last_purchase,
           b.frequency, b.purchase_days, CAST(m.gross AS VARCHAR) AS gross_revenue, CAST(m.returned AS VARCHAR) AS returned,
           CAST(m.gross + m.returned AS VARCHAR) AS net_revenue, b.return_lines, CAST(m.first_day AS VARCHAR) AS first_day_value,
           b.bgnbd_x, CAST(b.t_x_days AS INTEGER) AS t_x_days, CAST(b.T_days AS INTEGER) AS T_days, b.monetary
    FROM run_base b JOIN money m USING (customer_id)
    ORDER BY b.customer_id`);
}

async function clickhouseSummary(table: string): Promise<ChRow[]> {
  return ch.rows(clickhouseCustomerSummary(table), { as_of: chDate(AS_OF) });
}

/** DuckDB's rows without its DOUBLE monetary (checked apart), in one order. */
function comparable(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map(({ monetary: _monetary, ...rest }) => rest).sort((a, b) => (String(a.customer_id) < String(b.customer_id) ? -1 : 1));
}

describe('the ClickHouse customer summary equals the DuckDB chain', () => {
  it('on hand-made lines: orders sharing an id, lines without one, returns netted in, a return-only customer left out', async () => {
    await load([
      ['A', 'O1', '2024-01-10', '100'],
      ['A', 'O1', '2024-01-10', '50.1234'],
      ['A', 'O2', '2024-01-10', '30'],
      ['A', 'O3', '2024-06-01', '80'],
      ['A', 'R1', '2024-06-05', '-20'],
      ['A', 'O4', '2024-12-31', '10'],
      ['A', 'O5', '2025-01-01', '999'],
      ['B', null, '2024-03-01', '40'],
      ['B', null, '2024-03-01', '20'],
      ['B', null, '2024-09-15', '25'],
      ['C', 'R9', '2024-05-01', '-15'],
      ['D', 'D1', '2023-06-01', '99999999999999.9999'],
      ['D', 'D2', '2024-08-01', '-0.0001'],
    ]);
    const local = await clickhouseSummary('transactions');
    expect(local.map((r) => r.customer_id)).toEqual(['A', 'B', 'D']);
    expect(local[0]).toEqual({
      customer_id: 'A', first_purchase: '2024-01-10', last_purchase: '2024-12-31', frequency: 4, purchase_days: 3,
      gross_revenue: '270.1234', returned: '-20.0000', net_revenue: '250.1234', return_lines: 1, first_day_value: '180.1234',
      bgnbd_x: 2, t_x_days: 356, T_days: 356,
    });
    expect(local[2]).toMatchObject({ customer_id: 'D', gross_revenue: '99999999999999.9999', net_revenue: '99999999999999.9998', bgnbd_x: 0 });
    expect(Object.keys(local[0])).toEqual([...CLICKHOUSE_SUMMARY_COLUMNS]);
    expect(local).toEqual(comparable(await duckSummary()));
    // Both shards hold customers; the Distributed table gives the same rows.
    const [[one], [two]] = await Promise.all([ch.rows('SELECT count() AS n FROM shard1.transactions'), ch.rows('SELECT count() AS n FROM shard2.transactions')]);
    expect(one.n).toBeGreaterThan(0n);
    expect(two.n).toBeGreaterThan(0n);
    expect(await clickhouseSummary('transactions_all')).toEqual(local);
  });

  it('on any lines (property): same customers, dates, counts, histories and exact money, one table or two shards', async () => {
    const customer = fc.constantFrom('A', 'B', "o'brien", 'c,d', 'say "hi"', 'new\nline', 'tab\there', '中文', 'back\\slash');
    const order = fc.option(fc.constantFrom('1', '2', '3', "x'y"), { nil: null });
    const day = fc.integer({ min: 0, max: 800 }).map((d) => new Date(Date.UTC(2023, 0, 1) + d * 86_400_000).toISOString().slice(0, 10));
    const amount = fc.bigInt({ min: -(10n ** 12n), max: 10n ** 13n }).map((units) => {
      const sign = units < 0n ? '-' : '';
      const digits = (units < 0n ? -units : units).toString().padStart(5, '0');
      return `${sign}${digits.slice(0, -4)}.${digits.slice(-4)}`;
    });
    const lines = fc.array(fc.tuple(customer, order, day, amount), { minLength: 1, maxLength: 25 });
    await fc.assert(
      fc.asyncProperty(lines, async (generated) => {
        await load(generated);
        const duck = await duckSummary();
        const local = await clickhouseSummary('transactions');
        expect(local).toEqual(comparable(duck));
        // run_base's DOUBLE monetary is the exact net revenue, rounded once.
        for (const row of duck) expect(row.monetary).toBe(Number(row.net_revenue));
        expect(await clickhouseSummary('transactions_all')).toEqual(local);
      }),
      { numRuns: 25 },
    );
  });
});

const IDENTITY = Object.fromEntries(['customer_id', 'order_id', 'order_date', 'amount', 'is_return', 'cost'].map((f) => [f, f])) as Parameters<typeof clickhouseCohortActivity>[0]['columns'];

/** The local triangle's cells with activity (cohorts.ts over the chain's run_base and run_purchase_days; duckSummary built them). */
async function duckActivity(): Promise<Record<string, unknown>[]> {
  await db.materialize(cohorts, { as_of: AS_OF });
  return db.rows(`SELECT CAST(cohort_month AS VARCHAR) AS cohort_month, months_since, CAST(active_customers AS INTEGER) AS active_customers, revenue
                  FROM run_cohorts WHERE active_customers > 0 OR revenue <> 0 ORDER BY cohort_month, months_since`);
}

/** The ClickHouse activity's cells, money as the DOUBLE the run makes of it (cohortsFromSource), zero cells left out as the triangle shows them. */
async function clickhouseActivity(table: string, narrow: boolean): Promise<Record<string, unknown>[]> {
  const reading = { table, columns: IDENTITY, hasCost: false, merges: [] };
  const rows = await ch.rows(`${clickhouseCohortActivity(reading, narrow)}\nORDER BY cohort_month, months_since`, { as_of: chDate(AS_OF) });
  return rows
    .map((r) => ({ cohort_month: r.cohort_month, months_since: Number(r.months_since), active_customers: Number(r.active_customers), revenue: Number(r.revenue) }))
    .filter((r) => r.active_customers > 0 || r.revenue !== 0);
}

describe('the ClickHouse cohort activity equals the local cohort triangle', () => {
  it('on hand-made lines: an order over a month end, two orders in a month, a return before the first purchase and in a month without one', async () => {
    await load([
      ['A', 'O1', '2024-01-31', '100'],
      ['A', 'O1', '2024-02-01', '50.1234'],
      ['A', 'O2', '2024-01-05', '30'],
      ['A', 'R1', '2024-03-05', '-20'],
      ['A', 'O3', '2024-04-01', '80'],
      ['A', 'O4', '2024-04-20', '10'],
      ['B', 'R2', '2024-01-02', '-5'],
      ['B', null, '2024-02-01', '40'],
      ['B', null, '2024-02-01', '20'],
      ['C', 'R9', '2024-05-01', '-15'],
      ['D', 'D1', '2023-06-01', '99999999999999.9999'],
      ['D', 'D2', '2024-08-01', '-0.0001'],
    ]);
    await duckSummary();
    const local = await duckActivity();
    // A: cohort 2024-01 (O1 is dated by its first line), active in months 0 and 3 (once, with two orders); month 2 is a return only.
    expect((await clickhouseActivity('transactions', true)).filter((r) => r.cohort_month === '2024-01-01')).toEqual([
      { cohort_month: '2024-01-01', months_since: 0, active_customers: 1, revenue: 180.1234 },
      { cohort_month: '2024-01-01', months_since: 2, active_customers: 0, revenue: -20 },
      { cohort_month: '2024-01-01', months_since: 3, active_customers: 1, revenue: 90 },
    ]);
    for (const narrow of [true, false]) {
      expect(await clickhouseActivity('transactions', narrow)).toEqual(local);
      expect(await clickhouseActivity('transactions_all', narrow)).toEqual(local);
    }
  });

  it('on any lines (property), both money widths, one table or two shards', async () => {
    const customer = fc.constantFrom('A', 'B', "o'brien", 'c,d', '中文');
    const order = fc.option(fc.constantFrom('1', '2', '3'), { nil: null });
    const day = fc.integer({ min: 0, max: 800 }).map((d) => new Date(Date.UTC(2023, 0, 1) + d * 86_400_000).toISOString().slice(0, 10));
    const amount = fc.bigInt({ min: -(10n ** 12n), max: 10n ** 13n }).map((units) => {
      const sign = units < 0n ? '-' : '';
      const digits = (units < 0n ? -units : units).toString().padStart(5, '0');
      return `${sign}${digits.slice(0, -4)}.${digits.slice(-4)}`;
    });
    const lines = fc.array(fc.tuple(customer, order, day, amount), { minLength: 1, maxLength: 25 });
    await fc.assert(
      fc.asyncProperty(lines, async (generated) => {
        await load(generated);
        await duckSummary();
        const local = await duckActivity();
        for (const narrow of [true, false]) {
          expect(await clickhouseActivity('transactions', narrow)).toEqual(local);
          expect(await clickhouseActivity('transactions_all', narrow)).toEqual(local);
        }
      }),
      { numRuns: 20 },
    );
  });
});
