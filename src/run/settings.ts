/**
 * Settings of `crm run`: the models' defaults (src/models/settings.ts), overridden by the config
 * file's `models` section, overridden by command-line flags. Everything that shapes the results
 * is recorded in `runs.params`, so a run can be reproduced from its own row.
 */
import type { CrmConfig } from '../config.js';
import { parseDateFlag } from '../util/dates.js';
import { inputError, usageError } from '../util/errors.js';
import type { DataEnd } from './contracts.js';
import { purchaseModelKey, type PurchaseModelKey } from '../models/purchase-models.js';
import type { CovariateName } from '../models/relations/covariates.js';
import { parseCovariates } from './covariates.js';
import { DEFAULT_SEGMENT_RULES, validateSegmentRules } from '../models/rfm.js';
import { BGBB_PERIOD_UNITS, CHURN_BASES, CONTRACT_PERIODS, DEFAULT_SETTINGS, UNIT_DAYS, type ModelSettings, type TimeUnit } from '../models/settings.js';

// The model settings' types and defaults live with the models; re-exported for the run's callers.
export { DEFAULT_SETTINGS, UNIT_DAYS, type ModelSettings, type TimeUnit } from '../models/settings.js';
export type { ValueTierRule } from '../models/tiers.js';

export interface RunFlags {
  asOf?: string;
  timeUnit?: string;
  holdoutEnd?: string;
  horizon?: string | number;
  since?: string;
  share?: string | number;
  /** --model: bgnbd | pareto-nbd | mbgnbd | bgbb (models/purchase-models.ts) | auto (models/model-choice.ts, the continuous-time models only). */
  model?: string;
  /** --churn-basis: p_no_purchase | churn_risk (models.churn_tiers.basis). */
  churnBasis?: string;
  /** --covariates region,channel (run/covariates.ts). */
  covariates?: string;
  /** --source: clickhouse://HOST:PORT/DATABASE.TABLE or a crm.config.json sources entry (run/source.ts). */
  source?: string;
  /** --map field=column (repeatable; only with --source): the source table's own column names (run/source.ts). */
  map?: string[];
  /** --interval: level of the intervals, 0 < p < 1 (default 0.9, models.interval). */
  interval?: string | number;
}

export interface RunOptions {
  /** null: the data's last date (run/contracts.ts lastDataDate). */
  asOf: string | null;
  holdoutEnd: string | null;
  since: string | null;
  settings: ModelSettings;
  /**
   * The purchase model to fit (default auto: chosen on the data among the continuous-time
   * models, models/model-choice.ts), recorded in runs.model; bgbb: the BG/BB on whole periods
   * of the time unit (month or year).
   */
  model: PurchaseModelKey | 'bgbb' | 'auto';
  /** --covariates (or models.covariates): the covariates of the purchase model, none by default (run/covariates.ts). */
  covariates: CovariateName[];
}

function checkDate(flag: string, value: string | undefined): string | null {
  return value === undefined ? null : parseDateFlag(flag, value);
}

