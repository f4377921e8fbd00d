/**
 * Read-only views of run results: `crm model show`, `crm keyaccounts`, `crm customer`'s 360° view.
 * Each is SQL over runs / customer_metrics / customers that an analyst could run by hand.
 */
import { Store, type Row } from '../store/db.js';
import { inputError, storeError } from '../util/errors.js';
import { formatCount, formatPercent, renderTable } from '../util/format.js';
import { bgnbdModelLine, modelChoiceLines } from './format.js';
import type { ModelChoice } from '../models/model-choice.js';
import { formatContracts } from './contracts-format.js';
import type { ContractsReport } from './contracts.js';
import { inlined, type Relation } from '../models/relation.js';
import { revenueLevels } from '../models/relations/revenue-levels.js';
import type { TrendWindows } from '../models/relations/trend-windows.js';
import { parseShare } from './settings.js';
import { latestContactsSql } from '../reports/contacts.js';
import type { CovariatesReport } from './covariates.js';
import { covariateLines } from './covariates-format.js';
import { checkOwner, OWNER_BOOK_SQL } from '../reports/owner-filter.js';

async function openWithRuns(storePath: string): Promise<Store> {
  const store = await Store.open(storePath, { readOnly: true });
  const runs = await store.value<number>('SELECT count(*) FROM runs');
  if (!runs) {
    store.close();
    throw storeError('no model run yet: run `crm run` first');
  }
  return store;
}

const parseJson = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : (v ?? null));

// ---------------------------------------------------------------------------------------
// crm model show

/**
 * A run's churn basis (a row of runs): recorded in the summary since the basis became
 * selectable; before, params held it (churn_risk by default) and the fallback used recency.
 */
const CHURN_BASIS_SQL = `coalesce(summary->>'$.churn_basis',
  CASE WHEN model_status = 'fitted' THEN coalesce(params->>'$.churn_tiers.basis', 'churn_risk') ELSE 'recency' END)`;

export interface ModelShow {
  run_id: number;
  as_of: string;
  created_at: string;
  time_unit: string;
  horizon_months: number;
  customers: number;
  model_status: string;
  fallback_reason: string | null;
  /** Key of the purchase model the run used (bgnbd, pareto_nbd, mbgnbd, bgbb); null when none was fitted. */
  model: string | null;
  bgnbd: Record<string, unknown> | null;
  /** The chosen model under its own key when it is not the BG/NBD (crm run --model). */
  pareto_nbd?: Record<string, unknown>;
  mbgnbd?: Record<string, unknown>;
  /** crm run --model bgbb: alpha, beta, gamma, delta, log_likelihood, converged, standard_errors. */
  bgbb?: Record<string, unknown>;
  gamma_gamma: Record<string, unknown> | null;
  backtest: Record<string, unknown> | null;
  /** --model auto: the models compared and the one chosen (runs.model_choice; models/model-choice.ts). */
  model_choice?: ModelChoice;
  /** runs.contracts (run/contracts.ts); null for a run without contracts. */
  contracts: ContractsReport | null;
  /** What the churn tiers were cut from: p_no_purchase, churn_risk (1 − P(alive)) or recency (not fitted). */
  churn_basis: string;
}

export async function modelShow(storePath: string, runId?: number): Promise<ModelShow> {
  const store = await openWithRuns(storePath);
  try {
    const row = await store.one(
      `SELECT run_id, CAST(as_of AS VARCHAR) AS as_of, CAST(created_at AS VARCHAR) AS created_at, time_unit, horizon_months, customers,
              model_status, fallback_reason, bgnbd, gamma_gamma, backtest, contracts, model, purchase_model, model_choice, covariates,
              ${CHURN_BASIS_SQL} AS churn_basis
       FROM runs WHERE run_id = ${runId ?? '(SELECT max(run_id) FROM runs)'}`,
    );
    if (!row) throw inputError(`no run ${runId}`);
    const { purchase_model: chosenReport, model_choice: choiceJson, covariates: covariatesJson, ...rest } = row;
    // --model auto keeps every fitted model's report: each under its own key.
    const { reports: otherReports, ...modelChoice } = (parseJson(choiceJson) ?? {}) as ModelChoice & { reports?: Record<string, unknown> };
    // Runs before migration 12 have no model: a fitted one used the BG/NBD.
    const model = (row.model as string | null) ?? (row.model_status === 'fitted' ? 'bgnbd' : null);
    const shown: ModelShow = {
      ...(rest as unknown as ModelShow),
      model,
      ...(otherReports ?? {}),
      ...(chosenReport !== null && chosenReport !== undefined && model ? { [model]: parseJson(chosenReport) } : {}),
      bgnbd: parseJson(row.bgnbd),
      gamma_gamma: parseJson(row.gamma_gamma),
      backtest: parseJson(row.backtest),
      contracts: parseJson(row.contracts),
      ...(choiceJson !== null && choiceJson !== undefined ? { model_choice: modelChoice as ModelChoice } : {}),
    };
    // --covariates (runs.covariates, run/covariates.ts): under the key of the model they were fitted with.
    const covariates = parseJson(covariatesJson) as CovariatesReport | null;
    const host = covariates ? (shown[covariates.model] as Record<string, unknown> | null | undefined) : null;
    if (covariates && host) host.covariates = covariates;
    return shown;
  } finally {
    store.close();
  }
}

