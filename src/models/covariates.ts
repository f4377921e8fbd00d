/**
 * Time-invariant covariates on the purchase and dropout processes of the continuous-time purchase
 * models (purchase-models.ts), after Fader & Hardie (2007), "Incorporating Time-Invariant
 * Covariates into the Pareto/NBD and BG/NBD Models" (brucehardie.com/notes/019). CLVTools fits
 * the same models ("static covariates"); its documentation was read for ideas, no code was taken.
 *
 * Each customer i has a vector z_i of covariates (here: dummies of categorical variables, coded
 * against a baseline level, so z = 0 is a baseline customer). The covariates scale the rate
 * parameters of the mixing distributions, leaving the shapes (r, s) common to all:
 *   Pareto/NBD:       α_i = α0 · exp(−γ_pᵀ z_i)   (purchase: λ ~ Gamma(r, α_i))
 *                     β_i = β0 · exp(−γ_dᵀ z_i)   (dropout:  μ ~ Gamma(s, β_i))
 *   BG/NBD, MBG/NBD:  α_i = α0 · exp(−γ_pᵀ z_i)
 *                     b_i = b0 · exp(−γ_dᵀ z_i),  a common   (p ~ Beta(a, b_i))
 * The Pareto/NBD's is the note's form. For the BG/NBD the note lets both a and b depend on the
 * covariates (a_i = a0 e^(γ_aᵀz), b_i = b0 e^(γ_bᵀz)); we restrict it to b (γ_a = 0, one dropout
 * coefficient per dummy, as many as the Pareto/NBD has). Why: with a and b both free per level,
 * a level's Beta can run off to its homogeneous-dropout limit (a, b → ∞ at a fixed ratio, the
 * BG/NBD's boundary, bgnbd-limits.ts) — on the 486-customer sample data the full form ran away
 * for two of six regions and was not identifiable, while the restricted one converged.
 * Signs: a positive purchase coefficient means a smaller α, i.e. a higher mean purchase rate
 * (E[λ] = r/α_i = (r/α0) e^(γ_pᵀz)); a positive dropout coefficient means more dropout —
 * Pareto/NBD: E[μ] = s/β_i = (s/β0) e^(γ_dᵀz); BG/NBD family: E[p] = a/(a + b_i), b_i smaller.
 *
 * Assumptions beyond the base model's: the covariates are fixed over the customer's whole
 * history (time-invariant), act multiplicatively on the rate parameters (α, β; b for the BG/NBD
 * family), and the shapes r and s (a) are shared; customers remain independent.
 *
 * Given z the model is the base model with parameters (r, α_i, …): so customers with the same
 * covariate values (a "cell") share the base model's likelihood, and
 *   ln L = Σ_cells ln L_base(r, α_c, s, β_c | the cell's compressed histories).
 * The gradient follows by the chain rule from the base model's analytic gradient in its
 * log-parameters: with θ_c = (ln r, ln α0 − γ_pᵀz_c, ln s, ln β0 − γ_dᵀz_c),
 *   ∂ ln L/∂ ln α0 = Σ_c ∂ ln L_c/∂θ_c,α,   ∂ ln L/∂γ_p,k = −Σ_c z_c,k ∂ ln L_c/∂θ_c,α
 * and likewise for the dropout parameter (β, or b). With every γ = 0 the likelihood
 * is the base model's, so the base model is nested and a likelihood-ratio test with as many
 * degrees of freedom as coefficients compares the two (Wilks: 2 (ln L_cov − ln L_base) ~ χ²_df
 * under the base model).
 *
 * Predictions (P(alive), expected purchases, P(no purchase), discounted purchases for CLV) are
 * the base model's with each cell's own parameters.
 *
 * Fit: mle.ts (several starts, BFGS, Hessian standard errors). mle.ts optimises θ and reports
 * e^θ; a coefficient is a θ component itself, so its estimate is ln of what mle.ts reports and
 * its standard error se(e^γ)/e^γ = se(γ) (the delta method mle.ts applies, undone exactly).
 * Coefficients beyond |γ| = ln 1e4 ≈ 9.2 (a factor of 10,000 between levels) are reported as
 * runaways, as mle.ts does for every parameter.
 */