/** Merge defaults, the config file's `models` section and the flags; validate the result. */
export function resolveRunOptions(flags: RunFlags, config: CrmConfig = {}): RunOptions {
  // models.model (the purchase model, like --model) is not a model setting: it chooses the model.
  // models.covariates (like --covariates) chooses the model's covariates: not a setting either.
  const { model: configModel, covariates: configCovariates, ...fromConfig } = (config.models ?? {}) as Partial<ModelSettings> & { model?: string; covariates?: string | string[] };
  const settings: ModelSettings = {
    ...DEFAULT_SETTINGS,
    ...fromConfig,
    rfm: { ...DEFAULT_SETTINGS.rfm, ...(fromConfig.rfm ?? {}) },
    churn_tiers: { ...DEFAULT_SETTINGS.churn_tiers, ...(fromConfig.churn_tiers ?? {}) },
    key_accounts: { ...DEFAULT_SETTINGS.key_accounts, ...(fromConfig.key_accounts ?? {}) },
    contracts: { ...DEFAULT_SETTINGS.contracts, ...(fromConfig.contracts ?? {}) },
    value_tiers: fromConfig.value_tiers ?? DEFAULT_SETTINGS.value_tiers,
  };
  if (flags.timeUnit !== undefined) {
    if (!(flags.timeUnit in UNIT_DAYS)) throw usageError(`--time-unit ${flags.timeUnit}: use day, week, month or year`);
    settings.time_unit = flags.timeUnit as TimeUnit;
  }
  if (flags.churnBasis !== undefined) {
    if (!(CHURN_BASES as readonly string[]).includes(flags.churnBasis)) throw usageError(`--churn-basis ${flags.churnBasis}: use ${CHURN_BASES.join(' or ')}`);
    settings.churn_tiers = { ...settings.churn_tiers, basis: flags.churnBasis as ModelSettings['churn_tiers']['basis'] };
  }
  if (flags.horizon !== undefined) {
    const h = Number(flags.horizon);
    if (!Number.isInteger(h) || h < 1 || h > 120) throw usageError(`--horizon ${flags.horizon}: a whole number of months from 1 to 120`);
    settings.horizon_months = h;
  }
  if (flags.interval !== undefined) settings.interval = parseIntervalLevel(String(flags.interval));
  if (flags.share !== undefined) settings.key_accounts = { ...settings.key_accounts, share: parseShare(String(flags.share)) };
  const asOf = checkDate('--as-of', flags.asOf);
  const holdoutEnd = checkDate('--holdout-end', flags.holdoutEnd);
  const since = checkDate('--since', flags.since);
  if (holdoutEnd && asOf && holdoutEnd <= asOf) throw usageError(`--holdout-end ${holdoutEnd} must be after --as-of ${asOf}`);
  if (since && asOf && since > asOf) throw usageError(`--since ${since} must not be after --as-of ${asOf}`);
  validateSettings(settings);
  const model = parseModelFlag(flags.model ?? configModel);
  const covariates = parseCovariates(flags.covariates ?? configCovariates);
  if (model === 'bgbb') checkBgBbOptions(settings, holdoutEnd, covariates);
  return { asOf, holdoutEnd, since, settings, model, covariates };
}

/**
 * What the BG/BB run needs (exit 2 otherwise): whole months or years as its opportunities, a
 * horizon of whole periods; no backtest (its buckets and actuals count purchase days, the BG/BB
 * counts purchase periods) and no covariates (the covariate models are the continuous-time ones).
 */
function checkBgBbOptions(settings: ModelSettings, holdoutEnd: string | null, covariates: readonly string[]): void {
  const unit = settings.time_unit;
  if (!(BGBB_PERIOD_UNITS as readonly string[]).includes(unit)) {
    throw usageError(`--model bgbb counts purchases in whole periods: the time unit must be month or year (it is ${unit})`, [
      'Add --time-unit year (yearly donations, annual events) or --time-unit month (monthly billing).',
    ]);
  }
  if (unit === 'year' && settings.horizon_months % 12 !== 0) {
    throw usageError(`--horizon ${settings.horizon_months} with --model bgbb --time-unit year: the BG/BB forecasts whole years; use 12, 24, 36, … months`);
  }
  if (holdoutEnd !== null) {
    throw usageError('--holdout-end with --model bgbb: the backtest counts purchase days, the BG/BB purchase periods; crm run does not backtest the BG/BB yet', [
      'Run the backtest with a continuous-time model (--model bgnbd, pareto-nbd, mbgnbd or auto), or score with --model bgbb without --holdout-end.',
    ]);
  }
  if (covariates.length > 0) {
    throw usageError('--covariates with --model bgbb: the covariate models are the continuous-time ones (bgnbd, pareto-nbd, mbgnbd)');
  }
}

