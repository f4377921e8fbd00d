/**
 * The purchase process and the order lines it writes to transactions.csv.
 *
 * For one customer profile (see model.ts for the model and customers.ts for the profile):
 * the first order falls on the acquisition day; after each order the customer drops out with
 * probability p, otherwise the next order comes after an exponential wait at rate λ, thinned
 * by the month's intensity (Lewis–Shedler thinning: candidates at the peak rate, accepted with
 * probability intensity/peak), until drop-out or the end of the period.
 *
 * Why lines are written as they are drawn: nothing per line is kept (no row objects, no
 * arrays of orders); the only per-order state is five slots of scratch typed arrays, reused,
 * so memory does not grow with the file. Strings are assembled from pre-built pieces (the
 * product's `P1207,Kitchen,` prefix, the day's ISO date, two-digit cents) because formatting
 * is most of the cost at 10M lines.
 *
 * Why the per-customer tallies skip dirty lines: the statistics `generate()` reports are what
 * an ingest that rejects the dirty rows will find, so tests can recompute them from the files.
 */
import { MAX_MONTH_INTENSITY, type Calendar } from './calendar.js';
import { CHANNELS, productNear, type Catalogue } from './catalog.js';
import type { CustomerProfile } from './customers.js';
import type { CsvSink } from './csv-sink.js';
import { DirtPlanner, KIND_NONE } from './dirt.js';
import {
  FAVOURITE_CATEGORY_SHARE,
  ORDER_VALUE_SHAPE,
  PREFERRED_CHANNEL_SHARE,
  PROMO_DISCOUNT,
  PROMO_LINE_SHARE,
  RETURNS,
  SEGMENTS,
} from './model.js';
import { Categorical, Rng, exponential, gamma, poisson } from './random.js';

export const TRANSACTIONS_HEADER = 'order_id,customer_id,order_date,product,category,channel,quantity,unit_price';

/** Order numbers start here, so every id has the same width for the first ~9M orders. */
export const FIRST_ORDER_NUMBER = 1_000_001;
const MAX_LINES = 5;

const CENTS = Array.from({ length: 100 }, (_, i) => (i < 10 ? '0' : '') + i);

/** 1234 → "12.34": integer arithmetic only, no locale, no float rounding surprises. */
export function formatCents(cents: number): string {
  return `${Math.floor(cents / 100)}.${CENTS[cents % 100]}`;
}

/** Per-customer results of one simulation, reset for every customer. */
export interface CustomerTally {
  /** Lines written that carry the customer's id (dirty or not). */
  linesWithId: number;
  /** Clean lines (order and return lines) and their net value in cents. */
  cleanLines: number;
  netCents: number;
  /** Orders with at least one clean line. */
  cleanOrders: number;
  /** Period offsets of the first and last order with a clean line (−1 if none). */
  firstCleanDay: number;
  lastCleanDay: number;
}

export class OrderWriter {
  orders = 0;
  orderLines = 0;
  returns = 0;
  private nextOrder = FIRST_ORDER_NUMBER;
  readonly tally: CustomerTally = {
    linesWithId: 0,
    cleanLines: 0,
    netCents: 0,
    cleanOrders: 0,
    firstCleanDay: -1,
    lastCleanDay: -1,
  };
  private readonly linesDraws = SEGMENTS.map((s) => new Categorical(s.linesPerOrder));
  // Scratch space for the lines of the order being written.
  private readonly weight = new Float64Array(MAX_LINES);
  private readonly lineCategory = new Int32Array(MAX_LINES);
  private readonly lineProduct = new Int32Array(MAX_LINES);
  private readonly lineQuantity = new Int32Array(MAX_LINES);
  private readonly linePrice = new Int32Array(MAX_LINES);

  constructor(
    private readonly rng: Rng,
    private readonly calendar: Calendar,
    private readonly catalogue: Catalogue,
    private readonly dirt: DirtPlanner,
    private readonly sink: CsvSink,
  ) {}

  /** Simulate one customer's purchases and write their lines. */
  simulate(p: CustomerProfile): void {
    const t = this.tally;
    t.linesWithId = 0;
    t.cleanLines = 0;
    t.netCents = 0;
    t.cleanOrders = 0;
    t.firstCleanDay = -1;
    t.lastCleanDay = -1;
    if (!p.buys) return;

    const rng = this.rng;
    const cal = this.calendar;
    const end = cal.days;
    const peakRate = p.rate * MAX_MONTH_INTENSITY;
    let time = p.acquisition + rng.next();
    this.writeOrder(p, p.acquisition);
    for (;;) {
      if (rng.next() < p.dropout) return; // dropped out after this purchase, for good
      do {
        time += exponential(rng, peakRate);
        if (time >= end) return;
      } while (rng.next() * MAX_MONTH_INTENSITY > cal.intensity(Math.floor(time)));
      this.writeOrder(p, Math.floor(time));
    }
  }

