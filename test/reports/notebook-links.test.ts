/**
 * Links in notebook prose (issue #8 §4): only http:, https:, mailto: and relative targets become
 * links; anything else (javascript: however it is spelt, data:, vbscript:, file:) is its text,
 * with a warning naming the line. Values from queries are checked like the rest of the target.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { safeLinkTarget } from '../../src/reports/notebook.js';
import { createFixtureStore, type Fixture } from '../helpers/fixture.js';
import { renderWithStore, writeNotebook } from '../helpers/reports.js';

/** Every spelling of a script URL a browser would run, and other schemes a report must not link to. */
const REFUSED_TARGETS = [
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'java&#x09;script:alert(1)',
  'java&#9;script:alert(1)',
  'java&Tab;script:alert(1)',
  'java&NewLine;script:alert(1)',
  '&#106;avascript:alert(1)',
  '&#x6A;avascript:alert(1)',
  'javascript&colon;alert(1)',
  '&#x20;javascript:alert(1)',
  '<java\tscript:alert(1)>',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'vbscript:msgbox(1)',
  'file:///etc/passwd',
];

const KEPT_TARGETS: [string, string][] = [
  ['https://example.com/a?b=1&c=2', 'https://example.com/a?b=1&amp;c=2'],
  ['http://example.com/', 'http://example.com/'],
  ['mailto:team@example.com', 'mailto:team@example.com'],
  ['docs/report.md', 'docs/report.md'],
  ['#how-these-figures-are-made', '#how-these-figures-are-made'],
  ['../notes/a%20b.md', '../notes/a%20b.md'],
];

describe('safeLinkTarget', () => {
  test.each(REFUSED_TARGETS.map((t) => [t.replace(/^<|>$/g, '')]))('refuses %j', (target) => {
    expect(safeLinkTarget(target)).toBeNull();
  });

  test.each(KEPT_TARGETS.map(([t]) => [t]))('keeps %j', (target) => {
    expect(safeLinkTarget(target)).toBe(target);
  });
});

/** Every href in the page, as the browser reads it (attribute entities decoded). */
function hrefs(html: string): string[] {
  const decode = (v: string) =>
    v.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|#39);/gi, (_, e: string) =>
      e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ({ amp: '&', lt: '<', gt: '>', quot: '"' } as Record<string, string>)[e.toLowerCase()],
    );
  return [...html.matchAll(/\shref="([^"]*)"/g)].map((m) => decode(m[1]));
}

let fixture: Fixture;
let html: string;
let warnings: string[];

beforeAll(async () => {
  fixture = await createFixtureStore();
  const lines = [
    '# Links',
    '',
    '```sql data',
    "SELECT 'javascript:alert(\"from data\")' AS url, 'https://example.com/from-data' AS good",
    '```',
    '',
    ...REFUSED_TARGETS.map((t, i) => `Refused ${i}: [bad link ${i}](${t})`),
    '',
    'An autolink: <javascript:alert(2)>, a reference [ref link][r], data: [data link]({{data.url}}).',
    '',
    ...KEPT_TARGETS.map(([t], i) => `Kept ${i}: [good link ${i}](${t})`),
    '',
    'From data, fine: [good data]({{data.good}}), and www.example.org',
    '',
    '[r]: javascript:alert(3)',
    '',
  ];
  const file = writeNotebook(fixture.dir, 'links.md', lines.join('\n'));
  const result = await renderWithStore(fixture.storePath, file, path.join(fixture.dir, 'out'));
  html = fs.readFileSync(result.htmlFile, 'utf8').replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/g, '$1</script>');
  warnings = result.warnings;
});
afterAll(() => fixture?.cleanup());

describe('links in a rendered notebook', () => {
  test('no href the browser would read as anything but http:, https:, mailto: or relative', () => {
    const all = hrefs(html);
    expect(all.length).toBeGreaterThan(0);
    for (const href of all) {
      const parsed = href.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+/, '');
      expect(parsed, href).toMatch(/^(https?:|mailto:|[^:]*$|[^:]*[/?#])/i);
    }
  });

  test('refused links are their text alone', () => {
    for (let i = 0; i < REFUSED_TARGETS.length; i++) {
      expect(html).toMatch(new RegExp(`Refused ${i}: bad link ${i}(<|\\s|$)`, 'm'));
    }
    expect(html).toContain('ref link');
    expect(html).toContain('data link');
    expect(html).not.toMatch(/<a [^>]*>(bad link|ref link|data link)/);
    expect(html).not.toMatch(/href="[^"]*(script|alert)/i);
  });

  test('an autolink to javascript: is text', () => {
    expect(html).toContain('An autolink: javascript:alert(2),');
  });

  test('allowed links are kept, and a value from a query can be a link target', () => {
    for (let i = 0; i < KEPT_TARGETS.length; i++) {
      expect(html).toContain(`<a href="${KEPT_TARGETS[i][1]}">good link ${i}</a>`);
    }
    expect(html).toContain('<a href="https://example.com/from-data">good data</a>');
    expect(html).toContain('<a href="http://www.example.org">www.example.org</a>');
  });

  test('each refused link is a warning naming its line', () => {
    const refused = warnings.filter((w) => /is shown as text/.test(w));
    // Every spelling, the autolink, the reference and the one from data.
    expect(refused).toHaveLength(REFUSED_TARGETS.length + 3);
    expect(refused[0]).toMatch(/links\.md:7: the link to 'javascript:alert\(1\)' is shown as text: links may go to http:, https:, mailto: or relative targets/);
    expect(refused.some((w) => w.includes(`'javascript:alert("from data")'`))).toBe(true);
  });
});
