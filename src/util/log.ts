/**
 * Where human-readable output goes. Results go to stdout (and only JSON there with --json);
 * progress, notes and warnings go to stderr so that `crm ... --json | jq` stays clean and a
 * cron job's log still shows what happened.
 */
export interface Reporter {
  /** A result line for people (stdout). Suppressed with --json. */
  out(line: string): void;
  /** A note about what is happening (stderr). Suppressed with --quiet. */
  info(line: string): void;
  /** Something the user should know even with --quiet (stderr). */
  warn(line: string): void;
  readonly quiet: boolean;
  readonly json: boolean;
}

export interface ReporterOptions {
  quiet?: boolean;
  json?: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

export function createReporter(opts: ReporterOptions = {}): Reporter {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const quiet = Boolean(opts.quiet);
  const json = Boolean(opts.json);
  return {
    quiet,
    json,
    out: (line) => {
      if (!json) stdout.write(line + '\n');
    },
    info: (line) => {
      if (!quiet) stderr.write(line + '\n');
    },
    warn: (line) => {
      stderr.write('warning: ' + line + '\n');
    },
  };
}

/** A reporter that records lines; for library callers and tests. */
export function silentReporter(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  return {
    quiet: true,
    json: false,
    lines,
    out: (l) => lines.push(l),
    info: () => undefined,
    warn: (l) => lines.push('warning: ' + l),
  };
}
