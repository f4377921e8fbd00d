/**
 * The policy book's parameters (contracts.csv), in one place so they can be tuned together.
 *
 * The model (per contract), the shifted-beta-geometric story of Fader & Hardie (2007, "How to
 * project customer retention", J. Interactive Marketing 21(1)):
 *  1. A plan (motor, life, broadband…) with a period length (a year, a quarter, a month).
 *  2. The contract's own churn probability θ ~ Beta(α, β) of its plan, drawn once; at the end of
 *     each period it renews with probability 1 − θ, independently of the past. Heterogeneity in
 *     θ is what makes a plan's retention rate rise with tenure (the weak leave first).
 *  3. The first period starts on a day spread over the generated window (contract numbers are
 *     issued in date order); periods follow from that anchor date (calendar.ts addMonthsCivil),
 *     until one covers the window's last day (still in force: censored) or the contract leaves.
 *  4. A premium per period around the plan's median (log-normal across contracts), rising by a
 *     contract's own small yearly increase at each contract year.
 *  5. A share of the contracts that leave cancel within their last period (`cancel_date`)
 *     instead of letting it run out. Only periods that ended before the window's end are
 *     cancelled, so which contracts are observed leaving, and after how many renewals, is
 *     exactly the sBG's censored outcome — the fit's input is not biased by early revelation.
 *
 * The α, β of motor and life are Fader & Hardie's (2007) two worked examples — "regular"
 * (α = 0.704, β = 1.182) and "high end" (α = 0.668, β = 3.806) subscribers — rounded; the others
 * are chosen to give plausible churn for their kind (≈ 5–7 % a month for telecom plans).
 */
import { Categorical } from './random.js';

export type PeriodUnit = 'month' | 'quarter' | 'year';

export const PERIOD_MONTHS: Record<PeriodUnit, number> = { month: 1, quarter: 3, year: 12 };

/** Sales channels of the book: insurers sell through agents and banks, telecoms in stores. */
export const CONTRACT_CHANNELS = ['agent', 'online', 'bank', 'phone', 'store', 'partner'] as const;

export interface PlanModel {
  plan: string;
  period: PeriodUnit;
  /** Share of contracts on this plan. */
  share: number;
  /** θ ~ Beta(alpha, beta): the churn probability at each renewal. */
  alpha: number;
  beta: number;
  /** Premium per period ~ log-normal(ln(median), sigma), in currency units. */
  medianPremium: number;
  premiumSigma: number;
  /** A contract's yearly premium increase is uniform on [0, maxYearlyIncrease]. */
  maxYearlyIncrease: number;
  /** Relative weights of CONTRACT_CHANNELS. */
  channelWeights: readonly number[];
}

export const PLANS: readonly PlanModel[] = [
  { plan: 'motor', period: 'year', share: 0.36, alpha: 0.7, beta: 1.2, medianPremium: 950, premiumSigma: 0.35, maxYearlyIncrease: 0.06, channelWeights: [45, 30, 10, 15, 0, 0] },
  { plan: 'home', period: 'year', share: 0.15, alpha: 1.1, beta: 4.5, medianPremium: 420, premiumSigma: 0.4, maxYearlyIncrease: 0.05, channelWeights: [40, 30, 20, 10, 0, 0] },
  { plan: 'life', period: 'year', share: 0.15, alpha: 0.67, beta: 3.8, medianPremium: 1800, premiumSigma: 0.5, maxYearlyIncrease: 0.03, channelWeights: [60, 5, 30, 5, 0, 0] },
  { plan: 'health', period: 'year', share: 0.1, alpha: 1.5, beta: 6, medianPremium: 2400, premiumSigma: 0.3, maxYearlyIncrease: 0.07, channelWeights: [50, 20, 20, 10, 0, 0] },
  { plan: 'maintenance', period: 'quarter', share: 0.06, alpha: 1.2, beta: 7, medianPremium: 180, premiumSigma: 0.3, maxYearlyIncrease: 0.04, channelWeights: [0, 30, 0, 30, 20, 20] },
  { plan: 'broadband', period: 'month', share: 0.1, alpha: 0.6, beta: 9, medianPremium: 45, premiumSigma: 0.25, maxYearlyIncrease: 0.03, channelWeights: [0, 45, 0, 15, 30, 10] },
  { plan: 'mobile', period: 'month', share: 0.08, alpha: 0.9, beta: 12, medianPremium: 30, premiumSigma: 0.4, maxYearlyIncrease: 0.02, channelWeights: [0, 40, 0, 10, 35, 15] },
];

export const planDraw = () => new Categorical(PLANS.map((p) => p.share));

/**
 * Who holds the contracts. A holder has 1–4 contracts (a second car, a life policy next to the
 * motor one); holders are existing customers (they also buy: the customers of customers.csv)
 * with probability `existingShare` while any are left, otherwise customers who only hold
 * contracts (numbered after the purchase customers and appended to customers.csv).
 */
export const HOLDERS = {
  /** Relative weights of 1, 2, 3 and 4 contracts per holder (mean ≈ 1.38). */
  contractsPerHolder: [72, 20, 6, 2] as readonly number[],
  /** Share of holders who are also purchase customers (when there are purchase customers). */
  existingShare: 0.3,
  /** Share of contract-only customers served by an agent (their `account_owner`). */
  agentShare: 0.5,
  /** One agent per this many contract-only customers. */
  customersPerAgent: 80,
} as const;

export const MEAN_CONTRACTS_PER_HOLDER = (() => {
  const w = HOLDERS.contractsPerHolder;
  const total = w.reduce((a, b) => a + b, 0);
  return w.reduce((sum, x, i) => sum + x * (i + 1), 0) / total;
})();

/** Of the contracts observed leaving, the share that cancel within their last period. */
export const CANCEL_SHARE = 0.12;

/** Value-level dirt in contracts.csv; see dirt.ts ContractDirtPlanner for the kinds. */
export const CONTRACT_DIRT = {
  /** A reinstated contract lapses this many days (more than the default 30-day grace) before its next period. */
  reinstatementGapDays: { min: 45, max: 150 },
  /** An overlapping period's end runs this many days into the next period. */
  overlapDays: { min: 5, max: 40 },
  /** With a dirty share > 0 and at least this many contracts, aim for at least this many dirty rows (two of each kind). */
  minContracts: 50,
  minRows: 10,
} as const;

/** The most periods a contract can have in `years` years (monthly, plus the one covering the end). */
export function maxPeriods(years: number): number {
  return years * 12 + 2;
}
