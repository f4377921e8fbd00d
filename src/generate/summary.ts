/**
 * A few human-readable lines about a generation run, for `crm generate` and the sample script:
 * what was written and whether the data has the shape the analytics expect (the 80/20 share
 * first, since that is what a key-accounts report will show).
 */
import { formatBytes, formatCount, formatPercent } from '../util/format.js';
import type { GenerateResult } from './options.js';

export function describeResult(r: GenerateResult): string[] {
  const c = r.counts;
  const d = c.dirtyRows;
  const p = r.profile;
  return [
    `${r.files.customers.path}: ${formatCount(c.customers)} customers, ${formatBytes(r.files.customers.bytes)} ` +
      `(${formatCount(c.customersWithoutTransactions)} without transactions, ${formatCount(c.customerIssues.duplicatePersons)} duplicate persons, ` +
      `${formatCount(c.customerIssues.invalidEmails)} invalid e-mails, ${formatCount(c.customerIssues.missingPhones)} missing phones)`,
    `${r.files.transactions.path}: ${formatCount(c.transactionLines)} lines, ${formatBytes(r.files.transactions.bytes)} ` +
      `(${formatCount(c.orders)} orders, ${formatCount(c.returns)} returns; dirty: ${formatCount(d.missingCustomerId)} missing customer id, ` +
      `${formatCount(d.invalidDate)} invalid dates, ${formatCount(d.invalidAmount)} invalid amounts)`,
    `period ${r.options.startDate} to ${r.options.endDate}, seed ${r.options.seed}: top 20% of buying customers bring ` +
      `${formatPercent(p.top20RevenueShare)} of net revenue; ${formatPercent(p.inactiveLast6MonthsShare)} inactive in the last 6 months; ` +
      `${formatPercent(p.oneTimeBuyerShare)} bought once`,
  ];
}
