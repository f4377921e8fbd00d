/**
 * Published estimates reproduced from the raw published rows (test/fixtures/published/), through
 * the run's own summary SQL (orders → purchase days → customer base → histories):
 *
 * - CDNOW 1/10 sample, calibration to 1997-09-30 (week 39), in weeks as the papers use:
 *   BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way", Table/§4:
 *   r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4);
 *   Pareto/NBD (Fader, Hardie & Lee 2005, "RFM and CLV": r = 0.553, α = 10.578, s = 0.606,
 *   β = 11.669, LL = −9595.0 — the figures the lifetimes test-suite checks too);
 *   the conditional expectation BTYD's walkthrough prints for x = 26, t_x = 30.86, T = 31,
 *   t = 52 (25.46).
 *   MBG/NBD: we found no MBG/NBD estimates for CDNOW published by BTYDplus (its demos print
 *   none; the package documents the grocery data set), so the test pins our own fit's
 *   estimates and checks the model's defining difference instead; recovery is in mbgnbd.test.ts.
 * - The 1995 donor cohort: BG/BB (Fader, Hardie & Berger 2010: α = 1.204, β = 0.750,
 *   γ = 0.657, δ = 2.783, LL = −33,225.6; Table 6's P(alive in 2002): 0.11 for no repeat gift,
 *   0.59 for x = 2 with the last in 1999, 0.93 for six of six; in-sample fit: 3,454.9 donors with
 *   no repeat gift and 1,253.1 with six).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdnowTransactionsCsv, DONATION_COHORT_YEAR, DONATION_TRANSACTIONS_FILE, donationRows, donationTransactionsCsv, PUBLISHED_DIR } from '../../scripts/fixtures/published.js';
import { fitBgBb, bgbbPAlive, bgbbProbabilityOfNPurchases } from '../../src/models/bgbb.js';
import { fitBgNbd } from '../../src/models/bgnbd.js';
import { fitMbgNbd, mbgnbdPAlive } from '../../src/models/mbgnbd.js';
import { fitParetoNbd, paretoNbdConditionalExpectedPurchases } from '../../src/models/pareto-nbd.js';
import { inlined } from '../../src/models/relation.js';
import { customerBase } from '../../src/models/relations/customer-base.js';
import { histories } from '../../src/models/relations/histories.js';
import { orders } from '../../src/models/relations/orders.js';
import { purchaseDays } from '../../src/models/relations/purchase-days.js';
import { trendWindows } from '../../src/models/relations/trend-windows.js';
import type { RfmSummary } from '../../src/models/rfm-data.js';
import { chainDb, type ChainDb } from './relations/chain-db.js';

const DAYS_PER_WEEK = 7;
const CALIBRATION_END = '1997-09-30';

const read = (name: string) => readFileSync(join(PUBLISHED_DIR, name), 'utf8');

let db: ChainDb;
beforeAll(async () => {
  db = await chainDb();
});
afterAll(() => db.close());

/** The run's distinct histories as of `asOf`, with t_x and T in weeks. */
async function cdnowHistories(asOf: string): Promise<RfmSummary> {
  await db.conn.run('DELETE FROM transactions');
  await db.conn.run(
    `INSERT INTO transactions
     SELECT CAST(customer_id AS VARCHAR), NULL, order_date, amount, NULL, false
     FROM read_csv('${join(PUBLISHED_DIR, 'cdnow_transactions.csv')}', header = true,
                   columns = {'customer_id': 'INTEGER', 'order_date': 'DATE', 'quantity': 'INTEGER', 'amount': 'DECIMAL(18,4)'})`,
  );
  const p = { as_of: asOf, since: null, trend_window_days: 180 };
  await db.materialize(trendWindows, p);
  await db.materialize(inlined(purchaseDays.narrow, [orders.narrow]), p);
  await db.materialize(customerBase.narrow, p);
  const rows = await db.rows<{ x: number; t_x_days: number; T_days: number; customers: number }>(histories.sql);
  return {
    x: Float64Array.from(rows, (r) => Number(r.x)),
    tx: Float64Array.from(rows, (r) => Number(r.t_x_days) / DAYS_PER_WEEK),
    T: Float64Array.from(rows, (r) => Number(r.T_days) / DAYS_PER_WEEK),
    weight: Float64Array.from(rows, (r) => Number(r.customers)),
  };
}

