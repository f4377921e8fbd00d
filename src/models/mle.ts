/**
 * Maximum-likelihood fitting shared by the Pareto/NBD, MBG/NBD and BG/BB modules (the BG/NBD
 * keeps its own, tuned fit in bgnbd.ts): BFGS on the log-parameters from several starts, the best
 * start kept, runaway parameters reported, and standard errors from the observed information.
 *
 * The objective is the mean negative log-likelihood per customer (scale-free, so one gradient
 * tolerance serves any number of customers). Standard errors: the observed information is the
 * numeric Hessian (central differences of the gradient) of −Σ weight · ln L in θ = ln params,
 * inverted; se(param) = param · se(ln param) (delta method), as in bgnbd.ts.
 */
import { invertSymmetric, minimizeBfgs, numericHessian, refineByUnitSteps, type MinimizeResult } from './optimize.js';
import { Rng } from './random.js';
import { pickRows, weightedSubsample, type RfmSummary } from './rfm-data.js';

/** A model's log-likelihood over its prepared data, in log-parameters. */
export interface LogLikelihood {
  /** Σ weight: the number of customers (> 0). */
  customers: number;
  /**
   * Σ weight · ln L at params = e^θ; writes ∂/∂θ_i into `gradient` (θ = ln params). May return
   * NaN or −Infinity outside the numerically valid region (the line search then steps back).
   */
  evaluate(theta: Float64Array, gradient: Float64Array): number;
}

export interface MleStart<P> {
  initial: P;
  params: P;
  logLikelihood: number;
  converged: boolean;
  iterations: number;
}

export interface MleFit<P> {
  /** Estimates (NaN when no fit was possible). */
  params: P;
  logLikelihood: number;
  /** The optimiser converged, no parameter ran away and the information matrix is positive definite. */
  converged: boolean;
  iterations: number;
  starts: MleStart<P>[];
  standardErrors: P | null;
  /**
   * The inverse observed information in θ = ln params (names' order): the asymptotic covariance
   * of ln params, which intervals.ts propagates to per-customer predictions. null with no fit.
   */
  covariance: number[][] | null;
  message: string;
  /** Largest |∂(mean log-likelihood)/∂ln θ| at the estimate. */
  gradientNorm: number;
  customers: number;
  rows: number;
}

export interface MleOptions {
  gradientTolerance?: number;
  maxIterations?: number;
  /** Central-difference step (in log-parameters) for the observed information. */
  hessianStep?: number;
  /**
   * Inputs with more distinct rows than twice this run the starts on a weighted random
   * subsample of about this many rows (Horvitz–Thompson weights, rfm-data.ts) and refine only the
   * best start on all rows, as bgnbd.ts does; 0 disables it. Models decide the default.
   */
  subsampleRows?: number;
  /** Seed of the subsample draw (the fit is deterministic for a given seed). */
  seed?: number;
}

/** Starts on a subsample stop here (mean log-likelihood scale): its sampling noise is far larger. */
const SUBSAMPLE_GRADIENT_TOLERANCE = 1e-6;

const DEFAULT_GRADIENT_TOLERANCE = 1e-8;
const DEFAULT_MAX_ITERATIONS = 400;
const DEFAULT_HESSIAN_STEP = 1e-4;
/** Full quasi-Newton steps tried in the refinement on all rows before the line-searched BFGS takes over. */
const UNIT_STEP_ITERATIONS = 20;
/** |ln param| beyond this (e^±14 ≈ 1.2e6 × the data's scale) stops the optimiser: a runaway. */
const ABORT_LOG_PARAMETER = 14;
/** Parameters (on the data's scale) outside [RUNAWAY_MIN, RUNAWAY_MAX] are reported as runaways. */
const RUNAWAY_MAX = 1e4;
const RUNAWAY_MIN = 1e-4;

/** How a model's parameters map to and from the optimiser's θ. */
export interface ParameterSpace<P> {
  names: readonly (keyof P & string)[];
  /**
   * ln of the time scale of each parameter (0 for shape parameters, ln mean T for rate scales
   * such as α and β): runaway bounds apply to param / scale.
   */
  logScales: readonly number[];
  /**
   * A model's own runaway (checked after every iteration, like the per-parameter bound): a
   * reason stops the optimiser, and the fit is not converged. For a direction along which the
   * likelihood flattens towards a limit the single-parameter bound would reach only after
   * hundreds of costly iterations (models/pareto-nbd.ts: β/α → ∞).
   */
  runaway?: (params: P) => string | null;
}

