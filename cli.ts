#!/usr/bin/env node
/**
 * The `crm` command line. Thin by design: each command parses its flags, calls one function
 * from src/ (the commands in src/commands.ts, the help layout in src/help.ts), and prints the
 * result. Errors a user can fix (CrmError) print as one clear message with a documented exit
 * code; anything else is a bug and prints its stack.
 */
import { Command, CommanderError, Option } from 'commander';
import { parseWaitSeconds, registerCommands } from './src/commands.js';
import { applySummaries, configureCommandList } from './src/help.js';
import { setLockWait } from './src/store/lock.js';
import { CrmError, ExitCode } from './src/util/errors.js';
import { TOOL_VERSION } from './src/version.js';
import { parseMemoryLimit, setMemoryLimitFlag } from './src/store/memory.js';
import { setActorFlag } from './src/store/audit.js';

const program = new Command();
program
  .name('crm')
  .description('Customer analytics on an embedded DuckDB store: ingest exports, score customers, report.')
  .version(TOOL_VERSION, '-V, --version')
  .addOption(new Option('--db <file>', 'the DuckDB store (default: $CRM_DB or ./crm.duckdb)'))
  .option('-q, --quiet', 'no progress or notes (warnings, errors still print)')
  .option('--config <file>', 'settings (default: ./crm.config.json when present)')
  .option('--wait <seconds>', 'when another process holds the store, wait up to this long for it (default 0: fail at once)', parseWaitSeconds)
  .option('--actor <name>', 'who runs this command, for the audit trail of exports, reports, lookups and erasures (default: $CRM_ACTOR, else the OS user)')
  .option('--memory-limit <size>', "the command's memory budget, e.g. 4GB or 512MB: DuckDB gets three quarters of it (4GB → 3GB) and spills past that to <store>.tmp/, the rest is headroom (default: $CRM_MEMORY_LIMIT, else DuckDB capped at 1GB)", (v: string) => parseMemoryLimit(v))
  // Usage errors read like the other errors: "crm: error: …" and one hint line, no stack.
  .configureOutput({ outputError: (message, write) => write(`crm: ${message}`) })
  .exitOverride();

configureCommandList(program);
registerCommands(program);
// --wait and --memory-limit apply to every store the command opens, so they are set once, before the action runs.
program.hook('preAction', (_program, action) => {
  const { wait, quiet, memoryLimit, actor } = action.optsWithGlobals<{ wait?: number; quiet?: boolean; memoryLimit?: string; actor?: string }>();
  setMemoryLimitFlag(memoryLimit);
  setActorFlag(actor);
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
