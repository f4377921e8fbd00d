/**
 * Stores written by earlier schemas open with the current code:
 * - version 1 (the ingest tables only, before `crm run` existed): `crm run` migrates it and
 *   works, and so does a read-only command;
 * - version 2 (customer_metrics with every column stored): migration 3 keeps every value of
 *   every run, with the fixed vocabularies as ENUMs and the derived columns generated; migration
 *   4 lets revenue_previous be NULL and adds runs.fallback_code (NULL for earlier runs);
 * - version 4: migration 5 turns worded at-risk reasons into codes;
 * - version 5 (customer_metrics a table with generated columns): migration 6 moves the stored
 *   values into metrics_customers and makes customer_metrics a view with the same columns,
 *   types and values;
 * - version 7 (contracts, before customers with contracts had rows): migration 8 lets the
 *   purchase columns be NULL and appends the contract columns, keeping every column and value.
 * - before version 28 (transactions a table): migration 28 makes it a view over
 *   transactions_wide (the table of before) and transactions_narrow, same columns, types, values.
 * - migrations 31 and 33 rebuild transactions_narrow and contracts with their string compressions
 *   named: same columns, types, values and order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../src/store/schema.js';
import { crm, tempDir } from '../helpers/cli.js';
import { createStore } from '../helpers/run.js';

const dirs: string[] = [];

/** The interval columns migration 18 appends to metrics_customers and customer_metrics (NULL for runs before it). */
const INTERVAL_COLUMNS = ['expected_purchases_low', 'expected_purchases_high', 'clv_low', 'clv_high'];
/** The columns appended after migration 8: the intervals (18) and churn_basis (22), NULL for runs before them. */
const LATER_COLUMNS = [...INTERVAL_COLUMNS, 'churn_basis'];
/** customer_metrics' columns of before migration 18 (the stores migrated here have no intervals and no churn_basis). */
const BEFORE_INTERVALS = `* EXCLUDE (${LATER_COLUMNS.join(', ')})`;

/**
 * Migrations 12 and 23 widened churn_method's ENUM in metrics_customers (23 for the BG/BB); a DuckDB view keeps the column
 * types it was created with, so customer_metrics showed the narrower ENUM until migration 18
 * recreated the view over it. Columns of before, as the view shows them now.
 */
const widenedChurnMethod = <C extends { column_name: string; data_type: string }>(columns: C[]): C[] =>
  columns.map((c) => (c.column_name === 'churn_method' ? { ...c, data_type: "ENUM('bgnbd', 'recency', 'pareto_nbd', 'mbgnbd', 'bgbb')" } : c));

/** The contract columns migration 8 appends to metrics_customers and customer_metrics (absent before). */
const CONTRACT_COLUMNS = ['contracts_in_force', 'contract_premium', 'contract_period_unit', 'annual_premium', 'renewal_probability', 'contract_residual_value', 'next_renewal_due'];
const beforeContracts = (c: string) => !CONTRACT_COLUMNS.includes(c) && !LATER_COLUMNS.includes(c);
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A version-1 store with one load of 6 transaction lines (3 customers, one return). */
async function versionOneStore(): Promise<string> {
  const dir = tempDir('crm-migration-');
  dirs.push(dir);
  const db = path.join(dir, 'old.duckdb');
  const store = await Store.open(db, { create: true, migrate: false });
  try {
    await store.applyMigrations(MIGRATIONS.filter((m) => m.version === 1));
    await store.run(`INSERT INTO loads VALUES (1, 'transactions', '/data/old.csv', 'old.csv', 'abc', 100, 'csv', 'utf-8', NULL, '{}', '{}', 6, 6, 0, 'loaded', NULL,
                                              TIMESTAMP '2024-04-01 10:00:00', TIMESTAMP '2024-04-01 10:00:01', '{}')`);
    await store.run(`INSERT INTO transactions (load_id, source_file, source_row, customer_id, order_id, order_date, amount, is_return) VALUES
      (1, 'old.csv', 2, 'A', 'O1', DATE '2024-01-10', 100, false),
      (1, 'old.csv', 3, 'A', 'O2', DATE '2024-02-10', 60, false),
      (1, 'old.csv', 4, 'A', 'C3', DATE '2024-02-12', -20, true),
      (1, 'old.csv', 5, 'B', 'O4', DATE '2024-01-20', 40, false),
      (1, 'old.csv', 6, 'C', 'O5', DATE '2024-03-05', 25, false),
      (1, 'old.csv', 7, 'C', 'O6', DATE '2024-03-31', 25, false)`);
    expect(await store.schemaVersion()).toBe(1);
  } finally {
    store.close();
  }
  return db;
}

async function versions(db: string): Promise<number[]> {
  const store = await Store.open(db, { readOnly: true, migrate: false });
  try {
    return (await store.all<{ version: number }>('SELECT version FROM schema_version ORDER BY version')).map((r) => r.version);
  } finally {
    store.close();
  }
}


/**
 * A store with a few customers scored by the current code in two runs (two as-of dates, two
 * time units, the second compared with the first): the rows old stores are built from.
 */
async function scoredTwice(prefix: string) {
  const source = await createStore(
    [
      { customer_id: 'A', order_date: '2024-01-10', amount: 100 },
      { customer_id: 'A', order_date: '2024-02-10', amount: 60 },
      { customer_id: 'A', order_date: '2024-02-12', amount: -20 },
      { customer_id: 'B', order_date: '2024-01-20', amount: 40 },
      { customer_id: 'C', order_date: '2024-03-05', amount: 25 },
      { customer_id: 'C', order_date: '2024-03-31', amount: 25 },
    ],
    prefix,
  );
  dirs.push(source.dir);
  source.json(['run', '--as-of', '2024-02-29']);
  source.json(['run', '--time-unit', 'day']);
  return source;
}

