/**
 * Charts in Node: a Vega-Lite spec (data inline) → Vega → SVG string, and SVG → PNG through
 * resvg. Nothing here touches the network: external data URLs are refused by the loader.
 *
 * Chinese text needs a CJK font twice: Vega must budget the right width for each label (there
 * is no canvas in Node to measure with, so we estimate per character, counting CJK glyphs as
 * full-width), and resvg must have a font with the glyphs (we load the Noto CJK files
 * explicitly, besides the system fonts, and warn once when there are none).
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg, renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import { displayWidth } from '../util/format.js';
import { valueFormatFor, type Lang } from './i18n.js';
import { outputError, messageOf } from '../util/errors.js';
import { preloadFaces, subsetFonts } from './font-subset.js';

export { CHART_FONT_FAMILY, LOCALE_FORMAT_FUNCTION, chartConfig, isSingleView, styleChart, type ChartSpec, type ChartTarget } from './chart-style.js';
import { LOCALE_FORMAT_FUNCTION, styleChart, type ChartSpec } from './chart-style.js';

/** PNG pixels per SVG pixel: sharp on high-density screens and in slides. */
const DEFAULT_PNG_SCALE = 2;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Vega in Node

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
}
interface TextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

/**
 * Text width without a canvas: per-character widths close to Noto Sans CJK's (CJK and
 * full-width forms 1em). Vega's own estimate (0.8em for every character) leaves Chinese labels
 * too little room, so axis titles overlap them.
 */
export function estimateTextWidth(text: string, fontSize: number, bold = false): number {
  let ems = 0;
  for (const ch of text) {
    if (displayWidth(ch) === 2) ems += 1;
    else if (ch === ' ') ems += 0.23;
    else if (/[iIjl.,:;'|!()[\]]/.test(ch)) ems += 0.28;
    else if (/[mwMW%]/.test(ch)) ems += 0.8;
    else if (/[A-Z]/.test(ch)) ems += 0.62;
    else if (/[0-9]/.test(ch)) ems += 0.55;
    else ems += 0.5;
  }
  return ems * fontSize * (bold ? 1.05 : 1);
}

let nodeVegaReady = false;

/**
 * The per-language names of the `localeFormat` function in Node. Vega's expression functions
 * are process-wide, so an English and a Chinese chart rendering at the same time must not share
 * one name; file renders rewrite `formatType` to these (the HTML page has one language and
 * registers `localeFormat` itself).
 */
const NODE_FORMAT_FUNCTION: Record<Lang, string> = { en: `${LOCALE_FORMAT_FUNCTION}_en`, zh: `${LOCALE_FORMAT_FUNCTION}_zh` };

/** One-time setup of the process-wide Vega registries this module relies on. */
function prepareVega(): void {
  if (nodeVegaReady) return;
  // Vega documents replacing textMetrics.width as the way to measure text without a canvas.
  const metrics = (vega as unknown as { textMetrics: TextMetrics }).textMetrics;
  metrics.width = (item, text) => {
    const size = item.fontSize === undefined || item.fontSize === null ? 11 : Number(item.fontSize) || 0;
    const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
    return estimateTextWidth(text === null || text === undefined ? '' : String(text).trim(), size, bold);
  };
  for (const lang of ['en', 'zh'] as const) vega.expressionFunction(NODE_FORMAT_FUNCTION[lang], valueFormatFor(lang));
  nodeVegaReady = true;
}

/** Point every `"formatType": "localeFormat"` in a spec at the Node function for `lang`. */
function useNodeFormatFunction(value: unknown, lang: Lang): unknown {
  if (Array.isArray(value)) return value.map((v) => useNodeFormatFunction(v, lang));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      if (key === 'datasets' || key === 'values') return [key, v];
      if (key === 'formatType' && v === LOCALE_FORMAT_FUNCTION) return [key, NODE_FORMAT_FUNCTION[lang]];
      return [key, useNodeFormatFunction(v, lang)];
    }),
  );
}

