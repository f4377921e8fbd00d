/**
 * The command line as scripts and cron jobs see it (issue #4 §7): `--json` puts exactly one JSON
 * document on stdout, `--quiet` keeps stderr empty on success, progress without a terminal is
 * plain lines, usage errors exit 2 with a one-line hint, exit codes follow src/util/errors.ts,
 * and the help lists one command per line. All through the built CLI in child processes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, crm, ROOT, tempDir, type CliResult } from '../helpers/cli.js';
import { ExitCode } from '../../src/util/errors.js';
import { createProgress } from '../../src/util/progress.js';

const CUSTOMERS = path.join(ROOT, 'data/sample/customers.csv');
const TRANSACTIONS = path.join(ROOT, 'data/sample/transactions.csv');
const NOTEBOOK = path.join(ROOT, 'notebooks/example.md');

let dir: string;
/** A store with the sample loaded and scored. */
let db: string;
/** A key account of that store (for `crm customer`). */
let customerId: string;

function ok(r: CliResult): CliResult {
  if (r.code !== 0) throw new Error(`crm failed (${r.code}): ${r.stderr}`);
  return r;
}

beforeAll(() => {
  dir = tempDir('crm-cli-');
  db = path.join(dir, 'crm.duckdb');
  ok(crm(['--db', db, '-q', 'ingest', 'customers', CUSTOMERS]));
  ok(crm(['--db', db, '-q', 'ingest', 'transactions', TRANSACTIONS]));
  ok(crm(['--db', db, '-q', 'run']));
  customerId = JSON.parse(ok(crm(['--db', db, 'keyaccounts', '--json'])).stdout).accounts[0].customer_id;
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Commands that read the scored store (or none), with a check of their JSON. */
const READERS: [string, () => string[], (v: Record<string, unknown>) => void][] = [
  ['quality', () => ['--db', db, 'quality'], (v) => expect(v).toHaveProperty('tables')],
  ['model show', () => ['--db', db, 'model', 'show'], (v) => expect(v).toMatchObject({ run_id: 1 })],
  ['keyaccounts', () => ['--db', db, 'keyaccounts'], (v) => expect(Array.isArray(v.accounts)).toBe(true)],
  ['forecast', () => ['--db', db, 'forecast'], (v) => expect(v).toMatchObject({ run_id: 1, by: 'month', scope: { kind: 'all' } })],
  ['customer', () => ['--db', db, 'customer', customerId], (v) => expect(v).toMatchObject({ customer_id: customerId })],
  ['generate', () => ['generate', '--customers', '20', '--out', path.join(dir, 'generated')], (v) => expect(v).toMatchObject({ options: { customers: 20 } })],
  ['export segment', () => ['--db', db, 'export', 'segment', 'keyaccounts', '--out', path.join(dir, 'exports', 'k.xlsx'), '--force'], (v) => expect(v).toMatchObject({ target: 'keyaccounts', format: 'xlsx' })],
  ['export segments', () => ['--db', db, 'export', 'segments'], (v) => expect(Array.isArray(v.segments)).toBe(true)],
];

function expectJson(name: string, r: CliResult): Record<string, unknown> {
  expect(r.code, `${name}: ${r.stderr}`).toBe(0);
  let parsed: unknown;
  expect(() => (parsed = JSON.parse(r.stdout)), `${name} stdout: ${r.stdout.slice(0, 200)}`).not.toThrow();
  expect(parsed !== null && typeof parsed === 'object', name).toBe(true);
  return parsed as Record<string, unknown>;
}

describe('--json: stdout carries exactly one JSON document', () => {
  // Without --quiet: progress and notes must go to stderr, never into the JSON.
  it('ingest and run (on a new store)', () => {
    const fresh = path.join(dir, 'json.duckdb');
    expect(expectJson('ingest', crm(['--db', fresh, 'ingest', 'customers', CUSTOMERS, '--json']))).toMatchObject({ kind: 'customers' });
    expect(expectJson('ingest', crm(['--db', fresh, 'ingest', 'transactions', TRANSACTIONS, '--json']))).toMatchObject({ kind: 'transactions' });
    const run = crm(['--db', fresh, 'run', '--json']);
    expect(expectJson('run', run)).toMatchObject({ run_id: 1 });
    expect(run.stderr).toContain('fitting BG/NBD'); // the progress went to stderr
  });

  it.each(READERS)('%s', (name, args, check) => {
    check(expectJson(name, crm([...args(), '--json'])));
  });

  it('query: --format json, and --json like every other command (the two together are a usage error)', () => {
    const q = ok(crm(['--db', db, 'query', 'SELECT count(*) AS n FROM customer_latest', '--format', 'json']));
    expect(JSON.parse(q.stdout)).toEqual([{ n: expect.any(Number) }]);
    expect(ok(crm(['--db', db, 'query', 'SELECT count(*) AS n FROM customer_latest', '--json'])).stdout).toBe(q.stdout);
    const both = crm(['--db', db, 'query', 'SELECT 1', '--json', '--format', 'csv']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("option '--json' cannot be used with option '--format <format>'");
  });
});

describe('--quiet', () => {
  function expectSilent(r: CliResult, what: string) {
    expect(r.code, `${what}: ${r.stderr}`).toBe(0);
    expect(r.stderr, what).toBe('');
    expect(r.stdout.length, what).toBeGreaterThan(0); // results still print
  }

  it('ingest and run print nothing on stderr', () => {
    const fresh = path.join(dir, 'quiet.duckdb');
    expectSilent(crm(['--db', fresh, '-q', 'ingest', 'customers', CUSTOMERS]), 'ingest customers');
    // --quiet after the command is the same flag.
    expectSilent(crm(['--db', fresh, 'ingest', 'transactions', TRANSACTIONS, '--quiet']), 'ingest transactions');
    expectSilent(crm(['--db', fresh, '-q', 'run']), 'run');
    expectSilent(crm(['--db', fresh, 'run', '--quiet']), 'run');
  });

  it.each([
    ...READERS.map(([name, args]): [string, () => string[]] => [name, args]),
    ['query', () => ['--db', db, 'query', 'SELECT 1 AS one']],
    ['notebook render', () => ['--db', db, 'notebook', 'render', NOTEBOOK, '--out', path.join(dir, 'notebook')]],
  ])('%s prints nothing on stderr', (name, args) => {
    expectSilent(crm(['-q', ...args()]), name);
  });

  it('still prints warnings and errors', () => {
    const warned = ok(crm(['--db', db, '-q', 'export', 'segment', 'customers', '--out', path.join(dir, 'quiet-warn', 'c.csv'), '--format', 'json']));
    expect(warned.stderr).toMatch(/^warning: /);
    const failed = crm(['--db', db, '-q', 'customer', 'no-such-customer']);
    expect(failed.code).toBe(ExitCode.input);
    expect(failed.stderr).toBe(
      'crm: error: no customer "no-such-customer" (by id, e-mail, phone or name) in the store\n' +
        '  An id must match exactly; an e-mail or phone must match whole (after normalising); a name may match in part.\n',
    );
  });
});

describe('progress', () => {
  it('without a terminal (cron, CI) is plain lines, not self-updating bars', () => {
    // stderr is a pipe here, as in cron or CI.
    const fresh = path.join(dir, 'plain.duckdb');
    const runs = [
      crm(['--db', fresh, 'ingest', 'customers', CUSTOMERS]),
      crm(['--db', fresh, 'ingest', 'transactions', TRANSACTIONS]),
      crm(['--db', fresh, 'run']),
      crm(['--db', fresh, 'export', 'segment', 'customers', '--out', path.join(dir, 'plain-export', 'c.xlsx')]),
    ];
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('\r');
      expect(r.stderr).not.toContain('\x1b[');
      expect(r.stderr.endsWith('\n')).toBe(true);
    }
    const stderr = runs.map((r) => r.stderr).join('');
    const lines = stderr.split('\n');
    // Each step: a start line ("label…") and an end line ("label: done in …").
    const started = lines.filter((l) => l.endsWith('…')).map((l) => l.slice(0, -1));
    const done = lines.filter((l) => /: done in \S+/.test(l)).map((l) => l.replace(/: done in .*$/, ''));
    expect(started.length).toBeGreaterThanOrEqual(8);
    expect(done).toEqual(started);
    expect(started).toContain('exporting customers as xlsx');
    expect(started.some((l) => l.startsWith('fitting BG/NBD'))).toBe(true);
    expect(started.some((l) => l.startsWith('loading ') && l.endsWith('transactions.csv'))).toBe(true);
  });

  it('on a terminal redraws one bar in place; plain mode prints percentages as lines', async () => {
    const capture = (tty: boolean) => {
      const stream = new PassThrough();
      let text = '';
      stream.on('data', (d: Buffer) => (text += d.toString('utf8')));
      return { progress: createProgress({ stream, tty, plainIntervalMs: 0 }), text: () => text };
    };
    const step = async (p: ReturnType<typeof createProgress>) =>
      p.step('loading x', async (tick) => {
        tick(0.5, '5 rows');
        await new Promise((r) => setTimeout(r, 100)); // the bar redraws at most every 80 ms
        tick(1, '10 rows');
        return 42;
      });

    const tty = capture(true);
    expect(await step(tty.progress)).toBe(42);
    expect(tty.text()).toMatch(/^loading x…\r\x1b\[2Kloading x \[#{14}\.{14}\] 50% 5 rows\r\x1b\[2Kloading x \[#{28}\] 100% 10 rows\r\x1b\[2Kloading x ✓ \S+ m?s\n$/);

    const plain = capture(false);
    expect(await step(plain.progress)).toBe(42);
    expect(plain.text()).toMatch(/^loading x…\nloading x: 50% 5 rows\nloading x: 100% 10 rows\nloading x: done in \S+ m?s\n$/);

    const quiet = new PassThrough();
    let said = '';
    quiet.on('data', (d: Buffer) => (said += d.toString()));
    expect(await createProgress({ stream: quiet, quiet: true, tty: true }).step('x', async (tick) => (tick(0.5), 1))).toBe(1);
    expect(said).toBe('');
  });
});

describe('usage errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown option', ['run', '--bogus'], /^crm: error: unknown option '--bogus'\n\(see `crm run --help`\)\n$/],
    ['a missing argument', ['query'], /^crm: error: missing required argument 'sql'\n\(see `crm query --help`\)\n$/],
    ['crm customer with nothing to find', ['customer'], /^crm: error: give a customer id, e-mail, phone or name, or --where key=value\n$/],
    ['crm customer --limit 0', ['customer', 'x', '--limit', '0'], /^crm: error: --limit "0": give a whole number of candidates, 1 or more\n$/],
    ['crm customer --where without =', ['customer', '--where', 'plate'], /^crm: error: --where "plate": give key=value, e\.g\. --where plate=沪A12345\n$/],
    ['a bad choice', ['run', '--time-unit', 'decade'], /^crm: error: option '--time-unit <unit>' argument 'decade' is invalid\. Allowed choices are day, week, month, year\.\n\(see `crm run --help`\)\n$/],
    ['an unknown command', ['frob'], /^crm: error: unknown command 'frob'\n\(see `crm --help`\)\n$/],
    ['a missing required option', ['export', 'segment', 'customers'], /^crm: error: required option '--out <file>' not specified\n\(see `crm export segment --help`\)\n$/],
    ['an unknown nested command', ['model', 'fit'], /^crm: error: unknown command 'fit'\n\(see `crm model --help`\)\n$/],
    ['a bad flag value', ['export', 'segment', 'customers', '--out', 'x.csv', '--format', 'xls'], /^crm: error: unknown export format "xls"\n {2}Use one of: csv, xlsx, parquet, arrow, json\.\n$/],
  ];
  it.each(cases)('%s exits 2 with the error and a one-line hint, no stack', (_name, args, expected) => {
    const r = crm(['--db', db, ...args]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(expected);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('no command at all prints the help on stderr and exits 2', () => {
    for (const args of [[], ['export'], ['model']]) {
      const r = crm(args);
      expect(r.code, args.join(' ')).toBe(ExitCode.usage);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^Usage: crm /);
    }
  });
});

describe('exit codes (src/util/errors.ts, docs/cli.md)', () => {
  const missingStore = () => path.join(dir, 'nothing-here.duckdb');
  const expectations: [string, number, () => string[], RegExp][] = [
    ['success', ExitCode.ok, () => ['--db', db, 'keyaccounts'], /key accounts/],
    ['a missing input file', ExitCode.input, () => ['--db', path.join(dir, 'input.duckdb'), 'ingest', 'transactions', path.join(dir, 'missing.csv')], /missing\.csv: no such file/],
    ['an unknown customer', ExitCode.input, () => ['--db', db, 'customer', 'nobody'], /no customer "nobody"/],
    ['no store (keyaccounts)', ExitCode.store, () => ['--db', missingStore(), 'keyaccounts'], /no store at/],
    ['no store (export segments)', ExitCode.store, () => ['--db', missingStore(), 'export', 'segments'], /no store at/],
    ['failing SQL', ExitCode.query, () => ['--db', db, 'query', 'SELECT nope FROM customers'], /Binder Error/],
    ['a writing statement', ExitCode.query, () => ['--db', db, 'query', 'DELETE FROM customers'], /read-only/],
  ];
  it.each(expectations)('%s: exit %i', (_name, code, args, message) => {
    const r = crm(args());
    expect(r.code, r.stderr).toBe(code);
    expect(code === 0 ? r.stdout : r.stderr).toMatch(message);
    if (code !== 0) expect(r.stderr).toMatch(/^crm: error: /);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(fs.existsSync(missingStore())).toBe(false); // reading commands never create a store
  });

  it('an existing export target: exit 5, file untouched', () => {
    const out = path.join(dir, 'exists.csv');
    fs.writeFileSync(out, 'keep me');
    const exists = crm(['--db', db, 'export', 'segment', 'customers', '--out', out]);
    expect(exists.code).toBe(ExitCode.output);
    expect(exists.stderr).toBe(`crm: error: ${out} already exists\n  Use --force to replace it.\n`);
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
  });

  it('commands that need a model run: exit 4 asking for `crm run`', () => {
    const noRun = path.join(dir, 'norun.duckdb');
    ok(crm(['--db', noRun, '-q', 'ingest', 'customers', CUSTOMERS]));
    for (const args of [['keyaccounts'], ['model', 'show'], ['export', 'segment', 'customers', '--out', path.join(dir, 'norun.csv')]]) {
      const r = crm(['--db', noRun, ...args]);
      expect(r.code, args.join(' ')).toBe(ExitCode.store);
      expect(r.stderr).toContain('crm run');
    }
  });

  it('a reader that stops early (`| head`) ends the output quietly', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" --db "${db}" query "SELECT * FROM range(200000)" --format csv | head -n 2`], {
      encoding: 'utf8',
      env: { ...process.env, CRM_DB: '' },
    });
    expect(r.stdout).toBe('range\n0\n');
    expect(r.stderr).toBe('');
  });
});

describe('help', () => {
  it('crm --help lists one command per line, with examples and the exit codes', () => {
    const r = ok(crm(['--help']));
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    const start = lines.indexOf('Commands:');
    const end = lines.indexOf('', start);
    const listed = lines.slice(start + 1, end);
    // Every line of the list starts with a command (no wrapped continuation lines).
    for (const l of listed) expect(l).toMatch(/^ {2}[a-z]/);
    const names = listed.map((l) => l.trim().split(/\s{2,}/)[0]);
    expect(names).toEqual(
      expect.arrayContaining(['ingest <kind> <files...>', 'quality', 'run', 'model show', 'forecast', 'keyaccounts', 'customer [query]', 'export segment <name>', 'export segments', 'notebook render <file>']),
    );
    expect(r.stdout).toContain('Examples:\n  crm ingest customers');
    expect(r.stdout).toMatch(/Exit codes: 0 ok, 1 internal error \(a bug\), 2 usage,\s+3 input, 4 store/);
  });

  it.each(['ingest', 'quality', 'query', 'generate', 'run', 'model show', 'forecast', 'keyaccounts', 'customer', 'export segments', 'notebook render'])(
    'crm %s --help: usage, description and options, exit 0',
    (command) => {
      const r = crm([...command.split(' '), '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: crm ${command} `));
      expect(r.stdout).toContain('Options:');
    },
  );

  it('crm export segment --help: every flag and examples', () => {
    const exportHelp = ok(crm(['export', 'segment', '--help'])).stdout;
    expect(exportHelp).toMatch(/^Usage: crm export segment \[options\] <name>\n/);
    for (const flag of ['--format <format>', '--out <file>', '--columns <list>', '--mask-pii', '--force', '--bom', '--json']) expect(exportHelp).toContain(flag);
    expect(exportHelp).toContain('Examples:\n  crm export segment "At Risk" --out out/at-risk.xlsx');
  });
});
