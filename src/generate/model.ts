/**
 * The behavioural model's parameters, in one place so they can be tuned together.
 *
 * The model (per customer):
 *  1. Acquisition: a first-purchase day spread over the period with a linear ramp, so later
 *     years are busier (the business grows). Signup is on that day or somewhat earlier.
 *  2. Purchasing, BG/NBD-style (Fader, Hardie & Lee 2005): while "alive", purchases arrive as
 *     a Poisson process with an individual rate λ ~ Gamma(r, α) (heterogeneous buyers); after
 *     each purchase the customer drops out for good with an individual probability
 *     p ~ Beta(a, b). Hence one-time buyers, many who buy a few times, and a few who buy
 *     very often; and customers who silently stop (churn), which is what the BG/NBD model
 *     downstream has to recover. Monthly seasonality modulates λ by thinning.
 *  3. Spend, Gamma-Gamma-style: each customer has a mean order value drawn from a log-normal
 *     of their segment; each order's value scatters around it (Gamma, CV ≈ 0.58), independent
 *     of purchase frequency (the Gamma-Gamma assumption). Three segments — consumers, small
 *     businesses and a small set of large "key accounts" — make a heavy-tailed mixture that
 *     gives the classic 80/20 concentration of revenue.
 *  4. Baskets: an order has 1–5 lines; its value is split over the lines, and each line picks
 *     a product whose price fits at a plausible quantity (see catalog.ts).
 *  5. Returns: a small share of orders get one return line (order id `C` + original id,
 *     negative quantity, same product and price, a later date).
 *
 * Tuned (see test/generate/behaviour.test.ts) so that: ~4 lines per customer on average
 * (2.5M customers → ~10M lines), top 20% of buying customers ≈ 80% of net revenue, ~3% of
 * orders returned, and a large share of customers inactive in the last 6 months.
 */

export type SegmentKey = 'consumer' | 'smallBusiness' | 'keyAccount';

export interface SegmentModel {
  key: SegmentKey;
  /** Share of customers in this segment. */
  share: number;
  /** Multiplies the individual purchase rate λ (businesses reorder more regularly). */
  rateMultiplier: number;
  /** Drop-out probability after each purchase: p ~ Beta(a, b). */
  dropoutA: number;
  dropoutB: number;
  /** Mean order value ~ log-normal(ln(median), sigma), in currency units. */
  medianOrderValue: number;
  orderValueSigma: number;
  /** Relative weights of 1, 2, 3, 4 and 5 lines per order. */
  linesPerOrder: readonly number[];
  /** Typical units per line: quantity target = 1 + Poisson(mean). */
  extraUnitsMean: number;
  maxQuantity: number;
  /** Relative weights of web, store, phone, partner as the customer's preferred channel. */
  channelWeights: readonly number[];
  /** Share of this segment's customers that have an account owner. */
  ownerShare: number;
}

export const SEGMENTS: readonly SegmentModel[] = [
  {
    key: 'consumer',
    share: 0.78,
    rateMultiplier: 1,
    dropoutA: 0.7,
    dropoutB: 1.0,
    medianOrderValue: 42,
    orderValueSigma: 0.9,
    linesPerOrder: [44, 26, 15, 9, 6],
    extraUnitsMean: 0.35,
    maxQuantity: 24,
    channelWeights: [60, 30, 8, 2],
    ownerShare: 0,
  },
  {
    key: 'smallBusiness',
    share: 0.19,
    rateMultiplier: 1.5,
    dropoutA: 0.7,
    dropoutB: 1.4,
    medianOrderValue: 210,
    orderValueSigma: 0.85,
    linesPerOrder: [30, 25, 20, 14, 11],
    extraUnitsMean: 2.5,
    maxQuantity: 200,
    channelWeights: [45, 15, 25, 15],
    ownerShare: 0.05,
  },
  {
    key: 'keyAccount',
    share: 0.03,
    rateMultiplier: 8,
    dropoutA: 0.7,
    dropoutB: 6,
    medianOrderValue: 450,
    orderValueSigma: 0.8,
    linesPerOrder: [15, 20, 22, 22, 21],
    extraUnitsMean: 9,
    maxQuantity: 2000,
    channelWeights: [15, 5, 40, 40],
    ownerShare: 1,
  },
];

/** BG/NBD purchase rate λ ~ Gamma(shape r, rate α) per day: mean r/α purchases a day. */
export const PURCHASE_RATE = { shape: 0.8, ratePerDay: 300 };
/** No one orders more often than every other day on average (keeps the tail sane). */
export const MAX_DAILY_RATE = 0.5;

/** Acquisition density ∝ 1 + growth·x over the period (x from 0 to 1): the end is busier. */
export const ACQUISITION_GROWTH: number = 0.7;

/** Order value around the customer's mean: Gamma(shape)/shape, so mean 1, CV 1/√shape. */
export const ORDER_VALUE_SHAPE = 3;

/** Key accounts buy at a contract discount (a multiplier on list price) drawn once. */
export const KEY_ACCOUNT_DISCOUNTS: readonly number[] = [0.8, 0.85, 0.9, 0.95];
/** Other customers get a promotion price on this share of lines. */
export const PROMO_LINE_SHARE = 0.08;
export const PROMO_DISCOUNT = 0.9;

/** Probability that the line's category is the customer's favourite one. */
export const FAVOURITE_CATEGORY_SHARE = 0.45;
/** Probability that an order goes through the customer's preferred channel. */
export const PREFERRED_CHANNEL_SHARE = 0.85;

export const RETURNS = {
  /** Share of orders with a return. */
  share: 0.031,
  /** Days after the order: 1 + Exponential(mean), capped. */
  meanDelayDays: 9,
  maxDelayDays: 45,
  /** Share of returns that send back the whole line (the rest return part of it). */
  wholeLineShare: 0.6,
};

export const SIGNUP = {
  /** Share of customers who sign up on the day of their first order. */
  sameDayShare: 0.55,
  /** Otherwise signup precedes the first order by 1 + Exponential(mean) days, capped. */
  meanLeadDays: 25,
  maxLeadDays: 365,
};

/** Value-level dirt in customers.csv (shares of customers). */
export const CUSTOMER_DIRT = {
  /** Signed up, never bought. */
  noTransactions: 0.02,
  /** The same person registered again under a new id, sharing e-mail and/or phone. */
  duplicatePerson: 0.01,
  invalidEmail: 0.012,
  missingEmail: 0.02,
  missingPhone: 0.08,
};

/** With dirtyShare > 0 and at least this many customers, dirt is raised to about a dozen rows (four of each kind). */
export const MIN_DIRTY = { customers: 50, rows: 12 };
/** Expected transaction lines per customer, used only to size the minimum dirt above. */
export const EXPECTED_LINES_PER_CUSTOMER = 4;

/** A customer is inactive when their last purchase is more than this many days before the end. */
export const INACTIVE_AFTER_DAYS = 182;
