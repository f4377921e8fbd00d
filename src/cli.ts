#!/usr/bin/env node
/**
 * The `crm` command line. Thin by design: each command parses its flags, calls one function
 * from src/, and prints the result. Errors a user can fix (CrmError) print as one clear
 * message with a documented exit code; anything else is a bug and prints its stack.
 */
import { Command, CommanderError, Help, Option, type Argument } from 'commander';
import { CrmError, ExitCode } from './util/errors.js';
import { TOOL_VERSION } from './version.js';
import { parseWaitSeconds, registerCommands } from './commands.js';
import { setLockWait } from './store/lock.js';
import { parseMemoryLimit, setMemoryLimitFlag } from './store/memory.js';

// ---------------------------------------------------------------------------------------------
// Help layout

const defaultHelp = new Help();

/**
 * Short descriptions for the command list of `crm --help` (the full description stays in
 * `crm COMMAND --help`). Commands that set their own `.summary()` keep it; any other command
 * gets its description shortened.
 */
const SUMMARIES: Record<string, string> = {
  ingest: 'load customer or transaction files into the store',
  quality: 'data-quality report of what was loaded',
  query: 'run read-only SQL against the store',
  generate: 'write synthetic customers and transactions',
  run: 'score customers: RFM, churn, lifetime value, 80/20',
  'model show': 'fitted model parameters and backtest of a run',
  keyaccounts: 'the 80/20 key accounts with trend and churn risk',
  customer: 'one customer: profile, scores, history, orders',
  'notebook render': 'render a Markdown notebook into an HTML report',
};
/** Longest command-list description that fits an 80-column terminal next to the terms. */
const SUMMARY_MAX = 50;

function hasSubcommands(cmd: Command): boolean {
  return cmd.commands.length > 0;
}

/** `model show`, `export segment`: the names below the program. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c && c.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ') || cmd.name();
}

function argumentTerm(arg: Argument): string {
  const name = arg.name() + (arg.variadic ? '...' : '');
  return arg.required ? `<${name}>` : `[${name}]`;
}

/** The first clause of a long description, or its start with an ellipsis. */
function shorten(text: string): string {
  if (text.length <= SUMMARY_MAX) return text;
  const clause = /^(.{12,}?)(?::\s|\s\(|,\s|\s—\s)/.exec(text)?.[1];
  if (clause && clause.length <= SUMMARY_MAX) return clause;
  return text.slice(0, SUMMARY_MAX - 1).trimEnd() + '…';
}

/** Summaries for the list, and a usage-error hint naming the command's own help. */
function applySummaries(cmd: Command): void {
  for (const sub of cmd.commands) {
    const key = commandPath(sub);
    if (!sub.summary() && SUMMARIES[key]) sub.summary(SUMMARIES[key]);
    sub.showHelpAfterError(`(see \`crm ${key} --help\`)`);
    applySummaries(sub);
  }
  if (!cmd.parent) cmd.showHelpAfterError('(see `crm --help`)');
}

const program = new Command();
program
  .name('crm')
  .description('Customer analytics on an embedded DuckDB store: ingest exports, score customers, report.')
  .version(TOOL_VERSION, '-V, --version')
  .addOption(new Option('--db <file>', 'the DuckDB store (default: $CRM_DB or ./crm.duckdb)'))
  .option('-q, --quiet', 'no progress or notes (warnings, errors still print)')
  .option('--config <file>', 'settings (default: ./crm.config.json when present)')
  .option('--wait <seconds>', 'when another process holds the store, wait up to this long for it (default 0: fail at once)', parseWaitSeconds)
  .option('--memory-limit <size>', "cap DuckDB's memory, e.g. 4GB or 512MB; past it DuckDB spills to <store>.tmp/ (default: $CRM_MEMORY_LIMIT, else 1GB; 2GB for run)", (v: string) => parseMemoryLimit(v))
  .configureHelp({
    // One line per command, nested ones (`model show`, `export segment`) listed in full.
    visibleCommands: (cmd) => defaultHelp.visibleCommands(cmd).flatMap((c) => (hasSubcommands(c) ? defaultHelp.visibleCommands(c).filter((s) => s.name() !== 'help') : [c])),
    subcommandTerm: (cmd) => [commandPath(cmd), ...cmd.registeredArguments.map(argumentTerm)].join(' '),
    subcommandDescription: (cmd) => cmd.summary() || shorten(cmd.description()),
  })
  // Usage errors read like the other errors: "crm: error: …" and one hint line, no stack.
  .configureOutput({ outputError: (message, write) => write(`crm: ${message}`) })
  .exitOverride();

registerCommands(program);
// --wait and --memory-limit apply to every store the command opens, so they are set once, before the action runs.
program.hook('preAction', (_program, action) => {
  const { wait, quiet, memoryLimit } = action.optsWithGlobals<{ wait?: number; quiet?: boolean; memoryLimit?: string }>();
  setMemoryLimitFlag(memoryLimit);
  setLockWait({
    seconds: wait ?? 0,
    onWait: (holder) => {
      if (!quiet) process.stderr.write(`the store is in use by ${holder}: waiting up to ${wait} s…\n`);
    },
  });
});
applySummaries(program);
program.addHelpText(
  'after',
  `
Examples:
  crm ingest customers data/customers.csv
  crm ingest transactions data/orders-2024.xlsx data/orders-2025.csv
  crm quality
  crm run --as-of 2025-12-31
  crm keyaccounts --json | jq '.accounts[0]'
  crm export segments
  crm export segment "At Risk" --out out/at-risk.xlsx --mask-pii
  crm query "SELECT rfm_segment, count(*) FROM customer_latest GROUP BY ALL"

Results go to stdout (only JSON with --json); progress, notes and warnings go to
stderr. Progress is a bar on a terminal and plain lines in logs (cron, CI).

Exit codes: 0 ok, 1 internal error (a bug), 2 usage, 3 input, 4 store (e.g. no
\`crm run\` yet), 5 output (e.g. the file exists: --force), 6 query.`,
);

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version "errors" are normal exits; commander already printed the message.
    // `crm` or `crm export` without a command prints the help to stderr: a usage error.
    if (err.code === 'commander.help') return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (err instanceof CrmError) {
    process.stderr.write(`crm: error: ${err.message}\n`);
    for (const line of err.details) process.stderr.write(`  ${line}\n`);
    return err.exitCode;
  }
  process.stderr.write(`crm: internal error (a bug in crm-analytics ${TOOL_VERSION}; please report it):\n`);
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return ExitCode.internal;
}

/** Set once the command has an outcome (or stops on purpose): an exit without one is a bug. */
let finished = false;

// `crm query … | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    finished = true;
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// A promise that never settles (a stream that stops without 'end' or 'error') lets Node run
// out of work and exit 0 with the command half done: never a success, always a loud bug.
process.on('exit', () => {
  if (finished) return;
  process.stderr.write(`crm: internal error (a bug in crm-analytics ${TOOL_VERSION}; please report it):\nthe command stopped before it finished (nothing more to wait for)\n`);
  process.exitCode = ExitCode.internal;
});

main(process.argv).then((code) => {
  finished = true;
  process.exitCode = code;
});
