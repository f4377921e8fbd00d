/**
 * Which purchase model `crm run` fits (src/run/settings.ts): --model, else the config's
 * models.model, else auto (chosen on the data); hyphenated names map to the JSON keys; unknown
 * names are usage errors (exit 2) naming the flag; bgbb needs a month or year unit and refuses
 * what it cannot do (a year-fraction horizon, --holdout-end, --covariates). What the churn tiers are cut from:
 * --churn-basis, else models.churn_tiers.basis, else p_no_purchase.
 */
import { describe, expect, it } from 'vitest';
import { chooseModel } from '../../src/models/model-choice.js';
import type { PurchaseModelReport } from '../../src/models/purchase-models.js';
import { churnBasisWhy, modelChoiceLines } from '../../src/run/format.js';
import type { RunSummary } from '../../src/run/index.js';
import { resolveRunOptions } from '../../src/run/settings.js';
import { ExitCode } from '../../src/util/errors.js';

describe('crm run --model / models.model', () => {
  it('defaults to auto; the flag wins over the config; names map to keys', () => {
    expect(resolveRunOptions({}).model).toBe('auto');
    expect(resolveRunOptions({ model: 'bgnbd' }).model).toBe('bgnbd');
    expect(resolveRunOptions({ model: 'pareto-nbd' }).model).toBe('pareto_nbd');
    expect(resolveRunOptions({}, { models: { model: 'mbgnbd' } }).model).toBe('mbgnbd');
    expect(resolveRunOptions({ model: 'bgnbd' }, { models: { model: 'mbgnbd' } }).model).toBe('bgnbd');
    // auto (models/model-choice.ts) is the default, and can be named too.
    expect(resolveRunOptions({ model: 'auto' }).model).toBe('auto');
    expect(resolveRunOptions({ model: 'auto' }, { models: { model: 'bgnbd' } }).model).toBe('auto');
    // models.model is a choice, not a model setting: runs.params records it once, as `model`.
    expect('model' in resolveRunOptions({}, { models: { model: 'mbgnbd' } }).settings).toBe(false);
  });

  it('unknown names are usage errors', () => {
    expect(() => resolveRunOptions({ model: 'weibull' })).toThrow(expect.objectContaining({ exitCode: ExitCode.usage, message: '--model weibull: use bgnbd, pareto-nbd, mbgnbd, bgbb or auto' }));
  });

  it('--time-unit year is a unit of every model; anything else is refused naming the four', () => {
    expect(resolveRunOptions({ timeUnit: 'year' }).settings.time_unit).toBe('year');
    expect(resolveRunOptions({ model: 'bgnbd', timeUnit: 'year' }).model).toBe('bgnbd');
    expect(() => resolveRunOptions({ timeUnit: 'decade' })).toThrow(expect.objectContaining({ exitCode: ExitCode.usage, message: '--time-unit decade: use day, week, month or year' }));
  });

  it('bgbb: whole months or years (flag or config), a horizon of whole periods; no backtest, no covariates (exit 2, saying why)', () => {
    expect(resolveRunOptions({ model: 'bgbb', timeUnit: 'year' })).toMatchObject({ model: 'bgbb', settings: { time_unit: 'year', horizon_months: 12 } });
    expect(resolveRunOptions({ model: 'bgbb', timeUnit: 'month', horizon: 18 })).toMatchObject({ model: 'bgbb', settings: { time_unit: 'month', horizon_months: 18 } });
    expect(resolveRunOptions({}, { models: { model: 'bgbb', time_unit: 'month' } }).model).toBe('bgbb');
    const usage = (message: RegExp) => expect.objectContaining({ exitCode: ExitCode.usage, message: expect.stringMatching(message) });
    // The default unit is the week: the BG/BB needs the unit named.
    expect(() => resolveRunOptions({ model: 'bgbb' })).toThrow(usage(/^--model bgbb counts purchases in whole periods: the time unit must be month or year \(it is week\)$/));
    expect(() => resolveRunOptions({ model: 'bgbb', timeUnit: 'day' })).toThrow(usage(/month or year \(it is day\)/));
    expect(() => resolveRunOptions({ model: 'bgbb', timeUnit: 'year', horizon: 18 })).toThrow(usage(/^--horizon 18 with --model bgbb --time-unit year: .*12, 24, 36/));
    expect(resolveRunOptions({ model: 'bgbb', timeUnit: 'year', horizon: 24 }).settings.horizon_months).toBe(24);
    expect(() => resolveRunOptions({ model: 'bgbb', timeUnit: 'year', asOf: '2001-12-31', holdoutEnd: '2002-12-31' })).toThrow(usage(/^--holdout-end with --model bgbb: /));
    expect(() => resolveRunOptions({ model: 'bgbb', timeUnit: 'year', covariates: 'region' })).toThrow(usage(/^--covariates with --model bgbb: /));
  });
});

