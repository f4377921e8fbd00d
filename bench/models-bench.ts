/**
 * Benchmark of the statistical models (no DuckDB, no I/O): simulate customers from known
 * BG/NBD and Gamma-Gamma parameters, compress them to distinct (x, t_x, T) triples, then time
 * the BG/NBD fit, the vectorised predictions, the discounted expected purchases and the
 * Gamma-Gamma fit.
 *
 *   npm run build && node dist/bench/models-bench.js [--customers 2500000] [--seed 7] [--scenario all|active|cdnow]
 *
 * Times are wall-clock on this machine; the fit is required to stay under 2 s for ~1.5 million
 * distinct triples on the 2-core reference machine.
 */

import { performance } from 'node:perf_hooks';
import { compressRfm, fitBgNbd, predictBgNbd, type BgNbdParams } from '../src/models/bgnbd.js';
import { discountedExpectedPurchasesAll } from '../src/models/clv.js';
import { fitGammaGamma } from '../src/models/gamma-gamma.js';
import { Rng } from '../src/models/random.js';
import { simulateBgNbd, simulateGammaGamma, type SimulationWindow } from '../src/models/simulate.js';

interface Scenario {
  name: string;
  params: BgNbdParams;
  window: SimulationWindow;
}

const DAY_IN_WEEKS = 1 / 7;
const SCENARIOS: Scenario[] = [
  {
    // Busy customer base observed for up to three years, daily dates: ~1.5 M distinct triples.
    name: 'active',
    params: { r: 0.9, alpha: 6, a: 0.6, b: 4 },
    window: { minT: 1, maxT: 156, resolution: DAY_IN_WEEKS },
  },
  {
    // The CDNOW estimates of Fader, Hardie & Lee (2005), cohort observed 27 to 39 weeks.
    name: 'cdnow',
    params: { r: 0.24, alpha: 4.41, a: 0.79, b: 2.43 },
    window: { minT: 27, maxT: 39, resolution: DAY_IN_WEEKS },
  },
];
const GAMMA_GAMMA_TRUTH = { p: 6.25, q: 3.74, v: 15.44 };
const WEEKS_PER_YEAR = 365.25 / 7;
const ONE_YEAR = 52;

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function time<T>(work: () => T): [T, number] {
  const start = performance.now();
  const result = work();
  return [result, performance.now() - start];
}

const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
const fmtParams = (p: object) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${(v as number).toPrecision(4)}`)
    .join(' ');

function runScenario(scenario: Scenario, customers: number, seed: number): void {
  console.log(`\n## scenario "${scenario.name}": ${customers.toLocaleString('en')} customers, truth ${fmtParams(scenario.params)}`);
  const rng = new Rng(seed);
  const [sim, simMs] = time(() => simulateBgNbd(scenario.params, customers, scenario.window, rng));
  const [data, compressMs] = time(() => compressRfm(sim.x, sim.tx, sim.T));
  const triples = data.x.length;
  console.log(`simulate ${fmt(simMs)}, compress ${fmt(compressMs)} -> ${triples.toLocaleString('en')} distinct triples`);

  const [fit, fitMs] = time(() => fitBgNbd(data));
  console.log(
    `BG/NBD fit: ${fmt(fitMs)} (${fit.evaluations} evaluations, ${fit.iterations} iterations, converged=${fit.converged})`,
  );
  const t = fit.timings;
  console.log(
    `  phases: prepare ${fmt(t.prepare)}, starts ${fmt(t.starts)}, refine ${fmt(t.refine)}, standard errors ${fmt(t.information)}`,
  );
  console.log(`  estimate ${fmtParams(fit.params)}  LL=${fit.logLikelihood.toFixed(1)}`);
  if (fit.standardErrors) console.log(`  std.err. ${fmtParams(fit.standardErrors)}`);
  console.log(`  ${fit.message}`);

  const [prediction, predictMs] = time(() => predictBgNbd(fit.params, data, ONE_YEAR));
  let expectedTotal = 0;
  for (let i = 0; i < triples; i++) expectedTotal += prediction.expectedPurchases[i] * data.weight[i];
  console.log(`predict (P(alive), E[purchases in ${ONE_YEAR}]): ${fmt(predictMs)}; total expected ${expectedTotal.toFixed(0)}`);

  const [, depMs] = time(() =>
    discountedExpectedPurchasesAll(fit.params, data, { horizon: ONE_YEAR, unitsPerYear: WEEKS_PER_YEAR, annualDiscountRate: 0.1 }),
  );
  console.log(`discounted expected purchases (12 monthly steps, 10 %/year): ${fmt(depMs)}`);

  const repeaters: number[] = [];
  for (let i = 0; i < customers; i++) if (sim.x[i] > 0) repeaters.push(sim.x[i]);
  const spend = simulateGammaGamma(GAMMA_GAMMA_TRUTH, repeaters, rng);
  const [gg, ggMs] = time(() => fitGammaGamma(spend));
  console.log(
    `Gamma-Gamma fit on ${repeaters.length.toLocaleString('en')} repeat customers: ${fmt(ggMs)}; estimate ${fmtParams(gg.params)} (truth ${fmtParams(GAMMA_GAMMA_TRUTH)})`,
  );
}

function main(): void {
  const customers = Number(argument('customers', '2500000'));
  const seed = Number(argument('seed', '7'));
  const which = argument('scenario', 'all');
  console.log(`# models bench (node ${process.version}, ${process.arch})`);
  for (const scenario of SCENARIOS) {
    if (which === 'all' || which === scenario.name) runScenario(scenario, customers, seed);
  }
}

main();