import { bgnbdLogLikelihoodFunction } from './bgnbd.js';
import { mbgnbdLogLikelihoodFunction } from './mbgnbd.js';
import { DEFAULT_SUBSAMPLE_SEED, failedMle, fitMaximumLikelihood, positiveRows, type LogLikelihood, type MleFit, type MleOptions, type ParameterSpace } from './mle.js';
import { paretoNbdLogLikelihoodFunction } from './pareto-nbd.js';
import { PURCHASE_MODEL_PARAMETERS, type PurchaseModelKey } from './purchase-models.js';
import { Rng } from './random.js';
import { pickRows, validateRfmSummary, weightedSubsample, type RfmSummary } from './rfm-data.js';
import { chiSquareUpperTail } from './special.js';

/** The processes a coefficient acts on, by model, and how it moves its base parameter. */
export interface CovariateEffect {
  /** Name of the coefficient group in reports. */
  name: 'purchase' | 'dropout';
  /** Index of the base parameter it scales, in PURCHASE_MODEL_PARAMETERS order. */
  parameter: number;
  /** ln param_i = ln param_0 + sign · γᵀ z_i. */
  sign: 1 | -1;
}

export const COVARIATE_EFFECTS: Record<PurchaseModelKey, readonly CovariateEffect[]> = {
  pareto_nbd: [
    { name: 'purchase', parameter: 1, sign: -1 },
    { name: 'dropout', parameter: 3, sign: -1 },
  ],
  bgnbd: [
    { name: 'purchase', parameter: 1, sign: -1 },
    { name: 'dropout', parameter: 3, sign: -1 },
  ],
  mbgnbd: [
    { name: 'purchase', parameter: 1, sign: -1 },
    { name: 'dropout', parameter: 3, sign: -1 },
  ],
};

/** The base model's four parameters (the BG/NBD's boundary parameter p is not one of them). */
export function baseParameterNames(key: PurchaseModelKey): readonly string[] {
  return PURCHASE_MODEL_PARAMETERS[key].slice(0, 4);
}

/** Compressed histories with the covariate cell of each row and each cell's covariate vector. */
export interface CovariateData {
  /** (x, t_x, T, weight) per distinct (history, cell). */
  histories: RfmSummary;
  /** Cell index of each row (0 … design.length − 1). */
  cell: Uint32Array;
  /** z per cell: one value per dummy (dummyNames order). */
  design: readonly (readonly number[])[];
  /** The dummies' names, e.g. 'region=South'. */
  dummyNames: readonly string[];
}

const BASE_LIKELIHOOD: Record<PurchaseModelKey, (data: RfmSummary) => LogLikelihood> = {
  pareto_nbd: paretoNbdLogLikelihoodFunction,
  bgnbd: bgnbdLogLikelihoodFunction,
  mbgnbd: mbgnbdLogLikelihoodFunction,
};

/** The rows of each cell, as the base model's compressed input. */
export function splitByCell(data: CovariateData): RfmSummary[] {
  const rowsOfCell: number[][] = data.design.map(() => []);
  for (let i = 0; i < data.cell.length; i++) rowsOfCell[data.cell[i]].push(i);
  return rowsOfCell.map((list) => {
    const rows = Uint32Array.from(list);
    const h = data.histories;
    return { x: pickRows(h.x, rows), tx: pickRows(h.tx, rows), T: pickRows(h.T, rows), weight: pickRows(h.weight, rows) };
  });
}

/** Names of the optimiser's parameters: the base model's, then `effect:dummy` per coefficient. */
export function covariateParameterNames(key: PurchaseModelKey, dummyNames: readonly string[]): string[] {
  return [...baseParameterNames(key), ...COVARIATE_EFFECTS[key].flatMap((e) => dummyNames.map((d) => `${e.name}:${d}`))];
}

/** θ of one cell's base model (ln of its four parameters) from the full θ. */
function cellTheta(key: PurchaseModelKey, theta: ArrayLike<number>, z: readonly number[], out: Float64Array): void {
  const k = z.length;
  for (let j = 0; j < 4; j++) out[j] = theta[j];
  COVARIATE_EFFECTS[key].forEach((effect, e) => {
    let dot = 0;
    for (let d = 0; d < k; d++) dot += theta[4 + e * k + d] * z[d];
    out[effect.parameter] += effect.sign * dot;
  });
}

/**
 * The covariate model's log-likelihood over θ = (ln base parameters, coefficients) with its
 * analytic gradient: the base model's per cell, chained (header).
 */