describe('the published files', () => {
  it('cdnow_transactions.csv is exactly what the conversion writes from CDNOW_sample.txt', () => {
    expect(read('cdnow_transactions.csv')).toBe(cdnowTransactionsCsv(read('CDNOW_sample.txt')));
  });

  it('the donation rows summarise back to donations.csv (one row per donor and year, 11,104 donors)', async () => {
    const rows = donationRows(read('donations.csv'));
    expect(rows.length).toBe(35_719);
    expect(new Set(rows.map((r) => r.donor)).size).toBe(11_104);
    const summary = summariseDonations(rows);
    const published = read('donations.csv').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    const key = (r: number[]) => r.slice(0, 3).join(',');
    expect(new Map(summary.map((r) => [key(r), r[3]]))).toEqual(new Map(published.map((r) => [key(r), r[3]])));
  });

  it('donations_transactions.csv.gz is exactly what the conversion writes: one line per gift, dated inside its year', () => {
    const text = gunzipSync(readFileSync(join(PUBLISHED_DIR, DONATION_TRANSACTIONS_FILE))).toString('utf8');
    expect(text).toBe(donationTransactionsCsv(read('donations.csv')));
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('customer_id,order_date,amount');
    const rows = donationRows(read('donations.csv'));
    expect(lines.length - 1).toBe(rows.length);
    lines.slice(1).forEach((line, i) => {
      const [donor, date, amount] = line.split(',');
      expect([donor, Number(date.slice(0, 4))]).toEqual([rows[i].donor, rows[i].year]);
      expect(Number(amount)).toBeGreaterThan(0);
    });
  });

  it('the conversion refuses a malformed line, naming it', () => {
    expect(() => cdnowTransactionsCsv('00001 0001 19970101 1\n')).toThrow(/line 1: expected 5 fields/);
    expect(() => donationRows('frequency,recency,periods,weights\n3,2,6,10\n')).toThrow(/line 2/);
  });
});

/** Donation rows → (x, t_x, n, donors) in SQL-free form: per donor, count and last year. */
function summariseDonations(rows: { donor: string; year: number }[]): number[][] {
  const perDonor = new Map<string, { gifts: number; last: number }>();
  for (const { donor, year } of rows) {
    const d = perDonor.get(donor) ?? { gifts: 0, last: DONATION_COHORT_YEAR };
    d.gifts++;
    d.last = Math.max(d.last, year);
    perDonor.set(donor, d);
  }
  const counts = new Map<string, number>();
  for (const { gifts, last } of perDonor.values()) {
    const k = `${gifts - 1},${last - DONATION_COHORT_YEAR},6`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => [...k.split(',').map(Number), n]);
}

describe('CDNOW, raw rows through the run’s SQL, as of 1997-09-30 in weeks', () => {
  let data: RfmSummary;
  beforeAll(async () => {
    data = await cdnowHistories(CALIBRATION_END);
  });

  it('gives the published summary: 2,357 customers, 1,411 without a repeat purchase (Fader, Hardie & Lee 2005), the same (x, t_x, T) as the lifetimes summary file', () => {
    const customers = data.weight.reduce((s, w) => s + w, 0);
    expect(customers).toBe(2357);
    let zero = 0;
    data.x.forEach((x, i) => (zero += x === 0 ? data.weight[i] : 0));
    expect(zero).toBe(1411);
    const published = readFileSync(join(PUBLISHED_DIR, '..', 'cdnow', 'cdnow_customers_summary.csv'), 'utf8')
      .trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    const counts = new Map<string, number>();
    for (const [, x, tx, T] of published) counts.set(`${x},${tx.toFixed(2)},${T.toFixed(2)}`, (counts.get(`${x},${tx.toFixed(2)},${T.toFixed(2)}`) ?? 0) + 1);
    const ours = new Map<string, number>();
    data.x.forEach((x, i) => ours.set(`${x},${data.tx[i].toFixed(2)},${data.T[i].toFixed(2)}`, data.weight[i]));
    expect(ours).toEqual(counts);
  });

  it('BG/NBD: r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL −9582.4 (Fader, Hardie & Lee 2005)', () => {
    const fit = fitBgNbd(data);
    expect(fit.converged).toBe(true);
    expect(fit.params.r).toBeCloseTo(0.243, 3);
    expect(fit.params.alpha).toBeCloseTo(4.414, 2);
    expect(fit.params.a).toBeCloseTo(0.793, 3);
    expect(fit.params.b).toBeCloseTo(2.426, 2);
    expect(fit.logLikelihood).toBeCloseTo(-9582.4, 1);
  });

  it('Pareto/NBD: r = 0.553, α = 10.578, s = 0.606, β = 11.669, LL −9595.0, with standard errors; E[Y(52) | 26, 30.86, 31] = 25.46 (BTYD)', () => {
    const fit = fitParetoNbd(data);
    expect(fit.converged).toBe(true);
    expect(fit.params.r).toBeCloseTo(0.553, 3);
    expect(fit.params.alpha).toBeCloseTo(10.578, 2);
    expect(fit.params.s).toBeCloseTo(0.606, 3);
    expect(fit.params.beta).toBeCloseTo(11.669, 1);
    expect(fit.logLikelihood).toBeCloseTo(-9595.0, 1);
    // Standard errors: finite, positive, the dropout side far less certain (β's the least).
    const se = fit.standardErrors!;
    for (const name of ['r', 'alpha', 's', 'beta'] as const) expect(se[name]).toBeGreaterThan(0);
    expect(se.beta / fit.params.beta).toBeGreaterThan(se.r / fit.params.r);
    expect(paretoNbdConditionalExpectedPurchases(fit.params, 52, 26, 30.86, 31)).toBeCloseTo(25.46, 2);
    // Every start reaches the same maximum.
    for (const start of fit.starts) expect(start.logLikelihood).toBeCloseTo(fit.logLikelihood, 2);
  });

  it('MBG/NBD: converges (r ≈ 0.525, α ≈ 6.18, a ≈ 0.891, b ≈ 1.61; no published CDNOW figures found) and, unlike the BG/NBD, lets one-time buyers be gone', () => {
    const fit = fitMbgNbd(data);
    expect(fit.converged).toBe(true);
    expect(fit.params.r).toBeCloseTo(0.525, 2);
    expect(fit.params.alpha).toBeCloseTo(6.18, 1);
    expect(fit.params.a).toBeCloseTo(0.891, 2);
    expect(fit.params.b).toBeCloseTo(1.614, 1);
    expect(fit.logLikelihood).toBeCloseTo(-9582.13, 1);
    expect(mbgnbdPAlive(fit.params, 0, 0, 38.86)).toBeLessThan(0.7);
    expect(fit.standardErrors).not.toBeNull();
  });
});

