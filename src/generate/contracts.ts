/**
 * The policy book: contracts.csv (one row per contract period) and the contract-only customers
 * appended to customers.csv. The model is in contract-model.ts; this file draws and writes it.
 *
 * Why two passes per contract: the status (active | cancelled | lapsed) is the contract's at
 * the end date, repeated on each of its rows as policy systems export it, so a contract is
 * simulated first — its period dates into a few slots of scratch typed arrays, reused — and
 * written second. Nothing else is kept per contract: memory does not grow with the book (the
 * one per-customer array, the purchase customers' regions, is a byte each).
 *
 * Why the truth is tallied here: `contracts.truth.json` holds each plan's true α, β and the
 * (renewals, active) counts the process produced — the sBG fit's input — so a test or the bench
 * can check that a fit recovers the parameters without re-deriving the contracts from the file.
 */
import { addMonthsCivil, civilFromDays, isoFromDay, type Calendar } from './calendar.js';
import {
  CANCEL_SHARE,
  CONTRACT_CHANNELS,
  CONTRACT_DIRT,
  HOLDERS,
  MEAN_CONTRACTS_PER_HOLDER,
  PERIOD_MONTHS,
  PLANS,
  maxPeriods,
  planDraw,
  type PeriodUnit,
} from './contract-model.js';
import type { CsvSink } from './csv-sink.js';
import { customerId, csvField } from './customers.js';
import { CONTRACT_DIRT_KIND, ContractDirtPlanner, KIND_NONE, type ContractDirtKind } from './dirt.js';
import { formatCents } from './orders.js';
import type { People } from './people.js';
import { Categorical, Rng, beta, lognormal } from './random.js';

export const CONTRACTS_HEADER = 'customer_id,contract_id,plan,period_start,period_end,amount,channel,region,status,cancel_date';
/** The same columns under the headers a Chinese insurer's policy export uses (`--lang zh`). */
export const CONTRACTS_HEADER_ZH = '客户编号,保单号,险种,起保日期,终保日期,保费,渠道,地区,状态,退保日期';

export type ContractStatus = 'active' | 'cancelled' | 'lapsed';

/** Policy numbers: `P` and eight digits, issued in start-date order. */
export function contractId(index: number): string {
  return 'P' + String(index + 1).padStart(8, '0');
}

/** One plan's truth: its parameters and the (renewals, active) counts the process produced. */
export interface PlanTruth {
  plan: string;
  period: PeriodUnit;
  alpha: number;
  beta: number;
  /** α / (α + β): the mean churn probability at the first renewal. */
  meanChurn: number;
  contracts: number;
  /** Contracts per (renewals, active), the sBG fit's input; only non-empty cells. */
  summary: { renewals: number; active: 0 | 1; contracts: number }[];
}

export interface ContractCounts {
  contracts: number;
  /** Data rows of contracts.csv (duplicated rows included). */
  rows: number;
  /** Holders who also buy (ids from customers.csv's purchase customers) and those who only hold contracts. */
  holdersWithPurchases: number;
  contractOnlyCustomers: number;
  /** Account owners (agents) named for contract-only customers. */
  agents: number;
  byStatus: Record<ContractStatus, number>;
  dirtyRows: Record<ContractDirtKind, number> & { total: number };
}

export interface ContractBookOptions {
  contracts: number;
  /** Purchase customers already written to customers.csv (ids C0000001 … ). */
  purchaseCustomers: number;
  /** Region index of each purchase customer, or null when there are none. */
  purchaseRegions: Uint8Array | null;
  /** Account owner numbers below this are the key accounts'; agents are numbered from it. */
  firstAgent: number;
  rng: Rng;
  identityRng: Rng;
  dirt: ContractDirtPlanner;
  calendar: Calendar;
  people: People;
  contractsSink: CsvSink;
  customersSink: CsvSink;
  onProgress: (contractsDone: number) => void;
}

/** Contracts between progress reports and sink flushes. */
const FLUSH_EVERY = 1024;
/** ISO strings are cached up to this many days after the end date (a last annual period, an overlap). */
const DAYS_AFTER_END = 400;

export class ContractBook {
  private readonly o: ContractBookOptions;
  private readonly plans = planDraw();
  private readonly holderSize = new Categorical(HOLDERS.contractsPerHolder);
  private readonly channelDraws = PLANS.map((p) => new Categorical(p.channelWeights));
  private readonly firstDay: number;
  private readonly lastDay: number;
  private readonly isoCache: string[];
  // Scratch: the current contract's periods.
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly premiums: Float64Array;
  private readonly dirtKinds: Int8Array;
  private readonly tallies: Float64Array[];
  private readonly planContracts = new Float64Array(PLANS.length);
  private readonly tallyWidth: number;
  readonly counts: ContractCounts;
  private existingCursor = -1;
  private readonly existingSpan: number;
  private readonly agents: number;

