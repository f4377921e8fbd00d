/**
 * The --model auto choice rule (src/models/model-choice.ts): BIC arithmetic, the holdout MAE over
 * frequency buckets on a tiny example worked by hand, ties to the model listed first, and a model
 * that did not converge never chosen (its row says why).
 */
import { describe, expect, it } from 'vitest';
import { bic, chooseModel, holdoutMae, parameterCount, type ChoiceCandidate } from '../../src/models/model-choice.js';
import type { PurchaseModelKey, PurchaseModelReport } from '../../src/models/purchase-models.js';

const report = (key: PurchaseModelKey, log_likelihood: number, converged = true, extra: Record<string, number | null> = {}): PurchaseModelReport => ({
  ...(key === 'pareto_nbd' ? { r: 1, alpha: 1, s: 1, beta: 1 } : { r: 1, alpha: 1, a: 1, b: 1 }),
  ...(key === 'bgnbd' ? { p: null } : {}),
  ...extra,
  log_likelihood,
  converged,
  standard_errors: null,
  customers: 100,
  triples: 10,
  message: converged ? 'converged' : 'iteration limit',
});

describe('model choice: BIC', () => {
  it('is k·ln(n) − 2·LL', () => {
    expect(bic(-100, 4, 100)).toBeCloseTo(4 * Math.log(100) + 200, 12);
    expect(bic(-9582.4, 4, 2357)).toBeCloseTo(19195.9, 1);
  });

  it('counts the parameters the fitted model has (a boundary BG/NBD has fewer)', () => {
    expect(parameterCount('bgnbd', report('bgnbd', -1))).toBe(4);
    expect(parameterCount('bgnbd', report('bgnbd', -1, true, { r: 1, alpha: 1, a: null, b: null, p: 0.2 }))).toBe(3);
    expect(parameterCount('pareto_nbd', report('pareto_nbd', -1))).toBe(4);
  });

  it('without a holdout picks the lowest BIC: fewer parameters can win at a lower likelihood', () => {
    // n = 100: ln 100 = 4.605. BG/NBD at a boundary (3 parameters), LL −101: BIC 202 + 13.82 = 215.82;
    // Pareto/NBD (4), LL −100: 200 + 18.42 = 218.42; MBG/NBD (4), LL −102: 222.42.
    const choice = chooseModel(
      [
        { key: 'mbgnbd', report: report('mbgnbd', -102), usable: true },
        { key: 'pareto_nbd', report: report('pareto_nbd', -100), usable: true },
        { key: 'bgnbd', report: report('bgnbd', -101, true, { a: null, b: null, p: 0.3 }), usable: true },
      ],
      'bic',
      100,
    );
    expect(choice.basis).toBe('bic');
    expect(choice.chosen).toBe('bgnbd');
    expect(choice.models.map((m) => m.key)).toEqual(['bgnbd', 'pareto_nbd', 'mbgnbd']);
    expect(choice.models.map((m) => m.parameters)).toEqual([3, 4, 4]);
    expect(choice.models[0].bic).toBeCloseTo(215.8155, 3);
    expect(choice.models.map((m) => m.chosen)).toEqual([true, false, false]);
    expect(choice.models.every((m) => m.holdout_mae === null && m.auc === null)).toBe(true);
  });
});

describe('model choice: holdout MAE over frequency buckets', () => {
  it('is the mean over buckets of |Σ predicted − Σ actual| / customers (worked by hand)', () => {
    // Bucket 0: 10 customers, predicted 2, actual 4 → 0.2 per customer.
    // Bucket 1: 4 customers, predicted 6, actual 5 → 0.25. Bucket 7+: 2 customers, 9 vs 9 → 0.
    // Mean over the three buckets: (0.2 + 0.25 + 0) / 3 = 0.15. An empty bucket does not count.
    const buckets = [
      { bucket_x: 0, customers: 10, predicted: 2, actual: 4 },
      { bucket_x: 1, customers: 4, predicted: 6, actual: 5 },
      { bucket_x: 3, customers: 0, predicted: 0, actual: 0 },
      { bucket_x: 7, customers: 2, predicted: 9, actual: 9 },
    ];
    expect(holdoutMae(buckets)).toBeCloseTo(0.15, 12);
    expect(holdoutMae([])).toBeNull();
  });

  const holdoutCandidate = (key: PurchaseModelKey, predicted: [number, number], opts: { ll?: number; usable?: boolean } = {}): ChoiceCandidate => ({
    key,
    report: report(key, opts.ll ?? -100, opts.usable ?? true),
    usable: opts.usable ?? true,
    buckets: [
      { bucket_x: 0, customers: 10, predicted: predicted[0], actual: 4 },
      { bucket_x: 1, customers: 5, predicted: predicted[1], actual: 5 },
    ],
    auc: 0.7,
    auc_p_no_purchase: 0.75,
  });

  it('with a holdout picks the lowest MAE even against a better BIC; AUCs reported, not used', () => {
    // BG/NBD: (|3−4|/10 + |5−5|/5)/2 = 0.05 with the better likelihood; Pareto/NBD: (0 + |6−5|/5)/2 = 0.1.
    const choice = chooseModel([holdoutCandidate('bgnbd', [3, 5], { ll: -120 }), holdoutCandidate('pareto_nbd', [4, 6], { ll: -90 })], 'holdout', 15);
    expect(choice.chosen).toBe('bgnbd');
    expect(choice.models.map((m) => m.holdout_mae)).toEqual([expect.closeTo(0.05, 12), expect.closeTo(0.1, 12)]);
    expect(choice.models[1].bic).toBeLessThan(choice.models[0].bic);
    expect(choice.models[0]).toMatchObject({ auc: 0.7, auc_p_no_purchase: 0.75, chosen: true, excluded: null });
  });

  it('a tie goes to the model listed first (BG/NBD, Pareto/NBD, MBG/NBD)', () => {
    const choice = chooseModel([holdoutCandidate('mbgnbd', [3, 5]), holdoutCandidate('pareto_nbd', [3, 5])], 'holdout', 15);
    expect(choice.chosen).toBe('pareto_nbd');
    const bicTie = chooseModel([{ key: 'mbgnbd', report: report('mbgnbd', -100), usable: true }, { key: 'bgnbd', report: report('bgnbd', -100), usable: true }], 'bic', 15);
    expect(bicTie.chosen).toBe('bgnbd');
  });

  it('a model that did not converge is never chosen, however good its numbers; none usable: none chosen', () => {
    const choice = chooseModel([holdoutCandidate('bgnbd', [4, 5], { usable: false }), holdoutCandidate('mbgnbd', [1, 9])], 'holdout', 15);
    expect(choice.chosen).toBe('mbgnbd');
    expect(choice.models[0]).toMatchObject({ key: 'bgnbd', chosen: false, converged: false, holdout_mae: null, excluded: 'did not converge: iteration limit' });
    const none = chooseModel([{ key: 'pareto_nbd', report: report('pareto_nbd', -1, false), usable: false }], 'bic', 15);
    expect(none.chosen).toBeNull();
    expect(none.models[0].excluded).toMatch(/^did not converge/);
  });
});
