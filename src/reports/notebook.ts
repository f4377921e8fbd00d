/**
 * Render a Markdown notebook (docs/notebooks.md) into one self-contained HTML report plus
 * charts/*.{vl.json,svg,png}. SQL cells run first, on read-only connections of their own to the
 * store (with the i18n dictionary registered; cells that do not read one another on two
 * connections at once, see runQueries); then prose, tables, KPI cards and charts are laid out in
 * document order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Marked, type Token, type Tokens, type TokensList } from 'marked';
import type { DuckDBConnection } from '@duckdb/node-api';
import { StatementType } from '../store/duckdb.js';
import { ident, readerObjects, type Row, type Store } from '../store/db.js';
import { isQueryOnly, leadingKeyword, lockToStore, refusedPath } from '../store/query.js';
import { CrmError, inputError, messageOf, outputError, queryError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import {
  columnLabel,
  DEFAULT_LANG,
  defaultFormat,
  formatValue,
  isLocalizedText,
  localize,
  localizeTree,
  registerSqlDictionary,
  type Lang,
  type LocalizedText,
  type ValueFormat,
} from './i18n.js';
import {
  cellLocation,
  conditionMarkerInLines,
  displayPath,
  hasConditions,
  lineAt,
  lineLocation,
  parseCellJson,
  parseFormat,
  parseNotebook,
  replacePlaceholders,
  selectConditions,
  selectLanguage,
  stripConditionMarkers,
  type Cell,
  type Condition,
  type ParsedNotebook,
  type Placeholder,
} from './notebook-syntax.js';
import { escapeHtml, renderReportHtml, type KpiCard, type ReportBlock, type ReportSection, type TableColumn } from './html.js';
import { LOCALE_FORMAT_FUNCTION, type ChartSpec } from './chart-style.js';
import type { ChartFiles, PreparedChart, StartedChart } from './render.js';

/** The chart renderer (Vega, Vega-Lite, resvg), loaded and warmed up on demand (see renderNotebook). */
type ChartRenderer = typeof import('./render.js');

async function loadChartRenderer(): Promise<ChartRenderer> {
  const renderer = await import('./render.js');
  renderer.warmUpCharts();
  return renderer;
}

export interface RenderNotebookOptions {
  /**
   * The store the SQL cells read. Open it read-only: cells are refused any write either way.
   * Rendering locks it to itself (see store/query.ts, lockToStore): no cell can open a file,
   * URL or other database, and the store stays locked until it is closed.
   */
  store: Store;
  /** An absolute folder whose files the cells may read (`--allow-files DIR`); nothing else is. */
  allowFiles?: string;
  /** Where the HTML file and charts/ go (created if missing). */
  outDir: string;
  lang?: Lang;
  /** The HTML file name; default `<notebook>.html` (`<notebook>.zh.html` in Chinese). */
  htmlName?: string;
  /** Rows a table cell shows unless it sets `limit`. */
  tableLimit?: number;
  /** A chart embeds its data; more rows than this is an error (aggregate in SQL instead). */
  maxChartRows?: number;
  /** Warnings (Vega-Lite notes, untranslated strings) go here as well as into the result. */
  reporter?: Reporter;
  /** The "generated" date shown in the report (tests pin it). */
  now?: Date;
  /**
   * Called on each of the notebook's own connections before the SQL cells run (the i18n dictionary is
   * registered by then): create the temporary views the cells read (`crm report` creates
   * `report_run`, `report_customers`, …). Names of temporary objects cannot be query names.
   */
  prepare?: (conn: DuckDBConnection) => Promise<void>;
  /**
   * Called once the SQL cells are done and the charts' PNGs are rasterising on their worker
   * threads (or right after the SQL when there are no charts): the caller may close the store
   * then, while the workers run, instead of after the render. The render reads the store no more.
   */
  storeDone?: () => void;
}

const DEFAULTS = { tableLimit: 10, maxChartRows: 5000 };

export interface QueryRun {
  name: string;
  rows: number;
  ms: number;
}

/**
 * Where a render's time went, in ms, in the order the steps run: `prepare` (the i18n dictionary
 * and the caller's views), `sql` (every SQL cell; each one's time is in `queries`), `charts`
 * (Vega-Lite → Vega → SVG after the SQL: most charts run while it does, see EarlyCharts),
 * `chart_files` (font subset, PNGs and the chart files), `html` (layout and the HTML file).
 */
export interface RenderPhases {
  prepare: number;
  sql: number;
  charts: number;
  chart_files: number;
  html: number;
}

export interface RenderNotebookResult {
  htmlFile: string;
  /** Size of the HTML file in bytes. */
  bytes: number;
  charts: ChartFiles[];
  queries: QueryRun[];
  phases: RenderPhases;
  warnings: string[];
  ms: number;
}

interface QueryResult {
  cell: Cell;
  columns: string[];
  rows: Row[];
}

/** What every step of one render needs. */
interface Context {
  file: string;
  notebook: ParsedNotebook;
  lang: Lang;
  results: Map<string, QueryResult>;
  /** Report a warning: kept for the result and passed to the reporter. */
  warn: (message: string) => void;
}

export async function renderNotebook(file: string, opts: RenderNotebookOptions): Promise<RenderNotebookResult> {
  const started = performance.now();
  const lang = opts.lang ?? DEFAULT_LANG;
  const tableLimit = opts.tableLimit ?? DEFAULTS.tableLimit;
  const maxChartRows = opts.maxChartRows ?? DEFAULTS.maxChartRows;
  const text = readNotebookText(file, lang);
  // SQL cells run first and always (conditions may depend on them); markers are dropped for that pass.
  const notebook = parseNotebook(stripConditionMarkers(text), file, { uniqueCharts: !hasConditions(text) });
  checkNoConditionsInSql(notebook, text, file);
  const warnings: string[] = [];
  const ctx: Context = {
    file,
    notebook,
    lang,
    results: new Map(),
    warn: (message) => {
      warnings.push(message);
      opts.reporter?.warn(message);
    },
  };

  // Loading the chart renderer (~0.4 s) and its fonts happens while the SQL cells run: the main
  // thread only waits for DuckDB then. A failure to load surfaces where the charts need it.
  const renderer = notebook.segments.some((s) => s.kind === 'vega-lite') ? loadChartRenderer() : null;
  renderer?.catch(() => undefined);
  try {
    return await renderLoaded(ctx, opts, { text, renderer, tableLimit, maxChartRows, lang, started, warnings });
  } finally {
    // The PNG workers started with the renderer (render.ts) stop with the render, done or failed.
    await renderer?.then((r) => r.stopPngWorkers(), () => undefined);
  }
}

