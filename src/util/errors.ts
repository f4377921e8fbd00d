/**
 * Errors a user can fix carry an exit code and a message naming what to fix (file, row,
 * column). The CLI prints them without a stack trace; anything else is a bug and is printed
 * with its stack.
 */

/** Process exit codes; documented in docs/cli.md ("Exit codes"). */
export const ExitCode = {
  ok: 0,
  /** An unexpected internal error: a bug in crm-analytics. */
  internal: 1,
  /** Wrong command-line usage: unknown command or flag, bad flag value. */
  usage: 2,
  /** The input could not be used: unreadable file, unknown format, missing or ambiguous mapping. */
  input: 3,
  /** The store could not be used: locked by another process, written by a newer version, missing. */
  store: 4,
  /** A requested output exists already (use --force) or could not be written. */
  output: 5,
  /** A SQL statement failed or was refused (crm query, notebooks). */
  query: 6,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class CrmError extends Error {
  readonly exitCode: ExitCodeValue;
  /** Extra lines printed under the message (hints, lists of headers...). */
  readonly details: string[];
  constructor(message: string, exitCode: ExitCodeValue = ExitCode.input, details: string[] = []) {
    super(message);
    this.name = 'CrmError';
    this.exitCode = exitCode;
    this.details = details;
  }
}

export const usageError = (message: string, details: string[] = []) =>
  new CrmError(message, ExitCode.usage, details);
export const inputError = (message: string, details: string[] = []) =>
  new CrmError(message, ExitCode.input, details);
export const storeError = (message: string, details: string[] = []) =>
  new CrmError(message, ExitCode.store, details);
export const outputError = (message: string, details: string[] = []) =>
  new CrmError(message, ExitCode.output, details);
export const queryError = (message: string, details: string[] = []) =>
  new CrmError(message, ExitCode.query, details);

/** The message of anything thrown, without DuckDB's multi-line caret decoration when short. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * A file-system error (ENOTDIR, ENOSPC, EACCES, …) met while writing `target` is an output error
 * (exit 5) naming it; anything else (a CrmError, a bug) passes through unchanged.
 */
export function asOutputError(err: unknown, target: string): unknown {
  if (err instanceof CrmError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return outputError(`cannot write ${target}: ${messageOf(err)}`);
  return err;
}
