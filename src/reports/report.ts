/**
 * `crm report`: the built-in executive report. It is an ordinary notebook,
 * notebooks/report.md, rendered for one run: before its SQL cells run, the notebook's
 * connection gets temporary views of that run (`report_run`, `report_customers`, …; see
 * REPORT_VIEWS and docs/report.md), so every cell reads the chosen run and nothing else.
 * `crm notebook render FILE --run ID` creates the same views, so a copy of the notebook
 * works the same way.
 */
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { Store } from '../store/db.js';
import { inputError, storeError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import { PACKAGE_ROOT } from '../version.js';
import { DEFAULT_LANG, type Lang } from './i18n.js';
import { renderNotebook, type QueryRun, type RenderPhases } from './notebook.js';
import { checkOwner, ownerBookCondition, ownerSlug } from './owner-filter.js';
import { DAYS_UNTIL_DUE_SQL, UP_FOR_RENEWAL_SQL } from './renewals.js';
import { literal, sqlNumber } from '../store/sql.js';
import type { ForecastBand } from '../run/forecast.js';
import { tierValueSql } from '../models/relations/customer-metrics.js';
import { MODEL_KEYS, PURCHASE_MODEL_KEYS, PURCHASE_MODEL_NAMES, PURCHASE_MODEL_PARAMETERS, type ModelKey } from '../models/purchase-models.js';

/** The built-in report notebook. */
export const REPORT_NOTEBOOK = path.join(PACKAGE_ROOT, 'notebooks/report.md');

/**
 * The HTML file per language: `report.html`, `report.zh.html` (both can share one folder); an
 * owner's report `report-<slug>.html` (owner-filter.ts `ownerSlug`: readable in any script).
 */
export function reportFileName(lang: Lang, owner?: string): string {
  const base = owner === undefined ? 'report' : `report-${ownerSlug(owner)}`;
  return lang === DEFAULT_LANG ? `${base}.html` : `${base}.${lang}.html`;
}

/**
 * The temporary views a report notebook reads, all of one run. None holds e-mail addresses
 * or phone numbers: `report_profiles` leaves those columns out. Names are free text, so the
 * macro `report_mask(text)` hides anything in them that looks like either; the built-in report
 * applies it to every name it shows (after picking its top-N rows: a regular expression over
 * millions of names would cost more than the rest of the report).
 */
export const REPORT_VIEWS = {
  report_run:
    'the run: one row of `runs` plus fitted, has_backtest, period_days (the trend window), is_latest, owner_name and owner_scope (crm report --owner: the views hold that owner\'s book); ' +
    'the purchase model used: model_key (bgnbd, pareto_nbd, mbgnbd, bgbb; NULL when the run fell back), model_name, model_fit (its JSON: runs.bgnbd or runs.purchase_model), model_parameters (one line); ' +
    'crm run --model auto: has_model_choice, choice_on_holdout (else by BIC), choice_score (the chosen model\'s holdout MAE or BIC), choice_others (the other models\' scores, "0.225 (BG/NBD), …"); ' +
    'crm run --covariates: has_covariates, covariate_names, covariates_used (else the model without them scored the customers), has_covariate_test, covariate_lr_statistic, covariate_lr_df, covariate_lr_p (the likelihood-ratio test against the model without them); ' +
    'purchase_customers (customers with a purchase: the base of every purchase share) and contract_only_customers (customers with contracts only), of the book for an owner',
  report_customers: '`customer_metrics` of the run: one row per customer with a purchase (the purchase figures; customers with contracts only are in `customer_metrics`)',
  report_all_customers:
    '`customer_metrics` of the run: every customer scored, with a purchase or with contracts only (the base the value tiers are cut on), plus tier_value (the value the tiers rank: lifetime value, or net revenue without the models, plus the contracts\' residual value)',
  report_cohorts: '`cohort_retention` of the run',
  report_migration: '`segment_migration` of the run (from the previous run)',
  report_profiles: '`customers` without e-mail and phone: customer_id, name, region, industry, account_owner (the owner in effect, customer_owners), signup_date, load_id',
  report_loads: '`loads` the run read',
  report_rejects: '`rejects` of those loads, without the raw row and detail text',
  report_contracts: '`contract_metrics` of the run: one row per contract scored (empty when the run had no contracts)',
  report_renewals_due: 'the contracts of the run up for renewal (active or in grace), with days_until_due (negative: in grace, due now)',
  report_contract_retention: '`contract_retention` of the run: observed and fitted survival per plan (plan NULL: the whole book) and period',
  report_forecast:
    "the next 12 months of the run's customers (of the book, for an owner), one row per month (crm forecast's): month, month_end, expected_purchases, value (discounted) with their _low and _high bounds, level (the interval's, NULL without intervals), and the 12 months' totals (total_purchases, total_value with their _low and _high); empty when the run fell back, used covariates or the BG/BB in years",
} as const;

/** Months the report projects (crm forecast's computation, whatever the run's horizon). */
const REPORT_FORECAST_MONTHS = 12;

/** One month of the report's projection (report_forecast). */
export interface ReportForecastRow extends ForecastBand {
  month: number;
  month_end: string;
}

/** The report's projection: crm forecast by month over 12 months, of all customers or an owner's book (none for a fallback run). */
export async function reportForecast(store: Store, run: RunRef, owner?: string): Promise<{ rows: ReportForecastRow[]; total: Omit<ReportForecastRow, 'month' | 'month_end'> | null; level: number | null }> {
  if (run.model_status !== 'fitted') return { rows: [], total: null, level: null };
  // A covariate run's customers carry the covariate model, which crm forecast does not project;
  // a BG/BB run in years (crm run --model bgbb --time-unit year) forecasts whole years, not months.
  if (await store.value<boolean>(`SELECT coalesce(CAST(json_extract(covariates, '$.used') AS BOOLEAN), false) OR coalesce(model = 'bgbb' AND time_unit = 'year', false) FROM runs WHERE run_id = ${Number(run.run_id)}`)) {
    return { rows: [], total: null, level: null };
  }
  // The run's own projection (run_forecast, written by crm run since schema 18); an owner's book,
  // or a run from before, is computed here (crm forecast's computation).
  if (owner === undefined) {
    const stored = await store.all<ReportForecastRow & Record<string, unknown>>(
      `SELECT month, CAST(month_end AS VARCHAR) AS month_end, expected_purchases, expected_purchases_low, expected_purchases_high, value, value_low, value_high
       FROM run_forecast WHERE run_id = ${Number(run.run_id)} ORDER BY month NULLS LAST`,
    );
    if (stored.length > 0) {
      const level = await store.value<number>(`SELECT level FROM run_intervals WHERE run_id = ${Number(run.run_id)}`);
      const t = stored[stored.length - 1];
      const total = {
        expected_purchases: t.expected_purchases,
        expected_purchases_low: t.expected_purchases_low,
        expected_purchases_high: t.expected_purchases_high,
        value: t.value,
        value_low: t.value_low,
        value_high: t.value_high,
      };
      return { rows: stored.slice(0, -1), total, level: level ?? null };
    }
  }
  const { computeForecast } = await import('../run/forecast.js');
  const f = await computeForecast(store, {
    by: 'month',
    scope: { kind: 'all' },
    runId: run.run_id,
    months: REPORT_FORECAST_MONTHS,
    condition: owner === undefined ? undefined : ownerBookCondition(literal(owner)),
  });
  const rows = f.periods.map((p) => ({
    month: p.period,
    month_end: p.end,
    expected_purchases: p.expected_purchases,
    expected_purchases_low: p.expected_purchases_low,
    expected_purchases_high: p.expected_purchases_high,
    value: p.value,
    value_low: p.value_low,
    value_high: p.value_high,
  }));
  return { rows, total: f.total, level: f.level };
}

/** report_forecast on a notebook's connection, from the rows computed on the store (a dozen rows). */
function reportForecastSql(forecast: Awaited<ReturnType<typeof reportForecast>> | undefined): string[] {
  const columns = `month INTEGER, month_end DATE, expected_purchases DOUBLE, expected_purchases_low DOUBLE, expected_purchases_high DOUBLE,
     value DOUBLE, value_low DOUBLE, value_high DOUBLE, level DOUBLE,
     total_purchases DOUBLE, total_purchases_low DOUBLE, total_purchases_high DOUBLE, total_value DOUBLE, total_value_low DOUBLE, total_value_high DOUBLE`;
  const num = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? 'NULL' : sqlNumber(v));
  const rows = (forecast?.rows ?? []).map((r) => {
    const t = forecast!.total!;
    return `(${r.month}, DATE ${literal(r.month_end)}, ${[r.expected_purchases, r.expected_purchases_low, r.expected_purchases_high, r.value, r.value_low, r.value_high, forecast!.level, t.expected_purchases, t.expected_purchases_low, t.expected_purchases_high, t.value, t.value_low, t.value_high].map(num).join(', ')})`;
  });
  const create = `CREATE OR REPLACE TEMP TABLE report_forecast (${columns})`;
  return rows.length === 0 ? [create] : [create, `INSERT INTO report_forecast VALUES ${rows.join(', ')}`];
}

