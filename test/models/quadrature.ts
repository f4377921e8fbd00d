/**
 * Double-exponential quadrature rules for the independent numerical checks of the models'
 * closed forms (Takahasi & Mori 1974). Endpoint singularities such as p^(a-1) with a < 1 and
 * the algebraic/exponential behaviour of gamma densities are integrated to ~1e-12 with a few
 * hundred nodes.
 */

const HALF_PI = Math.PI / 2;

/** A node of a rule on (0, 1): the point, its distance to 1 (exact near 1) and the weight. */
export interface UnitNode {
  x: number;
  oneMinusX: number;
  w: number;
}

/** tanh-sinh nodes on (0, 1): x = (1 + tanh(π/2 sinh t)) / 2, t = k h, |t| <= tMax. */
export function tanhSinhNodes(h = 1 / 32, tMax = 4): UnitNode[] {
  const nodes: UnitNode[] = [];
  for (let t = -tMax; t <= tMax + 1e-12; t += h) {
    const u = HALF_PI * Math.sinh(t);
    // x = 1 / (1 + e^(-2u)), 1 - x = 1 / (1 + e^(2u)) (both without cancellation).
    const x = 1 / (1 + Math.exp(-2 * u));
    const oneMinusX = 1 / (1 + Math.exp(2 * u));
    const coshU = Math.cosh(u);
    const w = (h * HALF_PI * Math.cosh(t)) / (2 * coshU * coshU);
    if (x > 0 && oneMinusX > 0 && Number.isFinite(w) && w > 0) nodes.push({ x, oneMinusX, w });
  }
  return nodes;
}

/** exp-sinh nodes on (0, ∞): s = exp(π/2 sinh t), ds = π/2 cosh t · s dt. */
export function expSinhNodes(h = 1 / 32, tMin = -4, tMax = 3.2): { s: number; w: number }[] {
  const nodes: { s: number; w: number }[] = [];
  for (let t = tMin; t <= tMax + 1e-12; t += h) {
    const s = Math.exp(HALF_PI * Math.sinh(t));
    const w = h * HALF_PI * Math.cosh(t) * s;
    if (s > 0 && Number.isFinite(s) && Number.isFinite(w)) nodes.push({ s, w });
  }
  return nodes;
}

/** ∫_0^1 f(x) dx where f also receives 1 - x (computed without cancellation). */
export function integrateUnit(f: (x: number, oneMinusX: number) => number, nodes = tanhSinhNodes()): number {
  let sum = 0;
  for (const node of nodes) {
    const value = f(node.x, node.oneMinusX);
    if (value !== 0) sum += node.w * value;
  }
  return sum;
}

/**
 * ln ∫_0^1 exp(g(x)) dx for a log-integrand g that may be far outside the double range:
 * evaluated at every node, shifted by its maximum, summed.
 */
export function logIntegrateUnit(g: (x: number, oneMinusX: number) => number, nodes = tanhSinhNodes()): number {
  const values = nodes.map((node) => g(node.x, node.oneMinusX));
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const weighted = values[i] + Math.log(nodes[i].w);
    if (weighted > max) max = weighted;
  }
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += nodes[i].w * Math.exp(values[i] - max);
  return max + Math.log(sum);
}

/** ∫_0^∞ f(λ) dλ with λ = scale · s. */
export function integrateHalfLine(f: (lambda: number) => number, scale: number, nodes = expSinhNodes()): number {
  let sum = 0;
  for (const node of nodes) {
    const value = f(scale * node.s);
    if (value !== 0) sum += node.w * value;
  }
  return sum * scale;
}
