/**
 * The layout of `crm --help`: one line per command (nested ones such as `model show` listed in
 * full), short summaries in the list, and a usage-error hint naming the command's own help.
 * Kept out of cli.ts so the entry point stays thin: it parses, calls, prints.
 */
import { Help, type Argument, type Command } from 'commander';

const defaultHelp = new Help();

/**
 * Short descriptions for the command list of `crm --help` (the full description stays in
 * `crm COMMAND --help`). Commands that set their own `.summary()` keep it; any other command
 * gets its description shortened.
 */
const SUMMARIES: Record<string, string> = {
  ingest: 'load customer, transaction, contract, owner files',
  quality: 'data-quality report of what was loaded',
  query: 'run read-only SQL against the store',
  generate: 'write synthetic customers, transactions, contracts',
  run: 'score customers: RFM, churn, lifetime value, 80/20',
  'model show': 'fitted model parameters and backtest of a run',
  forecast: 'expected purchases and value per month, with bands',
  keyaccounts: 'the 80/20 key accounts with trend and churn risk',
  owners: "account managers' books and unowned key accounts",
  'owners assign': 'propose owners for the unowned key accounts',
  customer: 'find a customer by id, e-mail, phone or name',
  'merges list': 'merged duplicate ids, in effect and undone',
  'merges undo': 'reverse a merge: both ids are scored apart again',
  renewals: 'contracts due for renewal, by value at risk',
  audit: 'who exported, reported or erased which customers',
  forget: "erase customers' personal data (right to erasure)",
  'notebook render': 'render a Markdown notebook into an HTML report',
};
/** Longest command-list description that fits an 80-column terminal next to the terms. */
const SUMMARY_MAX = 50;

function hasSubcommands(cmd: Command): boolean {
  return cmd.commands.length > 0;
}

/** Commands with subcommands that also run on their own (`crm owners`, `crm owners assign`): listed too. */
const RUNS_ALONE: ReadonlySet<string> = new Set(['owners']);

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
export function shorten(text: string): string {
  if (text.length <= SUMMARY_MAX) return text;
  const clause = /^(.{12,}?)(?::\s|\s\(|,\s|\s—\s)/.exec(text)?.[1];
  if (clause && clause.length <= SUMMARY_MAX) return clause;
  return text.slice(0, SUMMARY_MAX - 1).trimEnd() + '…';
}

/** The command list's layout: one line per command, nested ones listed in full. */
export function configureCommandList(program: Command): void {
  program.configureHelp({
    visibleCommands: (cmd) => defaultHelp.visibleCommands(cmd).flatMap((c) => (hasSubcommands(c) ? [...(RUNS_ALONE.has(c.name()) ? [c] : []), ...defaultHelp.visibleCommands(c).filter((s) => s.name() !== 'help')] : [c])),
    subcommandTerm: (cmd) => [commandPath(cmd), ...cmd.registeredArguments.map(argumentTerm)].join(' '),
    subcommandDescription: (cmd) => cmd.summary() || shorten(cmd.description()),
  });
}

/** Summaries for the list, and a usage-error hint naming the command's own help. */
export function applySummaries(cmd: Command): void {
  for (const sub of cmd.commands) {
    const key = commandPath(sub);
    if (!sub.summary() && SUMMARIES[key]) sub.summary(SUMMARIES[key]);
    sub.showHelpAfterError(`(see \`crm ${key} --help\`)`);
    applySummaries(sub);
  }
  if (!cmd.parent) cmd.showHelpAfterError('(see `crm --help`)');
}
