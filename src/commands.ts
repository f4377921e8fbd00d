/**
 * Command definitions: flags and the one library call each command makes. Kept apart from
 * cli.ts (process concerns: exit codes, error printing) so that tests can drive commands
 * in-process too.
 */
import type { Command } from 'commander';
import { resolveStorePath } from './store/db.js';
import { createReporter, type Reporter } from './util/log.js';
import { createProgress, type Progress } from './util/progress.js';

export interface GlobalOptions {
  db?: string;
  quiet?: boolean;
}

export interface CommandContext {
  storePath: string;
  reporter: Reporter;
  progress: Progress;
  quiet: boolean;
}

/** Build the per-invocation context from the global flags and a command's --json flag. */
export function contextFor(cmd: Command, json = false): CommandContext {
  const g = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
  const quiet = Boolean(g.quiet);
  return {
    storePath: resolveStorePath(g.db),
    reporter: createReporter({ quiet, json: json || Boolean(g.json) }),
    progress: createProgress({ quiet }),
    quiet,
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function registerCommands(program: Command): void {
  void program;
}