describe('crm run --churn-basis / models.churn_tiers.basis', () => {
  it('defaults to p_no_purchase; the flag wins over the config; anything else is refused', () => {
    expect(resolveRunOptions({}).settings.churn_tiers).toEqual({ medium: 0.3, high: 0.6, basis: 'p_no_purchase' });
    expect(resolveRunOptions({ churnBasis: 'churn_risk' }).settings.churn_tiers.basis).toBe('churn_risk');
    expect(resolveRunOptions({}, { models: { churn_tiers: { basis: 'churn_risk' } } }).settings.churn_tiers).toEqual({ medium: 0.3, high: 0.6, basis: 'churn_risk' });
    expect(resolveRunOptions({ churnBasis: 'p_no_purchase' }, { models: { churn_tiers: { basis: 'churn_risk', high: 0.7 } } }).settings.churn_tiers).toEqual({ medium: 0.3, high: 0.7, basis: 'p_no_purchase' });
    expect(() => resolveRunOptions({ churnBasis: 'p_alive' })).toThrow(expect.objectContaining({ exitCode: ExitCode.usage, message: '--churn-basis p_alive: use p_no_purchase or churn_risk' }));
    expect(() => resolveRunOptions({}, { models: { churn_tiers: { basis: 'recency' } } })).toThrow(expect.objectContaining({ exitCode: ExitCode.input, details: ['models.churn_tiers.basis: p_no_purchase or churn_risk'] }));
  });

  it('without a holdout the run says which basis it used and why', () => {
    expect(churnBasisWhy({ summary: { churn_basis: 'p_no_purchase' } as RunSummary })).toMatch(/^churn basis p_no_purchase \(the default\): .*better than 1 − P\(alive\) in backtests on real data .*no holdout in this run/);
    expect(churnBasisWhy({ summary: { churn_basis: 'churn_risk' } as RunSummary })).toMatch(/^churn basis churn_risk \(--churn-basis or models\.churn_tiers\.basis\); the default is p_no_purchase/);
  });
});

describe('the --model auto table (run/format.ts: crm run and crm model show)', () => {
  const report = (ll: number, converged: boolean): PurchaseModelReport => ({ r: 1, alpha: 2, s: 1, beta: 3, a: 1, b: 1, log_likelihood: ll, converged, standard_errors: null, customers: 9, triples: 3, message: converged ? 'converged' : 'iteration limit' });

  it('names the basis and the chosen model; a model that did not converge says why', () => {
    const choice = chooseModel(
      [
        { key: 'bgnbd', report: report(-50, true), usable: true, buckets: [{ bucket_x: 0, customers: 9, predicted: 3, actual: 4 }], auc: 0.6, auc_p_no_purchase: 0.7 },
        { key: 'pareto_nbd', report: report(-40, false), usable: false },
      ],
      'holdout',
      9,
    );
    const [sentence, table] = modelChoiceLines(choice, 9);
    expect(sentence).toMatch(/^model chosen by the holdout error .*: BG\/NBD$/);
    expect(table).toContain('holdout MAE');
    expect(table).toMatch(/BG\/NBD .*0\.1111 .*0\.600 .*0\.700 .*yes/);
    expect(table).toMatch(/Pareto\/NBD .*— .*no: did not converge: iteration limit/);
    const [bicSentence, bicTable] = modelChoiceLines(chooseModel([{ key: 'mbgnbd', report: report(-50, true), usable: true }], 'bic', 9), 9);
    expect(bicSentence).toBe('model chosen by BIC (no holdout; n = 9 customers): MBG/NBD');
    expect(bicTable).not.toContain('holdout MAE');
  });
});
