/**
 * Read-only means read-only (issue #8 §4), through the built CLI: `crm query` and notebook SQL
 * cells read the store and nothing else. No extension is downloaded or loaded (HOME is a fresh
 * folder that must stay empty), no file or URL is read, a refused statement leaves no trace,
 * and `crm notebook render --allow-files DIR` opens exactly that folder to the cells.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crm, ROOT, tempDir, type CliResult } from '../helpers/cli.js';
import { ExitCode } from '../../src/util/errors.js';

const CUSTOMERS = path.join(ROOT, 'data/sample/customers.csv');

let dir: string;
let db: string;

beforeAll(async () => {
  dir = tempDir('crm-readonly-');
  db = path.join(dir, 'crm.duckdb');
  const r = crm(['--db', db, '-q', 'ingest', 'customers', CUSTOMERS]);
  if (r.code !== 0) throw new Error(`ingest failed: ${r.stderr}`);
  // Real files of every kind next to the store: what is refused is the access, not a missing file.
  fs.writeFileSync(path.join(dir, 'local.csv'), 'a\n1\n');
  fs.writeFileSync(path.join(dir, 'local.json'), '[{"a": 1}]');
  const other = await DuckDBInstance.create(path.join(dir, 'other.duckdb'));
  const conn = await other.connect();
  await conn.run(`COPY (SELECT 1 AS a) TO '${path.join(dir, 'local.parquet')}' (FORMAT parquet)`);
  conn.closeSync();
  other.closeSync();
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Run the CLI with HOME (where DuckDB keeps downloaded extensions) set to a fresh folder. */
function crmWithFreshHome(args: string[]): CliResult & { home: string[] } {
  const home = fs.mkdtempSync(path.join(dir, 'home-'));
  const r = crm(args, { env: { HOME: home } });
  return { ...r, home: fs.readdirSync(home, { recursive: true }).map(String) };
}

function expectRefused(r: CliResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(ExitCode.query);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^crm: error: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

describe('crm query reads the store and nothing else', () => {
  it('the store itself is readable', () => {
    const r = crm(['--db', db, 'query', 'SELECT count(*) AS n FROM customers', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ n: 500 }]);
  });

  it('a refused EXPORT DATABASE leaves no folder behind', () => {
    const target = path.join(dir, 'exported');
    const r = crm(['--db', db, 'query', `EXPORT DATABASE '${target}'`]);
    expectRefused(r, /crm query is read-only: EXPORT statements are refused/);
    expect(fs.existsSync(target)).toBe(false);
  });

  it('inside a batch (where it is only classified once prepared), EXPORT DATABASE leaves no folder either', () => {
    const target = path.join(dir, 'exported-in-batch');
    const r = crm(['--db', db, 'query', `SELECT 1; EXPORT DATABASE '${target}'`]);
    expectRefused(r, /reads only the store/);
    expect(fs.existsSync(target)).toBe(false);
  });

  it('a URL is refused without trying to download httpfs (nothing lands in HOME)', () => {
    const r = crmWithFreshHome(['--db', db, 'query', "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')"]);
    expectRefused(r, /reads only the store/);
    expect(r.stderr).not.toMatch(/download|Autoloading/i);
    expect(r.home).toEqual([]);
  });

  it('CALL dbgen does not install or load the tpch extension', () => {
    const r = crmWithFreshHome(['--db', db, 'query', 'CALL dbgen(sf=0)']);
    expectRefused(r, /tpch/);
    expect(r.stderr).toMatch(/does not install or load DuckDB extensions/);
    expect(r.stderr).not.toMatch(/download|Autoloading|SET autoinstall/i);
    expect(r.home).toEqual([]);
  });

  it.each([
    ['read_text', () => "SELECT content FROM read_text('/etc/passwd')"],
    ['read_csv of a home file', () => "SELECT * FROM read_csv('~/.profile')"],
    ['glob', () => "SELECT * FROM glob('/*')"],
    ['read_parquet', () => `SELECT * FROM read_parquet('${path.join(dir, 'local.parquet')}')`],
    ['read_json', () => `SELECT * FROM read_json('${path.join(dir, 'local.json')}')`],
    ['COPY … FROM into a temporary table', () => `CREATE TEMP TABLE t (a INT); COPY t FROM '${path.join(dir, 'local.csv')}'`],
    ['ATTACH', () => `ATTACH '${path.join(dir, 'other.duckdb')}' AS other`],
  ])('local files are refused: %s', (_name, query) => {
    const r = crm(['--db', db, 'query', query()]);
    expectRefused(r, /read-only|reads only the store/);
  });

  it('a setting cannot be turned back on', () => {
    const r = crm(['--db', db, 'query', 'SET enable_external_access = true']);
    expectRefused(r, /read-only/);
  });
});