/** renderNotebook once the notebook is read and the chart renderer is loading. */
async function renderLoaded(
  ctx: Context,
  opts: RenderNotebookOptions,
  { text, renderer, tableLimit, maxChartRows, lang, started, warnings }: {
    text: string;
    renderer: Promise<ChartRenderer> | null;
    tableLimit: number;
    maxChartRows: number;
    lang: Lang;
    started: number;
    warnings: string[];
  },
): Promise<RenderNotebookResult> {
  const { file, notebook } = ctx;
  const suffix = lang === DEFAULT_LANG ? '' : `.${lang}`;
  const earlyCharts = renderer ? new EarlyCharts(ctx, renderer, maxChartRows, suffix) : null;
  await lockToStore(opts.store, opts.allowFiles === undefined ? [] : [opts.allowFiles]);
  const sqlStarted = performance.now();
  const { queries, prepareMs } = await runQueries(ctx, opts.store, opts.prepare, () => earlyCharts?.schedule());
  const chartsStarted = performance.now();
  await earlyCharts?.settled();
  const shown = hasConditions(text) ? showConditions(ctx, text) : notebook;

  const base = path.basename(file).replace(/\.(md|markdown)$/i, '');
  const prepared: PreparedChart[] = [];
  const items: LayoutItem[] = [];
  for (const segment of shown.segments) {
    if (segment.kind === 'prose') {
      items.push(...proseItems(ctx, segment.text, segment.line));
    } else if (segment.kind === 'table') {
      items.push({ kind: 'block', block: tableBlock(ctx, segment, tableLimit) });
    } else if (segment.kind === 'kpi') {
      items.push({ kind: 'block', block: kpiBlock(ctx, segment) });
    } else if (segment.kind === 'vega-lite') {
      const early = await earlyCharts?.take(segment);
      if (early) {
        for (const message of early.warnings) ctx.warn(message);
        prepared.push(await finishChart(ctx, segment, early.started));
        items.push({ kind: 'block', block: early.chart });
        continue;
      }
      const chart = chartBlock(ctx, segment, maxChartRows);
      prepared.push(await drawChart(ctx, (await renderer)!, segment, chart, `${segment.name}${suffix}`));
      items.push({ kind: 'block', block: chart });
    }
  }
  await earlyCharts?.dispose();
  const chartFilesStarted = performance.now();
  if (prepared.length === 0) opts.storeDone?.();
  const charts = prepared.length > 0 ? await writeCharts(ctx, (await renderer)!, prepared, opts.outDir, opts.storeDone) : [];
  const htmlStarted = performance.now();

  const { title, sections } = layout(items, base);
  const html = renderReportHtml({ lang, title, generatedAt: opts.now ?? new Date(), sections });
  const htmlFile = path.join(opts.outDir, opts.htmlName ?? `${base}${suffix}.html`);
  try {
    fs.mkdirSync(opts.outDir, { recursive: true });
    fs.writeFileSync(htmlFile, html);
  } catch (err) {
    throw outputError(`cannot write the report ${htmlFile}: ${messageOf(err)}`);
  }
  const ended = performance.now();
  const phases: RenderPhases = {
    prepare: prepareMs,
    sql: chartsStarted - sqlStarted - prepareMs,
    charts: chartFilesStarted - chartsStarted,
    chart_files: htmlStarted - chartFilesStarted,
    html: ended - htmlStarted,
  };
  return { htmlFile, bytes: Buffer.byteLength(html), charts, queries, phases, warnings, ms: ended - started };
}

/** The notebook's text for one language (blocks of other languages blanked, lines kept). */
function readNotebookText(file: string, lang: Lang): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw inputError(`cannot read the notebook ${displayPath(file)}: ${messageOf(err)}`);
  }
  return selectLanguage(text.replace(/\r\n?/g, '\n'), lang, file);
}

