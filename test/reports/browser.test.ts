/**
 * The rendered reports in a real browser (Debian's Chromium, network blocked): nothing is
 * fetched, every chart draws, no script errors, no data runs as script. Screenshots go to
 * test-results/ for people to look at.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { CONTENT_SECURITY_POLICY } from '../../src/reports/html.js';
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
      `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}"></head>` +
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