describe('crm notebook render: cells read the store, and --allow-files DIR only', () => {
  let allowed: string;
  let outside: string;

  beforeAll(() => {
    allowed = path.join(dir, 'mine');
    outside = path.join(dir, 'outside');
    fs.mkdirSync(path.join(allowed, 'sub'), { recursive: true });
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(path.join(allowed, 'targets.csv'), 'region,target\nNorth,10\nSouth,20\n');
    fs.writeFileSync(path.join(outside, 'secret.csv'), 'secret\nhunter2\n');
    fs.symlinkSync(path.join(outside, 'secret.csv'), path.join(allowed, 'link.csv'));
  });

  function render(name: string, cellSql: string, extra: string[] = []): CliResult & { out: string } {
    const file = path.join(dir, `${name}.md`);
    fs.writeFileSync(file, ['# Files', '', '```sql q', cellSql, '```', '', '```table q', '```', ''].join('\n'));
    const out = path.join(dir, `out-${name}`);
    return { ...crm(['--db', db, '-q', 'notebook', 'render', file, '--out', out, ...extra]), out };
  }

  it('a cell cannot read a local file, and the message says how to allow a folder', () => {
    const r = render('passwd', "SELECT content FROM read_text('/etc/passwd')");
    expectRefused(r, /passwd\.md:4: cell 1 \(sql q\): notebooks read only the store/);
    expect(r.stderr).toMatch(/--allow-files DIR/);
    expect(fs.existsSync(r.out)).toBe(false);
  });

  it('glob and a home-relative read_csv are refused', () => {
    expectRefused(render('glob', "SELECT * FROM glob('/*')"), /notebooks read only the store/);
    expectRefused(render('home', "SELECT * FROM read_csv('~/data.csv')"), /notebooks read only the store/);
  });

  it('with --allow-files DIR, a file in DIR is readable', () => {
    const r = render('allowed', `SELECT * FROM read_csv('${path.join(allowed, 'targets.csv')}') ORDER BY region`, ['--allow-files', allowed]);
    expect(r.code, r.stderr).toBe(0);
    const html = fs.readFileSync(path.join(r.out, 'allowed.html'), 'utf8');
    expect(html).toContain('<td>North</td>');
  });

  it.each([
    ['a file outside DIR', () => path.join(outside, 'secret.csv')],
    ['a .. escape', () => path.join(allowed, 'sub', '..', '..', 'outside', 'secret.csv')],
    ['a symbolic link in DIR pointing outside', () => path.join(allowed, 'link.csv')],
  ])('with --allow-files DIR, %s is refused', (_name, file) => {
    const r = render('escape', `SELECT * FROM read_csv('${file()}')`, ['--allow-files', allowed]);
    expectRefused(r, /notebooks read only the store/);
    expect(r.stdout + r.stderr).not.toContain('hunter2');
  });

  it('a refused EXPORT DATABASE into the allowed folder leaves no folder behind', () => {
    const target = path.join(allowed, 'dump');
    const r = render('export', `EXPORT DATABASE '${target}'`, ['--allow-files', allowed]);
    expectRefused(r, /SQL cells are read-only, and this is an EXPORT statement/);
    expect(fs.existsSync(target)).toBe(false);
  });

  it('--allow-files must name an existing folder (usage error)', () => {
    const r = render('nofolder', 'SELECT 1 AS a', ['--allow-files', path.join(dir, 'nope')]);
    expect(r.code, r.stderr).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(/--allow-files: no folder/);
  });
});
