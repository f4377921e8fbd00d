/** `crm run` output for people. */
import { formatCount, formatPercent, renderTable } from '../util/format.js';
import type { ModelChoice } from '../models/model-choice.js';
import { PURCHASE_MODEL_NAMES } from '../models/purchase-models.js';
import type { RunResult, RunSummary } from './index.js';
import { notEnoughHistory } from './views.js';
import { contractRunLines } from './contracts-format.js';
import type { CovariatesReport } from './covariates.js';
import { covariateLines } from './covariates-format.js';

const money = (n: number | null) => (n === null ? '—' : Math.round(n).toLocaleString('en-US'));

type BgNbdReport = NonNullable<RunResult['bgnbd']>;

/** How each boundary of the BG/NBD parameter space is named to people (see models/bgnbd-limits.ts). */
const BOUNDARY_LABELS: Record<NonNullable<BgNbdReport['boundary']>, string> = {
  no_dropout: 'its no-dropout limit (NBD: nobody drops out)',
  homogeneous_dropout: 'its homogeneous-dropout limit (one dropout probability p for all)',
  'homogeneous_dropout+homogeneous_rates': 'its homogeneous-dropout and homogeneous-rate limit (one Poisson purchase rate and one dropout probability for all)',
  homogeneous_rates: 'its homogeneous-rate limit (one Poisson purchase rate for all, beta-geometric dropout)',
  'no_dropout+homogeneous_rates': 'its no-dropout and homogeneous-rate limit (Poisson: one purchase rate for all, nobody drops out)',
};

/**
 * "BG/NBD: r=… alpha=… a=… b=…" for an interior fit, "BG/NBD at its no-dropout limit (NBD …):
 * r=… alpha=…" and the like for a fit at the boundary: the parameters the fitted model has.
 */
export function bgnbdModelLine(b: Pick<BgNbdReport, 'boundary' | 'r' | 'alpha' | 'a' | 'b' | 'p' | 'rate'>, timeUnit: string): string {
  const shown = (['r', 'alpha', 'a', 'b'] as const).filter((k) => b[k] !== null).map((k) => `${k}=${b[k]!.toFixed(3)}`);
  if (b.p !== null) shown.push(`p=${b.p.toPrecision(3)}`);
  if (b.boundary?.includes('homogeneous_rates')) shown.unshift(`rate=${b.rate!.toPrecision(4)}/${timeUnit}`);
  return `BG/NBD${b.boundary ? ` at ${BOUNDARY_LABELS[b.boundary]}` : ''}: ${shown.join(' ')}`;
}

/**
 * --model auto (models/model-choice.ts): "model chosen by the holdout error: Pareto/NBD" and the
 * comparison table (crm run and crm model show).
 */
export function modelChoiceLines(c: ModelChoice, customers: number): string[] {
  const basis = c.basis === 'holdout' ? 'the holdout error (mean absolute error of repeat purchases per customer over the frequency buckets)' : `BIC (no holdout; n = ${formatCount(c.customers ?? customers)} customers)`;
  const fixed = (v: number | null, digits: number) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits));
  const headers = ['model', 'log-likelihood', 'parameters', 'BIC', ...(c.basis === 'holdout' ? ['holdout MAE', 'AUC churn_risk', 'AUC p_no_purchase'] : []), 'chosen'];
  const rows = c.models.map((m) => [
    PURCHASE_MODEL_NAMES[m.key],
    fixed(m.log_likelihood, 1),
    String(m.parameters),
    fixed(m.bic, 1),
    ...(c.basis === 'holdout' ? [fixed(m.holdout_mae, 4), fixed(m.auc, 3), fixed(m.auc_p_no_purchase, 3)] : []),
    m.chosen ? 'yes' : m.excluded ? `no: ${m.excluded}` : 'no',
  ]);
  return [`model chosen by ${basis}: ${c.chosen ? PURCHASE_MODEL_NAMES[c.chosen] : 'none'}`, renderTable(headers, rows)];
}

/** The wording of each churn basis (summary.churn_basis): what the tiers were cut from. */
const BASIS_LABELS: Record<RunSummary['churn_basis'], string> = {
  p_no_purchase: 'p_no_purchase',
  churn_risk: 'churn_risk = 1 − P(alive)',
  recency: 'the recency rule',
};

/** " (tiers cut from p_no_purchase at 0.3 and 0.6)" after the tier counts; the fallback says its own line. */
function churnBasisNote(r: RunResult): string {
  const basis = r.summary.churn_basis;
  // Runs stored before the basis was recorded have none: say nothing rather than guess.
  if (basis === undefined || basis === 'recency') return '';
  const what = basis === 'p_no_purchase' ? `p_no_purchase, P(no purchase in the next ${r.horizon_months} months)` : BASIS_LABELS[basis];
  return ` (tiers cut from ${what})`;
}

