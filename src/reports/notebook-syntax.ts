/**
 * The notebook file format (see docs/notebooks.md): Markdown prose, fenced cells
 * (```sql NAME, ```vega-lite [NAME], ```table NAME, ```kpi NAME), language blocks
 * (<!-- lang:zh --> … <!-- /lang -->) and `{{query.column | format}}` placeholders.
 *
 * Parsing is pure and keeps line numbers of the .md file throughout, so that every error can
 * point at the line to fix.
 */
import { inputError } from '../util/errors.js';
import { isLang, isValueFormat, VALUE_FORMATS, type Lang, type ValueFormat } from './i18n.js';

export const CELL_KINDS = ['sql', 'vega-lite', 'table', 'kpi'] as const;
export type CellKind = (typeof CELL_KINDS)[number];

export interface Cell {
  kind: CellKind;
  /** The query name (sql), the query shown (table, kpi), or the chart's file name (vega-lite). */
  name: string;
  /** 1-based position among the cells of the (language-filtered) notebook. */
  index: number;
  /** Line of the opening fence in the .md file (1-based). */
  line: number;
  /** Line of the first body line. */
  bodyLine: number;
  body: string;
}

export interface ProseSegment {
  kind: 'prose';
  text: string;
  /** Line of the segment's first line in the .md file. */
  line: number;
}

export type Segment = ProseSegment | Cell;

export interface ParsedNotebook {
  file: string;
  segments: Segment[];
  cells: Cell[];
}

/** How errors name a notebook file: relative to the working directory when it is below it. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = file.startsWith(cwd + '/') ? file.slice(cwd.length + 1) : file;
  return rel;
}

/** `FILE:LINE: cell N (kind name): ` — the prefix of every error about a cell. */
export function cellLocation(file: string, cell: Cell, line = cell.line): string {
  return `${displayPath(file)}:${line}: cell ${cell.index} (${cell.kind} ${cell.name})`;
}

export function lineLocation(file: string, line: number): string {
  return `${displayPath(file)}:${line}`;
}

