/**
 * Stored text printed to a terminal: control characters (ESC, CSI, CR, NUL…) in a rejected
 * row's raw text, a product name or a column name are shown escaped in tables, never written
 * raw (they would recolour, rewrite or hide what the user reads). CSV and JSON stay exact data.
 */
import { describe, expect, it } from 'vitest';
import { formatQueryResult, type QueryResult } from '../../src/store/query.js';
import { renderTable, visibleText } from '../../src/util/format.js';

/** Any character a terminal acts on instead of showing. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = 'C3\u001b[31mred\u001b[0m\u0000\r\u009b2J\u202eevil\ttab\nline';

describe('visibleText', () => {
  it('escapes control characters the way JSON writes them, and leaves other text alone', () => {
    expect(visibleText(HOSTILE)).toBe('C3\\u001b[31mred\\u001b[0m\\u0000\\r\\u009b2J\\u202eevil\\ttab\\nline');
    expect(visibleText('Müller & Söhne 客户 €1,234.50 C:\\data')).toBe('Müller & Söhne 客户 €1,234.50 C:\\data');
  });
});

describe('renderTable', () => {
  it('never writes a control character, in cells or headers', () => {
    const out = renderTable(['raw', 'col\u001b[1m'], [[HOSTILE, 'ok']]);
    expect(out).not.toMatch(RAW_CONTROL);
    expect(out.split('\n')).toHaveLength(3);
    expect(out).toContain('C3\\u001b[31mred');
    expect(out).toContain('col\\u001b[1m');
  });

  it('measures escaped cells for alignment', () => {
    const out = renderTable(['a', 'b'], [['x\u0007', '1'], ['yyyyyyyyyy', '2']]);
    const [header, , first, second] = out.split('\n');
    expect(first.indexOf('1')).toBe(second.indexOf('2'));
    expect(header.indexOf('b')).toBe(second.indexOf('2'));
  });
});

describe('crm query output', () => {
  const result: QueryResult = { columns: ['raw', 'n'], rows: [{ raw: HOSTILE, n: 1 }] };

  it('table: escaped', () => {
    const out = formatQueryResult(result, 'table');
    expect(out).not.toMatch(RAW_CONTROL);
    expect(out).toContain('\\u001b[31m');
  });

  it('json: the exact value, every control character written as an escape', () => {
    const out = formatQueryResult(result, 'json');
    expect(out.replace(/\n/g, '')).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(out)).toEqual(result.rows);
  });

  it('csv: the exact value, quoted', () => {
    const out = formatQueryResult({ columns: ['raw'], rows: [{ raw: 'a\u001b[31mb' }] }, 'csv');
    expect(out).toBe('raw\n"a\u001b[31mb"\n');
  });
});