/**
 * Without a holdout the run cannot check its basis on its own data: say which basis it used and
 * why (the figures are docs/models.md's "Churn basis").
 */
export function churnBasisWhy(r: Pick<RunResult, 'summary'>): string {
  const check = 'no holdout in this run to check it on this data (crm run --as-of DATE --holdout-end LATER_DATE shows both AUCs)';
  return r.summary.churn_basis === 'churn_risk'
    ? `churn basis churn_risk (--churn-basis or models.churn_tiers.basis); the default is p_no_purchase, which backtested better on real data (docs/models.md); ${check}`
    : `churn basis p_no_purchase (the default): it told buyers from non-buyers better than 1 − P(alive) in backtests on real data (docs/models.md); ${check}`;
}

/** "AUC of p_no_purchase 0.770 (the tiers' basis), of churn risk 1 − P(alive) 0.726". */
function backtestAucs(b: NonNullable<RunResult['backtest']>, basis: RunSummary['churn_basis'] | undefined): string {
  const fixed = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));
  const mark = (k: RunSummary['churn_basis']) => (basis === k ? " (the tiers' basis)" : '');
  if (b.auc_p_no_purchase === null) return `AUC of churn risk ${fixed(b.auc)}${mark('recency')}`;
  return `AUC of p_no_purchase ${fixed(b.auc_p_no_purchase)}${mark('p_no_purchase')}, of churn risk 1 − P(alive) ${fixed(b.auc)}${mark('churn_risk')}`;
}

/**
 * --model bgbb: the fit, what its periods are, and the customers whose purchase in the partial
 * as-of period is not an opportunity yet (relations/period-histories.ts).
 */
function bgbbRunLines(r: RunResult): string[] {
  const c = r.bgbb!;
  const unit = r.summary.bgbb_period ?? r.time_unit;
  const periods = unit === 'year' ? r.horizon_months / 12 : r.horizon_months;
  const lines = [
    `  BG/BB${c.boundary === 'no_dropout' ? ' at the no-dropout limit (nobody drops out)' : ''}: ${['alpha', 'beta', 'gamma', 'delta'].filter((k) => c[k] !== null && c[k] !== undefined).map((k) => `${k}=${Number(c[k]).toFixed(3)}`).join(' ')} (log-likelihood ${c.log_likelihood.toFixed(1)}, ${formatCount(c.triples)} distinct period histories; whole ${unit}s from each customer's first ${unit}; forecast over the next ${periods} ${unit}${periods === 1 ? '' : 's'})`,
  ];
  const partial = r.summary.bgbb_partial_period_customers ?? 0;
  if (partial > 0) {
    lines.push(`  ${formatCount(partial)} customer${partial === 1 ? '' : 's'} bought in the ${unit} of ${r.as_of}, which is not over: not counted as an opportunity (score as of the ${unit}'s last day to count it)`);
  }
  return lines;
}