export function covariateLikelihood(key: PurchaseModelKey, data: CovariateData): LogLikelihood & { cells: LogLikelihood[] } {
  // A cell no customer falls in contributes nothing.
  const empty: LogLikelihood = { customers: 0, evaluate: () => 0 };
  const cells = splitByCell(data).map((d) => (d.x.length > 0 ? BASE_LIKELIHOOD[key](d) : empty));
  const k = data.dummyNames.length;
  const effects = COVARIATE_EFFECTS[key];
  const thetaCell = new Float64Array(4);
  const gradCell = new Float64Array(4);
  return {
    cells,
    customers: cells.reduce((sum, c) => sum + c.customers, 0),
    evaluate(theta: Float64Array, gradient: Float64Array): number {
      gradient.fill(0);
      let total = 0;
      for (let c = 0; c < cells.length; c++) {
        if (!(cells[c].customers > 0)) continue;
        const z = data.design[c];
        cellTheta(key, theta, z, thetaCell);
        gradCell.fill(0);
        const ll = cells[c].evaluate(thetaCell, gradCell);
        if (!Number.isFinite(ll)) return ll;
        total += ll;
        for (let j = 0; j < 4; j++) gradient[j] += gradCell[j];
        effects.forEach((effect, e) => {
          const g = effect.sign * gradCell[effect.parameter];
          for (let d = 0; d < k; d++) gradient[4 + e * k + d] += g * z[d];
        });
      }
      return total;
    },
  };
}

/** One coefficient: the effect it has, the dummy it belongs to, estimate and standard error. */
export interface CovariateCoefficient {
  effect: CovariateEffect['name'];
  dummy: string;
  estimate: number;
  se: number | null;
}

export interface CovariateFit {
  key: PurchaseModelKey;
  /** A baseline customer's parameters (z = 0): r, α0, s, β0 or r, α0, a0, b0. */
  base: Record<string, number>;
  baseStandardErrors: Record<string, number> | null;
  coefficients: CovariateCoefficient[];
  logLikelihood: number;
  converged: boolean;
  message: string;
  iterations: number;
  customers: number;
  /** Distinct (history, cell) rows the fit read. */
  rows: number;
  /** The underlying mle.ts fit (parameters as e^θ). */
  mle: MleFit<Record<string, number>>;
}

/** The parameters of a customer with covariate vector z. */
export function paramsAt(fit: Pick<CovariateFit, 'key' | 'base' | 'coefficients'>, dummyNames: readonly string[], z: readonly number[]): Record<string, number> {
  const names = baseParameterNames(fit.key);
  const theta = new Float64Array(4 + COVARIATE_EFFECTS[fit.key].length * dummyNames.length);
  names.forEach((n, j) => (theta[j] = Math.log(fit.base[n])));
  const index = new Map(covariateParameterNames(fit.key, dummyNames).map((n, i) => [n, i]));
  for (const c of fit.coefficients) theta[index.get(`${c.effect}:${c.dummy}`)!] = c.estimate;
  const out = new Float64Array(4);
  cellTheta(fit.key, theta, z, out);
  return Object.fromEntries(names.map((n, j) => [n, Math.exp(out[j])]));
}

/** Weighted mean of T over positive-weight rows (the rate parameters' time scale). */
function meanT(data: RfmSummary): number {
  let w = 0;
  let wt = 0;
  for (let i = 0; i < data.x.length; i++) {
    if (!(data.weight[i] > 0)) continue;
    w += data.weight[i];
    wt += data.weight[i] * data.T[i];
  }
  return w > 0 ? wt / w : 0;
}

/**
 * Above twice this many distinct (history, cell) rows the starts run on a weighted subsample and
 * only the best is refined on all rows (mle.ts), as the base models do; the Pareto/NBD's rows
 * cost two 2F1 series each. Measured on 50,000 generated customers (30,608 rows, 24 cells, 14
 * coefficients; load 15 on 2 cores): the Pareto/NBD covariate fit took 57 s with every start on
 * all rows.
 */
const DEFAULT_SUBSAMPLE_ROWS: Record<PurchaseModelKey, number> = { pareto_nbd: 10_000, bgnbd: 60_000, mbgnbd: 60_000 };

/** The covariate data at a weighted random subsample of its rows (rfm-data.ts weightedSubsample), or null when small enough. */
function subsampleOf(data: CovariateData, targetRows: number, seed: number): CovariateData | null {
  const n = data.histories.x.length;
  if (!(targetRows > 0) || n <= 2 * targetRows) return null;
  const rng = new Rng(seed);
  const sample = weightedSubsample(data.histories.weight, targetRows, () => rng.uniform());
  const h = data.histories;
  return {
    ...data,
    histories: { x: pickRows(h.x, sample.rows), tx: pickRows(h.tx, sample.rows), T: pickRows(h.T, sample.rows), weight: sample.weight },
    cell: Uint32Array.from(sample.rows, (i) => data.cell[i]),
  };
}