  constructor(o: ContractBookOptions) {
    this.o = o;
    this.firstDay = o.calendar.firstDay;
    this.lastDay = o.calendar.lastDay;
    this.isoCache = new Array<string>(this.lastDay + DAYS_AFTER_END - this.firstDay + 1);
    for (let i = 0; i < this.isoCache.length; i++) this.isoCache[i] = isoFromDay(this.firstDay + i);
    // Reinstatements restart the period count, so leave room beyond the monthly maximum.
    const slots = maxPeriods(Math.ceil(o.calendar.days / 365) + 1) * 2;
    this.starts = new Int32Array(slots);
    this.ends = new Int32Array(slots);
    this.premiums = new Float64Array(slots);
    this.dirtKinds = new Int8Array(slots);
    this.tallyWidth = slots;
    this.tallies = PLANS.map(() => new Float64Array(slots * 2));
    const expectedHolders = o.contracts / MEAN_CONTRACTS_PER_HOLDER;
    const expectedExisting = o.purchaseCustomers > 0 ? HOLDERS.existingShare * expectedHolders : 0;
    // Existing customers are taken in id order with random strides of mean purchaseCustomers / expectedExisting.
    const meanStride = expectedExisting > 0 ? Math.max(1, o.purchaseCustomers / expectedExisting) : 1;
    this.existingSpan = 2 * meanStride - 1;
    this.agents = Math.max(1, Math.round((expectedHolders - expectedExisting) / HOLDERS.customersPerAgent));
    this.counts = {
      contracts: 0,
      rows: 0,
      holdersWithPurchases: 0,
      contractOnlyCustomers: 0,
      agents: 0,
      byStatus: { active: 0, cancelled: 0, lapsed: 0 },
      dirtyRows: { duplicatePeriod: 0, overlap: 0, reinstatement: 0, endBeforeStart: 0, missingPremium: 0, total: 0 },
    };
  }

  private iso(day: number): string {
    const i = day - this.firstDay;
    return i >= 0 && i < this.isoCache.length ? this.isoCache[i] : isoFromDay(day);
  }

  /** Write every contract (and each contract-only holder's customers.csv row). */
  async write(): Promise<void> {
    const o = this.o;
    const agentUsed = new Uint8Array(this.agents);
    let j = 0;
    while (j < o.contracts) {
      const holder = this.drawHolder();
      const size = Math.min(o.contracts - j, 1 + this.holderSize.draw(o.rng));
      for (let k = 0; k < size; k++, j++) {
        const firstStart = this.writeContract(j, holder.id, holder.region);
        if (k === 0 && holder.newCustomer) this.writeCustomer(holder.index, holder.region, firstStart, agentUsed);
        if ((j + 1) % FLUSH_EVERY === 0) {
          if (o.contractsSink.wantsFlush) await o.contractsSink.flush();
          if (o.customersSink.wantsFlush) await o.customersSink.flush();
          o.onProgress(j + 1);
        }
      }
    }
    this.counts.dirtyRows = { ...o.dirt.counts, total: Object.values(o.dirt.counts).reduce((a, b) => a + b, 0) };
  }

  private drawHolder(): { id: string; index: number; region: number; newCustomer: boolean } {
    const o = this.o;
    if (o.purchaseCustomers > 0 && o.rng.chance(HOLDERS.existingShare)) {
      // A stride of 1 + ⌊U·(2m − 1)⌋ has mean ≈ m without rounding m to a whole number.
      const next = this.existingCursor + 1 + Math.floor(o.rng.next() * this.existingSpan);
      if (next < o.purchaseCustomers) {
        this.existingCursor = next;
        this.counts.holdersWithPurchases++;
        return { id: customerId(next), index: next, region: o.purchaseRegions![next], newCustomer: false };
      }
    }
    const index = o.purchaseCustomers + this.counts.contractOnlyCustomers++;
    return { id: customerId(index), index, region: o.people.regionIndex(o.rng), newCustomer: true };
  }

  /** customers.csv's row for a contract-only customer: signed up when the first policy started. */
  private writeCustomer(index: number, region: number, signup: number, agentUsed: Uint8Array): void {
    const o = this.o;
    const r = o.identityRng;
    const id = o.people.identity(r, index, region, null);
    let owner = '';
    if (r.chance(HOLDERS.agentShare)) {
      const agent = r.int(this.agents);
      if (agentUsed[agent] === 0) {
        agentUsed[agent] = 1;
        this.counts.agents++;
      }
      owner = o.people.ownerName(o.firstAgent + agent);
    }
    o.customersSink.write(
      `${customerId(index)},${csvField(id.name)},${csvField(id.email)},${csvField(id.phone)},${o.people.regionName(region)},,${owner},${this.iso(signup)}\n`,
    );
  }

