/**
 * `crm run` with contracts (issue #10 §4, every customer once), end to end on stores whose
 * contract periods are written by hand; the run's contract step writes contract_metrics and the
 * customer rows read them in the same transaction. The book is too small for an sBG fit (its
 * contracts are not modelled: no renewal probability or residual value), so the exact
 * per-customer arithmetic with modelled values is the relation's unit test
 * (test/models/relations/customer-contracts.test.ts); here the rows must agree with contract_latest:
 * - a store with purchases (A, B, C) and contracts (B: an annual policy; D: an annual policy and a
 *   monthly plan, no purchase) against the same purchases without contracts;
 * - a store with contracts and no transactions: the purchase models skipped (no_purchases);
 * - neither, or contracts only after as-of: a clear error, as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { createStore, type TestStore, type TxRow } from '../helpers/run.js';

const PURCHASES: TxRow[] = [
  { customer_id: 'A', order_date: '2024-01-10', amount: 100 },
  { customer_id: 'A', order_date: '2024-02-10', amount: 60 },
  { customer_id: 'A', order_date: '2024-02-12', amount: -20 },
  { customer_id: 'B', order_date: '2024-01-20', amount: 40 },
  { customer_id: 'C', order_date: '2024-03-05', amount: 25 },
  { customer_id: 'C', order_date: '2024-03-31', amount: 25 },
];

/** Contract periods for B and D. */
async function addContracts(db: string): Promise<void> {
  const store = await Store.open(db, { create: true });
  try {
    await store.run(`INSERT INTO contracts (load_id, source_file, source_row, customer_id, contract_id, period_start, period_end, amount, plan) VALUES
      (9, 'policies.csv', 2, 'B', 'P1', DATE '2023-06-01', DATE '2024-05-31', 1200, 'motor'),
      (9, 'policies.csv', 3, 'D', 'P2', DATE '2023-04-01', DATE '2024-03-31', 600, 'life'),
      (9, 'policies.csv', 4, 'D', 'P3', DATE '2024-03-01', DATE '2024-03-31', 50, 'phone')`);
  } finally {
    store.close();
  }
}

const CONTRACT_COLUMNS = ['contracts_in_force', 'contract_premium', 'contract_period_unit', 'annual_premium', 'renewal_probability', 'contract_residual_value', 'next_renewal_due'];
/** customer_latest without the columns contracts change: the value tier (a rank among all customers) and the contract columns. */
const PURCHASE_PART = `SELECT * EXCLUDE (value_tier, ${CONTRACT_COLUMNS.join(', ')}) FROM customer_latest ORDER BY customer_id`;

interface RunOut {
  customers: number;
  model_status: string;
  fallback_code: string | null;
  fallback_reason: string | null;
  as_of: string;
  summary: { customers_with_purchases: number; customers_with_contracts: number; contract_residual_value: number | null; segments: unknown[]; churn_tiers: unknown[]; value_tiers: { tier: string; customers: number }[] };
}