/** A loader that refuses every URL: report data must be inline so that nothing is fetched. */
function offlineLoader(): vega.Loader {
  const refuse = async (uri: string): Promise<never> => {
    throw new Error(`charts cannot load '${uri}': data must come from the notebook's queries`);
  };
  return { load: refuse, sanitize: refuse, http: refuse, file: refuse };
}

/** Collects Vega-Lite's and Vega's warnings and errors instead of printing them. */
function collectingLogger(warnings: string[], errors: string[] = []) {
  const log = vega.logger(vega.Warn);
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  log.warn = (...args: unknown[]) => {
    warnings.push(text(args));
    return log;
  };
  log.error = (...args: unknown[]) => {
    // Vega logs some failures (data that cannot load, bad expressions) and draws on regardless.
    errors.push(text(args));
    return log;
  };
  return log;
}

export interface CompiledChart {
  vegaSpec: vega.Spec;
  warnings: string[];
}

/** Compile Vega-Lite to Vega. Throws the compiler's error for an invalid spec. */
export function compileChart(spec: ChartSpec): CompiledChart {
  const warnings: string[] = [];
  const { spec: vegaSpec } = compile(spec as unknown as TopLevelSpec, { logger: collectingLogger(warnings) });
  return { vegaSpec: vegaSpec as vega.Spec, warnings };
}

export interface SvgChart {
  svg: string;
  vegaSpec: vega.Spec;
  warnings: string[];
}

/** Vega-Lite spec (already styled, data inline) → SVG markup. */
export async function chartToSvg(spec: ChartSpec, lang: Lang): Promise<SvgChart> {
  return (await runChart(spec, lang)).toSvg();
}

/** A chart whose Vega dataflow has run: only its SVG markup is left to write (or `dispose`). */
export interface RunChart {
  vegaSpec: vega.Spec;
  warnings: string[];
  /** The SVG markup (once); the view is finalized after it. */
  toSvg(): Promise<SvgChart>;
  /** Finalize the view without drawing it. */
  dispose(): void;
}

/**
 * Compile and run a chart's Vega dataflow (most of the time drawing takes), leaving the SVG
 * markup for `toSvg`. Two steps because Vega numbers the clip paths of every SVG it writes in one
 * process-wide sequence: a notebook runs its charts while its SQL runs, in whatever order their
 * queries finish, and writes their SVGs in document order, so the files are the same whatever
 * the order they ran in.
 */
export async function runChart(spec: ChartSpec, lang: Lang): Promise<RunChart> {
  prepareVega();
  const { vegaSpec, warnings } = compileChart(useNodeFormatFunction(spec, lang) as ChartSpec);
  const errors: string[] = [];
  const logger = collectingLogger(warnings, errors);
  const view = new vega.View(vega.parse(vegaSpec), { renderer: 'none', loader: offlineLoader(), logger });
  try {
    await view.runAsync();
    // A chart that Vega could only half draw is an error, not a picture with holes. (Vega
    // reports data it could not load as a warning.)
    const failures = [...errors, ...warnings.filter((w) => w.startsWith('Loading failed'))];
    if (failures.length > 0) throw new Error(failures.join('; '));
  } catch (err) {
    view.finalize();
    throw err;
  }
  return {
    vegaSpec,
    warnings,
    toSvg: async () => {
      try {
        return { svg: await view.toSVG(), vegaSpec, warnings };
      } finally {
        view.finalize();
      }
    },
    dispose: () => view.finalize(),
  };
}

// ---------------------------------------------------------------------------------------------
// Fonts and PNG

const HOME = process.env.HOME;
const FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts', ...(HOME ? [path.join(HOME, '.fonts'), path.join(HOME, '.local/share/fonts')] : [])];
const CJK_FONT_FILE = /Noto(Sans|Serif)CJK|NotoSans(SC|CJKsc)|SourceHanSans/i;

