#!/usr/bin/env node
/**
 * The `crm` command line. Thin by design: each command parses its flags, calls one function
 * from src/, and prints the result. Errors a user can fix (CrmError) print as one clear
 * message with a documented exit code; anything else is a bug and prints its stack.
 */
import { Command, CommanderError, Option } from 'commander';
import { CrmError, ExitCode } from './util/errors.js';
import { TOOL_VERSION } from './version.js';
import { registerCommands } from './commands.js';

const program = new Command();
program
  .name('crm')
  .description('Customer analytics on an embedded DuckDB store: ingest exports, score customers, report.')
  .version(TOOL_VERSION, '-V, --version')
  .addOption(new Option('--db <file>', 'the DuckDB store (default: $CRM_DB or ./crm.duckdb)'))
  .option('-q, --quiet', 'no progress or notes on stderr (errors and warnings still print)')
  .option('--config <file>', 'settings file (default: ./crm.config.json when present)')
  .showHelpAfterError('(run `crm --help` or `crm COMMAND --help` for usage)')
  .exitOverride();

registerCommands(program);

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
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return ExitCode.ok;
    }
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

// `crm query … | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
