/**
 * The rendered reports in a real browser (Debian's Chromium, network blocked): nothing is
 * fetched, every chart draws, no script errors, no data runs as script. Screenshots go to
 * test-results/ for people to look at.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { contentSecurityPolicy } from '../../src/reports/html.js';
import { createFixtureStore, HOSTILE_NAMES, type Fixture } from '../helpers/fixture.js';
import { inspectReport, launchChromium, type PageReport } from '../helpers/browser.js';
import { EXAMPLE_NOTEBOOK, HOSTILE_NOTEBOOK, REPO_ROOT, renderWithStore, writeNotebook } from '../helpers/reports.js';

const SCREENSHOTS = path.join(REPO_ROOT, 'test-results');

let fixture: Fixture;
let browser: Browser;
const pages: Partial<Record<'en' | 'zh' | 'hostile', PageReport>> = {};

beforeAll(async () => {
  browser = await launchChromium();
  fixture = await createFixtureStore();
  const outDir = path.join(fixture.dir, 'out');
  for (const lang of ['en', 'zh'] as const) {
    const { htmlFile } = await renderWithStore(fixture.storePath, EXAMPLE_NOTEBOOK, outDir, lang);
    pages[lang] = await inspectReport(browser, htmlFile, { screenshot: path.join(SCREENSHOTS, `report-${lang}.png`) });
  }
  const hostile = writeNotebook(fixture.dir, 'hostile.md', HOSTILE_NOTEBOOK);
  const { htmlFile } = await renderWithStore(fixture.storePath, hostile, outDir, 'en');
  pages.hostile = await inspectReport(browser, htmlFile, { screenshot: path.join(SCREENSHOTS, 'report-hostile.png') });
});

afterAll(async () => {
  await browser?.close();
  fixture?.cleanup();
});

function page(which: 'en' | 'zh' | 'hostile'): PageReport {
  const report = pages[which];
  if (!report) throw new Error(`the ${which} report was not opened`);
  return report;
}

describe.each(['en', 'zh', 'hostile'] as const)('the %s report in Chromium', (which) => {
  test('makes no network request and breaks no policy', () => {
    expect(page(which).requests).toEqual([]);
    expect(page(which).cspViolations).toEqual([]);
  });

  test('has no console errors, page errors or dialogs', () => {
    expect(page(which).consoleErrors).toEqual([]);
    expect(page(which).pageErrors).toEqual([]);
    expect(page(which).dialogs).toEqual([]);
  });

  test('draws every chart as SVG with marks', () => {
    const { chartsState, charts } = page(which);
    expect(chartsState).toBe('ready');
    expect(charts.length).toBe(which === 'hostile' ? 1 : 2);
    for (const chart of charts) {
      expect(chart.error, chart.id).toBeNull();
      expect(chart.svgs, chart.id).toBe(1);
      expect(chart.marks, chart.id).toBeGreaterThan(0);
    }
  });
});

test('the Chinese report draws Chinese axis labels and 万 amounts in the browser', () => {
  const { charts, text } = page('zh');
  const segments = charts.find((c) => c.id === 'revenue-by-segment');
  expect(segments?.text).toMatch(/冠军客户/);
  expect(segments?.text).toMatch(/\d+万/);
  const monthly = charts.find((c) => c.id === 'monthly-revenue');
  expect(monthly?.text).toMatch(/2023年1月/);
  expect(text).toContain('客户价值报告');
  expect(text).toContain('前 10 条，共 36 条');
});

test('hostile customer names show as text', () => {
  const { text, charts } = page('hostile');
  for (const name of HOSTILE_NAMES.slice(0, 2)) expect(text).toContain(name);
  expect(charts[0].text).toMatch(/<script>alert\(1\)<\/script>|<img src=x onerror=alert\(3\)>/);
});

test('screenshots are saved for both languages', () => {
  for (const lang of ['en', 'zh']) {
    const file = path.join(SCREENSHOTS, `report-${lang}.png`);
    expect(fs.statSync(file).size).toBeGreaterThan(20_000);
  }
});

/**
 * Markup that tries to run script: in prose (raw HTML, javascript: links however spelt) and in
 * data (a customer name that is an <img onerror>, a link target from a query).
 */
const INJECTION_NOTEBOOK = `# Injection

<img src=x onerror="window.__ran = 'prose img'">

[click me](javascript:window.__ran='prose link'), [entity](java&#x09;script:window.__ran='entity link'), <javascript:window.__ran='autolink'>

Top customer: {{top.name}}, [their site]({{top.url}}).

\`\`\`sql top
SELECT c.name, 'javascript:window.__ran=1' AS url, sum(t.amount) AS revenue
FROM transactions t JOIN customers c USING (customer_id)
WHERE c.name LIKE '<img%'
GROUP BY c.name
\`\`\`

\`\`\`table top
\`\`\`

\`\`\`vega-lite top-chart
{"title": "{{top.name}}", "takeaway": "{{top.name}}", "data": {"name": "top"}, "mark": {"type": "bar", "tooltip": true},
 "encoding": {"y": {"field": "name", "type": "nominal"}, "x": {"field": "revenue", "type": "quantitative"}}}
\`\`\`
`;

