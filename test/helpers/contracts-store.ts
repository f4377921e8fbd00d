/**
 * A store holding what `crm run` writes for contracts (contract_metrics, contract_retention,
 * runs.contracts), written by hand: the renewal list, its export and the report's contracts
 * section read only these tables, and the tests know every row.
 *
 * Two runs: run 1 (as of 2024-06-30) has one stale contract that must never be listed; run 2 is
 * as of 2024-12-31. Its contracts, with the days from as-of to their renewal date:
 *
 * | contract | customer | plan  | status    | due        | days | renewals | p_renew | premium | residual | at risk | model_plan |
 * |----------|----------|-------|-----------|------------|------|----------|---------|---------|----------|---------|------------|
 * | K1       | C1       | Motor | active    | 2025-01-10 | 10   | 1        | 0.62    | 1200    | 3000     | 1140    | Motor      |
 * | K2       | C2       | Life  | active    | 2025-01-25 | 25   | 0        | 0.5     | 5000    | 10000    | 5000    | NULL (book)|
 * | K3       | C3       | Motor | in_grace  | 2024-12-20 | -11  | 2        | 0.7     | 800     | 2000     | 600     | Motor      |
 * | K4       | C4       | Home  | active    | 2025-01-05 | 5    | 10       | NULL    | 300     | NULL     | NULL    | (irregular)|
 * | K5       | C1       | Home  | active    | 2025-01-15 | 15   | 20       | NULL    | 900     | NULL     | NULL    | (year)     |
 * | K6       | C2       | Motor | active    | 2025-02-20 | 51   | 11       | 0.9     | 2000    | 9000     | 900     | Motor      |
 * | K7       | C3       | Motor | lapsed    | NULL       |      | 3        | NULL    | 700     |          |         |            |
 * | K8       | C2       | Life  | cancelled | NULL       |      | 1        | NULL    | 400     |          |         |            |
 * | K9       | C1       | Motor | active    | 2025-03-25 | 84   | 12       | 0.996   | 1500    | 50000    | 200     | Motor      |
 * | K10      | C4       | Motor | active    | 2025-01-30 | 30   | 111      | 0.3     | 100     | 1000     | 700     | Motor      |
 *
 * Due within 30 days, by value at risk: K2, K1, K10, K3, then the unmodelled K5 (premium 900)
 * and K4 (300). Customers: C1 (loaded twice: the later row, owner "Li Wei", wins over "Old
 * Owner"), C2 (owner "Zhang Min"), C3 ("Li Wei"); C4 has no customer row.
 */
import { Store } from '../../src/store/db.js';

export const AS_OF = '2024-12-31';

interface ContractRow {
  contract_id: string;
  customer_id: string;
  plan: string | null;
  status: 'active' | 'in_grace' | 'lapsed' | 'cancelled';
  due: string | null;
  renewals: number;
  p_renew: number | null;
  premium: number;
  residual: number | null;
  model_plan: string | null;
  period_unit?: string;
}

