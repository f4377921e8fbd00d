/**
 * `generate()`'s options, their defaults, and the shape of its result.
 *
 * Why validate up front: a bad flag should fail before anything is written, with a usage
 * error naming the flag, not halfway through a 400 MB file.
 */
import { usageError } from '../util/errors.js';
import { earliestWrittenDate, parseIsoDay } from './calendar.js';
import { STORABLE_YEARS } from '../util/dates.js';
import type { ContractCounts } from './contracts.js';

export type GenerateLang = 'en' | 'zh';

export interface GenerateOptions {
  /**
   * Number of purchase customers (customers.csv's first rows, with transactions). May be 0 when
   * `contracts` is given: a pure policy book.
   */
  customers: number;
  /** Number of contracts for contracts.csv (default 0: no contracts file). */
  contracts?: number;
  /** Header language of contracts.csv: `zh` for 保单号, 起保日期… Default en. */
  lang?: GenerateLang;
  /** PRNG seed; the same options give byte-identical files. Default 42. */
  seed?: number;
  /** Directory to write customers.csv and transactions.csv into (created if missing). */
  outDir: string;
  /** Last day of the simulated period, `YYYY-MM-DD`. Default 2025-12-31. */
  endDate?: string;
  /** Length of the period in years. Default 3. */
  years?: number;
  /** Share of transaction lines given a dirty value. Default 0.005. */
  dirtyShare?: number;
  /** Called with the fraction done, from 0 to 1, about a hundred times per run. */
  onProgress?: (fraction: number) => void;
}

export const GENERATE_DEFAULTS = {
  seed: 42,
  endDate: '2025-12-31',
  years: 3,
  dirtyShare: 0.005,
  contracts: 0,
  lang: 'en',
} as const;

/** Limits that keep ids and phone numbers unique and the calendar tables small. */
export const GENERATE_LIMITS = {
  maxCustomers: 50_000_000,
  /** Policy numbers have eight digits. */
  maxContracts: 99_999_999,
  maxYears: 20,
  maxDirtyShare: 0.5,
} as const;

export interface ResolvedOptions {
  customers: number;
  contracts: number;
  lang: GenerateLang;
  seed: number;
  outDir: string;
  endDate: string;
  years: number;
  dirtyShare: number;
  onProgress: (fraction: number) => void;
}

export function resolveOptions(opts: GenerateOptions): ResolvedOptions {
  const contracts = opts.contracts ?? GENERATE_DEFAULTS.contracts;
  if (!Number.isInteger(contracts) || contracts < 0 || contracts > GENERATE_LIMITS.maxContracts) {
    throw usageError(`--contracts must be a whole number from 0 to ${GENERATE_LIMITS.maxContracts} (got ${contracts})`);
  }
  const customers = opts.customers;
  // A pure policy book has no purchase customers; otherwise at least one.
  const minCustomers = contracts > 0 ? 0 : 1;
  if (!Number.isInteger(customers) || customers < minCustomers || customers > GENERATE_LIMITS.maxCustomers) {
    throw usageError(`--customers must be a whole number from ${minCustomers} to ${GENERATE_LIMITS.maxCustomers} (got ${customers})`, [
      ...(contracts === 0 ? ['--customers 0 is allowed with --contracts N (a policy book without purchases).'] : []),
    ]);
  }
  if (customers + contracts > GENERATE_LIMITS.maxCustomers) {
    throw usageError(`--customers plus --contracts must stay below ${GENERATE_LIMITS.maxCustomers} (customer ids have 7+ digits and phone numbers must stay unique)`);
  }
  const lang = opts.lang ?? GENERATE_DEFAULTS.lang;
  if (lang !== 'en' && lang !== 'zh') throw usageError(`--lang must be en or zh (got ${String(lang)})`);
  const seed = opts.seed ?? GENERATE_DEFAULTS.seed;
  if (!Number.isSafeInteger(seed)) throw usageError(`--seed must be a whole number (got ${seed})`);
  const years = opts.years ?? GENERATE_DEFAULTS.years;
  if (!Number.isInteger(years) || years < 1 || years > GENERATE_LIMITS.maxYears) {
    throw usageError(`years must be a whole number from 1 to ${GENERATE_LIMITS.maxYears} (got ${years})`);
  }
  const dirtyShare = opts.dirtyShare ?? GENERATE_DEFAULTS.dirtyShare;
  if (!(dirtyShare >= 0 && dirtyShare <= GENERATE_LIMITS.maxDirtyShare)) {
    throw usageError(`dirtyShare must be between 0 and ${GENERATE_LIMITS.maxDirtyShare} (got ${dirtyShare})`);
  }
  const endDate = opts.endDate ?? GENERATE_DEFAULTS.endDate;
  try {
    parseIsoDay(endDate);
  } catch (err) {
    throw usageError(`endDate: ${(err as Error).message}`);
  }
  if (earliestWrittenDate(endDate, years) === null) {
    throw usageError(`--end-date ${endDate} with ${years} years: the period (and signups up to 400 days before it) would start before year ${STORABLE_YEARS.first}`, [
      'Choose a later --end-date or fewer --years.',
    ]);
  }
  if (!opts.outDir) throw usageError('an output directory is required (--out DIR)');
  return { customers, contracts, lang, seed, outDir: opts.outDir, endDate, years, dirtyShare, onProgress: opts.onProgress ?? (() => undefined) };
}