/**
 * Click every link the report has, then put an inline event handler and a javascript: link into
 * the page directly and trigger both: the report's own defences are bypassed, so only the CSP
 * stands between them and running. Waits until both were blocked (or, without a CSP, both ran).
 */
async function tryToRunScript(page: Page): Promise<{ links: number; ran: string[]; title: string }> {
  const links = await page.evaluate(() => {
    const anchors = [...document.querySelectorAll('main a')] as HTMLAnchorElement[];
    for (const a of anchors) a.click();
    document.body.insertAdjacentHTML(
      'beforeend',
      `<img id="probe-img" src="data:," onerror="(window.__ran = window.__ran || []).push('handler')">` +
        `<a id="probe-link" href="javascript:(window.__ran = window.__ran || []).push('url')">probe</a>`,
    );
    (document.getElementById('probe-link') as HTMLAnchorElement).click();
    return anchors.length;
  });
  await page.waitForFunction(
    () => {
      const w = window as unknown as { __cspViolations?: string[]; __ran?: unknown };
      const blocked = (w.__cspViolations ?? []).filter((v) => v.startsWith('script-src')).length;
      const ran = Array.isArray(w.__ran) ? w.__ran.length : 0;
      return blocked + ran >= 2;
    },
    null,
    { timeout: 10_000 },
  );
  const seen = await page.evaluate(() => {
    const ran = (window as unknown as { __ran?: unknown }).__ran;
    return { ran: Array.isArray(ran) ? ran.map(String) : ran === undefined ? [] : [String(ran)], title: document.title };
  });
  return { links, ...seen };
}

describe('script injected into a report does not run', () => {
  let file: string;
  let report: PageReport;

  beforeAll(async () => {
    const notebook = writeNotebook(fixture.dir, 'injection.md', INJECTION_NOTEBOOK);
    ({ htmlFile: file } = await renderWithStore(fixture.storePath, notebook, path.join(fixture.dir, 'out'), 'en'));
    report = await inspectReport(browser, file, { afterLoad: tryToRunScript });
  });

  test('the page itself has no link, handler or script of the injection', () => {
    expect(report.chartsState).toBe('ready');
    const probe = report.probe as { links: number; ran: string[]; title: string };
    expect(probe.links).toBe(0);
    expect(probe.title).toBe('Injection');
    expect(report.text).toContain('<img src=x onerror=alert(3)>');
    expect(report.dialogs).toEqual([]);
    expect(report.pageErrors).toEqual([]);
  });

  test('an inline handler and a javascript: URL put into the page are blocked by the CSP', () => {
    expect((report.probe as { ran: string[] }).ran).toEqual([]);
    expect(report.cspViolations).toHaveLength(2);
    for (const v of report.cspViolations) expect(v).toMatch(/^script-src(-attr|-elem)? inline$/);
  });

  test('control: the same page without its CSP runs both', async () => {
    const bare = file.replace(/\.html$/, '.no-csp.html');
    fs.writeFileSync(bare, fs.readFileSync(file, 'utf8').replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, ''));
    const control = await inspectReport(browser, bare, { afterLoad: tryToRunScript });
    expect((control.probe as { ran: string[] }).ran.sort()).toEqual(['handler', 'url']);
  });
});

describe('the harness itself', () => {
  test('notices requests, policy violations and script errors', async () => {
    const dir = fs.mkdtempSync(path.join(fixture.dir, 'control-'));
    const leaky = path.join(dir, 'leaky.html');
    fs.writeFileSync(
      leaky,
      `<!doctype html><html><body><img src="http://127.0.0.1:9/pixel.png"><script>fetch('http://127.0.0.1:9/data').catch(() => {}); null.boom;</script></body></html>`,
    );
    const guarded = path.join(dir, 'guarded.html');
    fs.writeFileSync(
      guarded,
      `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy([])}"></head>` +
        `<body><img src="http://127.0.0.1:9/pixel.png"></body></html>`,
    );
    const leak = await inspectReport(browser, leaky, { timeoutMs: 500 });
    expect(leak.requests).toEqual(expect.arrayContaining(['http://127.0.0.1:9/pixel.png', 'http://127.0.0.1:9/data']));
    expect(leak.pageErrors.join(' ')).toMatch(/null/);
    expect(leak.chartsState).toBeNull();
    const guard = await inspectReport(browser, guarded, { timeoutMs: 500 });
    expect(guard.cspViolations).toEqual(['img-src http://127.0.0.1:9/pixel.png']);
  });
});
