import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  chartLibrarySources,
  contentSecurityPolicy,
  escapeHtml,
  jsonForScript,
  renderReportHtml,
  type ReportDocument,
} from '../../src/reports/html.js';

const EVIL = '</script><script>alert(1)</script><!--';

describe('escaping', () => {
  test('HTML text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  test('JSON inside <script> cannot close the element, and still parses to the same value', () => {
    const value = { name: EVIL, sep: 'a\u2028b', amp: 'x & y' };
    const json = jsonForScript(value);
    expect(json).not.toMatch(/[<>&\u2028]/);
    expect(json).toContain('\\u003c/script\\u003e');
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe('libraries', () => {
  test('vega, vega-lite and vega-embed are read from node_modules and safe to inline', () => {
    const sources = chartLibrarySources();
    expect(sources).toHaveLength(3);
    for (const source of sources) {
      expect(source.length).toBeGreaterThan(50_000);
      expect(source).not.toMatch(/<\/script/i);
    }
    expect(sources[0]).toMatch(/\.vega=\{\}/);
    expect(sources[2]).toMatch(/vegaEmbed/);
  });
});

describe('page', () => {
  const doc: ReportDocument = {
    lang: 'zh',
    title: `Report ${EVIL}`,
    generatedAt: new Date(Date.UTC(2024, 0, 5)),
    sections: [
      {
        blocks: [
          { kind: 'kpis', cards: [{ label: EVIL, value: '226.27万', note: EVIL }] },
          { kind: 'table', title: EVIL, columns: [{ label: EVIL, numeric: false }, { label: '收入', numeric: true }], rows: [[EVIL, '1.2万']], total: 36 },
          {
            kind: 'chart',
            id: 'top',
            title: EVIL,
            takeaway: EVIL,
            spec: { title: EVIL, data: { name: 'q' }, datasets: { q: [{ name: EVIL, v: 1 }] }, mark: 'bar', encoding: {} },
          },
        ],
      },
    ],
  };
  const html = renderReportHtml(doc);

  test('data never becomes markup', () => {
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<!--');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    // Five script elements: the page data, three libraries, the page script.
    expect(html.match(/<script[\s>]/g)).toHaveLength(5);
    expect(html.match(/<\/script>/g)).toHaveLength(5);
  });

  test('the chart data travels inside the page data, title removed from the drawing', () => {
    const data = /<script type="application\/json" id="crm-report-data">([\s\S]*?)<\/script>/.exec(html);
    expect(data).not.toBeNull();
    const parsed = JSON.parse(data![1]);
    expect(parsed.lang).toBe('zh');
    expect(parsed.charts[0].spec.datasets.q[0].name).toBe(EVIL);
    expect(parsed.charts[0].spec.title).toBeUndefined();
    expect(parsed.charts[0].spec.width).toBe('container');
    expect(parsed.charts[0].spec.config.locale.time.shortMonths[0]).toBe('1月');
  });

  test('the CSP runs exactly the inlined scripts: each by its hash, no inline handlers, no eval', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1] ?? '';
    const directives = Object.fromEntries(csp.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    const runnable = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(runnable).toHaveLength(4); // vega, vega-lite, vega-embed, the page's own
    const hashes = runnable.map((source) => `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`);
    expect(directives['script-src']).toEqual(hashes);
    expect(directives).toEqual({
      'default-src': ["'none'"],
      'script-src': hashes,
      'style-src': ["'unsafe-inline'"],
      'img-src': ['data:'],
      'object-src': ["'none'"],
      'base-uri': ["'none'"],
      'form-action': ["'none'"],
    });
    expect(csp).toBe(contentSecurityPolicy(runnable));
  });

  test('language, labels', () => {
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('生成于 2024年1月5日');
    expect(html).toContain('前 1 条，共 36 条');
    expect(html).toContain('<td class="num">1.2万</td>');
  });

  test('nothing is loaded from anywhere: no src, no stylesheet links, no imports', () => {
    // The markup around the scripts (the libraries' own text may mention tags and URLs).
    const markup = html.replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/g, '$1</script>');
    expect(markup.length).toBeLessThan(20_000);
    expect(markup).not.toMatch(/<(script|img|iframe|link|source|video|audio|embed|object)\b[^>]*\s(src|href|data)\s*=/i);
    expect(markup).not.toMatch(/@import|url\(/i);
    expect(markup).not.toMatch(/https?:\/\//);
  });
});
