/**
 * src/ingest/options.ts: ingest options checked before the store is opened or a file read.
 * Flags that cannot be used or cannot apply are usage errors (exit 2); the same settings from
 * crm.config.json are input errors (exit 3) naming the setting.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIngestOptions } from '../../src/ingest/options.js';
import { ingest, type IngestOptions } from '../../src/ingest/index.js';
import { parseDecimalSeparatorFlag } from '../../src/ingest/values.js';
import { DATASET_KINDS, fieldsFor } from '../../src/ingest/fields.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';
import { createReporter } from '../../src/util/log.js';
import { createProgress } from '../../src/util/progress.js';
import { tempDir } from '../helpers/cli.js';

const dir = tempDir('crm-options-');
const csv = path.join(dir, 'orders.csv');
const xlsx = path.join(dir, 'orders.xlsx');
beforeAll(() => {
  fs.writeFileSync(csv, 'customer_id,order_date,amount\nC1,2024-01-05,10\n');
  // Detection reads the first bytes: a zip signature is a workbook.
  fs.writeFileSync(xlsx, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function options(extra: Partial<IngestOptions>): IngestOptions {
  return {
    kind: 'transactions',
    files: [csv],
    storePath: path.join(dir, 'never-created.duckdb'),
    reporter: createReporter({ quiet: true, json: false }),
    progress: createProgress({ quiet: true }),
    ...extra,
  };
}

async function refusal(extra: Partial<IngestOptions>): Promise<CrmError> {
  try {
    await checkIngestOptions(options(extra));
  } catch (err) {
    if (err instanceof CrmError) return err;
    throw err;
  }
  throw new Error(`accepted: ${JSON.stringify(extra)}`);
}

describe('ingest options', () => {
  it.each<[string, Partial<IngestOptions>, RegExp]>([
    ['--sheet on a CSV', { sheet: 'Sales' }, /^--sheet applies to XLSX workbooks only, and .*orders\.csv is read as CSV$/],
    ['--delimiter on a workbook', { files: [xlsx], delimiter: ';' }, /^--delimiter applies to CSV\/TSV text only, and .*orders\.xlsx is read as XLSX$/],
    ['--encoding on a workbook', { files: [xlsx], encoding: 'latin1' }, /^--encoding applies to CSV\/TSV text only/],
    ['an empty --delimiter', { delimiter: '' }, /^--delimiter "": give one character/],
    ['a two-character --delimiter', { delimiter: ';;' }, /^--delimiter ";;"/],
    ['--format tsv with a comma', { format: 'tsv', delimiter: ',' }, /^--format tsv reads tab-separated text; --delimiter ","/],
    ['an unknown --encoding', { encoding: 'klingon' }, /^--encoding klingon: unknown encoding/],
    ['an unknown strptime specifier', { dateFormat: '%d/%Q' }, /^--date-format "%d\/%Q": %Q is not a strptime specifier/],
    ['a --return-pattern that does not compile', { returnPattern: '(' }, /^--return-pattern "\(": not a valid regular expression/],
    ['a look-ahead (JavaScript has it, RE2 does not)', { returnPattern: '^(?=C)' }, /^--return-pattern "\^\(\?=C\)": not a valid regular expression/],
    ['an empty --return-pattern', { returnPattern: '' }, /every order a return/],
    ['an unknown --decimal-separator', { decimalSeparator: 'x' }, /^--decimal-separator "x" is not understood/],
  ])('refuses %s (exit 2)', async (_name, extra, message) => {
    const err = await refusal(extra);
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message).toMatch(message);
  });

  it('accepts the flags that apply', async () => {
    for (const extra of [{ delimiter: ',' }, { delimiter: 'tab' }, { delimiter: 'whitespace' }, { format: 'tsv', delimiter: 'tab' }, { files: [xlsx], sheet: 'Sales' }, { encoding: 'gbk', dateFormat: '%d.%m.%Y', returnPattern: '^(C|R)' }, ...['.', ',', 'point', 'dot', 'comma'].map((decimalSeparator) => ({ decimalSeparator }))]) {
      await expect(checkIngestOptions(options(extra)), JSON.stringify(extra)).resolves.toBeUndefined();
    }
    expect(fs.existsSync(path.join(dir, 'never-created.duckdb'))).toBe(false);
  });

  it('settings from crm.config.json are input errors naming the setting; a flag overrides them', async () => {
    const config = { source: '/home/ana/crm.config.json', ingest: { transactions: { returnPattern: '(', dateFormat: '%Q' } } };
    const bad = await refusal({ config, dateFormat: 'DMY' });
    expect(bad.exitCode).toBe(ExitCode.input);
    expect(bad.message).toMatch(/^\/home\/ana\/crm\.config\.json: ingest\.transactions\.returnPattern "\(": not a valid regular expression/);
    const format = await refusal({ config, returnPattern: '^C' });
    expect(format.exitCode).toBe(ExitCode.input);
    expect(format.message).toBe('/home/ana/crm.config.json: ingest.transactions.dateFormat "%Q" is not a date format');
    await expect(checkIngestOptions(options({ config, returnPattern: '^C', dateFormat: 'DMY' }))).resolves.toBeUndefined();
    // The schema cannot see a config built in code; the same rule names the setting.
    const decimal = { source: '/home/ana/crm.config.json', ingest: { transactions: { decimalSeparator: 'x' } } };
    const separator = await refusal({ config: decimal });
    expect(separator.exitCode).toBe(ExitCode.input);
    expect(separator.message).toBe('/home/ana/crm.config.json: ingest.transactions.decimalSeparator "x" is not a decimal separator');
    await expect(checkIngestOptions(options({ config: decimal, decimalSeparator: ',' }))).resolves.toBeUndefined();
  });

  it('crm ingest --decimal-separator x stops before the store is created or the file read', async () => {
    const storePath = path.join(dir, 'decimal.duckdb');
    await expect(ingest(options({ storePath, decimalSeparator: 'x' }))).rejects.toMatchObject({ exitCode: ExitCode.usage, message: expect.stringMatching(/^--decimal-separator "x"/) });
    expect(fs.existsSync(storePath)).toBe(false);
  });

  it('the config schema lists the decimal separators the flag understands', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../schema/crm.config.schema.json'), 'utf8'));
    const listed: string[] = schema.definitions.ingestSource.properties.decimalSeparator.enum;
    for (const spelling of listed) expect(parseDecimalSeparatorFlag(spelling), spelling).toMatch(/^[.,]$/);
    expect(listed).toEqual(expect.arrayContaining(['.', ',', 'point', 'dot', 'comma']));
  });

  it('the config schema accepts a map of every field of every kind, and an ingest.contracts section', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../schema/crm.config.schema.json'), 'utf8'));
    const listed: string[] = schema.definitions.ingestSource.properties.map.propertyNames.enum;
    for (const kind of DATASET_KINDS) for (const f of fieldsFor(kind)) expect(listed, `${kind}.${f.name}`).toContain(f.name);
    expect(Object.keys(schema.properties.ingest.properties)).toEqual([...DATASET_KINDS]);
  });

  it('--return-pattern, or returnPattern in the config, for contracts or customers is refused, not ignored', async () => {
    const flag = await refusal({ kind: 'contracts', returnPattern: '^R' });
    expect(flag.exitCode).toBe(ExitCode.usage);
    expect(flag.message).toBe('--return-pattern applies to transactions only, not contracts');
    expect((await refusal({ kind: 'customers', returnPattern: '^R' })).exitCode).toBe(ExitCode.usage);
    const setting = await refusal({ kind: 'contracts', config: { ingest: { contracts: { returnPattern: '^R' } }, source: 'crm.config.json' } });
    expect(setting.exitCode).toBe(ExitCode.input);
    expect(setting.message).toBe('crm.config.json: ingest.contracts.returnPattern: a return pattern applies to transactions only');
  });

  it('a missing file or a folder is an input error (exit 3)', async () => {
    expect((await refusal({ files: [path.join(dir, 'missing.csv')] })).message).toMatch(/missing\.csv: no such file$/);
    expect((await refusal({ files: [dir] })).exitCode).toBe(ExitCode.input);
  });
});