/**
 * Maximum-likelihood fit of the covariate model. Starts: the base model's own estimate with
 * every coefficient 0 (the nested model's optimum, so the fit can only improve on it), and two
 * starts with the rate parameters halved and doubled (coefficients 0) — several starts as every
 * model here; on large inputs the starts run on a subsample and the best is refined on all rows.
 * Never throws on bad data: converged false and a message.
 */
export function fitCovariateModel(key: PurchaseModelKey, data: CovariateData, baseEstimate: Record<string, number>, opts: MleOptions = {}): CovariateFit {
  const names = covariateParameterNames(key, data.dummyNames);
  const baseNames = baseParameterNames(key);
  const scaleT = Math.log(meanT(data.histories) > 0 ? meanT(data.histories) : 1);
  // α and β are rates in time units (scale mean T); r, s, a, b are shapes.
  const space: ParameterSpace<Record<string, number>> = {
    names,
    logScales: names.map((n) => (n === 'alpha' || (key === 'pareto_nbd' && n === 'beta') ? scaleT : 0)),
  };
  const problem = validateRfmSummary(data.histories);
  const failed = (message: string): CovariateFit => ({
    key,
    base: Object.fromEntries(baseNames.map((n) => [n, NaN])),
    baseStandardErrors: null,
    coefficients: [],
    logLikelihood: NaN,
    converged: false,
    message,
    iterations: 0,
    customers: NaN,
    rows: data.histories.x.length,
    mle: failedMle(space, message, data.histories.x.length, NaN),
  });
  if (problem !== null) return failed(`invalid input: ${problem}`);
  if (data.dummyNames.length === 0) return failed('no covariate has two levels or more: there is nothing to estimate');
  if (!baseNames.every((n) => baseEstimate[n] > 0 && Number.isFinite(baseEstimate[n]))) return failed('the model without covariates has no estimate to start from');
  const likelihood = covariateLikelihood(key, data);
  const zeros = Object.fromEntries(names.slice(4).map((n) => [n, 1]));
  const scaled = (factor: number) => ({
    ...Object.fromEntries(baseNames.map((n, j) => [n, j === 1 || j === 3 ? baseEstimate[n] * factor : baseEstimate[n]])),
    ...zeros,
  });
  const starts = [{ ...baseEstimate, ...zeros }, scaled(0.5), scaled(2)].map((s) => Object.fromEntries(names.map((n) => [n, s[n]])));
  const sample = subsampleOf(data, opts.subsampleRows ?? DEFAULT_SUBSAMPLE_ROWS[key], opts.seed ?? DEFAULT_SUBSAMPLE_SEED);
  const mle = fitMaximumLikelihood(space, likelihood, starts, positiveRows(data.histories.weight).length, opts, sample ? covariateLikelihood(key, sample) : null);
  const se = mle.standardErrors;
  return {
    key,
    base: Object.fromEntries(baseNames.map((n) => [n, mle.params[n]])),
    baseStandardErrors: se ? Object.fromEntries(baseNames.map((n) => [n, se[n]])) : null,
    coefficients: names.slice(4).map((n) => {
      const [effect, dummy] = [n.slice(0, n.indexOf(':')), n.slice(n.indexOf(':') + 1)];
      return { effect: effect as CovariateEffect['name'], dummy, estimate: Math.log(mle.params[n]), se: se ? se[n] / mle.params[n] : null };
    }),
    logLikelihood: mle.logLikelihood,
    converged: mle.converged,
    message: mle.message,
    iterations: mle.iterations,
    customers: likelihood.customers,
    rows: mle.rows,
    mle,
  };
}

/** A likelihood-ratio test of the covariate model against the model without covariates. */
export interface LikelihoodRatioTest {
  statistic: number;
  df: number;
  p_value: number;
  log_likelihood_without: number;
  log_likelihood_with: number;
}

/**
 * 2 (ln L_with − ln L_without) against χ²_df (Wilks). The nested optimum can only be matched or
 * beaten; a statistic a hair below 0 (the two optimisers' tolerances) is reported as 0.
 */
export function likelihoodRatioTest(logLikelihoodWith: number, logLikelihoodWithout: number, df: number): LikelihoodRatioTest {
  const statistic = Math.max(0, 2 * (logLikelihoodWith - logLikelihoodWithout));
  return { statistic, df, p_value: chiSquareUpperTail(statistic, df), log_likelihood_without: logLikelihoodWithout, log_likelihood_with: logLikelihoodWith };
}