export function toParams<P>(space: ParameterSpace<P>, theta: ArrayLike<number>): P {
  const out: Record<string, number> = {};
  space.names.forEach((name, i) => (out[name] = Math.exp(theta[i])));
  return out as P;
}

export function toTheta<P>(space: ParameterSpace<P>, params: P): Float64Array {
  return Float64Array.from(space.names.map((name) => Math.log(params[name] as unknown as number)));
}

function nanParams<P>(space: ParameterSpace<P>): P {
  const out: Record<string, number> = {};
  for (const name of space.names) out[name] = NaN;
  return out as P;
}

/** A fit that could not start: the message says why. */
export function failedMle<P>(space: ParameterSpace<P>, message: string, rows: number, customers: number): MleFit<P> {
  return {
    params: nanParams(space),
    logLikelihood: NaN,
    converged: false,
    iterations: 0,
    starts: [],
    standardErrors: null,
    covariance: null,
    message,
    gradientNorm: NaN,
    customers,
    rows,
  };
}

function runawayOf<P>(space: ParameterSpace<P>, theta: ArrayLike<number>): string | null {
  const problems: string[] = [];
  space.names.forEach((name, i) => {
    const scaled = Math.exp(theta[i] - space.logScales[i]);
    if (scaled > RUNAWAY_MAX || scaled < RUNAWAY_MIN) problems.push(`${name}=${Math.exp(theta[i]).toPrecision(4)}`);
  });
  return problems.length === 0 ? null : `parameters ran away to extreme values (${problems.join(', ')})`;
}

/**
 * Multi-start maximum likelihood: BFGS from each start (invalid starts are recorded and
 * skipped), the best kept; converged only if the optimiser converged, nothing ran away and the
 * observed information is positive definite. Never throws on bad data.
 */