function checkNoConditionsInSql(notebook: ParsedNotebook, text: string, file: string): void {
  for (const cell of notebook.cells) {
    if (cell.kind !== 'sql') continue;
    const last = cell.bodyLine + cell.body.split('\n').length - 1;
    if (conditionMarkerInLines(text, cell.bodyLine, last)) {
      throw inputError(`${cellLocation(file, cell)}: conditions cannot be used inside a SQL cell`, [
        'SQL cells always run; put the condition around the cells that show the result, or use CASE in SQL.',
      ]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Conditional blocks

/** Whether a value counts as true for <!-- if:query.column -->. */
function truthy(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'bigint') return value !== 0n;
  if (typeof value === 'string') return value !== '';
  return true;
}

/**
 * The notebook with the branches of conditional blocks that the query results select. Cells
 * keep the numbers they had with every branch in (error messages match the first pass).
 */
function showConditions(ctx: Context, text: string): ParsedNotebook {
  const test = (c: Condition) => {
    const where = lineLocation(ctx.file, c.line);
    const result = lookupQuery(ctx, c.query, where);
    lookupColumn(result, c.column, where);
    return truthy(result.rows[0]?.[c.column]);
  };
  const shown = parseNotebook(selectConditions(text, ctx.file, test), ctx.file);
  const numbers = new Map(ctx.notebook.cells.map((c) => [c.line, c.index]));
  for (const cell of shown.cells) cell.index = numbers.get(cell.line) ?? cell.index;
  return shown;
}

// ---------------------------------------------------------------------------------------------
// SQL cells

/**
 * Run the SQL cells; `prepareMs`: the dictionary and the caller's `prepare` step before them.
 * `onResult` is told after each cell's result is in `ctx.results`.
 *
 * Cells that do not read one another (DuckDB's parse tree says which tables a cell reads) run on
 * two connections at once: a query's single-threaded stretches (a median, a window's sort, the
 * round trips of a small cell) then overlap another query. Temporary tables are per connection,
 * so each connection gets the dictionary and the `prepare` step, and a cell runs on the
 * connection that holds the cells it reads (see sqlLanes). The outcome is the sequential one: the
 * same results, the first failing cell's error, warnings in the cells' order.
 */
async function runQueries(
  ctx: Context,
  store: Store,
  prepare?: (conn: DuckDBConnection) => Promise<void>,
  onResult?: () => void,
): Promise<{ queries: QueryRun[]; prepareMs: number }> {
  const sqlCells = ctx.notebook.cells.filter((c) => c.kind === 'sql');
  if (sqlCells.length === 0) return { queries: [], prepareMs: 0 };
  // Connections of our own: the temporary i18n table and macros stay out of the caller's.
  const conns: DuckDBConnection[] = [];
  let second: Promise<DuckDBConnection | null> | null = null;
  const open = async (): Promise<DuckDBConnection> => {
    const conn = await store.instance.connect();
    conns.push(conn);
    await registerSqlDictionary(conn, ctx.lang);
    await prepare?.(conn);
    return conn;
  };
  try {
    const prepareStarted = performance.now();
    const first = await open();
    const prepareMs = performance.now() - prepareStarted;
    const trees = await sqlParseTrees(first, sqlCells);
    const groups = sqlCells.length > 1 ? sqlGroups(sqlCells, trees) : null;
    // The second connection gets ready while the first runs its cells (if it cannot, the first runs them all).
    second = groups ? open().catch(() => null) : null;

    const storeNames = await relationNames(first, false);
    const tempNames = await relationNames(first, true);
    // The first cell that cannot run: a name clash (found before any cell runs) or a failed cell.
    const stop: { index: number; error: unknown }[] = [];
    const fail = (index: number, error: unknown) => {
      if (stop.length === 0 || index < stop[0].index) stop[0] = { index, error };
    };
    sqlCells.forEach((cell, i) => {
      if (storeNames.has(cell.name.toLowerCase())) {
        fail(i, inputError(`${cellLocation(ctx.file, cell)}: the query name '${cell.name}' is also a table or view in the store`, [
          'Rename the cell: later cells read a query by its name, which would hide the table.',
        ]));
      } else if (tempNames.has(cell.name.toLowerCase())) {
        fail(i, inputError(`${cellLocation(ctx.file, cell)}: the query name '${cell.name}' is taken by the notebook's own views`, [
          `Rename the cell. Taken: ${[...tempNames].sort().join(', ')}.`,
        ]));
      }
    });

    const runs: (QueryRun | undefined)[] = [];
    const warnings: string[][] = sqlCells.map(() => []);
    // Each connection takes the next group of cells not started (groups in the order of their first cell).
    const queue = groups ?? [sqlCells.map((_, i) => i)];
    const worker = async (conn: DuckDBConnection | Promise<DuckDBConnection | null>) => {
      const c = await conn;
      if (!c) return;
      for (let group = queue.shift(); group; group = queue.shift()) {
        for (const i of group) {
          if (stop.length > 0 && stop[0].index <= i) break;
          const cell = sqlCells[i];
          const t0 = performance.now();
          try {
            const result = await runQueryCell({ ...ctx, warn: (message) => warnings[i].push(message) }, c, cell, queryOnly(trees[i]));
            ctx.results.set(cell.name, result);
            runs[i] = { name: cell.name, rows: result.rows.length, ms: performance.now() - t0 };
          } catch (err) {
            fail(i, err);
            break;
          }
          onResult?.();
        }
      }
    };
    await Promise.all([worker(first), ...(second ? [worker(second)] : [])]);
    const end = stop.length > 0 ? stop[0].index : sqlCells.length;
    for (const list of warnings.slice(0, end)) for (const message of list) ctx.warn(message);
    if (stop.length > 0) throw stop[0].error;
    return { queries: runs.filter((r): r is QueryRun => r !== undefined), prepareMs };
  } finally {
    await second;
    for (const conn of conns) conn.closeSync();
  }
}

/**
 * Each cell's DuckDB parse tree (json_serialize_sql: parse only, nothing runs or is bound), in one
 * query; undefined for all if that query fails (then the cells run on one connection, each
 * checked on its turn).
 */
export async function sqlParseTrees(conn: DuckDBConnection, cells: Cell[]): Promise<unknown[]> {
  try {
    const reader = await conn.runAndReadAll(
      `SELECT json_serialize_sql(sql) AS tree FROM unnest(from_json($1::VARCHAR, '["VARCHAR"]')) WITH ORDINALITY AS t(sql, n) ORDER BY n`,
      [JSON.stringify(cells.map((c) => c.body))],
    );
    const trees = readerObjects(reader).map((r) => JSON.parse(String(r.tree)) as unknown);
    if (trees.length === cells.length) return trees;
  } catch {
    /* no trees: one connection, and each cell checked on its turn */
  }
  return cells.map(() => undefined);
}

/** What store/query.ts's isQueryOnly answers for the cell, from its tree (undefined: ask it). */
function queryOnly(tree: unknown): boolean | null | undefined {
  if (tree === null || typeof tree !== 'object') return undefined;
  const t = tree as { error?: boolean; error_message?: string };
  if (!t.error) return true;
  return /^Only SELECT statements/.test(t.error_message ?? '') ? false : null;
}

/**
 * The SQL cells (their indexes) in groups that may run on different connections, in the order of
 * their first cell; each group runs in the cells' order on one connection. Cells that read one
 * another, or share a name, are in the same group (a cell reads another's result as a temporary
 * table of its connection). Which tables a cell reads comes from its parse tree (sqlParseTrees). Null
 * (one connection, the cells in order) when a cell's tree is not at hand (it does not parse or is
 * not a query: it fails on its turn), a cell names tables in strings (query_table, query), or all
 * cells are one group.
 */
export function sqlGroups(cells: Cell[], trees: unknown[]): number[][] | null {
  const names = cells.map((c) => c.name.toLowerCase());
  // Union-find over the cells.
  const parent = cells.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i])));
  for (let i = 0; i < cells.length; i++) {
    const read = tablesRead(trees[i]);
    if (read === null) return null;
    for (let j = 0; j < cells.length; j++) if (j !== i && (names[j] === names[i] || read.has(names[j]))) parent[root(i)] = root(j);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < cells.length; i++) groups.set(root(i), [...(groups.get(root(i)) ?? []), i]);
  return groups.size > 1 ? [...groups.values()] : null;
}

