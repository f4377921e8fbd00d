/**
 * Unconstrained minimisation of smooth functions with an analytic gradient, for the
 * maximum-likelihood fits (a handful of log-parameters, expensive objective).
 *
 * Method: BFGS quasi-Newton on the inverse Hessian (Nocedal & Wright 2006, "Numerical
 * Optimization", 2nd ed., Algorithm 6.1) with a line search satisfying the strong Wolfe
 * conditions (Algorithms 3.5 and 3.6: bracketing, then zoom by safeguarded cubic
 * interpolation), c1 = 1e-4, c2 = 0.9. The first inverse Hessian is scaled by s'y / y'y
 * (eq. 6.20). A step whose objective is not finite is treated as "too far" and shortened, so
 * objectives that overflow far from the optimum are fine. The update is skipped when the
 * curvature condition s'y > 0 fails numerically; the inverse Hessian is reset to the identity
 * when the search direction is not a descent direction.
 *
 * Also: `numericHessian` (central differences of an analytic gradient, symmetrised) and
 * `invertSymmetric` (Cholesky; null if not positive definite) for observed-information
 * standard errors.
 */

/** Writes ∇f(x) into `gradient` and returns f(x). May return NaN/Infinity where undefined. */
export type ObjectiveWithGradient = (x: Float64Array, gradient: Float64Array) => number;

export interface MinimizeOptions {
  /** Stop when the largest |∂f/∂x_i| is at most this. */
  gradientTolerance?: number;
  maxIterations?: number;
  /** Bound on objective evaluations over all line searches. */
  maxEvaluations?: number;
  /** Longest step (Euclidean norm in x) tried by a line search. */
  maxStepNorm?: number;
  /** Starting inverse Hessian (n×n, row-major), e.g. from a previous fit on a subsample. */
  initialInverseHessian?: Float64Array;
  /**
   * Checked after every iteration: a non-null reason stops the run (converged = false), e.g.
   * when parameters are running away to infinity and further iterations would be wasted.
   */
  stopWhen?: (x: Float64Array) => string | null;
  /** Called after every iteration (diagnostics). */
  onIteration?: (state: { iteration: number; f: number; gradNorm: number; evaluations: number; x: Float64Array }) => void;
}

export interface MinimizeResult {
  x: Float64Array;
  f: number;
  gradient: Float64Array;
  /** Largest |∂f/∂x_i| at x. */
  gradNorm: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  message: string;
  /** Final BFGS inverse-Hessian approximation (n×n, row-major). */
  inverseHessian: Float64Array;
}

const DEFAULT_GRADIENT_TOLERANCE = 1e-8;
const DEFAULT_MAX_ITERATIONS = 200;
const DEFAULT_MAX_EVALUATIONS = 1000;
const DEFAULT_MAX_STEP_NORM = 10;
/** Sufficient-decrease (Armijo) and curvature constants of the strong Wolfe conditions. */
const WOLFE_C1 = 1e-4;
const WOLFE_C2 = 0.9;
const MAX_LINE_SEARCH_EVALUATIONS = 25;
/**
 * Objective values within this relative distance of the line search's starting value are
 * indistinguishable from it in practice (rounding in sums over millions of terms); after
 * MAX_FLAT_TRIALS such trials in a row the search gives up instead of bisecting noise.
 */
const FLAT_RELATIVE_CHANGE = 1e-14;
const MAX_FLAT_TRIALS = 3;
/** Relative objective change treated as "no progress possible in double precision". */
const STALL_RELATIVE_CHANGE = 1e-15;
/**
 * A line search that cannot improve f when the gradient is already within this factor of the
 * tolerance has hit the floating-point floor of the objective; that counts as converged.
 */
const PRECISION_FLOOR_FACTOR = 1e3;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

/** One evaluated point along the search line x + alpha p. */
interface LinePoint {
  alpha: number;
  f: number;
  /** Directional derivative ∇f · p. */
  slope: number;
  x: Float64Array;
  gradient: Float64Array;
}

