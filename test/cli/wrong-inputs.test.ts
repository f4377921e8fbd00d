/**
 * Never a stack trace for a user's mistake (issue #8 §3): every command, given the wrong inputs
 * people really type — impossible dates, unknown formats, bad regexes, conflicting flags, files
 * that are missing, unreadable or folders, empty strings, negative or NaN numbers, unknown run
 * ids, outputs that cannot be written — exits with its documented code (2 usage, 3 input,
 * 4 store, 5 output, 6 query; README "Exit codes") and prints `crm: error: …`, no stack frame.
 *
 * One scored store is built once; ingest cases each get a fresh store path so no earlier load
 * can make them a no-op. Cases run a few at a time (each spawns the built CLI).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CLI, crm, REAL_XLSX, ROOT, tempDir, type CliResult } from '../helpers/cli.js';
import { ExitCode } from '../../src/util/errors.js';

const SAMPLE = path.join(ROOT, 'data/sample');
const CUSTOMERS = path.join(SAMPLE, 'customers.csv');
const TRANSACTIONS = path.join(SAMPLE, 'transactions.csv');
const JSON_FILE = path.join(ROOT, 'data/json/transactions.json');
const NOTEBOOK = path.join(ROOT, 'notebooks/example.md');
/** A regular file: a path below it can be neither created nor written, even by root. */
const UNDER_A_FILE = path.join(CUSTOMERS, 'sub');