export function fitMaximumLikelihood<P>(
  space: ParameterSpace<P>,
  likelihood: LogLikelihood,
  starts: P[],
  rows: number,
  opts: MleOptions = {},
  startLikelihood: LogLikelihood | null = null,
): MleFit<P> {
  const n = space.names.length;
  const objectiveOf = (of: LogLikelihood) => {
    const factor = 1 / of.customers;
    return (theta: Float64Array, gradient: Float64Array): number => {
      const ll = of.evaluate(theta, gradient);
      for (let i = 0; i < n; i++) gradient[i] *= -factor;
      return Number.isFinite(ll) ? -ll * factor : Infinity;
    };
  };
  const objective = objectiveOf(likelihood);
  // With a subsample, the starts run on it (a looser tolerance) and the best is refined below.
  const startObjective = startLikelihood ? objectiveOf(startLikelihood) : objective;
  const tolerance = opts.gradientTolerance ?? DEFAULT_GRADIENT_TOLERANCE;
  const stopWhen = (theta: Float64Array): string | null => {
    const i = space.names.findIndex((_, k) => Math.abs(theta[k] - space.logScales[k]) > ABORT_LOG_PARAMETER);
    if (i !== -1) return `stopped: parameter ${space.names[i]} is running away (ln ${space.names[i]} = ${theta[i].toFixed(1)})`;
    return space.runaway ? space.runaway(toParams(space, theta)) : null;
  };
  const records: MleStart<P>[] = [];
  let best: MinimizeResult | null = null;
  let iterations = 0;
  for (const initial of starts) {
    const valid = space.names.every((name) => {
      const v = initial[name] as unknown as number;
      return v > 0 && Number.isFinite(v);
    });
    if (!valid) {
      records.push({ initial, params: nanParams(space), logLikelihood: NaN, converged: false, iterations: 0 });
      continue;
    }
    const run = minimizeBfgs(startObjective, toTheta(space, initial), {
      gradientTolerance: startLikelihood ? Math.max(tolerance, SUBSAMPLE_GRADIENT_TOLERANCE) : tolerance,
      maxIterations: opts.maxIterations ?? DEFAULT_MAX_ITERATIONS,
      stopWhen,
    });
    iterations += run.iterations;
    records.push({
      initial,
      params: toParams(space, run.x),
      logLikelihood: -run.f * (startLikelihood ?? likelihood).customers,
      converged: run.converged,
      iterations: run.iterations,
    });
    if (Number.isFinite(run.f) && (best === null || run.f < best.f)) best = run;
  }
  if (best === null) return { ...failedMle(space, 'no starting point gave a finite likelihood', rows, likelihood.customers), starts: records };
  // The best start already ran away on the subsample: the fit heads for a limit of the model,
  // and refining it on every row (near such a limit each evaluation is the costliest: on the
  // bench's 857 k histories the Pareto/NBD's and MBG/NBD's runaways took most of `--model auto`'s
  // time) would only confirm it. Reported unconverged, from the subsample, with the log-likelihood
  // on all rows; a model that converges is always refined on all rows, so its estimates are the
  // full data's.
  const subsampleRunaway = startLikelihood ? (stopWhen(best.x) ?? runawayOf(space, best.x)) : null;
  if (subsampleRunaway !== null) {
    const g = new Float64Array(n);
    const ll = likelihood.evaluate(best.x, g);
    return {
      params: toParams(space, best.x),
      logLikelihood: Number.isFinite(ll) ? ll : NaN,
      converged: false,
      iterations,
      starts: records,
      standardErrors: null,
      covariance: null,
      message: `ran away on the starts' subsample, not refined on all rows: ${subsampleRunaway}`,
      gradientNorm: NaN,
      customers: likelihood.customers,
      rows,
    };
  }
  if (startLikelihood) {
    // The subsample's optimum, refined on all rows from its curvature: full quasi-Newton steps
    // first (one evaluation each, optimize.ts refineByUnitSteps); if a step fails to improve,
    // the line-searched BFGS goes on from where they got.
    const maxIterations = opts.maxIterations ?? DEFAULT_MAX_ITERATIONS;
    const unit = refineByUnitSteps(objective, best.x, best.inverseHessian, { gradientTolerance: tolerance, maxIterations: UNIT_STEP_ITERATIONS, stopWhen });
    iterations += unit.iterations;
    const stopped = unit.converged ? null : stopWhen(unit.x);
    const refined = unit.converged ? unit : stopped !== null ? { ...unit, message: stopped } : minimizeBfgs(objective, unit.x, { gradientTolerance: tolerance, maxIterations, initialInverseHessian: unit.inverseHessian, stopWhen });
    if (!unit.converged && stopped === null) iterations += refined.iterations;
    best = refined;
  }

  const params = toParams(space, best.x);
  const messages: string[] = [];
  let converged = best.converged;
  if (!best.converged) messages.push(`optimiser did not converge: ${best.message}`);
  const runaway = runawayOf(space, best.x);
  if (runaway !== null) {
    converged = false;
    messages.push(runaway);
  }
  const gradientAt = (theta: Float64Array): Float64Array => {
    const g = new Float64Array(n);
    objective(theta, g);
    return g;
  };
  const hessian = numericHessian(gradientAt, best.x, opts.hessianStep ?? DEFAULT_HESSIAN_STEP);
  const covariance = invertSymmetric(hessian.map((row) => row.map((v) => v * likelihood.customers)));
  let standardErrors: P | null = null;
  if (covariance === null) {
    converged = false;
    messages.push('observed information matrix is not positive definite: the parameters are not identifiable from these data');
  } else {
    const se: Record<string, number> = {};
    space.names.forEach((name, i) => (se[name] = (params[name] as unknown as number) * Math.sqrt(covariance[i][i])));
    standardErrors = se as P;
  }
  if (converged) messages.push(best.message.startsWith('converged') ? best.message : `converged (${best.message})`);
  return {
    params,
    logLikelihood: -best.f * likelihood.customers,
    converged,
    iterations,
    starts: records,
    standardErrors,
    covariance,
    message: messages.join('; '),
    gradientNorm: best.gradNorm,
    customers: likelihood.customers,
    rows,
  };
}

/** Positive-weight rows of compressed data, the only ones a likelihood reads. */
export function positiveRows(weight: Float64Array): Uint32Array {
  let kept = 0;
  for (let i = 0; i < weight.length; i++) if (weight[i] > 0) kept++;
  const rows = new Uint32Array(kept);
  for (let i = 0, j = 0; i < weight.length; i++) if (weight[i] > 0) rows[j++] = i;
  return rows;
}

/** Default seed of the starts' subsample (mle.ts's fits are deterministic for a given seed). */
export const DEFAULT_SUBSAMPLE_SEED = 19870101;

/**
 * The weighted subsample the starts run on when `rows` exceeds twice `subsampleRows` (null
 * otherwise): about subsampleRows rows, Horvitz–Thompson weights (rfm-data.ts weightedSubsample).
 */
export function startSubsample(data: RfmSummary, rows: number, subsampleRows: number, seed = DEFAULT_SUBSAMPLE_SEED): RfmSummary | null {
  if (!(subsampleRows > 0) || rows <= 2 * subsampleRows) return null;
  const rng = new Rng(seed);
  const sample = weightedSubsample(data.weight, subsampleRows, () => rng.uniform());
  return { x: pickRows(data.x, sample.rows), tx: pickRows(data.tx, sample.rows), T: pickRows(data.T, sample.rows), weight: sample.weight };
}