interface LineSearchOutcome {
  point: LinePoint | null;
  evaluations: number;
  /** true if the strong Wolfe conditions hold; false if only sufficient decrease does. */
  wolfe: boolean;
}

/**
 * Strong-Wolfe line search along p from (x0, f0, slope0), Nocedal & Wright Alg. 3.5/3.6.
 * Returns the best point that satisfies at least sufficient decrease, or null.
 */
function strongWolfeSearch(
  fg: ObjectiveWithGradient,
  x0: Float64Array,
  f0: number,
  slope0: number,
  p: Float64Array,
  initialAlpha: number,
  maxAlpha: number,
  evaluationBudget: number,
): LineSearchOutcome {
  const n = x0.length;
  let evaluations = 0;
  const evaluate = (alpha: number): LinePoint => {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = x0[i] + alpha * p[i];
    const gradient = new Float64Array(n);
    const f = fg(x, gradient);
    evaluations++;
    const slope = dot(gradient, p);
    const finite = Number.isFinite(f) && Number.isFinite(slope);
    return { alpha, f: finite ? f : Infinity, slope: finite ? slope : NaN, x, gradient };
  };
  const armijo = (pt: LinePoint) => pt.f <= f0 + WOLFE_C1 * pt.alpha * slope0;
  const curvature = (pt: LinePoint) => Math.abs(pt.slope) <= -WOLFE_C2 * slope0;
  const budget = Math.min(MAX_LINE_SEARCH_EVALUATIONS, evaluationBudget);

  let previous: LinePoint = { alpha: 0, f: f0, slope: slope0, x: x0, gradient: new Float64Array(n) };
  let bestArmijo: LinePoint | null = null;
  let alpha = Math.min(initialAlpha, maxAlpha);
  let upper = maxAlpha;

  // Bracketing phase.
  let low: LinePoint | null = null;
  let high: LinePoint | null = null;
  for (let first = true; evaluations < budget; first = false) {
    const current = evaluate(alpha);
    if (!Number.isFinite(current.f)) {
      // Overflow or outside the objective's domain: the step is too long. Shorten it.
      upper = alpha;
      alpha = previous.alpha + 0.2 * (alpha - previous.alpha);
      if (alpha - previous.alpha < 1e-16 * Math.max(1, alpha)) break;
      continue;
    }
    if (armijo(current) && (bestArmijo === null || current.f < bestArmijo.f)) bestArmijo = current;
    if (!armijo(current) || (!first && current.f >= previous.f)) {
      low = previous;
      high = current;
      break;
    }
    if (curvature(current)) return { point: current, evaluations, wolfe: true };
    if (current.slope >= 0) {
      low = current;
      high = previous;
      break;
    }
    if (alpha >= upper) return { point: bestArmijo, evaluations, wolfe: false };
    previous = current;
    alpha = Math.min(2 * alpha, upper);
  }

  // Zoom phase: low satisfies sufficient decrease and has the lowest f seen in the bracket.
  let flatTrials = 0;
  while (low !== null && high !== null && evaluations < budget && flatTrials < MAX_FLAT_TRIALS) {
    const width = high.alpha - low.alpha;
    if (Math.abs(width) <= 1e-14 * Math.max(1, Math.abs(low.alpha))) break;
    let trial = cubicMinimizer(low, high);
    const lo = Math.min(low.alpha, high.alpha);
    const hi = Math.max(low.alpha, high.alpha);
    const margin = 0.1 * (hi - lo);
    if (!Number.isFinite(trial) || trial < lo + margin || trial > hi - margin) trial = (lo + hi) / 2;
    const current = evaluate(trial);
    flatTrials = Math.abs(current.f - f0) <= FLAT_RELATIVE_CHANGE * Math.abs(f0) ? flatTrials + 1 : 0;
    if (!Number.isFinite(current.f) || !armijo(current) || current.f >= low.f) {
      high = current;
      continue;
    }
    if (bestArmijo === null || current.f < bestArmijo.f) bestArmijo = current;
    if (curvature(current)) return { point: current, evaluations, wolfe: true };
    if (current.slope * (high.alpha - low.alpha) >= 0) high = low;
    low = current;
  }
  return { point: bestArmijo, evaluations, wolfe: false };
}

