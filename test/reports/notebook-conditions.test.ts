/**
 * Notebook engine features the built-in report relies on: conditional blocks, query results
 * kept as temporary tables (later cells read them without running them again), and the
 * `prepare` hook that gives the cells temporary views.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Store } from '../../src/store/db.js';
import { renderNotebook, type RenderNotebookResult } from '../../src/reports/notebook.js';
import { selectConditions } from '../../src/reports/notebook-syntax.js';
import type { Lang } from '../../src/reports/i18n.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';
import { createFixtureStore, type Fixture } from '../helpers/fixture.js';
import { GENERATED_AT, writeNotebook } from '../helpers/reports.js';

let fixture: Fixture;
let n = 0;

beforeAll(async () => {
  fixture = await createFixtureStore('crm-conditions-');
});
afterAll(() => fixture?.cleanup());

async function render(text: string, opts: { lang?: Lang; prepare?: Parameters<typeof renderNotebook>[1]['prepare'] } = {}): Promise<{ result: RenderNotebookResult; html: string }> {
  const file = writeNotebook(fixture.dir, `nb-${++n}.md`, text);
  const store = await Store.open(fixture.storePath, { readOnly: true });
  try {
    const result = await renderNotebook(file, { store, outDir: path.join(fixture.dir, `out-${n}`), lang: opts.lang, now: GENERATED_AT, prepare: opts.prepare });
    return { result, html: fs.readFileSync(result.htmlFile, 'utf8') };
  } finally {
    store.close();
  }
}

async function renderError(text: string): Promise<CrmError> {
  try {
    await render(text);
  } catch (err) {
    expect(err).toBeInstanceOf(CrmError);
    return err as CrmError;
  }
  throw new Error('the notebook rendered without an error');
}

/** The rendered page without the inlined scripts. */
function body(html: string): string {
  return html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '');
}

/** Three lines: a query whose first row holds one value of each kind. */
const FLAGS = '```sql flags\nSELECT true AS yes, false AS no, 0 AS zero, 2 AS two, NULL AS nothing, \'\' AS empty, \'x\' AS text\n```';

describe('conditional blocks', () => {
  test('keep the branch the first row of a query selects: booleans, numbers, text, NULL', async () => {
    const { html } = await render(
      [
        '# Conditions',
        FLAGS,
        '<!-- if:flags.yes -->SHOWN-YES<!-- else -->HIDDEN-YES<!-- /if -->',
        '<!-- if:flags.no -->HIDDEN-NO<!-- else -->SHOWN-NO<!-- /if -->',
        '<!-- if:flags.zero -->HIDDEN-ZERO<!-- /if --> <!-- if:flags.two -->SHOWN-TWO<!-- /if -->',
        '<!-- if:flags.nothing -->HIDDEN-NULL<!-- /if --> <!-- if:flags.empty -->HIDDEN-EMPTY<!-- /if --> <!-- if:flags.text -->SHOWN-TEXT<!-- /if -->',
        '<!-- if:!flags.no -->SHOWN-NOT-NO<!-- /if -->',
        '<!-- if you wonder: ordinary comments are not conditions -->',
        '',
        '<!-- if:flags.yes -->',
        'Outer.',
        '<!-- if:flags.no -->',
        'HIDDEN-INNER',
        '<!-- else -->',
        'SHOWN-INNER-ELSE',
        '<!-- /if -->',
        '<!-- else -->',
        'HIDDEN-OUTER-ELSE',
        '<!-- /if -->',
      ].join('\n'),
    );
    const page = body(html);
    for (const shown of ['SHOWN-YES', 'SHOWN-NO', 'SHOWN-TWO', 'SHOWN-TEXT', 'SHOWN-NOT-NO', 'Outer.', 'SHOWN-INNER-ELSE']) expect(page, shown).toContain(shown);
    expect(page).not.toMatch(/HIDDEN-/);
  });

  test('hide cells too; SQL cells in a hidden branch still run; a chart name may appear once per branch', async () => {
    const chart = (takeaway: string) =>
      `\`\`\`vega-lite by-segment\n{"title": "Revenue", "takeaway": "${takeaway}", "data": {"name": "totals"}, "mark": "bar", "encoding": {"x": {"field": "revenue", "type": "quantitative"}}}\n\`\`\``;
    const { result, html } = await render(
      [
        '# Cells',
        FLAGS,
        '```sql totals',
        'SELECT sum(amount) AS revenue FROM transactions',
        '```',
        '<!-- if:flags.no -->',
        '```sql hidden_query',
        'SELECT 42 AS answer',
        '```',
        chart('the hidden takeaway'),
        '```table totals',
        '```',
        '<!-- else -->',
        chart('the shown takeaway'),
        '<!-- /if -->',
      ].join('\n'),
    );
    expect(result.queries.map((q) => q.name)).toEqual(['flags', 'totals', 'hidden_query']);
    expect(result.charts.map((c) => c.name)).toEqual(['by-segment']);
    expect(html).toContain('the shown takeaway');
    expect(html).not.toContain('the hidden takeaway');
    expect(body(html)).not.toContain('<table>');
  });

  test('mistakes name the line: unknown query, unclosed block, stray else or end, markers inside SQL', async () => {
    const unknown = await renderError(['# x', FLAGS, '', '<!-- if:nope.yes -->x<!-- /if -->'].join('\n'));
    expect(unknown.message).toMatch(/nb-\d+\.md:6: unknown query 'nope'/);
    expect(unknown.exitCode).toBe(ExitCode.input);
    const column = await renderError(['# x', FLAGS, '', '<!-- if:flags.nope -->x<!-- /if -->'].join('\n'));
    expect(column.message).toMatch(/:6: query 'flags' has no column 'nope'/);
    const unclosed = await renderError(['# x', FLAGS, '', '<!-- if:flags.yes -->', 'x'].join('\n'));
    expect(unclosed.message).toMatch(/:6: the condition opened here is never closed/);
    const stray = await renderError(['# x', FLAGS, '<!-- else -->'].join('\n'));
    expect(stray.message).toMatch(/:5: <!-- else --> without an opening/);
    const end = await renderError(['# x', FLAGS, '<!-- /if -->'].join('\n'));
    expect(end.message).toMatch(/:5: <!-- \/if --> without an opening/);
    const inSql = await renderError(['# x', FLAGS, '```sql q', 'SELECT 1 <!-- if:flags.yes -->+ 1<!-- /if -->', '```'].join('\n'));
    expect(inSql.message).toMatch(/cell 2 \(sql q\): conditions cannot be used inside a SQL cell/);
    const malformed = await renderError(['# x', FLAGS, '<!-- if: flags -->x<!-- /if -->'].join('\n'));
    expect(malformed.message).toMatch(/:5: cannot read the condition <!-- if: flags -->/);
  });

  test('selectConditions keeps line numbers', () => {
    const text = 'a\n<!-- if:q.c -->\nb\nc\n<!-- else -->\nd\n<!-- /if -->\ne';
    const kept = selectConditions(text, 'f.md', () => false);
    expect(kept.split('\n')).toHaveLength(text.split('\n').length);
    expect(kept.split('\n')[5]).toBe('d');
    expect(kept).not.toMatch(/[bc]/);
  });
});

