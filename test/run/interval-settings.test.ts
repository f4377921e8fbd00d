/**
 * The intervals' level (models/intervals.ts): `crm run --interval P`, else the config's
 * `models.interval`, else 0.9; recorded in runs.params with the other settings. A flag outside
 * (0, 1) is a usage error (exit 2); a config value outside it an invalid setting (exit 3, as
 * every models.* setting).
 */
import { describe, expect, it } from 'vitest';
import { resolveRunOptions } from '../../src/run/settings.js';
import { CrmError } from '../../src/util/errors.js';

const exitCodeOf = (fn: () => unknown): number | null => {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof CrmError ? err.exitCode : -1;
  }
};

describe('the intervals’ level', () => {
  it('defaults to 0.9; the config sets it; the flag wins', () => {
    expect(resolveRunOptions({}).settings.interval).toBe(0.9);
    expect(resolveRunOptions({}, { models: { interval: 0.8 } }).settings.interval).toBe(0.8);
    expect(resolveRunOptions({ interval: '0.95' }, { models: { interval: 0.8 } }).settings.interval).toBe(0.95);
  });

  it('a flag outside (0, 1) exits 2; a config value outside it exits 3', () => {
    for (const bad of ['0', '1', '-0.5', '90', 'abc', '']) expect(exitCodeOf(() => resolveRunOptions({ interval: bad })), bad).toBe(2);
    for (const bad of [0, 1, 1.5, '0.9']) expect(exitCodeOf(() => resolveRunOptions({}, { models: { interval: bad } })), String(bad)).toBe(3);
  });
});