/** Minimiser of the cubic interpolating f and slope at two points (NaN if none). */
function cubicMinimizer(p1: LinePoint, p2: LinePoint): number {
  if (!Number.isFinite(p2.f) || !Number.isFinite(p2.slope)) return NaN;
  const d1 = p1.slope + p2.slope - (3 * (p1.f - p2.f)) / (p1.alpha - p2.alpha);
  const disc = d1 * d1 - p1.slope * p2.slope;
  if (disc < 0) return NaN;
  const d2 = Math.sign(p2.alpha - p1.alpha) * Math.sqrt(disc);
  return p2.alpha - (p2.alpha - p1.alpha) * ((p2.slope + d2 - d1) / (p2.slope - p1.slope + 2 * d2));
}

/**
 * Minimise f from x0 by BFGS with a strong-Wolfe line search. Never throws for a finite
 * starting value; reports failure through `converged` and `message`.
 */
export function minimizeBfgs(
  fg: ObjectiveWithGradient,
  x0: ArrayLike<number>,
  options: MinimizeOptions = {},
): MinimizeResult {
  const n = x0.length;
  const gradientTolerance = options.gradientTolerance ?? DEFAULT_GRADIENT_TOLERANCE;
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  const maxEvaluations = options.maxEvaluations ?? DEFAULT_MAX_EVALUATIONS;
  const maxStepNorm = options.maxStepNorm ?? DEFAULT_MAX_STEP_NORM;

  let x: Float64Array = Float64Array.from(x0);
  let gradient: Float64Array = new Float64Array(n);
  let f = fg(x, gradient);
  let evaluations = 1;
  let inverseHessian = options.initialInverseHessian
    ? Float64Array.from(options.initialInverseHessian)
    : identity(n);
  let hessianIsIdentity = !options.initialInverseHessian;
  const result = (iterations: number, converged: boolean, message: string): MinimizeResult => ({
    x,
    f,
    gradient,
    gradNorm: maxAbs(gradient),
    iterations,
    evaluations,
    converged,
    message,
    inverseHessian,
  });

  if (!Number.isFinite(f) || !gradient.every(Number.isFinite)) {
    return result(0, false, 'objective or gradient is not finite at the starting point');
  }

  const direction = new Float64Array(n);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const gradNorm = maxAbs(gradient);
    if (gradNorm <= gradientTolerance) return result(iteration, true, 'gradient below tolerance');
    if (evaluations >= maxEvaluations) {
      return result(iteration, false, `stopped after ${evaluations} objective evaluations`);
    }

    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s -= inverseHessian[i * n + j] * gradient[j];
      direction[i] = s;
    }
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Lost positive definiteness numerically: restart from steepest descent.
      inverseHessian = identity(n);
      hessianIsIdentity = true;
      for (let i = 0; i < n; i++) direction[i] = -gradient[i];
      slope = dot(gradient, direction);
    }
    const directionNorm = Math.sqrt(dot(direction, direction));
    // With an unscaled identity the natural step length is unknown: keep the first step small.
    const initialAlpha = hessianIsIdentity ? Math.min(1, 1 / directionNorm) : 1;
    const maxAlpha = maxStepNorm / directionNorm;

    const search = strongWolfeSearch(
      fg,
      x,
      f,
      slope,
      direction,
      initialAlpha,
      maxAlpha,
      maxEvaluations - evaluations,
    );
    evaluations += search.evaluations;
    const next = search.point;
    if (next === null) {
      if (!hessianIsIdentity) {
        // A stale curvature model can point badly; retry once along steepest descent.
        inverseHessian = identity(n);
        hessianIsIdentity = true;
        continue;
      }
      const floor = gradNorm <= PRECISION_FLOOR_FACTOR * gradientTolerance;
      return result(
        iteration,
        floor,
        floor
          ? 'converged to the precision limit of the objective'
          : 'line search could not decrease the objective',
      );
    }

    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = next.x[i] - x[i];
      y[i] = next.gradient[i] - gradient[i];
    }
    const previousF = f;
    x = next.x;
    f = next.f;
    gradient = next.gradient;

    const sy = dot(s, y);
    const yy = dot(y, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * yy)) {
      if (hessianIsIdentity) {
        const scale = sy / yy;
        inverseHessian = identity(n);
        for (let i = 0; i < n; i++) inverseHessian[i * n + i] = scale;
        hessianIsIdentity = false;
      }
      bfgsUpdate(inverseHessian, s, y, sy);
    }

    options.onIteration?.({ iteration: iteration + 1, f, gradNorm: maxAbs(gradient), evaluations, x });
    const stopReason = options.stopWhen?.(x) ?? null;
    if (stopReason !== null) return result(iteration + 1, false, stopReason);
    if (Math.abs(previousF - f) <= STALL_RELATIVE_CHANGE * Math.max(1, Math.abs(f))) {
      const floor = maxAbs(gradient) <= PRECISION_FLOOR_FACTOR * gradientTolerance;
      if (floor) return result(iteration + 1, true, 'converged to the precision limit of the objective');
    }
  }
  const gradNorm = maxAbs(gradient);
  if (gradNorm <= gradientTolerance) return result(maxIterations, true, 'gradient below tolerance');
  return result(maxIterations, false, `no convergence within ${maxIterations} iterations`);
}