/** Lower-cased names of the tables a parse tree reads; null when unknown (see sqlLanes). */
function tablesRead(tree: unknown): Set<string> | null {
  const read = new Set<string>();
  let known = true;
  const walk = (node: unknown): void => {
    if (!known || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    const n = node as Record<string, unknown>;
    if (n.type === 'BASE_TABLE' && typeof n.table_name === 'string') read.add(n.table_name.toLowerCase());
    if (typeof n.function_name === 'string' && /^(query|query_table)$/i.test(n.function_name)) known = false;
    for (const value of Object.values(n)) walk(value);
  };
  if (tree === null || typeof tree !== 'object' || (tree as { error?: boolean }).error !== false) return null;
  walk(tree);
  return known ? read : null;
}

/** Lower-cased names of the store's own tables and views, or of the connection's temporary ones. */
async function relationNames(conn: DuckDBConnection, temporary: boolean): Promise<Set<string>> {
  const which = temporary ? 'temporary' : 'NOT temporary';
  const reader = await conn.runAndReadAll(
    `SELECT table_name AS name FROM duckdb_tables() WHERE ${which}
     UNION SELECT view_name FROM duckdb_views() WHERE ${which} AND NOT internal`,
  );
  return new Set(readerObjects(reader).map((r) => String(r.name).toLowerCase()));
}

/** A cell's statement without its final semicolon and trailing comments. */
function cellSelect(cell: Cell): string {
  return cell.body.replace(/;(\s|--[^\n]*)*$/, '');
}

/**
 * Run a query and keep its result as a temporary table on our connection, named after the cell:
 * later cells read it (`FROM customer_rfm`) without running it again and without writing to the
 * store. Null when the statement cannot be the source of a table (DESCRIBE, SUMMARIZE, …) or
 * fails: the caller then runs it the plain way, which reports any error properly.
 */
async function materializeQuery(conn: DuckDBConnection, cell: Cell): Promise<{ columns: string[]; rows: Row[] } | null> {
  // On the statement's first line, so that DuckDB's LINE numbers stay those of the cell. DESCRIBE
  // and SUMMARIZE cannot follow AS directly, but can as a subquery.
  const sources = [cellSelect(cell), `SELECT * FROM (${cellSelect(cell)}\n)`];
  let created = false;
  for (const source of sources) {
    try {
      await conn.run(`CREATE TEMP TABLE ${ident(cell.name)} AS ${source}\n`);
      created = true;
      break;
    } catch {
      /* try the next form; the caller reports a real error by running the statement itself */
    }
  }
  if (!created) return null;
  const reader = await conn.runAndReadAll(`SELECT * FROM ${ident(cell.name)}`);
  return { columns: reader.deduplicatedColumnNames(), rows: readerObjects(reader) };
}

/** The fallback for statements that cannot fill a table: a temporary view, so later cells can still read them. */
async function exposeQuery(ctx: Context, conn: DuckDBConnection, cell: Cell): Promise<void> {
  try {
    await conn.run(`CREATE TEMP VIEW ${ident(cell.name)} AS\n${cellSelect(cell)}\n`);
  } catch (err) {
    ctx.warn(`${cellLocation(ctx.file, cell)}: later cells cannot select from '${cell.name}': ${messageOf(err).split('\n')[0]}`);
  }
}

const READ_STATEMENTS = new Set<StatementType>([StatementType.SELECT]);

/** `queryOnly`: isQueryOnly's answer when the caller has it (runQueries, from the cell's parse tree). */
async function runQueryCell(ctx: Context, conn: DuckDBConnection, cell: Cell, queryOnly?: boolean | null): Promise<QueryResult> {
  const sql = cell.body;
  const where = cellLocation(ctx.file, cell, cell.bodyLine);
  if (sql.trim() === '') throw queryError(`${cellLocation(ctx.file, cell)}: the SQL cell is empty`);
  try {
    const statements = await conn.extractStatements(sql);
    if (statements.count !== 1) {
      throw queryError(`${where}: a SQL cell holds exactly one statement (this one has ${statements.count})`, [
        'Split it into several cells, or combine the steps with WITH … SELECT.',
      ]);
    }
    // Classified before it is prepared: binding may write (EXPORT DATABASE creates its folder,
    // and inside an --allow-files folder the lock would let it).
    if ((queryOnly === undefined ? await isQueryOnly(conn, sql) : queryOnly) === false) throw notReadOnly(where, leadingKeyword(sql));
    const prepared = await statements.prepare(0);
    if (!READ_STATEMENTS.has(prepared.statementType)) throw notReadOnly(where, StatementType[prepared.statementType]);
    const materialized = await materializeQuery(conn, cell);
    if (materialized) return { cell, ...materialized };
    const reader = await prepared.runAndReadAll();
    await exposeQuery(ctx, conn, cell);
    return { cell, columns: reader.deduplicatedColumnNames(), rows: readerObjects(reader) };
  } catch (err) {
    if (err instanceof CrmError) throw err;
    throw sqlError(ctx, cell, messageOf(err));
  }
}

function notReadOnly(where: string, statement: string | undefined): CrmError {
  const what = statement ? `${/^[AEIOU]/.test(statement) ? 'an' : 'a'} ${statement} statement` : 'not a query';
  return queryError(`${where}: SQL cells are read-only, and this is ${what}`, [
    'Notebooks only read the store: use SELECT (or WITH … SELECT, FROM …, DESCRIBE, SUMMARIZE).',
  ]);
}

/** A DuckDB error as a CrmError at the right line of the .md file (DuckDB counts lines from the cell). */
function sqlError(ctx: Context, cell: Cell, message: string): CrmError {
  const [first, ...context] = message.split('\n').filter((l) => l.trim() !== '');
  const lineInCell = /^LINE (\d+):/m.exec(message);
  const line = lineInCell ? cell.bodyLine + Number(lineInCell[1]) - 1 : cell.bodyLine;
  if (/read-only mode/i.test(message)) {
    return queryError(`${cellLocation(ctx.file, cell, line)}: SQL cells are read-only: ${first}`);
  }
  const file = refusedPath(message);
  if (file !== null) {
    return queryError(`${cellLocation(ctx.file, cell, line)}: notebooks read only the store: the cell cannot open "${file}"`, [
      'To let cells read files of your own, put them in one folder and pass --allow-files DIR (URLs are never read).',
    ]);
  }
  return queryError(`${cellLocation(ctx.file, cell, line)}: ${first}`, context);
}

// ---------------------------------------------------------------------------------------------
// Values from query results

function lookupQuery(ctx: Context, name: string, where: string): QueryResult {
  const result = ctx.results.get(name);
  if (result) return result;
  const known = [...ctx.results.keys()];
  throw inputError(`${where}: unknown query '${name}'`, [
    known.length ? `Queries in this notebook: ${known.join(', ')}.` : 'This notebook has no ```sql NAME cells.',
  ]);
}

function lookupColumn(result: QueryResult, column: string, where: string): void {
  if (!result.columns.includes(column)) {
    throw inputError(`${where}: query '${result.cell.name}' has no column '${column}'`, [`Its columns: ${result.columns.join(', ')}.`]);
  }
}

/** The text of one placeholder: the first row's value, formatted. */
function placeholderText(ctx: Context, p: Placeholder, where: string): string {
  const result = lookupQuery(ctx, p.query, where);
  lookupColumn(result, p.column, where);
  if (result.rows.length === 0) ctx.warn(`${where}: query '${p.query}' returned no rows, so {{${p.query}.${p.column}}} shows '–'`);
  const value = result.rows[0]?.[p.column] ?? null;
  return formatValue(ctx.lang, value, p.format ?? defaultFormat(value), p.digits);
}

/** Localise a notebook string and fill its placeholders (plain text out: escape it where it goes). */
function text(ctx: Context, value: string | LocalizedText, where: string): string {
  const localized = localize(value, ctx.lang, (en) => ctx.warn(`${where}: no ${ctx.lang} text for "${en}"; using the English`));
  return replacePlaceholders(localized, (p) => placeholderText(ctx, p, where), () => where);
}

function isTextOption(value: unknown): value is string | LocalizedText {
  return typeof value === 'string' || isLocalizedText(value);
}

// ---------------------------------------------------------------------------------------------
// Prose

/** A Markdown token (with the placeholder values of its prose segment) or a rendered cell. */
type LayoutItem =
  | { kind: 'token'; token: Token; links: TokensList['links']; values: string[] }
  | { kind: 'block'; block: ReportBlock };

/** Placeholders become private-use markers that Markdown leaves alone, swapped for escaped values after rendering. */
const MARK_OPEN = '\uE000';
const MARK_CLOSE = '\uE001';

/** Where a link may go: these schemes, or a target without one (relative path, #anchor). */
const LINK_SCHEMES = new Set(['http', 'https', 'mailto']);

/** The named references a link target may hold besides numeric ones (others stay literal text). */
const NAMED_REFERENCES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", colon: ':', Tab: '\t', NewLine: '\n', nbsp: '\u00a0' };

/** Character references decoded, as CommonMark reads a link target (marked leaves them in). */
function decodeReferences(text: string): string {
  return text.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]{1,31}));/g, (whole, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return NAMED_REFERENCES[name] ?? whole;
    const code = dec !== undefined ? Number(dec) : parseInt(hex ?? '', 16);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '\uFFFD';
  });
}

