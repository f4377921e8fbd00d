/**
 * `crm quality`: what is wrong with the data in the store, counted in SQL anyone can rerun.
 * Findings never fail the command (exit 0); the JSON shape is stable for scripts: keys are
 * only ever added.
 *
 * Contract periods are checked per contract_id in the order of their starts (see
 * `contractChecks`), with the grace period renewal detection uses (models.contracts.grace_days).
 *
 * People are matched across records by the normalised e-mail and phone of ./normalise.ts.
 */
import { latestRunSource } from '../run/source.js';
import { Store, ident, literal } from '../store/db.js';
import { formatCount, formatPercent, renderTable } from '../util/format.js';
import { CONTRACT_OVERLAP, storedOverlapSql, type OverlapKey } from './overlap.js';
import { EMAIL_RE } from './values.js';
import { EMAIL_MATCH_KEY, PHONE_MATCH_KEY } from './normalise.js';
import { bookRuns, ownerBookRows } from '../reports/owners.js';

export interface ColumnCompleteness {
  column: string;
  filled: number;
  rows: number;
  share: number;
}

export interface CountWithExamples {
  count: number;
  /** Up to five customer ids (or row references), in a stable order. */
  examples: string[];
}

export interface DuplicateGroups {
  groups: number;
  /** Records beyond the first of each group. */
  extra: number;
  examples: string[];
}

/** A check on contract periods: how often it happens, on how many contracts, and some of their ids. */
export interface ContractCheck {
  /** Periods concerned (a gap or an overlap is counted on the period that starts it). */
  count: number;
  contracts: number;
  /** Up to five contract ids, in order. */
  examples: string[];
}

export interface ContractQuality {
  /** The grace period the gaps are judged with (models.contracts.grace_days). */
  grace_days: number;
  contracts: number;
  /** A period starting more than grace_days after the contract's periods before it ended: a lapse, then a reinstatement. */
  gaps: ContractCheck;
  /** A period starting before the contract's periods before it ended (end = next start is contiguous, not an overlap). */
  overlaps: ContractCheck;
  /** Periods with the same contract_id and period_start: groups, extra rows, examples `contract_id period_start`. */
  duplicate_periods: DuplicateGroups;
  /** Periods whose cancel_date lies outside [period_start, period_end]. */
  cancel_outside_period: ContractCheck;
  /** Contract ids under more than one customer_id. */
  shared_contract_ids: CountWithExamples;
  /** Periods whose customer is missing from `customers` (only when customers are loaded). */
  without_customer: { periods: number; customers: number; examples: string[] };
  /** Periods that repeat a period of an earlier load or an earlier sheet (same rule as ingest's overlap check). */
  overlapping_loads: { rows: number; loads: { load_id: number; file: string; rows: number; from_earlier_sheets: number }[] };
}

export interface QualityReport {
  as_of: string;
  tables: { transactions: number; customers: number; rejects: number; loads: number; contracts: number };
  completeness: { transactions: ColumnCompleteness[]; customers: ColumnCompleteness[]; contracts: ColumnCompleteness[] };
  duplicates: {
    transaction_rows: DuplicateGroups;
    customers_by_email: DuplicateGroups;
    customers_by_phone: DuplicateGroups;
  };
  invalid: { emails: CountWithExamples; phones: CountWithExamples };
  dates: {
    future_orders: CountWithExamples;
    implausible_orders: CountWithExamples;
    future_signups: CountWithExamples;
    signup_after_first_order: CountWithExamples;
  };
  orphans: {
    customers_loaded: boolean;
    transactions_without_customer: { transactions: number; customers: number; examples: string[] };
    /**
     * Customers with no activity: no transactions, and no contract period either when contracts
     * are loaded (a policyholder is a customer with activity). The name stays for compatibility.
     */
    customers_without_transactions: CountWithExamples;
  };
  orders_with_several_customers: CountWithExamples;
  /**
   * Transaction rows that repeat rows of an earlier load from another file, or of an earlier sheet of the
   * same workbook (loaded with --append, or below the refusal share); per load, how many repeat earlier sheets.
   */
  overlaps: { rows: number; loads: { load_id: number; file: string; rows: number; from_earlier_sheets: number }[] };
  rejects: { kind: string; reason: string; count: number }[];
  contracts: ContractQuality;
  /** Key accounts of the latest run with no owner (customer_owners), largest first; null before the first run. */
  unowned_key_accounts: { run_id: number; count: number; examples: string[] } | null;
  findings: Finding[];
}

