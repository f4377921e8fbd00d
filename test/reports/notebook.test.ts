import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Store } from '../../src/store/db.js';
import { formatNumber } from '../../src/reports/i18n.js';
import { chartToSvg } from '../../src/reports/render.js';
import { displayPath } from '../../src/reports/notebook-syntax.js';
import { sqlGroups, sqlParseTrees, type RenderNotebookResult } from '../../src/reports/notebook.js';
import { parseNotebook } from '../../src/reports/notebook-syntax.js';
import { DuckDBInstance } from '@duckdb/node-api';
import { CrmError, ExitCode } from '../../src/util/errors.js';
import { createFixtureStore, HOSTILE_NAMES, type Fixture } from '../helpers/fixture.js';
import { EXAMPLE_NOTEBOOK, HOSTILE_NOTEBOOK, renderWithStore, writeNotebook } from '../helpers/reports.js';

let fixture: Fixture;
let outDir: string;
const rendered: Partial<Record<'en' | 'zh' | 'hostile', { result: RenderNotebookResult; html: string }>> = {};

beforeAll(async () => {
  fixture = await createFixtureStore();
  outDir = path.join(fixture.dir, 'out');
  for (const lang of ['en', 'zh'] as const) {
    const result = await renderWithStore(fixture.storePath, EXAMPLE_NOTEBOOK, outDir, lang);
    rendered[lang] = { result, html: fs.readFileSync(result.htmlFile, 'utf8') };
  }
  const hostile = writeNotebook(fixture.dir, 'hostile.md', HOSTILE_NOTEBOOK);
  const result = await renderWithStore(fixture.storePath, hostile, outDir, 'en');
  rendered.hostile = { result, html: fs.readFileSync(result.htmlFile, 'utf8') };
});
afterAll(() => fixture?.cleanup());

function get(which: 'en' | 'zh' | 'hostile') {
  const r = rendered[which];
  if (!r) throw new Error(`the ${which} render did not happen`);
  return r;
}

/** The page markup without the inlined scripts' text. */
function markup(html: string): string {
  return html.replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/g, '$1</script>');
}

