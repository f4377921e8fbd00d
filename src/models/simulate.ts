/**
 * Simulators of the BG/NBD and Gamma-Gamma generative processes (for tests, benchmarks and
 * sanity checks of fitted models). Deterministic given the Rng's seed.
 *
 * BG/NBD (Fader, Hardie & Lee 2005): per customer λ ~ Gamma(r, rate α), p ~ Beta(a, b);
 * starting at the first purchase (time 0), inter-purchase times are Exponential(λ) and after
 * each repeat purchase the customer drops out with probability p. Purchases up to T are
 * recorded: x = their number, t_x = time of the last one (0 if none).
 *
 * Gamma-Gamma (Fader & Hardie 2013; Colombo & Jiang 1999): per customer ν ~ Gamma(q, rate v);
 * each of the x transactions is Gamma(p, rate ν); m is their mean. The sum of x such values is
 * Gamma(p x, rate ν), so m = Gamma(p x, ν) / x is drawn in one step.
 */

import type { BgNbdParams } from './bgnbd.js';
import type { GammaGammaParams } from './gamma-gamma.js';
import type { Rng } from './random.js';

export interface SimulationWindow {
  /** Each customer's T is uniform on [minT, maxT] (equal bounds give a fixed T). */
  minT: number;
  maxT: number;
  /**
   * Record times on a grid of this step, as dates in a real export are (e.g. 1/7 for days when
   * the unit is weeks). The first purchase falls at a uniform moment within its grid cell and
   * every time is then recorded as whole cells since the first purchase's cell, so recorded
   * times are unbiased on average. 0 = continuous times.
   */
  resolution?: number;
}

/** Per-customer (uncompressed) simulated histories. */
export interface SimulatedRfm {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  /** The customer's latent state at T, for checks: 1 if still active, else 0. */
  alive: Uint8Array;
}

/** Simulate `nCustomers` BG/NBD purchase histories. */
export function simulateBgNbd(
  params: BgNbdParams,
  nCustomers: number,
  window: SimulationWindow,
  rng: Rng,
): SimulatedRfm {
  const { r, alpha, a, b } = params;
  const resolution = window.resolution ?? 0;
  const x = new Float64Array(nCustomers);
  const tx = new Float64Array(nCustomers);
  const T = new Float64Array(nCustomers);
  const alive = new Uint8Array(nCustomers);
  const span = window.maxT - window.minT;
  for (let i = 0; i < nCustomers; i++) {
    const horizon = window.minT + span * rng.uniform();
    // Recorded time of an event at continuous time t after the first purchase.
    const phase = resolution > 0 ? rng.uniform() * resolution : 0;
    const snap = (t: number) => (resolution > 0 ? Math.floor((phase + t) / resolution) * resolution : t);
    const lambda = rng.gamma(r, alpha);
    const p = rng.beta(a, b);
    let time = 0;
    let purchases = 0;
    let last = 0;
    let active = true;
    for (;;) {
      time += rng.exponential(lambda);
      if (time > horizon) break;
      purchases++;
      last = snap(time);
      if (rng.uniform() < p) {
        active = false;
        break;
      }
    }
    x[i] = purchases;
    tx[i] = last;
    T[i] = snap(horizon);
    alive[i] = active ? 1 : 0;
  }
  return { x, tx, T, alive };
}

/** Simulated spend: per customer the number of transactions x and their mean value m. */
export interface SimulatedSpend {
  x: Float64Array;
  m: Float64Array;
}

/** Simulate mean transaction values for customers with the given transaction counts (> 0). */
export function simulateGammaGamma(
  params: GammaGammaParams,
  transactions: ArrayLike<number>,
  rng: Rng,
): SimulatedSpend {
  const n = transactions.length;
  const x = Float64Array.from(transactions);
  const m = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!(x[i] > 0)) throw new RangeError(`simulateGammaGamma: transaction count must be > 0 (row ${i})`);
    const nu = rng.gamma(params.q, params.v);
    m[i] = rng.gamma(params.p * x[i], nu) / x[i];
  }
  return { x, m };
}