export interface QualityOptions {
  /** models.contracts.grace_days (default 30). */
  graceDays?: number;
}

export interface Finding {
  check: string;
  severity: 'warning' | 'info';
  count: number;
  message: string;
}

/** Dates before this are not plausible order dates for any CRM export. */
const EARLIEST_PLAUSIBLE = '1990-01-01';
const EXAMPLES = 5;

const TRANSACTION_COLUMNS = ['customer_id', 'order_id', 'order_date', 'order_ts', 'quantity', 'unit_price', 'amount', 'cost', 'product', 'category', 'channel', 'region'];
const CUSTOMER_COLUMNS = ['customer_id', 'name', 'email', 'phone', 'region', 'industry', 'account_owner', 'signup_date'];
const CONTRACT_COLUMNS = ['customer_id', 'contract_id', 'period_start', 'period_end', 'amount', 'plan', 'channel', 'region', 'status', 'cancel_date'];
const DEFAULT_GRACE_DAYS = 30;


export async function qualityReport(storePath: string, asOf?: string, options: QualityOptions = {}): Promise<QualityReport> {
  const store = await Store.open(storePath, { readOnly: true });
  try {
    return await qualityOf(store, asOf, options);
  } finally {
    store.close();
  }
}

/** The report of an open store (tests use an in-memory one). */
export async function qualityOf(store: Store, asOf?: string, options: QualityOptions = {}): Promise<QualityReport> {
  const today = asOf ?? new Date().toISOString().slice(0, 10);
  const count = async (sql: string) => (await store.value<number>(sql)) ?? 0;
  const tables = {
    transactions: await count('SELECT count(*) FROM transactions'),
    customers: await count('SELECT count(*) FROM customers'),
    rejects: await count('SELECT count(*) FROM rejects'),
    loads: await count("SELECT count(*) FROM loads WHERE status = 'loaded'"),
    contracts: await count('SELECT count(*) FROM contracts'),
  };
  const report: QualityReport = {
    as_of: today,
    tables,
    completeness: {
      transactions: await completeness(store, 'transactions', TRANSACTION_COLUMNS, tables.transactions),
      customers: await completeness(store, 'customers', CUSTOMER_COLUMNS, tables.customers),
      contracts: await completeness(store, 'contracts', CONTRACT_COLUMNS, tables.contracts),
    },
    duplicates: {
      transaction_rows: await duplicateGroups(
        store,
        `SELECT ${TRANSACTION_COLUMNS.join(', ')}, min(source_file || ':' || coalesce(source_sheet || ':', '') || source_row) AS example, count(*) AS n
         FROM transactions GROUP BY ALL HAVING count(*) > 1`,
      ),
      customers_by_email: await duplicateGroups(
        store,
        `SELECT ${EMAIL_MATCH_KEY('email')} AS k, min(customer_id) AS example, count(*) AS n
         FROM customers WHERE k IS NOT NULL GROUP BY k HAVING count(*) > 1`,
      ),
      customers_by_phone: await duplicateGroups(
        store,
        `SELECT ${PHONE_MATCH_KEY('phone')} AS k, min(customer_id) AS example, count(*) AS n
         FROM customers WHERE k IS NOT NULL GROUP BY k HAVING count(*) > 1`,
      ),
    },
    invalid: {
      emails: await withExamples(
        store,
        `SELECT customer_id AS example FROM customers
         WHERE nullif(trim(email), '') IS NOT NULL AND NOT regexp_full_match(trim(email), ${literal(EMAIL_RE)})`,
      ),
      phones: await withExamples(
        store,
        `SELECT customer_id AS example FROM customers
         WHERE nullif(trim(phone), '') IS NOT NULL
           AND (regexp_matches(phone, '[A-Za-z]') OR length(regexp_replace(phone, '[^0-9]', '', 'g')) NOT BETWEEN 7 AND 15)`,
      ),
    },
    dates: {
      future_orders: await withExamples(
        store,
        `SELECT source_file || ':' || coalesce(source_sheet || ':', '') || source_row AS example FROM transactions WHERE order_date > DATE ${literal(today)}`,
      ),
      implausible_orders: await withExamples(
        store,
        `SELECT source_file || ':' || coalesce(source_sheet || ':', '') || source_row AS example FROM transactions WHERE order_date < DATE '${EARLIEST_PLAUSIBLE}'`,
      ),
      future_signups: await withExamples(store, `SELECT customer_id AS example FROM customers WHERE signup_date > DATE ${literal(today)}`),
      signup_after_first_order: await withExamples(
        store,
        `WITH first_orders AS (SELECT customer_id, min(order_date) AS first_order FROM transactions GROUP BY customer_id)
         SELECT c.customer_id AS example FROM customers c JOIN first_orders f USING (customer_id) WHERE c.signup_date > f.first_order`,
      ),
    },
    orphans: {
      customers_loaded: tables.customers > 0,
      transactions_without_customer: await orphanTransactions(store, tables.customers > 0),
      customers_without_transactions: tables.transactions || tables.contracts
        ? await withExamples(
            store,
            `SELECT c.customer_id AS example FROM customers c
             ANTI JOIN (SELECT customer_id FROM transactions UNION SELECT customer_id FROM contracts) active USING (customer_id)`,
          )
        : { count: 0, examples: [] },
    },
    orders_with_several_customers: await withExamples(
      store,
      `SELECT order_id AS example FROM transactions WHERE order_id IS NOT NULL GROUP BY order_id HAVING count(DISTINCT customer_id) > 1`,
    ),
    overlaps: await overlaps(store),
    rejects: await store.all<{ kind: string; reason: string; count: number }>(
      `SELECT r.kind, r.reason, count(*) AS count FROM rejects r JOIN loads l USING (load_id)
       WHERE l.status = 'loaded' GROUP BY ALL ORDER BY count DESC, kind, reason`,
    ),
    contracts: await contractQuality(store, options.graceDays ?? DEFAULT_GRACE_DAYS, tables.customers > 0),
    unowned_key_accounts: await unownedKeyAccounts(store),
    findings: [],
  };
  report.findings = findingsOf(report);
  // A run from a source (crm run --source) read lines this store does not hold: said plainly.
  const source = await latestRunSource(store);
  if (source) {
    report.findings.push({
      check: 'transactions_on_source',
      severity: 'info',
      count: 0,
      message: `the latest run read its transactions from ${source}: they live on the cluster, and this report checks only the files loaded into this store`,
    });
  }
  return report;
}