/**
 * Refinement of a nearby optimum (e.g. a fit on a subsample, refined on all rows) by full
 * quasi-Newton steps x ← x − H ∇f with BFGS updates of the inverse Hessian H and no line search:
 * each step costs one evaluation. Near a smooth optimum, with H from the subsample's fit, the
 * full step is the right one (Nocedal & Wright 2006, Theorem 3.6: BFGS takes unit steps
 * eventually, and converges superlinearly); a line search there spends most of its evaluations
 * on objective differences below the precision of a sum over a million rows (on 636 k distinct
 * histories the Pareto/NBD's refinement took 48 evaluations for 6 iterations, 6 of them here).
 * A step is kept when the gradient shrinks and f does not rise beyond its rounding; otherwise
 * (far from the optimum, a bad curvature model) this returns the point reached with
 * `converged: false`, and the caller goes on with the line-searched minimizeBfgs from there.
 */
export function refineByUnitSteps(fg: ObjectiveWithGradient, x0: ArrayLike<number>, initialInverseHessian: Float64Array, options: MinimizeOptions = {}): MinimizeResult {
  const n = x0.length;
  const gradientTolerance = options.gradientTolerance ?? DEFAULT_GRADIENT_TOLERANCE;
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  let x = Float64Array.from(x0);
  let gradient = new Float64Array(n);
  let f = fg(x, gradient);
  let evaluations = 1;
  const inverseHessian = Float64Array.from(initialInverseHessian);
  const result = (iterations: number, converged: boolean, message: string): MinimizeResult => ({
    x, f, gradient, gradNorm: maxAbs(gradient), iterations, evaluations, converged, message, inverseHessian,
  });
  if (!Number.isFinite(f) || !gradient.every(Number.isFinite)) return result(0, false, 'objective or gradient is not finite at the starting point');
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (maxAbs(gradient) <= gradientTolerance) return result(iteration, true, 'gradient below tolerance');
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let j = 0; j < n; j++) v -= inverseHessian[i * n + j] * gradient[j];
      s[i] = v;
    }
    if (!(dot(s, gradient) < 0) || Math.sqrt(dot(s, s)) > (options.maxStepNorm ?? DEFAULT_MAX_STEP_NORM)) return result(iteration, false, 'no descent step');
    const next = Float64Array.from(x, (v, i) => v + s[i]);
    const nextGradient = new Float64Array(n);
    const nextF = fg(next, nextGradient);
    evaluations++;
    const rounding = FLAT_RELATIVE_CHANGE * 100 * Math.max(1, Math.abs(f));
    if (!Number.isFinite(nextF) || !nextGradient.every(Number.isFinite) || nextF > f + rounding || !(maxAbs(nextGradient) < maxAbs(gradient))) {
      return result(iteration, false, 'a full step did not improve');
    }
    const y = Float64Array.from(nextGradient, (v, i) => v - gradient[i]);
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) bfgsUpdate(inverseHessian, s, y, sy);
    x = next;
    f = nextF;
    gradient = nextGradient;
    const stopReason = options.stopWhen?.(x) ?? null;
    if (stopReason !== null) return result(iteration + 1, false, stopReason);
  }
  if (maxAbs(gradient) <= gradientTolerance) return result(maxIterations, true, 'gradient below tolerance');
  return result(maxIterations, false, `no convergence within ${maxIterations} unit steps`);
}