describe('a store with purchases and contracts', () => {
  let mixed: TestStore;
  let plain: TestStore;
  let run: RunOut;
  let plainRun: RunOut;
  beforeAll(async () => {
    mixed = await createStore(PURCHASES, 'crm-contract-customers-');
    plain = await createStore(PURCHASES, 'crm-contract-customers-plain-');
    await addContracts(mixed.db);
    run = mixed.json<RunOut>(['run']);
    plainRun = plain.json<RunOut>(['run']);
  });
  afterAll(() => {
    mixed?.cleanup();
    plain?.cleanup();
  });

  it('every customer once: purchase parts as without contracts, contract columns for B and D, D without purchase columns', async () => {
    expect([run.customers, plainRun.customers]).toEqual([4, 3]);
    expect([run.model_status, run.fallback_code]).toEqual([plainRun.model_status, plainRun.fallback_code]);
    const withContracts = await mixed.query(PURCHASE_PART);
    const without = await plain.query(PURCHASE_PART);
    expect(withContracts.filter((r) => r.customer_id !== 'D')).toEqual(without);
    const d = withContracts.find((r) => r.customer_id === 'D')!;
    const purchaseColumns = Object.keys(d).filter((k) => !['run_id', 'customer_id', 'value_basis', 'as_of', 'time_unit_days', 'key_account_at_risk', 'at_risk'].includes(k));
    expect(purchaseColumns.filter((k) => d[k] !== null)).toEqual([]);
    expect([d.value_basis, d.at_risk, d.key_account_at_risk]).toEqual(['net_revenue', false, false]);

    const contracts = await mixed.query(`SELECT customer_id, ${CONTRACT_COLUMNS.map((c) => (c === 'next_renewal_due' ? `CAST(${c} AS VARCHAR) AS ${c}` : c)).join(', ')}
      FROM customer_latest ORDER BY customer_id`);
    // The run's own contract rows: all in force as of 2024-03-31, too few for a fit, so not modelled.
    expect(await mixed.query(`SELECT contract_id, customer_id, status, period_unit, p_renew, residual_value_horizon FROM contract_latest ORDER BY contract_id`)).toEqual([
      { contract_id: 'P1', customer_id: 'B', status: 'active', period_unit: 'year', p_renew: null, residual_value_horizon: null },
      { contract_id: 'P2', customer_id: 'D', status: 'active', period_unit: 'year', p_renew: null, residual_value_horizon: null },
      { contract_id: 'P3', customer_id: 'D', status: 'active', period_unit: 'month', p_renew: null, residual_value_horizon: null },
    ]);
    const none = { contracts_in_force: null, contract_premium: null, contract_period_unit: null, annual_premium: null, renewal_probability: null, contract_residual_value: null, next_renewal_due: null };
    expect(contracts).toEqual([
      { customer_id: 'A', ...none },
      { customer_id: 'B', contracts_in_force: 1, contract_premium: 1200, contract_period_unit: 'year', annual_premium: 1200,
        renewal_probability: null, contract_residual_value: null, next_renewal_due: '2024-05-31' },
      { customer_id: 'C', ...none },
      // 600 a year and 50 a month: 1 200 a year, no premium per period.
      { customer_id: 'D', contracts_in_force: 2, contract_premium: null, contract_period_unit: 'mixed', annual_premium: 1200,
        renewal_probability: null, contract_residual_value: null, next_renewal_due: '2024-03-31' },
    ]);
    // Nothing modelled adds no value: the tiers are those of the purchases alone, D (no purchase) last.
    const tiers = await mixed.query('SELECT customer_id, value_tier FROM customer_latest ORDER BY customer_id');
    const plainTiers = await plain.query('SELECT customer_id, value_tier FROM customer_latest ORDER BY customer_id');
    expect(tiers.filter((r) => r.customer_id !== 'D').map((r) => r.value_tier)).toEqual(plainTiers.map((r) => r.value_tier));
    expect(tiers.find((r) => r.customer_id === 'D')!.value_tier).toBe('Bronze');
    expect(await mixed.query('SELECT customers FROM runs')).toEqual([{ customers: 4 }]);
    expect(run.summary).toMatchObject({ customers_with_purchases: 3, customers_with_contracts: 2, contract_residual_value: null });
    expect(run.summary.segments).toEqual(plainRun.summary.segments);
    expect(run.summary.churn_tiers).toEqual(plainRun.summary.churn_tiers);
    // Segment migration and cohorts are of the customers with purchases.
    expect(await mixed.query('SELECT * FROM segment_migration ORDER BY to_segment')).toEqual(await plain.query('SELECT * FROM segment_migration ORDER BY to_segment'));
  });

  it('the commands read them: crm customer, keyaccounts (of the customers with purchases), export segments and customers', () => {
    const d = mixed.cli(['customer', 'D']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('latest run 1: Bronze; no purchase by 2024-03-31 (contracts only)');
    expect(d.stdout).toContain('2 contracts in force, premium 1200.00 a year, next renewal 2024-03-31');
    const b = mixed.cli(['customer', 'B']);
    expect(b.stdout).toContain('latest run 1: Lost (R1 F1 M1), ');
    expect(b.stdout).toContain('1 contract in force, premium 1200.00 a year, next renewal 2024-05-31');
    const keys = mixed.json<{ customers: number; key_accounts: number }>(['keyaccounts']);
    expect([keys.customers, keys.key_accounts]).toEqual([3, 2]);
    expect(mixed.json(['export', 'segments'])).toMatchObject({ keyaccounts: 2, customers: 4 });
    const exported = mixed.json<{ rows: number }>(['export', 'segment', 'customers', '--out', 'customers.csv']);
    expect(exported.rows).toBe(4);
  });
});

describe('a store with contracts and no transactions', () => {
  let store: TestStore;
  let run: RunOut;
  beforeAll(async () => {
    store = await createStore(null, 'crm-contract-only-');
    await addContracts(store.db);
    run = store.json<RunOut>(['run']);
  });
  afterAll(() => store?.cleanup());

  it('runs the contract part as of the latest period start, with the purchase models skipped and said so', async () => {
    expect(run).toMatchObject({ customers: 2, model_status: 'fallback', fallback_code: 'no_purchases', as_of: '2024-03-01' });
    expect(run.fallback_reason).toBe(
      'no customer has a purchase on or before 2024-03-01: the purchase models (RFM, BG/NBD, Gamma-Gamma, 80/20) are skipped and customers are scored from their contracts',
    );
    expect(run.summary).toMatchObject({ customers_with_purchases: 0, customers_with_contracts: 2, contract_residual_value: null, segments: [], churn_tiers: [] });
    expect(await store.query(`SELECT customer_id, value_tier, rfm_segment, churn_tier, abc_class, contracts_in_force, contract_residual_value FROM customer_latest ORDER BY customer_id`)).toEqual([
      // Not modelled (too few contracts for a fit): no value to rank, everyone in the last tier.
      { customer_id: 'B', value_tier: 'Bronze', rfm_segment: null, churn_tier: null, abc_class: null, contracts_in_force: 1, contract_residual_value: null },
      { customer_id: 'D', value_tier: 'Bronze', rfm_segment: null, churn_tier: null, abc_class: null, contracts_in_force: 2, contract_residual_value: null },
    ]);
    expect(await store.query('SELECT count(*) AS n FROM segment_migration')).toEqual([{ n: 0 }]);
    const text = store.cli(['model', 'show']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('run 1 as of 2024-03-01 (2 customers');
  });

  it('stops with a clear input error (exit 3) when no contract started by as-of', () => {
    const r = store.cli(['run', '--as-of', '2023-01-01']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('crm: error: no customer has a purchase or a contract on or before 2023-01-01\n');
  });
});

describe('a store with neither transactions nor contracts', () => {
  it('crm run stops with a clear input error (exit 3), as before', async () => {
    const empty = await createStore(null, 'crm-empty-');
    (await Store.open(empty.db, { create: true })).close();
    try {
      const r = empty.cli(['run']);
      expect(r.code).toBe(3);
      expect(r.stderr).toBe('crm: error: the store has no transactions and no contracts: load some with `crm ingest transactions FILE` or `crm ingest contracts FILE`\n');
    } finally {
      empty.cleanup();
    }
  });
});