/** The unowned row of the owners' books (reports/owners.ts, their one home), when a run exists. */
async function unownedKeyAccounts(store: Store): Promise<QualityReport['unowned_key_accounts']> {
  const runs = await bookRuns(store);
  if (!runs) return null;
  const ids = (await ownerBookRows(store, runs)).find((b) => b.owner === null)?.key_account_ids ?? [];
  return { run_id: runs.run_id, count: ids.length, examples: ids.slice(0, EXAMPLES) };
}

/**
 * The periods of each contract, one per (contract_id, period_start) (duplicates are their own
 * check), with `covered_to`: the latest end among the contract's periods that start before this
 * one — the latest, not the previous one's, so a period nested inside a long one still counts
 * as overlapping the next. `period_end` is compared as the file gave it: whether it is the
 * period's last day or the next one's start, end = next start is contiguous.
 */
const CONTRACT_PERIODS = `
  SELECT contract_id, period_start, period_end,
    max(period_end) OVER (PARTITION BY contract_id ORDER BY period_start ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_to
  FROM (SELECT contract_id, period_start, max(period_end) AS period_end FROM contracts GROUP BY contract_id, period_start)`;

/** SQL of the contract checks: each selects `example` (the contract id), one row per period concerned. */
export function contractCheckSql(graceDays: number): { gaps: string; overlaps: string; cancelOutside: string } {
  if (!Number.isInteger(graceDays) || graceDays < 0) throw new Error(`grace days must be a whole number ≥ 0, got ${graceDays}`);
  return {
    // The renewal rule: a period starting within grace_days after the cover ended renews it.
    gaps: `SELECT contract_id AS example FROM (${CONTRACT_PERIODS}) WHERE period_start > covered_to + ${graceDays}`,
    overlaps: `SELECT contract_id AS example FROM (${CONTRACT_PERIODS}) WHERE period_start < covered_to`,
    cancelOutside: `SELECT contract_id AS example FROM contracts WHERE cancel_date < period_start OR cancel_date > period_end`,
  };
}

