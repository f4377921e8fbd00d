/**
 * A seeded simulator of *transactions* (dated orders with amounts) from known BG/NBD and
 * Gamma-Gamma parameters, for end-to-end tests of `crm run` against a known truth.
 *
 * Per customer (Fader, Hardie & Lee 2005; Fader & Hardie 2013):
 *   - acquisition: the first purchase at a continuous moment s, uniform over
 *     [start, start + acquisitionDays);
 *   - λ ~ Gamma(r, rate α) purchases per model unit (`unitDays` days), p ~ Beta(a, b);
 *   - after the first purchase, inter-purchase times are Exponential(λ); after every repeat
 *     purchase the customer drops out for good with probability p;
 *   - spend: ν ~ Gamma(q, rate v); every purchase is worth Gamma(p, rate ν), rounded to cents.
 * The process runs to the end of the holdout, so the calibration data (up to as-of) and the
 * holdout (as-of, holdout end] come from one history per customer.
 *
 * Calendar days. A purchase at continuous time t (days since `start`, midnight) is dated day
 * floor(t); the as-of day d is inclusive, so the calibration period ends at t = d + 1. The
 * recorded quantities are what `crm run` sees: x = purchase days − 1, t_x and T in whole days.
 * Two consequences, both small by construction and measured here so tests can bound them:
 *   - two purchases on one day are one purchase day (the pipeline counts days): `collisions`
 *     counts the purchases lost this way (their values add up on that day);
 *   - recorded T = d − floor(s) is on average half a day shorter than the continuous T (t_x is
 *     unbiased: the difference of two floors), i.e. ~0.07 weeks on T of 50–100 weeks.
 */
import { Rng } from '../../src/models/random.js';

export interface SimulationSettings {
  customers: number;
  seed: number;
  bgnbd: { r: number; alpha: number; a: number; b: number };
  spend: { p: number; q: number; v: number };
  /** Day 0 of the simulation (ISO date). */
  start: string;
  /** First purchases fall in [start, start + acquisitionDays). */
  acquisitionDays: number;
  /** Inclusive end of the calibration period (ISO date). */
  asOf: string;
  /** Inclusive end of the holdout (ISO date). */
  holdoutEnd: string;
  /** Days per model time unit (7 for weeks: `crm run`'s default). */
  unitDays: number;
}

export interface SimulatedCustomer {
  id: string;
  /** Recorded calibration summary (what the pipeline should compute). */
  x: number;
  txDays: number;
  TDays: number;
  /** Calibration purchase days and their values (one value per day). */
  dayValues: number[];
  /** Purchase days in the holdout. */
  holdoutDays: number;
  /** Latent state at the end of calibration. */
  aliveAtAsOf: boolean;
  /** The same history in continuous time (days), before dating: the model's own (x, t_x, T). */
  continuous: { x: number; tx: number; T: number };
}

export interface SimulatedTransactions {
  /** CSV text: customer_id,order_id,order_date,amount. */
  csv: string;
  customers: SimulatedCustomer[];
  /** Purchases (calibration and holdout) and those merged into an earlier purchase on the same day. */
  purchases: number;
  collisions: number;
  rows: number;
}

const DAY_MS = 86_400_000;
const dayIndex = (start: string, date: string) => Math.round((Date.parse(date + 'T00:00:00Z') - Date.parse(start + 'T00:00:00Z')) / DAY_MS);
const isoDay = (start: string, day: number) => new Date(Date.parse(start + 'T00:00:00Z') + day * DAY_MS).toISOString().slice(0, 10);

export function simulateTransactions(s: SimulationSettings): SimulatedTransactions {
  const rng = new Rng(s.seed);
  const d = dayIndex(s.start, s.asOf);
  const h = dayIndex(s.start, s.holdoutEnd);
  if (!(s.acquisitionDays <= d + 1 && d < h)) throw new Error('acquisition must end by as-of, and as-of precede the holdout end');
  const lines = ['customer_id,order_id,order_date,amount'];
  const customers: SimulatedCustomer[] = [];
  let purchases = 0;
  let collisions = 0;
  let order = 0;
  const width = String(s.customers).length;
  for (let i = 0; i < s.customers; i++) {
    const id = `K${String(i + 1).padStart(width, '0')}`;
    const first = s.acquisitionDays * rng.uniform();
    const lambdaPerDay = rng.gamma(s.bgnbd.r, s.bgnbd.alpha) / s.unitDays;
    const dropout = rng.beta(s.bgnbd.a, s.bgnbd.b);
    const nu = rng.gamma(s.spend.q, s.spend.v);
    // Purchase times (continuous days) up to the end of the holdout day.
    const times = [first];
    let aliveAtAsOf = true;
    let t = first;
    for (;;) {
      t += rng.exponential(lambdaPerDay);
      if (t >= h + 1) break;
      times.push(t);
      if (rng.uniform() < dropout) {
        if (t < d + 1) aliveAtAsOf = false;
        break;
      }
    }
    // One purchase per time; purchases on one day share the date (and their values add up).
    const days = new Map<number, number>();
    for (const time of times) {
      purchases++;
      const day = Math.floor(time);
      const value = Math.round(rng.gamma(s.spend.p, nu) * 100) / 100;
      if (days.has(day)) collisions++;
      days.set(day, (days.get(day) ?? 0) + value);
      lines.push(`${id},O${++order},${isoDay(s.start, day)},${value.toFixed(2)}`);
    }
    const firstDay = Math.floor(first);
    const inCalibration = times.filter((time) => time < d + 1);
    const calibration = [...days.keys()].filter((day) => day <= d);
    const lastDay = Math.max(...calibration);
    customers.push({
      id,
      x: calibration.length - 1,
      txDays: lastDay - firstDay,
      TDays: d - firstDay,
      dayValues: calibration.map((day) => Math.round(days.get(day)! * 100) / 100),
      holdoutDays: days.size - calibration.length,
      aliveAtAsOf,
      continuous: { x: inCalibration.length - 1, tx: inCalibration[inCalibration.length - 1] - first, T: d + 1 - first },
    });
  }
  return { csv: lines.join('\n') + '\n', customers, purchases, collisions, rows: lines.length - 1 };
}

/**
 * Spend with one ν for all (q = 1e9: ν's spread 3e-5 relative), every purchase Gamma(2.5, rate
 * 0.05), 600 customers. Seed 3: this sample's Gamma-Gamma maximum is at q → ∞ (about half the
 * samples' are), so a run scores spend with the homogeneous-spend limit (test/run/spend-limit.test.ts,
 * and on a cluster in clickhouse-source.test.ts).
 */
export function homogeneousSpendSimulation(): SimulatedTransactions {
  const q = 1e9;
  return simulateTransactions({
    customers: 600,
    seed: 3,
    bgnbd: { r: 0.5, alpha: 12, a: 0.8, b: 2.4 },
    spend: { p: 2.5, q, v: (q - 1) / 0.05 },
    start: '2022-01-01',
    acquisitionDays: 182,
    asOf: '2023-12-31',
    holdoutEnd: '2024-06-30',
    unitDays: 7,
  });
}
