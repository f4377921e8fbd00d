/**
 * --date-format with a strptime format: only the specifiers DuckDB knows pass; an unknown one
 * is a usage error listing the valid ones, before any file is read (issue #8 §3).
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDateFormatFlag, STRPTIME_SPECIFIERS, unknownStrptimeSpecifiers } from '../../src/ingest/values.js';
import { literal } from '../../src/store/db.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';

let conn: DuckDBConnection;
beforeAll(async () => {
  conn = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => conn.closeSync());

describe('--date-format specifiers', () => {
  it('every listed specifier is one DuckDB strptime accepts', async () => {
    for (const spec of STRPTIME_SPECIFIERS) {
      await expect(conn.run(`SELECT try_strptime('2024', ${literal(spec)})`), spec).resolves.toBeDefined();
    }
  });

  it('DuckDB refuses the ones the list leaves out (so they must be caught before)', async () => {
    for (const spec of ['%Q', '%K', '%-Q', '%']) {
      await expect(conn.run(`SELECT try_strptime('2024', ${literal(spec)})`), spec).rejects.toThrow();
      expect(unknownStrptimeSpecifiers(spec)).toEqual([spec]);
    }
  });

  it('finds unknown specifiers anywhere in a format, once each', () => {
    expect(unknownStrptimeSpecifiers('%d.%m.%Y %H:%M:%S')).toEqual([]);
    expect(unknownStrptimeSpecifiers('%-d/%-m/%y 100%%')).toEqual([]);
    expect(unknownStrptimeSpecifiers('%Q-%d-%Q %')).toEqual(['%Q', '%']);
  });

  it('an unknown specifier is a usage error naming it and listing the valid ones', () => {
    let thrown: unknown;
    try {
      parseDateFormatFlag('%d/%Q/%Y');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CrmError);
    const err = thrown as CrmError;
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message).toBe('--date-format "%d/%Q/%Y": %Q is not a strptime specifier');
    expect(err.details[0]).toBe(`Specifiers: ${STRPTIME_SPECIFIERS.join(' ')}`);
    expect(parseDateFormatFlag('%d.%m.%Y')).toEqual({ exact: '%d.%m.%Y' });
  });
});
