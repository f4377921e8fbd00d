/**
 * Customers: who they are (customers.csv) and how they behave (the profile the purchase
 * process runs on).
 *
 * Why ids follow acquisition order: CRMs number customers as they sign up, so C0000001 is an
 * early customer. Acquisition quantiles are stratified — customer i gets the quantile
 * (i + U)/N of the acquisition distribution — which keeps ids in date order while streaming,
 * without sorting or holding anyone in memory.
 *
 * Why customer-level dirt uses its own random stream: the same seed gives the same customers
 * and purchases whether or not a particular customer is later chosen to be a duplicate; and
 * duplicates copy from a small ring of recent customers (bounded memory, and realistic: people
 * re-register soon after, having forgotten their login).
 */
import type { Calendar } from './calendar.js';
import type { Catalogue } from './catalog.js';
import { invalidEmail } from './dirt.js';
import {
  ACQUISITION_GROWTH,
  CUSTOMER_DIRT,
  KEY_ACCOUNT_DISCOUNTS,
  MAX_DAILY_RATE,
  PURCHASE_RATE,
  SEGMENTS,
  SIGNUP,
  type SegmentModel,
} from './model.js';
import type { People } from './people.js';
import { Categorical, Rng, beta, exponential, gamma, lognormal } from './random.js';

export const CUSTOMERS_HEADER = 'customer_id,name,email,phone,region,industry,account_owner,signup_date';

/** The mutable profile of the customer being simulated; one object, reused for every customer. */
export interface CustomerProfile {
  index: number;
  id: string;
  segment: SegmentModel;
  /** Index of `segment` in SEGMENTS. */
  segmentIndex: number;
  region: number;
  /** Index into INDUSTRIES, or −1 for consumers. */
  industry: number;
  /** Account owner number, or −1. */
  owner: number;
  /** Purchases per day while alive (BG/NBD λ). */
  rate: number;
  /** Drop-out probability after each purchase (BG/NBD p). */
  dropout: number;
  /** Mean order value in cents (Gamma-Gamma's per-customer mean). */
  meanOrderCents: number;
  /** Preferred channel index (CHANNELS). */
  channel: number;
  /** Favourite category index. */
  favouriteCategory: number;
  /** Multiplier on list prices (key-account contract discount; 1 for others). */
  discount: number;
  /** False for customers who signed up but never bought. */
  buys: boolean;
  /** Period offset of the first purchase (or of signup, for non-buyers). */
  acquisition: number;
  /** This customer repeats an earlier person: index into the recent-identities ring, or −1. */
  duplicateOf: number;
}

export function customerId(index: number): string {
  return 'C' + String(index + 1).padStart(7, '0');
}

/** Quote a CSV field if it holds a comma, a quote or a line break. */
export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

interface RecentIdentity {
  name: string;
  email: string;
  phone: string;
  region: number;
}

const RECENT_RING_SIZE = 1024;

export interface CustomerIssueCounts {
  invalidEmails: number;
  missingEmails: number;
  missingPhones: number;
  duplicatePersons: number;
}

export class CustomerFactory {
  readonly profile: CustomerProfile;
  readonly issues: CustomerIssueCounts = { invalidEmails: 0, missingEmails: 0, missingPhones: 0, duplicatePersons: 0 };
  keyAccounts = 0;
  private readonly segmentDraw = new Categorical(SEGMENTS.map((s) => s.share));
  private readonly channelDraws = SEGMENTS.map((s) => new Categorical(s.channelWeights));
  private readonly recent: RecentIdentity[] = [];
  private recentNext = 0;
  /** How many account owners serve the key accounts: about one per ten. */
  readonly owners: number;
  /** Which owners have been given at least one customer. */
  private readonly ownerUsed: Uint8Array;
  ownersAssigned = 0;

  constructor(
    private readonly customers: number,
    private readonly rng: Rng,
    private readonly dirtRng: Rng,
    private readonly calendar: Calendar,
    private readonly people: People,
    private readonly catalogue: Catalogue,
  ) {
    const keyShare = SEGMENTS.find((s) => s.key === 'keyAccount')?.share ?? 0;
    this.owners = Math.max(1, Math.round((customers * keyShare) / 10));
    this.ownerUsed = new Uint8Array(this.owners);
    this.profile = {
      index: 0,
      id: '',
      segment: SEGMENTS[0],
      segmentIndex: 0,
      region: 0,
      industry: -1,
      owner: -1,
      rate: 0,
      dropout: 0,
      meanOrderCents: 0,
      channel: 0,
      favouriteCategory: 0,
      discount: 1,
      buys: true,
      acquisition: 0,
      duplicateOf: -1,
    };
  }

  /** The acquisition offset of customer i: stratified quantile of a linearly rising density. */
  private acquisitionOffset(i: number): number {
    const q = (i + this.rng.next()) / this.customers;
    const g = ACQUISITION_GROWTH;
    // Inverse of F(x) = (x + g·x²/2) / (1 + g/2) on [0, 1].
    const x = g === 0 ? q : (-1 + Math.sqrt(1 + 2 * g * q * (1 + g / 2))) / g;
    return Math.min(this.calendar.days - 1, Math.floor(x * this.calendar.days));
  }