/**
 * A Markdown link target the report may keep: decoded, when its scheme (as a browser reads it:
 * leading spaces and controls dropped, tabs and newlines removed anywhere) is http, https or
 * mailto, or when it has none; null for javascript:, data:, vbscript:, file: and the rest.
 * The caller writes exactly the string returned (escaped), so the check sees what the browser will.
 */
export function safeLinkTarget(href: string): string | null {
  const target = decodeReferences(href);
  const parsed = target.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+/, '');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(parsed)?.[1];
  return scheme === undefined || LINK_SCHEMES.has(scheme.toLowerCase()) ? target : null;
}

function createMarkdown(): Marked {
  const md = new Marked({ gfm: true });
  md.use({
    renderer: {
      // Raw HTML in prose is shown as text (comments dropped): notebooks are Markdown, and the
      // page must not load or run anything the report did not put there itself.
      html: ({ text: raw }: Tokens.HTML | Tokens.Tag) => (/^\s*<!--[\s\S]*-->\s*$/.test(raw) ? '' : escapeHtml(raw)),
      // A link with any other target than safeLinkTarget allows is its text alone.
      link({ href, title, tokens }: Tokens.Link) {
        const text = this.parser.parseInline(tokens);
        const target = safeLinkTarget(href);
        if (target === null) return text;
        let encoded: string;
        try {
          encoded = encodeURI(target).replace(/%25/g, '%');
        } catch {
          return text; // a lone surrogate: not a URL
        }
        return `<a href="${escapeHtml(encoded)}"${title ? ` title="${escapeHtml(title)}"` : ''}>${text}</a>`;
      },
    },
  });
  return md;
}

const markdown = createMarkdown();

function proseItems(ctx: Context, source: string, firstLine: number): LayoutItem[] {
  const values: string[] = [];
  const masked = replacePlaceholders(
    source,
    (p) => {
      values.push(placeholderText(ctx, p, lineLocation(ctx.file, lineAt(source, p.start, firstLine))));
      return `${MARK_OPEN}${values.length - 1}${MARK_CLOSE}`;
    },
    (offset) => lineLocation(ctx.file, lineAt(source, offset, firstLine)),
  );
  const tokens = markdown.lexer(masked);
  markdown.walkTokens(tokens, (token) => {
    if (token.type === 'link') {
      // Values go into a target before it is checked: data cannot make a javascript: link either.
      token.href = plainFillValues(token.href, values);
      if (safeLinkTarget(token.href) === null) {
        const line = lineAt(masked, Math.max(0, masked.indexOf(token.raw)), firstLine);
        ctx.warn(`${lineLocation(ctx.file, line)}: the link to '${token.href}' is shown as text: links may go to http:, https:, mailto: or relative targets`);
      }
    }
    if (token.type === 'image' && !/^data:image\//i.test(token.href)) {
      const at = source.indexOf(token.href);
      throw inputError(`${lineLocation(ctx.file, lineAt(source, Math.max(0, at), firstLine))}: the image '${token.href}' is not embedded`, [
        'A report opens without network access: embed images as data: URLs, or leave them out.',
      ]);
    }
  });
  return tokens.map((token) => ({ kind: 'token', token, links: tokens.links, values }));
}

function fillValues(html: string, values: string[]): string {
  return html.replace(new RegExp(`${MARK_OPEN}(\\d+)${MARK_CLOSE}`, 'g'), (_, i: string) => escapeHtml(values[Number(i)] ?? ''));
}

function plainFillValues(text: string, values: string[]): string {
  return text.replace(new RegExp(`${MARK_OPEN}(\\d+)${MARK_CLOSE}`, 'g'), (_, i: string) => values[Number(i)] ?? '');
}

/**
 * Group items into sections (a level-2 heading opens one) and render runs of Markdown tokens
 * to HTML. The first level-1 heading is the report's title.
 */