let cjkFontCache: string[] | undefined;
let cjkFontSearch: Promise<string[]> | undefined;

const FC_LIST_ARGS = [':lang=zh', 'file'];

/**
 * Noto/Source Han CJK font files on this machine, sans before serif, regular before bold. Found by
 * walking the usual font folders; `fc-list` is asked too, for fonts installed elsewhere.
 */
export function findCjkFonts(): string[] {
  if (cjkFontCache) return cjkFontCache;
  let listed = '';
  try {
    listed = execFileSync('fc-list', FC_LIST_ARGS, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
  } catch {
    /* no fontconfig: the walk is enough */
  }
  cjkFontCache = cjkFontsOf(listed);
  return cjkFontCache;
}

/** findCjkFonts without blocking this thread on `fc-list` (warmUpCharts runs it beside the SQL cells). */
function findCjkFontsAsync(): Promise<string[]> {
  if (cjkFontCache) return Promise.resolve(cjkFontCache);
  cjkFontSearch ??= new Promise((resolve) => {
    execFile('fc-list', FC_LIST_ARGS, { encoding: 'utf8', timeout: 5000 }, (err, stdout) => {
      // Whichever finishes first fills the cache: both find the same files.
      cjkFontCache ??= cjkFontsOf(err ? '' : stdout);
      resolve(cjkFontCache);
    }).stdin?.end();
  });
  return cjkFontSearch;
}

/** The CJK font files under the usual font folders and in `fc-list`'s output, ranked. */
function cjkFontsOf(listed: string): string[] {
  const found = new Set<string>();
  for (const dir of FONT_DIRS) for (const file of walkFonts(dir)) if (CJK_FONT_FILE.test(path.basename(file))) found.add(file);
  for (const line of listed.split('\n')) {
    const file = line.replace(/:\s*$/, '').trim();
    if (file && CJK_FONT_FILE.test(path.basename(file))) found.add(file);
  }
  const rank = (f: string) => (/Serif/i.test(f) ? 2 : 0) + (/Regular/i.test(f) ? 0 : 1);
  return [...found].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function* walkFonts(dir: string, depth = 0): Generator<string> {
  if (depth > 6) return;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walkFonts(full, depth + 1);
    else if (/\.(ttc|otf|ttf)$/i.test(e.name)) yield full;
  }
}

/** The CJK files charts need: the sans faces when there are any (charts never ask for serif). */
function chartFontFiles(): string[] {
  const all = findCjkFonts();
  const sans = all.filter((f) => !/Serif/i.test(path.basename(f)));
  return sans.length > 0 ? sans : all;
}

/** Whether text contains CJK (or other full-width) characters. */
export function containsCjk(text: string): boolean {
  return /[\u2e80-\u9fff\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]/.test(text);
}

export interface PngOptions {
  scale?: number;
  /** Font files to load besides the system fonts; default: the sans CJK fonts `findCjkFonts` finds. */
  fontFiles?: string[];
  /** Load the system's fonts too (default true). Tests turn it off to render without any font. */
  loadSystemFonts?: boolean;
  /** Told (once per function) when the SVG has CJK text and no CJK font was found. */
  warn?: (message: string) => void;
}

/** The warn functions already told that CJK fonts are missing: one warning per render, not per chart. */
const toldNoCjkFont = new WeakSet<(message: string) => void>();

export interface RasterImage {
  png: Buffer;
  width: number;
  height: number;
  /** RGBA bytes, row by row: for checking what was drawn. */
  pixels: Buffer;
}

/** resvg's options for rasterising `svg` (and the one-time warning when CJK text has no font). */
function resvgOptions(svg: string, opts: PngOptions): ResvgRenderOptions {
  const scale = opts.scale ?? DEFAULT_PNG_SCALE;
  const fontFiles = opts.fontFiles ?? chartFontFiles();
  const loadSystemFonts = opts.loadSystemFonts ?? true;
  if (opts.warn && fontFiles.length === 0 && containsCjk(svg) && !toldNoCjkFont.has(opts.warn)) {
    toldNoCjkFont.add(opts.warn);
    opts.warn(
      'no CJK font found: Chinese text in PNG charts will be missing. Install Noto Sans CJK (Debian: apt-get install fonts-noto-cjk; or run scripts/install-system-deps.sh).',
    );
  }
  const primary = fontFiles.length > 0 ? 'Noto Sans CJK SC' : 'DejaVu Sans';
  return {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts, fontFiles, defaultFontFamily: primary, sansSerifFamily: primary },
    logLevel: 'off',
  };
}

