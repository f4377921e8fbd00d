/**
 * For the tests that render `crm report` in process (renderReport) and read the page: its
 * visible text, a render into a folder of the store's, a write to the store, and the sample
 * store scored by several models that report-models.test.ts reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ingest } from '../../src/ingest/index.js';
import type { Lang } from '../../src/reports/i18n.js';
import { renderReport, type ReportResult } from '../../src/reports/report.js';
import { Store } from '../../src/store/db.js';
import { createReporter } from '../../src/util/log.js';
import { createProgress } from '../../src/util/progress.js';
import { SAMPLE } from './report-store.js';
import { GENERATED_AT } from './reports.js';
import { createStore, type TestStore } from './run.js';

/** The visible text of a report page: no scripts, styles or tags, entities decoded, spaces collapsed. */
export function pageText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');
}

export interface RenderedPage {
  result: ReportResult;
  html: string;
  text: string;
  /** The files in the report's charts/ folder. */
  charts: string[];
}

/** `crm report` of the store (the latest run unless `runId`), dated GENERATED_AT, in `store.dir/name` (default out-RUN-LANG-OWNER). */
export async function renderPage(store: TestStore, lang: Lang, opts: { runId?: number; owner?: string; name?: string } = {}): Promise<RenderedPage> {
  const outDir = path.join(store.dir, opts.name ?? `out-${opts.runId ?? 'latest'}-${lang}-${opts.owner ?? 'all'}`);
  const result = await renderReport({ storePath: store.db, outDir, lang, runId: opts.runId, owner: opts.owner, now: GENERATED_AT });
  const html = fs.readFileSync(result.htmlFile, 'utf8');
  const chartsDir = path.join(outDir, 'charts');
  return { result, html, text: pageText(html), charts: fs.existsSync(chartsDir) ? fs.readdirSync(chartsDir) : [] };
}

/** Run one SQL statement on the store, read-write. */
export async function writeStore(store: TestStore, sql: string): Promise<void> {
  const s = await Store.open(store.db);
  try {
    await s.run(sql);
  } finally {
    s.close();
  }
}

/**
 * The sample exports as `npm run demo` loads them (customers, transactions, the policyholders who
 * hold contracts only, contracts, owners), by the real ingest; no run yet.
 */
export async function sampleExportsStore(prefix: string): Promise<TestStore> {
  const store = await createStore(null, prefix);
  for (const [kind, file] of [
    ['customers', 'customers.csv'],
    ['transactions', 'transactions.csv'],
    ['customers', 'policyholders.csv'],
    ['contracts', 'contracts.csv'],
    ['owners', 'owners.csv'],
  ] as const) {
    await ingest({ kind, files: [path.join(SAMPLE, file)], storePath: store.db, config: {}, reporter: createReporter({ quiet: true }), progress: createProgress({ quiet: true }) });
  }
  return store;
}