function layout(items: LayoutItem[], fallbackTitle: string): { title: string; sections: ReportSection[] } {
  let title: string | undefined;
  const sections: ReportSection[] = [{ blocks: [] }];
  const current = () => sections[sections.length - 1];
  let run: Extract<LayoutItem, { kind: 'token' }>[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const tokens = Object.assign(
      run.map((r) => r.token),
      { links: run[0].links },
    );
    current().blocks.push({ kind: 'html', html: fillValues(markdown.parser(tokens), run[0].values) });
    run = [];
  };
  for (const item of items) {
    if (item.kind === 'block') {
      flush();
      current().blocks.push(item.block);
      continue;
    }
    const { token } = item;
    if (token.type === 'heading' && token.depth === 1 && title === undefined) {
      title = plainText(plainFillValues(token.text, item.values));
      continue;
    }
    if (token.type === 'heading' && token.depth === 2) {
      flush();
      sections.push({ blocks: [] });
    }
    // One run renders with one segment's placeholder values.
    if (run.length > 0 && run[0].values !== item.values) flush();
    run.push(item);
  }
  flush();
  return { title: title ?? humanize(fallbackTitle), sections: sections.filter((s) => s.blocks.length > 0) };
}

/** Heading Markdown as plain text: emphasis and code marks dropped, links reduced to their text. */
function plainText(markdownText: string): string {
  return markdownText
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`~]/g, '')
    .trim();
}

function humanize(name: string): string {
  const words = name.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// ---------------------------------------------------------------------------------------------
// Tables

interface TableOptions {
  title?: string | LocalizedText;
  limit?: number;
  columns?: Record<string, { label?: string | LocalizedText; format?: string }>;
}

function tableBlock(ctx: Context, cell: Cell, defaultLimit: number): ReportBlock {
  const where = cellLocation(ctx.file, cell);
  const body = parseCellJson(cell, ctx.file, {});
  if (!isPlainObject(body)) throw inputError(`${where}: a table cell's body is a JSON object of options (or empty)`);
  const options = body as TableOptions;
  if (options.title !== undefined && !isTextOption(options.title)) throw inputError(`${where}: "title" is a string or {"en": …, "zh": …}`);
  const result = lookupQuery(ctx, cell.name, where);
  const limit = options.limit ?? defaultLimit;
  if (!Number.isInteger(limit) || limit < 1) throw inputError(`${where}: "limit" must be a whole number of rows, at least 1`);
  const columnOptions = options.columns ?? {};
  if (!isPlainObject(columnOptions)) throw inputError(`${where}: "columns" maps column names to {"label": …, "format": …}`);
  for (const [name, option] of Object.entries(columnOptions)) {
    lookupColumn(result, name, where);
    if (!isPlainObject(option)) throw inputError(`${where}: column '${name}': give {"label": …, "format": …}`);
    if (option.label !== undefined && !isTextOption(option.label)) throw inputError(`${where}: column '${name}': "label" is a string or {"en": …, "zh": …}`);
  }
  const shown = result.rows.slice(0, limit);
  const formats = result.columns.map((name) => columnFormat(where, columnOptions[name]?.format));
  const columns: TableColumn[] = result.columns.map((name) => {
    const label = columnOptions[name]?.label;
    return {
      label: label !== undefined ? text(ctx, label, where) : columnLabel(ctx.lang, name),
      numeric: shown.length > 0 && shown.every((r) => r[name] === null || typeof r[name] === 'number'),
    };
  });
  const rows = shown.map((row) =>
    result.columns.map((name, i) => {
      const value = row[name];
      const f = formats[i];
      return formatValue(ctx.lang, value, f?.format ?? defaultFormat(value), f?.digits);
    }),
  );
  const title = options.title !== undefined ? text(ctx, options.title, where) : undefined;
  return { kind: 'table', title, columns, rows, total: result.rows.length };
}

function columnFormat(where: string, spec: unknown): { format: ValueFormat; digits?: number } | undefined {
  if (spec === undefined) return undefined;
  const parsed = typeof spec === 'string' ? parseFormat(spec) : null;
  if (!parsed) throw inputError(`${where}: unknown format '${spec}'`, ['Formats: number, integer, money, compact, percent, date, month, term, text (optionally :digits).']);
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// KPI cards

interface KpiOption {
  value: string;
  label?: string | LocalizedText;
  format?: string;
  note?: string | LocalizedText;
}

function kpiBlock(ctx: Context, cell: Cell): ReportBlock {
  const where = cellLocation(ctx.file, cell);
  const result = lookupQuery(ctx, cell.name, where);
  const body = parseCellJson(cell, ctx.file, null);
  const options: unknown[] =
    body === null ? result.columns.map((value) => ({ value })) : Array.isArray(body) ? body : isPlainObject(body) && Array.isArray(body.cards) ? body.cards : [];
  if (options.length === 0) throw inputError(`${where}: a kpi cell's body is a JSON list of cards (or empty for one card per column)`, ['Example: [{"value": "revenue", "format": "money"}]']);
  if (result.rows.length === 0) ctx.warn(`${where}: query '${cell.name}' returned no rows; its KPI cards show '–'`);
  const row = result.rows[0] ?? {};
  const cards: KpiCard[] = options.map((option, i) => {
    if (!isPlainObject(option) || typeof option.value !== 'string') throw inputError(`${where}: card ${i + 1} needs "value": the column to show`);
    const o = option as unknown as KpiOption;
    for (const key of ['label', 'note'] as const) {
      if (o[key] !== undefined && !isTextOption(o[key])) throw inputError(`${where}: card ${i + 1}: "${key}" is a string or {"en": …, "zh": …}`);
    }
    lookupColumn(result, o.value, where);
    const value = row[o.value] ?? null;
    const f = columnFormat(where, o.format);
    return {
      label: o.label !== undefined ? text(ctx, o.label, where) : columnLabel(ctx.lang, o.value),
      value: formatValue(ctx.lang, value, f?.format ?? defaultFormat(value), f?.digits),
      note: o.note !== undefined ? text(ctx, o.note, where) : undefined,
    };
  });
  return { kind: 'kpis', cards };
}

// ---------------------------------------------------------------------------------------------
// Charts

type ChartBlock = Extract<ReportBlock, { kind: 'chart' }>;

function chartBlock(ctx: Context, cell: Cell, maxRows: number): ChartBlock {
  const where = cellLocation(ctx.file, cell);
  const parsed = parseCellJson(cell, ctx.file, null);
  if (!isPlainObject(parsed)) throw inputError(`${where}: a vega-lite cell holds a Vega-Lite spec: a JSON object`);
  const localized = localizeTree(parsed, ctx.lang, (en) => ctx.warn(`${where}: no ${ctx.lang} text for "${en}"; using the English`));
  const filled = fillSpecStrings(ctx, localized, where) as ChartSpec;
  const { takeaway, ...spec } = filled;
  if (typeof takeaway !== 'string' || takeaway.trim() === '') {
    throw inputError(`${where}: the chart needs a "takeaway": the one line a reader should remember`, ['Add e.g. "takeaway": {"en": "…", "zh": "…"}.']);
  }
  const title = titleText(spec.title);
  if (!title) throw inputError(`${where}: the chart needs a "title"`, ['Add e.g. "title": {"en": "…", "zh": "…"}.']);
  checkMarks(spec, where);
  checkTemporalFormats(spec, where);
  spec.datasets = datasetsFor(ctx, spec, where, maxRows);
  return { kind: 'chart', id: cell.name, title, takeaway, spec };
}

/** Fill placeholders in every string of a spec (not in inline data). */
function fillSpecStrings(ctx: Context, value: unknown, where: string): unknown {
  if (typeof value === 'string') return replacePlaceholders(value, (p) => placeholderText(ctx, p, where), () => where);
  if (Array.isArray(value)) return value.map((v) => fillSpecStrings(ctx, v, where));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'values' || k === 'datasets' ? v : fillSpecStrings(ctx, v, where)]),
  );
}