  private writeOrder(p: CustomerProfile, day: number): void {
    const rng = this.rng;
    const seg = p.segment;
    const cat = this.catalogue;
    const orderId = String(this.nextOrder++);
    this.orders++;
    const lines = 1 + this.linesDraws[p.segmentIndex].draw(rng);
    const orderCents = p.meanOrderCents * gamma(rng, ORDER_VALUE_SHAPE, 1 / ORDER_VALUE_SHAPE);
    let weightSum = 0;
    for (let j = 0; j < lines; j++) {
      const w = exponential(rng, 1); // Dirichlet(1,…,1) split of the order's value over its lines
      this.weight[j] = w;
      weightSum += w;
    }
    const channelIndex = rng.next() < PREFERRED_CHANNEL_SHARE ? p.channel : rng.int(CHANNELS.length);
    const channel = CHANNELS[channelIndex];
    const date = this.calendar.iso(day);
    const prefix = `${orderId},${p.id},${date},`;

    let out = '';
    let cleanInOrder = 0;
    for (let j = 0; j < lines; j++) {
      const category = rng.next() < FAVOURITE_CATEGORY_SHARE ? p.favouriteCategory : cat.categoryDraw.draw(rng);
      const lineCents = (orderCents * this.weight[j]) / weightSum;
      const unitsHint = 1 + poisson(rng, seg.extraUnitsMean);
      const prices = cat.pricesCents[category];
      const product = productNear(rng, prices, lineCents / unitsHint);
      const list = prices[product];
      const price =
        p.discount !== 1
          ? Math.round(list * p.discount)
          : rng.next() < PROMO_LINE_SHARE
            ? Math.round(list * PROMO_DISCOUNT)
            : list;
      let quantity = Math.round(lineCents / price);
      if (quantity < 1) quantity = 1;
      else if (quantity > seg.maxQuantity) quantity = seg.maxQuantity;
      this.lineCategory[j] = category;
      this.lineProduct[j] = product;
      this.lineQuantity[j] = quantity;
      this.linePrice[j] = price;

      const kind = this.dirt.tick();
      const item = cat.linePrefix[category][product];
      if (kind === KIND_NONE) {
        out += `${prefix}${item}${channel},${quantity},${formatCents(price)}\n`;
        cleanInOrder++;
        this.tally.netCents += quantity * price;
        this.tally.linesWithId++;
      } else if (kind === 0) {
        out += `${orderId},,${date},${item}${channel},${quantity},${formatCents(price)}\n`;
      } else if (kind === 1) {
        out += `${orderId},${p.id},${this.dirt.invalidDate(this.calendar.year(day))},${item}${channel},${quantity},${formatCents(price)}\n`;
        this.tally.linesWithId++;
      } else {
        out += `${prefix}${item}${channel},${quantity},${this.dirt.invalidAmount(price)}\n`;
        this.tally.linesWithId++;
      }
    }
    this.orderLines += lines;
    if (cleanInOrder > 0) {
      const t = this.tally;
      t.cleanLines += cleanInOrder;
      t.cleanOrders++;
      if (t.firstCleanDay < 0) t.firstCleanDay = day;
      t.lastCleanDay = day;
    }

    if (rng.next() < RETURNS.share) out += this.returnLine(p, orderId, day, lines, channel);
    this.sink.write(out);
  }

  /** One return line for a random line of the order, or '' if it would fall after the period. */
  private returnLine(p: CustomerProfile, orderId: string, day: number, lines: number, channel: string): string {
    const rng = this.rng;
    const j = rng.int(lines);
    const bought = this.lineQuantity[j];
    const quantity = rng.next() < RETURNS.wholeLineShare ? bought : 1 + rng.int(bought);
    const delay = 1 + Math.min(RETURNS.maxDelayDays - 1, Math.floor(exponential(rng, 1 / RETURNS.meanDelayDays)));
    const returnDay = day + delay;
    if (returnDay >= this.calendar.days) return '';
    this.returns++;
    const price = this.linePrice[j];
    this.tally.netCents -= quantity * price;
    this.tally.cleanLines++;
    this.tally.linesWithId++;
    const item = this.catalogue.linePrefix[this.lineCategory[j]][this.lineProduct[j]];
    return `C${orderId},${p.id},${this.calendar.iso(returnDay)},${item}${channel},-${quantity},${formatCents(price)}\n`;
  }
}
