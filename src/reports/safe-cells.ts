/**
 * Cell-level safety for files people open in a spreadsheet (CSV, XLSX).
 *
 * CSV/formula injection (OWASP "CSV Injection"): Excel, LibreOffice and Google Sheets treat a
 * cell that starts with `=`, `+`, `-` or `@` as a formula, and tab / carriage return at the start
 * let an attacker smuggle one past naive checks. Customer names, notes and e-mail addresses come
 * from outside (web forms, CRM imports), so a value like `=HYPERLINK("http://evil","Click")`
 * must reach the marketing team as text. Numbers are written as numbers and never touched:
 * −12.5 is a value, not a formula.
 *
 * - CSV has no cell types: every field is parsed as if typed in, so such *text* fields get a
 *   visible single-quote prefix (`defuseFormula`, `defuseFormulaSql`).
 * - XLSX stores text cells as strings, which are never evaluated when the file is opened. The
 *   writer keeps the value unchanged and gives the cell Excel's `quotePrefix` style, so that it
 *   stays text even when someone edits it and presses Enter (writers/xlsx.ts).
 */

/** First characters that make a spreadsheet evaluate a text cell. */
const FORMULA_TRIGGERS: ReadonlySet<string> = new Set(['=', '+', '-', '@', '\t', '\r']);

/** The prefix that turns a would-be formula into inert text. */
export const DEFUSE_PREFIX = "'";

/** True when `text` would be evaluated as a formula by a spreadsheet. */
export function isFormulaLike(text: string): boolean {
  return text.length > 0 && FORMULA_TRIGGERS.has(text[0]);
}

/** `text`, prefixed with a single quote when a spreadsheet would evaluate it. */
export function defuseFormula(text: string): string {
  return isFormulaLike(text) ? DEFUSE_PREFIX + text : text;
}

/**
 * The same rule as `defuseFormula`, in SQL, for the text columns DuckDB writes to CSV itself.
 * `expr` must be VARCHAR.
 */
export function defuseFormulaSql(expr: string): string {
  const triggers = [...FORMULA_TRIGGERS].map((c) => `chr(${c.codePointAt(0)})`).join(', ');
  return `CASE WHEN left(${expr}, 1) IN (${triggers}) THEN '${DEFUSE_PREFIX.replace(/'/g, "''")}' || ${expr} ELSE ${expr} END`;
}
