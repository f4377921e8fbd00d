/**
 * Command definitions: flags and the one library call each command makes. Kept apart from
 * cli.ts (process concerns: exit codes, error printing) so that tests can drive commands
 * in-process too.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { resolveStorePath, Store } from './store/db.js';
import { LANGS, parseLang } from './reports/i18n.js';
import { renderNotebook } from './reports/notebook.js';
import { formatBytes, formatDuration } from './util/format.js';
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
  const notebook = program.command('notebook').description('Markdown notebooks: SQL, charts and prose rendered into a report');
  notebook
    .command('render')
    .description('render FILE.md into a self-contained HTML report plus charts/*.svg|png')
    .argument('<file>', 'the notebook (.md)')
    .option('--out <dir>', 'output folder', 'out')
    .addOption(new Option('--lang <lang>', 'report language').choices([...LANGS]).default('en'))
    .action(async (file: string, opts: { out: string; lang: string }, cmd: Command) => {
      const ctx = contextFor(cmd);
      const store = await Store.open(ctx.storePath, { readOnly: true });
      try {
        const result = await ctx.progress.step(`Rendering ${path.basename(file)}`, () =>
          renderNotebook(path.resolve(file), { store, outDir: path.resolve(opts.out), lang: parseLang(opts.lang), reporter: ctx.reporter }),
        );
        ctx.reporter.out(`${result.htmlFile} (${formatBytes(result.bytes)}, ${result.charts.length} charts, ${formatDuration(result.ms)})`);
      } finally {
        store.close();
      }
    });
}
