/** `--covariates` / models.covariates parsing (run/covariates.ts) and the p-value's wording. */
import { describe, expect, it } from 'vitest';
import { parseCovariates } from '../../src/run/covariates.js';
import { formatPValue } from '../../src/run/covariates-format.js';
import { resolveRunOptions } from '../../src/run/settings.js';
import { CrmError } from '../../src/util/errors.js';

describe('parseCovariates', () => {
  it('takes comma-separated names, once each, in the canonical order (region, channel)', () => {
    expect(parseCovariates(undefined)).toEqual([]);
    expect(parseCovariates('region')).toEqual(['region']);
    expect(parseCovariates(' channel , region,channel')).toEqual(['region', 'channel']);
    expect(parseCovariates(['channel'])).toEqual(['channel']);
  });

  it('refuses unknown and empty names with a usage error (exit 2) naming the allowed ones', () => {
    const code = (v: string | string[]) => {
      try {
        parseCovariates(v);
        return 0;
      } catch (e) {
        expect((e as Error).message).toMatch(/allowed: region, channel/);
        return (e as CrmError).exitCode;
      }
    };
    expect(code('industry')).toBe(2);
    expect(code('region,')).toBe(2);
    expect(code([])).toBe(2);
  });

  it('the flag wins over models.covariates, which is not a model setting', () => {
    const fromConfig = resolveRunOptions({}, { models: { covariates: ['channel'] } });
    expect(fromConfig.covariates).toEqual(['channel']);
    expect('covariates' in fromConfig.settings).toBe(false);
    expect(resolveRunOptions({ covariates: 'region' }, { models: { covariates: ['channel'] } }).covariates).toEqual(['region']);
    expect(resolveRunOptions({}).covariates).toEqual([]);
  });
});

describe('formatPValue', () => {
  it('3 decimals, scientific below 0.001', () => {
    expect(formatPValue(0.0085822)).toBe('0.009');
    expect(formatPValue(2.9e-15)).toBe('2.9e-15');
    expect(formatPValue(NaN)).toBe('—');
  });
});