async function contractQuality(store: Store, graceDays: number, customersLoaded: boolean): Promise<ContractQuality> {
  const sql = contractCheckSql(graceDays);
  return {
    grace_days: graceDays,
    contracts: (await store.value<number>('SELECT count(DISTINCT contract_id) FROM contracts')) ?? 0,
    gaps: await contractCheck(store, sql.gaps),
    overlaps: await contractCheck(store, sql.overlaps),
    duplicate_periods: await duplicateGroups(
      store,
      `SELECT contract_id || ' ' || strftime(period_start, '%Y-%m-%d') AS example, count(*) AS n FROM contracts GROUP BY contract_id, period_start HAVING count(*) > 1`,
    ),
    cancel_outside_period: await contractCheck(store, sql.cancelOutside),
    shared_contract_ids: await withExamples(
      store,
      `SELECT contract_id AS example FROM contracts GROUP BY contract_id HAVING count(DISTINCT customer_id) > 1`,
    ),
    without_customer: await orphanRows(store, 'contracts', customersLoaded),
    overlapping_loads: await overlaps(store, CONTRACT_OVERLAP),
  };
}

async function contractCheck(store: Store, sql: string): Promise<ContractCheck> {
  const r = await store.one<{ n: number; contracts: number; examples: string[] | null }>(
    `WITH hits AS (${sql}) SELECT count(*) AS n, count(DISTINCT example) AS contracts, list(DISTINCT example ORDER BY example)[1:${EXAMPLES}] AS examples FROM hits`,
  );
  return { count: Number(r?.n ?? 0), contracts: Number(r?.contracts ?? 0), examples: r?.examples ?? [] };
}

/** Rows of `table` whose customer is missing from `customers`. */
async function orphanRows(store: Store, table: string, customersLoaded: boolean) {
  if (!customersLoaded) return { periods: 0, customers: 0, examples: [] };
  const r = await store.one<{ rows: number; customers: number; examples: string[] | null }>(
    `WITH orphans AS (SELECT customer_id FROM ${ident(table)} ANTI JOIN customers USING (customer_id))
     SELECT count(*) AS rows, count(DISTINCT customer_id) AS customers,
            list(DISTINCT customer_id ORDER BY customer_id)[1:${EXAMPLES}] AS examples FROM orphans`,
  );
  return { periods: Number(r?.rows ?? 0), customers: Number(r?.customers ?? 0), examples: r?.examples ?? [] };
}