/** Each chosen model's title and parameters, in the order people read them. */
const CHOSEN_MODELS = {
  pareto_nbd: { title: 'Pareto/NBD (Schmittlein, Morrison & Colombo 1987)', names: ['r', 'alpha', 's', 'beta'] },
  mbgnbd: { title: 'MBG/NBD (Batislam, Denizel & Filiztekin 2007)', names: ['r', 'alpha', 'a', 'b'] },
  bgbb: { title: 'BG/BB (Fader, Hardie & Berger 2010), on whole periods', names: ['alpha', 'beta', 'gamma', 'delta'] },
} as const;

/** The Pareto/NBD, MBG/NBD or BG/BB of a run (crm run --model): parameters, standard errors, fit. */
function chosenModelLines(key: keyof typeof CHOSEN_MODELS, report: Record<string, unknown>): string[] {
  const { title, names } = CHOSEN_MODELS[key];
  const se = (report.standard_errors ?? null) as Record<string, number> | null;
  return [
    '',
    title,
    renderTable(
      ['parameter', 'estimate', 'std. error'],
      // A BG/BB at its no-dropout limit (models/bgbb-limits.ts) has no gamma, delta (null).
      names.filter((k) => report[k] !== null && report[k] !== undefined).map((k) => [k, Number(report[k]).toPrecision(5), se && se[k] !== undefined ? Number(se[k]).toPrecision(3) : '—']),
    ),
    ...(report.boundary === 'no_dropout' ? ['at the no-dropout limit (gamma/(gamma+delta) → 0: nobody drops out; beta-binomial)'] : []),
    `log-likelihood ${Number(report.log_likelihood).toFixed(2)}, converged: ${report.converged ? 'yes' : 'no'} (${String(report.message)})`,
  ];
}

