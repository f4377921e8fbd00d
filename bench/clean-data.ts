/**
 * The bench's clean data set: the form most exports take — ids like `C0000001`, ISO dates, one
 * plain decimal amount per line, no dirt — so DuckDB's typed `read_csv` is at its fastest and the
 * ratio of `crm` to it cannot flatter us (the generated demo-like file is dirty, which slows
 * DuckDB's own read and makes our ratio look better than it is).
 *
 * Written by DuckDB itself (COPY … TO), deterministic: the same `lines` and `customers` give the
 * same bytes. Orders carry two lines on average (1–3); every customer has at least one order; the
 * rest of the orders go to customers with a skewed draw (a few buy often, most rarely), dated
 * over three years.
 *
 * With --day, one day's export to append to it instead (see dailyDataSql): --customers is then
 * the full file's, --lines the day's.
 *
 *   node dist/bench/clean-data.js OUT.csv [--lines 9800000] [--customers 2500000]
 *   node dist/bench/clean-data.js DAY.csv --day 2025-01-01 --lines 9800 [--customers 2500000]
 */
import fs from 'node:fs';
import path from 'node:path';
import { runInDuckDb } from './duckdb.js';

export interface CleanDataOptions {
  lines: number;
  customers: number;
}

export const CLEAN_DEFAULTS: CleanDataOptions = { lines: 9_800_000, customers: 2_500_000 };

/** Days the orders span, from 2022-01-01. */
const SPAN_DAYS = 1096;

/** A uniform draw u ∈ [0, 1) from hash(key) (DuckDB's 64-bit hash): the same key, the same draw, on every machine. */
const uniform = (key: string) => `(hash(${key}) % 1000000007) / 1000000007.0`;

/**
 * Zero-padded ids, `C0000001`: at least 7 digits for customers and 8 for orders (the 9.8M-line
 * file's form), more when the counts need them — DuckDB's lpad cuts a longer number short, which
 * would merge customers at 100M lines.
 */
const paddedId = (prefix: string, number: string, count: number, minDigits: number) =>
  `'${prefix}' || lpad(CAST(${number} AS VARCHAR), ${Math.max(minDigits, String(count).length)}, '0')`;

/**
 * The lines of `orders` (order_no, customer_no, order_date, lines), one to three per order, with
 * ids and an amount drawn per line, first `limit` in date order, written as CSV to `out`.
 */
function orderLinesCopySql(out: string, orders: string, ids: { orderId: string; customerId: string }, limit: number): string {
  return `
COPY (
  WITH orders AS (${orders}),
  order_lines AS (
    SELECT order_no, customer_no, order_date, line
    FROM orders, LATERAL (SELECT unnest(range(lines)) AS line)
  )
  SELECT ${ids.orderId} AS order_id,
         ${ids.customerId} AS customer_id,
         order_date,
         CAST(round(1 + 199 * ${uniform(`order_no, line, 'amount'`)}, 2) AS DECIMAL(18, 2)) AS amount
  FROM order_lines
  ORDER BY order_date, order_no, line
  LIMIT ${limit}
) TO '${out.replace(/'/g, "''")}' (HEADER, DELIMITER ',')`;
}

/** SQL writing the clean transactions CSV to `out`. */
export function cleanDataSql(out: string, o: CleanDataOptions): string {
  const orders = Math.max(o.customers, Math.round(o.lines / 2));
  return orderLinesCopySql(
    out,
    `
    SELECT o AS order_no,
           -- The first ${o.customers} orders give every customer one; the others go to a skewed draw.
           CASE WHEN o < ${o.customers} THEN o
                ELSE CAST(floor(${o.customers} * pow(${uniform(`o, 'customer'`)}, 2)) AS BIGINT) END AS customer_no,
           DATE '2022-01-01' + CAST(floor(${SPAN_DAYS} * ${uniform(`o, 'day'`)}) AS INTEGER) AS order_date,
           1 + CAST(floor(3 * ${uniform(`o, 'lines'`)}) AS INTEGER) AS lines
    FROM range(${orders}) t(o)
  `,
    { orderId: paddedId('O', 'order_no + 1', orders, 8), customerId: paddedId('C', 'customer_no + 1', o.customers, 7) },
    o.lines,
  );
}

export interface DailyDataOptions {
  /** Lines in the day's export (the bench uses 0.1 % of the full file's). */
  lines: number;
  /** Customers of the full file: most of the day's orders come from them, drawn as there. */
  customers: number;
  /** The day, ISO (the day after the full file's last date). */
  date: string;
}

/** Share of the day's orders placed by new customers (ids after the full file's). */
const NEW_CUSTOMER_SHARE = 0.1;

/**
 * SQL writing one day's export to `out`, the append a daily cron job loads: the same form as the
 * full file, every line dated `date`, order ids `D<yyyymmdd>-000001` (new, whatever the full
 * file holds), customers mostly existing ones and a tenth new ones.
 */
export function dailyDataSql(out: string, o: DailyDataOptions): string {
  // Two lines per order on average: a tenth more orders than that, cut at exactly `lines`.
  const orders = Math.ceil(o.lines * 0.55);
  const date = `DATE '${o.date}'`;
  return orderLinesCopySql(
    out,
    `
    SELECT o AS order_no,
           CASE WHEN ${uniform(`o, 'new', ${date}`)} < ${NEW_CUSTOMER_SHARE} THEN ${o.customers} + o
                ELSE CAST(floor(${o.customers} * pow(${uniform(`o, 'customer', ${date}`)}, 2)) AS BIGINT) END AS customer_no,
           ${date} AS order_date,
           1 + CAST(floor(3 * ${uniform(`o, 'lines', ${date}`)}) AS INTEGER) AS lines
    FROM range(${orders}) t(o)
  `,
    {
      orderId: `'D' || strftime(order_date, '%Y%m%d') || '-' || ${paddedId('', 'order_no + 1', orders, 6)}`,
      customerId: paddedId('C', 'customer_no + 1', o.customers + orders, 7),
    },
    o.lines,
  );
}

/**
 * Run one COPY statement in a throwaway in-memory DuckDB. Its sort of 100M lines would take most
 * of a shared machine's memory by DuckDB's default (80 %): capped, it spills beside the output.
 */
async function writeWithDuckDb(out: string, sql: string): Promise<void> {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const spill = path.join(path.dirname(out), `.${path.basename(out)}.tmp`);
  try {
    await runInDuckDb(':memory:', sql, { memory_limit: '4GB', temp_directory: spill });
  } finally {
    fs.rmSync(spill, { recursive: true, force: true });
  }
}

export async function writeDailyData(out: string, o: DailyDataOptions): Promise<void> {
  await writeWithDuckDb(out, dailyDataSql(out, o));
}

export async function writeCleanData(out: string, o: CleanDataOptions = CLEAN_DEFAULTS): Promise<void> {
  await writeWithDuckDb(out, cleanDataSql(out, o));
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('bench', 'clean-data.js'));
if (invokedDirectly) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const out = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
  if (!out) {
    process.stderr.write('usage: node dist/bench/clean-data.js OUT.csv [--lines N] [--customers N] [--day YYYY-MM-DD]\n');
    process.exit(2);
  }
  const lines = Number(flag('lines') ?? CLEAN_DEFAULTS.lines);
  const customers = Number(flag('customers') ?? CLEAN_DEFAULTS.customers);
  const day = flag('day');
  if (day) await writeDailyData(out, { lines, customers, date: day });
  else await writeCleanData(out, { lines, customers });
}
