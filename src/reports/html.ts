/**
 * The report as one self-contained HTML file: it opens from disk and makes no network request
 * of any kind. Vega, Vega-Lite and vega-embed are inlined from node_modules, every chart's data
 * travels inside its spec, and a Content-Security-Policy forbids loading anything else, so a
 * stray URL fails loudly in the browser instead of leaking a request.
 *
 * Everything that comes from data is escaped here: text through `escapeHtml`, JSON placed in a
 * <script> through `jsonForScript` (a customer named `</script><script>…` stays a string).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { formatDate, LOCALE, VALUE_FORMAT_SOURCE, t, type Lang } from './i18n.js';
import { LOCALE_FORMAT_FUNCTION, styleChart, type ChartSpec } from './chart-style.js';
import { TOOL_VERSION } from '../version.js';

/**
 * The page's Content-Security-Policy, for a page whose inline scripts are `scripts`: nothing is
 * fetched (default-src 'none'; images only from inline data), and only the scripts the report
 * inlined itself run, each named by its SHA-256. Without 'unsafe-inline' for scripts, an inline
 * event handler (`onerror=…`) or a `javascript:` URL that slipped into the page cannot run; nor
 * can eval (Vega interprets its expressions, see pageScript). Styles keep 'unsafe-inline':
 * vega-embed and its tooltips add <style> elements and Vega's SVG writes style attributes as it
 * draws. CSS runs no script, and with nothing allowed to load it cannot send anything anywhere.
 */
export function contentSecurityPolicy(scripts: readonly string[]): string {
  const hashes = scripts.map((source) => `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`);
  return [
    "default-src 'none'",
    `script-src ${hashes.join(' ')}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export interface KpiCard {
  label: string;
  value: string;
  note?: string;
}

export interface TableColumn {
  label: string;
  /** Right-aligned, tabular figures. */
  numeric: boolean;
}

/** What a report is made of. Text fields are plain text (escaped on output) except `html` blocks. */
export type ReportBlock =
  /** Markup the caller produced and vouches for (rendered Markdown with data already escaped). */
  | { kind: 'html'; html: string }
  | { kind: 'kpis'; cards: KpiCard[] }
  | { kind: 'table'; title?: string; columns: TableColumn[]; rows: string[][]; total: number }
  | { kind: 'chart'; id: string; title: string; takeaway: string; spec: ChartSpec };

/** A section opens at each level-2 heading; blocks before the first one form an untitled section. */
export interface ReportSection {
  blocks: ReportBlock[];
}

export interface ReportDocument {
  lang: Lang;
  title: string;
  generatedAt: Date;
  sections: ReportSection[];
}

// ---------------------------------------------------------------------------------------------
// Escaping

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text → HTML text or attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * JSON that is safe inside <script>: `<`, `>` and `&` become \u escapes so that no data can
 * close the element or open a comment, and U+2028/2029 are escaped for older JS parsers.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

// ---------------------------------------------------------------------------------------------
// Libraries

const requireFromHere = createRequire(import.meta.url);

/** The root folder of an installed package, found from its resolved entry point. */
function packageRoot(pkg: string): string {
  let dir = path.dirname(requireFromHere.resolve(pkg));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === pkg) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the folder of the installed package '${pkg}'`);
    dir = parent;
  }
}