async function completeness(store: Store, table: string, columns: string[], rows: number): Promise<ColumnCompleteness[]> {
  if (!rows) return columns.map((column) => ({ column, filled: 0, rows: 0, share: 0 }));
  const r = await store.one(
    `SELECT ${columns.map((c) => `count(${ident(c)}) AS ${ident(c)}`).join(', ')} FROM ${ident(table)}`,
  );
  return columns.map((column) => {
    const filled = Number(r?.[column] ?? 0);
    return { column, filled, rows, share: filled / rows };
  });
}

async function duplicateGroups(store: Store, groupsSql: string): Promise<DuplicateGroups> {
  const r = await store.one<{ groups: number; extra: number; examples: string[] | null }>(
    `WITH dup AS (${groupsSql})
     SELECT count(*) AS groups, coalesce(sum(n - 1), 0) AS extra, list(example ORDER BY example)[1:${EXAMPLES}] AS examples FROM dup`,
  );
  return { groups: r?.groups ?? 0, extra: Number(r?.extra ?? 0), examples: r?.examples ?? [] };
}

async function withExamples(store: Store, sql: string): Promise<CountWithExamples> {
  const r = await store.one<{ n: number; examples: string[] | null }>(
    `WITH hits AS (${sql}) SELECT count(*) AS n, list(example ORDER BY example)[1:${EXAMPLES}] AS examples FROM hits`,
  );
  return { count: r?.n ?? 0, examples: r?.examples ?? [] };
}

async function orphanTransactions(store: Store, customersLoaded: boolean) {
  if (!customersLoaded) return { transactions: 0, customers: 0, examples: [] };
  const r = await store.one<{ tx: number; customers: number; examples: string[] | null }>(
    `WITH orphans AS (SELECT customer_id FROM transactions ANTI JOIN customers USING (customer_id))
     SELECT count(*) AS tx, count(DISTINCT customer_id) AS customers,
            list(DISTINCT customer_id ORDER BY customer_id)[1:${EXAMPLES}] AS examples FROM orphans`,
  );
  return { transactions: r?.tx ?? 0, customers: r?.customers ?? 0, examples: r?.examples ?? [] };
}

async function overlaps(store: Store, key?: OverlapKey): Promise<QualityReport['overlaps']> {
  const loads = (await store.all<{ load_id: number; file: string; rows: number; from_earlier_sheets: number }>(storedOverlapSql(key))).map((l) => ({
    ...l,
    rows: Number(l.rows),
    from_earlier_sheets: Number(l.from_earlier_sheets),
  }));
  return { rows: loads.reduce((a, l) => a + l.rows, 0), loads };
}

/** "1 customer has", "2 customers have": a count with its noun (and verb) in agreement. */
function n(count: number, singular: string, plural: string): string {
  return `${formatCount(count)} ${count === 1 ? singular : plural}`;
}