  /** Draw customer i's profile into `this.profile`. */
  draw(i: number): CustomerProfile {
    const p = this.profile;
    const rng = this.rng;
    p.index = i;
    p.id = customerId(i);
    const segIndex = this.segmentDraw.draw(rng);
    const seg = SEGMENTS[segIndex];
    p.segment = seg;
    p.segmentIndex = segIndex;
    p.region = this.people.regionIndex(rng);
    p.industry = seg.key === 'consumer' ? -1 : this.people.industryIndex(rng);
    p.owner = rng.chance(seg.ownerShare) ? rng.int(this.owners) : -1;
    if (p.owner >= 0 && this.ownerUsed[p.owner] === 0) {
      this.ownerUsed[p.owner] = 1;
      this.ownersAssigned++;
    }
    if (seg.key === 'keyAccount') this.keyAccounts++;
    const lambda = gamma(rng, PURCHASE_RATE.shape, 1 / PURCHASE_RATE.ratePerDay) * seg.rateMultiplier;
    p.rate = Math.min(MAX_DAILY_RATE, lambda);
    p.dropout = beta(rng, seg.dropoutA, seg.dropoutB);
    p.meanOrderCents = lognormal(rng, Math.log(seg.medianOrderValue * 100), seg.orderValueSigma);
    p.channel = this.channelDraws[segIndex].draw(rng);
    p.favouriteCategory = this.catalogue.categoryDraw.draw(rng);
    p.discount = seg.key === 'keyAccount' ? rng.pick(KEY_ACCOUNT_DISCOUNTS) : 1;
    p.acquisition = this.acquisitionOffset(i);
    p.buys = !this.dirtRng.chance(CUSTOMER_DIRT.noTransactions);
    p.duplicateOf = -1;
    if (this.recent.length > 0 && this.dirtRng.chance(CUSTOMER_DIRT.duplicatePerson)) {
      p.duplicateOf = this.dirtRng.int(this.recent.length);
      p.region = this.recent[p.duplicateOf].region;
    }
    return p;
  }

  /** Signup: on the first purchase day, or some days before it. */
  private signupOffset(firstPurchase: number): number {
    if (this.rng.chance(SIGNUP.sameDayShare)) return firstPurchase;
    const lead = 1 + Math.floor(exponential(this.rng, 1 / SIGNUP.meanLeadDays));
    return Math.max(this.calendar.minOffset, firstPurchase - Math.min(lead, SIGNUP.maxLeadDays));
  }

  /**
   * customers.csv's line for the current profile. `firstPurchase` is the offset of the first
   * transaction line written for the customer, or null if none was.
   */
  row(firstPurchase: number | null): string {
    const p = this.profile;
    const signup = this.signupOffset(firstPurchase ?? p.acquisition);
    const business = p.industry >= 0 ? { industry: p.industry } : null;
    const id = this.people.identity(this.rng, p.index, p.region, business);
    let { name, email, phone } = id;
    const d = this.dirtRng;
    if (p.duplicateOf >= 0) {
      const src = this.recent[p.duplicateOf];
      name = src.name;
      const how = d.int(4);
      if (how <= 1) email = src.email;
      else if (how === 2) email = capitalizeEmail(src.email);
      if (how >= 2) phone = src.phone;
      this.issues.duplicatePersons++;
    } else {
      if (d.chance(CUSTOMER_DIRT.missingEmail)) {
        email = '';
        this.issues.missingEmails++;
      } else if (d.chance(CUSTOMER_DIRT.invalidEmail)) {
        email = invalidEmail(d, email);
        this.issues.invalidEmails++;
      }
      if (d.chance(CUSTOMER_DIRT.missingPhone)) {
        phone = '';
        this.issues.missingPhones++;
      }
      if (email !== '' && phone !== '' && email === id.email) this.remember({ name, email, phone, region: p.region });
    }
    const owner = p.owner >= 0 ? this.people.ownerName(p.owner) : '';
    const industry = p.industry >= 0 ? this.people.industryName(p.industry) : '';
    return (
      `${p.id},${csvField(name)},${csvField(email)},${csvField(phone)},${this.people.regionName(p.region)},` +
      `${industry},${owner},${this.calendar.iso(signup)}\n`
    );
  }

  private remember(identity: RecentIdentity): void {
    if (this.recent.length < RECENT_RING_SIZE) this.recent.push(identity);
    else this.recent[this.recentNext] = identity;
    this.recentNext = (this.recentNext + 1) % RECENT_RING_SIZE;
  }
}

/** The same address typed with capitals (anna.schmidt@x → Anna.Schmidt@x): equal when compared case-insensitively. */
function capitalizeEmail(email: string): string {
  return email.replace(/(^|[._])([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}
