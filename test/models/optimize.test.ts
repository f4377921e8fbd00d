import { describe, expect, it } from 'vitest';
import { invertSymmetric, minimizeBfgs, numericHessian, refineByUnitSteps } from '../../src/models/optimize.js';

describe('minimizeBfgs', () => {
  it('minimises the Rosenbrock function from the classic start', () => {
    const result = minimizeBfgs(
      (x, g) => {
        const [a, b] = [x[0], x[1]];
        g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
        g[1] = 200 * (b - a * a);
        return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
      },
      [-1.2, 1],
    );
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 6);
    expect(result.x[1]).toBeCloseTo(1, 6);
    expect(result.gradNorm).toBeLessThanOrEqual(1e-8);
    expect(result.evaluations).toBeGreaterThanOrEqual(result.iterations);
  });

  it('solves an ill-conditioned 4-D quadratic', () => {
    const scales = [1, 10, 1e3, 1e5];
    const target = [3, -2, 0.5, 7];
    const result = minimizeBfgs(
      (x, g) => {
        let f = 0;
        for (let i = 0; i < 4; i++) {
          const d = x[i] - target[i];
          f += 0.5 * scales[i] * d * d;
          g[i] = scales[i] * d;
        }
        return f;
      },
      [0, 0, 0, 0],
      { gradientTolerance: 1e-10 },
    );
    expect(result.converged).toBe(true);
    // |x - x*| <= |g| / smallest curvature = 1e-10.
    for (let i = 0; i < 4; i++) expect(Math.abs(result.x[i] - target[i])).toBeLessThan(1e-9);
  });

  it('backs off from steps where the objective is not finite', () => {
    // f = x - 2 ln x (minimum at x = 2) is undefined for x <= 0; the first steps overshoot.
    const result = minimizeBfgs(
      (x, g) => {
        g[0] = 1 - 2 / x[0];
        return x[0] > 0 ? x[0] - 2 * Math.log(x[0]) : NaN;
      },
      [50],
      { maxStepNorm: 1000 },
    );
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(2, 7);
  });

  it('reports failure instead of throwing when the start is not finite', () => {
    const result = minimizeBfgs(() => NaN, [1, 2]);
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/not finite/);
  });

  it('reports non-convergence on an unbounded objective', () => {
    // f = -x has no minimum: the optimiser must stop by its iteration bound.
    const result = minimizeBfgs(
      (x, g) => {
        g[0] = -1;
        return -x[0];
      },
      [0],
      { maxIterations: 20 },
    );
    expect(result.converged).toBe(false);
    expect(result.x[0]).toBeGreaterThan(10);
  });
});

describe('numericHessian', () => {
  it('matches the analytic Hessian of f = x0² x1 + exp(x1) + x0 x2³', () => {
    const gradient = (x: Float64Array) => [
      2 * x[0] * x[1] + x[2] ** 3,
      x[0] ** 2 + Math.exp(x[1]),
      3 * x[0] * x[2] ** 2,
    ];
    const point = Float64Array.of(0.7, -0.3, 1.2);
    const [a, b, c] = point;
    const exact = [
      [2 * b, 2 * a, 3 * c * c],
      [2 * a, Math.exp(b), 0],
      [3 * c * c, 0, 6 * a * c],
    ];
    const numeric = numericHessian(gradient, point, 1e-4);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) expect(numeric[i][j]).toBeCloseTo(exact[i][j], 7);
      for (let j = 0; j < 3; j++) expect(numeric[i][j]).toBe(numeric[j][i]);
    }
  });
});

describe('invertSymmetric', () => {
  it('inverts a positive-definite matrix', () => {
    const m = [
      [4, 1, 0.5, 0],
      [1, 3, 0.2, 0.1],
      [0.5, 0.2, 2, 0.3],
      [0, 0.1, 0.3, 1],
    ];
    const inverse = invertSymmetric(m);
    expect(inverse).not.toBeNull();
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += m[i][k] * inverse![k][j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 13);
      }
    }
  });

  it('returns null for indefinite, singular or non-finite matrices', () => {
    expect(invertSymmetric([[1, 2], [2, 1]])).toBeNull();
    expect(invertSymmetric([[1, 1], [1, 1]])).toBeNull();
    expect(invertSymmetric([[NaN, 0], [0, 1]])).toBeNull();
    expect(invertSymmetric([[-1]])).toBeNull();
  });
});

describe('refineByUnitSteps (the refinement on all rows, mle.ts)', () => {
  // A smooth, non-quadratic objective with its minimum at (1, 2): Σ cosh(x_i − m_i) − 1, scaled.
  const target = [1, 2];
  const scales = [3, 0.5];
  const objective = (x: Float64Array, g: Float64Array) => {
    let f = 0;
    for (let i = 0; i < 2; i++) {
      f += scales[i] * (Math.cosh(x[i] - target[i]) - 1);
      g[i] = scales[i] * Math.sinh(x[i] - target[i]);
    }
    return f;
  };

  it('from a nearby point and a rough inverse Hessian, converges with one evaluation per step', () => {
    // The curvature of a "subsample": 20 % off the true one (1 / scales).
    const rough = Float64Array.of(1.2 / scales[0], 0, 0, 0.8 / scales[1]);
    const result = refineByUnitSteps(objective, [1.05, 1.9], rough, { gradientTolerance: 1e-10 });
    expect(result.converged, result.message).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 9);
    expect(result.x[1]).toBeCloseTo(2, 9);
    expect(result.evaluations).toBe(result.iterations + 1);
    // The line-searched BFGS from the same start reaches the same point.
    const bfgs = minimizeBfgs(objective, [1.05, 1.9], { gradientTolerance: 1e-10, initialInverseHessian: rough });
    expect(Math.abs(bfgs.x[0] - result.x[0])).toBeLessThan(1e-9);
    expect(Math.abs(bfgs.x[1] - result.x[1])).toBeLessThan(1e-9);
  });

  it('stops, not converged, where a full step does not improve (the caller goes on with minimizeBfgs)', () => {
    // With a curvature model 5× too flat the first full step overshoots to a steeper slope.
    const wrong = Float64Array.of(5 / scales[0], 0, 0, 5 / scales[1]);
    const result = refineByUnitSteps(objective, [1.5, 2.5], wrong);
    expect(result.converged).toBe(false);
    expect(result.message).toBe('a full step did not improve');
    expect(Array.from(result.x)).toEqual([1.5, 2.5]);
    expect(result.evaluations).toBe(2);
  });
});