export interface RunRef {
  run_id: number;
  as_of: string;
  model_status: string;
  customers: number;
}

/** The run a report shows: `runId`, or the latest. No run yet is a store error (exit 4). */
export async function resolveReportRun(store: Store, runId?: number): Promise<RunRef> {
  const runs = (await store.value<number>('SELECT count(*) FROM runs')) ?? 0;
  if (runs === 0) {
    throw storeError('no model run yet: run `crm run` first', ['A report shows the results of a run: `crm run` scores every customer as of a date.']);
  }
  const run = await store.one<RunRef & Record<string, unknown>>(
    `SELECT run_id, CAST(as_of AS VARCHAR) AS as_of, model_status, customers FROM runs
     WHERE run_id = ${runId === undefined ? '(SELECT max(run_id) FROM runs)' : Number(runId)}`,
  );
  if (!run) {
    const ids = await store.all<{ run_id: number }>('SELECT run_id FROM runs ORDER BY run_id');
    throw inputError(`no run ${runId} in the store`, [`Runs: ${ids.map((r) => r.run_id).join(', ')}.`]);
  }
  return { run_id: run.run_id, as_of: run.as_of, model_status: run.model_status, customers: Number(run.customers) };
}

/**
 * The macro `report_mask(text)`: e-mail addresses and phone-like runs of digits (7 or more,
 * with separators) inside a text become `***`.
 */