/** The 1-based line of `offset` in `text`, counting from `firstLine`. */
export function lineAt(text: string, offset: number, firstLine = 1): number {
  let line = firstLine;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * `lineAt` for offsets met in increasing order (markers found by one scan of `text`): each call
 * counts only from the previous offset, so a scan costs one pass over the text instead of one per
 * marker (the built-in report has a few hundred markers in 87 KB).
 */
function lineCounter(text: string): (offset: number) => number {
  let at = 0;
  let line = 1;
  return (offset) => {
    if (offset < at) {
      at = 0;
      line = 1;
    }
    line = countLines(text, at, offset, line);
    at = Math.min(offset, text.length);
    return line;
  };
}

function countLines(text: string, from: number, to: number, line: number): number {
  for (let i = from; i < to && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

// ---------------------------------------------------------------------------------------------
// Language blocks

const LANG_MARKER = /<!--\s*(?:lang:([A-Za-z-]+)|\/lang)\s*-->/g;

/**
 * Keep the text for `lang`: drop the markers and the content of blocks for other languages.
 * Dropped text is replaced by as many newlines as it held, so line numbers stay those of the file.
 */
export function selectLanguage(text: string, lang: Lang, file: string): string {
  let out = '';
  let last = 0;
  let open: { lang: string; line: number } | null = null;
  const lineOf = lineCounter(text);
  for (const m of text.matchAll(LANG_MARKER)) {
    const at = m.index ?? 0;
    const line = lineOf(at);
    const between = text.slice(last, at);
    out += open && open.lang !== lang ? between.replace(/[^\n]/g, '') : between;
    if (m[1] !== undefined) {
      if (open) throw inputError(`${lineLocation(file, line)}: language block opened inside the one opened on line ${open.line}`, ['Close it with <!-- /lang --> first.']);
      if (!isLang(m[1])) throw inputError(`${lineLocation(file, line)}: unknown language '${m[1]}' in <!-- lang:${m[1]} -->`, ['Use lang:en or lang:zh.']);
      open = { lang: m[1], line };
    } else {
      if (!open) throw inputError(`${lineLocation(file, line)}: <!-- /lang --> without an opening <!-- lang:xx -->`);
      open = null;
    }
    last = at + m[0].length;
  }
  if (open) throw inputError(`${lineLocation(file, open.line)}: <!-- lang:${open.lang} --> is never closed`, ['Close it with <!-- /lang -->.']);
  return out + text.slice(last);
}

// ---------------------------------------------------------------------------------------------
// Cells

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const QUERY_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CHART_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

function isCellKind(word: string): word is CellKind {
  return (CELL_KINDS as readonly string[]).includes(word);
}

/**
 * Split a (language-filtered) notebook into prose segments and cells. `uniqueCharts: false`
 * allows one chart name twice: for the pass that still holds both branches of a condition,
 * where a chart may be written once per branch (the shown notebook is checked again).
 */
export function parseNotebook(text: string, file: string, opts: { uniqueCharts?: boolean } = {}): ParsedNotebook {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const segments: Segment[] = [];
  const cells: Cell[] = [];
  let prose: string[] = [];
  let proseStart = 1;
  const flushProse = (nextLine: number) => {
    if (prose.some((l) => l.trim() !== '')) segments.push({ kind: 'prose', text: prose.join('\n'), line: proseStart });
    prose = [];
    proseStart = nextLine;
  };

  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]);
    if (!open) {
      prose.push(lines[i]);
      continue;
    }
    const fence = open[1];
    const info = open[2].trim();
    if (fence[0] === '`' && info.includes('`')) {
      prose.push(lines[i]); // not a fence: an inline code span at the start of a line
      continue;
    }
    const end = findFenceEnd(lines, i + 1, fence);
    const [kind = '', ...rest] = info.split(/\s+/).filter(Boolean);
    if (!isCellKind(kind)) {
      // An ordinary code block: it stays in the prose, fences and all.
      const stop = end === -1 ? lines.length - 1 : end;
      prose.push(...lines.slice(i, stop + 1));
      i = stop;
      continue;
    }
    const line = i + 1;
    const index = cells.length + 1;
    if (end === -1) throw inputError(`${lineLocation(file, line)}: cell ${index} (${kind}) is never closed`, [`Close it with a line holding ${fence}.`]);
    const name = cellName(kind, rest, index, file, line);
    flushProse(end + 2);
    const cell: Cell = { kind, name, index, line, bodyLine: line + 1, body: lines.slice(i + 1, end).join('\n') };
    cells.push(cell);
    segments.push(cell);
    i = end;
  }
  flushProse(lines.length + 1);
  checkQueryNames(cells, file, opts.uniqueCharts ?? true);
  return { file, segments, cells };
}

function findFenceEnd(lines: string[], from: number, fence: string): number {
  const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
  for (let j = from; j < lines.length; j++) if (close.test(lines[j])) return j;
  return -1;
}

function cellName(kind: CellKind, words: string[], index: number, file: string, line: number): string {
  const where = `${lineLocation(file, line)}: cell ${index} (${kind})`;
  if (words.length > 1) throw inputError(`${where}: unexpected '${words.slice(1).join(' ')}' after the cell name`, [`Write \`\`\`${kind} NAME with one name.`]);
  const name = words[0];
  if (kind === 'vega-lite') {
    if (name === undefined) return `chart-${index}`;
    if (!CHART_NAME.test(name)) throw inputError(`${where}: chart name '${name}' may hold only letters, digits, '_' and '-' (it names the chart files)`);
    return name;
  }
  const role = kind === 'sql' ? 'the name of its result' : 'the name of the query to show';
  if (name === undefined) throw inputError(`${where}: missing ${role}`, [`Write \`\`\`${kind} NAME.`]);
  if (!QUERY_NAME.test(name)) throw inputError(`${where}: '${name}' is not a valid query name (letters, digits and '_', not starting with a digit)`);
  return name;
}