/**
 * Simulate `nCustomers` Pareto/NBD histories (Schmittlein, Morrison & Colombo 1987): per customer
 * λ ~ Gamma(r, α), μ ~ Gamma(s, β), an exponential lifetime of rate μ from the first purchase,
 * and Poisson(λ) purchases while alive, recorded up to T (uniform on [minT, maxT]).
 */
export function simulateParetoNbd(
  params: { r: number; alpha: number; s: number; beta: number },
  nCustomers: number,
  window: SimulationWindow,
  rng: Rng,
): SimulatedRfm {
  const x = new Float64Array(nCustomers);
  const tx = new Float64Array(nCustomers);
  const T = new Float64Array(nCustomers);
  const alive = new Uint8Array(nCustomers);
  const span = window.maxT - window.minT;
  for (let i = 0; i < nCustomers; i++) {
    const horizon = window.minT + span * rng.uniform();
    const lambda = rng.gamma(params.r, params.alpha);
    const lifetime = rng.exponential(rng.gamma(params.s, params.beta));
    const end = Math.min(lifetime, horizon);
    let time = 0;
    let purchases = 0;
    let last = 0;
    for (;;) {
      time += rng.exponential(lambda);
      if (time > end) break;
      purchases++;
      last = time;
    }
    x[i] = purchases;
    tx[i] = last;
    T[i] = horizon;
    alive[i] = lifetime > horizon ? 1 : 0;
  }
  return { x, tx, T, alive };
}

/**
 * Simulate `nCustomers` MBG/NBD histories (Batislam, Denizel & Filiztekin 2007): as the BG/NBD,
 * but the customer may also drop out right after the first purchase (time 0).
 */
export function simulateMbgNbd(params: BgNbdParams, nCustomers: number, window: SimulationWindow, rng: Rng): SimulatedRfm {
  const x = new Float64Array(nCustomers);
  const tx = new Float64Array(nCustomers);
  const T = new Float64Array(nCustomers);
  const alive = new Uint8Array(nCustomers);
  const span = window.maxT - window.minT;
  for (let i = 0; i < nCustomers; i++) {
    const horizon = window.minT + span * rng.uniform();
    const lambda = rng.gamma(params.r, params.alpha);
    const p = rng.beta(params.a, params.b);
    let active = rng.uniform() >= p;
    let time = 0;
    let purchases = 0;
    let last = 0;
    while (active) {
      time += rng.exponential(lambda);
      if (time > horizon) break;
      purchases++;
      last = time;
      if (rng.uniform() < p) active = false;
    }
    x[i] = purchases;
    tx[i] = last;
    T[i] = horizon;
    alive[i] = active ? 1 : 0;
  }
  return { x, tx, T, alive };
}

/**
 * Simulate BG/BB histories over `periods` opportunities after the first transaction (Fader,
 * Hardie & Berger 2010): p ~ Beta(α, β), θ ~ Beta(γ, δ); at the start of each opportunity an
 * active customer leaves with probability θ, else transacts with probability p. `T` holds n.
 */
export function simulateBgBb(
  params: { alpha: number; beta: number; gamma: number; delta: number },
  nCustomers: number,
  periods: number,
  rng: Rng,
): SimulatedRfm {
  const x = new Float64Array(nCustomers);
  const tx = new Float64Array(nCustomers);
  const T = new Float64Array(nCustomers).fill(periods);
  const alive = new Uint8Array(nCustomers);
  for (let i = 0; i < nCustomers; i++) {
    const p = rng.beta(params.alpha, params.beta);
    const theta = rng.beta(params.gamma, params.delta);
    let active = true;
    for (let t = 1; t <= periods && active; t++) {
      if (rng.uniform() < theta) {
        active = false;
        break;
      }
      if (rng.uniform() < p) {
        x[i]++;
        tx[i] = t;
      }
    }
    // Alive at the next opportunity: survives its start too.
    alive[i] = active && rng.uniform() >= theta ? 1 : 0;
  }
  return { x, tx, T, alive };
}