function findingsOf(r: QualityReport): Finding[] {
  const f: Finding[] = [];
  const add = (check: string, severity: Finding['severity'], count: number, message: string) => {
    if (count > 0) f.push({ check, severity, count, message });
  };
  const rejected = r.rejects.reduce((a, x) => a + x.count, 0);
  add('rejects', 'warning', rejected, `${n(rejected, 'input row was', 'input rows were')} rejected (see the rejects table)`);
  add('duplicate_transaction_rows', 'warning', r.duplicates.transaction_rows.extra, `${n(r.duplicates.transaction_rows.extra, 'transaction row repeats', 'transaction rows repeat')} another row exactly`);
  add('customers_by_email', 'warning', r.duplicates.customers_by_email.groups, `${n(r.duplicates.customers_by_email.groups, 'e-mail address is', 'e-mail addresses are')} shared by several customer ids (the same person twice? crm quality --suggest-merges writes a merge file to review)`);
  add('customers_by_phone', 'warning', r.duplicates.customers_by_phone.groups, `${n(r.duplicates.customers_by_phone.groups, 'phone number is', 'phone numbers are')} shared by several customer ids (see crm quality --suggest-merges)`);
  add('invalid_emails', 'warning', r.invalid.emails.count, `${n(r.invalid.emails.count, 'customer has', 'customers have')} an invalid e-mail address`);
  add('invalid_phones', 'warning', r.invalid.phones.count, `${n(r.invalid.phones.count, 'customer has', 'customers have')} an invalid phone number`);
  add('future_orders', 'warning', r.dates.future_orders.count, `${n(r.dates.future_orders.count, 'transaction is', 'transactions are')} dated after ${r.as_of}`);
  add('implausible_orders', 'warning', r.dates.implausible_orders.count, `${n(r.dates.implausible_orders.count, 'transaction is', 'transactions are')} dated before ${EARLIEST_PLAUSIBLE}`);
  add('future_signups', 'warning', r.dates.future_signups.count, `${n(r.dates.future_signups.count, 'customer', 'customers')} signed up after ${r.as_of}`);
  add('signup_after_first_order', 'info', r.dates.signup_after_first_order.count, `${n(r.dates.signup_after_first_order.count, 'customer', 'customers')} signed up after their first order`);
  const o = r.orphans.transactions_without_customer;
  add('transactions_without_customer', 'warning', o.transactions, `${n(o.transactions, 'transaction', 'transactions')} (${n(o.customers, 'customer id', 'customer ids')}) ${o.transactions === 1 ? 'has' : 'have'} no row in customers`);
  const idle = r.orphans.customers_without_transactions.count;
  add('customers_without_transactions', 'info', idle, `${n(idle, 'customer has', 'customers have')} ${r.tables.contracts > 0 ? 'neither transactions nor contracts' : 'no transactions'}`);
  const overlapLoads = r.overlaps.loads.map((l) => `load ${l.load_id} ${l.file}`).join(', ');
  const fromSheets = r.overlaps.loads.reduce((a, l) => a + l.from_earlier_sheets, 0);
  const repeated = [r.overlaps.rows > fromSheets && 'an earlier load from another file', fromSheets > 0 && 'an earlier sheet of the same workbook'].filter(Boolean).join(' or of ');
  add('overlapping_loads', 'warning', r.overlaps.rows, `${n(r.overlaps.rows, 'transaction row repeats', 'transaction rows repeat')} a row of ${repeated} and ${r.overlaps.rows === 1 ? 'counts' : 'count'} twice (${overlapLoads})`);
  add('orders_with_several_customers', 'warning', r.orders_with_several_customers.count, `${n(r.orders_with_several_customers.count, 'order id appears', 'order ids appear')} under more than one customer`);
  f.push(...contractFindings(r));
  const u = r.unowned_key_accounts;
  if (u) add('unowned_key_accounts', 'warning', u.count, `${n(u.count, 'key account', 'key accounts')} of run ${u.run_id} ${u.count === 1 ? 'has' : 'have'} no account owner (${u.examples.join(', ')}${u.count > u.examples.length ? ', …' : ''}): assign them with an owners file (crm ingest owners), see crm owners`);
  if (!r.orphans.customers_loaded && r.tables.transactions > 0) {
    f.push({ check: 'no_customers', severity: 'info', count: 0, message: 'no customers file loaded: contact fields and the customer cross-checks are unavailable' });
  }
  return f;
}