export function formatRunResult(r: RunResult): string[] {
  const lines: string[] = [];
  lines.push(`run ${r.run_id}: ${formatCount(r.customers)} customers scored as of ${r.as_of} (time unit ${r.time_unit}, horizon ${r.horizon_months} months)`);
  if (r.source) {
    const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
    lines.push(
      `  source: ${r.source.url} (${formatCount(r.source.transactions_used)} lines, summarised ${r.source.shards > 1 ? `on ${r.source.shards} shards` : 'on the cluster'}; ${mb(r.source.bytes_from_source)} back, ${mb(r.source.bytes_to_source)} of scores to crm_customer_metrics, gzipped; ${mb(r.source.csv_bytes_from_source)} and ${mb(r.source.csv_bytes_to_source)} as CSV)`,
    );
  }
  if (r.fallback_code === 'no_purchases') {
    lines.push(`  purchase models not run: ${r.fallback_reason}`);
  } else if (r.model_status === 'fallback') {
    lines.push(`  models not fitted: ${r.fallback_reason}`);
    if (r.model_choice) lines.push(...modelChoiceLines(r.model_choice, r.customers).flatMap((l) => l.split('\n')).map((l) => `    ${l}`));
    lines.push('  churn risk is the recency fallback (share of customers who bought more recently); value tiers use net revenue');
  } else if (r.bgnbd || r.pareto_nbd || r.mbgnbd || r.bgbb) {
    if (r.model_choice) {
      const [sentence, table] = modelChoiceLines(r.model_choice, r.customers);
      lines.push(`  ${sentence}`, ...table.split('\n').map((l) => `    ${l}`));
    }
    if (r.bgnbd) {
      const b = r.bgnbd;
      lines.push(`  ${bgnbdModelLine(b, r.time_unit)} (log-likelihood ${b.log_likelihood.toFixed(1)}, ${formatCount(b.triples)} distinct histories)`);
    }
    for (const [key, name, params] of [['pareto_nbd', 'Pareto/NBD', ['r', 'alpha', 's', 'beta']], ['mbgnbd', 'MBG/NBD', ['r', 'alpha', 'a', 'b']]] as const) {
      const c = r[key];
      if (c) lines.push(`  ${name}: ${params.map((k) => `${k}=${Number(c[k]).toFixed(3)}`).join(' ')} (log-likelihood ${c.log_likelihood.toFixed(1)}, ${formatCount(c.triples)} distinct histories)`);
    }
    if (r.bgbb) lines.push(...bgbbRunLines(r));
    // --covariates (run/covariates.ts): under the model's key.
    const covariates = r.model ? (r[r.model] as { covariates?: CovariatesReport } | null | undefined)?.covariates : undefined;
    if (covariates) lines.push(...covariateLines(covariates).flatMap((l) => l.split('\n')).map((l) => `  ${l}`));
    if (r.gamma_gamma) {
      const g = r.gamma_gamma;
      const counted = `${formatCount(g.customers)} repeat customers${g.excluded_non_positive ? `, ${formatCount(g.excluded_non_positive)} with non-positive repeat value left out` : ''}`;
      lines.push(
        g.boundary === 'homogeneous_spend'
          ? `  Gamma-Gamma at the homogeneous-spend limit (q → ∞: no spend heterogeneity): p=${g.p.toFixed(3)} nu=${g.nu!.toPrecision(5)}; every customer's expected order value is the population mean p/nu = ${g.population_mean!.toFixed(2)} (${counted})`
          : g.converged
            ? `  Gamma-Gamma: p=${g.p.toFixed(3)} q=${g.q!.toFixed(3)} v=${g.v!.toFixed(3)} (${counted})`
            : `  Gamma-Gamma not usable (${g.message}); expected order value is each customer's own mean`,
      );
    }
  }
  const s = r.summary;
  if (s.customers_only_returns > 0) {
    const more = s.customers_only_returns > s.customers_only_returns_examples.length ? ', …' : '';
    lines.push(`  ${formatCount(s.customers_only_returns)} customer${s.customers_only_returns === 1 ? '' : 's'} with only returns (no purchase by ${r.as_of}) not scored: ${s.customers_only_returns_examples.join(', ')}${more}`);
  }
  if (s.customers_with_contracts > 0) {
    const only = r.customers - s.customers_with_purchases;
    lines.push(
      `  contracts: ${formatCount(s.customers_with_contracts)} customer${s.customers_with_contracts === 1 ? '' : 's'} with contracts (${formatCount(only)} with contracts only), residual value over the horizon ${money(s.contract_residual_value)}; ${s.customers_with_purchases === 0 ? 'value tiers rank it' : `value tiers add it to ${r.model_status === 'fitted' ? 'lifetime value' : 'net revenue'}`}`,
    );
  }
  // Segments, churn tiers, key accounts and trends are of the customers with purchases.
  const purchases = s.customers_with_purchases > 0;
  if (purchases) lines.push(`  segments: ${s.segments.map((x) => `${x.segment} ${formatCount(x.customers)}`).join(', ')}`);
  lines.push(`  value tiers: ${s.value_tiers.map((x) => `${x.tier} ${formatCount(x.customers)}`).join(', ')}`);
  if (purchases) {
    lines.push(`  churn risk: ${s.churn_tiers.map((x) => `${x.tier} ${formatCount(x.customers)}`).join(', ')}${churnBasisNote(r)}`);
    if (r.model_status === 'fitted' && !r.backtest) lines.push(`  ${churnBasisWhy(r)}`);
    const ka = s.key_accounts;
    lines.push(`  key accounts: ${formatCount(ka.customers)} customers (${formatPercent(ka.customer_share)}) bring ${formatPercent(ka.revenue_share)} of revenue; ${formatCount(ka.at_risk)} at risk`);
    if (!r.trend.comparable) lines.push(`  ${notEnoughHistory(r.trend)}`);
  }
  if (s.clv_total !== null) lines.push(`  expected over the horizon: ${money(s.expected_purchases)} purchases, lifetime value ${money(s.clv_total)}`);
  if (r.backtest) {
    const b = r.backtest;
    lines.push(
      `  backtest ${b.holdout_start} → ${b.holdout_end}: predicted ${b.predicted_total.toFixed(0)} repeat purchases, actual ${b.actual_total}; ${backtestAucs(b, r.summary.churn_basis)}`,
    );
  }
  if (r.contracts) lines.push(...contractRunLines(r.contracts));
  lines.push(`  see: crm query "SELECT * FROM customer_latest LIMIT 10", crm keyaccounts, crm model show`);
  return lines;
}
