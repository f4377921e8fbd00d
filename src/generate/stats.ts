/**
 * Running statistics of what was generated, for the result's `profile`: the 80/20 revenue
 * concentration, churn and one-time buyers.
 *
 * Why an array per customer is acceptable: the 80/20 share needs every buying customer's net
 * revenue ranked, i.e. one float per customer (20 MB at 2.5M customers) — bounded by the
 * customer count, not by the ~10M lines, which are never held.
 */
import { INACTIVE_AFTER_DAYS } from './model.js';
import type { CustomerTally } from './orders.js';

/** The share of customers counted as "the top" in the 80/20 rule. */
export const TOP_SHARE = 0.2;

export class GenerationStats {
  private readonly netByBuyer: Float64Array;
  private buyers = 0;
  private netCents = 0;
  private oneTimeBuyers = 0;
  private churnEligible = 0;
  private inactive = 0;
  withoutTransactions = 0;
  private readonly cutoffDay: number;

  constructor(customers: number, periodDays: number) {
    this.netByBuyer = new Float64Array(customers);
    // Last purchase before this offset = nothing in the last INACTIVE_AFTER_DAYS days.
    this.cutoffDay = periodDays - INACTIVE_AFTER_DAYS;
  }

  add(t: CustomerTally): void {
    if (t.linesWithId === 0) this.withoutTransactions++;
    if (t.cleanLines === 0) return;
    this.netByBuyer[this.buyers++] = t.netCents;
    this.netCents += t.netCents;
    if (t.cleanOrders === 1) this.oneTimeBuyers++;
    if (t.firstCleanDay >= 0 && t.firstCleanDay < this.cutoffDay) {
      this.churnEligible++;
      if (t.lastCleanDay < this.cutoffDay) this.inactive++;
    }
  }

  summary(): { netRevenue: number; buyingCustomers: number; top20RevenueShare: number; inactiveLast6MonthsShare: number; oneTimeBuyerShare: number } {
    return {
      netRevenue: this.netCents / 100,
      buyingCustomers: this.buyers,
      top20RevenueShare: topShare(this.netByBuyer.subarray(0, this.buyers), TOP_SHARE),
      inactiveLast6MonthsShare: this.churnEligible === 0 ? 0 : this.inactive / this.churnEligible,
      oneTimeBuyerShare: this.buyers === 0 ? 0 : this.oneTimeBuyers / this.buyers,
    };
  }
}

/**
 * The share of the total held by the top `share` of values (the first ⌈share·n⌉ after sorting
 * in descending order). Sorts its argument in place.
 */
export function topShare(values: Float64Array, share: number): number {
  if (values.length === 0) return 0;
  values.sort();
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  if (total <= 0) return 0;
  const k = Math.ceil(share * values.length);
  let top = 0;
  for (let i = values.length - k; i < values.length; i++) top += values[i];
  return top / total;
}
