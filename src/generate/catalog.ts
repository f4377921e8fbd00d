/**
 * The product catalogue and sales channels.
 *
 * Why a fixed catalogue: product codes should mean the same thing in every generated data
 * set (P1207 is always the same kitchen item at the same list price), so the catalogue is
 * drawn from its own constant seed, independent of `generate()`'s seed.
 *
 * Why short codes (`P1207`) rather than product names: ~10M lines are written for the
 * benchmark, and every byte per line costs 10 MB; a code plus a category name is what
 * order-line exports usually carry anyway.
 *
 * How a line picks a product: the purchase model first decides what a line is worth; the
 * catalogue then finds the product of the line's category whose list price best fits that
 * value at a plausible quantity (binary search in price-sorted arrays), so cheap categories
 * get higher quantities and expensive ones single units, as in real baskets.
 */
import { Categorical, Rng, lognormal } from './random.js';

export interface CategorySpec {
  name: string;
  /** Median list price, in currency units. */
  medianPrice: number;
  /** Spread of list prices (log-normal sigma). */
  priceSigma: number;
  /** How often the category appears on order lines, relative. */
  weight: number;
}

export const CATEGORIES: readonly CategorySpec[] = [
  { name: 'Office', medianPrice: 9, priceSigma: 0.9, weight: 16 },
  { name: 'Tech', medianPrice: 95, priceSigma: 1.0, weight: 12 },
  { name: 'Furniture', medianPrice: 220, priceSigma: 0.8, weight: 6 },
  { name: 'Kitchen', medianPrice: 24, priceSigma: 0.9, weight: 12 },
  { name: 'Garden', medianPrice: 35, priceSigma: 1.0, weight: 8 },
  { name: 'Tools', medianPrice: 45, priceSigma: 1.0, weight: 9 },
  { name: 'Toys', medianPrice: 18, priceSigma: 0.8, weight: 9 },
  { name: 'Books', medianPrice: 16, priceSigma: 0.5, weight: 10 },
  { name: 'Sports', medianPrice: 40, priceSigma: 0.9, weight: 8 },
  { name: 'Beauty', medianPrice: 14, priceSigma: 0.7, weight: 10 },
];

export const PRODUCTS_PER_CATEGORY = 40;
const CATALOGUE_SEED = 20_240_101;
const FIRST_PRODUCT_CODE = 1001;

export const CHANNELS = ['web', 'store', 'phone', 'partner'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface Catalogue {
  categoryDraw: Categorical;
  /** Per category: list prices in cents, ascending. */
  pricesCents: Int32Array[];
  /** Per category, aligned with pricesCents: the line prefix `P1207,Kitchen,`. */
  linePrefix: string[][];
  /** Per category, aligned: the bare product code. */
  codes: string[][];
}

/** Round a raw price the way shops do: x.49/x.99 below 20, x.99 up to 200, whole fives above. */
function shelfPriceCents(raw: number): number {
  if (raw < 20) return Math.max(49, Math.round(raw * 2) * 50 - 1);
  if (raw < 200) return Math.round(raw) * 100 - 1;
  return Math.round(raw / 5) * 500;
}

export function buildCatalogue(): Catalogue {
  const rng = new Rng(CATALOGUE_SEED, 1);
  const pricesCents: Int32Array[] = [];
  const linePrefix: string[][] = [];
  const codes: string[][] = [];
  let code = FIRST_PRODUCT_CODE;
  for (const cat of CATEGORIES) {
    const items: { cents: number; code: string }[] = [];
    for (let i = 0; i < PRODUCTS_PER_CATEGORY; i++) {
      const raw = lognormal(rng, Math.log(cat.medianPrice), cat.priceSigma);
      items.push({ cents: shelfPriceCents(raw), code: `P${code++}` });
    }
    items.sort((x, y) => x.cents - y.cents || (x.code < y.code ? -1 : 1));
    pricesCents.push(Int32Array.from(items, (it) => it.cents));
    linePrefix.push(items.map((it) => `${it.code},${cat.name},`));
    codes.push(items.map((it) => it.code));
  }
  return { categoryDraw: new Categorical(CATEGORIES.map((c) => c.weight)), pricesCents, linePrefix, codes };
}

/**
 * The index of the product in `prices` whose price is nearest to `targetCents`, moved by a
 * random step of up to ±2 so that the same basket value does not always give the same item.
 */
export function productNear(rng: Rng, prices: Int32Array, targetCents: number): number {
  let lo = 0;
  let hi = prices.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (prices[mid] < targetCents) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && targetCents - prices[lo - 1] < prices[lo] - targetCents) lo--;
  const j = lo + rng.int(5) - 2;
  return j < 0 ? 0 : j >= prices.length ? prices.length - 1 : j;
}
