/**
 * Every customer once (issue #10 §4): the contract part of a customer's row
 * (relations/customer-contracts.ts) and its join with the purchase part (customer-metrics.ts),
 * on tiny hand-made tables — run_base, the predictions and the 80/20 levels of two purchase
 * customers, and contract_metrics rows as the run's contract step writes them.
 *
 *   P  purchases only (two purchase days)
 *   B  both: one purchase day, an annual policy (1 200 a year, P(renew) 0.8) and a monthly plan (50 a month, 0.9)
 *   D  contracts only: an annual policy in its grace period (600, 0.5) and one lapsed long ago
 *   E  contracts only: one cancelled contract (nothing in force)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertInto, materialize, parametersOf, rowsOf, type RelationParams } from '../../../src/models/relation.js';
import { CUSTOMER_CONTRACTS, NO_CUSTOMER_CONTRACTS_SQL } from '../../../src/models/relations/customer-contracts.js';
import { CUSTOMER_METRICS, customerMetrics, TIER_VALUES, tierValues, type CustomerMetricsParam } from '../../../src/models/relations/customer-metrics.js';
import { RUN_SUMMARY } from '../../../src/models/relations/run-summary.js';
import { SEGMENT_MIGRATION } from '../../../src/models/relations/segment-migration.js';
import { METRICS_CUSTOMERS } from '../../../src/models/relations/value-tiers.js';
import { DEFAULT_SEGMENT_RULES, segmentCells } from '../../../src/models/rfm.js';
import { Store } from '../../../src/store/db.js';

const AS_OF = '2024-03-31';
let dir: string;
let store: Store;

/** contract_metrics rows: [run, contract, customer, unit, start, end, premium, status, renewal_due, p_renew, residual over the horizon]. */
type ContractRow = [number, string, string, string, string, string, number, string, string | null, number | null, number | null];
const CONTRACTS: ContractRow[] = [
  [2, 'B-1', 'B', 'year', '2023-06-01', '2024-05-31', 1200, 'active', '2024-05-31', 0.8, 1500],
  [2, 'B-2', 'B', 'month', '2024-03-01', '2024-03-31', 50, 'active', '2024-03-31', 0.9, 400],
  [2, 'D-1', 'D', 'year', '2023-03-20', '2024-03-19', 600, 'in_grace', '2024-03-19', 0.5, 700],
  [2, 'D-2', 'D', 'year', '2021-01-01', '2021-12-31', 300, 'lapsed', null, null, 0],
  [2, 'E-1', 'E', 'quarter', '2023-10-01', '2023-12-31', 90, 'cancelled', null, null, 0],
  // Another run's row: not this run's.
  [1, 'D-1', 'D', 'year', '2023-03-20', '2024-03-19', 999, 'active', '2024-03-19', 0.1, 5],
];

async function writeContracts(rows: ContractRow[]): Promise<void> {
  // Every column by hand: into contract_metrics_v7, whose rows the view contract_metrics reads as they are.
  await store.run('DELETE FROM contract_metrics_v7');
  for (const [run, contract, customer, unit, start, end, premium, status, due, p, residual] of rows) {
    await store.run(
      `INSERT INTO contract_metrics_v7 (run_id, contract_id, customer_id, period_unit, first_start, period_start, period_end, periods, renewals,
         premium, total_premium, status, renewal_due, p_renew, residual_value_horizon, as_of)
       VALUES ($run, $contract, $customer, $unit, CAST($start AS DATE), CAST($start AS DATE), CAST($end AS DATE), 1, 0,
         $premium, $premium, $status, CAST($due AS DATE), $p, $residual, CAST($as_of AS DATE))`,
      { run, contract, customer, unit, start, end, premium, status, due, p, residual, as_of: AS_OF },
    );
  }
}