function titleText(title: unknown): string | undefined {
  if (typeof title === 'string') return title.trim() || undefined;
  if (Array.isArray(title)) return title.join(' ').trim() || undefined;
  if (isPlainObject(title)) return titleText(title.text);
  return undefined;
}

/** The spec's `datasets`: every `"data": {"name": …}` it uses, filled from the query of that name. */
function datasetsFor(ctx: Context, spec: ChartSpec, where: string, maxRows: number): Record<string, Row[]> {
  const own = isPlainObject(spec.datasets) ? (spec.datasets as Record<string, Row[]>) : {};
  const datasets: Record<string, Row[]> = { ...own };
  const names = new Set<string>();
  collectDataRefs(spec, names, where);
  if (names.size === 0 && !hasInlineData(spec)) {
    throw inputError(`${where}: the chart has no data`, ['Point it at a query: "data": {"name": "QUERY"}.']);
  }
  for (const name of names) {
    if (name in own) continue;
    const result = lookupQuery(ctx, name, where);
    if (result.rows.length > maxRows) {
      throw inputError(`${where}: query '${name}' has ${result.rows.length} rows, more than a chart embeds (${maxRows})`, [
        'Aggregate it in SQL (GROUP BY) so that the chart gets one row per mark.',
      ]);
    }
    datasets[name] = result.rows.map(chartRow);
  }
  return datasets;
}

const NAIVE_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

/**
 * A row as a chart reads it. The store's TIMESTAMPs ('2024-01-01 00:00:00') would parse as
 * local time in the reader's browser, moving a month's first day into the previous month east of
 * UTC; written as ISO UTC ('2024-01-01T00:00:00Z'), they match DATEs ('2024-01-01', which
 * JavaScript reads as UTC) and the utc time units the docs recommend.
 */
function chartRow(row: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) {
    const m = typeof value === 'string' ? NAIVE_TIMESTAMP.exec(value) : null;
    out[key] = m ? `${m[1]}T${m[2]}Z` : value;
  }
  return out;
}

/** Vega-Lite's mark types; its own error for a misspelt one does not say what is wrong. */
const MARK_TYPES = new Set([
  'arc', 'area', 'bar', 'image', 'line', 'point', 'rect', 'rule', 'text', 'tick', 'trail', 'circle', 'square', 'geoshape',
  'boxplot', 'errorband', 'errorbar',
]);

function checkMarks(value: unknown, where: string): void {
  if (Array.isArray(value)) return value.forEach((v) => checkMarks(v, where));
  if (!isPlainObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'datasets' || key === 'values' || key === 'config') continue;
    if (key === 'mark') {
      const type = isPlainObject(v) ? v.type : v;
      if (typeof type !== 'string' || !MARK_TYPES.has(type)) {
        throw inputError(`${where}: invalid Vega-Lite spec: unknown mark type ${JSON.stringify(type)}`, [`Mark types: ${[...MARK_TYPES].join(', ')}.`]);
      }
      continue;
    }
    checkMarks(v, where);
  }
}

/**
 * `localeFormat` formats numbers. On a temporal field Vega-Lite then skips parsing the dates
 * (every point lands on 'Invalid Date'), so refuse it and point at time format strings.
 */
function checkTemporalFormats(value: unknown, where: string): void {
  if (Array.isArray(value)) return value.forEach((v) => checkTemporalFormats(v, where));
  if (!isPlainObject(value)) return;
  if (value.type === 'temporal' || value.timeUnit !== undefined) {
    for (const owner of [value, value.axis, value.legend, value.header]) {
      if (isPlainObject(owner) && owner.formatType === LOCALE_FORMAT_FUNCTION) {
        throw inputError(`${where}: "formatType": "${LOCALE_FORMAT_FUNCTION}" formats numbers, not the dates of field '${String(value.field)}'`, [
          'Use a time format, per language if needed: "format": {"en": "%b %Y", "zh": "%Y年%-m月"}.',
        ]);
      }
    }
  }
  for (const [key, v] of Object.entries(value)) if (key !== 'datasets' && key !== 'values') checkTemporalFormats(v, where);
}

function collectDataRefs(value: unknown, names: Set<string>, where: string): void {
  if (Array.isArray(value)) {
    for (const v of value) collectDataRefs(v, names, where);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'datasets' || key === 'values') continue;
    if (key === 'data' && isPlainObject(v)) {
      if (typeof v.url === 'string') {
        throw inputError(`${where}: the chart loads data from '${v.url}'`, ['A report cannot fetch anything: use "data": {"name": "QUERY"} with a SQL cell.']);
      }
      if (typeof v.name === 'string') names.add(v.name);
    }
    collectDataRefs(v, names, where);
  }
}

