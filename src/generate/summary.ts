/**
 * A few human-readable lines about a generation run, for `crm generate` and the sample script:
 * what was written and whether the data has the shape the analytics expect (the 80/20 share
 * first, since that is what a key-accounts report will show).
 */
import { formatBytes, formatCount, formatPercent } from '../util/format.js';
import type { ContractCounts } from './contracts.js';
import type { GenerateResult } from './options.js';

export function describeResult(r: GenerateResult): string[] {
  const c = r.counts;
  const d = c.dirtyRows;
  const p = r.profile;
  if (c.contracts && r.files.contracts && c.customers === 0) {
    // A pure policy book: customers.csv holds only the contract holders, transactions.csv only its header.
    return [
      `${r.files.customers.path}: ${formatCount(r.files.customers.rows)} contract-only customers, ${formatBytes(r.files.customers.bytes)}; ${r.files.transactions.path}: header only (no purchase customers)`,
      ...describeContracts(r.files.contracts.path, r.files.contractsTruth?.path ?? '', r.files.contracts.bytes, c.contracts),
      `period ${r.options.startDate} to ${r.options.endDate}, seed ${r.options.seed}`,
    ];
  }
  const contractOnly = c.contracts ? ` and ${formatCount(c.contracts.contractOnlyCustomers)} contract-only customers` : '';
  const lines = [
    `${r.files.customers.path}: ${formatCount(c.customers)} customers${contractOnly}, ${formatBytes(r.files.customers.bytes)} ` +
      `(${formatCount(c.customersWithoutTransactions)} without transactions, ${formatCount(c.customerIssues.duplicatePersons)} duplicate persons, ` +
      `${formatCount(c.customerIssues.invalidEmails)} invalid e-mails, ${formatCount(c.customerIssues.missingPhones)} missing phones)`,
    `${r.files.transactions.path}: ${formatCount(c.transactionLines)} lines, ${formatBytes(r.files.transactions.bytes)} ` +
      `(${formatCount(c.orders)} orders, ${formatCount(c.returns)} returns; dirty: ${formatCount(d.missingCustomerId)} missing customer id, ` +
      `${formatCount(d.invalidDate)} invalid dates, ${formatCount(d.invalidAmount)} invalid amounts)`,
    `period ${r.options.startDate} to ${r.options.endDate}, seed ${r.options.seed}: top 20% of buying customers bring ` +
      `${formatPercent(p.top20RevenueShare)} of net revenue; ${formatPercent(p.inactiveLast6MonthsShare)} inactive in the last 6 months; ` +
      `${formatPercent(p.oneTimeBuyerShare)} bought once`,
  ];
  return c.contracts && r.files.contracts ? [...lines, ...describeContracts(r.files.contracts.path, r.files.contractsTruth?.path ?? '', r.files.contracts.bytes, c.contracts)] : lines;
}

function describeContracts(path: string, truthPath: string, bytes: number, k: ContractCounts): string[] {
  const d = k.dirtyRows;
  return [
    `${path}: ${formatCount(k.contracts)} contracts in ${formatCount(k.rows)} period rows, ${formatBytes(bytes)} ` +
      `(${formatCount(k.byStatus.active)} active, ${formatCount(k.byStatus.lapsed)} lapsed, ${formatCount(k.byStatus.cancelled)} cancelled; ` +
      `held by ${formatCount(k.holdersWithPurchases)} customers who also buy and ${formatCount(k.contractOnlyCustomers)} contract-only customers, ${formatCount(k.agents)} ${k.agents === 1 ? 'agent' : 'agents'})`,
    `  dirty: ${formatCount(d.duplicatePeriod)} duplicated periods, ${formatCount(d.overlap)} overlaps, ${formatCount(d.reinstatement)} reinstatements after a gap, ` +
      `${formatCount(d.endBeforeStart)} periods ending before they start, ${formatCount(d.missingPremium)} missing premiums; true α, β per plan in ${truthPath}`,
  ];
}
