/**
 * Writing values into SQL text. Pure functions: no DuckDB needed, so light modules (and the
 * command line's start-up) can use them.
 */

/** Quote an identifier for SQL. */
export function ident(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * A JS number as a SQL DOUBLE. A bare literal like 2.4253738534131193 is a DECIMAL(17,16) to
 * DuckDB, and multiplying it by 44 overflows DECIMAL's 18 digits; model parameters and
 * thresholds must be doubles.
 */
export function sqlNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`sqlNumber: ${n} is not a finite number`);
  return `CAST(${n} AS DOUBLE)`;
}

/** Quote a string literal for SQL. */
export function literal(value: string): string {
  return "'" + value.replace(/'/g, "''") + "'";
}