/** Rasterise SVG markup with resvg. */
export function svgToPng(svg: string, opts: PngOptions = {}): RasterImage {
  const image = new Resvg(svg, resvgOptions(svg, opts)).render();
  return { png: image.asPng(), width: image.width, height: image.height, pixels: image.pixels };
}

/**
 * The PNG bytes of SVG markup, rasterised off the main thread (resvg's `renderAsync` runs on
 * libuv's thread pool): the charts of a report rasterise side by side, the same bytes as `svgToPng`.
 */
export async function svgToPngAsync(svg: string, opts: PngOptions = {}): Promise<Buffer> {
  const image = await renderAsync(svg, resvgOptions(svg, opts));
  return image.asPng();
}

// ---------------------------------------------------------------------------------------------
// PNGs off the main thread

/** The worker's module (dist/src/reports/png-worker.js); absent when running from the sources. */
const PNG_WORKER = new URL('./png-worker.js', import.meta.url);

/**
 * Worker threads that rasterise charts (png-worker.ts), one per core up to four: resvg encodes
 * each PNG on the thread that asks for it, so a report's charts encoded one after the other on
 * the main thread. Started with the chart renderer (warmUpCharts, while the SQL cells run) and
 * stopped after the chart files are written. A job a worker cannot do (no worker module, a
 * worker that failed) is done on this thread by `svgToPngAsync`: the same calls, the same bytes.
 */
export class PngWorkers {
  private readonly workers: { worker: Worker; pending: Map<number, { svg: string; options: ResvgRenderOptions; resolve: (png: Buffer) => void; reject: (err: Error) => void }> }[] = [];
  private nextId = 0;
  private broken = false;
  /** PNGs the workers made (the others were made on this thread). */
  drawnOnWorkers = 0;

  constructor(
    count: number,
    private readonly module: URL = PNG_WORKER,
  ) {
    for (let i = 0; i < count; i++) this.start();
  }

  private start(): void {
    let worker: Worker;
    try {
      worker = new Worker(this.module);
    } catch {
      this.broken = true;
      return;
    }
    worker.unref();
    const entry = { worker, pending: new Map() as PngWorkers['workers'][number]['pending'] };
    this.workers.push(entry);
    worker.on('message', (reply: { id: number; png?: Uint8Array; error?: string }) => {
      const job = entry.pending.get(reply.id);
      if (!job) return;
      entry.pending.delete(reply.id);
      if (entry.pending.size === 0) worker.unref();
      if (reply.png) this.drawnOnWorkers++;
      if (reply.png) job.resolve(Buffer.from(reply.png.buffer, reply.png.byteOffset, reply.png.byteLength));
      else job.reject(new Error(reply.error ?? 'the PNG worker failed'));
    });
    // A worker that dies hands its jobs back to this thread, and no new job goes to it.
    const fail = () => {
      const at = this.workers.indexOf(entry);
      if (at >= 0) this.workers.splice(at, 1);
      for (const job of entry.pending.values()) renderAsync(job.svg, job.options).then((image) => job.resolve(image.asPng()), job.reject);
      entry.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
  }

  /** The PNG bytes of `svg`: `svgToPngAsync`'s, made on a worker. */
  render(svg: string, opts: PngOptions = {}): Promise<Buffer> {
    const options = resvgOptions(svg, opts);
    const entry = this.broken ? undefined : [...this.workers].sort((a, b) => a.pending.size - b.pending.size)[0];
    if (!entry) return renderAsync(svg, options).then((image) => image.asPng());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      entry.pending.set(id, { svg, options, resolve, reject });
      // An idle worker does not keep the process alive; one with a job does (the caller awaits it).
      entry.worker.ref();
      entry.worker.postMessage({ id, svg, options });
    });
  }

  stop(): void {
    const workers = this.workers.splice(0);
    for (const { worker, pending } of workers) {
      // Jobs still running finish on this thread (stop is called after they are all done).
      worker.removeAllListeners('exit');
      for (const job of pending.values()) renderAsync(job.svg, job.options).then((image) => job.resolve(image.asPng()), job.reject);
      void worker.terminate();
    }
  }
}

