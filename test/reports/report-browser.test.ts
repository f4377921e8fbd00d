/**
 * The built-in report (`crm report`) in Debian's Chromium with the network blocked: every chart
 * draws an SVG with marks, nothing is fetched, no script errors, no data runs as script.
 * Full-page screenshots go to test-results/report-builtin-*.png for people to look at.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { inspectReport, launchChromium, type PageReport } from '../helpers/browser.js';
import { buildFallbackStore, buildSampleStore, HOSTILE_CUSTOMER, report, type ReportStore } from '../helpers/report-store.js';
import { REPO_ROOT } from '../helpers/reports.js';

const SCREENSHOTS = path.join(REPO_ROOT, 'test-results');

type Which = 'en' | 'zh' | 'run1' | 'fallback';
// The fitted reports have the 12-month projection with its band (forecast chart, issue #12 §3); the fallback has no model to project.
const EXPECTED_CHARTS: Record<Which, number> = { en: 9, zh: 9, run1: 10, fallback: 6 };

let browser: Browser;
let sample: ReportStore;
let fallback: ReportStore;
const pages: Partial<Record<Which, PageReport>> = {};

beforeAll(async () => {
  browser = await launchChromium();
  sample = buildSampleStore('crm-report-browser-');
  fallback = buildFallbackStore('crm-report-browser-fallback-');
  const renders: Record<Which, { db: string; args: string[]; file: string }> = {
    en: { db: sample.db, args: ['--out', path.join(sample.dir, 'out')], file: path.join(sample.dir, 'out', 'report.html') },
    zh: { db: sample.db, args: ['--out', path.join(sample.dir, 'out'), '--lang', 'zh'], file: path.join(sample.dir, 'out', 'report.zh.html') },
    run1: { db: sample.db, args: ['--out', path.join(sample.dir, 'run1'), '--run', '1'], file: path.join(sample.dir, 'run1', 'report.html') },
    fallback: { db: fallback.db, args: ['--out', path.join(fallback.dir, 'out')], file: path.join(fallback.dir, 'out', 'report.html') },
  };
  for (const [which, r] of Object.entries(renders) as [Which, (typeof renders)[Which]][]) {
    report(r.db, r.args);
    pages[which] = await inspectReport(browser, r.file, { screenshot: path.join(SCREENSHOTS, `report-builtin-${which}.png`) });
  }
}, 300_000);

afterAll(async () => {
  await browser?.close();
  for (const s of [sample, fallback]) if (s) fs.rmSync(s.dir, { recursive: true, force: true });
});

function page(which: Which): PageReport {
  const p = pages[which];
  if (!p) throw new Error(`the ${which} report was not opened`);
  return p;
}

describe.each(['en', 'zh', 'run1', 'fallback'] as const)('the built-in %s report in Chromium', (which) => {
  test('makes no network request, breaks no policy, logs no error and opens no dialog', () => {
    const p = page(which);
    expect(p.requests).toEqual([]);
    expect(p.cspViolations).toEqual([]);
    expect(p.consoleErrors).toEqual([]);
    expect(p.pageErrors).toEqual([]);
    expect(p.dialogs).toEqual([]);
  });

  test('draws every chart as one SVG with marks', () => {
    const { chartsState, charts } = page(which);
    expect(chartsState).toBe('ready');
    expect(charts.length).toBe(EXPECTED_CHARTS[which]);
    for (const chart of charts) {
      expect(chart.error, chart.id).toBeNull();
      expect(chart.svgs, chart.id).toBe(1);
      expect(chart.marks, chart.id).toBeGreaterThan(0);
    }
  });

  test('saved a screenshot', () => {
    const file = path.join(SCREENSHOTS, `report-builtin-${which}.png`);
    expect(fs.statSync(file).size).toBeGreaterThan(50_000);
  });
});

test('the Chinese report draws Chinese labels and 万 amounts inside its charts', () => {
  const { charts, text } = page('zh');
  expect(charts.find((c) => c.id === 'segments')?.text).toMatch(/冠军客户/);
  expect(charts.find((c) => c.id === 'revenue-by-month')?.text).toMatch(/\d{4}年\d{1,2}月/);
  expect(charts.find((c) => c.id === 'pareto')?.text).toMatch(/的客户 → \d+% 的收入/);
  expect(text).toContain('客户价值报告');
  expect(text).toMatch(/近 365 天收入\s+[\d.]+万/);
});

test('the hostile customer name is visible as text in the page', () => {
  expect(page('en').text).toContain(HOSTILE_CUSTOMER.name);
  expect(page('en').text).not.toContain(HOSTILE_CUSTOMER.email);
});

test('the fallback report explains itself', () => {
  expect(page('fallback').text).toContain('The statistical models were not fitted for this run');
  expect(page('run1').charts.map((c) => c.id)).toContain('backtest');
});