  /**
   * Simulate contract j (its periods into the scratch arrays), tally its truth, write its rows.
   * Returns the first period's start day.
   */
  private writeContract(j: number, holderId: string, region: number): number {
    const o = this.o;
    const rng = o.rng;
    const planIndex = this.plans.draw(rng);
    const plan = PLANS[planIndex];
    const months = PERIOD_MONTHS[plan.period];
    const theta = beta(rng, plan.alpha, plan.beta);
    const days = this.lastDay - this.firstDay + 1;
    // Stratified over the window: contract numbers follow start dates, with no sorting.
    const firstStart = this.firstDay + Math.min(days - 1, Math.floor(((j + rng.next()) / o.contracts) * days));
    const basePremium = lognormal(rng, Math.log(plan.medianPremium * 100), plan.premiumSigma);
    const increase = rng.next() * plan.maxYearlyIncrease;
    const channel = CONTRACT_CHANNELS[this.channelDraws[planIndex].draw(rng)];

    let anchor = civilFromDays(firstStart);
    let sinceAnchor = 0; // periods since the anchor (restarts after a reinstatement)
    let start = firstStart;
    let count = 0;
    let censored = false;
    for (;;) {
      const end = addMonthsCivil(anchor.y, anchor.m, anchor.d, (sinceAnchor + 1) * months) - 1;
      this.starts[count] = start;
      this.ends[count] = end;
      // The contract year this period starts in (reinstatement gaps aside): the premium's step.
      this.premiums[count] = Math.round(basePremium * Math.pow(1 + increase, Math.floor((count * months) / 12)));
      count++;
      if (end >= this.lastDay || count === this.tallyWidth) {
        censored = true;
        this.dirtKinds[count - 1] = o.dirt.take(false);
        break;
      }
      const renews = !rng.chance(theta);
      let kind = o.dirt.take(renews);
      if (renews && kind === CONTRACT_DIRT_KIND.reinstatement) {
        const gap = o.dirt.rng.intBetween(CONTRACT_DIRT.reinstatementGapDays.min, CONTRACT_DIRT.reinstatementGapDays.max);
        if (end + 1 + gap <= this.lastDay) {
          start = end + 1 + gap;
          anchor = civilFromDays(start);
          sinceAnchor = 0;
        } else {
          o.dirt.putBack(kind);
          kind = KIND_NONE;
        }
      }
      this.dirtKinds[count - 1] = kind;
      if (!renews) break;
      if (kind !== CONTRACT_DIRT_KIND.reinstatement) {
        start = end + 1;
        sinceAnchor++;
      }
    }

    let status: ContractStatus = censored ? 'active' : 'lapsed';
    let cancelDay = -1;
    if (!censored && rng.chance(CANCEL_SHARE)) {
      // Within the last period, after its first day; that period ended before the end date.
      const s = this.starts[count - 1];
      cancelDay = s + 1 + rng.int(this.ends[count - 1] - s);
      status = 'cancelled';
    }
    this.counts.contracts++;
    this.counts.byStatus[status]++;
    this.planContracts[planIndex]++;
    this.tallies[planIndex][(count - 1) * 2 + (censored ? 1 : 0)]++;

    const prefix = `${holderId},${contractId(j)},${plan.plan},`;
    const suffix = `,${channel},${o.people.regionName(region)},${status},`;
    for (let p = 0; p < count; p++) {
      const kind = this.dirtKinds[p];
      let s = this.starts[p];
      let e = this.ends[p];
      let amount = formatCents(this.premiums[p]);
      if (kind === CONTRACT_DIRT_KIND.overlap) e += o.dirt.rng.intBetween(CONTRACT_DIRT.overlapDays.min, CONTRACT_DIRT.overlapDays.max);
      else if (kind === CONTRACT_DIRT_KIND.endBeforeStart) [s, e] = [e, s];
      else if (kind === CONTRACT_DIRT_KIND.missingPremium) amount = '';
      if (kind !== KIND_NONE) o.dirt.applied(kind);
      const cancel = p === count - 1 && cancelDay >= 0 ? this.iso(cancelDay) : '';
      const line = `${prefix}${this.iso(s)},${this.iso(e)},${amount}${suffix}${cancel}\n`;
      o.contractsSink.write(line);
      this.counts.rows++;
      if (kind === CONTRACT_DIRT_KIND.duplicatePeriod) {
        o.contractsSink.write(line);
        this.counts.rows++;
      }
    }
    return firstStart;
  }

  /** Each plan's parameters and the (renewals, active) counts the process produced. */
  truth(): PlanTruth[] {
    return PLANS.map((plan, i) => {
      const summary: PlanTruth['summary'] = [];
      const t = this.tallies[i];
      for (let cell = 0; cell < t.length; cell++) {
        if (t[cell] > 0) summary.push({ renewals: cell >> 1, active: (cell & 1) as 0 | 1, contracts: t[cell] });
      }
      return {
        plan: plan.plan,
        period: plan.period,
        alpha: plan.alpha,
        beta: plan.beta,
        meanChurn: plan.alpha / (plan.alpha + plan.beta),
        contracts: this.planContracts[i],
        summary,
      };
    });
  }
}