export function formatModelShow(m: ModelShow): string[] {
  const lines = [`run ${m.run_id} as of ${m.as_of} (${formatCount(m.customers)} customers, time unit ${m.time_unit})`];
  if (m.model_status === 'fallback') lines.push(`models not fitted: ${m.fallback_reason}`);
  else lines.push(`churn tiers cut from ${m.churn_basis === 'churn_risk' ? 'churn_risk = 1 − P(alive)' : `p_no_purchase, P(no purchase in the next ${m.horizon_months} months)`}`);
  const b = m.bgnbd as Record<string, number | string | boolean | Record<string, number> | null> | null;
  if (b) {
    const se = (b.standard_errors ?? null) as Record<string, number> | null;
    lines.push('', 'BG/NBD (Fader, Hardie & Lee 2005)');
    // A fit at the boundary of the parameter space has only its limiting model's parameters
    // (runs before the boundary was recorded have none: an interior fit).
    const boundary = (b.boundary ?? null) as Parameters<typeof bgnbdModelLine>[0]['boundary'];
    if (boundary) {
      const value = (k: string) => (typeof b[k] === 'number' ? (b[k] as number) : null);
      lines.push(bgnbdModelLine({ boundary, r: value('r'), alpha: value('alpha'), a: value('a'), b: value('b'), p: value('p'), rate: value('rate') }, m.time_unit));
    }
    const names = boundary?.includes('homogeneous_rates') ? ['rate', 'a', 'b', 'p'] : ['r', 'alpha', 'a', 'b', 'p'];
    lines.push(
      renderTable(
        ['parameter', 'estimate', 'std. error'],
        names.filter((k) => b[k] !== null && b[k] !== undefined).map((k) => [k, Number(b[k]).toPrecision(5), se && se[k] !== undefined ? Number(se[k]).toPrecision(3) : '—']),
      ),
    );
    lines.push(`log-likelihood ${Number(b.log_likelihood).toFixed(2)}, converged: ${b.converged ? 'yes' : 'no'} (${b.message})`);
  }
  for (const key of ['pareto_nbd', 'mbgnbd', 'bgbb'] as const) {
    const report = m[key];
    if (report) lines.push(...chosenModelLines(key, report));
  }
  const covariates = m.model ? ((m[m.model as 'bgnbd' | 'pareto_nbd' | 'mbgnbd'] as Record<string, unknown> | null | undefined)?.covariates as CovariatesReport | undefined) : undefined;
  if (covariates) lines.push('', ...covariateLines(covariates));
  if (m.model_choice) lines.push('', ...modelChoiceLines(m.model_choice, m.customers));
  const g = m.gamma_gamma as Record<string, number | string | boolean> | null;
  if (g) {
    const limit = g.boundary === 'homogeneous_spend';
    // At the homogeneous-spend limit (models/gamma-gamma-limits.ts) the parameters are p and nu.
    lines.push('', limit ? 'Gamma-Gamma (Fader & Hardie 2013) at the homogeneous-spend limit (q → ∞: one nu for all; expected order value p/nu for everyone)' : 'Gamma-Gamma (Fader & Hardie 2013)');
    const gse = (g.standard_errors ?? null) as unknown as Record<string, number> | null;
    lines.push(
      renderTable(
        ['parameter', 'estimate', 'std. error'],
        (limit ? ['p', 'nu'] : ['p', 'q', 'v']).map((k) => [k, Number(g[k]).toPrecision(5), gse ? Number(gse[k]).toPrecision(3) : '—']),
      ),
    );
    lines.push(`log-likelihood ${Number(g.log_likelihood).toFixed(2)}, converged: ${g.converged ? 'yes' : 'no'}, ${formatCount(Number(g.customers))} repeat customers`);
  }
  const t = m.backtest as {
    holdout_start: string;
    holdout_end: string;
    predicted_total: number;
    actual_total: number;
    auc: number | null;
    auc_p_no_purchase?: number | null;
    by_frequency: { bucket: string; customers: number; predicted: number; actual: number }[];
  } | null;
  if (t) {
    const fixed = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(3));
    // Both scores' AUCs (the churn tiers are cut from one of them: m.churn_basis).
    const aucs = t.auc_p_no_purchase === null || t.auc_p_no_purchase === undefined
      ? `AUC ${fixed(t.auc)}`
      : `AUC of p_no_purchase ${fixed(t.auc_p_no_purchase)}, of churn risk 1 − P(alive) ${fixed(t.auc)}`;
    lines.push('', `Backtest ${t.holdout_start} → ${t.holdout_end}: predicted ${t.predicted_total.toFixed(1)} repeat purchases, actual ${t.actual_total}; ${aucs}`);
    lines.push(
      renderTable(
        ['repeat purchases before', 'customers', 'predicted', 'actual'],
        t.by_frequency.map((x) => [x.bucket, formatCount(x.customers), x.predicted.toFixed(1), String(x.actual)]),
      ),
    );
  }
  if (m.contracts) lines.push(...formatContracts(m.contracts));
  return lines;
}

// ---------------------------------------------------------------------------------------
// crm keyaccounts

export interface KeyAccount {
  rank: number;
  customer_id: string;
  name: string | null;
  account_owner: string | null;
  net_revenue: number;
  revenue_share: number;
  cumulative_share: number;
  revenue_trend: number | null;
  churn_risk: number;
  /** P(no purchase within the horizon): what the churn tier is cut from by default (null: recency fallback). */
  p_no_purchase: number | null;
  churn_tier: string;
  value_tier: string;
  at_risk: boolean;
  at_risk_reason: string | null;
}

export interface KeyAccountsResult {
  run_id: number;
  as_of: string;
  share: number;
  /** --owner: only this owner's key accounts (null: all). */
  owner: string | null;
  /** The run's trend windows and whether the data covers them (null for runs that did not record it). */
  trend: TrendWindows | null;
  customers: number;
  key_accounts: number;
  revenue_share: number;
  /** What the run's churn tiers were cut from (runs.summary.churn_basis; the `churn` column shows that score). */
  churn_basis: string;
  accounts: KeyAccount[];
}

/**
 * The latest run's customers as the 80/20 levels relation reads them: its net revenue back in
 * exact decimals (net_revenue came from DECIMAL sums), so ties and thresholds match the run's.
 */
const latestRevenue: Relation = {
  name: 'run_base',
  grain: 'one row per customer of the latest run',
  params: [],
  sql: `
SELECT customer_id, CAST(net_revenue AS DECIMAL(38, 4)) AS pareto_revenue
FROM customer_latest`,
};

