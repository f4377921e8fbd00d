/** Small, dependency-free formatters for terminal output. */

export function formatCount(n: number | bigint): string {
  return Number(n).toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}

export function formatPercent(share: number, digits = 1): string {
  const text = (share * 100).toFixed(digits);
  // Never let rounding claim "100%" or "0%" for a share that is not exactly that.
  if (share < 1 && Number(text) >= 100) return `>${(100 - 10 ** -digits).toFixed(digits)}%`;
  if (share > 0 && Number(text) <= 0) return `<${(10 ** -digits).toFixed(digits)}%`;
  return `${text}%`;
}

/** Display width of a string in a monospace terminal: CJK and full-width forms take two cells. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    w +=
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x20000 && c <= 0x3fffd)
        ? 2
        : 1;
  }
  return w;
}

/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC starts escape sequences,
 * CR rewrites the line, NUL…), DEL, C1 controls (0x9B is a one-character CSI), the line and
 * paragraph separators, and the bidirectional overrides and isolates that reorder what follows.
 */
const TERMINAL_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** The same characters less C0, which JSON.stringify already escapes. */
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** `\uXXXX` for one UTF-16 code unit, as JSON writes it. */
function unicodeEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Text safe to print on a terminal: control characters written as JSON writes them (`\n`,
 * `\u001b`), everything else as is. Stored text can hold anything a file held (a rejected row's
 * raw line, a product name), and printed raw it could recolour, rewrite or hide the output.
 */
export function visibleText(s: string): string {
  return s.replace(new RegExp(TERMINAL_CONTROL, 'g'), (c) => SHORT_ESCAPES[c] ?? unicodeEscape(c));
}

/** Whether `s` holds a character `visibleText` would escape. */
export function hasTerminalControl(s: string): boolean {
  return TERMINAL_CONTROL.test(s);
}

/**
 * Indented JSON of `value`, safe on a terminal and the same data: JSON.stringify writes DEL, C1
 * controls, the line separators and bidirectional overrides raw; they can only stand inside
 * strings, where `\uXXXX` is the same value.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(RAW_IN_JSON, unicodeEscape);
}

function pad(s: string, width: number, alignRight: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return alignRight ? fill + s : s + fill;
}

export interface TableOptions {
  /** Columns to right-align (numbers). Default: columns whose every value is numeric. */
  rightAlign?: boolean[];
  maxCellWidth?: number;
}

/**
 * Render rows as an aligned plain-text table with a header rule. Every table the CLI prints
 * goes through here, so this is where stored text is made safe for the terminal (`visibleText`).
 */
export function renderTable(headers: string[], rows: string[][], opts: TableOptions = {}): string {
  const maxCell = opts.maxCellWidth ?? 60;
  const clip = (s: string) => {
    const oneLine = visibleText(s);
    if (displayWidth(oneLine) <= maxCell) return oneLine;
    let out = '';
    for (const ch of oneLine) {
      if (displayWidth(out + ch) > maxCell - 1) break;
      out += ch;
    }
    return out + '…';
  };
  const cells = rows.map((r) => r.map(clip));
  const numeric = /^-?[\d,]*\.?\d+(e[-+]?\d+)?%?$/i;
  const right =
    opts.rightAlign ??
    headers.map((_, i) => cells.length > 0 && cells.every((r) => r[i] === '' || numeric.test(r[i] ?? '')));
  const titles = headers.map(visibleText);
  const widths = titles.map((h, i) => Math.max(displayWidth(h), ...cells.map((r) => displayWidth(r[i] ?? ''))));
  const line = (r: string[]) => r.map((c, i) => pad(c ?? '', widths[i], right[i])).join('  ').trimEnd();
  return [line(titles), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
