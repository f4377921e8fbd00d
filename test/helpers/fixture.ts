/**
 * A small, deterministic store for report tests: 36 customers and ~500 orders in the real
 * `customers` and `transactions` tables. Some customer names are hostile on purpose (HTML and
 * script tags, quotes, ampersands) and are among the biggest spenders so that they reach the
 * top-N tables; one name is Chinese. Revenue totals a few million so that Chinese amounts read
 * in 万.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store, literal } from '../../src/store/db.js';

export const HOSTILE_NAMES = [
  '<script>alert(1)</script>',
  '</script><script>alert("x")</script>',
  'O\'Brien & Sons <Ltd>',
  '<img src=x onerror=alert(3)>',
];

const PLAIN_NAMES = [
  '北京星辰科技有限公司',
  'Acme Corp',
  'Globex',
  'Initech',
  'Umbrella Retail',
  'Hooli',
  'Vandelay Industries',
  'Stark Supplies',
  'Wayne Trading',
  'Tyrell Goods',
  'Soylent Foods',
  'Cyberdyne Parts',
  'Wonka Sweets',
  'Pied Piper',
  'Duff Beverages',
  'Gringotts Lending',
  'Monarch Paper',
  'Nakatomi Trading',
  'Oscorp Labs',
  'Prestige Worldwide',
  'Sterling Cooper',
  'Dunder Mifflin',
  'Bluth Company',
  'Kramerica',
  'Massive Dynamic',
  'Virtucon',
  'Cogswell Cogs',
  'Spacely Sprockets',
  'Zorg Industries',
  'Ollivanders',
  'Weyland Freight',
  'Los Pollos Hermanos',
];

/** A seeded PRNG (mulberry32), so the fixture is the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Fixture {
  dir: string;
  storePath: string;
  cleanup(): void;
}

/** Create a fixture store in a fresh temporary folder. */
export async function createFixtureStore(prefix = 'crm-report-'): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const storePath = path.join(dir, 'fixture.duckdb');
  const store = await Store.open(storePath, { create: true });
  try {
    await store.transaction(async () => {
      await store.run(customersSql());
      await store.run(transactionsSql());
    });
  } finally {
    store.close();
  }
  return { dir, storePath, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function names(): string[] {
  return [...HOSTILE_NAMES, ...PLAIN_NAMES];
}

function customerId(i: number): string {
  return `C${String(i + 1).padStart(3, '0')}`;
}

function customersSql(): string {
  const regions = ['North', 'South', 'East', 'West'];
  const rows = names().map(
    (name, i) =>
      `(${literal(customerId(i))}, ${literal(name)}, ${literal(regions[i % regions.length])}, DATE '2022-01-01' + ${i * 9}, 1, 'fixture.csv', ${i + 2})`,
  );
  return `INSERT INTO customers (customer_id, name, region, signup_date, load_id, source_file, source_row) VALUES\n${rows.join(',\n')}`;
}

function transactionsSql(): string {
  const next = random(20240105);
  const rows: string[] = [];
  let row = 2;
  names().forEach((_, i) => {
    // Hostile names first: they spend the most and order the most often.
    const orders = i < HOSTILE_NAMES.length ? 30 + i : 4 + Math.floor(next() * 18);
    const scale = i < HOSTILE_NAMES.length ? 9000 : 1500 + next() * 4000;
    // Some customers stop buying early: recency differs, so segments differ.
    const lastDay = i % 5 === 0 ? 420 : 729;
    for (let k = 0; k < orders; k++) {
      const day = Math.floor(next() * lastDay);
      const amount = Math.round(scale * (0.4 + next() * 1.2) * 100) / 100;
      const isReturn = next() < 0.03;
      rows.push(
        `(1, 'fixture.csv', ${row++}, ${literal(customerId(i))}, ${literal(`O${row}`)}, DATE '2023-01-01' + ${day}, ${isReturn ? -amount : amount}, ${isReturn})`,
      );
    }
  });
  return `INSERT INTO transactions_narrow (load_id, source_file, source_row, customer_id, order_id, order_date, amount, is_return) VALUES\n${rows.join(',\n')}`;
}