/** H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ with ρ = 1 / (yᵀ s), in place. */
function bfgsUpdate(h: Float64Array, s: Float64Array, y: Float64Array, sy: number): void {
  const n = s.length;
  const rho = 1 / sy;
  const hy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let j = 0; j < n; j++) v += h[i * n + j] * y[j];
    hy[i] = v;
  }
  const yhy = dot(y, hy);
  const factor = (1 + rho * yhy) * rho;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      h[i * n + j] += factor * s[i] * s[j] - rho * (hy[i] * s[j] + s[i] * hy[j]);
    }
  }
}

/** Default central-difference step for numericHessian (in the units of x, e.g. log-params). */
const DEFAULT_HESSIAN_STEP = 1e-4;

/**
 * Hessian of f at x by central differences of its analytic gradient:
 * H[i][j] = (∂_i f(x + h e_j) − ∂_i f(x − h e_j)) / (2h), then symmetrised. 2n gradient calls.
 */
export function numericHessian(
  gradient: (x: Float64Array) => ArrayLike<number>,
  x: ArrayLike<number>,
  h: number = DEFAULT_HESSIAN_STEP,
): number[][] {
  const n = x.length;
  const columns: number[][] = [];
  for (let j = 0; j < n; j++) {
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[j] += h;
    minus[j] -= h;
    const gPlus = gradient(plus);
    const gMinus = gradient(minus);
    const column: number[] = [];
    for (let i = 0; i < n; i++) column.push((gPlus[i] - gMinus[i]) / (2 * h));
    columns.push(column);
  }
  const hessian: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (let j = 0; j < n; j++) row.push((columns[j][i] + columns[i][j]) / 2);
    hessian.push(row);
  }
  return hessian;
}

/**
 * Inverse of a small symmetric matrix by Cholesky factorisation, or null if the matrix is not
 * (numerically) positive definite or contains non-finite entries.
 */
export function invertSymmetric(matrix: readonly (readonly number[])[]): number[][] | null {
  const n = matrix.length;
  // L Lᵀ = A
  const l: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let maxDiagonal = 0;
  for (let i = 0; i < n; i++) maxDiagonal = Math.max(maxDiagonal, Math.abs(matrix[i][i]));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = matrix[i][j];
      if (!Number.isFinite(s)) return null;
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      if (i === j) {
        // A pivot at rounding level means a (numerically) singular matrix.
        if (!(s > 1e-14 * maxDiagonal)) return null;
        l[i][i] = Math.sqrt(s);
      } else {
        l[i][j] = s / l[j][j];
      }
    }
  }
  // Inverse of L (lower triangular), then A⁻¹ = L⁻ᵀ L⁻¹.
  const lInv: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    lInv[i][i] = 1 / l[i][i];
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= l[i][k] * lInv[k][j];
      lInv[i][j] = s / l[i][i];
    }
  }
  const inverse: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += lInv[k][i] * lInv[k][j];
      inverse[i][j] = s;
      inverse[j][i] = s;
    }
  }
  return inverse;
}
