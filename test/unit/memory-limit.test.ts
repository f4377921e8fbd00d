/**
 * `--memory-limit SIZE` and $CRM_MEMORY_LIMIT: what a size may look like, which source wins, that
 * a given size is the command's budget of which DuckDB gets three quarters (a default is DuckDB's
 * cap as it stands), and that a store opens with DuckDB's share and spills beside itself.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { DEFAULT_MEMORY_LIMIT, DUCKDB_SHARE, describeMemory, duckdbShare, parseMemoryLimit, resolveMemory, resolveMemoryLimit, setMemoryLimitFlag } from '../../src/store/memory.js';
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
    expect(parseMemoryLimit('100000000b')).toBe('100000000B');
  });

  it('is refused without a unit, with an unknown one, or too small to work in', () => {
    expect(usageMessage(() => parseMemoryLimit('4'))).toBe('--memory-limit "4": give a size with its unit, e.g. 4GB or 512MB');
    expect(usageMessage(() => parseMemoryLimit('4G'))).toContain('give a size with its unit');
    expect(usageMessage(() => parseMemoryLimit('80%'))).toContain('give a size with its unit');
    expect(usageMessage(() => parseMemoryLimit('-1GB'))).toContain('give a size with its unit');
    expect(usageMessage(() => parseMemoryLimit('lots', 'CRM_MEMORY_LIMIT'))).toBe('CRM_MEMORY_LIMIT "lots": give a size with its unit, e.g. 4GB or 512MB');
    expect(usageMessage(() => parseMemoryLimit('10MB'))).toBe('--memory-limit 10MB: too small for crm to work in; give at least 86MB');
    expect(usageMessage(() => parseMemoryLimit('0GB'))).toContain('too small');
  });

  it('is refused when DuckDB\'s three quarters of it would be under 64MB, in the budget\'s terms', () => {
    // 64MB itself was enough while the flag was DuckDB's cap; as a budget DuckDB would get 48MB.
    expect(usageMessage(() => parseMemoryLimit('64MB'))).toBe('--memory-limit 64MB: too small for crm to work in; give at least 86MB');
    expect(usageMessage(() => parseMemoryLimit('85MB', 'CRM_MEMORY_LIMIT'))).toBe('CRM_MEMORY_LIMIT 85MB: too small for crm to work in; give at least 86MB');
    expect(parseMemoryLimit('86MB')).toBe('86MB');
    expect(duckdbShare('86MB')).toBe('64.5MB');
    let details: string[] | undefined;
    try {
      parseMemoryLimit('80MB');
    } catch (err) {
      details = (err as CrmError).details;
    }
    expect(details).toEqual(['DuckDB gets three quarters of it and needs at least 64MB.']);
  });
});

describe("DuckDB's share of a budget", () => {
  it('is three quarters, in the budget\'s unit, never rounded up', () => {
    expect(DUCKDB_SHARE).toBe(0.75);
    expect(duckdbShare('4GB')).toBe('3GB');
    expect(duckdbShare('512MB')).toBe('384MB');
    expect(duckdbShare('1.5GiB')).toBe('1.125GiB');
    expect(duckdbShare('3GB')).toBe('2.25GB');
    expect(duckdbShare('1TB')).toBe('0.75TB');
    expect(duckdbShare('100000001B')).toBe('75000000B');
    expect(duckdbShare('0.1GB')).toBe('0.075GB');
    // 0.0875 × 0.75 = 0.065625: a thousandth down, not to the nearest.
    expect(duckdbShare('0.0875GB')).toBe('0.065GB');
  });
});

describe('the limit a store opens with', () => {
  const savedEnv = process.env.CRM_MEMORY_LIMIT;
  afterEach(() => {
    setMemoryLimitFlag(undefined);
    if (savedEnv === undefined) delete process.env.CRM_MEMORY_LIMIT;
    else process.env.CRM_MEMORY_LIMIT = savedEnv;
  });

  it('is three quarters of the flag, else of the environment, else the command\'s default, else 1GB', () => {
    expect(resolveMemoryLimit('2GB', '4GB', '3GB')).toBe('3GB');
    expect(resolveMemoryLimit('2GB', undefined, '3gb')).toBe('2.25GB');
    expect(resolveMemoryLimit('2GB', undefined, undefined)).toBe('2GB');
    expect(resolveMemoryLimit(undefined, undefined, '')).toBe(DEFAULT_MEMORY_LIMIT);
    expect(DEFAULT_MEMORY_LIMIT).toBe('1GB');
  });

  it('says where it came from and what the budget was', () => {
    expect(resolveMemory('2GB', '4GB', '3GB')).toEqual({ budget: '4GB', duckdb: '3GB', source: '--memory-limit' });
    expect(resolveMemory('2GB', undefined, '512mb')).toEqual({ budget: '512MB', duckdb: '384MB', source: 'CRM_MEMORY_LIMIT' });
    expect(resolveMemory('2GB', undefined, undefined)).toEqual({ budget: null, duckdb: '2GB', source: 'default' });
    expect(describeMemory(resolveMemory(undefined, '4GB', undefined))).toBe("memory budget 4GB (--memory-limit), DuckDB's share 3GB");
    expect(describeMemory(resolveMemory(undefined, undefined, '2GB'))).toBe("memory budget 2GB (CRM_MEMORY_LIMIT), DuckDB's share 1.5GB");
    expect(describeMemory(resolveMemory(undefined, undefined, undefined))).toBe("DuckDB's memory limit 1GB (default)");
  });

  it('refuses a bad $CRM_MEMORY_LIMIT unless the flag overrides it', () => {
    expect(usageMessage(() => resolveMemoryLimit(undefined, undefined, '4 gigs'))).toContain('CRM_MEMORY_LIMIT "4 gigs"');
    expect(resolveMemoryLimit(undefined, '512MB', '4 gigs')).toBe('384MB');
  });

  it('is set once by the flag for every store the command opens, with its spill folder beside it', async () => {
    delete process.env.CRM_MEMORY_LIMIT;
    setMemoryLimitFlag('512MB');
    const file = path.join(tempDir('crm-memory-'), 'crm.duckdb');
    // A command's own 2GB default: the flag's budget wins over it, and DuckDB gets 384MB of it.
    const store = await Store.open(file, { create: true, memoryLimit: '2GB' });
    try {
      const row = await store.one<{ limit: string; temp: string }>("SELECT current_setting('memory_limit') AS limit, current_setting('temp_directory') AS temp");
      expect(row).toEqual({ limit: '366.2 MiB', temp: `${file}.tmp` });
      expect(store.memory).toEqual({ budget: '512MB', duckdb: '384MB', source: '--memory-limit' });
    } finally {
      store.close();
    }
    setMemoryLimitFlag(undefined);
    // Without a flag or variable the command's default is DuckDB's cap itself, as before.
    const again = await Store.open(file, { memoryLimit: '2GB' });
    try {
      expect(await again.value("SELECT current_setting('memory_limit')")).toBe('1.8 GiB');
      expect(again.memory).toEqual({ budget: null, duckdb: '2GB', source: 'default' });
    } finally {
      again.close();
    }
  });
});