export const CONTRACTS: ContractRow[] = [
  { contract_id: 'K1', customer_id: 'C1', plan: 'Motor', status: 'active', due: '2025-01-10', renewals: 1, p_renew: 0.62, premium: 1200, residual: 3000, model_plan: 'Motor' },
  { contract_id: 'K2', customer_id: 'C2', plan: 'Life', status: 'active', due: '2025-01-25', renewals: 0, p_renew: 0.5, premium: 5000, residual: 10000, model_plan: null },
  { contract_id: 'K3', customer_id: 'C3', plan: 'Motor', status: 'in_grace', due: '2024-12-20', renewals: 2, p_renew: 0.7, premium: 800, residual: 2000, model_plan: 'Motor' },
  { contract_id: 'K4', customer_id: 'C4', plan: 'Home', status: 'active', due: '2025-01-05', renewals: 10, p_renew: null, premium: 300, residual: null, model_plan: null, period_unit: 'irregular' },
  { contract_id: 'K5', customer_id: 'C1', plan: 'Home', status: 'active', due: '2025-01-15', renewals: 20, p_renew: null, premium: 900, residual: null, model_plan: null },
  { contract_id: 'K6', customer_id: 'C2', plan: 'Motor', status: 'active', due: '2025-02-20', renewals: 11, p_renew: 0.9, premium: 2000, residual: 9000, model_plan: 'Motor' },
  { contract_id: 'K7', customer_id: 'C3', plan: 'Motor', status: 'lapsed', due: null, renewals: 3, p_renew: null, premium: 700, residual: null, model_plan: 'Motor' },
  { contract_id: 'K8', customer_id: 'C2', plan: 'Life', status: 'cancelled', due: null, renewals: 1, p_renew: null, premium: 400, residual: null, model_plan: null },
  { contract_id: 'K9', customer_id: 'C1', plan: 'Motor', status: 'active', due: '2025-03-25', renewals: 12, p_renew: 0.996, premium: 1500, residual: 50000, model_plan: 'Motor' },
  { contract_id: 'K10', customer_id: 'C4', plan: 'Motor', status: 'active', due: '2025-01-30', renewals: 111, p_renew: 0.3, premium: 100, residual: 1000, model_plan: 'Motor' },
];

export const CUSTOMERS = [
  // load 1: C1's first row (superseded by load 2)
  { load_id: 1, customer_id: 'C1', name: 'Anna Old', email: 'anna.old@example.com', phone: '+86 138 0000 0000', account_owner: 'Old Owner' },
  { load_id: 2, customer_id: 'C1', name: 'Anna Schmidt', email: 'anna.schmidt@example.com', phone: '+86 138 1234 5678', account_owner: 'Li Wei' },
  { load_id: 2, customer_id: 'C2', name: '陈波', email: 'bo.chen@example.cn', phone: '(555) 123-4567', account_owner: 'Zhang Min' },
  { load_id: 2, customer_id: 'C3', name: '=HYPERLINK("http://evil")', email: 'carla@example.com', phone: '0171 2345678', account_owner: 'Li Wei' },
];

/** The sBG fits and retention curves of run 2 (as runs.contracts and contract_retention hold them). */
export const RUN_CONTRACTS = {
  grace_days: 30,
  period: 'year',
  sbg: [
    { plan: null, period_unit: 'year', alpha: 1.2, beta: 2.4, log_likelihood: -512.3, standard_errors: { alpha: 0.1, beta: 0.2 }, contracts: 10, churned: 2, active: 8, converged: true, outcome: 'interior' },
    { plan: 'Motor', period_unit: 'year', alpha: 0.9, beta: 1.8, log_likelihood: -300.1, standard_errors: { alpha: 0.1, beta: 0.2 }, contracts: 6, churned: 1, active: 5, converged: true, outcome: 'interior' },
  ],
  backtest: null,
};

/** contract_retention of run 2: [plan, period, at risk, observed, fitted]. */
export const RETENTION: [string | null, number, number, number | null, number | null][] = [
  [null, 0, 10, 1, 1],
  [null, 1, 8, 0.7, 0.667],
  [null, 2, 5, 0.55, 0.52],
  [null, 3, 2, null, 0.43],
  ['Motor', 0, 6, 1, 1],
  ['Motor', 1, 5, 0.62, 0.6],
  ['Motor', 2, 3, 0.45, 0.47],
];

const q = (v: string | number | null) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);

function runRow(runId: number, asOf: string, contracts: unknown): string {
  return `INSERT INTO runs (run_id, created_at, as_of, time_unit, horizon_months, params, input, customers, model_status, summary, timings, tool_version, contracts)
    VALUES (${runId}, TIMESTAMP '2025-01-01 00:00:00', DATE '${asOf}', 'week', 12, '{}', '{"loads": []}', 0, 'fallback', '{}', '{}', 'test', ${contracts === null ? 'NULL' : q(JSON.stringify(contracts))})`;
}