describe('charts drawn while the SQL cells run', () => {
  test('each shown chart warns once, in its place; a chart a condition hides neither warns nor fails; a chart may read a later query', async () => {
    const chart = (name: string, title: string, query: string) =>
      `\`\`\`vega-lite ${name}\n{"title": {"en": "${title}"}, "takeaway": {"en": "x", "zh": "x"}, "data": {"name": "${query}"}, "mark": "bar", "encoding": {"x": {"field": "revenue", "type": "quantitative"}}}\n\`\`\``;
    const { result, html } = await render(
      [
        '# Charts',
        FLAGS,
        chart('first', 'First title', 'late'),
        '```sql totals',
        'SELECT sum(amount) AS revenue FROM transactions',
        '```',
        '<!-- if:flags.no -->',
        // Drawn while the SQL runs (its query is there), but hidden: its data has no such field.
        chart('hidden', 'Hidden title', 'flags'),
        '<!-- /if -->',
        chart('second', 'Second title', 'totals'),
        '```sql late',
        'SELECT 7 AS revenue',
        '```',
      ].join('\n'),
      { lang: 'zh' },
    );
    expect(result.charts.map((c) => c.name)).toEqual(['first', 'second']);
    const titles = result.warnings.filter((w) => /no zh text for "(First|Second|Hidden) title"/.test(w)).map((w) => /"(\w+) title"/.exec(w)![1]);
    expect(titles).toEqual(['First', 'Second']);
    expect(result.warnings.join('\n')).not.toContain('hidden');
    expect(html).toContain('First title');
    expect(html).not.toContain('Hidden title');
  });
});

describe('query results', () => {
  test('are kept: a later cell reads the earlier result instead of running the query again', async () => {
    const { html } = await render(
      ['# Once', '```sql first', 'SELECT random() AS r', '```', '```sql second', 'SELECT r FROM first', '```', 'A {{first.r | number:9}} B {{second.r | number:9}}'].join('\n'),
    );
    const m = /A ([\d.]+) B ([\d.]+)/.exec(body(html));
    expect(m).not.toBeNull();
    expect(m![1]).toBe(m![2]);
  });

  test('statements that cannot fill a table (DESCRIBE) still work and can be read by later cells', async () => {
    const { result } = await render(['# Describe', '```sql cols', 'DESCRIBE customers', '```', '```sql n', 'SELECT count(*) AS n FROM cols', '```', '{{n.n}} columns'].join('\n'));
    expect(result.queries.map((q) => q.rows)).toEqual([18, 1]); // customers: 18 columns since schema 14 (team, owner_email in 9; file_account_owner, file_team, file_owner_email in 14)
  });
});

describe('the prepare hook', () => {
  test('creates views the cells read; their names cannot be query names', async () => {
    const prepare = async (conn: Parameters<NonNullable<Parameters<typeof renderNotebook>[1]['prepare']>>[0]) => {
      await conn.run("CREATE TEMP VIEW report_thing AS SELECT 'from the hook' AS origin");
    };
    const { html } = await render(['# Hook', '```sql t', 'SELECT origin FROM report_thing', '```', 'Value: {{t.origin}}'].join('\n'), { prepare });
    expect(body(html)).toContain('Value: from the hook');
    const file = writeNotebook(fixture.dir, 'taken.md', ['# Taken', '```sql report_thing', 'SELECT 1', '```'].join('\n'));
    const store = await Store.open(fixture.storePath, { readOnly: true });
    try {
      await expect(renderNotebook(file, { store, outDir: path.join(fixture.dir, 'taken'), prepare })).rejects.toThrow(
        /cell 1 \(sql report_thing\): the query name 'report_thing' is taken by the notebook's own views/,
      );
    } finally {
      store.close();
    }
  });
});