function checkQueryNames(cells: Cell[], file: string, uniqueCharts: boolean): void {
  const seen = new Map<string, Cell>();
  for (const cell of cells) {
    if (cell.kind !== 'sql') continue;
    const earlier = seen.get(cell.name);
    if (earlier) throw inputError(`${cellLocation(file, cell)}: the query name '${cell.name}' is already used by cell ${earlier.index} on line ${earlier.line}`);
    seen.set(cell.name, cell);
  }
  const charts = new Map<string, Cell>();
  for (const cell of uniqueCharts ? cells : []) {
    if (cell.kind !== 'vega-lite') continue;
    const earlier = charts.get(cell.name);
    if (earlier) throw inputError(`${cellLocation(file, cell)}: the chart name '${cell.name}' is already used by cell ${earlier.index} on line ${earlier.line}`);
    charts.set(cell.name, cell);
  }
}

/**
 * Parse a cell's JSON body. Syntax errors name the line in the .md file; an empty body is `fallback`.
 */
export function parseCellJson(cell: Cell, file: string, fallback: unknown): unknown {
  if (cell.body.trim() === '') return fallback;
  try {
    return JSON.parse(cell.body);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = /position (\d+)/.exec(message);
    const line = position ? lineAt(cell.body, Number(position[1]), cell.bodyLine) : cell.bodyLine;
    throw inputError(`${cellLocation(file, cell, line)}: invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Placeholders: {{query.column}} or {{query.column | format}} or {{query.column | format:digits}}

export interface Placeholder {
  query: string;
  column: string;
  format?: ValueFormat;
  digits?: number;
  /** Offsets of the whole `{{…}}` in the text it came from. */
  start: number;
  end: number;
}

const PLACEHOLDER = /\\?\{\{([^{}]*)\}\}/g;
const PLACEHOLDER_BODY = /^\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*([a-z]+)\s*(?::\s*(\d))?\s*)?$/;

/**
 * Replace each placeholder in `text` by `replace(placeholder)`. `\{{` stays a literal `{{`.
 * `where(offset)` names the location for errors.
 */
export function replacePlaceholders(text: string, replace: (p: Placeholder) => string, where: (offset: number) => string): string {
  return text.replace(PLACEHOLDER, (whole: string, body: string, offset: number) => {
    if (whole.startsWith('\\')) return whole.slice(1);
    const m = PLACEHOLDER_BODY.exec(body);
    if (!m) {
      throw inputError(`${where(offset)}: cannot read the placeholder ${whole}`, [
        'Write {{query.column}} or {{query.column | format}}, format one of: ' + VALUE_FORMATS.join(', ') + ' (optionally :digits, e.g. percent:0).',
      ]);
    }
    const [, query, column, format, digits] = m;
    if (format !== undefined && !isValueFormat(format)) {
      throw inputError(`${where(offset)}: unknown format '${format}' in ${whole}`, [`Formats: ${VALUE_FORMATS.join(', ')}.`]);
    }
    return replace({
      query,
      column,
      format: format as ValueFormat | undefined,
      digits: digits === undefined ? undefined : Number(digits),
      start: offset,
      end: offset + whole.length,
    });
  });
}

/** Parse a format option such as "money" or "percent:0" (table columns, KPI cards). */
export function parseFormat(spec: string): { format: ValueFormat; digits?: number } | null {
  const m = /^([a-z]+)(?::(\d))?$/.exec(spec.trim());
  if (!m || !isValueFormat(m[1])) return null;
  return { format: m[1], digits: m[2] === undefined ? undefined : Number(m[2]) };
}

// ---------------------------------------------------------------------------------------------
// Conditional blocks: <!-- if:query.column --> … <!-- else --> … <!-- /if -->

export interface Condition {
  query: string;
  column: string;
  /** `<!-- if:!query.column -->`: shown when the value is not truthy. */
  negate: boolean;
  /** Line of the marker in the .md file. */
  line: number;
}

// [ \t] rather than \s: a marker never spans lines, so removing one never moves a line.
const CONDITION_MARKER = /<!--[ \t]*(?:if:[ \t]*(!?)[ \t]*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)|(else)|(\/if))[ \t]*-->/g;
/** What is meant as a marker (ordinary comments such as `<!-- if needed … -->` are not). */
const CONDITION_LIKE = /<!--[ \t]*(?:if:[^>]*|else|\/if)[ \t]*-->/;

export function hasConditions(text: string): boolean {
  return CONDITION_LIKE.test(text);
}

/** The text with every condition marker removed and both branches kept (lines unchanged). */
export function stripConditionMarkers(text: string): string {
  return text.replace(CONDITION_MARKER, '');
}

/** Whether a line range of `text` (1-based, inclusive) holds a condition marker. */
export function conditionMarkerInLines(text: string, first: number, last: number): boolean {
  const lines = text.split('\n').slice(first - 1, last);
  return lines.some((l) => CONDITION_LIKE.test(l));
}

/**
 * Keep the branches whose condition holds: `test` says whether the value of `query.column`
 * (first row) is truthy. Blocks nest. Removed text keeps its newlines, so line numbers stay
 * those of the file. Every condition is tested, hidden or not, so that a misspelt query name
 * is an error whichever branch the data takes.
 */
export function selectConditions(text: string, file: string, test: (c: Condition) => boolean): string {
  const exact = new RegExp(`^${CONDITION_MARKER.source}$`);
  for (const m of text.matchAll(new RegExp(CONDITION_LIKE.source, 'g'))) {
    if (!exact.test(m[0])) {
      throw inputError(`${lineLocation(file, lineAt(text, m.index ?? 0))}: cannot read the condition ${m[0]}`, [
        'Write <!-- if:query.column --> … <!-- else --> … <!-- /if --> (or <!-- if:!query.column -->).',
      ]);
    }
  }
  interface Frame {
    line: number;
    holds: boolean;
    inElse: boolean;
    /** Whether text here is shown: every enclosing branch is. */
    shown: boolean;
  }
  const stack: Frame[] = [];
  const shown = () => (stack.length === 0 ? true : stack[stack.length - 1].shown);
  let out = '';
  let last = 0;
  const lineOf = lineCounter(text);
  for (const m of text.matchAll(CONDITION_MARKER)) {
    const at = m.index ?? 0;
    const line = lineOf(at);
    const between = text.slice(last, at);
    out += shown() ? between : between.replace(/[^\n]/g, '');
    const [, negate, query, column, isElse, isEnd] = m;
    if (query !== undefined) {
      const holds = test({ query, column, negate: negate === '!', line }) !== (negate === '!');
      stack.push({ line, holds, inElse: false, shown: shown() && holds });
    } else if (isElse !== undefined) {
      const frame = stack[stack.length - 1];
      if (!frame) throw inputError(`${lineLocation(file, line)}: <!-- else --> without an opening <!-- if:query.column -->`);
      if (frame.inElse) throw inputError(`${lineLocation(file, line)}: a second <!-- else --> for the condition on line ${frame.line}`);
      frame.inElse = true;
      const parentShown = stack.length < 2 ? true : stack[stack.length - 2].shown;
      frame.shown = parentShown && !frame.holds;
    } else if (isEnd !== undefined) {
      if (!stack.pop()) throw inputError(`${lineLocation(file, line)}: <!-- /if --> without an opening <!-- if:query.column -->`);
    }
    last = at + m[0].length;
  }
  const open = stack[stack.length - 1];
  if (open) throw inputError(`${lineLocation(file, open.line)}: the condition opened here is never closed`, ['Close it with <!-- /if -->.']);
  return out + text.slice(last);
}