/** A stack frame (`    at fn (file.js:1:2)`) or a bare `file.js:12` position. */
const STACK_FRAME = /\n\s+at .*\(|\.js:\d+/;

/** Made when the file loads: the case table names paths inside it. */
const dir = tempDir('crm-wrong-');
const db = path.join(dir, 'crm.duckdb');
let freshStores = 0;
/** A store path nothing was loaded into yet (ingest cases must not meet an earlier load). */
const fresh = () => path.join(dir, `fresh-${++freshStores}.duckdb`);
const inDir = (name: string) => path.join(dir, name);

function crmAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, CRM_DB: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(() => {
  for (const args of [['ingest', 'customers', CUSTOMERS], ['ingest', 'transactions', TRANSACTIONS], ['run']]) {
    const r = crm(['--db', db, '-q', ...args]);
    if (r.code !== 0) throw new Error(`crm ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  }
  fs.mkdirSync(inDir('a-folder'));
  fs.mkdirSync(inDir('folder.csv'));
  fs.writeFileSync(inDir('empty.csv'), '');
  fs.writeFileSync(inDir('unmapped.csv'), 'a,b\n1,2\n');
  fs.writeFileSync(inDir('transactions.csv.gz'), zlib.gzipSync(fs.readFileSync(TRANSACTIONS)).subarray(0, 4000));
  fs.writeFileSync(inDir('bad-sql.md'), '# Bad\n\n```sql rows\nSELEC 1\n```\n');
  fs.writeFileSync(inDir('not-json.json'), '{ not json');
  fs.writeFileSync(inDir('bad-models.json'), JSON.stringify({ models: { horizon_months: -3 } }));
  fs.writeFileSync(inDir('bad-date-format.json'), JSON.stringify({ ingest: { transactions: { dateFormat: '%Q' } } }));
  fs.writeFileSync(inDir('bad-return-pattern.json'), JSON.stringify({ ingest: { transactions: { returnPattern: '(' } } }));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

type Case = [name: string, code: number, args: () => string[], message?: RegExp];

const { usage, input, store, output, query } = ExitCode;
const ingestT = (...extra: string[]) => () => ['--db', fresh(), 'ingest', 'transactions', TRANSACTIONS, ...extra];
/** Read-only commands share the scored store. */
const onStore = (...args: string[]) => () => ['--db', db, ...args];
/** `crm run` writes: each case gets its own copy of the scored store (cases run side by side). */
let copies = 0;
const onCopy = (...args: string[]) => () => {
  const copy = path.join(dir, `copy-${++copies}.duckdb`);
  fs.copyFileSync(db, copy);
  return ['--db', copy, ...args];
};

const INGEST: Case[] = [
  ['--date-format %Q (unknown strptime specifier)', usage, ingestT('--date-format', '%Q'), /--date-format "%Q".*%Q[\s\S]*%d/],
  ['--date-format XYZ', usage, ingestT('--date-format', 'XYZ'), /--date-format "XYZ"/],
  ['--date-format ""', usage, ingestT('--date-format', ''), /--date-format/],
  ['--return-pattern "(" (bad regex)', usage, ingestT('--return-pattern', '('), /--return-pattern "\("/],
  ['--return-pattern "(?=C)" (look-ahead: not RE2, which DuckDB applies)', usage, ingestT('--return-pattern', '(?=C)'), /--return-pattern "\(\?=C\)"/],
  ['--return-pattern ""', usage, ingestT('--return-pattern', ''), /--return-pattern/],
  ['--sheet on a CSV', usage, ingestT('--sheet', 'Sales'), /--sheet/],
  ['--sheet on a JSON file', usage, () => ['--db', fresh(), 'ingest', 'transactions', JSON_FILE, '--sheet', 'Sales'], /--sheet/],
  ['--delimiter ""', usage, ingestT('--delimiter', ''), /--delimiter/],
  ['--delimiter of two characters', usage, ingestT('--delimiter', ';;'), /--delimiter ";;"/],
  ['--delimiter on an XLSX workbook', usage, () => ['--db', fresh(), 'ingest', 'transactions', REAL_XLSX, '--delimiter', ';'], /--delimiter/],
  ['--format tsv with --delimiter ,', usage, ingestT('--format', 'tsv', '--delimiter', ','), /--delimiter/],
  ['--encoding unknown', usage, ingestT('--encoding', 'klingon'), /--encoding klingon/],
  ['--encoding ""', usage, ingestT('--encoding', ''), /--encoding/],
  ['--encoding on an XLSX workbook', usage, () => ['--db', fresh(), 'ingest', 'transactions', REAL_XLSX, '--encoding', 'latin1'], /--encoding/],
  ['--format ""', usage, ingestT('--format', '')],
  ['--map ""', usage, ingestT('--map', ''), /--map/],
  ['--map with an unknown field', usage, ingestT('--map', 'colour=product'), /--map/],
  ['--map giving one field twice (conflicting)', usage, ingestT('--map', 'customer_id=customer_id', '--map', 'customer_id=product'), /--map gives customer_id twice/],
  ['--map to a column the file lacks', input, ingestT('--map', 'customer_id=nope'), /"nope"/],
  ['--replace --append (conflicting)', usage, ingestT('--replace', '--append'), /--replace/],
  ['an unknown kind', usage, () => ['--db', fresh(), 'ingest', 'orders', TRANSACTIONS], /unknown kind/],
  ['a missing file', input, () => ['--db', fresh(), 'ingest', 'transactions', inDir('missing.csv')], /missing\.csv: no such file/],
  ['a folder instead of a file', input, () => ['--db', fresh(), 'ingest', 'transactions', inDir('a-folder')], /a-folder/],
  ['an empty file name', usage, () => ['--db', fresh(), 'ingest', 'transactions', '']],
  ['an empty file', input, () => ['--db', fresh(), 'ingest', 'transactions', inDir('empty.csv')], /empty/],
  ['a file with no usable column', input, () => ['--db', fresh(), 'ingest', 'transactions', inDir('unmapped.csv')], /no column found/],
  ['a truncated .csv.gz', input, () => ['--db', fresh(), 'ingest', 'transactions', inDir('transactions.csv.gz')], /transactions\.csv\.gz/],
  ['--db below a regular file', store, () => ['--db', path.join(UNDER_A_FILE, 'crm.duckdb'), 'ingest', 'transactions', TRANSACTIONS], /customers\.csv/],
  ['--db naming a CSV file, not a store', store, () => ['--db', CUSTOMERS, 'ingest', 'customers', CUSTOMERS], /not a DuckDB/],
  ['config: dateFormat %Q', input, () => ['--db', fresh(), '--config', inDir('bad-date-format.json'), 'ingest', 'transactions', TRANSACTIONS], /dateFormat/],
  ['config: returnPattern "("', input, () => ['--db', fresh(), '--config', inDir('bad-return-pattern.json'), 'ingest', 'transactions', TRANSACTIONS], /returnPattern/],
];

const IMPOSSIBLE_DATES = ['2024-02-30', '2023-02-29', '2024-13-01', '2024-04-31', '99999-01-01', '0000-01-01', '2024-1-5', '31/12/2024', ''];

const DATES: Case[] = [
  ...IMPOSSIBLE_DATES.map((d): Case => [`run --as-of ${JSON.stringify(d)}`, usage, onCopy('run', '--as-of', d), new RegExp(`--as-of ${JSON.stringify(d).replace(/[/]/g, '\\/')}`)]),
  ['quality --as-of 2024-02-30', usage, onStore('quality', '--as-of', '2024-02-30'), /--as-of "2024-02-30"/],
  ['quality --as-of notadate', usage, onStore('quality', '--as-of', 'notadate'), /--as-of "notadate"/],
  ['quality --as-of ""', usage, onStore('quality', '--as-of', ''), /--as-of/],
  ['quality --out without --suggest-merges', usage, onStore('quality', '--out', 'x.csv'), /--out: only with --suggest-merges/],
  ['quality --suggest-merges --as-of', usage, onStore('quality', '--suggest-merges', '--as-of', '2024-01-01'), /--as-of applies to the quality report/],
  ['quality --suggest-merges --out ""', usage, onStore('quality', '--suggest-merges', '--out', ''), /--out/],
  ['merges undo 0', usage, onStore('merges', 'undo', '0'), /a merge id is a positive whole number/],
  ['merges undo an unknown merge', input, onCopy('merges', 'undo', '42'), /no merge 42 in the store/],
  ['run --since 2024-02-30', usage, onCopy('run', '--since', '2024-02-30'), /--since "2024-02-30"/],
  ['run --holdout-end 2024-02-31', usage, onCopy('run', '--holdout-end', '2024-02-31'), /--holdout-end "2024-02-31"/],
  ['generate --end-date 2024-02-30', usage, () => ['generate', '--customers', '10', '--out', inDir('gen'), '--end-date', '2024-02-30'], /--end-date "2024-02-30"/],
  ['generate --end-date 99999-12-31', usage, () => ['generate', '--customers', '10', '--out', inDir('gen'), '--end-date', '99999-12-31'], /--end-date/],
  ['generate --end-date 1000-06-30 (the period would start before year 1000)', usage, () => ['generate', '--customers', '10', '--out', inDir('gen'), '--end-date', '1000-06-30'], /--end-date 1000-06-30 .*before year 1000/],
  ['generate --end-date 0500-01-01 (a year no stored date may have)', usage, () => ['generate', '--customers', '10', '--out', inDir('gen'), '--end-date', '0500-01-01'], /--end-date "0500-01-01": the year must be from 1000 to 9999/],
  ['run --as-of 0999-12-31 (a year no stored date may have)', usage, onCopy('run', '--as-of', '0999-12-31'), /--as-of "0999-12-31": the year must be from 1000 to 9999/],
  ['generate --end-date ""', usage, () => ['generate', '--customers', '10', '--out', inDir('gen'), '--end-date', ''], /--end-date/],
];

const RUN: Case[] = [
  ['run --since after the as-of date', usage, onCopy('run', '--since', '2099-01-01'), /--since/],
  ['run --holdout-end after the last transaction date', input, onCopy('run', '--holdout-end', '2099-01-01'), /--holdout-end/],
  ['run --as-of before any purchase', input, onCopy('run', '--as-of', '1900-01-01'), /1900-01-01/],
  ['run --horizon -1', usage, onCopy('run', '--horizon', '-1'), /--horizon/],
  ['run --horizon NaN', usage, onCopy('run', '--horizon', 'NaN'), /--horizon/],
  ['run --horizon ""', usage, onCopy('run', '--horizon', ''), /--horizon/],
  ['run --share NaN', usage, onCopy('run', '--share', 'NaN'), /--share/],
  ['run --share 0', usage, onCopy('run', '--share', '0'), /--share/],
  ['run --time-unit decade', usage, onCopy('run', '--time-unit', 'decade'), /--time-unit/],
  ['run with invalid model settings', input, onCopy('--config', inDir('bad-models.json'), 'run'), /horizon_months/],
  ['run --config that is not JSON', input, onCopy('--config', inDir('not-json.json'), 'run'), /not valid JSON/],
  ['run --config that is missing', input, onCopy('--config', inDir('missing.json'), 'run'), /missing\.json/],
  ['run --config ""', usage, onCopy('--config', '', 'run'), /--config/],
  ['run on a missing store', store, () => ['--db', inDir('nothing.duckdb'), 'run'], /no store/],
];

const READERS: Case[] = [
  ['quality --db ""', usage, () => ['--db', '', 'quality'], /--db/],
  ['quality --db a folder', store, () => ['--db', inDir('a-folder'), 'quality']],
  ['quality --db a CSV file', store, () => ['--db', CUSTOMERS, 'quality'], /not a DuckDB/],
  ['model show --run 999 (unknown run)', input, onStore('model', 'show', '--run', '999'), /999/],
  ['model show --run -1', usage, onStore('model', 'show', '--run', '-1'), /--run/],
  ['model show --run 1.5', usage, onStore('model', 'show', '--run', '1.5'), /--run/],
  ['model show --run ""', usage, onStore('model', 'show', '--run', ''), /--run/],
  ['keyaccounts --share NaN', usage, onStore('keyaccounts', '--share', 'NaN'), /--share/],
  ['keyaccounts --share 2', usage, onStore('keyaccounts', '--share', '2'), /--share/],
  ['keyaccounts --share ""', usage, onStore('keyaccounts', '--share', ''), /--share/],
  ['renewals on a run without contracts', store, onStore('renewals'), /has no contracts/],
  ['renewals --within abc', usage, onStore('renewals', '--within', 'abc'), /--within "abc"/],
  ['renewals --within ""', usage, onStore('renewals', '--within', ''), /--within/],
  ['renewals --owner ""', usage, onStore('renewals', '--owner', ''), /--owner/],
  ['customer with an unknown id', input, onStore('customer', 'nobody'), /nobody/],
  ['customer ""', usage, onStore('customer', '')],
  ['query with invalid SQL', query, onStore('query', 'SELEC 1'), /syntax error/],
  ['query of an unknown table', query, onStore('query', 'SELECT * FROM nope'), /nope/],
  ['query with a writing statement', query, onStore('query', 'DROP TABLE loads'), /read-only/],
  ['query ""', usage, onStore('query', '')],
  ['query --format xml', usage, onStore('query', 'SELECT 1', '--format', 'xml')],
  ['query --json --format csv (conflicting)', usage, onStore('query', 'SELECT 1', '--json', '--format', 'csv')],
  ['audit --limit 0', usage, onStore('audit', '--limit', '0'), /--limit "0"/],
  ['audit --since 2024-02-30', usage, onStore('audit', '--since', '2024-02-30'), /--since/],
  ['forget without an id', usage, onStore('forget'), /missing required argument 'ids'/],
  ['forget an unknown id', input, onCopy('forget', 'nobody'), /no customer "nobody" in the store: nothing was erased/],
  ['forget ""', usage, onStore('forget', '')],
];

const GENERATE: Case[] = [
  ['generate --customers 0', usage, () => ['generate', '--customers', '0', '--out', inDir('gen')], /--customers/],
  ['generate --customers -5', usage, () => ['generate', '--customers', '-5', '--out', inDir('gen')], /--customers/],
  ['generate --customers NaN', usage, () => ['generate', '--customers', 'NaN', '--out', inDir('gen')]],
  ['generate --years 0', usage, () => ['generate', '--customers', '10', '--out', inDir('gen'), '--years', '0'], /years/],
  ['generate --dirty-share NaN', usage, () => ['generate', '--customers', '10', '--out', inDir('gen'), '--dirty-share', 'NaN'], /--dirty-share/],
  ['generate --dirty-share 0.1x', usage, () => ['generate', '--customers', '10', '--out', inDir('gen'), '--dirty-share', '0.1x'], /--dirty-share "0\.1x"/],
  ['generate --out ""', usage, () => ['generate', '--customers', '10', '--out', ''], /--out/],
  ['generate --out below a regular file', output, () => ['generate', '--customers', '10', '--out', UNDER_A_FILE], /customers\.csv/],
  ['generate --out naming a regular file', output, () => ['generate', '--customers', '10', '--out', CUSTOMERS], /customers\.csv/],
  ['generate with neither --customers nor --contracts', usage, () => ['generate', '--out', inDir('gen')], /--customers/],
  ['generate --contracts 0 (and no customers)', usage, () => ['generate', '--contracts', '0', '--out', inDir('gen')], /--customers/],
  ['generate --contracts -3', usage, () => ['generate', '--contracts', '-3', '--out', inDir('gen')], /--contracts/],
  ['generate --contracts 1.5', usage, () => ['generate', '--contracts', '1.5', '--out', inDir('gen')], /--contracts/],
  ['generate --lang zh without --contracts', usage, () => ['generate', '--customers', '10', '--lang', 'zh', '--out', inDir('gen')], /--lang/],
  ['generate --lang fr', usage, () => ['generate', '--contracts', '10', '--lang', 'fr', '--out', inDir('gen')], /--lang/],
];

const OUTPUTS: Case[] = [
  ['export segment with an unknown segment', usage, onStore('export', 'segment', 'Nope', '--out', 'x.csv'), /unknown segment/],
  ['export segment --out ""', usage, onStore('export', 'segment', 'customers', '--out', ''), /--out/],
  ['export segment --out x.foo', usage, onStore('export', 'segment', 'customers', '--out', 'x.foo'), /x\.foo/],
  ['export segment --format xls', usage, onStore('export', 'segment', 'customers', '--out', 'x.csv', '--format', 'xls'), /xls/],
  ['export segment --columns ""', usage, onStore('export', 'segment', 'customers', '--out', 'x.csv', '--columns', ''), /--columns/],
  ['export segment --columns nope', usage, onStore('export', 'segment', 'customers', '--out', 'x.csv', '--columns', 'nope'), /nope/],
  ['export segment --bom on XLSX (cannot apply)', usage, onStore('export', 'segment', 'customers', '--out', 'x.xlsx', '--bom'), /--bom/],
  ['export segment --out below a regular file', output, onStore('export', 'segment', 'customers', '--out', path.join(UNDER_A_FILE, 'x.csv'))],
  ['export segment --out a folder', output, onStore('export', 'segment', 'customers', '--out', 'folder.csv', '--force'), /folder\.csv/],
  ['export segment --out an existing file', output, onStore('export', 'segment', 'customers', '--out', CUSTOMERS), /--force/],
  ['export renewals on a run without contracts', store, onStore('export', 'renewals', '--out', 'renewals.csv'), /has no contracts/],
  ['export renewals --out ""', usage, onStore('export', 'renewals', '--out', ''), /--out/],
  ['export renewals --format xls', usage, onStore('export', 'renewals', '--out', 'x.csv', '--format', 'xls'), /xls/],
  ['export segments on a missing store', store, () => ['--db', inDir('nothing.duckdb'), 'export', 'segments'], /no store/],
  ['report --run 999 (unknown run)', input, onStore('report', '--run', '999', '--out', 'r'), /999/],
  ['report --run abc', usage, onStore('report', '--run', 'abc', '--out', 'r')],
  ['report --lang xx', usage, onStore('report', '--lang', 'xx', '--out', 'r')],
  ['report --out ""', usage, onStore('report', '--out', ''), /--out/],
  ['report --out below a regular file', output, onStore('report', '--out', UNDER_A_FILE)],
  ['report --owner with an unknown owner', input, onStore('report', '--owner', 'Nobody', '--out', 'r'), /unknown owner "Nobody"/],
  ['report --digest without --owner', usage, onStore('report', '--digest', '--out', 'r'), /--digest needs --owner/],
  ['report --digest --run (the digest is of the latest run)', usage, onStore('report', '--owner', 'Nobody', '--digest', '--run', '1', '--out', 'r'), /--run/],
  ['report --owner with an unknown owner --digest', input, onStore('report', '--owner', 'Nobody', '--digest', '--out', 'r'), /unknown owner "Nobody"/],
  ['report --show-pii without --digest', usage, onStore('report', '--show-pii', '--out', 'r'), /--show-pii/],
  ['owners assign --max 0', usage, onStore('owners', 'assign', '--max', '0', '--dry-run'), /--max "0"/],
  ['notebook render a missing file', input, onStore('notebook', 'render', 'missing.md', '--out', 'nb'), /missing\.md/],
  ['notebook render a folder', input, onStore('notebook', 'render', 'a-folder', '--out', 'nb'), /a-folder/],
  ['notebook render ""', usage, onStore('notebook', 'render', '', '--out', 'nb')],
  ['notebook render with invalid SQL', query, onStore('notebook', 'render', 'bad-sql.md', '--out', 'nb'), /syntax error/],
  ['notebook render --run 999', input, onStore('notebook', 'render', NOTEBOOK, '--run', '999', '--out', 'nb'), /999/],
  ['notebook render --out below a regular file', output, onStore('notebook', 'render', NOTEBOOK, '--out', UNDER_A_FILE)],
  ['notebook render --out ""', usage, onStore('notebook', 'render', NOTEBOOK, '--out', ''), /--out/],
  ['an unknown command', usage, () => ['frobnicate']],
];


const GROUPS: [string, Case[]][] = [
  ['crm ingest', INGEST],
  ['dates on the command line', DATES],
  ['crm run', RUN],
  ['crm quality, query, model show, keyaccounts, customer', READERS],
  ['crm generate', GENERATE],
  ['crm export, report, notebook render', OUTPUTS],
];

for (const [group, cases] of GROUPS) {
  describe.concurrent(group, () => {
    // test.for hands each case its own `expect` (concurrent tests must not share one).
    it.for(cases)('%s: exit %i, no stack', async ([, code, args, message], { expect }) => {
      const r = await crmAsync(args());
      const shown = `exit ${r.code}\n${r.stderr}`;
      expect(r.code, shown).toBe(code);
      expect(r.stderr, shown).toMatch(/^crm: error: /m);
      expect(r.stderr, shown).not.toMatch(STACK_FRAME);
      expect(r.stderr, shown).not.toMatch(/internal error/);
      if (message) expect(r.stderr, shown).toMatch(message);
    });
  });
}
