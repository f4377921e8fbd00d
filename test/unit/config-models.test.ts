/**
 * crm.config.json's models section names what `crm run --model` and `--time-unit` take: the
 * schema refused "auto" (the default) and could not name "bgbb" or "year" until the fifth session.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';
import { tempDir } from '../helpers/cli.js';

const dir = tempDir('crm-config-models-');
const write = (name: string, models: object) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify({ models }));
  return file;
};

describe('crm.config.json models', () => {
  it('accepts every --model choice, and year as the time unit', () => {
    for (const model of ['auto', 'bgnbd', 'pareto-nbd', 'mbgnbd', 'bgbb']) {
      expect(loadConfig(write(`${model}.json`, { model, time_unit: 'year' })).models).toMatchObject({ model, time_unit: 'year' });
    }
  });

  it('refuses a model or a unit crm run does not know, as an input error (exit 3)', () => {
    for (const models of [{ model: 'bgnbd2' }, { time_unit: 'decade' }]) {
      let error: unknown;
      try {
        loadConfig(write('bad.json', models));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(CrmError);
      expect((error as CrmError).exitCode).toBe(ExitCode.input);
    }
  });
});