const metricsParams = (over: Partial<RelationParams<CustomerMetricsParam>> = {}): RelationParams<CustomerMetricsParam> => ({
  run_id: 2,
  previous_run_id: 1,
  as_of: AS_OF,
  time_unit_days: 7,
  fitted: true,
  r_cuts: [-60, -30, -10, -1],
  f_cuts: [1, 2, 3, 4],
  m_cuts: [10, 50, 100, 500],
  rfm_bins: 5,
  segment_cells: segmentCells({ bins: 5, segments: DEFAULT_SEGMENT_RULES }),
  gg_p: 6,
  gg_q: 4,
  gg_v: 15,
  gg_nu: null,
  z: null,
  gg_covariance: null,
  revenue_drop: 0.25,
  churn_risk_rise: 0.15,
  ...over,
});

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-customer-contracts-'));
  store = await Store.open(path.join(dir, 'store.duckdb'), { create: true });
  // run_base: only the columns the customer metrics read (history key as histories.ts builds it).
  await store.run(`CREATE TEMP TABLE run_base AS
    SELECT customer_id, f AS first_purchase, l AS last_purchase, CAST(DATE '${AS_OF}' - l AS BIGINT) AS recency_days, frequency, days AS purchase_days,
           monetary, monetary AS gross_revenue, 0.0 AS returns_value, 0 AS return_lines, NULL::DOUBLE AS margin, days - 1 AS bgnbd_x,
           repeat_mean AS repeat_mean_value, first_day AS first_day_value,
           (days - 1) * 1099511627776 + (l - f) * 1048576 + (DATE '${AS_OF}' - f) AS history_key,
           CAST(monetary AS DECIMAL(18, 4)) AS pareto_revenue, CAST(monetary AS DECIMAL(18, 4)) AS trend_current, CAST(monetary AS DECIMAL(18, 4)) AS trend_previous
    FROM (VALUES ('P', DATE '2024-01-01', DATE '2024-03-01', 2, 2, 100.0, 50.0, 50.0),
                 ('B', DATE '2024-03-31', DATE '2024-03-31', 1, 1, 40.0, NULL, 40.0)) t(customer_id, f, l, days, frequency, monetary, repeat_mean, first_day)`);
  await store.run(`CREATE TEMP TABLE run_predictions AS
    SELECT history_key, p_alive, 1 - p_alive AS churn_risk, p_no_purchase, expected_purchases, discounted_purchases, churn_tier, 'bgnbd' AS churn_method,
           NULL::DOUBLE AS expected_purchases_low, NULL::DOUBLE AS expected_purchases_high, NULL::DOUBLE AS discounted_log_sd,
           'churn_risk' AS churn_basis
    FROM (SELECT b.history_key, v.* FROM run_base b JOIN (VALUES ('P', 0.7, 0.4, 1.0, 0.9, 'medium'), ('B', 1.0, 0.3, 0.5, 0.45, 'low'))
            v(customer_id, p_alive, p_no_purchase, expected_purchases, discounted_purchases, churn_tier) USING (customer_id))`);
  await store.run(`CREATE TEMP TABLE run_pareto_levels AS
    SELECT * FROM (VALUES (CAST(100 AS DECIMAL(18, 4)), 1, 100 / 140, 140.0, 'A'), (CAST(40 AS DECIMAL(18, 4)), 2, 1.0, 140.0, 'B'))
      l(net_revenue, revenue_rank, cumulative_share, positive_total, abc_class)`);
  await writeContracts(CONTRACTS);
});
afterAll(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('customer contracts', () => {
  it('lists exactly the parameters its SQL uses', () => {
    expect([...CUSTOMER_CONTRACTS.params].sort()).toEqual(parametersOf(CUSTOMER_CONTRACTS.sql).sort());
    expect([...CUSTOMER_METRICS.params].sort()).toEqual(parametersOf(CUSTOMER_METRICS.sql).sort());
  });

  it('one row per customer of the run: contracts in force, premium per period and per year, premium-weighted P(renew), residual value, next renewal', async () => {
    const rows = await rowsOf(store, { ...CUSTOMER_CONTRACTS, sql: `${CUSTOMER_CONTRACTS.sql} ORDER BY customer_id` }, { run_id: 2 });
    expect(rows.map((r) => ({ ...r, next_renewal_due: r.next_renewal_due === null ? null : String(r.next_renewal_due) }))).toEqual([
      // Annual 1 200 and monthly 50 (600 a year) do not add up per period: no contract_premium, 'mixed'.
      { customer_id: 'B', contracts_in_force: 2, contract_premium: null, contract_period_unit: 'mixed', annual_premium: 1800,
        renewal_probability: (1200 * 0.8 + 600 * 0.9) / 1800, contract_residual_value: 1900, next_renewal_due: '2024-03-31' },
      // In grace counts as in force; the lapsed contract adds nothing but its (zero) residual value.
      { customer_id: 'D', contracts_in_force: 1, contract_premium: 600, contract_period_unit: 'year', annual_premium: 600,
        renewal_probability: 0.5, contract_residual_value: 700, next_renewal_due: '2024-03-19' },
      // Nothing in force: no premium, no probability, no renewal due.
      { customer_id: 'E', contracts_in_force: 0, contract_premium: 0, contract_period_unit: null, annual_premium: 0,
        renewal_probability: null, contract_residual_value: 0, next_renewal_due: null },
    ]);
    // Another run reads its own rows only.
    expect((await rowsOf(store, CUSTOMER_CONTRACTS, { run_id: 1 })).map((r) => [r.customer_id, r.contract_premium])).toEqual([['D', 999]]);
  });

  it('an irregular period counts 365.25 / its length in days per year; unmodelled contracts weigh equally (plain mean) when premiums are 0', async () => {
    await writeContracts([
      [2, 'X-1', 'X', 'irregular', '2024-01-01', '2024-02-29', 60, 'active', '2024-02-29', 0.6, null],
      [2, 'Y-1', 'Y', 'month', '2024-03-01', '2024-03-31', 0, 'active', '2024-03-31', 0.2, null],
      [2, 'Y-2', 'Y', 'month', '2024-03-01', '2024-03-31', 0, 'active', '2024-03-31', 0.4, null],
    ]);
    try {
      const rows = await rowsOf(store, { ...CUSTOMER_CONTRACTS, sql: `${CUSTOMER_CONTRACTS.sql} ORDER BY customer_id` }, { run_id: 2 });
      expect(rows.map((r) => [r.customer_id, r.contract_premium, r.contract_period_unit, r.annual_premium, r.renewal_probability, r.contract_residual_value])).toEqual([
        ['X', 60, 'irregular', 60 * (365.25 / 60), 0.6, null],
        ['Y', 0, 'month', 0, 0.3, null], // the mean of exact decimals,
      ]);
    } finally {
      await writeContracts(CONTRACTS);
    }
  });
});

describe('customer metrics with contracts', () => {
  const COLUMNS = `customer_id, CAST(first_purchase AS VARCHAR) AS first_purchase, frequency, monetary, r_score, rfm_segment, p_alive, churn_risk,
    CAST(churn_tier AS VARCHAR) AS churn_tier, churn_method, clv, value_basis, net_revenue, revenue_share, abc_class, revenue_current,
    CAST(at_risk_codes AS VARCHAR[]) AS at_risk_codes, contracts_in_force, annual_premium, contract_residual_value, tier_value`;

  it('every customer once: purchase-only rows as without contracts, both parts for B, NULL purchase columns for D and E; tier value = CLV + residual value', async () => {
    await materialize(store, CUSTOMER_METRICS, metricsParams());
    const rows = await store.all(`SELECT ${COLUMNS} FROM temp.run_customer_metrics ORDER BY customer_id`);
    // The same relation for a run without contracts: P's and B's purchase part.
    await materialize(store, CUSTOMER_METRICS, metricsParams({ run_id: 3 }));
    const without = await store.all(`SELECT * EXCLUDE (run_id) FROM temp.run_customer_metrics ORDER BY customer_id`);
    await materialize(store, CUSTOMER_METRICS, metricsParams());
    const withContracts = await store.all(`SELECT * EXCLUDE (run_id) FROM temp.run_customer_metrics WHERE customer_id IN ('P', 'B') ORDER BY customer_id`);
    const contractColumns = ['contracts_in_force', 'contract_premium', 'contract_period_unit', 'annual_premium', 'renewal_probability', 'contract_residual_value', 'next_renewal_due'];
    const purchasePart = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => !contractColumns.includes(k) && k !== 'tier_value'));
    expect(without.map((r) => r.customer_id)).toEqual(['B', 'P']);
    expect(withContracts.map(purchasePart)).toEqual(without.map(purchasePart));
    // P has no contracts: its row is exactly the one without contracts.
    expect(withContracts[1]).toEqual(without[1]);
    expect(without[1].contracts_in_force).toBeNull();

    const [b, d, e, p] = rows;
    expect([b.customer_id, d.customer_id, e.customer_id, p.customer_id]).toEqual(['B', 'D', 'E', 'P']);
    expect(p.tier_value).toBe(p.clv);
    expect(b.tier_value).toBe((b.clv as number) + 1900);
    expect(b).toMatchObject({ first_purchase: '2024-03-31', frequency: 1, monetary: 40, rfm_segment: 'New', churn_tier: 'low', abc_class: 'B', contracts_in_force: 2, annual_premium: 1800, contract_residual_value: 1900 });
    const contractOnly = (id: string, inForce: number, premium: number, residual: number) => ({
      customer_id: id, first_purchase: null, frequency: null, monetary: null, r_score: null, rfm_segment: null, p_alive: null, churn_risk: null,
      churn_tier: null, churn_method: null, clv: null, value_basis: 'clv', net_revenue: null, revenue_share: null, abc_class: null, revenue_current: null,
      at_risk_codes: null, contracts_in_force: inForce, annual_premium: premium, contract_residual_value: residual, tier_value: residual,
    });
    expect(d).toEqual(contractOnly('D', 1, 600, 700));
    expect(e).toEqual(contractOnly('E', 0, 0, 0));
  });

  it('in the fallback the purchase part is net revenue (monetary), still plus the residual value', async () => {
    await materialize(store, CUSTOMER_METRICS, metricsParams({ fitted: false, gg_p: null, gg_q: null, gg_v: null }));
    const rows = await store.all('SELECT customer_id, value_basis, tier_value FROM temp.run_customer_metrics ORDER BY customer_id');
    expect(rows).toEqual([
      { customer_id: 'B', value_basis: 'net_revenue', tier_value: 40 + 1900 },
      { customer_id: 'D', value_basis: 'net_revenue', tier_value: 700 },
      { customer_id: 'E', value_basis: 'net_revenue', tier_value: 0 },
      { customer_id: 'P', value_basis: 'net_revenue', tier_value: 100 },
    ]);
  });

  it('the contract part of a customer without contracts: CUSTOMER_CONTRACTS\' columns and types (but customer_id), all NULL', async () => {
    await store.run(`CREATE OR REPLACE TEMP TABLE run_customer_contracts AS ${CUSTOMER_CONTRACTS.sql}`, { run_id: 2 });
    const contractTypes = (await store.all('DESCRIBE temp.run_customer_contracts')).map((r) => [r.column_name, r.column_type]).filter(([name]) => name !== 'customer_id');
    expect(contractTypes).toHaveLength(7);
    expect((await store.all(`DESCRIBE (${NO_CUSTOMER_CONTRACTS_SQL})`)).map((r) => [r.column_name, r.column_type])).toEqual(contractTypes);
    expect(await store.all(NO_CUSTOMER_CONTRACTS_SQL)).toEqual([Object.fromEntries(contractTypes.map(([name]) => [name, null]))]);
  });

  it('a run without contract rows: the purchases-only variants give the full relations\' rows; with contract rows they would lose the contract customers', async () => {
    const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a.customer_id).localeCompare(String(b.customer_id)));
    // Run 3 has no contract_metrics rows.
    expect(await store.value('SELECT count(*) FROM contract_metrics WHERE run_id = 3')).toBe(0);
    for (const over of [{ run_id: 3 }, { run_id: 3, fitted: false, gg_p: null, gg_q: null, gg_v: null }]) {
      const params = metricsParams(over);
      const full = byId(await rowsOf(store, customerMetrics.with_contracts, params));
      expect(full.map((r) => r.customer_id)).toEqual(['B', 'P']);
      expect(byId(await rowsOf(store, customerMetrics.purchases_only, params))).toEqual(full);
      expect(byId(await rowsOf(store, tierValues.purchases_only, params))).toEqual(byId(await rowsOf(store, tierValues.with_contracts, params)));
    }
    // Run 2 has contract rows: only the full relation has D and E (run/customers.ts picks it then).
    const withContracts = byId(await rowsOf(store, customerMetrics.with_contracts, metricsParams()));
    expect(withContracts.map((r) => r.customer_id)).toEqual(['B', 'D', 'E', 'P']);
    expect(byId(await rowsOf(store, customerMetrics.purchases_only, metricsParams())).map((r) => r.customer_id)).toEqual(['B', 'P']);
  });

  it('TIER_VALUES, what the run cuts the tiers on, gives every customer (contract-only ones too) the tier_value of CUSTOMER_METRICS', async () => {
    for (const over of [{}, { fitted: false, gg_p: null, gg_q: null, gg_v: null }, { run_id: 3 }]) {
      const params = metricsParams(over);
      await materialize(store, CUSTOMER_METRICS, params);
      const full = await store.all('SELECT customer_id, tier_value FROM temp.run_customer_metrics ORDER BY customer_id');
      expect(full.length).toBeGreaterThan(1);
      const narrow = await rowsOf(store, TIER_VALUES, params);
      expect([...narrow].sort((a, b) => String(a.customer_id).localeCompare(String(b.customer_id)))).toEqual(full);
    }
  });

  it('written and read through customer_metrics: tiers rank the combined value; no churn reason, cohort or key-account status without purchases; summary and segment migration skip them', async () => {
    await store.run('DELETE FROM metrics_customers');
    // Run 1: P and B only (no segment for anyone else), so run 2's segment migration has a previous run.
    await insertInto(store, 'metrics_customers', METRICS_CUSTOMERS, { ...metricsParams({ run_id: 1, previous_run_id: null }), tier_names: ['Top', 'Low'], tier_cuts: [50] });
    await store.run("DELETE FROM metrics_customers WHERE run_id = 1 AND customer_id = 'D'");
    // Cuts: Top from 500 of combined value (B: 40 + 1 900 in the fallback, D: 700; P's 100 and E's 0 below).
    await insertInto(store, 'metrics_customers', METRICS_CUSTOMERS, {
      ...metricsParams({ fitted: false, gg_p: null, gg_q: null, gg_v: null }),
      tier_names: ['Top', 'Mid', 'Low'],
      tier_cuts: [500, 50],
    });
    const rows = await store.all(
      `SELECT customer_id, value_tier, recency_days, tenure_days, avg_order_value, bgnbd_x, churn_reason, churn_reason_code, usual_gap_days,
              is_key_account, key_account_at_risk, at_risk, at_risk_reason, cohort_month, revenue_trend,
              contracts_in_force, contract_premium, contract_period_unit, annual_premium, renewal_probability, contract_residual_value,
              CAST(next_renewal_due AS VARCHAR) AS next_renewal_due
       FROM customer_metrics WHERE run_id = 2 ORDER BY customer_id`,
    );
    const noPurchase = {
      recency_days: null, tenure_days: null, avg_order_value: null, bgnbd_x: null, churn_reason: null, churn_reason_code: null, usual_gap_days: null,
      is_key_account: null, key_account_at_risk: false, at_risk: false, at_risk_reason: null, cohort_month: null, revenue_trend: null,
    };
    expect(rows[1]).toEqual({
      customer_id: 'D', value_tier: 'Top', ...noPurchase,
      contracts_in_force: 1, contract_premium: 600, contract_period_unit: 'year', annual_premium: 600, renewal_probability: 0.5, contract_residual_value: 700, next_renewal_due: '2024-03-19',
    });
    expect(rows[2]).toMatchObject({ customer_id: 'E', value_tier: 'Low', ...noPurchase, contracts_in_force: 0 });
    expect(rows[0]).toMatchObject({ customer_id: 'B', value_tier: 'Top', churn_reason: 'first purchase today', is_key_account: false, contracts_in_force: 2, contract_period_unit: 'mixed' });
    expect(rows[3]).toMatchObject({ customer_id: 'P', value_tier: 'Mid', churn_reason: 'last purchase 30 days ago; usually buys every 60 days', is_key_account: true, contracts_in_force: null, next_renewal_due: null });

    const summary = await rowsOf(store, RUN_SUMMARY, { run_id: 2 });
    expect(summary.map((r) => [r.grouped_by, r.name, r.customers])).toEqual([
      ['segment', 'Hibernating', 1],
      ['segment', 'New', 1],
      ['value_tier', 'Top', 2],
      ['value_tier', 'Mid', 1],
      ['value_tier', 'Low', 1],
      ['churn_tier', 'medium', 1],
      ['churn_tier', 'low', 1],
      ['total', null, 4],
    ]);
    const total = summary[summary.length - 1];
    expect([total.net_revenue, total.purchase_customers, total.contract_customers, total.contract_residual_value, total.key_customers]).toEqual([140, 2, 3, 2600, 1]);

    const migration = await rowsOf(store, SEGMENT_MIGRATION, { run_id: 2, previous_run_id: 1 });
    expect(migration.map((r) => [r.from_segment, r.to_segment, r.customers]).sort()).toEqual([
      ['Hibernating', 'Hibernating', 1],
      ['New', 'New', 1],
    ]);
  });
});