const REPORT_MASK_MACRO = String.raw`CREATE OR REPLACE TEMP MACRO report_mask(x) AS
  regexp_replace(regexp_replace(CAST(x AS VARCHAR), '[^\s<>@]+@[^\s<>@]+', '***', 'g'), '\+?\d[\d\s().-]{5,}\d', '***', 'g')`;

/** How a parameter is written for people in a report (the Greek letters of the papers). */
const PARAMETER_SYMBOLS: Record<string, string> = { alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ' };

/**
 * The purchase model a run used, for the report_run view (from the run row `r` with its
 * `model_key`): its name (model_name), its fit (model_fit: runs.bgnbd for the BG/NBD, else
 * runs.purchase_model) and its parameters as one line (model_parameters: "r = 0.233, α = 14.408,
 * …", the parameters its fit has; rates and probabilities to 3 significant digits).
 */
function purchaseModelColumnsSql(): string {
  const fit = `CASE WHEN r.model_key = 'bgnbd' THEN r.bgnbd ELSE r.purchase_model END`;
  const cases = (value: (key: ModelKey) => string) =>
    `CASE r.model_key ${MODEL_KEYS.map((key) => `WHEN ${literal(key)} THEN ${value(key)}`).join(' ')} END`;
  // The BG/NBD at a homogeneous-rates boundary has one purchase rate for all (run/format.ts: bgnbdModelLine).
  const rate = `CASE WHEN contains(coalesce(r.bgnbd->>'$.boundary', ''), 'homogeneous_rates') THEN 'rate = ' || printf('%.4g', CAST(r.bgnbd->>'$.rate' AS DOUBLE)) END, `;
  const parameters = (key: ModelKey) =>
    `concat_ws(', ', ${key === 'bgnbd' ? rate : ''}${PURCHASE_MODEL_PARAMETERS[key]
      .map((name) => {
        const value = `CAST((${fit})->>${literal(`$.${name}`)} AS DOUBLE)`;
        const digits = name === 'p' || name === 'rate' ? `'%.3g'` : `'%.3f'`;
        return `CASE WHEN ${value} IS NOT NULL THEN ${literal(`${PARAMETER_SYMBOLS[name] ?? name} = `)} || printf(${digits}, ${value}) END`;
      })
      .join(', ')})`;
  return `${cases((key) => literal(PURCHASE_MODEL_NAMES[key]))} AS model_name,
            ${fit} AS model_fit,
            ${cases(parameters)} AS model_parameters`;
}

/**
 * crm run --model auto (models/model-choice.ts), for the methods text: has_model_choice,
 * choice_on_holdout (else BIC), choice_score (the chosen model's holdout MAE to 3 decimals or
 * BIC to 1) and choice_others ("0.225 (BG/NBD), 0.304 (MBG/NBD)": the other models with a score,
 * in the table's order). Names are the models' own, the same in every language.
 */
function modelChoiceColumnsSql(): string {
  const rows = `unnest(from_json(r.model_choice->'$.models', '[{"key": "VARCHAR", "bic": "DOUBLE", "holdout_mae": "DOUBLE", "chosen": "BOOLEAN", "excluded": "VARCHAR"}]'))`;
  const holdout = `(r.model_choice->>'$.basis' = 'holdout')`;
  const score = `CASE WHEN ${holdout} THEN printf('%.3f', m.holdout_mae) ELSE printf('%.1f', m.bic) END`;
  const name = `CASE m.key ${PURCHASE_MODEL_KEYS.map((key) => `WHEN ${literal(key)} THEN ${literal(PURCHASE_MODEL_NAMES[key])}`).join(' ')} END`;
  return `r.model_choice IS NOT NULL AS has_model_choice,
            coalesce(${holdout}, false) AS choice_on_holdout,
            (SELECT ${score} FROM (SELECT ${rows} AS m) WHERE m.chosen) AS choice_score,
            (SELECT string_agg(${score} || ' (' || ${name} || ')', ', ' ORDER BY i) FROM (SELECT ${rows} AS m, unnest(range(CAST(json_array_length(r.model_choice->'$.models') AS BIGINT))) AS i)
             WHERE NOT m.chosen AND m.excluded IS NULL) AS choice_others`;
}

/**
 * crm run --covariates (run/covariates.ts, runs.covariates), for the methods text: has_covariates,
 * covariate_names ("region, channel"), covariates_used (false: the fit with them did not
 * converge and the model without them scored the customers), and the likelihood-ratio test
 * against the model without them (covariate_lr_statistic, covariate_lr_df, covariate_lr_p as
 * crm run prints it: 3 decimals, or "1.2e-5" below 0.001; has_covariate_test false when a fit
 * failed and there is no test).
 */
function covariateColumnsSql(): string {
  const p = `CAST(r.covariates->>'$.lr_test.p_value' AS DOUBLE)`;
  return `coalesce(json_array_length(r.covariates->'$.names'), 0) > 0 AS has_covariates,
            array_to_string(from_json(r.covariates->'$.names', '["VARCHAR"]'), ', ') AS covariate_names,
            coalesce(CAST(r.covariates->>'$.used' AS BOOLEAN), false) AS covariates_used,
            ${p} IS NOT NULL AS has_covariate_test,
            CAST(r.covariates->>'$.lr_test.statistic' AS DOUBLE) AS covariate_lr_statistic,
            CAST(r.covariates->>'$.lr_test.df' AS INTEGER) AS covariate_lr_df,
            CASE WHEN ${p} >= 0.001 THEN printf('%.3f', ${p})
                 ELSE regexp_replace(printf('%.1e', ${p}), 'e([+-])0*([0-9])', 'e\\1\\2') END AS covariate_lr_p`;
}

/**
 * An owner's report (`crm report --owner NAME`) is the same notebook over the owner's book: the
 * views of customers, profiles and contracts (and so the renewals due) keep only the customers
 * whose owner in effect is NAME (customer_owners). Within the book the 80/20 ranks and shares are
 * the book's own (rank and share of the owner's revenue), so "the top 20%" and the Pareto curve
 * describe the book; which customers are key accounts stays the company's 80/20 rule (a key
 * account is key for the company, whoever owns it). What is computed once for all customers —
 * the cohorts and monthly revenue (cohort_retention), the segment migration, the contract
 * retention fits, the backtest and the data loads — cannot be split by owner and is shown
 * company-wide; the notebook labels those sections when `run.owner_scope` is true.
 */
export function bookCustomersSql(id: number, owner: string): string {
  const total = 'sum(CASE WHEN net_revenue > 0 THEN net_revenue ELSE 0 END)';
  return `SELECT * REPLACE (
       CASE WHEN net_revenue > 0 THEN CAST(rank() OVER by_revenue AS INTEGER) END AS revenue_rank,
       CASE WHEN net_revenue > 0 THEN net_revenue / nullif(${total} OVER (), 0) ELSE 0 END AS revenue_share,
       CASE WHEN net_revenue > 0 THEN ${total} OVER (by_revenue RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) / nullif(${total} OVER (), 0) END AS cumulative_share)
     FROM customer_metrics
     WHERE run_id = ${id} AND first_purchase IS NOT NULL AND ${ownerBookCondition(literal(owner))}
     WINDOW by_revenue AS (ORDER BY net_revenue DESC)`;
}

/**
 * Create the report views for run `runId` on a notebook's connection (temporary: the store is not
 * written); with `owner`, of that owner's book (see bookCustomersSql).
 */
export async function createReportViews(conn: DuckDBConnection, runId: number, owner?: string, forecast?: Awaited<ReturnType<typeof reportForecast>>): Promise<void> {
  const id = Number(runId);
  if (!Number.isInteger(id)) throw new Error(`createReportViews: bad run id ${runId}`);
  const inBook = owner === undefined ? 'TRUE' : ownerBookCondition(literal(owner));
  const statements = [
    // model_key: the purchase model used (runs.model); a fitted run from before migration 12 has
    // none recorded and used the BG/NBD; a fallback run used none (NULL). A temporary table, not a
    // view: it is one row, but its two customer counts scan customer_metrics, and the notebook's
    // cells read it a dozen times (the KPI cell alone three times).
    `CREATE OR REPLACE TEMP TABLE report_run AS
     WITH r AS (SELECT *, coalesce(model, CASE WHEN model_status = 'fitted' THEN 'bgnbd' END) AS model_key FROM runs WHERE run_id = ${id})
     SELECT r.*,
            ${purchaseModelColumnsSql()},
            ${modelChoiceColumnsSql()},
            ${covariateColumnsSql()},
            ${owner === undefined ? 'CAST(NULL AS VARCHAR)' : literal(owner)} AS owner_name,
            ${owner === undefined ? 'false' : 'true'} AS owner_scope,
            r.model_status = 'fitted' AS fitted,
            r.backtest IS NOT NULL AS has_backtest,
            CAST(CASE WHEN r.since IS NOT NULL THEN date_diff('day', r.since, r.as_of) + 1
                      ELSE CAST(r.params->>'$.key_accounts.trend_window_days' AS INTEGER) END AS INTEGER) AS period_days,
            r.run_id = (SELECT max(run_id) FROM runs) AS is_latest,
            -- The two kinds of customer a run scores (of the book, for an owner): the purchase
            -- figures and their shares are of the first; runs.customers counts both.
            (SELECT count(*) FROM customer_metrics m WHERE m.run_id = ${id} AND m.first_purchase IS NOT NULL AND ${inBook}) AS purchase_customers,
            (SELECT count(*) FROM customer_metrics m WHERE m.run_id = ${id} AND m.first_purchase IS NULL AND ${inBook}) AS contract_only_customers
     FROM r`,
    // The report's segments, churn, 80/20 and value shares are of the customers with purchases
    // (issue #10: customers with contracts only have NULL purchase columns and would skew every share).
    owner === undefined
      ? `CREATE OR REPLACE TEMP VIEW report_customers AS SELECT * FROM customer_metrics WHERE run_id = ${id} AND first_purchase IS NOT NULL`
      : `CREATE OR REPLACE TEMP VIEW report_customers AS ${bookCustomersSql(id, owner)}`,
    // Value tiers are cut over every customer the run scored, on tier_value (customer-metrics.ts).
    `CREATE OR REPLACE TEMP VIEW report_all_customers AS
     SELECT *, ${tierValueSql("value_basis = 'clv'")} AS tier_value FROM customer_metrics WHERE run_id = ${id} AND ${inBook}`,
    `CREATE OR REPLACE TEMP VIEW report_cohorts AS SELECT * FROM cohort_retention WHERE run_id = ${id}`,
    `CREATE OR REPLACE TEMP VIEW report_migration AS SELECT * FROM segment_migration WHERE run_id = ${id}`,
    // The owner shown is the one in effect (customer_owners: the latest customers or owners load naming one).
    `CREATE OR REPLACE TEMP VIEW report_profiles AS
     SELECT c.customer_id, c.name, c.region, c.industry, o.account_owner, c.signup_date, c.load_id
     FROM customers c LEFT JOIN customer_owners o USING (customer_id)
     WHERE ${owner === undefined ? 'TRUE' : `o.account_owner = ${literal(owner)}`}`,
    REPORT_MASK_MACRO,
    `CREATE OR REPLACE TEMP VIEW report_loads AS
     SELECT * FROM loads
     WHERE list_contains((SELECT CAST(json_extract(input, '$.loads') AS INTEGER[]) FROM runs WHERE run_id = ${id}), load_id)`,
    `CREATE OR REPLACE TEMP VIEW report_contracts AS SELECT * FROM contract_metrics WHERE run_id = ${id} AND ${inBook}`,
    `CREATE OR REPLACE TEMP VIEW report_renewals_due AS
     SELECT *, ${DAYS_UNTIL_DUE_SQL} AS days_until_due FROM report_contracts WHERE ${UP_FOR_RENEWAL_SQL}`,
    `CREATE OR REPLACE TEMP VIEW report_contract_retention AS SELECT * FROM contract_retention WHERE run_id = ${id}`,
    // The 12-month projection (run/forecast.ts), computed on the store before the notebook runs.
    ...reportForecastSql(forecast),
    `CREATE OR REPLACE TEMP VIEW report_rejects AS
     SELECT load_id, kind, source_file, source_sheet, source_row, reason, column_name FROM rejects
     WHERE load_id IN (SELECT load_id FROM report_loads)`,
  ];
  for (const sql of statements) await conn.run(sql);
}

/**
 * The `prepare` step for `crm notebook render`: the report views of run `runId`, or of the
 * latest run when the store has one (a notebook that does not read them is not bothered);
 * undefined when the store has no run and none was asked for.
 */
export async function reportViewsFor(store: Store, runId?: number): Promise<((conn: DuckDBConnection) => Promise<void>) | undefined> {
  if (runId === undefined && !(await store.value<number>('SELECT count(*) FROM runs'))) return undefined;
  const run = await resolveReportRun(store, runId);
  const forecast = await reportForecast(store, run);
  return (conn) => createReportViews(conn, run.run_id, undefined, forecast);
}

export interface ReportOptions {
  storePath: string;
  /** Output folder (created if missing). */
  outDir: string;
  lang?: Lang;
  /** The run to show; default the latest. */
  runId?: number;
  /** Another notebook than the built-in one (for a customised copy). */
  notebook?: string;
  reporter?: Reporter;
  /** The "generated" date (tests pin it). */
  now?: Date;
  /** One account owner's book (exact name; see createReportViews). */
  owner?: string;
}

export interface ReportResult {
  htmlFile: string;
  bytes: number;
  lang: Lang;
  run_id: number;
  as_of: string;
  model_status: string;
  /** Customers of the run the report summarises (its audit row counts them). */
  customers: number;
  charts: number;
  chartFiles: string[];
  queries: QueryRun[];
  /** Where the time went, in ms: `open` (the store and the run) and the render's phases (notebook.ts RenderPhases). */
  phases: { open: number } & RenderPhases;
  warnings: string[];
  ms: number;
}

/** Render the report for a run. */
export async function renderReport(opts: ReportOptions): Promise<ReportResult> {
  const started = performance.now();
  const lang = opts.lang ?? DEFAULT_LANG;
  const store = await Store.open(opts.storePath, { readOnly: true });
  try {
    const run = await resolveReportRun(store, opts.runId);
    if (opts.owner !== undefined) await checkOwner(store, opts.owner);
    const openMs = performance.now() - started;
    const forecast = await reportForecast(store, run, opts.owner);
    // An owner's report hands out that book only: its audit row counts the book, not the run.
    const customers =
      opts.owner === undefined
        ? run.customers
        : Number(
            (await store.value<number>(
              'SELECT count(*) FROM customer_metrics m JOIN customer_owners o USING (customer_id) WHERE m.run_id = $1 AND o.account_owner = $2',
              [run.run_id, opts.owner],
            )) ?? 0,
          );
    const result = await renderNotebook(opts.notebook ?? REPORT_NOTEBOOK, {
      store,
      outDir: opts.outDir,
      lang,
      htmlName: reportFileName(lang, opts.owner),
      reporter: opts.reporter,
      now: opts.now,
      prepare: (conn) => createReportViews(conn, run.run_id, opts.owner, forecast),
      // Closing the store (~0.1 s on the 2.5M-customer store: DuckDB frees its cached blocks)
      // happens while the charts' PNGs rasterise on their worker threads.
      storeDone: () => store.close(),
    });
    return {
      htmlFile: result.htmlFile,
      bytes: result.bytes,
      lang,
      run_id: run.run_id,
      as_of: run.as_of,
      model_status: run.model_status,
      customers,
      charts: result.charts.length,
      chartFiles: result.charts.flatMap((c) => [c.specFile, c.svgFile, c.pngFile]),
      queries: result.queries,
      phases: { open: openMs, ...result.phases },
      warnings: result.warnings,
      ms: performance.now() - started,
    };
  } finally {
    store.close();
  }
}
