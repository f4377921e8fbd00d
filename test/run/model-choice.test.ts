/**
 * Which purchase model `crm run` fits (src/run/settings.ts): --model, else the config's
 * models.model, else the BG/NBD; hyphenated names map to the JSON keys; bgbb and unknown names
 * are usage errors (exit 2) naming the flag.
 */
import { describe, expect, it } from 'vitest';
import { chooseModel } from '../../src/models/model-choice.js';
import type { PurchaseModelReport } from '../../src/models/purchase-models.js';
import { modelChoiceLines } from '../../src/run/format.js';
import { resolveRunOptions } from '../../src/run/settings.js';
import { ExitCode } from '../../src/util/errors.js';

describe('crm run --model / models.model', () => {
  it('defaults to the BG/NBD; the flag wins over the config; names map to keys', () => {
    expect(resolveRunOptions({}).model).toBe('bgnbd');
    expect(resolveRunOptions({ model: 'pareto-nbd' }).model).toBe('pareto_nbd');
    expect(resolveRunOptions({}, { models: { model: 'mbgnbd' } }).model).toBe('mbgnbd');
    expect(resolveRunOptions({ model: 'bgnbd' }, { models: { model: 'mbgnbd' } }).model).toBe('bgnbd');
    // auto (models/model-choice.ts) is opt-in: the flag or the config.
    expect(resolveRunOptions({ model: 'auto' }).model).toBe('auto');
    expect(resolveRunOptions({}, { models: { model: 'auto' } }).model).toBe('auto');
    // models.model is a choice, not a model setting: runs.params records it once, as `model`.
    expect('model' in resolveRunOptions({}, { models: { model: 'mbgnbd' } }).settings).toBe(false);
  });

  it('bgbb and unknown names are usage errors', () => {
    expect(() => resolveRunOptions({ model: 'bgbb' })).toThrow(expect.objectContaining({ exitCode: ExitCode.usage, message: expect.stringMatching(/^--model bgbb: .*discrete opportunities/) }));
    expect(() => resolveRunOptions({ model: 'weibull' })).toThrow(expect.objectContaining({ exitCode: ExitCode.usage, message: '--model weibull: use bgnbd, pareto-nbd, mbgnbd or auto' }));
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