function contractRow(runId: number, asOf: string, c: ContractRow): string {
  const atRisk = c.residual !== null && c.p_renew !== null ? c.residual * (1 - c.p_renew) : null;
  const kind = c.p_renew === null ? null : 'sbg';
  const periodEnd = c.due ?? '2024-10-31';
  // Every column by hand: into contract_metrics_v7, whose rows the view contract_metrics reads as they are.
  return `INSERT INTO contract_metrics_v7 (run_id, contract_id, customer_id, plan, channel, region, period_unit, first_start, period_start, period_end, periods, renewals,
      premium, total_premium, status, renewal_due, p_renew, derl, residual_value, residual_value_horizon, value_at_risk, model_plan, model_kind, as_of)
    VALUES (${runId}, ${q(c.contract_id)}, ${q(c.customer_id)}, ${q(c.plan)}, NULL, NULL, ${q(c.period_unit ?? 'year')}, DATE '2015-01-01',
      CAST(DATE '${periodEnd}' - INTERVAL 1 YEAR + INTERVAL 1 DAY AS DATE), DATE '${periodEnd}', ${c.renewals + 1}, ${c.renewals},
      ${c.premium}, ${c.premium * (c.renewals + 1)}, ${q(c.status)}, ${c.due === null ? 'NULL' : `DATE '${c.due}'`}, ${q(c.p_renew)}, NULL,
      ${q(c.residual)}, ${q(c.residual)}, ${q(atRisk)}, ${q(c.model_plan)}, ${q(kind)}, DATE '${asOf}')`;
}

/** Run `runId`'s contracts and retention (as of `asOf`) and the customers, for a run that exists already. */
export async function seedContractRows(store: Store, runId: number, asOf = AS_OF): Promise<void> {
  const statements = [
    ...CUSTOMERS.map(
      (c, i) =>
        // As a customers load writes it: the file's owner in file_account_owner (customer_owners reads it) and, with no owners file, in effect too.
        `INSERT INTO customers (customer_id, name, email, phone, account_owner, file_account_owner, load_id, source_file, source_row)
         VALUES (${q(c.customer_id)}, ${q(c.name)}, ${q(c.email)}, ${q(c.phone)}, ${q(c.account_owner)}, ${q(c.account_owner)}, ${c.load_id}, 'customers.csv', ${i + 2})`,
    ),
    ...CONTRACTS.map((c) => contractRow(runId, asOf, c)),
    ...RETENTION.map(([plan, period, atRisk, observed, fitted]) => `INSERT INTO contract_retention VALUES (${runId}, ${q(plan)}, ${period}, ${atRisk}, ${q(observed)}, ${q(fitted)}, 'year')`),
    `UPDATE runs SET contracts = ${q(JSON.stringify(RUN_CONTRACTS))} WHERE run_id = ${runId}`,
  ];
  for (const sql of statements) await store.run(sql);
}

/** Write the two runs and, unless `contracts` is false, run 2's contracts and retention and the customers. */
export async function seedContracts(store: Store, opts: { contracts?: boolean } = {}): Promise<void> {
  await store.run(runRow(1, '2024-06-30', null));
  await store.run(
    contractRow(1, '2024-06-30', { contract_id: 'K99', customer_id: 'C2', plan: 'Motor', status: 'active', due: '2025-01-05', renewals: 0, p_renew: 0.1, premium: 99999, residual: 99999, model_plan: 'Motor' }),
  );
  await store.run(runRow(2, AS_OF, null));
  if (opts.contracts ?? true) await seedContractRows(store, 2);
}

/** A store file with the seeded rows (for the CLI). */
export async function contractsStoreFile(file: string, opts: { contracts?: boolean } = {}): Promise<void> {
  const store = await Store.open(file, { create: true });
  try {
    await seedContracts(store, opts);
  } finally {
    store.close();
  }
}
