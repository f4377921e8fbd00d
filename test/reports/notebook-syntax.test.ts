import { describe, expect, test } from 'vitest';
import {
  parseCellJson,
  parseNotebook,
  replacePlaceholders,
  selectLanguage,
  type Cell,
  type Placeholder,
} from '../../src/reports/notebook-syntax.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';

const FILE = '/nb/report.md';

/** The error a function throws (fails the test when it does not throw). */
function errorOf(fn: () => unknown): CrmError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CrmError);
    return err as CrmError;
  }
  throw new Error('expected an error');
}

describe('language blocks', () => {
  const text = ['# Title', '<!-- lang:en -->', 'Hello', '<!-- /lang -->', '<!-- lang:zh -->', '你好', '<!-- /lang -->', 'Both: <!-- lang:zh -->中<!-- /lang -->end'].join('\n');

  test('keep the text of one language and every line break', () => {
    const en = selectLanguage(text, 'en', FILE);
    const zh = selectLanguage(text, 'zh', FILE);
    expect(en).toContain('Hello');
    expect(en).not.toContain('你好');
    expect(en).toContain('Both: end');
    expect(zh).toContain('你好');
    expect(zh).not.toContain('Hello');
    expect(zh).toContain('Both: 中end');
    expect(en.split('\n')).toHaveLength(text.split('\n').length);
    expect(zh.split('\n')).toHaveLength(text.split('\n').length);
    // Line 6 of the file is still line 6.
    expect(zh.split('\n')[5]).toBe('你好');
  });

  test('unclosed, nested, stray and unknown markers name their line', () => {
    expect(errorOf(() => selectLanguage('a\n<!-- lang:zh -->\nb', 'en', FILE)).message).toMatch(/^\/nb\/report\.md:2: .*never closed/);
    expect(errorOf(() => selectLanguage('<!-- lang:zh -->\n<!-- lang:en -->', 'en', FILE)).message).toMatch(/:2: language block opened inside the one opened on line 1/);
    expect(errorOf(() => selectLanguage('x\n\n<!-- /lang -->', 'en', FILE)).message).toMatch(/:3: .*without an opening/);
    expect(errorOf(() => selectLanguage('<!-- lang:fr -->x<!-- /lang -->', 'en', FILE)).message).toMatch(/unknown language 'fr'/);
  });
});

describe('cells', () => {
  const text = [
    '# Report', //                       1
    '', //                               2
    '```sql totals', //                  3
    'SELECT 1 AS n', //                  4
    '```', //                            5
    'Some prose.', //                    6
    '```text', //                        7
    '```sql not_a_cell_inside_code', //  8
    '```', //                            9
    '````vega-lite', //                  10
    '{"mark": "bar"}', //                11
    '````', //                           12
    '~~~table totals', //                13
    '~~~', //                            14
    '```kpi totals', //                  15
    '```', //                            16
  ].join('\n');

  test('are found with kind, name, index and lines; other fences stay prose', () => {
    const nb = parseNotebook(text, FILE);
    const summary = nb.cells.map((c) => [c.kind, c.name, c.index, c.line, c.bodyLine, c.body]);
    expect(summary).toEqual([
      ['sql', 'totals', 1, 3, 4, 'SELECT 1 AS n'],
      ['vega-lite', 'chart-2', 2, 10, 11, '{"mark": "bar"}'],
      ['table', 'totals', 3, 13, 14, ''],
      ['kpi', 'totals', 4, 15, 16, ''],
    ]);
    const prose = nb.segments.filter((s) => s.kind === 'prose');
    expect(prose.map((p) => p.line)).toEqual([1, 6]);
    expect(prose[1].kind === 'prose' && prose[1].text).toContain('```sql not_a_cell_inside_code');
  });

  test('mistakes name the file and line', () => {
    expect(errorOf(() => parseNotebook('x\n```sql q\nSELECT 1', FILE)).message).toMatch(/^\/nb\/report\.md:2: cell 1 \(sql\) is never closed/);
    expect(errorOf(() => parseNotebook('```sql\nSELECT 1\n```', FILE)).message).toMatch(/:1: cell 1 \(sql\): missing the name of its result/);
    expect(errorOf(() => parseNotebook('```table 1abc\n```', FILE)).message).toMatch(/not a valid query name/);
    expect(errorOf(() => parseNotebook('```sql a b\nSELECT 1\n```', FILE)).message).toMatch(/unexpected 'b' after the cell name/);
    const duplicate = errorOf(() => parseNotebook('```sql a\nSELECT 1\n```\n\n```sql a\nSELECT 2\n```', FILE));
    expect(duplicate.message).toMatch(/^\/nb\/report\.md:5: cell 2 \(sql a\): the query name 'a' is already used by cell 1 on line 1/);
    expect(duplicate.exitCode).toBe(ExitCode.input);
  });
});

describe('cell JSON', () => {
  const cell: Cell = { kind: 'vega-lite', name: 'c', index: 2, line: 10, bodyLine: 11, body: '{\n  "mark": "bar",\n  "title": "x"\n  "oops": 1\n}' };

  test('syntax errors point at the line in the .md file', () => {
    const err = errorOf(() => parseCellJson(cell, FILE, null));
    expect(err.message).toMatch(/^\/nb\/report\.md:14: cell 2 \(vega-lite c\): invalid JSON/);
  });

  test('an empty body is the fallback', () => {
    expect(parseCellJson({ ...cell, body: '  \n' }, FILE, { empty: true })).toEqual({ empty: true });
  });
});

describe('placeholders', () => {
  const seen: Placeholder[] = [];
  const fill = (text: string) =>
    replacePlaceholders(
      text,
      (p) => {
        seen.push(p);
        return `[${p.query}.${p.column}${p.format ? '|' + p.format : ''}${p.digits !== undefined ? ':' + p.digits : ''}]`;
      },
      (offset) => `at ${offset}`,
    );

  test('are read with formats and digits; \\{{ stays literal', () => {
    const text = 'A {{ totals.revenue | money }} B {{q.share|percent:0}} C \\{{x.y}}';
    expect(fill(text)).toBe('A [totals.revenue|money] B [q.share|percent:0] C {{x.y}}');
    expect(seen.map((p) => p.start)).toEqual([text.indexOf('{{'), text.indexOf('{{q.')]);
  });

  test('malformed ones and unknown formats are errors', () => {
    expect(errorOf(() => fill('x {{totals}}')).message).toMatch(/^at 2: cannot read the placeholder \{\{totals\}\}/);
    expect(errorOf(() => fill('{{totals.revenue | dollars}}')).message).toMatch(/unknown format 'dollars'/);
  });
});
