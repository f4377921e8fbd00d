/**
 * `--memory-limit SIZE` and $CRM_MEMORY_LIMIT: what a size may look like, which source wins, and
 * that a store opens with the winner and spills beside itself.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { DEFAULT_MEMORY_LIMIT, parseMemoryLimit, resolveMemoryLimit, setMemoryLimitFlag } from '../../src/store/memory.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';
import { tempDir } from '../helpers/cli.js';

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CrmError);
    expect((err as CrmError).exitCode).toBe(ExitCode.usage);
    return (err as CrmError).message;
  }
  throw new Error('expected a usage error');
}

describe('a memory size', () => {
  it('is a number with a decimal or binary unit, in DuckDB\'s spelling', () => {
    expect(parseMemoryLimit('4GB')).toBe('4GB');
    expect(parseMemoryLimit('512mb')).toBe('512MB');
    expect(parseMemoryLimit(' 1.5 GiB ')).toBe('1.5GiB');
    expect(parseMemoryLimit('2tb')).toBe('2TB');
    expect(parseMemoryLimit('65000000b')).toBe('65000000B');
  });

  it('is refused without a unit, with an unknown one, or too small to work in', () => {
    expect(usageMessage(() => parseMemoryLimit('4'))).toBe('--memory-limit "4": give a size with its unit, e.g. 4GB or 512MB');
    expect(usageMessage(() => parseMemoryLimit('4G'))).toContain('give a size with its unit');
    expect(usageMessage(() => parseMemoryLimit('80%'))).toContain('give a size with its unit');
    expect(usageMessage(() => parseMemoryLimit('-1GB'))).toContain('give a size with its unit');
    expect(usageMessage(() => parseMemoryLimit('lots', 'CRM_MEMORY_LIMIT'))).toBe('CRM_MEMORY_LIMIT "lots": give a size with its unit, e.g. 4GB or 512MB');
    expect(usageMessage(() => parseMemoryLimit('10MB'))).toBe('--memory-limit 10MB: too small for DuckDB to work in; give at least 64MB');
    expect(usageMessage(() => parseMemoryLimit('0GB'))).toContain('too small');
    expect(parseMemoryLimit('64MB')).toBe('64MB');
  });
});

describe('the limit a store opens with', () => {
  const savedEnv = process.env.CRM_MEMORY_LIMIT;
  afterEach(() => {
    setMemoryLimitFlag(undefined);
    if (savedEnv === undefined) delete process.env.CRM_MEMORY_LIMIT;
    else process.env.CRM_MEMORY_LIMIT = savedEnv;
  });

  it('is the flag, else the environment, else the command\'s default, else 1GB', () => {
    expect(resolveMemoryLimit('2GB', '4GB', '3GB')).toBe('4GB');
    expect(resolveMemoryLimit('2GB', undefined, '3gb')).toBe('3GB');
    expect(resolveMemoryLimit('2GB', undefined, undefined)).toBe('2GB');
    expect(resolveMemoryLimit(undefined, undefined, '')).toBe(DEFAULT_MEMORY_LIMIT);
    expect(DEFAULT_MEMORY_LIMIT).toBe('1GB');
  });

  it('refuses a bad $CRM_MEMORY_LIMIT unless the flag overrides it', () => {
    expect(usageMessage(() => resolveMemoryLimit(undefined, undefined, '4 gigs'))).toContain('CRM_MEMORY_LIMIT "4 gigs"');
    expect(resolveMemoryLimit(undefined, '512MB', '4 gigs')).toBe('512MB');
  });

  it('is set once by the flag for every store the command opens, with its spill folder beside it', async () => {
    delete process.env.CRM_MEMORY_LIMIT;
    setMemoryLimitFlag('512MB');
    const file = path.join(tempDir('crm-memory-'), 'crm.duckdb');
    // run/index.ts asks for its own 2GB default: the flag wins over it.
    const store = await Store.open(file, { create: true, memoryLimit: '2GB' });
    try {
      const row = await store.one<{ limit: string; temp: string }>("SELECT current_setting('memory_limit') AS limit, current_setting('temp_directory') AS temp");
      expect(row).toEqual({ limit: '488.2 MiB', temp: `${file}.tmp` });
    } finally {
      store.close();
    }
    setMemoryLimitFlag(undefined);
    const again = await Store.open(file, { memoryLimit: '2GB' });
    try {
      expect(await again.value("SELECT current_setting('memory_limit')")).toBe('1.8 GiB');
    } finally {
      again.close();
    }
  });
});
