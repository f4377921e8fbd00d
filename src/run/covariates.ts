/**
 * The covariate step of `crm run --covariates region,channel` (models/covariates.ts): runs only
 * when covariates are asked for, after the chosen purchase model is fitted and its predictions
 * are staged. It
 *   1. reads each scored customer's covariate levels, pools the small ones and picks the
 *      baselines (SQL, models/relations/covariates.ts);
 *   2. compresses the histories per (x, t_x, T, covariate cell) with counts (SQL);
 *   3. fits the same model with covariates (TypeScript, on the compressed rows), starting from
 *      the fit without them, and tests one against the other (likelihood ratio);
 *   4. if that fit converged, predicts every (history, cell) with the cell's own parameters and
 *      re-keys the run's customers by (history, cell), so that the same relations — the churn
 *      tier rule (relations/predictions.ts), customer_metrics, the backtest — carry the covariate
 *      model's values in the same columns. If it did not converge, the model without covariates
 *      stays in use and the report says why.
 */
import { readNumericColumns, writeDoubleTable } from '../store/columnar.js';
import type { Store } from '../store/db.js';
import { inputError, usageError } from '../util/errors.js';
import type { ClvOptions } from '../models/clv.js';
import { COVARIATE_EFFECTS, baseParameterNames, fitCovariateModel, likelihoodRatioTest, paramsAt, type CovariateData, type CovariateEffect, type LikelihoodRatioTest } from '../models/covariates.js';
import { discountedPurchasesAll, PURCHASE_MODEL_NAMES, purchaseModelAt, type PurchaseModelKey } from '../models/purchase-models.js';
import { materialize, rowsOf } from '../models/relation.js';
import { COVARIATE_NAMES, covariateHistories, covariateLevels, covariateValues, customerCovariateKeys, POOLED_LEVEL, type CovariateName } from '../models/relations/covariates.js';
import { historyKeyFields } from '../models/relations/histories.js';
import { PREDICTIONS } from '../models/relations/predictions.js';
import type { RfmSummary } from '../models/rfm-data.js';

/** Levels with fewer customers than this are pooled into "(other)". */
export const MIN_LEVEL_CUSTOMERS = 30;

