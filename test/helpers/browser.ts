/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// (The functions passed to page.evaluate run in the browser, so this file sees DOM types.)
/**
 * Open a rendered report in Debian's Chromium (driven by playwright-core; no browser is ever
 * downloaded) and report what happened: every network request the page tried, console errors,
 * page errors, CSP violations, and what each chart container drew.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CRM_CHROMIUM ?? '/usr/bin/chromium';

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launch Chromium, or fail with the way to install it (the browser tests must never be skipped). */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The report browser tests need Debian's chromium and CJK fonts: ` +
        'run scripts/install-system-deps.sh (or: sudo apt-get install chromium fonts-noto-cjk), ' +
        'or point CRM_CHROMIUM at a Chromium binary. Never download a browser for these tests.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: LAUNCH_ARGS });
}

export interface ChartState {
  id: string;
  /** <svg> elements in the container. */
  svgs: number;
  /** Data marks drawn (items of Vega's role-mark groups, axes and legends not counted). */
  marks: number;
  /** Text of the SVG: axis labels, legend entries... */
  text: string;
  error: string | null;
}

export interface PageReport {
  /** 'ready' or 'failed', from the page script; null when it never finished. */
  chartsState: string | null;
  /** URLs of every request besides the report file itself (all were blocked). */
  requests: string[];
  consoleErrors: string[];
  pageErrors: string[];
  /** Resources the Content-Security-Policy blocked (these never reach the network layer). */
  cspViolations: string[];
  charts: ChartState[];
  /** Messages of alert/confirm/prompt dialogs: any is a script the report should not have run. */
  dialogs: string[];
  /** The page's visible text. */
  text: string;
  /** What `afterLoad` returned. */
  probe?: unknown;
}

export interface InspectOptions {
  /** Save a full-page screenshot here. */
  screenshot?: string;
  viewport?: { width: number; height: number };
  timeoutMs?: number;
  /** Run once the charts are done, before violations are collected (e.g. to try an injection). */
  afterLoad?: (page: Page) => Promise<unknown>;
}

const DEFAULTS = { viewport: { width: 1200, height: 900 }, timeoutMs: 30_000 };

/** Load a report file with the network blocked and collect what it did. */
export async function inspectReport(browser: Browser, htmlFile: string, opts: InspectOptions = {}): Promise<PageReport> {
  const url = pathToFileURL(path.resolve(htmlFile)).href;
  const context = await browser.newContext({ viewport: opts.viewport ?? DEFAULTS.viewport });
  try {
    const requests: string[] = [];
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    const dialogs: string[] = [];
    await context.route('**/*', (route) => {
      const requested = route.request().url();
      if (requested === url) return route.continue();
      requests.push(requested);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('request', (request) => {
      if (request.url() !== url && !requests.includes(request.url())) requests.push(request.url());
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.addInitScript(() => {
      const violations: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = violations;
      document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(url, { waitUntil: 'load' });
    await page
      .waitForFunction(() => document.documentElement.hasAttribute('data-charts'), null, { timeout: opts.timeoutMs ?? DEFAULTS.timeoutMs })
      .catch(() => undefined);
    const chartsState = await page.evaluate(() => document.documentElement.getAttribute('data-charts'));
    const charts = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('[data-chart]')].map((el) => ({
        id: el.dataset.chart ?? '',
        svgs: el.querySelectorAll('svg').length,
        marks: el.querySelectorAll('svg g.role-mark > *').length,
        text: [...el.querySelectorAll('svg text')].map((t) => t.textContent ?? '').join(' '),
        error: el.classList.contains('chart-error') ? el.textContent : null,
      })),
    );
    const probe = opts.afterLoad ? await opts.afterLoad(page) : undefined;
    const cspViolations = await page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
    const text = await page.evaluate(() => document.body.innerText);
    if (opts.screenshot) {
      fs.mkdirSync(path.dirname(opts.screenshot), { recursive: true });
      await page.screenshot({ path: opts.screenshot, fullPage: true });
    }
    return { chartsState, requests, consoleErrors, pageErrors, cspViolations, dialogs, charts, text, probe };
  } finally {
    await context.close();
  }
}
