/**
 * The options of `crm ingest`, checked before the store is opened or any file is read. A flag
 * value that cannot be used, or a flag that cannot apply to a file (`--sheet` on a CSV), is a
 * usage error (exit 2) naming the flag: refused, never ignored, and never found halfway
 * through a load. The same settings from crm.config.json are input errors (exit 3) naming the
 * setting; its schema checks what it can (encodings, one-character delimiters), this module the
 * rest (regular expressions, date formats). Each rule lives here and nowhere else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '../store/duckdb.js';
import type { IngestSourceConfig } from '../config.js';
import { literal } from '../store/sql.js';
import { CrmError, inputError, messageOf, usageError } from '../util/errors.js';
import { detectFormat, normaliseEncoding, readHead, type FileFormat } from './detect.js';
import type { IngestOptions } from './index.js';
import { parseMapFlags } from './mapping.js';
import { parseDateFormatFlag, parseDecimalSeparatorFlag } from './values.js';

/** Words --delimiter takes besides a single character. */
const DELIMITER_WORDS = ['tab', '\\t', 'whitespace'];

/** Formats read as delimited text: the only ones --delimiter and --encoding apply to. */
const TEXT_FORMATS: readonly FileFormat[] = ['csv', 'tsv'];

/** Check every ingest option and every file against them; throws the first problem found. */
export async function checkIngestOptions(opts: IngestOptions): Promise<void> {
  await checkFlagValues(opts);
  await checkConfigValues(opts);
  for (const file of opts.files) checkFile(file, opts);
}

async function checkFlagValues(opts: IngestOptions): Promise<void> {
  if (opts.delimiter !== undefined) checkDelimiter(opts.delimiter);
  if (opts.encoding !== undefined) normaliseEncoding(opts.encoding);
  if (opts.sheet !== undefined && opts.sheet.trim() === '') throw usageError('--sheet needs the name of a sheet');
  if (opts.dateFormat !== undefined) parseDateFormatFlag(opts.dateFormat);
  if (opts.decimalSeparator !== undefined) parseDecimalSeparatorFlag(opts.decimalSeparator);
  if (opts.returnPattern !== undefined && opts.kind !== 'transactions') {
    throw usageError(`--return-pattern applies to transactions only, not ${opts.kind}`, [
      opts.kind === 'contracts' ? 'A contract period with a negative amount is rejected (negative_amount): refunds are not periods.' : 'Leave it out for this file.',
    ]);
  }
  if (opts.returnPattern !== undefined) {
    const problem = await returnPatternProblem(opts.returnPattern);
    if (problem) {
      throw usageError(`--return-pattern ${JSON.stringify(opts.returnPattern)}: ${problem}`, [
        'Order ids matching it are returns; the default is ^C (ids starting with C).',
      ]);
    }
  }
  parseMapFlags(opts.map, opts.kind);
}

function checkDelimiter(flag: string): void {
  if (DELIMITER_WORDS.includes(flag.toLowerCase())) return;
  if ([...flag].length !== 1) {
    throw usageError(`--delimiter ${JSON.stringify(flag)}: give one character, or "tab" or "whitespace"`);
  }
}

/** Config settings the flags did not override: the ones this command will use. */
async function checkConfigValues(opts: IngestOptions): Promise<void> {
  const config = opts.config;
  const source: IngestSourceConfig = config?.ingest?.[opts.kind] ?? {};
  const where = (key: string) => `${config?.source ?? 'crm.config.json'}: ingest.${opts.kind}.${key}`;
  /** A setting read by the flag's own parser: its usage error becomes an input error naming the setting. */
  const parseSetting = (key: string, value: string, parse: (v: string) => unknown, what: string) => {
    try {
      parse(value);
    } catch (err) {
      if (!(err instanceof CrmError)) throw err;
      throw inputError(`${where(key)} ${JSON.stringify(value)} is not ${what}`, err.details);
    }
  };
  if (opts.dateFormat === undefined && source.dateFormat !== undefined) parseSetting('dateFormat', source.dateFormat, parseDateFormatFlag, 'a date format');
  if (opts.decimalSeparator === undefined && source.decimalSeparator !== undefined) {
    parseSetting('decimalSeparator', source.decimalSeparator, parseDecimalSeparatorFlag, 'a decimal separator');
  }
  if (source.returnPattern !== undefined && opts.kind !== 'transactions') {
    throw inputError(`${where('returnPattern')}: a return pattern applies to transactions only`, ['Remove it from this section of the config file.']);
  }
  if (opts.returnPattern === undefined && source.returnPattern !== undefined) {
    const problem = await returnPatternProblem(source.returnPattern);
    if (problem) throw inputError(`${where('returnPattern')} ${JSON.stringify(source.returnPattern)}: ${problem}`);
  }
}

/**
 * Why a return pattern cannot be used, or null. DuckDB applies it (RE2 syntax, which has no
 * look-around or back-references), so DuckDB checks it, in a throwaway in-memory database.
 */
async function returnPatternProblem(pattern: string): Promise<string | null> {
  if (pattern === '') return 'an empty pattern would make every order a return';
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`SELECT regexp_matches('', ${literal(pattern)})`);
    return null;
  } catch (err) {
    return `not a valid regular expression (${messageOf(err).split('\n')[0].replace(/^Invalid Input Error: /, '')})`;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** The file exists, is readable, and every flag given applies to its format. */
function checkFile(file: string, opts: IngestOptions): void {
  const absPath = path.resolve(file);
  if (!fs.existsSync(absPath)) throw inputError(`${file}: no such file`);
  if (!fs.statSync(absPath).isFile()) throw inputError(`${file}: not a file`);
  let head: Buffer;
  try {
    head = readHead(absPath, 4096);
  } catch (err) {
    throw inputError(`${file}: cannot read the file: ${messageOf(err)}`);
  }
  const format = detectFormat(file, head, opts.format);
  const cannotApply = (flag: string, to: string) =>
    usageError(`${flag} applies to ${to} only, and ${file} is read as ${format.toUpperCase()}`, [`Leave ${flag} out for this file, or ingest it in its own command.`]);
  if (opts.sheet !== undefined && format !== 'xlsx') throw cannotApply('--sheet', 'XLSX workbooks');
  if (opts.delimiter !== undefined && !TEXT_FORMATS.includes(format)) throw cannotApply('--delimiter', 'CSV/TSV text');
  if (opts.encoding !== undefined && !TEXT_FORMATS.includes(format)) throw cannotApply('--encoding', 'CSV/TSV text');
  if (opts.format === 'tsv' && opts.delimiter !== undefined && !['tab', '\\t', '\t'].includes(opts.delimiter.toLowerCase())) {
    throw usageError(`--format tsv reads tab-separated text; --delimiter ${JSON.stringify(opts.delimiter)} contradicts it`, [
      'For another delimiter use --format csv --delimiter CHAR.',
    ]);
  }
}