/**
 * --model's (or the config's models.model) value as a model key; auto when absent (issue #12 §2:
 * the model is chosen on the data; `--model bgnbd` keeps the single BG/NBD).
 */
function parseModelFlag(value: string | undefined): PurchaseModelKey | 'bgbb' | 'auto' {
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'bgbb') return value;
  const key = purchaseModelKey(value);
  if (key === null) throw usageError(`--model ${value}: use bgnbd, pareto-nbd, mbgnbd, bgbb or auto`);
  return key;
}

/** Order of two store dates as text ('2025-12-31', or a year past 9999): negative, zero or positive. */
function compareDates(a: string, b: string): number {
  const key = (d: string) => {
    const m = /^(\d+)-(\d{2})-(\d{2})/.exec(d);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [Number.NaN, 0, 0];
  };
  const [x, y] = [key(a), key(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/**
 * The run's as-of date (the flag, else the data's last date: run/contracts.ts lastDataDate), once
 * the dates that depend on the data are checked against it. The backtest compares predictions
 * with the purchases (and renewals) of the holdout (as-of, holdout-end], so that window must lie
 * within the data: a holdout-end after the data's last date would count days nobody recorded as
 * days without purchases (exit 3). A holdout needs an as-of before its end, and the 80/20 window a
 * --since on or before as-of: both are flag mistakes (exit 2), also when as-of is the default.
 * Messages name the last date as `dataEnd.described` says (the last transaction date without
 * contracts).
 */
export function checkDatesAgainstData(options: Pick<RunOptions, 'asOf' | 'holdoutEnd' | 'since'>, dataEnd: DataEnd): string {
  const lastDate = dataEnd.date;
  const asOf = options.asOf ?? lastDate;
  const defaulted = options.asOf === null ? ` (the default: ${dataEnd.described}${dataEnd.detail ? `, ${dataEnd.detail}` : ''})` : '';
  if (options.holdoutEnd && compareDates(options.holdoutEnd, lastDate) > 0) {
    const [recorded, missing] = dataEnd.contracts ? ['purchases and renewals', 'purchases or renewals'] : ['purchases', 'purchases'];
    const detail = dataEnd.detail ? ` (${dataEnd.detail})` : '';
    throw inputError(`--holdout-end ${options.holdoutEnd} is after ${dataEnd.described} in the store, ${lastDate}${detail}`, [
      `The backtest compares predictions with the ${recorded} recorded up to --holdout-end; days after the data ends would count as days without ${missing}.`,
      `Use a --holdout-end on or before ${lastDate}, and an earlier --as-of.`,
    ]);
  }
  if (options.holdoutEnd && compareDates(options.holdoutEnd, asOf) <= 0) {
    throw usageError(`--holdout-end ${options.holdoutEnd} must be after the as-of date ${asOf}${defaulted}`, [
      `A backtest scores customers as of an earlier date and compares with what they ${dataEnd.contracts ? 'bought or renewed' : 'bought'} until --holdout-end: \`crm run --as-of DATE --holdout-end LATER_DATE\`.`,
    ]);
  }
  if (options.since && compareDates(options.since, asOf) > 0) {
    throw usageError(`--since ${options.since} must not be after the as-of date ${asOf}${defaulted}`);
  }
  return asOf;
}

/** --interval's level: strictly between 0 and 1 (exit 2 otherwise). */
export function parseIntervalLevel(value: string): number {
  const n = Number(value);
  if (!(value.trim() !== '' && n > 0 && n < 1)) throw usageError(`--interval ${value}: a level between 0 and 1, e.g. 0.9 for 90% intervals`);
  return n;
}

export function parseShare(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw usageError(`--share ${value}: a share between 0 and 1, e.g. 0.8`);
  return n;
}

function validateSettings(s: ModelSettings): void {
  const problems: string[] = [];
  if (!Number.isInteger(s.rfm.bins) || s.rfm.bins < 2 || s.rfm.bins > 10) problems.push('models.rfm.bins: a whole number from 2 to 10');
  for (const key of ['recency_cuts', 'frequency_cuts', 'monetary_cuts'] as const) {
    const cuts = s.rfm[key];
    if (cuts && (cuts.length !== s.rfm.bins - 1 || cuts.some((c, i) => i > 0 && c < cuts[i - 1]))) {
      problems.push(`models.rfm.${key}: ${s.rfm.bins - 1} ascending values (one per score boundary)`);
    }
  }
  if (s.rfm.bins !== 5 && s.rfm.segments === DEFAULT_SEGMENT_RULES) {
    problems.push(`models.rfm.segments: the default segments are defined for 5 bins; with ${s.rfm.bins} bins give your own rules`);
  } else {
    problems.push(...validateSegmentRules(s.rfm.segments, s.rfm.bins));
  }
  if (!(typeof s.interval === 'number' && s.interval > 0 && s.interval < 1)) problems.push('models.interval: a level between 0 and 1, e.g. 0.9 for 90% intervals');
  if (!(s.discount_rate >= 0 && s.discount_rate < 1)) problems.push('models.discount_rate: from 0 to 1 (0.1 = 10% a year)');
  if (!(s.churn_tiers.medium > 0 && s.churn_tiers.medium < s.churn_tiers.high && s.churn_tiers.high < 1)) {
    problems.push('models.churn_tiers: 0 < medium < high < 1');
  }
  if (!(CHURN_BASES as readonly string[]).includes(s.churn_tiers.basis)) {
    problems.push(`models.churn_tiers.basis: ${CHURN_BASES.join(' or ')}`);
  }
  const ka = s.key_accounts;
  if (!(ka.share > 0 && ka.share <= 1 && ka.b_share >= ka.share && ka.b_share <= 1)) problems.push('models.key_accounts: 0 < share ≤ b_share ≤ 1');
  if (!(ka.trend_window_days >= 7)) problems.push('models.key_accounts.trend_window_days: at least 7');
  if (!(Number.isInteger(ka.max_per_owner) && ka.max_per_owner >= 1)) problems.push('models.key_accounts.max_per_owner: a whole number, at least 1');
  const c = s.contracts;
  if (!(Number.isInteger(c.grace_days) && c.grace_days >= 0 && c.grace_days <= 366)) problems.push('models.contracts.grace_days: a whole number of days from 0 to 366');
  if (!(CONTRACT_PERIODS as readonly string[]).includes(c.period)) problems.push(`models.contracts.period: one of ${CONTRACT_PERIODS.join(', ')}`);
  if (!(Number.isInteger(c.min_contracts) && c.min_contracts >= 1)) problems.push('models.contracts.min_contracts: a whole number, at least 1');
  const tiers = s.value_tiers;
  if (tiers.length < 1) problems.push('models.value_tiers: at least one tier');
  const last = tiers[tiers.length - 1];
  if (last && (last.top_share !== undefined || last.min_clv !== undefined)) problems.push('models.value_tiers: the last tier takes everyone left (no top_share or min_clv)');
  const body = tiers.slice(0, -1);
  const byShare = body.every((t) => t.top_share !== undefined && t.min_clv === undefined);
  const byClv = body.every((t) => t.min_clv !== undefined && t.top_share === undefined);
  if (!byShare && !byClv) problems.push('models.value_tiers: give every tier but the last either top_share or min_clv');
  if (byShare && body.some((t, i) => !(t.top_share! > 0 && t.top_share! < 1) || (i > 0 && t.top_share! <= body[i - 1].top_share!))) {
    problems.push('models.value_tiers: top_share values increasing, between 0 and 1');
  }
  if (byClv && body.some((t, i) => i > 0 && t.min_clv! >= body[i - 1].min_clv!)) problems.push('models.value_tiers: min_clv values decreasing');
  if (problems.length) throw inputError('invalid model settings (crm.config.json "models")', problems);
}