let pngWorkers: PngWorkers | null = null;

/** Start the PNG workers (when the worker module is there: it is in dist/, not in the sources). */
function startPngWorkers(): void {
  if (pngWorkers || !fs.existsSync(fileURLToPath(PNG_WORKER))) return;
  pngWorkers = new PngWorkers(Math.max(1, Math.min(4, os.availableParallelism())));
}

/** Stop the PNG workers, if started (their next use starts them again). */
export function stopPngWorkers(): void {
  pngWorkers?.stop();
  pngWorkers = null;
}

/** `svgToPngAsync`, on a PNG worker when they are started. */
async function chartPng(svg: string, opts: PngOptions): Promise<Buffer> {
  return pngWorkers ? pngWorkers.render(svg, opts) : svgToPngAsync(svg, opts);
}

// ---------------------------------------------------------------------------------------------
// Fonts for a batch of PNGs

/** Regular and bold first: the weights charts use (400 for labels, 600 for titles). */
function chartFaceFiles(): string[] {
  const sans = chartFontFiles();
  const regularAndBold = sans.filter((f) => /[-_](Regular|Bold)\./i.test(path.basename(f)));
  return regularAndBold.length > 0 ? regularAndBold : sans;
}

let fallbackFontCache: string[] | undefined;

/** The machine's other (non-CJK) fonts: fallbacks for characters the CJK subset lacks. */
function fallbackFontFiles(): string[] {
  fallbackFontCache ??= FONT_DIRS.flatMap((dir) => [...walkFonts(dir)]).filter((f) => !CJK_FONT_FILE.test(path.basename(f)));
  return fallbackFontCache;
}

/**
 * Do the one-time work of drawing and rasterising charts now: Vega's set-up, finding the fonts
 * and loading the CJK faces that `chartFonts` subsets. A notebook calls it while its SQL cells
 * run (the main thread only waits for DuckDB then), so the charts start at once afterwards.
 */
export function warmUpCharts(): void {
  startPngWorkers();
  prepareVega();
  // A failure here surfaces where the charts load the faces again (chartFonts).
  findCjkFontsAsync()
    .then(() => {
      preloadFaces(chartFaceFiles());
      fallbackFontFiles();
    })
    .catch(() => undefined);
}

export interface ChartFonts {
  /** What `svgToPng` needs: pass these as its options. */
  png: Pick<PngOptions, 'fontFiles' | 'loadSystemFonts'>;
  /** Whether the CJK fonts were cut down to the charts' characters. */
  subset: boolean;
  /** Remove temporary font files. */
  dispose(): void;
}

/**
 * Fonts for rasterising a batch of SVG charts: the CJK faces subset to the characters of all of
 * them (see font-subset.ts: a chart with Noto CJK takes ~1 s to rasterise, with the subset a few
 * tens of ms), plus the machine's other fonts as fallbacks. Without a CJK font, or if subsetting
 * fails, the plain defaults of `svgToPng`.
 */