/** The browser builds the report inlines, in load order (vega-embed expects the other two as globals). */
export const CHART_LIBRARIES = [
  { pkg: 'vega', file: 'build/vega.min.js' },
  { pkg: 'vega-lite', file: 'build/vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'build/vega-embed.min.js' },
] as const;

let librariesCache: string[] | undefined;

/** The minified library sources, made safe to inline: no `</script` can end the element early. */
export function chartLibrarySources(): string[] {
  librariesCache ??= CHART_LIBRARIES.map(({ pkg, file }) => {
    const source = fs.readFileSync(path.join(packageRoot(pkg), file), 'utf8');
    // Only ever inside string literals in these builds, where `<\/` means the same thing.
    return source.replace(/<\/(script)/gi, '<\\/$1');
  });
  return librariesCache;
}

// ---------------------------------------------------------------------------------------------
// Page

export function renderReportHtml(doc: ReportDocument): string {
  const { lang } = doc;
  const charts: { id: string; target: string; spec: ChartSpec }[] = [];
  const sections = doc.sections
    .map((section) => {
      const inner = section.blocks.map((block) => renderBlock(block, lang, charts)).join('\n');
      return inner.trim() ? `<section>\n${inner}\n</section>` : '';
    })
    .filter(Boolean)
    .join('\n');
  const pageData = { lang, labels: { chartFailed: t(lang, 'chart.failed') }, charts };
  // Scripts that run, in order; the CSP allows exactly these (the page data is JSON, not run).
  const scripts = [...chartLibrarySources(), pageScript()];
  return `<!doctype html>
<html lang="${LOCALE[lang]}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(scripts)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="crm-analytics ${escapeHtml(TOOL_VERSION)}">
<title>${escapeHtml(doc.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<div class="page">
<header class="report-header">
<h1>${escapeHtml(doc.title)}</h1>
<p class="meta">${escapeHtml(t(lang, 'report.generated', { date: formatDate(lang, doc.generatedAt) }))}</p>
</header>
<noscript><p class="notice">${escapeHtml(t(lang, 'chart.noscript'))}</p></noscript>
<main>
${sections}
</main>
<footer>${escapeHtml(t(lang, 'report.footer', { version: TOOL_VERSION }))}</footer>
</div>
<script type="application/json" id="crm-report-data">${jsonForScript(pageData)}</script>
${scripts.map((source) => `<script>${source}</script>`).join('\n')}
</body>
</html>
`;
}

function renderBlock(block: ReportBlock, lang: Lang, charts: { id: string; target: string; spec: ChartSpec }[]): string {
  switch (block.kind) {
    case 'html':
      return block.html;
    case 'kpis':
      return renderKpis(block.cards);
    case 'table':
      return renderTable(block, lang);
    case 'chart': {
      const target = `chart-${block.id}`;
      // The figure shows title and takeaway as text; the drawing itself goes without the title.
      const { title: _title, ...untitled } = block.spec;
      charts.push({ id: block.id, target, spec: styleChart(untitled, lang, 'html') });
      return `<figure class="chart" id="figure-${escapeHtml(block.id)}">
<h3 class="chart-title">${escapeHtml(block.title)}</h3>
<p class="takeaway">${escapeHtml(block.takeaway)}</p>
<div class="chart-view" id="${escapeHtml(target)}" data-chart="${escapeHtml(block.id)}"></div>
</figure>`;
    }
  }
}

function renderKpis(cards: KpiCard[]): string {
  const items = cards.map(
    (c) => `<div class="kpi">
<div class="kpi-label">${escapeHtml(c.label)}</div>
<div class="kpi-value">${escapeHtml(c.value)}</div>${c.note ? `\n<div class="kpi-note">${escapeHtml(c.note)}</div>` : ''}
</div>`,
  );
  return `<div class="kpis">\n${items.join('\n')}\n</div>`;
}

function renderTable(block: Extract<ReportBlock, { kind: 'table' }>, lang: Lang): string {
  const cls = (c: TableColumn) => (c.numeric ? ' class="num"' : '');
  const head = block.columns.map((c) => `<th scope="col"${cls(c)}>${escapeHtml(c.label)}</th>`).join('');
  const body =
    block.rows.length === 0
      ? `<tr><td colspan="${block.columns.length}" class="empty">${escapeHtml(t(lang, 'table.empty'))}</td></tr>`
      : block.rows
          .map((row) => `<tr>${row.map((cell, i) => `<td${cls(block.columns[i])}>${escapeHtml(cell)}</td>`).join('')}</tr>`)
          .join('\n');
  const note =
    block.total > block.rows.length
      ? t(lang, 'table.top_of', { shown: block.rows.length, total: block.total })
      : t(lang, 'table.rows', { total: block.total });
  const caption = block.title ? `<figcaption>${escapeHtml(block.title)}</figcaption>\n` : '';
  return `<figure class="table">
${caption}<div class="table-scroll"><table>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>
<p class="table-note">${escapeHtml(note)}</p>
</figure>`;
}

/**
 * The page's own script: read the chart specs, register the number formatter the specs refer
 * to (`"formatType": "localeFormat"`), and draw each chart as SVG. `ast: true` makes Vega
 * interpret expressions instead of compiling them with `new Function`, which the CSP forbids.
 * Vega's warnings stay out of the reader's console (authors see them when the notebook renders);
 * errors still show. The <html> element's data-charts attribute ends as 'ready' or 'failed'
 * (tests wait for it).
 */
function pageScript(): string {
  return `(function () {
  'use strict';
  var root = document.documentElement;
  var report = JSON.parse(document.getElementById('crm-report-data').textContent);
  var format = (${VALUE_FORMAT_SOURCE})(report.lang);
  vega.expressionFunction(${JSON.stringify(LOCALE_FORMAT_FUNCTION)}, function (value, spec) { return format(value, spec); });
  var jobs = report.charts.map(function (chart) {
    var el = document.getElementById(chart.target);
    return vegaEmbed(el, chart.spec, { actions: false, renderer: 'svg', ast: true, logLevel: vega.Error }).catch(function (err) {
      el.classList.add('chart-error');
      el.textContent = report.labels.chartFailed + ': ' + (err && err.message ? err.message : String(err));
      console.error('chart ' + chart.id + ':', err);
      throw err;
    });
  });
  Promise.allSettled(jobs).then(function (results) {
    var ok = results.every(function (r) { return r.status === 'fulfilled'; });
    root.setAttribute('data-charts', ok ? 'ready' : 'failed');
  });
})();`;
}

const STYLE = `
:root {
  --ink: #0f172a; --text: #1e293b; --muted: #475569; --faint: #64748b; --line: #e2e8f0;
  --panel: #f8fafc; --accent: #2563eb;
  --font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Noto Sans Mono CJK SC", monospace;
}
html[lang^="zh"] { --font: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--text); font: 15px/1.65 var(--font); -webkit-font-smoothing: antialiased; }
.page { max-width: 1040px; margin: 0 auto; padding: 40px 32px 56px; }
.report-header { border-bottom: 2px solid var(--ink); padding-bottom: 16px; margin-bottom: 28px; }
h1 { color: var(--ink); font-size: 30px; line-height: 1.25; margin: 0 0 6px; letter-spacing: -0.01em; }
h2 { color: var(--ink); font-size: 21px; line-height: 1.3; margin: 8px 0 12px; }
h3 { color: var(--ink); font-size: 16px; line-height: 1.4; margin: 20px 0 8px; }
p, ul, ol { margin: 0 0 12px; max-width: 78ch; }
li { margin: 2px 0; }
a { color: var(--accent); }
strong { color: var(--ink); }
code { font-family: var(--mono); font-size: 0.9em; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px; overflow-x: auto; }
pre code { border: 0; padding: 0; }
blockquote { margin: 0 0 12px; padding: 4px 16px; border-left: 3px solid var(--line); color: var(--muted); }
.meta { color: var(--faint); font-size: 13px; margin: 0; }
.notice { background: #fff7ed; border: 1px solid #fed7aa; border-radius: 8px; padding: 8px 12px; }
section { margin: 0 0 36px; }
section + section { border-top: 1px solid var(--line); padding-top: 20px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin: 16px 0 24px; }
.kpi { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px 12px; }
.kpi-label { color: var(--muted); font-size: 12.5px; font-weight: 600; }
html[lang="en-US"] .kpi-label { text-transform: uppercase; letter-spacing: 0.04em; font-size: 11.5px; }
.kpi-value { color: var(--ink); font-size: 27px; font-weight: 700; line-height: 1.3; font-variant-numeric: tabular-nums; margin-top: 2px; }
.kpi-note { color: var(--faint); font-size: 12.5px; margin-top: 2px; }
figure { margin: 20px 0 28px; }
figure.chart { border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px 10px; }
.chart-title { margin: 0; }
.takeaway { color: var(--muted); margin: 2px 0 10px; max-width: none; }
.chart-view { width: 100%; min-height: 60px; }
.chart-view .vega-embed { width: 100%; }
.chart-error { color: #b91c1c; background: #fef2f2; border-radius: 6px; padding: 12px; }
figcaption { color: var(--ink); font-weight: 600; margin: 0 0 8px; }
.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--panel); color: var(--muted); font-size: 12.5px; font-weight: 600; border-bottom-color: #cbd5e1; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.empty { color: var(--faint); text-align: center; }
.table-note { color: var(--faint); font-size: 12.5px; margin: 6px 0 0; }
footer { color: var(--faint); font-size: 12px; border-top: 1px solid var(--line); padding-top: 12px; margin-top: 40px; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { font-size: 10.5pt; }
  .page { max-width: none; padding: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  figure, .kpi, tr { break-inside: avoid; }
  h2, h3, figcaption { break-after: avoid; }
  section + section { border-top: 0; }
  .table-scroll { overflow: visible; }
}
`;