describe('1995 donor cohort, one raw row per donation year, summarised in SQL', () => {
  let data: RfmSummary;
  beforeAll(async () => {
    const rows = donationRows(read('donations.csv'));
    await db.conn.run('CREATE OR REPLACE TEMP TABLE donations (donor VARCHAR, year INTEGER)');
    const appender = await db.conn.createAppender('donations', 'main', 'temp');
    for (const r of rows) {
      appender.appendVarchar(r.donor);
      appender.appendInteger(r.year);
      appender.endRow();
    }
    appender.closeSync();
    // x = repeat years, t_x = last year − 1995, n = 2001 − 1995 opportunities.
    const summary = await db.rows<{ x: number; t_x: number; n: number; donors: number }>(`
      WITH per_donor AS (
        SELECT donor, count(*) - 1 AS x, max(year) - ${DONATION_COHORT_YEAR} AS t_x, 2001 - ${DONATION_COHORT_YEAR} AS n
        FROM donations GROUP BY donor)
      SELECT x, t_x, n, count(*) AS donors FROM per_donor GROUP BY x, t_x, n ORDER BY x, t_x`);
    data = {
      x: Float64Array.from(summary, (r) => Number(r.x)),
      tx: Float64Array.from(summary, (r) => Number(r.t_x)),
      T: Float64Array.from(summary, (r) => Number(r.n)),
      weight: Float64Array.from(summary, (r) => Number(r.donors)),
    };
  });

  it('BG/BB: α = 1.204, β = 0.750, γ = 0.657, δ = 2.783, LL −33,225.6; P(alive in 2002) 0.11 / 0.59 / 0.93; in-sample 3,454.9 and 1,253.1 (Fader, Hardie & Berger 2010)', () => {
    const fit = fitBgBb(data);
    expect(fit.converged).toBe(true);
    expect(fit.params.alpha).toBeCloseTo(1.204, 2);
    expect(fit.params.beta).toBeCloseTo(0.750, 2);
    expect(fit.params.gamma).toBeCloseTo(0.657, 2);
    expect(fit.params.delta).toBeCloseTo(2.783, 1);
    expect(fit.logLikelihood).toBeCloseTo(-33225.6, 0);
    expect(bgbbPAlive(fit.params, 0, 0, 6)).toBeCloseTo(0.11, 2);
    expect(bgbbPAlive(fit.params, 2, 4, 6)).toBeCloseTo(0.59, 2);
    expect(bgbbPAlive(fit.params, 6, 6, 6)).toBeCloseTo(0.93, 2);
    expect(11_104 * bgbbProbabilityOfNPurchases(fit.params, 6, 0)).toBeCloseTo(3454.9, 0);
    expect(11_104 * bgbbProbabilityOfNPurchases(fit.params, 6, 6)).toBeCloseTo(1253.1, 0);
    expect(fit.standardErrors).not.toBeNull();
  });
});