export function chartFonts(svgs: string[]): ChartFonts {
  const faces = chartFaceFiles();
  const subset = faces.length > 0 ? subsetFonts(faces, svgs) : null;
  if (!subset) return { png: {}, subset: false, dispose: () => undefined };
  return {
    png: { fontFiles: [...subset.files, ...fallbackFontFiles()], loadSystemFonts: false },
    subset: true,
    dispose: subset.dispose,
  };
}

// ---------------------------------------------------------------------------------------------
// Files

export interface ChartFiles {
  name: string;
  specFile: string;
  svgFile: string;
  pngFile: string;
}

export interface WriteChartOptions {
  lang?: Lang;
  /** File name stem; default the chart name (Chinese renders add `.zh` so both can share a folder). */
  stem?: string;
  png?: PngOptions;
}

/** A chart compiled and drawn as SVG, not yet written. */
export interface PreparedChart {
  name: string;
  stem: string;
  /** The spec as written to STEM.vl.json: house style and file width applied. */
  styled: ChartSpec;
  svg: string;
  warnings: string[];
}

/** Style, compile and draw a chart as SVG (throws the compiler's error for an invalid spec). */
export async function prepareChart(name: string, spec: ChartSpec, opts: { lang?: Lang; stem?: string } = {}): Promise<PreparedChart> {
  return (await startChart(name, spec, opts)).finish();
}

/** A chart styled, compiled and run (see runChart), its SVG not yet written. */
export interface StartedChart {
  warnings: string[];
  finish(): Promise<PreparedChart>;
  dispose(): void;
}

/** `prepareChart` in two steps: run the chart now, write its SVG with `finish` (see runChart). */
export async function startChart(name: string, spec: ChartSpec, opts: { lang?: Lang; stem?: string } = {}): Promise<StartedChart> {
  const lang = opts.lang ?? 'en';
  const styled = styleChart(spec, lang, 'file');
  const run = await runChart(styled, lang);
  return {
    warnings: run.warnings,
    finish: async () => {
      const { svg, warnings } = await run.toSvg();
      return { name, stem: opts.stem ?? name, styled, svg, warnings };
    },
    dispose: run.dispose,
  };
}

/** Write a prepared chart to charts/STEM.vl.json, .svg and .png under `outDir`. */
export async function writeChartFiles(outDir: string, chart: PreparedChart, png: PngOptions = {}): Promise<ChartFiles> {
  const pngBytes = await chartPng(chart.svg, png);
  const dir = path.join(outDir, 'charts');
  const files: ChartFiles = {
    name: chart.name,
    specFile: path.join(dir, `${chart.stem}.vl.json`),
    svgFile: path.join(dir, `${chart.stem}.svg`),
    pngFile: path.join(dir, `${chart.stem}.png`),
  };
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(files.specFile, JSON.stringify(chart.styled, null, 2) + '\n');
    fs.writeFileSync(files.svgFile, chart.svg);
    fs.writeFileSync(files.pngFile, pngBytes);
  } catch (err) {
    throw outputError(`cannot write the chart files for '${chart.name}' in ${dir}: ${messageOf(err)}`);
  }
  return files;
}

/**
 * Render a Vega-Lite spec to charts/STEM.vl.json, .svg and .png under `outDir`. For many charts,
 * prefer `prepareChart` for each, one `chartFonts` for all, then `writeChartFiles`.
 */
export async function writeChart(outDir: string, name: string, spec: ChartSpec, opts: WriteChartOptions = {}): Promise<ChartFiles & { warnings: string[] }> {
  const chart = await prepareChart(name, spec, opts);
  const fonts = opts.png?.fontFiles === undefined ? chartFonts([chart.svg]) : null;
  try {
    return { ...(await writeChartFiles(outDir, chart, { ...fonts?.png, ...opts.png })), warnings: chart.warnings };
  } finally {
    fonts?.dispose();
  }
}
