/**
 * The models' settings and their defaults (the run resolves them from the config file's `models`
 * section and the flags: src/run/settings.ts). Everything that shapes the results is recorded in
 * `runs.params`, so a run can be reproduced from its own row.
 */
import { DEFAULT_SEGMENT_RULES, type SegmentRule } from './rfm.js';
import type { ValueTierRule } from './tiers.js';

export type TimeUnit = 'day' | 'week' | 'month' | 'year';

/** The time units the BG/BB (crm run --model bgbb) counts whole periods in (models/relations/period-histories.ts). */
export const BGBB_PERIOD_UNITS = ['month', 'year'] as const;
export type BgBbPeriodUnit = (typeof BGBB_PERIOD_UNITS)[number];

/** What the churn tiers are cut from (models.churn_tiers.basis, crm run --churn-basis). */
export const CHURN_BASES = ['p_no_purchase', 'churn_risk'] as const;
export type ChurnBasis = (typeof CHURN_BASES)[number];

/** Days per model time unit (a month is 365.25 / 12 days, a year 365.25). */
export const UNIT_DAYS: Record<TimeUnit, number> = { day: 1, week: 7, month: 30.4375, year: 365.25 };

export interface ModelSettings {
  time_unit: TimeUnit;
  /** CLV and expected purchases horizon, in months. */
  horizon_months: number;
  /** Annual discount rate for CLV (0.1 = 10 %). */
  discount_rate: number;
  /** Level of the intervals of expected purchases and CLV (0.9 = 90 %; models/intervals.ts). */
  interval: number;
  rfm: {
    /** Number of quantile bins per score (scores 1…bins). */
    bins: number;
    /** Optional explicit cut points per score: the largest value that still gets score k (k = 1…bins−1). */
    recency_cuts?: number[];
    frequency_cuts?: number[];
    monetary_cuts?: number[];
    segments: SegmentRule[];
  };
  value_tiers: ValueTierRule[];
  /**
   * Tier thresholds, applied to `basis`: p_no_purchase (P(no purchase within the horizon), the
   * default) or churn_risk (1 − P(alive)). p_no_purchase is the default because it backtests
   * better on real data (docs/models.md "Churn basis": CDNOW AUC 0.77–0.78 vs 0.34–0.73 for
   * 1 − P(alive), which is 0 for every BG/NBD one-time buyer however long silent).
   * `crm run --churn-basis` overrides it.
   */
  churn_tiers: { medium: number; high: number; basis: ChurnBasis };
  key_accounts: {
    /** Key accounts: the smallest set of customers reaching this share of positive net revenue. */
    share: number;
    /** Class B reaches this cumulative share; the rest is C. */
    b_share: number;
    /** Length of the windows compared for the revenue trend, when --since is not given. */
    trend_window_days: number;
    /** At risk when revenue fell by at least this share versus the previous window… */
    revenue_drop: number;
    /** …or churn risk rose by at least this much since the previous run, or is in the high tier. */
    churn_risk_rise: number;
    /** `crm owners` flags an owner holding more key accounts than this (one manager, about ten accounts). */
    max_per_owner: number;
  };
  /** Fewer customers than this (with at least one purchase) and the statistical models are not fitted. */
  min_customers: number;
  /** Contracts (policies, plans, subscriptions): renewal detection and the sBG retention model (models/sbg.ts). */
  contracts: ContractSettings;
}

/** Contract period lengths the retention model knows; `auto` detects each contract's from its periods. */
export const CONTRACT_PERIODS = ['auto', 'month', 'quarter', 'half_year', 'year'] as const;
export type ContractPeriod = (typeof CONTRACT_PERIODS)[number];

export interface ContractSettings {
  /** A period that starts within this many days after the previous one ends is a renewal; later, the contract lapsed. */
  grace_days: number;
  /** The length of a contract period, or `auto` to detect it from each contract's periods. */
  period: ContractPeriod;
  /** Plans with fewer contracts than this are scored with the whole book's fit. */
  min_contracts: number;
}

export const DEFAULT_SETTINGS: ModelSettings = {
  time_unit: 'week',
  horizon_months: 12,
  discount_rate: 0.1,
  interval: 0.9,
  rfm: { bins: 5, segments: DEFAULT_SEGMENT_RULES },
  value_tiers: [
    { name: 'Platinum', top_share: 0.05 },
    { name: 'Gold', top_share: 0.2 },
    { name: 'Silver', top_share: 0.5 },
    { name: 'Bronze' },
  ],
  churn_tiers: { medium: 0.3, high: 0.6, basis: 'p_no_purchase' },
  key_accounts: { share: 0.8, b_share: 0.95, trend_window_days: 365, revenue_drop: 0.25, churn_risk_rise: 0.15, max_per_owner: 10 },
  min_customers: 20,
  contracts: { grace_days: 30, period: 'auto', min_contracts: 30 },
};
