/**
 * `generate({ contracts })`: the policy book contracts.csv. Read back with an independent CSV
 * parser (helpers.ts) and with DuckDB, never with the generator's own code: determinism, the
 * invariants of a clean book (contiguous periods, statuses that fit the end date, cancellations
 * inside their period), the planted dirt as a reader would find it, and that the sBG fit of
 * src/models/sbg.ts recovers each plan's true α, β from the file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { CONTRACTS_HEADER, CONTRACTS_HEADER_ZH, generate, type PlanTruth } from '../../src/generate/index.js';
import { PLANS } from '../../src/generate/contract-model.js';
import { compressRenewals, fitSbg } from '../../src/models/sbg.js';
import { CU, addDays, isIsoDate, readCsv, sha256, withTempDir } from './helpers.js';

const K = { customer: 0, contract: 1, plan: 2, start: 3, end: 4, amount: 5, channel: 6, region: 7, status: 8, cancel: 9 } as const;

interface Truth {
  seed: number;
  start_date: string;
  end_date: string;
  plans: (Omit<PlanTruth, 'meanChurn'> & { mean_churn: number })[];
}

async function truthOf(dir: string): Promise<Truth> {
  return JSON.parse(await readFile(join(dir, 'contracts.truth.json'), 'utf8')) as Truth;
}

/** Rows grouped by contract id, in file order. */
function byContract(rows: string[][]): Map<string, string[][]> {
  const m = new Map<string, string[][]>();
  for (const r of rows) {
    let list = m.get(r[K.contract]);
    if (!list) m.set(r[K.contract], (list = []));
    list.push(r);
  }
  return m;
}

describe('generate({ contracts }) determinism', () => {
  it('writes byte-identical files for the same seed, different ones for another seed', async () => {
    await withTempDir(async (tmp) => {
      const opts = { customers: 300, contracts: 1500, dirtyShare: 0.01 };
      await generate({ ...opts, seed: 3, outDir: join(tmp, 'a') });
      await generate({ ...opts, seed: 3, outDir: join(tmp, 'b') });
      await generate({ ...opts, seed: 4, outDir: join(tmp, 'c') });
      for (const f of ['contracts.csv', 'contracts.truth.json', 'customers.csv', 'transactions.csv']) {
        expect(await sha256(join(tmp, 'a', f)), f).toBe(await sha256(join(tmp, 'b', f)));
      }
      expect(await sha256(join(tmp, 'a', 'contracts.csv'))).not.toBe(await sha256(join(tmp, 'c', 'contracts.csv')));
    });
  });

  it('leaves the purchase customers and transactions exactly as without contracts', async () => {
    await withTempDir(async (tmp) => {
      await generate({ customers: 400, seed: 9, outDir: join(tmp, 'plain') });
      await generate({ customers: 400, contracts: 500, seed: 9, outDir: join(tmp, 'book') });
      expect(await sha256(join(tmp, 'book', 'transactions.csv'))).toBe(await sha256(join(tmp, 'plain', 'transactions.csv')));
      const plain = await readCsv(join(tmp, 'plain', 'customers.csv'));
      const book = await readCsv(join(tmp, 'book', 'customers.csv'));
      // The contract-only customers are appended after the purchase customers.
      expect(book.lines.slice(0, plain.lines.length)).toEqual(plain.lines);
      expect(book.lines.length).toBeGreaterThan(plain.lines.length);
    });
  });

  it('writes Chinese headers with lang zh, and the same rows', async () => {
    await withTempDir(async (tmp) => {
      await generate({ customers: 0, contracts: 200, seed: 1, outDir: join(tmp, 'en') });
      await generate({ customers: 0, contracts: 200, seed: 1, lang: 'zh', outDir: join(tmp, 'zh') });
      const en = await readCsv(join(tmp, 'en', 'contracts.csv'));
      const zh = await readCsv(join(tmp, 'zh', 'contracts.csv'));
      expect(en.lines[0]).toBe(CONTRACTS_HEADER);
      expect(zh.lines[0]).toBe(CONTRACTS_HEADER_ZH);
      expect(zh.header).toEqual(['客户编号', '保单号', '险种', '起保日期', '终保日期', '保费', '渠道', '地区', '状态', '退保日期']);
      expect(zh.lines.slice(1)).toEqual(en.lines.slice(1));
    });
  });
});