export interface GeneratedFile {
  path: string;
  /** Data rows, not counting the header. */
  rows: number;
  bytes: number;
}

export type TransactionDirtKind = 'missingCustomerId' | 'invalidDate' | 'invalidAmount';

export interface GenerateResult {
  options: {
    customers: number;
    seed: number;
    startDate: string;
    endDate: string;
    years: number;
    dirtyShare: number;
    /** The share actually aimed at (raised for small runs so a handful of dirty rows exist). */
    effectiveDirtyShare: number;
    /** Only when contracts were asked for. */
    contracts?: number;
    lang?: GenerateLang;
  };
  files: {
    customers: GeneratedFile;
    transactions: GeneratedFile;
    /** contracts.csv and contracts.truth.json, when contracts were asked for. */
    contracts?: GeneratedFile;
    contractsTruth?: { path: string; bytes: number };
  };
  /** Both files together. */
  bytes: number;
  counts: {
    customers: number;
    /** Customers with no transaction line at all (signed up, never bought). */
    customersWithoutTransactions: number;
    /** Data rows of transactions.csv: order lines + return lines. */
    transactionLines: number;
    orders: number;
    orderLines: number;
    /** Return orders; each has exactly one line (order id `C` + original id). */
    returns: number;
    returnLines: number;
    dirtyRows: Record<TransactionDirtKind, number> & { total: number };
    customerIssues: {
      invalidEmails: number;
      missingEmails: number;
      missingPhones: number;
      /** Customers that repeat an earlier customer's person (same name, shared e-mail or phone). */
      duplicatePersons: number;
    };
    /** Large B2B accounts (each has an account owner). */
    keyAccounts: number;
    /** Distinct account owners named in customers.csv (about one per ten key accounts). */
    accountOwners: number;
    /** The policy book, when contracts were asked for (see contracts.ts). */
    contracts?: ContractCounts;
  };
  /**
   * What an ingest that rejects the dirty rows will see (clean lines only), so the numbers can
   * be checked against the files.
   */
  profile: {
    /** Net revenue (order lines minus returns) in currency units. */
    netRevenue: number;
    /** Customers with at least one clean line. */
    buyingCustomers: number;
    /** Share of net revenue from the top 20% of buying customers by net revenue. */
    top20RevenueShare: number;
    /** Of customers whose first purchase is over 6 months before the end: share with none since. */
    inactiveLast6MonthsShare: number;
    /** Share of buying customers with exactly one order. */
    oneTimeBuyerShare: number;
    /** Transaction lines per customer (all customers, all lines). */
    linesPerCustomer: number;
  };
}
