/**
 * What `crm run` returns and records (runs' JSON columns): the run's result, the models' reports
 * and the summary. Types only, and the fallback codes; run/index.ts re-exports them.
 */
import type { Backtest } from '../models/backtest.js';
import type { BgNbdParams } from '../models/bgnbd.js';
import type { BgNbdBoundary } from '../models/bgnbd-limits.js';
import type { ModelChoice } from '../models/model-choice.js';
import type { ModelKey, PurchaseModelReport } from '../models/purchase-models.js';
import type { TrendWindows } from '../models/relations/trend-windows.js';
import type { ChurnBasis } from '../models/settings.js';
import type { ContractsReport } from './contracts.js';
import type { CovariatesReport } from './covariates.js';
import type { NO_PURCHASES_CODE } from './customers.js';

/** A parameter of the BG/NBD, null when the fit is at a limit that has no such parameter. */
export type LimitParam = number | null;

export interface ModelReport {
  /** Key of the purchase model used (bgnbd, pareto_nbd, mbgnbd, bgbb); null when none was fitted. */
  model?: ModelKey | null;
  /** The chosen model's report when it is not the BG/NBD (--model; models/purchase-models.ts); with --model auto every fitted model's. */
  pareto_nbd?: PurchaseModelReport;
  mbgnbd?: PurchaseModelReport;
  /** --model bgbb: the BG/BB fitted on period histories (alpha, beta, gamma, delta; models/bgbb.ts). */
  bgbb?: PurchaseModelReport;
  /** --model auto: the comparison table and the basis of the choice (models/model-choice.ts; runs.model_choice). */
  model_choice?: ModelChoice;
  bgnbd: {
    /** null: an interior fit; otherwise the boundary whose limiting model was fitted (models/bgnbd-limits.ts). */
    boundary: BgNbdBoundary | null;
    r: LimitParam;
    alpha: LimitParam;
    a: LimitParam;
    b: LimitParam;
    /** The one dropout probability of the homogeneous-dropout limits (null otherwise). */
    p: LimitParam;
    /** Mean purchase rate per time unit: r/alpha, or the one rate of the homogeneous limits. */
    rate: number | null;
    log_likelihood: number;
    converged: boolean;
    /** By parameter name (r, alpha, a, b; rate and p for the homogeneous limits). */
    standard_errors: Record<string, number> | null;
    customers: number;
    triples: number;
    message: string;
    iterations: number;
    /** Where the unrestricted BG/NBD optimiser stopped (boundary fits only). */
    unrestricted?: BgNbdParams & { log_likelihood: number };
    /** --covariates: the model refitted with them (run/covariates.ts); under the Pareto/NBD's or MBG/NBD's key likewise. */
    covariates?: CovariatesReport;
  } | null;
  gamma_gamma: {
    p: number;
    /** null at the homogeneous-spend limit (q → ∞; its p and nu instead). */
    q: number | null;
    v: number | null;
    log_likelihood: number;
    converged: boolean;
    /** By parameter name: p, q, v; p, nu at the limit. */
    standard_errors: Record<string, number> | null;
    customers: number;
    excluded_non_positive: number;
    message: string;
    /** 'homogeneous_spend': fitted at its q → ∞ limit (models/gamma-gamma-limits.ts); null: the Gamma-Gamma itself (or no fit). */
    boundary?: 'homogeneous_spend' | null;
    /** What scored each customer's expected order value: the Gamma-Gamma posterior mean, its limit (the population mean p/nu), or each customer's own mean (no usable fit). */
    spend_model?: 'gamma_gamma' | 'homogeneous_spend' | 'own_mean';
    /** The limit's one transaction-value rate ν (E[z] = p/nu for everyone). */
    nu?: number;
    /** The limit's population mean transaction value p/nu, every customer's expected order value. */
    population_mean?: number;
    /** Where the unrestricted Gamma-Gamma optimiser stopped (limit fits only; its log-likelihood evaluated stably). */
    unrestricted?: { p: number; q: number; v: number; log_likelihood: number };
  } | null;
}

export interface RunResult extends ModelReport {
  run_id: number;
  as_of: string;
  since: string | null;
  holdout_end: string | null;
  time_unit: string;
  horizon_months: number;
  customers: number;
  model_status: 'fitted' | 'fallback';
  fallback_reason: string | null;
  /** The same as a code (reports word it in plain language); null when fitted. */
  fallback_code: FallbackCode | null;
  /** The trend windows compared and whether the data covers them (else trends are NULL). */
  trend: TrendWindows;
  backtest: Backtest | null;
  summary: RunSummary;
  /** The contract part (runs.contracts); null when the store has no contract period by as-of. */
  contracts: ContractsReport | null;
  /** crm run --source only: where the lines were summarised and what crossed the network (runs.input). */
  source?: {
    url: string;
    shards: number;
    transactions_used: number;
    /** Bytes over the network (gzipped); csv_bytes_*: the same rows as CSV. */
    bytes_from_source: number;
    bytes_to_source: number;
    csv_bytes_from_source: number;
    csv_bytes_to_source: number;
  };
  timings_ms: Record<string, number>;
}

/**
 * Why a run fell back to the recency score, as a code that reports word in plain language
 * (src/reports/i18n.ts, `fallback.*`); runs.fallback_reason keeps the technical message.
 */
export const FALLBACK_CODES = ['too_few_customers', 'no_repeat_purchases', 'fit_failed'] as const;
/** With no purchase by as-of, only contracts: a code of its own (run/customers.ts), worded too. */
export type FallbackCode = (typeof FALLBACK_CODES)[number] | typeof NO_PURCHASES_CODE;
/** A run's fallback: its code and the technical message (runs.fallback_reason); null when the models are fitted. */
export type Fallback = [FallbackCode, string];

export interface RunSummary {
  segments: { segment: string; customers: number; net_revenue: number }[];
  value_tiers: { tier: string; customers: number; clv: number | null; net_revenue: number }[];
  churn_tiers: { tier: string; customers: number }[];
  /**
   * What the churn tiers were cut from: the fitted model's p_no_purchase (the default) or
   * churn_risk = 1 − P(alive) (models.churn_tiers.basis, --churn-basis), or the recency rule
   * when the models were not fitted (models/relations/predictions.ts).
   */
  churn_basis: ChurnBasis | 'recency';
  key_accounts: { customers: number; customer_share: number; revenue_share: number; at_risk: number };
  net_revenue: number;
  expected_purchases: number | null;
  clv_total: number | null;
  /** Customers with a purchase by as-of: those RFM, the purchase models and the 80/20 score. */
  customers_with_purchases: number;
  /** Customers with a contract in the run (customer_metrics.contracts_in_force not NULL); those without a purchase are the rest of the customers. */
  customers_with_contracts: number;
  /** Σ customer_metrics.contract_residual_value: the contracts' expected premiums over the horizon, discounted (null without modelled contracts). */
  contract_residual_value: number | null;
  /** Customers with return lines but no purchase on or before as-of: not scored (no purchase history), counted here. */
  customers_only_returns: number;
  /** Up to RETURN_ONLY_EXAMPLES of their ids, in id order. */
  customers_only_returns_examples: string[];
  /** --model bgbb: the period the opportunities are counted in (month or year). */
  bgbb_period?: string;
  /** --model bgbb: customers with a purchase in the as-of period when it is not over (not counted as an opportunity; relations/period-histories.ts). */
  bgbb_partial_period_customers?: number;
}
