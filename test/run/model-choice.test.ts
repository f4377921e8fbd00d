/**
 * Which purchase model `crm run` fits (src/run/settings.ts): --model, else the config's
 * models.model, else the BG/NBD; hyphenated names map to the JSON keys; bgbb and unknown names
 * are usage errors (exit 2) naming the flag.
 */
import { describe, expect, it } from 'vitest';
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