describe('a version-1 store', () => {
  it('crm run migrates it to the latest version and scores its customers', async () => {
    const db = await versionOneStore();
    const r = crm(['--db', db, '-q', 'run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout);
    expect([run.run_id, run.as_of, run.customers, run.model_status]).toEqual([1, '2024-03-31', 3, 'fallback']);
    expect(await versions(db)).toEqual(MIGRATIONS.map((m) => m.version));
    const store = await Store.open(db, { readOnly: true });
    try {
      const rows = await store.all(`SELECT customer_id, frequency, monetary, returns_value, abc_class FROM customer_latest ORDER BY customer_id`);
      expect(rows).toEqual([
        { customer_id: 'A', frequency: 2, monetary: 140, returns_value: 20, abc_class: 'A' },
        { customer_id: 'B', frequency: 1, monetary: 40, returns_value: 0, abc_class: 'B' },
        { customer_id: 'C', frequency: 2, monetary: 50, returns_value: 0, abc_class: 'A' },
      ]);
      const [input] = await store.all<{ loads: number[]; transactions_used: number }>(
        `SELECT CAST(input->'loads' AS INTEGER[]) AS loads, CAST(input->>'transactions_used' AS INTEGER) AS transactions_used FROM runs`,
      );
      expect(input).toEqual({ loads: [1], transactions_used: 6 });
    } finally {
      store.close();
    }
  });

  it('a read-only command (crm model show) migrates it too, then reports that there is no run yet (exit 4)', async () => {
    const db = await versionOneStore();
    const r = crm(['--db', db, 'model', 'show', '--json']);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('crm: error: no model run yet: run `crm run` first\n');
    expect(r.stdout).toBe('');
    expect(await versions(db)).toEqual(MIGRATIONS.map((m) => m.version));
  });
});

describe('a version-2 store with runs', () => {
  it('migration 3 keeps every customer_metrics value; ENUM vocabularies, generated columns, as_of and time unit added', async () => {
    // Runs scored by the current code (two as-of dates, two time units), then copied into a
    // store built with migrations 1 and 2 only, column by column as version 2 stored them.
    const source = await scoredTwice('crm-migration-3-');
    const V2_COLUMNS = (await source.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'customer_metrics' ORDER BY ordinal_position",
    ))
      .map((c) => c.column_name)
      .filter((c) => !['as_of', 'time_unit_days', 'at_risk_codes', 'at_risk', 'churn_reason_code', 'usual_gap_days', ...LATER_COLUMNS].includes(c))
      .filter(beforeContracts);
    expect(V2_COLUMNS).toHaveLength(45);
    // Version 2 stored 0 as the previous window's revenue where today's runs store NULL (the data
    // does not cover that window: migration 4).
    const v2Revenue = (c: string) => (c === 'revenue_previous' ? 'coalesce(revenue_previous, 0) AS revenue_previous' : c);
    const before = await source.query(`SELECT ${V2_COLUMNS.map(v2Revenue).join(', ')} FROM customer_metrics ORDER BY run_id, customer_id`);

    const db = path.join(source.dir, 'v2.duckdb');
    const old = await Store.open(db, { create: true, migrate: false });
    try {
      await old.applyMigrations(MIGRATIONS.filter((m) => m.version <= 2));
      await old.run(`ATTACH '${source.db}' AS src (READ_ONLY)`);
      await old.run('INSERT INTO runs SELECT * EXCLUDE (fallback_code, contracts, model, purchase_model, model_choice, covariates) FROM src.runs');
      // Version 2 stored the four vocabularies as VARCHAR.
      const v2Value = (c: string) => (['churn_tier', 'churn_method', 'value_basis', 'abc_class'].includes(c) ? `CAST(${c} AS VARCHAR) AS ${c}` : v2Revenue(c));
      await old.run(`INSERT INTO customer_metrics SELECT ${V2_COLUMNS.map(v2Value).join(', ')} FROM src.customer_metrics`);
      await old.run('DETACH src');
      expect(await old.schemaVersion()).toBe(2);
    } finally {
      old.close();
    }

    const migrated = await Store.open(db); // applies migrations 3 to 6
    try {
      expect(await migrated.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      const after = await migrated.all(`SELECT ${V2_COLUMNS.join(', ')} FROM customer_metrics ORDER BY run_id, customer_id`);
      expect(after).toEqual(before);
      // The generated columns, by hand (run 1 as of 2024-02-29 in weeks, run 2 as of 2024-03-31
      // in days; both fall back to recency risk with 2–3 customers). Run 2's A is a key account
      // whose risk rose from 0 (most recent buyer in run 1) to 0.5: at risk. B is high risk in
      // both runs, but a key account only in run 1 (class A: 140 of 180 precede it, < 0.8).
      const derived = await migrated.all(
        `SELECT run_id, customer_id, recency_days, tenure_days, avg_order_value, bgnbd_x, bgnbd_t_x, bgnbd_T, is_key_account,
                revenue_trend, key_account_at_risk, CAST(cohort_month AS VARCHAR) AS cohort_month, churn_reason
         FROM customer_metrics ORDER BY run_id, customer_id`,
      );
      const row = (run_id: number, customer_id: string, recency: number, tenure: number, aov: number, x: number, tx: number, T: number, key: boolean, atRisk: boolean, cohort: string, reason: string) => ({
        run_id, customer_id, recency_days: recency, tenure_days: tenure, avg_order_value: aov, bgnbd_x: x, bgnbd_t_x: tx, bgnbd_T: T,
        is_key_account: key, revenue_trend: null, key_account_at_risk: atRisk, cohort_month: cohort, churn_reason: reason,
      });
      expect(derived).toEqual([
        row(1, 'A', 19, 50, 80, 1, 31 / 7, 50 / 7, true, false, '2024-01-01', 'last purchase 19 days ago; usually buys every 31 days'),
        row(1, 'B', 40, 40, 40, 0, 0, 40 / 7, true, true, '2024-01-01', 'bought once, 40 days ago'),
        row(2, 'A', 50, 81, 80, 1, 31, 81, true, true, '2024-01-01', 'no purchase in 50 days; usually buys every 31 days'),
        row(2, 'B', 71, 71, 40, 0, 0, 71, false, false, '2024-01-01', 'bought once, 71 days ago'),
        row(2, 'C', 0, 26, 25, 1, 26, 26, true, false, '2024-03-01', 'last purchase today; usually buys every 26 days'),
      ]);
      const types = Object.fromEntries(
        (await migrated.all<{ column_name: string; data_type: string }>(
          "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'customer_metrics'",
        )).map((c) => [c.column_name, c.data_type]),
      );
      // churn_method as migrations 12 and 23 widened it (the models crm run --model can name).
      expect([types.churn_tier, types.churn_method, types.value_basis, types.abc_class]).toEqual([
        "ENUM('low', 'medium', 'high')",
        "ENUM('bgnbd', 'recency', 'pareto_nbd', 'mbgnbd', 'bgbb')",
        "ENUM('clv', 'net_revenue')",
        "ENUM('A', 'B', 'C')",
      ]);
      const perRun = await migrated.all(`SELECT run_id, min(CAST(as_of AS VARCHAR)) AS as_of, min(time_unit_days) AS unit FROM customer_metrics GROUP BY run_id ORDER BY run_id`);
      expect(perRun).toEqual([
        { run_id: 1, as_of: '2024-02-29', unit: 7 },
        { run_id: 2, as_of: '2024-03-31', unit: 1 },
      ]);
      // Migration 4: revenue_previous may be NULL (not enough history); runs of before have no fallback code.
      const nullable = await migrated.value<string>(
        "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'customer_metrics' AND column_name = 'revenue_previous'",
      );
      expect(nullable).toBe('YES');
      expect(await migrated.all('SELECT run_id, model_status, fallback_code FROM runs ORDER BY run_id')).toEqual([
        { run_id: 1, model_status: 'fallback', fallback_code: null },
        { run_id: 2, model_status: 'fallback', fallback_code: null },
      ]);
    } finally {
      migrated.close();
    }
  });
});

describe('a version-4 store', () => {
  it('migration 5 turns each at_risk_reason into its codes and keeps every worded reason', async () => {
    const dir = tempDir('crm-migration-5-');
    dirs.push(dir);
    const db = path.join(dir, 'v4.duckdb');
    const old = await Store.open(db, { create: true, migrate: false });
    // One customer per reason combination; the stored text was built from the same row values.
    const reasons: [string, string | null, number, number, number | null, number, number | null][] = [
      // id, at_risk_reason, churn_risk, revenue_current, revenue_previous, churn tier (0 low, 2 high), previous_churn_risk
      ['A', null, 0.1, 100, 100, 0, null],
      ['B', 'revenue down 40% on the previous period', 0.1, 60, 100, 0, null],
      ['C', 'churn risk up from 10% to 35%', 0.35, 100, 100, 0, 0.1],
      ['D', 'high churn risk (70%)', 0.7, 100, null, 2, null],
      ['E', 'revenue down 50% on the previous period; churn risk up from 20% to 80%; high churn risk (80%)', 0.8, 50, 100, 2, 0.2],
    ];
    try {
      await old.applyMigrations(MIGRATIONS.filter((m) => m.version <= 4));
      for (const [id, reason, risk, current, previous, tier, prevRisk] of reasons) {
        await old.run(
          `INSERT INTO customer_metrics (run_id, customer_id, first_purchase, last_purchase, frequency, purchase_days, monetary, gross_revenue,
             returns_value, return_lines, margin, r_score, f_score, m_score, rfm_segment, p_alive, churn_risk, p_no_purchase, churn_tier,
             churn_method, expected_purchases, expected_order_value, clv, value_tier, value_basis, net_revenue, revenue_rank, revenue_share,
             cumulative_share, abc_class, revenue_current, revenue_previous, previous_churn_risk, at_risk_reason, as_of, time_unit_days)
           VALUES (1, $id, DATE '2024-01-01', $last, 3, $days, 10, 10, 0, 0, NULL, 3, 3, 3, 'Loyal', 1 - $risk, $risk, NULL, $tier,
             'recency', NULL, 5, NULL, 'Gold', 'net_revenue', 10, 1, 0.1, 0.1, 'A', $current, $previous, $prev_risk, $reason, DATE '2024-03-31', 7)`,
          { id, last: { A: '2024-03-31', B: '2024-03-20' }[id] ?? '2024-02-01', days: id === 'D' ? 1 : 3, risk, tier: ['low', 'medium', 'high'][tier], current, previous, prev_risk: prevRisk, reason },
        );
      }
      expect(await old.schemaVersion()).toBe(4);
    } finally {
      old.close();
    }
    const migrated = await Store.open(db);
    try {
      expect(await migrated.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      const rows = await migrated.all(
        `SELECT customer_id, CAST(at_risk_codes AS VARCHAR[]) AS at_risk_codes, at_risk, at_risk_reason, key_account_at_risk,
                churn_reason_code, usual_gap_days, churn_reason
         FROM customer_metrics ORDER BY customer_id`,
      );
      expect(rows).toEqual([
        { customer_id: 'A', at_risk_codes: null, at_risk: false, at_risk_reason: null, key_account_at_risk: false,
          churn_reason_code: 'last_purchase_today', usual_gap_days: 45, churn_reason: 'last purchase today; usually buys every 45 days' },
        { customer_id: 'B', at_risk_codes: ['revenue_down'], at_risk: true, at_risk_reason: reasons[1][1], key_account_at_risk: true,
          churn_reason_code: 'within_usual_gap', usual_gap_days: 40, churn_reason: 'last purchase 11 days ago; usually buys every 40 days' },
        { customer_id: 'C', at_risk_codes: ['churn_risk_up'], at_risk: true, at_risk_reason: reasons[2][1], key_account_at_risk: true,
          churn_reason_code: 'overdue', usual_gap_days: 16, churn_reason: 'no purchase in 59 days; usually buys every 16 days' },
        { customer_id: 'D', at_risk_codes: ['churn_risk_high'], at_risk: true, at_risk_reason: reasons[3][1], key_account_at_risk: true,
          churn_reason_code: 'bought_once', usual_gap_days: null, churn_reason: 'bought once, 59 days ago' },
        { customer_id: 'E', at_risk_codes: ['revenue_down', 'churn_risk_up', 'churn_risk_high'], at_risk: true, at_risk_reason: reasons[4][1],
          key_account_at_risk: true, churn_reason_code: 'overdue', usual_gap_days: 16, churn_reason: 'no purchase in 59 days; usually buys every 16 days' },
      ]);
    } finally {
      migrated.close();
    }
  });
});

describe('a version-5 store with runs', () => {
  it('migration 6: customer_metrics becomes a view over metrics_customers with every column, type and value of before', async () => {
    // Runs scored by the current code (two as-of dates, two time units, the second compared with
    // the first), copied into a store built with migrations 1–5, stored columns only.
    const source = await scoredTwice('crm-migration-6-');
    const stored = (await source.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'metrics_customers' ORDER BY ordinal_position",
    )).map((c) => c.column_name).filter(beforeContracts);
    expect(stored).toHaveLength(36);

    const db = path.join(source.dir, 'v5.duckdb');
    const old = await Store.open(db, { create: true, migrate: false });
    const columnsOf = (s: Store) =>
      s.all("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'customer_metrics' ORDER BY ordinal_position");
    const everything = (s: Store, relation: string) => s.all(`SELECT * FROM ${relation} ORDER BY run_id, customer_id`);
    let before: { columns: unknown[]; rows: unknown[]; latest: unknown[] };
    try {
      await old.applyMigrations(MIGRATIONS.filter((m) => m.version <= 5));
      await old.run(`ATTACH '${source.db}' AS src (READ_ONLY)`);
      await old.run('INSERT INTO runs SELECT * EXCLUDE (contracts, model, purchase_model, model_choice, covariates) FROM src.runs');
      await old.run(`INSERT INTO customer_metrics BY NAME SELECT ${stored.join(', ')} FROM src.customer_metrics`);
      await old.run('DETACH src');
      expect(await old.schemaVersion()).toBe(5);
      before = { columns: await columnsOf(old), rows: await everything(old, 'customer_metrics'), latest: await everything(old, 'customer_latest') };
    } finally {
      old.close();
    }
    expect(before.rows).toHaveLength(5);
    expect(before.columns).toHaveLength(51);

    const migrated = await Store.open(db);
    try {
      expect(await migrated.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      // (Migration 8 appends the contract columns: NULL for these customers.)
      expect((await columnsOf(migrated)).slice(0, before.columns.length)).toEqual(widenedChurnMethod(before.columns as { column_name: string; data_type: string }[]));
      const v5Columns = (before.columns as { column_name: string }[]).map((c) => c.column_name).join(', ');
      expect(await migrated.all(`SELECT ${v5Columns} FROM customer_metrics ORDER BY run_id, customer_id`)).toEqual(before.rows);
      expect(await migrated.all(`SELECT ${v5Columns} FROM customer_latest ORDER BY run_id, customer_id`)).toEqual(before.latest);
      // The same rows as the source store, written by today's run.
      await migrated.run(`ATTACH '${source.db}' AS src (READ_ONLY)`);
      expect(await migrated.value(`SELECT count(*) FROM (SELECT ${BEFORE_INTERVALS} FROM customer_metrics EXCEPT ALL SELECT ${BEFORE_INTERVALS} FROM src.customer_metrics)`)).toBe(0);
      await migrated.run('DETACH src');
      const kinds = await migrated.all(
        `SELECT table_name AS name, 'table' AS kind FROM duckdb_tables() WHERE table_name IN ('customer_metrics', 'metrics_customers')
         UNION ALL SELECT view_name, 'view' FROM duckdb_views() WHERE view_name IN ('customer_metrics', 'customer_latest') ORDER BY name`,
      );
      expect(kinds).toEqual([
        { name: 'customer_latest', kind: 'view' },
        { name: 'customer_metrics', kind: 'view' },
        { name: 'metrics_customers', kind: 'table' },
      ]);
    } finally {
      migrated.close();
    }
  });
});

describe('a version-7 store with runs', () => {
  it('migration 8: purchase columns nullable, contract columns appended (NULL for existing rows); every column, type and value of before kept', async () => {
    // Runs scored by the current code, copied into a store built with migrations 1–7, stored columns of before only.
    const source = await scoredTwice('crm-migration-8-');
    const stored = (await source.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'metrics_customers' ORDER BY ordinal_position",
    )).map((c) => c.column_name);
    expect(stored.slice(-CONTRACT_COLUMNS.length - LATER_COLUMNS.length)).toEqual([...CONTRACT_COLUMNS, ...LATER_COLUMNS]);
    const v7Stored = stored.filter(beforeContracts);

    const db = path.join(source.dir, 'v7.duckdb');
    const old = await Store.open(db, { create: true, migrate: false });
    const columnsOf = (s: Store, table: string) =>
      s.all<{ column_name: string; data_type: string; is_nullable: string }>(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`,
      );
    let before: { view: { column_name: string; data_type: string }[]; table: { column_name: string; is_nullable: string }[]; rows: unknown[]; latest: unknown[] };
    try {
      await old.applyMigrations(MIGRATIONS.filter((m) => m.version <= 7));
      await old.run(`ATTACH '${source.db}' AS src (READ_ONLY)`);
      await old.run('INSERT INTO runs SELECT * EXCLUDE (model, purchase_model, model_choice, covariates) FROM src.runs');
      await old.run(`INSERT INTO metrics_customers SELECT ${v7Stored.join(', ')} FROM src.metrics_customers`);
      await old.run('DETACH src');
      expect(await old.schemaVersion()).toBe(7);
      before = {
        view: await columnsOf(old, 'customer_metrics'),
        table: await columnsOf(old, 'metrics_customers'),
        rows: await old.all('SELECT * FROM customer_metrics ORDER BY run_id, customer_id'),
        latest: await old.all('SELECT * FROM customer_latest ORDER BY run_id, customer_id'),
      };
    } finally {
      old.close();
    }
    expect(before.rows).toHaveLength(5);
    expect(before.view).toHaveLength(51);

    const migrated = await Store.open(db);
    try {
      expect(await migrated.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      const view = await columnsOf(migrated, 'customer_metrics');
      // Existing columns keep their order, names and types; the contract columns come last.
      expect(view.slice(0, 51).map((c) => [c.column_name, c.data_type])).toEqual(widenedChurnMethod(before.view).map((c) => [c.column_name, c.data_type]));
      expect(view.slice(51, 58).map((c) => [c.column_name, c.data_type])).toEqual([
        ['contracts_in_force', 'INTEGER'], ['contract_premium', 'DOUBLE'], ['contract_period_unit', 'VARCHAR'], ['annual_premium', 'DOUBLE'],
        ['renewal_probability', 'DOUBLE'], ['contract_residual_value', 'DOUBLE'], ['next_renewal_due', 'DATE'],
      ]);
      // Migration 18 appends the intervals: NULL for runs written before it.
      expect(view.slice(58).map((c) => [c.column_name, c.data_type])).toEqual([...INTERVAL_COLUMNS.map((c) => [c, 'DOUBLE']), ['churn_basis', 'VARCHAR']]);
      expect(await migrated.value(`SELECT count(*) FROM customer_latest WHERE ${LATER_COLUMNS.map((c) => `${c} IS NOT NULL`).join(' OR ')}`)).toBe(0);
      const v7Columns = before.view.map((c) => c.column_name).join(', ');
      expect(await migrated.all(`SELECT ${v7Columns} FROM customer_metrics ORDER BY run_id, customer_id`)).toEqual(before.rows);
      expect(await migrated.all(`SELECT ${v7Columns} FROM customer_latest ORDER BY run_id, customer_id`)).toEqual(before.latest);
      expect(await migrated.value(`SELECT count(*) FROM customer_metrics WHERE ${CONTRACT_COLUMNS.map((c) => `${c} IS NOT NULL`).join(' OR ')}`)).toBe(0);
      // The same rows as the source store, written by today's run.
      await migrated.run(`ATTACH '${source.db}' AS src (READ_ONLY)`);
      expect(await migrated.value(`SELECT count(*) FROM (SELECT ${BEFORE_INTERVALS} FROM customer_metrics EXCEPT ALL SELECT ${BEFORE_INTERVALS} FROM src.customer_metrics)`)).toBe(0);
      await migrated.run('DETACH src');

      // NOT NULL kept only where every customer has a value: ids, run constants and the value tier.
      const table = await columnsOf(migrated, 'metrics_customers');
      const required = table.filter((c) => c.is_nullable === 'NO').map((c) => c.column_name);
      expect(required).toEqual(['run_id', 'customer_id', 'value_tier', 'value_basis', 'as_of', 'time_unit_days']);
      const relaxed = before.table.filter((c) => c.is_nullable === 'NO' && !required.includes(c.column_name)).map((c) => c.column_name);
      expect(relaxed).toEqual([
        'first_purchase', 'last_purchase', 'frequency', 'purchase_days', 'monetary', 'gross_revenue', 'returns_value', 'return_lines',
        'r_score', 'f_score', 'm_score', 'rfm_segment', 'p_alive', 'churn_risk', 'churn_tier', 'churn_method',
        'net_revenue', 'revenue_share', 'abc_class', 'revenue_current',
      ]);
      // A customer with contracts only now fits, and the view words no churn reason for them.
      await migrated.run(`INSERT INTO metrics_customers (run_id, customer_id, value_tier, value_basis, as_of, time_unit_days, contracts_in_force, contract_residual_value)
                          VALUES (2, 'K', 'Bronze', 'net_revenue', DATE '2024-03-31', 1, 1, 250)`);
      expect(await migrated.one(`SELECT customer_id, recency_days, churn_reason_code, churn_reason, is_key_account, at_risk, contracts_in_force, contract_residual_value
                                 FROM customer_latest WHERE customer_id = 'K'`)).toEqual({
        customer_id: 'K', recency_days: null, churn_reason_code: null, churn_reason: null, is_key_account: null, at_risk: false, contracts_in_force: 1, contract_residual_value: 250,
      });
    } finally {
      migrated.close();
    }
  });
});

describe('migration 9: account owners', () => {
  it('a version-8 store keeps its customers (every column and value); team and owner_email are appended; customer_owners gives their owners', async () => {
    const dir = tempDir('crm-migration-9-');
    dirs.push(dir);
    const db = path.join(dir, 'v8.duckdb');
    const old = await Store.open(db, { create: true, migrate: false });
    let before: unknown[];
    try {
      await old.applyMigrations(MIGRATIONS.filter((m) => m.version <= 8));
      await old.run(`INSERT INTO customers (customer_id, name, account_owner, load_id, source_file, source_row) VALUES
        ('A', 'Ann Co', 'Li Na', 1, 'c.csv', 2), ('B', 'Bo Ltd', NULL, 1, 'c.csv', 3)`);
      before = await old.all('SELECT * FROM customers ORDER BY customer_id');
      expect(await old.schemaVersion()).toBe(8);
    } finally {
      old.close();
    }
    const migrated = await Store.open(db);
    try {
      expect(await migrated.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      const after = await migrated.all<Record<string, unknown>>('SELECT * FROM customers ORDER BY customer_id');
      // Migration 14 appends the file_* columns after them (tested below).
      const appended14 = ({ file_account_owner: _o, file_team: _ft, file_owner_email: _fe, ...rest }: Record<string, unknown>) => rest;
      expect(after.map((r) => appended14(r)).map(({ team: _t, owner_email: _e, ...rest }) => rest)).toEqual(before);
      expect(Object.keys(appended14(after[0])).slice(-2)).toEqual(['team', 'owner_email']);
      expect(after.every((r) => r.team === null && r.owner_email === null)).toBe(true);
      expect(await migrated.all('SELECT customer_id, account_owner, source_kind FROM customer_owners')).toEqual([{ customer_id: 'A', account_owner: 'Li Na', source_kind: 'customers' }]);
      expect(await migrated.value('SELECT count(*) FROM owners')).toBe(0);
    } finally {
      migrated.close();
    }
  });
});

describe('migration 14: the owner in effect in customers', () => {
  it('a version-12 store keeps its owners: customer_owners unchanged, customers.account_owner, team, owner_email become the owner in effect, file_* keep what the customers file said', async () => {
    const dir = tempDir('crm-migration-14-');
    dirs.push(dir);
    const db = path.join(dir, 'v12.duckdb');
    const old = await Store.open(db, { create: true, migrate: false });
    let ownersBefore: unknown[];
    let before: Record<string, unknown>[];
    try {
      await old.applyMigrations(MIGRATIONS.filter((m) => m.version <= 12));
      // A: the customers file's owner, overridden by a later owners file; B: no owner in the
      // customers file, one from the owners file; C: the customers file's owner, loaded after the
      // owners file; D: nobody, but a team in the customers file.
      await old.run(`INSERT INTO customers (customer_id, name, account_owner, team, owner_email, load_id, source_file, source_row) VALUES
        ('A', 'Ann Co', 'Li Na', 'East', 'li@corp.example', 1, 'c.csv', 2),
        ('B', 'Bo Ltd', NULL, NULL, NULL, 1, 'c.csv', 3),
        ('C', 'Cy Inc', 'Wang Fang', NULL, NULL, 3, 'c2.csv', 2),
        ('D', 'Di AG', NULL, 'West', NULL, 1, 'c.csv', 4)`);
      await old.run(`INSERT INTO owners (customer_id, account_owner, team, owner_email, load_id, source_file, source_row) VALUES
        ('A', 'Zhou Min', 'North', 'zm@corp.example', 2, 'o.csv', 2),
        ('B', 'Zhou Min', 'North', NULL, 2, 'o.csv', 3),
        ('C', 'Zhou Min', 'North', NULL, 2, 'o.csv', 4)`);
      ownersBefore = await old.all('SELECT * FROM customer_owners ORDER BY customer_id');
      before = await old.all('SELECT * FROM customers ORDER BY customer_id');
      expect(await old.schemaVersion()).toBe(12);
    } finally {
      old.close();
    }
    const migrated = await Store.open(db);
    try {
      expect(await migrated.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      expect(await migrated.all('SELECT * FROM customer_owners ORDER BY customer_id')).toEqual(ownersBefore);
      const after = await migrated.all<Record<string, unknown>>('SELECT * FROM customers ORDER BY customer_id');
      expect(after.map((r) => [r.customer_id, r.account_owner, r.team, r.owner_email])).toEqual([
        ['A', 'Zhou Min', 'North', 'zm@corp.example'],
        ['B', 'Zhou Min', 'North', null],
        ['C', 'Wang Fang', null, null],
        ['D', null, null, null],
      ]);
      expect(after.map((r) => [r.file_account_owner, r.file_team, r.file_owner_email])).toEqual(before.map((r) => [r.account_owner, r.team, r.owner_email]));
      const untouched = ({ account_owner: _o, team: _t, owner_email: _e, file_account_owner: _fo, file_team: _ft, file_owner_email: _fe, ...rest }: Record<string, unknown>) => rest;
      expect(after.map(untouched)).toEqual(before.map(untouched));
    } finally {
      migrated.close();
    }
  });
});

describe('migration 13: contract_metrics a view', () => {
  it('a version-12 store keeps its contract rows (every column, type and value) in contract_metrics and contract_latest; contract_metrics_stored starts empty', async () => {
    const store = await Store.open(':memory:', { create: true, migrate: false });
    try {
      await store.applyMigrations(MIGRATIONS.filter((m) => m.version <= 12));
      await store.run(`INSERT INTO runs (run_id, created_at, as_of, time_unit, horizon_months, params, input, customers, model_status, summary, timings, tool_version) VALUES
        (1, TIMESTAMP '2025-07-01 00:00:00', DATE '2025-06-30', 'week', 12, '{}', '{}', 0, 'fitted', '{}', '{}', 'test'),
        (2, TIMESTAMP '2025-08-01 00:00:00', DATE '2025-07-31', 'week', 12, '{}', '{}', 0, 'fitted', '{}', '{}', 'test')`);
      await store.run(`INSERT INTO contract_metrics VALUES
        (1, 'K-1', 'c-1', 'motor', 'online', 'north', 'year', DATE '2024-01-01', DATE '2025-01-01', DATE '2025-12-31', 2, 1, 110, 210, 'active', DATE '2025-12-31',
         0.8, 3.5, 385, 99.5, 77, 'motor', 'sbg', DATE '2025-06-30'),
        (2, 'K-1', 'c-1', 'motor', 'online', 'north', 'year', DATE '2024-01-01', DATE '2025-01-01', DATE '2025-12-31', 2, 1, 110, 210, 'active', DATE '2025-12-31',
         0.81, 3.6, 396, 100.5, 75.24, NULL, 'geometric', DATE '2025-07-31'),
        (2, 'K-2', 'c-2', NULL, NULL, NULL, 'irregular', DATE '2023-02-01', DATE '2023-02-01', DATE '2023-05-10', 1, 0, 40, 40, 'lapsed', NULL,
         NULL, 0, 0, 0, 0, NULL, NULL, DATE '2025-07-31')`);
      const columnsOf = (relation: string) =>
        store.all(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${relation}' ORDER BY ordinal_position`);
      const everything = (relation: string) => store.all(`SELECT * FROM ${relation} ORDER BY run_id, contract_id`);
      const before = { columns: await columnsOf('contract_metrics'), rows: await everything('contract_metrics'), latest: await everything('contract_latest') };
      expect(before.latest).toHaveLength(2);

      await store.applyMigrations(MIGRATIONS.filter((m) => m.version === 13));
      expect(await store.schemaVersion()).toBe(13);
      expect(await store.value("SELECT table_type FROM information_schema.tables WHERE table_name = 'contract_metrics'")).toBe('VIEW');
      expect(await columnsOf('contract_metrics')).toEqual(before.columns);
      expect(await columnsOf('contract_latest')).toEqual(before.columns);
      expect(await everything('contract_metrics')).toEqual(before.rows);
      expect(await everything('contract_latest')).toEqual(before.latest);
      expect(await store.value('SELECT count(*) FROM contract_metrics_stored')).toBe(0);
    } finally {
      store.close();
    }
  });
});

describe('migration 28: transactions a view over transactions_narrow and transactions_wide', () => {
  it('a version-24 store keeps every transaction (every column, type and value) under the view; new narrow rows read as NULL in the columns narrow leaves out', async () => {
    const store = await Store.open(':memory:', { create: true, migrate: false });
    try {
      await store.applyMigrations(MIGRATIONS.filter((m) => m.version < 28));
      await store.run(`INSERT INTO transactions VALUES
        (1, 'book.xlsx', 'Sheet 1', 2, 'A', 'O1', DATE '2024-01-10', TIMESTAMP '2024-01-10 09:30:00', 2, 5.5, 11, 4, 'P1', 'toys', 'web', 'north', false, '{"note":"x"}'),
        (1, 'book.xlsx', 'Sheet 1', 3, 'A', 'C2', DATE '2024-02-12', TIMESTAMP '2024-02-12 00:00:00', -1, 5.5, -5.5, NULL, 'P1', NULL, NULL, NULL, true, NULL),
        (2, 'plain.csv', NULL, 2, 'B', NULL, DATE '2024-03-01', TIMESTAMP '2024-03-01 00:00:00', NULL, NULL, 40.25, NULL, NULL, NULL, NULL, NULL, false, NULL)`);
      const columnsOf = (relation: string) =>
        store.all(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${relation}' ORDER BY ordinal_position`);
      const everything = () => store.all('SELECT * FROM transactions ORDER BY load_id, source_row');
      const before = { columns: await columnsOf('transactions'), rows: await everything() };
      expect(before.columns).toHaveLength(18);

      await store.applyMigrations(MIGRATIONS.filter((m) => m.version >= 28));
      expect(await store.value("SELECT table_type FROM information_schema.tables WHERE table_name = 'transactions'")).toBe('VIEW');
      expect(await columnsOf('transactions')).toEqual(before.columns);
      expect(await everything()).toEqual(before.rows);
      expect(await store.value('SELECT count(*) FROM transactions_wide')).toBe(3);

      // A load with only the core columns, as ingest writes it: the view fills the rest with NULL, typed as before.
      await store.run(`INSERT INTO transactions_narrow VALUES (3, 'four.csv', 2, 'C', 'O9', DATE '2024-04-01', TIMESTAMP '2024-04-01 00:00:00', 12.5, false)`);
      expect(await store.all('SELECT * FROM transactions WHERE load_id = 3')).toEqual([
        {
          load_id: 3, source_file: 'four.csv', source_sheet: null, source_row: 2, customer_id: 'C', order_id: 'O9', order_date: '2024-04-01',
          order_ts: '2024-04-01 00:00:00', quantity: null, unit_price: null, amount: 12.5, cost: null, product: null, category: null,
          channel: null, region: null, is_return: false, attributes: null,
        },
      ]);
      expect(await columnsOf('transactions')).toEqual(before.columns);
      expect(await store.value('SELECT CAST(sum(amount) AS VARCHAR) FROM transactions')).toBe('58.2500');
    } finally {
      store.close();
    }
  });
});

describe('migration 31: transactions_narrow rebuilt with its string compressions named', () => {
  it('keeps every narrow row (columns, types, values, order); ids are stored with FSST and source_file with a dictionary', async () => {
    const dir = tempDir('crm-migration-31-');
    dirs.push(dir);
    // A file store: an in-memory one does not compress.
    const store = await Store.open(path.join(dir, 'v28.duckdb'), { create: true, migrate: false });
    try {
      await store.applyMigrations(MIGRATIONS.filter((m) => m.version < 31));
      // Few distinct ids, which DuckDB would store with a dictionary if it chose (it does before
      // migration 31); two loads' source files; 30,000 lines.
      await store.run(`INSERT INTO transactions_narrow
        SELECT 1 + (i >= 20000)::INTEGER, CASE WHEN i < 20000 THEN 'orders-2024.csv' ELSE 'orders-2025.csv' END, i + 2,
               'C' || lpad((i % 50)::VARCHAR, 7, '0'), CASE WHEN i % 13 = 0 THEN NULL ELSE 'O' || lpad((i % 300)::VARCHAR, 8, '0') END,
               DATE '2024-01-01' + (i // 100)::INTEGER, TIMESTAMP '2024-01-01 08:00:00' + to_seconds(i * 60), (i % 997) / 4.0 - 5, i % 997 < 20
        FROM range(30000) r(i)`);
      const columnsOf = (relation: string) =>
        store.all(`SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = '${relation}' ORDER BY ordinal_position`);
      const everything = () => store.all('SELECT *, rowid AS position FROM transactions_narrow');
      const before = { narrow: await columnsOf('transactions_narrow'), view: await columnsOf('transactions'), rows: await everything() };
      expect(before.rows).toHaveLength(30000);
      const stringCompressions = async () => {
        await store.run('CHECKPOINT');
        return store.all<{ column_name: string; compression: string }>(
          `SELECT DISTINCT column_name, compression FROM pragma_storage_info('transactions_narrow')
           WHERE segment_type = 'VARCHAR' ORDER BY column_name, compression`,
        );
      };
      expect(await stringCompressions()).toEqual([
        { column_name: 'customer_id', compression: 'Dictionary' },
        { column_name: 'order_id', compression: 'Dictionary' },
        { column_name: 'source_file', compression: 'Dictionary' },
      ]);

      await store.applyMigrations(MIGRATIONS.filter((m) => m.version >= 31));
      expect(await columnsOf('transactions_narrow')).toEqual(before.narrow);
      expect(await columnsOf('transactions')).toEqual(before.view);
      expect(await everything()).toEqual(before.rows);
      expect(await store.value(`SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'transactions_narrow%'`)).toBe(1);

      expect(await stringCompressions()).toEqual([
        { column_name: 'customer_id', compression: 'FSST' },
        { column_name: 'order_id', compression: 'FSST' },
        { column_name: 'source_file', compression: 'Dictionary' },
      ]);
    } finally {
      store.close();
    }
  });
});

describe('migration 33: contracts rebuilt with its string compressions named', () => {
  it('keeps every contract row (columns, types, values, order); ids are stored with FSST, the words with a dictionary', async () => {
    const dir = tempDir('crm-migration-33-');
    dirs.push(dir);
    // A file store: an in-memory one does not compress.
    const store = await Store.open(path.join(dir, 'v31.duckdb'), { create: true, migrate: false });
    try {
      await store.applyMigrations(MIGRATIONS.filter((m) => m.version < 33));
      // Few distinct ids, which DuckDB would store with a dictionary if it chose (it does before
      // migration 33); two loads, one from a sheet; NULLs where the columns allow them; 30,000 periods.
      await store.run(`INSERT INTO contracts
        SELECT 1 + (i >= 20000)::INTEGER, CASE WHEN i < 20000 THEN 'policies-2024.csv' ELSE 'policies-2025.xlsx' END,
               CASE WHEN i >= 20000 THEN 'Book 1' END, i + 2,
               'C' || lpad((i % 40)::VARCHAR, 7, '0'), 'P' || lpad((i % 90)::VARCHAR, 8, '0'),
               DATE '2023-01-01' + (i // 100)::INTEGER, DATE '2023-12-31' + (i // 100)::INTEGER, (i % 997) / 4.0 + 10,
               CASE WHEN i % 11 = 0 THEN NULL ELSE ['motor', 'home', 'travel'][1 + i % 3] END, ['online', 'broker'][1 + i % 2],
               CASE WHEN i % 7 = 0 THEN NULL ELSE 'UK & Ireland' END, ['active', 'lapsed', 'cancelled', NULL][1 + i % 4],
               CASE WHEN i % 4 = 2 THEN DATE '2024-06-30' END, CASE WHEN i % 5 = 0 THEN json_object('agent', 'A' || (i % 9)) END
        FROM range(30000) r(i)`);
      const columns = () =>
        store.all(`SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'contracts' ORDER BY ordinal_position`);
      const everything = () => store.all('SELECT *, rowid AS position FROM contracts');
      const before = { columns: await columns(), rows: await everything() };
      expect(before.rows).toHaveLength(30000);
      const stringCompressions = async () => {
        await store.run('CHECKPOINT');
        return store.all<{ column_name: string; compression: string }>(
          `SELECT DISTINCT column_name, compression FROM pragma_storage_info('contracts')
           WHERE segment_type = 'VARCHAR' AND column_name IN ('customer_id', 'contract_id') ORDER BY column_name, compression`,
        );
      };
      expect(await stringCompressions()).toEqual([
        { column_name: 'contract_id', compression: 'Dictionary' },
        { column_name: 'customer_id', compression: 'Dictionary' },
      ]);

      await store.applyMigrations(MIGRATIONS.filter((m) => m.version >= 33));
      expect(await columns()).toEqual(before.columns);
      expect(await everything()).toEqual(before.rows);
      expect(await store.value(`SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'contracts%'`)).toBe(1);
      expect(await stringCompressions()).toEqual([
        { column_name: 'contract_id', compression: 'FSST' },
        { column_name: 'customer_id', compression: 'FSST' },
      ]);
      // The words keep their dictionary (DuckDB's own choice for them too).
      expect(
        await store.all(
          `SELECT DISTINCT column_name, compression FROM pragma_storage_info('contracts')
           WHERE segment_type = 'VARCHAR' AND column_name IN ('source_file', 'plan', 'channel', 'region', 'status') ORDER BY column_name, compression`,
        ),
      ).toEqual(['channel', 'plan', 'region', 'source_file', 'status'].map((column_name) => ({ column_name, compression: 'Dictionary' })));
    } finally {
      store.close();
    }
  });
});

describe('a new store', () => {
  it('is built in one transaction with the same tables, views, columns and versions as one migrated step by step', async () => {
    const dir = tempDir('crm-migration-new-');
    dirs.push(dir);
    const describeStore = async (store: Store) => ({
      versions: (await store.all<{ version: number }>('SELECT version FROM schema_version ORDER BY version')).map((r) => r.version),
      columns: await store.all(
        `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
         WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`,
      ),
      objects: await store.all(`SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name`),
    });
    const fresh = await Store.open(path.join(dir, 'new.duckdb'), { create: true });
    const stepwise = await Store.open(path.join(dir, 'steps.duckdb'), { create: true, migrate: false });
    try {
      await stepwise.applyMigrations(MIGRATIONS);
      const a = await describeStore(fresh);
      expect(a.versions).toEqual(MIGRATIONS.map((m) => m.version));
      expect(a).toEqual(await describeStore(stepwise));
    } finally {
      fresh.close();
      stepwise.close();
    }
  });
});
