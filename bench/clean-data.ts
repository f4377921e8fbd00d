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
 *   node dist/bench/clean-data.js OUT.csv [--lines 9800000] [--customers 2500000]
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

export interface CleanDataOptions {
  lines: number;
  customers: number;
}

export const CLEAN_DEFAULTS: CleanDataOptions = { lines: 9_800_000, customers: 2_500_000 };

/** Days the orders span, from 2022-01-01. */
const SPAN_DAYS = 1096;

/**
 * SQL writing the clean transactions CSV to `out`. A uniform draw u ∈ [0, 1) comes from
 * hash(key) (DuckDB's 64-bit hash): the same key, the same draw, on every machine.
 */
export function cleanDataSql(out: string, o: CleanDataOptions): string {
  const orders = Math.max(o.customers, Math.round(o.lines / 2));
  const u = (key: string) => `(hash(${key}) % 1000000007) / 1000000007.0`;
  return `
COPY (
  WITH orders AS (
    SELECT o AS order_no,
           -- The first ${o.customers} orders give every customer one; the others go to a skewed draw.
           CASE WHEN o < ${o.customers} THEN o
                ELSE CAST(floor(${o.customers} * pow(${u(`o, 'customer'`)}, 2)) AS BIGINT) END AS customer_no,
           DATE '2022-01-01' + CAST(floor(${SPAN_DAYS} * ${u(`o, 'day'`)}) AS INTEGER) AS order_date,
           1 + CAST(floor(3 * ${u(`o, 'lines'`)}) AS INTEGER) AS lines
    FROM range(${orders}) t(o)
  ),
  order_lines AS (
    SELECT order_no, customer_no, order_date, line
    FROM orders, LATERAL (SELECT unnest(range(lines)) AS line)
  )
  SELECT 'O' || lpad(CAST(order_no + 1 AS VARCHAR), 8, '0') AS order_id,
         'C' || lpad(CAST(customer_no + 1 AS VARCHAR), 7, '0') AS customer_id,
         order_date,
         CAST(round(1 + 199 * ${u(`order_no, line, 'amount'`)}, 2) AS DECIMAL(18, 2)) AS amount
  FROM order_lines
  ORDER BY order_date, order_no, line
  LIMIT ${o.lines}
) TO '${out.replace(/'/g, "''")}' (HEADER, DELIMITER ',')`;
}

export async function writeCleanData(out: string, o: CleanDataOptions = CLEAN_DEFAULTS): Promise<void> {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(cleanDataSql(out, o));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('bench', 'clean-data.js'));
if (invokedDirectly) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const out = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
  if (!out) {
    process.stderr.write('usage: node dist/bench/clean-data.js OUT.csv [--lines N] [--customers N]\n');
    process.exit(2);
  }
  await writeCleanData(out, { lines: flag('lines') ?? CLEAN_DEFAULTS.lines, customers: flag('customers') ?? CLEAN_DEFAULTS.customers });
}