function escaped(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

describe('the example notebook', () => {
  test('renders one HTML file per language and the chart files', () => {
    const en = get('en').result;
    const zh = get('zh').result;
    expect(path.basename(en.htmlFile)).toBe('example.html');
    expect(path.basename(zh.htmlFile)).toBe('example.zh.html');
    expect(en.queries.map((q) => q.name)).toEqual(['customer_rfm', 'totals', 'by_segment', 'top_segment', 'monthly', 'top_customers']);
    expect(en.warnings).toEqual([]);
    expect(zh.warnings).toEqual([]);
    const files = fs.readdirSync(path.join(outDir, 'charts')).sort();
    for (const stem of ['monthly-revenue', 'revenue-by-segment', 'monthly-revenue.zh', 'revenue-by-segment.zh']) {
      for (const ext of ['.vl.json', '.svg', '.png']) expect(files).toContain(stem + ext);
    }
    for (const chart of [...en.charts, ...zh.charts]) {
      expect(fs.readFileSync(chart.svgFile, 'utf8')).toContain('role-mark');
      expect(fs.readFileSync(chart.pngFile).subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(JSON.parse(fs.readFileSync(chart.specFile, 'utf8')).datasets).toBeDefined();
    }
  });

  test('the HTML loads nothing: no src, links, imports or URLs outside the inlined libraries', () => {
    for (const which of ['en', 'zh', 'hostile'] as const) {
      const page = markup(get(which).html);
      expect(page).not.toMatch(/<(script|img|iframe|link|source|video|audio|embed|object)\b[^>]*\s(src|href|data)\s*=/i);
      expect(page).not.toMatch(/https?:\/\//);
      expect(page).not.toMatch(/@import|url\(/i);
      expect(page.match(/<script[\s>]/g)).toHaveLength(5);
    }
  });

  test('English: figures, sections and the top-N table', () => {
    const html = get('en').html;
    expect(html).toContain('<title>Customer value report</title>');
    expect(html).toMatch(/<h2>Where the value is<\/h2>/);
    expect(html).toContain('Top 10 of 36');
    expect(html).toContain('<h3 class="chart-title">Revenue by segment</h3>');
    expect(html).toMatch(/<p class="takeaway">\S+ bring \d+\.\d% of revenue\.<\/p>/);
    expect(html).not.toContain('冠军客户');
  });

  test('Chinese: translated labels and terms, 万 amounts and Chinese dates', async () => {
    const html = get('zh').html;
    const store = await Store.open(fixture.storePath, { readOnly: true });
    const revenue = await store.value<number>('SELECT sum(amount) FROM transactions WHERE NOT is_return');
    store.close();
    const revenueZh = formatNumber('zh', revenue, 'money');
    expect(revenueZh).toMatch(/^\d+(\.\d+)?万$/);
    expect(html).toContain('<title>客户价值报告</title>');
    expect(html).toContain(`<div class="kpi-value">${revenueZh}</div>`);
    expect(html).toContain('<div class="kpi-label">客户数</div>');
    expect(html).toContain('生成于 2025年1月5日');
    expect(html).toMatch(/数据截至 2024年\d{1,2}月\d{1,2}日/);
    expect(html).toContain('前 10 条，共 36 条');
    expect(html).toContain('<th scope="col">客群</th>');
    expect(html).toMatch(/<td>(冠军客户|忠诚客户|不能失去的客户|有流失风险)<\/td>/);
    expect(html).toMatch(/<td>(铂金|黄金)<\/td>/);
    expect(html).toMatch(/<td class="num">\d+(\.\d+)?万<\/td>/);
    expect(html).toMatch(/<td>2024年\d{1,2}月\d{1,2}日<\/td>/);
    expect(html).toContain('<html lang="zh-CN">');
    const svg = fs.readFileSync(path.join(outDir, 'charts/revenue-by-segment.zh.svg'), 'utf8');
    expect(svg).toContain('各客群收入');
    expect(svg).toContain('冠军客户');
    expect(svg).toMatch(/>\d+万</);
  });

  test('customer names from the data stay text', () => {
    const html = get('en').html;
    for (const name of HOSTILE_NAMES) expect(html).toContain(`<td>${escaped(name)}</td>`);
    expect(markup(html)).not.toMatch(/<script>alert|<img src=x/);
  });

  test('chart timestamps are UTC, so a month stays that month east of Greenwich', async () => {
    const spec = JSON.parse(fs.readFileSync(path.join(outDir, 'charts/monthly-revenue.vl.json'), 'utf8'));
    expect(spec.datasets.monthly[0].month).toBe('2023-01-01T00:00:00Z');
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Shanghai';
    try {
      const { svg } = await chartToSvg(spec, 'en');
      expect(svg).toMatch(/aria-label="month \(year-month\): Jan 2023; Revenue/);
      expect(svg).not.toContain('Dec 2022');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});

describe('hostile names everywhere', () => {
  test('title, prose, chart, KPI and table escape them; the page data escapes < in JSON', () => {
    const { html } = get('hostile');
    const table = /<tbody>\n<tr><td>([^<]*)<\/td>/.exec(html);
    expect(table).not.toBeNull();
    const top = table![1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    expect(HOSTILE_NAMES).toContain(top);
    expect(html).toContain(`<title>Biggest customer: ${escaped(top)}</title>`);
    expect(html).toContain(`<strong>${escaped(top)}</strong>`);
    expect(html).toContain(`<h3 class="chart-title">Top: ${escaped(top)}</h3>`);
    expect(html).toContain(`<div class="kpi-label">${escaped(top)}</div>`);
    expect(html).toContain('\\u003cscript\\u003ealert(1)\\u003c/script\\u003e');
    expect(html).toContain('\\u003c/script\\u003e\\u003cscript\\u003ealert(\\"x\\")');
    const page = markup(html);
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    const svg = fs.readFileSync(get('hostile').result.charts[0].svgFile, 'utf8');
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).not.toContain('<script');
  });
});

describe('errors name the file, the cell and the line', () => {
  let n = 0;
  async function renderError(text: string): Promise<{ error: CrmError; file: string }> {
    const file = writeNotebook(fixture.dir, `broken-${++n}.md`, text);
    try {
      await renderWithStore(fixture.storePath, file, path.join(fixture.dir, 'broken-out'));
    } catch (err) {
      expect(err).toBeInstanceOf(CrmError);
      return { error: err as CrmError, file: displayPath(file) };
    }
    throw new Error('the notebook rendered without an error');
  }

  const okQuery = ['# Broken', '', '```sql ok', 'SELECT 1 AS a, 2 AS b', '```', ''];

  test('a SQL error points at its line in the .md file', async () => {
    const { error, file } = await renderError([...okQuery, '```sql broken', 'SELECT name,', '  nope', 'FROM customers', '```'].join('\n'));
    expect(error.message).toMatch(new RegExp(`^${escapeRe(file)}:9: cell 2 \\(sql broken\\): Binder Error: .*nope`));
    expect(error.exitCode).toBe(ExitCode.query);
  });

  test('writes are refused and the store is unchanged', async () => {
    for (const sql of ['DELETE FROM customers', 'CREATE TABLE x AS SELECT 1', "COPY customers TO '/tmp/x.csv'"]) {
      const { error, file } = await renderError([...okQuery, '```sql bad', sql, '```'].join('\n'));
      expect(error.message).toMatch(new RegExp(`^${escapeRe(file)}:8: cell 2 \\(sql bad\\): SQL cells are read-only, and this is a (DELETE|CREATE|COPY) statement`));
      expect(error.exitCode).toBe(ExitCode.query);
    }
    const store = await Store.open(fixture.storePath, { readOnly: true });
    expect(await store.value<number>('SELECT count(*) FROM customers')).toBe(36);
    store.close();
  });

  test('one statement per cell', async () => {
    const { error } = await renderError([...okQuery, '```sql two', 'SELECT 1; SELECT 2', '```'].join('\n'));
    expect(error.message).toMatch(/:8: cell 2 \(sql two\): a SQL cell holds exactly one statement \(this one has 2\)/);
  });

  test('an unknown query name in a chart', async () => {
    const chart = '{"title": "t", "takeaway": "k", "data": {"name": "nope"}, "mark": "bar"}';
    const { error, file } = await renderError([...okQuery, '```vega-lite c', chart, '```'].join('\n'));
    expect(error.message).toBe(`${file}:7: cell 2 (vega-lite c): unknown query 'nope'`);
    expect(error.details).toEqual(['Queries in this notebook: ok.']);
    expect(error.exitCode).toBe(ExitCode.input);
  });

  test('invalid JSON names the line of the mistake', async () => {
    const { error, file } = await renderError([...okQuery, '```vega-lite c', '{', '  "title": "t"', '  "mark": "bar"', '}', '```'].join('\n'));
    expect(error.message).toMatch(new RegExp(`^${escapeRe(file)}:10: cell 2 \\(vega-lite c\\): invalid JSON`));
  });

  test('Vega-Lite compile errors', async () => {
    const misspelt = '{"title": "t", "takeaway": "k", "data": {"name": "ok"}, "mark": "barr"}';
    const first = await renderError([...okQuery, '```vega-lite c', misspelt, '```'].join('\n'));
    expect(first.error.message).toBe(`${first.file}:7: cell 2 (vega-lite c): invalid Vega-Lite spec: unknown mark type "barr"`);
    const badType = '{"title": "t", "takeaway": "k", "data": {"name": "ok"}, "mark": "bar", "encoding": {"x": {"field": "a", "type": "quantitativ"}}}';
    const second = await renderError([...okQuery, '```vega-lite c', badType, '```'].join('\n'));
    expect(second.error.message).toMatch(new RegExp(`^${escapeRe(second.file)}:7: cell 2 \\(vega-lite c\\): invalid Vega-Lite spec: .*field type`));
    expect(second.error.exitCode).toBe(ExitCode.input);
  });

  test('charts need a title and a takeaway, inline data only, numbers-only localeFormat', async () => {
    const cases: [string, RegExp][] = [
      ['{"title": "t", "data": {"name": "ok"}, "mark": "bar"}', /needs a "takeaway"/],
      ['{"takeaway": "k", "data": {"name": "ok"}, "mark": "bar"}', /needs a "title"/],
      ['{"title": "t", "takeaway": "k", "data": {"url": "http://127.0.0.1:9/d.json"}, "mark": "bar"}', /loads data from 'http:\/\/127\.0\.0\.1:9\/d\.json'/],
      [
        '{"title": "t", "takeaway": "k", "data": {"name": "ok"}, "mark": "bar", "encoding": {"x": {"field": "a", "type": "temporal", "axis": {"formatType": "localeFormat", "format": "month"}}}}',
        /formats numbers, not the dates of field 'a'/,
      ],
    ];
    for (const [spec, message] of cases) {
      const { error } = await renderError([...okQuery, '```vega-lite c', spec, '```'].join('\n'));
      expect(error.message).toMatch(/:7: cell 2 \(vega-lite c\): /);
      expect(error.message).toMatch(message);
    }
  });

  test('placeholders: unknown columns are listed; the line is the prose line', async () => {
    const { error, file } = await renderError([...okQuery, 'Text', 'More {{ok.c | number}} text'].join('\n'));
    expect(error.message).toBe(`${file}:8: query 'ok' has no column 'c'`);
    expect(error.details).toEqual(['Its columns: a, b.']);
  });

  test('cells on two connections: the error is the first failing cell\'s, not the first to fail', async () => {
    // `slow` and `late` (which reads it) share a connection; `fast` runs on the other one and
    // fails first. The cells in order would stop at `late`: so does the render.
    const { error, file } = await renderError(
      [
        '```sql slow',
        'SELECT count(*) AS n FROM range(20000000) r(i) WHERE i % 7 = 3',
        '```',
        '```sql late',
        'SELECT n, nope FROM slow',
        '```',
        '```sql fast',
        'SELECT nada FROM customers',
        '```',
      ].join('\n'),
    );
    expect(error.message).toMatch(new RegExp(`^${escapeRe(file)}:5: cell 2 \\(sql late\\): Binder Error: .*nope`));
  });

  test('a query may not hide a table of the store', async () => {
    const { error } = await renderError(['```sql customers', 'SELECT 1', '```'].join('\n'));
    expect(error.message).toMatch(/:1: cell 1 \(sql customers\): the query name 'customers' is also a table or view in the store/);
  });

  test('remote images are refused', async () => {
    const { error, file } = await renderError(['# T', '', 'Logo:', '![logo](https://127.0.0.1/logo.png)'].join('\n'));
    expect(error.message).toBe(`${file}:4: the image 'https://127.0.0.1/logo.png' is not embedded`);
  });

  test('a missing notebook file', async () => {
    const store = await Store.open(fixture.storePath, { readOnly: true });
    try {
      await expect(
        (await import('../../src/reports/notebook.js')).renderNotebook(path.join(fixture.dir, 'missing.md'), { store, outDir }),
      ).rejects.toThrow(/cannot read the notebook .*missing\.md/);
    } finally {
      store.close();
    }
  });
});

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('which SQL cells may run on another connection (sqlGroups)', () => {
  async function groupsOf(...bodies: string[]): Promise<string[][] | null> {
    const text = bodies.map((body, i) => `\`\`\`sql q${i}\n${body}\n\`\`\``).join('\n\n');
    const cells = parseNotebook(text, 'x.md').cells;
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      const groups = sqlGroups(cells, await sqlParseTrees(conn, cells));
      return groups && groups.map((g) => g.map((i) => cells[i].name));
    } finally {
      conn.closeSync();
    }
  }

  test('cells reading one another stay together, in order of their first cell; column names do not count', async () => {
    expect(
      await groupsOf(
        'SELECT 1 AS q2',
        'SELECT count(*) AS q3 FROM customers',
        'SELECT * FROM q0 JOIN customers USING (customer_id)',
        "SELECT (SELECT max(a) FROM Q1), 'q2' AS b",
      ),
    ).toEqual([
      ['q0', 'q2'],
      ['q1', 'q3'],
    ]);
  });

  test('one connection when a cell does not parse, reads tables by name in a string, or all are one group', async () => {
    expect(await groupsOf('SELECT 1', 'SELEC 2')).toBeNull();
    expect(await groupsOf('SELECT 1', "SELECT * FROM query_table('q0')")).toBeNull();
    expect(await groupsOf('SELECT 1', 'SELECT * FROM q0')).toBeNull();
    expect(await groupsOf('SELECT 1', 'SELECT 2')).toEqual([['q0'], ['q1']]);
  });
});