/** The key accounts at a share: the run's own 80/20 rule (relations/revenue-levels.ts) over the latest run, $share bound. */
const KEY_ACCOUNTS_SQL = `
WITH levels AS (${inlined(revenueLevels, [latestRevenue]).sql}
),
keys AS (
  SELECT b.customer_id
  FROM (${latestRevenue.sql}
  ) b JOIN levels l ON l.net_revenue = b.pareto_revenue
  WHERE l.abc_class = 'A'
)
SELECT m.revenue_rank AS rank, m.customer_id, c.name, c.account_owner, m.net_revenue, m.revenue_share, m.cumulative_share,
       m.revenue_trend, m.churn_risk, m.p_no_purchase, m.churn_tier, m.value_tier,
       m.at_risk_reason IS NOT NULL AS at_risk,
       m.at_risk_reason
FROM customer_latest m JOIN keys USING (customer_id) LEFT JOIN (${latestContactsSql()}) c USING (customer_id)
WHERE ${OWNER_BOOK_SQL}
ORDER BY m.net_revenue DESC, m.customer_id`;

/**
 * Key accounts of the latest run. With --share other than the run's, the set is recomputed
 * from the run's window revenue by the same rule (ties with the last account included).
 */
export async function keyAccounts(storePath: string, shareFlag?: string, owner?: string): Promise<KeyAccountsResult> {
  const store = await openWithRuns(storePath);
  try {
    if (owner !== undefined) await checkOwner(store, owner);
    const run = (await store.one<{ run_id: number; as_of: string; params: string; trend: string | null; churn_basis: string }>(
      `SELECT run_id, CAST(as_of AS VARCHAR) AS as_of, params, CAST(input->'$.trend' AS VARCHAR) AS trend, ${CHURN_BASIS_SQL} AS churn_basis FROM runs ORDER BY run_id DESC LIMIT 1`,
    ))!;
    const share = shareFlag !== undefined ? parseShare(shareFlag) : Number(JSON.parse(run.params).key_accounts.share);
    // Only class A matters here; B's bound is the run's (or the share, if that is larger).
    const bShare = Math.max(share, Number(JSON.parse(run.params).key_accounts.b_share ?? share));
    const rows = await store.all<Row>(KEY_ACCOUNTS_SQL, { share, b_share: bShare, owner: owner ?? null });
    // The customers the 80/20 ranks: those with purchases (customers with contracts only have no net revenue).
    const customers = (await store.value<number>('SELECT count(*) FROM customer_latest WHERE net_revenue IS NOT NULL')) ?? 0;
    const accounts = rows as unknown as KeyAccount[];
    return {
      run_id: run.run_id,
      as_of: run.as_of,
      share,
      owner: owner ?? null,
      trend: parseJson(run.trend),
      customers,
      key_accounts: accounts.length,
      revenue_share: accounts.reduce((a, b) => a + b.revenue_share, 0),
      churn_basis: run.churn_basis,
      accounts,
    };
  } finally {
    store.close();
  }
}

export function formatKeyAccounts(r: KeyAccountsResult): string[] {
  const head =
    r.owner === null
      ? `${formatCount(r.key_accounts)} key accounts (${formatPercent(r.key_accounts / Math.max(1, r.customers))} of ${formatCount(r.customers)} customers) bring ${formatPercent(r.revenue_share)} of revenue — run ${r.run_id}, as of ${r.as_of}, share ${r.share}`
      : `${formatCount(r.key_accounts)} key accounts of ${r.owner} bring ${formatPercent(r.revenue_share)} of revenue — run ${r.run_id}, as of ${r.as_of}, share ${r.share}`;
  const table = renderTable(
    ['#', 'customer', 'name', 'owner', 'revenue', 'share', 'cum.', 'trend', 'churn', 'tier', 'at risk'],
    r.accounts.map((a) => [
      String(a.rank),
      a.customer_id,
      a.name ?? '',
      a.account_owner ?? '',
      Math.round(a.net_revenue).toLocaleString('en-US'),
      formatPercent(a.revenue_share),
      formatPercent(a.cumulative_share),
      a.revenue_trend === null ? '—' : `${a.revenue_trend >= 0 ? '+' : ''}${Math.round(a.revenue_trend * 100)}%`,
      // The score the tier was cut from, so the two agree.
      `${Math.round((r.churn_basis === 'p_no_purchase' && a.p_no_purchase !== null ? a.p_no_purchase : a.churn_risk) * 100)}% ${a.churn_tier}`,
      a.value_tier,
      a.at_risk ? `yes: ${a.at_risk_reason ?? ''}` : '',
    ]),
    { maxCellWidth: 48 },
  );
  return [head, ...(r.trend && !r.trend.comparable ? [notEnoughHistory(r.trend)] : []), '', table];
}

/** Why a run has no trends: its data does not cover both windows (models/relations/trend-windows.ts). */
export function notEnoughHistory(t: TrendWindows): string {
  return `trend: not enough history — comparing ${t.days}-day windows needs data from ${t.previous_start}, and the data starts on ${t.data_start ?? '—'}`;
}