describe('a clean policy book (dirtyShare 0)', () => {
  it('has contiguous periods, statuses that fit the end date, cancellations inside their period, and tells the truth', async () => {
    await withTempDir(async (tmp) => {
      const r = await generate({ customers: 500, contracts: 3000, seed: 21, dirtyShare: 0, outDir: tmp });
      const truth = await truthOf(tmp);
      const { header, rows } = await readCsv(join(tmp, 'contracts.csv'));
      expect(header.join(',')).toBe(CONTRACTS_HEADER);
      expect(rows.length).toBe(r.files.contracts!.rows);
      const customers = await readCsv(join(tmp, 'customers.csv'));
      const customerIds = new Set(customers.rows.map((c) => c[CU.id]));
      const end = truth.end_date;
      const planNames = new Set(PLANS.map((p) => p.plan));
      const tally = new Map<string, number>(); // plan|renewals|active → contracts
      const status = { active: 0, lapsed: 0, cancelled: 0 };
      let withPurchases = 0;
      let contractOnly = 0;
      const holders = new Set<string>();
      for (const [id, periods] of byContract(rows)) {
        expect(id).toMatch(/^P\d{8}$/);
        const first = periods[0];
        for (const p of periods) {
          // Contract-level fields repeat on every row.
          for (const k of [K.customer, K.plan, K.channel, K.region, K.status]) expect(p[k], `${id} column ${k}`).toBe(first[k]);
          expect(isIsoDate(p[K.start]) && isIsoDate(p[K.end]), id).toBe(true);
          expect(p[K.end] >= p[K.start], `${id} ${p[K.start]}..${p[K.end]}`).toBe(true);
          expect(p[K.start] >= truth.start_date && p[K.start] <= end, id).toBe(true);
          expect(p[K.amount], id).toMatch(/^\d+\.\d{2}$/);
        }
        for (let i = 1; i < periods.length; i++) {
          expect(periods[i][K.start], `${id} period ${i + 1} follows the day after period ${i}`).toBe(addDays(periods[i - 1][K.end], 1));
          // Premiums never fall from one period to the next (yearly increases only).
          expect(Number(periods[i][K.amount])).toBeGreaterThanOrEqual(Number(periods[i - 1][K.amount]));
        }
        for (const p of periods.slice(0, -1)) expect(p[K.cancel], id).toBe('');
        const last = periods[periods.length - 1];
        const s = last[K.status] as keyof typeof status;
        status[s]++;
        if (s === 'active') {
          expect(last[K.end] >= end && last[K.start] <= end, `${id} active covers ${end}`).toBe(true);
          expect(last[K.cancel]).toBe('');
        } else {
          expect(last[K.end] < end, `${id} ${s} ended before ${end}`).toBe(true);
          if (s === 'cancelled') {
            expect(last[K.cancel] > last[K.start] && last[K.cancel] <= last[K.end], `${id} cancel ${last[K.cancel]}`).toBe(true);
          } else {
            expect(s).toBe('lapsed');
            expect(last[K.cancel]).toBe('');
          }
        }
        expect(planNames.has(first[K.plan])).toBe(true);
        const key = `${first[K.plan]}|${periods.length - 1}|${s === 'active' ? 1 : 0}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
        expect(customerIds.has(first[K.customer]), `${first[K.customer]} in customers.csv`).toBe(true);
        if (!holders.has(first[K.customer])) {
          holders.add(first[K.customer]);
          if (Number(first[K.customer].slice(1)) <= 500) withPurchases++;
          else contractOnly++;
        }
      }
      const k = r.counts.contracts!;
      expect(k.contracts).toBe(3000);
      expect(status).toEqual(k.byStatus);
      expect(status.active).toBeGreaterThan(0);
      expect(status.lapsed).toBeGreaterThan(0);
      expect(status.cancelled).toBeGreaterThan(0);
      // Some customers both buy and hold contracts, more hold only contracts.
      expect(withPurchases).toBe(k.holdersWithPurchases);
      expect(contractOnly).toBe(k.contractOnlyCustomers);
      expect(withPurchases).toBeGreaterThan(50);
      expect(contractOnly).toBeGreaterThan(withPurchases);
      expect(customers.rows.length).toBe(500 + contractOnly);
      expect(k.dirtyRows.total).toBe(0);
      // contracts.truth.json's (renewals, active) counts are exactly what the file says.
      const fromTruth = new Map<string, number>();
      for (const p of truth.plans) for (const c of p.summary) fromTruth.set(`${p.plan}|${c.renewals}|${c.active}`, c.contracts);
      expect(fromTruth).toEqual(tally);
      expect(truth.plans.map((p) => [p.plan, p.alpha, p.beta])).toEqual(PLANS.map((p) => [p.plan, p.alpha, p.beta]));
    });
  });

  it('is a pure policy book with customers 0: every holder is a contract-only customer with a signup on the first start', async () => {
    await withTempDir(async (tmp) => {
      const r = await generate({ customers: 0, contracts: 400, seed: 5, dirtyShare: 0, outDir: tmp });
      const tx = await readCsv(join(tmp, 'transactions.csv'));
      expect(tx.rows).toEqual([]);
      const customers = await readCsv(join(tmp, 'customers.csv'));
      const firstStart = new Map<string, string>();
      for (const row of (await readCsv(join(tmp, 'contracts.csv'))).rows) {
        const c = row[K.customer];
        if (!firstStart.has(c) || row[K.start] < firstStart.get(c)!) firstStart.set(c, row[K.start]);
      }
      expect(customers.rows.length).toBe(firstStart.size);
      expect(r.counts.contracts!.holdersWithPurchases).toBe(0);
      expect(r.files.customers.rows).toBe(firstStart.size);
      for (const c of customers.rows) expect(c[CU.signup], c[CU.id]).toBe(firstStart.get(c[CU.id]));
      // Agents serve about half of them.
      const withOwner = customers.rows.filter((c) => c[CU.owner] !== '').length;
      expect(withOwner / customers.rows.length).toBeGreaterThan(0.35);
      expect(withOwner / customers.rows.length).toBeLessThan(0.65);
    });
  });
});

describe('planted dirt', () => {
  it('is what a reader finds in the file: duplicated and overlapping periods, gaps, periods ending before they start, missing premiums', async () => {
    await withTempDir(async (tmp) => {
      const r = await generate({ customers: 200, contracts: 4000, seed: 8, dirtyShare: 0.01, outDir: tmp });
      const { rows, lines } = await readCsv(join(tmp, 'contracts.csv'));
      const found = { duplicatePeriod: 0, overlap: 0, reinstatement: 0, endBeforeStart: 0, missingPremium: 0 };
      for (let i = 2; i < lines.length; i++) if (lines[i] === lines[i - 1]) found.duplicatePeriod++;
      for (const periods of byContract(rows).values()) {
        const distinct = periods.filter((p, i) => i === 0 || p.join(',') !== periods[i - 1].join(','));
        for (const p of distinct) {
          if (p[K.end] < p[K.start]) found.endBeforeStart++;
          if (p[K.amount] === '') found.missingPremium++;
        }
        // Neighbours in file order, each period's own start..end read as they are (a swapped
        // period counts as one that ends before it starts, not as a gap or overlap).
        for (let i = 1; i < distinct.length; i++) {
          const prev = distinct[i - 1];
          const cur = distinct[i];
          if (prev[K.end] < prev[K.start] || cur[K.end] < cur[K.start]) continue;
          if (cur[K.start] <= prev[K.end]) found.overlap++;
          else if (cur[K.start] > addDays(prev[K.end], 30)) found.reinstatement++;
          else expect(cur[K.start]).toBe(addDays(prev[K.end], 1));
        }
      }
      const d = r.counts.contracts!.dirtyRows;
      // A swapped period next to a gap or overlap hides it from the neighbour check above.
      expect(found.duplicatePeriod).toBe(d.duplicatePeriod);
      expect(found.endBeforeStart).toBe(d.endBeforeStart);
      expect(found.missingPremium).toBe(d.missingPremium);
      expect(found.overlap).toBeLessThanOrEqual(d.overlap);
      expect(found.overlap).toBeGreaterThanOrEqual(d.overlap - d.endBeforeStart);
      expect(found.reinstatement).toBeLessThanOrEqual(d.reinstatement);
      expect(found.reinstatement).toBeGreaterThanOrEqual(d.reinstatement - d.endBeforeStart);
      for (const [kind, n] of Object.entries(d)) expect(n, kind).toBeGreaterThan(0);
      // About the share asked for, spread over the kinds.
      expect(d.total / rows.length).toBeGreaterThan(0.006);
      expect(d.total / rows.length).toBeLessThan(0.014);
    });
  });

  it('plants a handful of each kind in a small book even at the default share', async () => {
    await withTempDir(async (tmp) => {
      const r = await generate({ customers: 50, contracts: 300, seed: 2, outDir: tmp });
      for (const [kind, n] of Object.entries(r.counts.contracts!.dirtyRows)) expect(n, kind).toBeGreaterThanOrEqual(1);
    });
  });
});

describe('parameter recovery', () => {
  it("fitSbg on the file's (renewals, active) per plan recovers each plan's true α, β within 3 standard errors", async () => {
    await withTempDir(async (tmp) => {
      // Ten years, so annual plans show several renewal decisions (three years show two).
      await generate({ customers: 0, contracts: 40_000, seed: 17, years: 10, dirtyShare: 0, outDir: tmp });
      const truth = await truthOf(tmp);
      const instance = await DuckDBInstance.create(':memory:');
      const conn = await instance.connect();
      try {
        const file = join(tmp, 'contracts.csv').replace(/'/g, "''");
        // One row per contract: renewals survived and whether it is still in force at the end date.
        const reader = await conn.runAndReadAll(`
          SELECT plan, renewals, active, count(*)::INTEGER AS contracts FROM (
            SELECT contract_id, any_value(plan) AS plan, (count(*) - 1)::INTEGER AS renewals,
                   (max(period_end) >= DATE '${truth.end_date}' AND bool_and(cancel_date IS NULL))::INTEGER AS active
            FROM read_csv('${file}', header = true, all_varchar = false) GROUP BY contract_id)
          GROUP BY ALL ORDER BY ALL`);
        const rows = reader.getRowObjectsJS() as { plan: string; renewals: number; active: number; contracts: number }[];
        for (const plan of truth.plans) {
          const mine = rows.filter((r) => r.plan === plan.plan);
          expect(mine.map((r) => ({ renewals: r.renewals, active: r.active, contracts: r.contracts }))).toEqual(plan.summary);
          const fit = fitSbg({
            renewals: mine.map((r) => r.renewals),
            active: mine.map((r) => r.active),
            weight: mine.map((r) => r.contracts),
          });
          expect(fit.outcome, plan.plan).toBe('fitted');
          const { alpha, beta } = fit.params!;
          const se = fit.standardErrors!;
          // The standard errors must be small enough for the check to mean something…
          expect(se.alpha / plan.alpha, `${plan.plan} se(α)`).toBeLessThan(0.35);
          expect(se.beta / plan.beta, `${plan.plan} se(β)`).toBeLessThan(0.35);
          // …and the truth within three of them (a two-sided 0.3 % chance per parameter of failing by luck).
          expect(Math.abs(alpha - plan.alpha), `${plan.plan} α̂ = ${alpha} ± ${se.alpha}, true ${plan.alpha}`).toBeLessThan(3 * se.alpha);
          expect(Math.abs(beta - plan.beta), `${plan.plan} β̂ = ${beta} ± ${se.beta}, true ${plan.beta}`).toBeLessThan(3 * se.beta);
        }
      } finally {
        conn.closeSync();
        instance.closeSync();
      }
    });
  });

  it('the truth file alone is enough: compressRenewals-style summaries fit for every plan', async () => {
    await withTempDir(async (tmp) => {
      await generate({ customers: 0, contracts: 20_000, seed: 29, years: 10, dirtyShare: 0, outDir: tmp });
      const truth = await truthOf(tmp);
      for (const plan of truth.plans) {
        const renewals: number[] = [];
        const active: number[] = [];
        for (const c of plan.summary) for (let i = 0; i < c.contracts; i++) {
          renewals.push(c.renewals);
          active.push(c.active);
        }
        expect(renewals.length).toBe(plan.contracts);
        const fit = fitSbg(compressRenewals(renewals, active));
        expect(fit.outcome, plan.plan).toBe('fitted');
        expect(Math.abs(fit.params!.alpha - plan.alpha)).toBeLessThan(3 * fit.standardErrors!.alpha);
        expect(Math.abs(fit.params!.beta - plan.beta)).toBeLessThan(3 * fit.standardErrors!.beta);
      }
    });
  });
});