function contractFindings(r: QualityReport): Finding[] {
  const c = r.contracts;
  const f: Finding[] = [];
  const add = (check: string, count: number, message: string) => {
    if (count > 0) f.push({ check, severity: 'warning', count, message });
  };
  const periodsOf = (x: ContractCheck) => `${n(x.count, 'time', 'times')} in all`;
  add('contract_gaps', c.gaps.count, `${n(c.gaps.contracts, 'contract has', 'contracts have')} a period starting more than ${n(c.grace_days, 'day', 'days')} (the grace period) after the cover ended: a lapse, then a reinstatement (${periodsOf(c.gaps)})`);
  add('contract_overlaps', c.overlaps.count, `${n(c.overlaps.contracts, 'contract has', 'contracts have')} a period starting before the previous one ended (${periodsOf(c.overlaps)})`);
  add('duplicate_contract_periods', c.duplicate_periods.extra, `${n(c.duplicate_periods.extra, 'contract period repeats', 'contract periods repeat')} another with the same contract id and start`);
  add('cancel_date_outside_period', c.cancel_outside_period.count, `${n(c.cancel_outside_period.count, 'contract period has', 'contract periods have')} a cancel date outside the period`);
  add('contracts_with_several_customers', c.shared_contract_ids.count, `${n(c.shared_contract_ids.count, 'contract id appears', 'contract ids appear')} under more than one customer`);
  const o = c.without_customer;
  add('contracts_without_customer', o.periods, `${n(o.periods, 'contract period', 'contract periods')} (${n(o.customers, 'customer id', 'customer ids')}) ${o.periods === 1 ? 'has' : 'have'} no row in customers`);
  const loads = c.overlapping_loads.loads.map((l) => `load ${l.load_id} ${l.file}`).join(', ');
  add('overlapping_contract_loads', c.overlapping_loads.rows, `${n(c.overlapping_loads.rows, 'contract period repeats', 'contract periods repeat')} a period of an earlier load or sheet and ${c.overlapping_loads.rows === 1 ? 'counts' : 'count'} twice (${loads})`);
  return f;
}

/** The contract checks for people: count and example ids per check. */
function contractLines(c: ContractQuality): string[] {
  const rows: [string, number, string[]][] = [
    [`gaps (> ${c.grace_days} days)`, c.gaps.count, c.gaps.examples],
    ['overlaps', c.overlaps.count, c.overlaps.examples],
    ['duplicate periods', c.duplicate_periods.extra, c.duplicate_periods.examples],
    ['cancel date outside period', c.cancel_outside_period.count, c.cancel_outside_period.examples],
    ['contract id under several customers', c.shared_contract_ids.count, c.shared_contract_ids.examples],
  ];
  return renderTable(
    ['check', 'periods', 'examples'],
    rows.map(([check, count, examples]) => [check, formatCount(count), examples.join(', ')]),
  )
    .split('\n')
    .map((l) => '  ' + l);
}

/** The report for people. */
export function formatQualityReport(r: QualityReport): string[] {
  const lines: string[] = [];
  const contracts = r.tables.contracts ? `${formatCount(r.tables.contracts)} contract periods (${formatCount(r.contracts.contracts)} contracts), ` : '';
  lines.push(`Store: ${formatCount(r.tables.transactions)} transactions, ${formatCount(r.tables.customers)} customers, ${contracts}${formatCount(r.tables.rejects)} rejected rows, ${formatCount(r.tables.loads)} loaded files`);
  lines.push('');
  lines.push(r.findings.length ? 'Findings:' : 'Findings: none');
  for (const x of r.findings) lines.push(`  ${x.severity === 'warning' ? '!' : '·'} ${x.message}`);
  for (const [table, cols] of Object.entries(r.completeness)) {
    if (!cols.length || !cols[0].rows) continue;
    lines.push('', `Completeness of ${table}:`);
    lines.push(
      renderTable(
        ['column', 'filled', 'share'],
        cols.map((c) => [c.column, formatCount(c.filled), formatPercent(c.share)]),
      )
        .split('\n')
        .map((l) => '  ' + l)
        .join('\n'),
    );
  }
  if (r.tables.contracts) lines.push('', `Contract periods, per contract in order of start (grace ${n(r.contracts.grace_days, 'day', 'days')}):`, ...contractLines(r.contracts));
  if (r.rejects.length) {
    lines.push('', 'Rejected rows by reason:');
    lines.push(
      renderTable(['kind', 'reason', 'rows'], r.rejects.map((x) => [x.kind, x.reason, formatCount(x.count)]))
        .split('\n')
        .map((l) => '  ' + l)
        .join('\n'),
    );
  }
  return lines;
}