/** `--covariates region,channel` (or the config's models.covariates) as covariate names; unknown names exit 2. */
export function parseCovariates(value: string | readonly string[] | undefined): CovariateName[] {
  if (value === undefined) return [];
  const names = (typeof value === 'string' ? value.split(',') : [...value]).map((n) => String(n).trim());
  const allowed = COVARIATE_NAMES.join(', ');
  if (names.length === 0 || names.some((n) => n === '')) throw usageError(`--covariates ${String(value)}: give covariate names separated by commas (allowed: ${allowed})`);
  const unknown = names.filter((n) => !(COVARIATE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw usageError(`--covariates: unknown covariate${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; allowed: ${allowed}`, [
      'region: the customer’s region (customers table); channel: the channel of the customer’s first purchase (transactions).',
    ]);
  }
  // In the canonical order, once each: the same run whatever order they were given in.
  return COVARIATE_NAMES.filter((n) => names.includes(n));
}

/** One level's coefficients (absent for the baseline): estimate and standard error per effect. */
export type LevelCoefficients = { customers: number; baseline?: true } & Partial<Record<`${CovariateEffect['name']}${'' | '_se'}`, number | null>>;

export interface CovariateVariableReport {
  /** The level coefficients are relative to (the most frequent after pooling). */
  baseline: string;
  /** Every level after pooling, baseline first, with its customers and coefficients. */
  levels: Record<string, LevelCoefficients>;
  /** The raw levels pooled into "(other)" (fewer than min_level_customers customers each). */
  pooled: string[];
}

/** What `crm model show --json` holds under `<model>.covariates` (runs.covariates). */
export interface CovariatesReport {
  /** The covariates, in the order they are coded. */
  names: CovariateName[];
  /** The model they were fitted with (the run's model key). */
  model: PurchaseModelKey;
  /** The effects each level has: purchase (α) and dropout (β of the Pareto/NBD, b of the BG/NBD family). */
  effects: CovariateEffect['name'][];
  min_level_customers: number;
  variables: Partial<Record<CovariateName, CovariateVariableReport>>;
  /** A baseline customer's parameters (every covariate at its baseline level), with standard errors. */
  baseline: { [parameter: string]: number | Record<string, number> | null; standard_errors: Record<string, number> | null };
  log_likelihood: number;
  converged: boolean;
  message: string;
  /** The predictions in customer_metrics are this model's (false: the model without covariates, the message says why). */
  used: boolean;
  customers: number;
  /** Covariate cells (level combinations) with customers, and distinct (history, cell) rows fitted. */
  cells: number;
  histories: number;
  /** Against the same model without covariates. */
  lr_test: LikelihoodRatioTest | null;
}

export interface CovariateStepInput {
  store: Store;
  names: CovariateName[];
  model: PurchaseModelKey;
  /** The model without covariates: its estimate (the start) and log-likelihood (the LR test). */
  baseParams: Record<string, number>;
  baseLogLikelihood: number;
  asOf: string;
  unitDays: number;
  horizonUnits: number;
  /** Holdout length in units with --holdout-end (the backtest's predictions are written too). */
  holdoutUnits: number | null;
  clv: ClvOptions;
  tiers: { tier_basis: string; high: number; medium: number };
}

type LevelRow = { covariate: CovariateName; level: string; customers: number; pooled_level: string; level_index: number; pooled_customers: number };

export async function runCovariateStep(input: CovariateStepInput): Promise<CovariatesReport> {
  const { store, names } = input;
  await materialize(store, covariateValues(names), { as_of: input.asOf });
  await materialize(store, covariateLevels(names), { min_customers: MIN_LEVEL_CUSTOMERS });
  const rows = await rowsOf<LevelRow, never>(store, { name: 'levels', grain: 'one row per covariate and raw level', params: [], sql: 'SELECT * FROM temp.run_covariate_levels ORDER BY covariate, level_index, level' }, {});
  // Pooled levels per covariate, baseline (index 0) first.
  const levels = names.map((name) => {
    const own = rows.filter((r) => r.covariate === name);
    const pooled: { level: string; customers: number }[] = [];
    for (const r of own) if (!pooled[r.level_index]) pooled[r.level_index] = { level: r.pooled_level, customers: Number(r.pooled_customers) };
    return { name, pooled, pooledRaw: own.filter((r) => r.pooled_level === POOLED_LEVEL && r.level !== POOLED_LEVEL).map((r) => r.level) };
  });
  const single = levels.find((l) => l.pooled.length < 2);
  if (single) {
    const only = single.pooled[0];
    throw inputError(`--covariates ${single.name}: all ${only.customers.toLocaleString('en-US')} scored customers have the same ${single.name} after pooling ("${only.level}"): there is nothing to estimate`, [
      `Levels with fewer than ${MIN_LEVEL_CUSTOMERS} customers are pooled into "${POOLED_LEVEL}"; a missing ${single.name} is the level "(none)".`,
    ]);
  }
  // Mixed radix: cell = Σ level_index_k · radix_k; each cell's dummies decode from it.
  const radix = levels.map((_, k) => levels.slice(0, k).reduce((p, l) => p * l.pooled.length, 1));
  const cellCount = levels.reduce((p, l) => p * l.pooled.length, 1);
  const dummyNames = levels.flatMap((l) => l.pooled.slice(1).map((p) => `${l.name}=${p.level}`));
  const design = Array.from({ length: cellCount }, (_, cell) =>
    levels.flatMap((l, k) => {
      const index = Math.floor(cell / radix[k]) % l.pooled.length;
      return l.pooled.slice(1).map((_, j) => (index === j + 1 ? 1 : 0));
    }),
  );
  await materialize(store, covariateHistories(names), { radix });
  const h = await readNumericColumns(store, 'SELECT covariate_key, x, t_x_days, T_days, cell, customers FROM temp.run_covariate_histories ORDER BY covariate_key');
  const histories: RfmSummary = { x: h.x, tx: h.t_x_days.map((d) => d / input.unitDays), T: h.T_days.map((d) => d / input.unitDays), weight: h.customers };
  const data: CovariateData = { histories, cell: Uint32Array.from(h.cell), design, dummyNames };
  const fit = fitCovariateModel(input.model, data, input.baseParams);
  const used = fit.converged;
  const report = describe(input, levels, fit, data, used);
  if (!used) return report;

  // Per cell, the base model at the cell's parameters (models/covariates.ts paramsAt).
  const n = histories.x.length;
  const out = { p_alive: new Float64Array(n), p_no_purchase: new Float64Array(n), expected_purchases: new Float64Array(n), discounted_purchases: new Float64Array(n), holdout: new Float64Array(n) };
  const rowsOfCell: number[][] = design.map(() => []);
  for (let i = 0; i < n; i++) rowsOfCell[data.cell[i]].push(i);
  rowsOfCell.forEach((list, cell) => {
    if (list.length === 0) return;
    const model = purchaseModelAt(input.model, paramsAt(fit, dummyNames, design[cell]));
    const pick = (v: Float64Array) => Float64Array.from(list, (i) => v[i]);
    const part: RfmSummary = { x: pick(histories.x), tx: pick(histories.tx), T: pick(histories.T), weight: pick(histories.weight) };
    const p = model.predict(part, input.horizonUnits);
    const discounted = discountedPurchasesAll(model, part, input.clv);
    const holdout = input.holdoutUnits !== null ? model.predict(part, input.holdoutUnits).expectedPurchases : null;
    list.forEach((row, k) => {
      out.p_alive[row] = p.pAlive[k];
      out.p_no_purchase[row] = p.pNoPurchase[k];
      out.expected_purchases[row] = p.expectedPurchases[k];
      out.discounted_purchases[row] = discounted[k];
      if (holdout) out.holdout[row] = holdout[k];
    });
  });
  await writeDoubleTable(store, 'run_covariate_predictions', {
    covariate_key: h.covariate_key,
    p_alive: out.p_alive,
    p_no_purchase: out.p_no_purchase,
    expected_purchases: out.expected_purchases,
    discounted_purchases: out.discounted_purchases,
    holdout_predicted: out.holdout,
  });
  // Customers keyed by (history, cell): the relations after this step join on it.
  await materialize(store, customerCovariateKeys(names), { radix });
  await store.run(`UPDATE temp.run_base SET history_key = k.covariate_key FROM temp.run_customer_covariate_keys k WHERE run_base.customer_id = k.customer_id`);
  const key = historyKeyFields('CAST(covariate_key AS BIGINT)');
  await store.run(`CREATE OR REPLACE TEMP TABLE run_predictions_raw AS
    SELECT ${key.x} AS x, ${key.txDays} AS t_x_days, ${key.tDays} AS T_days, p_alive, p_no_purchase, expected_purchases, discounted_purchases,
           -- No intervals for the covariate model yet (models/intervals.ts propagates the plain models' covariances only).
           NULL::DOUBLE AS expected_purchases_low, NULL::DOUBLE AS expected_purchases_high, NULL::DOUBLE AS discounted_log_sd
    FROM temp.run_covariate_predictions`);
  await materialize(store, PREDICTIONS, { ...input.tiers, churn_method: input.model });
  if (input.holdoutUnits !== null) {
    await store.run(`CREATE OR REPLACE TEMP TABLE run_holdout_predictions AS
      SELECT CAST(${key.x} AS DOUBLE) AS x, CAST(${key.txDays} AS DOUBLE) AS t_x_days, CAST(${key.tDays} AS DOUBLE) AS T_days, holdout_predicted AS predicted
      FROM temp.run_covariate_predictions`);
  }
  for (const t of ['run_predictions_raw', 'run_covariate_predictions', 'run_customer_covariate_keys', 'run_covariate_values']) await store.run(`DROP TABLE IF EXISTS temp.${t}`);
  return report;
}

function describe(
  input: CovariateStepInput,
  levels: { name: CovariateName; pooled: { level: string; customers: number }[]; pooledRaw: string[] }[],
  fit: ReturnType<typeof fitCovariateModel>,
  data: CovariateData,
  used: boolean,
): CovariatesReport {
  const effects = COVARIATE_EFFECTS[input.model].map((e) => e.name);
  const variables: CovariatesReport['variables'] = {};
  for (const l of levels) {
    const entries: Record<string, LevelCoefficients> = {};
    l.pooled.forEach((p, index) => {
      const level: LevelCoefficients = { customers: p.customers };
      if (index === 0) level.baseline = true;
      else {
        for (const effect of effects) {
          const c = fit.coefficients.find((x) => x.effect === effect && x.dummy === `${l.name}=${p.level}`);
          level[effect] = c ? c.estimate : null;
          level[`${effect}_se`] = c ? c.se : null;
        }
      }
      entries[p.level] = level;
    });
    variables[l.name] = { baseline: l.pooled[0].level, levels: entries, pooled: l.pooledRaw };
  }
  const cellsWithCustomers = new Set(data.cell).size;
  const message = used ? fit.message : `the ${PURCHASE_MODEL_NAMES[input.model]} with covariates did not converge (${fit.message}); the model without covariates is used`;
  return {
    names: input.names,
    model: input.model,
    effects,
    min_level_customers: MIN_LEVEL_CUSTOMERS,
    variables,
    baseline: { ...Object.fromEntries(baseParameterNames(input.model).map((n) => [n, fit.base[n]])), standard_errors: fit.baseStandardErrors },
    log_likelihood: fit.logLikelihood,
    converged: fit.converged,
    message,
    used,
    customers: fit.customers,
    cells: cellsWithCustomers,
    histories: data.histories.x.length,
    lr_test: Number.isFinite(fit.logLikelihood) && Number.isFinite(input.baseLogLikelihood) ? likelihoodRatioTest(fit.logLikelihood, input.baseLogLikelihood, fit.coefficients.length) : null,
  };
}