function hasInlineData(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasInlineData);
  if (!isPlainObject(value)) return false;
  if (isPlainObject(value.data) && ('values' in value.data || 'sequence' in value.data)) return true;
  return Object.entries(value).some(([k, v]) => k !== 'datasets' && hasInlineData(v));
}

/** A chart run while the SQL cells ran, with the warnings its cell gave (not yet reported). */
interface EarlyChart {
  chart: ChartBlock;
  started: StartedChart;
  warnings: string[];
}

/**
 * Charts drawn while the SQL cells run. The main thread only waits for DuckDB then, and drawing
 * a chart (Vega, one core) takes about as long as the SQL of the whole report, so each chart is
 * drawn as soon as every query its cell names has its result. The layout then takes a chart
 * drawn early instead of drawing it (the same cell, the same results: the same chart), and
 * reports its warnings at that point, so a chart in a branch a condition hides warns nowhere.
 * A chart that fails early is simply drawn again in its place, where its error is reported.
 */
class EarlyCharts {
  private readonly waiting: Cell[];
  private readonly drawn = new Map<string, Promise<EarlyChart | null>>();
  private chain: Promise<unknown> = Promise.resolve();
  /** The queries each chart reads. */
  private readonly named = new Map<Cell, string[]>();

  constructor(
    private readonly ctx: Context,
    private readonly renderer: Promise<ChartRenderer>,
    private readonly maxRows: number,
    private readonly suffix: string,
  ) {
    const charts = ctx.notebook.segments.filter((s): s is Cell => s.kind === 'vega-lite');
    const queryNames = ctx.notebook.cells.filter((c) => c.kind === 'sql').map((c) => c.name);
    for (const cell of charts) this.named.set(cell, queryNames.filter((name) => new RegExp(`(^|[^A-Za-z0-9_])${name}($|[^A-Za-z0-9_])`).test(cell.body)));
    // The last query a chart names, in the notebook's order: the charts ready after each query in turn.
    const last = (cell: Cell) => Math.max(-1, ...this.named.get(cell)!.map((name) => queryNames.indexOf(name)));
    this.waiting = charts.map((cell, i) => ({ cell, i, last: last(cell) })).sort((a, b) => a.last - b.last || a.i - b.i).map((c) => c.cell);
  }

  /** Start drawing the charts whose queries have all run (one at a time, after the earlier ones). */
  schedule(): void {
    for (const cell of [...this.waiting]) {
      const named = this.named.get(cell)!;
      // In the order the cells would make them ready one after another (runQueries may finish
      // them out of order): a chart waits for the charts before it in that order.
      if (!named.every((name) => this.ctx.results.has(name))) break;
      this.waiting.splice(this.waiting.indexOf(cell), 1);
      const drawing = this.chain.then(() => this.draw(cell));
      this.chain = drawing;
      this.drawn.set(EarlyCharts.key(cell), drawing);
    }
  }

  /** Every chart started has finished (drawn or failed). */
  async settled(): Promise<void> {
    await this.chain;
  }

  /** The chart of this cell if it was run early (taken once: the caller finishes it). */
  async take(cell: Cell): Promise<EarlyChart | null> {
    const key = EarlyCharts.key(cell);
    const drawing = this.drawn.get(key);
    this.drawn.delete(key);
    return (await drawing) ?? null;
  }

  private static key(cell: Cell): string {
    return `${cell.line}\n${cell.body}`;
  }

  private async draw(cell: Cell): Promise<EarlyChart | null> {
    // Yield first: the next SQL cell starts before this chart takes the main thread.
    await new Promise((resolve) => setImmediate(resolve));
    const warnings: string[] = [];
    const ctx: Context = { ...this.ctx, warn: (message) => warnings.push(message) };
    try {
      const chart = chartBlock(ctx, cell, this.maxRows);
      const started = await startChart(ctx, await this.renderer, cell, chart, `${cell.name}${this.suffix}`);
      return { chart, started, warnings };
    } catch {
      return null;
    }
  }

  /** Finalize the charts run early that the layout did not take (a condition hid them). */
  async dispose(): Promise<void> {
    for (const [key, drawing] of this.drawn) {
      this.drawn.delete(key);
      (await drawing)?.started.dispose();
    }
  }
}

/** Compile the chart and draw it as SVG; Vega-Lite's errors and warnings name the cell. */
async function drawChart(ctx: Context, renderer: ChartRenderer, cell: Cell, chart: ChartBlock, stem: string): Promise<PreparedChart> {
  return finishChart(ctx, cell, await startChart(ctx, renderer, cell, chart, stem));
}

/** drawChart's first step: compile and run the chart (render.ts startChart). */
async function startChart(ctx: Context, renderer: ChartRenderer, cell: Cell, chart: ChartBlock, stem: string): Promise<StartedChart> {
  try {
    return await renderer.startChart(cell.name, chart.spec, { lang: ctx.lang, stem });
  } catch (err) {
    throw chartError(ctx, cell, err);
  }
}

/** drawChart's second step: the SVG, and Vega-Lite's warnings reported. */
async function finishChart(ctx: Context, cell: Cell, started: StartedChart): Promise<PreparedChart> {
  const where = cellLocation(ctx.file, cell);
  try {
    const prepared = await started.finish();
    for (const w of new Set(prepared.warnings)) ctx.warn(`${where}: Vega-Lite: ${w}`);
    return prepared;
  } catch (err) {
    throw chartError(ctx, cell, err);
  }
}

function chartError(ctx: Context, cell: Cell, err: unknown): CrmError {
  if (err instanceof CrmError) return err;
  return inputError(`${cellLocation(ctx.file, cell)}: invalid Vega-Lite spec: ${messageOf(err)}`);
}

/**
 * Write every chart's files into charts/, the PNGs with one font subset for them all. The PNGs
 * rasterise side by side (off the main thread); the subset is removed once every one is done.
 */
async function writeCharts(ctx: Context, renderer: ChartRenderer, charts: PreparedChart[], outDir: string, started?: () => void): Promise<ChartFiles[]> {
  if (charts.length === 0) return [];
  const fonts = renderer.chartFonts(charts.map((c) => c.svg));
  try {
    const writing = charts.map((chart) => renderer.writeChartFiles(outDir, chart, { ...fonts.png, warn: ctx.warn }));
    started?.();
    const written = await Promise.allSettled(writing);
    return written.map((w) => {
      if (w.status === 'rejected') throw w.reason;
      return w.value;
    });
  } finally {
    fonts.dispose();
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
