/**
 * Command definitions: flags and the one library call each command makes. Kept apart from
 * the top-level cli.ts (process concerns: exit codes, error printing).
 *
 * Each action imports its library module when it runs: a command only loads what it uses
 * (`crm --version` needs none of DuckDB, exceljs or vega), which keeps start-up short.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { loadConfig, type CrmConfig } from './config.js';
import { GENERATE_DEFAULTS } from './generate/options.js';
import { EXPORT_FORMATS, formatFromPath, parseColumns, parseFormat, type ExportFormat } from './reports/export-options.js';
import type { ExportResult, SegmentExportResult } from './reports/export.js';
import { LANGS, parseLang } from './reports/i18n.js';
import type { DatasetKind } from './ingest/fields.js';
import type { QueryFormat } from './store/query.js';
import type { AuditEntry, HandOut } from './store/audit.js';
import type { StagedFile } from './reports/atomic-file.js';
import { resolveStorePath } from './store/path.js';
import { dateFlag } from './util/dates.js';
import { usageError } from './util/errors.js';
import { formatBytes, formatCount, formatDuration, jsonText, renderTable } from './util/format.js';
import { createReporter, type Reporter } from './util/log.js';
import { createProgress, type Progress } from './util/progress.js';

export interface GlobalOptions {
  db?: string;
  quiet?: boolean;
  config?: string;
  /** Seconds to wait for a store another process holds (set up in cli.ts for every store opened). */
  wait?: number;
  /** The command's memory budget in DuckDB's spelling, e.g. 4GB; DuckDB gets three quarters (store/memory.ts; set up in cli.ts for every store opened). */
  memoryLimit?: string;
}

export interface CommandContext {
  storePath: string;
  reporter: Reporter;
  progress: Progress;
  quiet: boolean;
  json: boolean;
  config: () => CrmConfig;
}

/** Build the per-invocation context from the global flags and a command's --json flag. */
export function contextFor(cmd: Command): CommandContext {
  const g = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
  const quiet = Boolean(g.quiet);
  const json = Boolean(g.json);
  let config: CrmConfig | undefined;
  return {
    storePath: resolveStorePath(g.db),
    reporter: createReporter({ quiet, json }),
    // With --json, stdout carries only the JSON document; progress stays on stderr.
    progress: createProgress({ quiet }),
    quiet,
    json,
    config: () => (config ??= loadConfig(g.config)),
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(jsonText(value) + '\n');
}

/** A command's result: the JSON document with --json, else lines for people. */
function emit<T>(ctx: CommandContext, value: T, format: (value: T) => string[]): void {
  if (ctx.json) printJson(value);
  else for (const line of format(value)) ctx.reporter.out(line);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A whole-number flag; run ids (`--run`) are positive. */
const integerFlag =
  (flag: string, { positive = false } = {}) =>
  (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw usageError(`${flag} ${JSON.stringify(value)}: not a whole number`);
    const n = Number(value);
    if (positive && n < 1) throw usageError(`${flag} ${value}: a run id is a positive whole number (see \`crm query "SELECT run_id FROM runs"\`)`);
    return n;
  };

/** `crm merges undo ID`: a merge id, a positive whole number. */
const mergeIdArgument = (value: string): number => {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw usageError(`merge id ${JSON.stringify(value)}: a merge id is a positive whole number (see crm merges)`);
  return Number(value);
};

/** A decimal-number flag, read whole: `0.1x` is refused, not read as 0.1. */
const numberFlag = (flag: string) => (value: string): number => {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n)) throw usageError(`${flag} ${JSON.stringify(value)}: not a number`);
  return n;
};

/**
 * An empty value on the command line (`--out ""`, `--as-of ""`, `crm customer ""`) is a mistake,
 * typically an unset shell variable, that would otherwise quietly mean the current folder or the
 * default. Refused before any command runs.
 */
function refuseEmptyValues(cmd: Command): void {
  for (let c: Command | null = cmd; c; c = c.parent) {
    for (const option of c.options) {
      const value: unknown = c.getOptionValue(option.attributeName());
      if (value === '' || (Array.isArray(value) && value.includes(''))) {
        throw usageError(`${option.long ?? option.name()} is empty: give a value, or leave the option out`);
      }
    }
  }
  cmd.registeredArguments.forEach((arg, i) => {
    const value: unknown = cmd.processedArgs[i];
    if (value === '' || (Array.isArray(value) && value.includes(''))) throw usageError(`the ${arg.name()} argument is empty`);
  });
}

/** `--allow-files DIR`: an existing folder, as an absolute path. */
function parseAllowedFolder(value: string): string {
  const folder = path.resolve(value);
  if (value.trim() === '' || !fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    throw usageError(`--allow-files: no folder ${JSON.stringify(value)}`, ['Give a folder that holds the files the notebook reads.']);
  }
  return folder;
}

/** `--wait SECONDS`: how long a command waits for a store another process holds. */
export function parseWaitSeconds(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value.trim())) throw usageError(`--wait ${JSON.stringify(value)}: give a number of seconds, e.g. --wait 30`);
  return Number(value);
}

/** The format of an export: --format, else the --out extension (a mismatch is warned about). */
function exportFormatOf(opts: { format?: ExportFormat; out: string }, ctx: CommandContext): ExportFormat {
  const implied = formatFromPath(opts.out);
  const format = opts.format ?? implied;
  if (!format) {
    throw usageError(`cannot tell the export format from the file name ${JSON.stringify(path.basename(opts.out))}`, [
      `Add --format ${EXPORT_FORMATS.join('|')}, or name the file .csv, .xlsx, .parquet, .arrow or .json.`,
    ]);
  }
  if (implied && implied !== format) ctx.reporter.warn(`writing ${format} to ${path.basename(opts.out)}, whose extension suggests ${implied}`);
  return format;
}

/** What every file export reports about the file it wrote (its `--json` fields and its text lines). */
interface WrittenFile {
  rows: number;
  path: string;
  format: string;
  bytes: number;
  columns: string[];
  maskedColumns: string[];
  warnings: string[];
}

function writtenFileJson(r: WrittenFile): Record<string, unknown> {
  return { rows: r.rows, path: r.path, format: r.format, bytes: r.bytes, columns: r.columns, masked_columns: r.maskedColumns, warnings: r.warnings };
}

function reportWrittenFile(ctx: CommandContext, r: WrittenFile, what: string, maskPii: boolean | undefined): void {
  ctx.reporter.out(`${what} written to ${r.path} (${r.format}, ${formatBytes(r.bytes)})`);
  ctx.reporter.out(`columns: ${r.columns.join(', ')}`);
  if (maskPii) ctx.reporter.out(`masked: ${r.maskedColumns.length ? r.maskedColumns.join(', ') : 'none (no e-mail or phone column exported)'}`);
}

/** `--max N` of `crm owners assign`: key accounts per owner, a whole number, at least 1 (as models.key_accounts.max_per_owner). */
const maxPerOwnerFlag = (value: string): number => {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw usageError(`--max ${JSON.stringify(value)}: give the most key accounts per owner, a whole number, at least 1`);
  return Number(value);
};

/** `--within DAYS` for the renewal list: a whole number of days, 0 or more (0: due today, or in grace). */
const withinDaysFlag = (value: string): number => {
  if (!/^\d+$/.test(value.trim())) throw usageError(`--within ${JSON.stringify(value)}: give a whole number of days, 0 or more, e.g. --within 60`);
  return Number(value);
};

/** `crm audit --limit N`: a whole number of rows, 1 or more. */
const auditLimitFlag = (value: string): number => {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw usageError(`--limit ${JSON.stringify(value)}: give a whole number of rows, 1 or more`);
  return Number(value);
};

/** Whether `flag` was written after the command's own name on the command line. */
function flagAfterCommand(cmd: Command, flag: string): boolean {
  // rawArgs (the argv commander parsed) is not in commander's type declarations.
  const raw = (cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [];
  const at = raw.indexOf(cmd.name());
  return at >= 0 && raw.slice(at + 1).some((a) => a === flag || a.startsWith(`${flag}=`));
}

/** Deliver staged export files once their audit row is written; discard them if it cannot be. */
function stagedHandOut(staged: StagedFile[]): HandOut {
  return {
    deliver: async () => {
      const { commitAll } = await import('./reports/export-owners.js');
      await commitAll(staged);
    },
    undo: async () => {
      for (const f of staged) await f.discard();
    },
  };
}

/** Remove files a report wrote (its hand-out could not be audited). */
async function removeFiles(files: string[]): Promise<void> {
  for (const f of files) await fs.promises.rm(f, { force: true }).catch(() => undefined);
}

/** The audit trail's one door for the commands (loaded with the first hand-out). */
async function auditHandOut(storePath: string, entry: AuditEntry, handOut: HandOut): Promise<number> {
  const audit = await import('./store/audit.js');
  return audit.auditHandOut(storePath, entry, handOut);
}

export function registerCommands(program: Command): void {
  program.hook('preAction', (_program, actionCommand) => refuseEmptyValues(actionCommand));
  program
    .command('ingest')
    .description('load customer, transaction, contract, account-owner or merge files (CSV/TSV, XLSX, JSON/NDJSON, Parquet) into the store')
    .argument('<kind>', 'what the files hold: transactions | customers | contracts (one row per contract period) | owners (customer_id, account_owner, team, owner_email) | merges (duplicate_id, surviving_id, confidence, evidence)')
    .argument('<files...>', 'one or more files; all load in one transaction')
    .addOption(new Option('--format <format>', 'override format detection').choices(['csv', 'tsv', 'parquet', 'json', 'ndjson', 'xlsx']))
    .option('--encoding <name>', 'text encoding: utf-8 (default), gb18030, gbk, utf-16, latin1, windows-1252, big5, shift_jis')
    .option('--sheet <name>', 'XLSX: read only this sheet (default: every sheet)')
    .option('--delimiter <char>', 'CSV: the field delimiter (default: detected; "tab" for tabs, "whitespace" for runs of blanks)')
    .option('--map <target=source>', 'map a canonical field to a source column; repeatable', collect)
    .option('--date-format <fmt>', 'DMY, MDY, YMD or a strptime format such as %d.%m.%Y (default: detected)')
    .option('--decimal-separator <mark>', '. or , — the decimal mark of amounts, quantities and prices (default: decided from the values)')
    .option('--return-pattern <regex>', 'order ids matching this are returns (default: ^C)')
    .option('--replace', 'swap the rows of an earlier load of the same file for this version')
    .option('--append', 'load a changed version of a file loaded before, keeping the earlier rows; also loads rows loaded before from other files')
    .option('--skip-overlap', 'transactions, contracts: load only the rows not loaded before from other files (the others are rejected as already_loaded)')
    .option('--json', 'print the ingest report as JSON')
    .action(async (kind: string, files: string[], opts, cmd: Command) => {
      const { ingest, formatIngestReport } = await import('./ingest/index.js');
      const { DATASET_KINDS } = await import('./ingest/fields.js');
      if (!(DATASET_KINDS as readonly string[]).includes(kind)) {
        throw usageError(`unknown kind ${JSON.stringify(kind)}: use \`crm ingest transactions FILE\`, \`crm ingest customers FILE\`, \`crm ingest contracts FILE\`, \`crm ingest owners FILE\` or \`crm ingest merges FILE\``);
      }
      const ctx = contextFor(cmd);
      const report = await ingest({ kind: kind as DatasetKind, files, storePath: ctx.storePath, ...opts, config: ctx.config(), reporter: ctx.reporter, progress: ctx.progress });
      emit(ctx, report, formatIngestReport);
    });

  program
    .command('quality')
    .description('data-quality report: completeness, duplicates, invalid contacts, odd dates, orphans, contract periods (gaps, overlaps), rejects')
    .option('--as-of <date>', 'dates after this are "future" (default: today)', dateFlag('--as-of'))
    .option('--json', 'print the report as JSON (stable keys)')
    .option('--suggest-merges', 'instead of the report: write a merge file of customer ids that look like one customer (same e-mail, phone, or a near-identical name in the same region) to review, then load with crm ingest merges')
    .option('--out <file>', `--suggest-merges: the merge file to write (CSV; default ${'merge-suggestions.csv'})`)
    .option('--force', '--suggest-merges: replace the file if it exists')
    .option('--show-pii', '--suggest-merges: write e-mails and phones as stored (default: masked)')
    .action(async (opts: { asOf?: string; suggestMerges?: boolean; out?: string; force?: boolean; showPii?: boolean }, cmd: Command) => {
      const ctx = contextFor(cmd);
      if (!opts.suggestMerges) {
        const stray = (['out', 'force', 'showPii'] as const).filter((k) => opts[k] !== undefined);
        if (stray.length) throw usageError(`${stray.map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(', ')}: only with --suggest-merges`);
      } else {
        if (opts.asOf !== undefined) throw usageError('--as-of applies to the quality report, not to --suggest-merges');
        const { suggestMerges, formatSuggestResult, DEFAULT_SUGGESTIONS_FILE } = await import('./merges/suggest.js');
        const result = await suggestMerges({ storePath: ctx.storePath, out: opts.out ?? DEFAULT_SUGGESTIONS_FILE, force: opts.force, showPii: opts.showPii });
        emit(ctx, result, formatSuggestResult);
        return;
      }
      const { qualityReport, formatQualityReport } = await import('./ingest/quality.js');
      const { resolveRunOptions } = await import('./run/settings.js');
      // Gaps between contract periods are judged with the grace period renewal detection uses.
      const graceDays = resolveRunOptions({}, ctx.config()).settings.contracts.grace_days;
      const report = await qualityReport(ctx.storePath, opts.asOf, { graceDays });
      emit(ctx, report, formatQualityReport);
    });

  program
    .command('query')
    .description('run read-only SQL against the store (tables: transactions, customers, rejects, loads, …)')
    .argument('<sql>', 'one or more SELECT statements')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .addOption(new Option('--json', 'the same as --format json, like the other commands').conflicts('format'))
    .action(async (sql: string, opts: { format: QueryFormat; json?: boolean }, cmd: Command) => {
      const { runReadOnlyQuery, formatQueryResult } = await import('./store/query.js');
      const ctx = contextFor(cmd);
      const results = await runReadOnlyQuery(ctx.storePath, sql);
      for (const r of results) process.stdout.write(formatQueryResult(r, opts.json ? 'json' : opts.format));
    });

  program
    .command('generate')
    .description('write deterministic synthetic customers.csv and transactions.csv, and with --contracts a policy book contracts.csv (for demos, tests, benchmarks)')
    .option('--customers <n>', 'number of purchase customers (about 4 transaction lines each); required unless --contracts is given', integerFlag('--customers'))
    .option('--contracts <n>', 'also write contracts.csv: N contracts (policies, plans) with one row per period, and contracts.truth.json', integerFlag('--contracts'))
    .option('--seed <n>', 'random seed: the same seed gives byte-identical files', integerFlag('--seed'), GENERATE_DEFAULTS.seed)
    .requiredOption('--out <dir>', 'output folder')
    .option('--end-date <date>', 'last day of the simulated period', dateFlag('--end-date'), GENERATE_DEFAULTS.endDate)
    .option('--years <n>', 'length of the period in years', integerFlag('--years'), GENERATE_DEFAULTS.years)
    .option('--dirty-share <share>', 'share of transaction lines (and contract rows) made dirty (0 for none)', numberFlag('--dirty-share'), GENERATE_DEFAULTS.dirtyShare)
    .addOption(new Option('--lang <lang>', "contracts.csv's header language (zh: 保单号, 起保日期, …)").choices(['en', 'zh']).default(GENERATE_DEFAULTS.lang))
    .option('--json', 'print the generation summary as JSON')
    .action(
      async (
        opts: { customers?: number; contracts?: number; seed: number; out: string; endDate: string; years: number; dirtyShare: number; lang: 'en' | 'zh' },
        cmd: Command,
      ) => {
        if (opts.customers === undefined && opts.contracts === undefined) {
          throw usageError("required option '--customers <n>' not specified", ['Give --customers N, or --contracts N for a policy book (add --customers N for customers who also buy).']);
        }
        if (opts.lang !== GENERATE_DEFAULTS.lang && opts.contracts === undefined) {
          throw usageError('--lang applies to contracts.csv only: give --contracts N with it');
        }
        const { generate, describeResult } = await import('./generate/index.js');
        const ctx = contextFor(cmd);
        const customers = opts.customers ?? 0;
        const what = [
          customers > 0 ? `${customers.toLocaleString('en-US')} customers` : null,
          opts.contracts !== undefined ? `${opts.contracts.toLocaleString('en-US')} contracts` : null,
        ].filter(Boolean).join(' and ');
        const result = await ctx.progress.step(`generating ${what}`, (tick) =>
          generate({
            customers,
            contracts: opts.contracts,
            lang: opts.lang,
            seed: opts.seed,
            outDir: path.resolve(opts.out),
            endDate: opts.endDate,
            years: opts.years,
            dirtyShare: opts.dirtyShare,
            onProgress: (f) => tick(f),
          }),
        );
        emit(ctx, result, describeResult);
      },
    );

  program
    .command('run')
    .description('score every customer as of a date: RFM segments, churn risk (BG/NBD, Pareto/NBD, MBG/NBD or BG/BB: --model), lifetime value, 80/20 key accounts, cohorts')
    .option('--as-of <date>', "score as of this day, inclusive (default: the data's last date: the latest transaction, contract period start or cancellation)", dateFlag('--as-of'))
    .addOption(new Option('--time-unit <unit>', 'time unit of the purchase model (with --model bgbb: the period, month or year)').choices(['day', 'week', 'month', 'year']))
    .option('--holdout-end <date>', 'backtest: compare predictions with what happened from --as-of to this date', dateFlag('--holdout-end'))
    .option('--horizon <months>', 'months ahead for expected purchases and CLV (default 12)')
    .option('--since <date>', 'start of the 80/20 revenue window (default: all history)', dateFlag('--since'))
    .option('--share <share>', 'revenue share that defines key accounts (default 0.8)')
    .addOption(new Option('--model <model>', 'purchase model: auto (default: fit BG/NBD, Pareto/NBD and MBG/NBD, pick by the holdout error with --holdout-end, else by BIC; never the BG/BB), bgnbd, pareto-nbd, mbgnbd, or bgbb (discrete periods: with --time-unit month or year)').choices(['bgnbd', 'pareto-nbd', 'mbgnbd', 'auto', 'bgbb']))
    .addOption(new Option('--churn-basis <score>', 'what the churn tiers are cut from: p_no_purchase (default: no purchase within the horizon) or churn_risk (1 − P(alive))').choices(['p_no_purchase', 'churn_risk']))
    .option('--covariates <names>', 'covariates of the purchase model, comma-separated: region (customers table), channel (of the first purchase); coefficients and a likelihood-ratio test in crm model show')
    .option('--source <source>', 'read the transactions where they live: clickhouse://HOST:PORT/DATABASE.TABLE or a source NAME from crm.config.json (sources.NAME); the heavy SQL runs on the cluster, the results are written to this store and to crm_customer_metrics on the cluster')
    .option('--map <field=column>', "with --source: the source table's column for a field it names otherwise (customer_id, order_id, order_date, amount, is_return, cost); repeatable", collect)
    .option('--interval <level>', 'level of the intervals of expected purchases and CLV (clv_low/high, expected_purchases_low/high), between 0 and 1 (default 0.9)')
    .option('--json', 'print the run as JSON')
    .action(async (opts: { asOf?: string; timeUnit?: string; holdoutEnd?: string; horizon?: string; since?: string; share?: string; model?: string; churnBasis?: string; covariates?: string; source?: string; map?: string[]; interval?: string }, cmd: Command) => {
      const { runModels } = await import('./run/index.js');
      const { formatRunResult } = await import('./run/format.js');
      const ctx = contextFor(cmd);
      const result = await runModels({ storePath: ctx.storePath, flags: opts, config: ctx.config(), reporter: ctx.reporter, progress: ctx.progress });
      emit(ctx, result, formatRunResult);
    });

  const model = program.command('model').description('the fitted models of a run');
  model
    .command('show')
    .description('purchase model (BG/NBD, Pareto/NBD or MBG/NBD), Gamma-Gamma and contract sBG parameters, fit diagnostics and the backtests of the latest run')
    .option('--run <id>', 'a run other than the latest', integerFlag('--run', { positive: true }))
    .option('--json', 'print as JSON')
    .action(async (opts: { run?: number }, cmd: Command) => {
      const { modelShow, formatModelShow } = await import('./run/views.js');
      const ctx = contextFor(cmd);
      const shown = await modelShow(ctx.storePath, opts.run);
      emit(ctx, shown, formatModelShow);
    });

  program
    .command('forecast')
    .description("expected purchases and discounted value per month (or week) of the latest run's horizon, for all customers, a segment, a value tier or one customer, with the interval from the parameters' uncertainty")
    .option('--by <period>', 'month (default) or week; a BG/BB run (crm run --model bgbb) by its own period, month or year (its default)')
    .option('--segment <name>', 'only this RFM segment (e.g. "At Risk")')
    .option('--tier <name>', 'only this value tier (e.g. Gold)')
    .option('--customer <id>', 'only this customer (exact id)')
    .option('--run <id>', 'a run other than the latest', integerFlag('--run', { positive: true }))
    .option('--out <file>', 'also write the table to a file: .csv or .xlsx (audited, as every hand-out)')
    .option('--force', 'replace the --out file if it exists')
    .option('--json', 'print as JSON: { run_id, as_of, model, by, scope, customers, level, horizon_months, discount_rate, periods: [{ period, start, end, expected_purchases, expected_purchases_low, expected_purchases_high, value, value_low, value_high }], total }')
    .addHelpText(
      'after',
      `
Examples:
  crm forecast
  crm forecast --by week --segment "At Risk"
  crm forecast --tier Gold --out out/gold-forecast.xlsx
  crm forecast --customer C0000049 --json`,
    )
    .action(async (opts: { by?: string; segment?: string; tier?: string; customer?: string; run?: number; out?: string; force?: boolean }, cmd: Command) => {
      const { computeForecast, parseForecastFlags, formatForecast, forecastRows, FORECAST_COLUMNS, scopeLabel } = await import('./run/forecast.js');
      const ctx = contextFor(cmd);
      const { by, scope } = parseForecastFlags(opts);
      const format = opts.out === undefined ? null : formatFromPath(opts.out);
      if (opts.out !== undefined && format !== 'csv' && format !== 'xlsx') throw usageError(`--out ${opts.out}: name a .csv or .xlsx file`);
      const { Store } = await import('./store/db.js');
      const store = await Store.open(ctx.storePath, { readOnly: true });
      let result;
      let written: ExportResult | undefined;
      try {
        result = await computeForecast(store, { by, scope, runId: opts.run });
        if (opts.out !== undefined) {
          const { writeTempRows } = await import('./store/columnar.js');
          const { exportQuery } = await import('./reports/export.js');
          const rows = forecastRows(result);
          await writeTempRows(store, 'forecast_out', {
            row_order: { type: 'INTEGER', values: rows.map((_, i) => i) },
            ...Object.fromEntries(
              FORECAST_COLUMNS.map((c) => [
                c,
                c === 'period' || c === 'start' || c === 'end'
                  ? { type: 'VARCHAR' as const, values: rows.map((r) => (r[c] === null ? null : String(r[c]))) }
                  : { type: 'DOUBLE' as const, values: rows.map((r) => (r[c] === null ? NaN : Number(r[c]))) },
              ]),
            ),
          });
          written = (await exportQuery(store, `SELECT ${FORECAST_COLUMNS.map((c) => `"${c}"`).join(", ")} FROM temp.forecast_out ORDER BY row_order`, {
            format: format!,
            out: opts.out,
            force: opts.force,
            sheetName: 'Forecast',
            stage: true,
          }));
        }
      } finally {
        store.close();
      }
      if (written) {
        await auditHandOut(ctx.storePath, {
          command: 'forecast',
          what: scopeLabel(scope),
          path: written.path,
          runId: result.run_id,
          customers: result.customers,
          rows: written.rows,
          masked: true,
          details: { format: written.format, by, scope: scope.kind, columns: written.columns },
        }, stagedHandOut([written.staged!]));
      }
      const file = written ? { rows: written.rows, path: written.path, format: written.format, bytes: written.bytes } : null;
      emit(ctx, written ? { ...result, file } : result, (r) => [...formatForecast(r), ...(file ? ['', `forecast written to ${file.path} (${file.format}, ${formatBytes(file.bytes)})`] : [])]);
    });

  program
    .command('keyaccounts')
    .description('the 80/20 key accounts of the latest run, with trend, churn risk, tier, owner and at-risk flags')
    .option('--share <share>', 'revenue share that defines key accounts (default: the run\'s, 0.8)')
    .option('--owner <name>', "only this account owner's key accounts (exact name; see crm owners)")
    .option('--json', 'print as JSON')
    .action(async (opts: { share?: string; owner?: string }, cmd: Command) => {
      const { keyAccounts, formatKeyAccounts } = await import('./run/views.js');
      const ctx = contextFor(cmd);
      const result = await keyAccounts(ctx.storePath, opts.share, opts.owner);
      emit(ctx, result, formatKeyAccounts);
    });

  const ownersCmd = program
    .command('owners')
    .description("the account managers' books in the latest run: key accounts, at risk, revenue, CLV, changes; unowned key accounts. The owners' e-mail addresses are masked unless --show-pii")
    .option('--show-pii', "show the owners' e-mail addresses as stored (masked by default)")
    .option('--json', 'print as JSON: { run_id, owners: [{ owner, team, customers, key_accounts, at_risk, revenue, clv, new_key_accounts, new_at_risk, lost, owner_email }], unowned_key_accounts, over_limit }')
    .action(async (opts: { showPii?: boolean }, cmd: Command) => {
      const { Store } = await import('./store/db.js');
      const { owners, formatOwners } = await import('./reports/owners.js');
      const { resolveRunOptions } = await import('./run/settings.js');
      const ctx = contextFor(cmd);
      const maxPerOwner = resolveRunOptions({}, ctx.config()).settings.key_accounts.max_per_owner;
      const store = await Store.open(ctx.storePath, { readOnly: true });
      try {
        const { result, previousRunId } = await owners(store, maxPerOwner, { showPii: Boolean(opts.showPii) });
        emit(ctx, result, (r) => formatOwners(r, previousRunId));
      } finally {
        store.close();
      }
    });
  ownersCmd
    .command('assign')
    .summary('propose owners for the unowned key accounts')
    .description(
      "propose owners for the key accounts of the latest run that nobody owns — existing assignments kept, at most --max key accounts per owner, the largest account to the lightest book, same region or industry first — and write the proposal as an owners file to review and load with `crm ingest owners`; the store is not changed",
    )
    .option('--max <n>', 'most key accounts per owner (default models.key_accounts.max_per_owner, 10)', maxPerOwnerFlag)
    .option('--dry-run', 'print the proposal; write nothing')
    .option('--out <file>', 'the owners file to write (CSV)', 'out/owners-proposal.csv')
    .option('--force', 'replace the file if it exists')
    .option('--show-pii', "--json: show the owners' e-mail addresses as stored (masked by default; the file has them as stored)")
    .option('--json', 'print the proposal as JSON')
    .addHelpText(
      'after',
      `
Examples:
  crm owners assign --dry-run
  crm owners assign --max 12 --out out/owners-proposal.csv
  crm ingest owners out/owners-proposal.csv`,
    )
    .action(async (opts: { max?: number; dryRun?: boolean; out: string; force?: boolean; showPii?: boolean }, cmd: Command) => {
      const { Store } = await import('./store/db.js');
      const { assignOwners, formatAssign, maskProposalEmails } = await import('./reports/owner-assign.js');
      const { resolveRunOptions } = await import('./run/settings.js');
      const ctx = contextFor(cmd);
      const max = opts.max ?? resolveRunOptions({}, ctx.config()).settings.key_accounts.max_per_owner;
      const store = await Store.open(ctx.storePath, { readOnly: true });
      try {
        const result = await assignOwners(store, { max, out: opts.dryRun ? null : opts.out, force: opts.force });
        emit(ctx, opts.showPii ? result : await maskProposalEmails(store, result), formatAssign);
      } finally {
        store.close();
      }
    });

  const merges = program.command('merges').description('merges of duplicate customer ids: list them, undo one');
  merges
    .command('list', { isDefault: true })
    .description('the merges recorded (crm ingest merges), in effect and undone: duplicate → surviving id, confidence, evidence, when, from which file')
    .option('--json', 'print as JSON: { merges: [{ merge_id, duplicate_id, surviving_id, confidence, evidence, source_file, source_row, load_id, merged_at, status, undone_at, undone_by }], in_effect, undone }')
    .action(async (_opts: unknown, cmd: Command) => {
      const { Store } = await import('./store/db.js');
      const { listMerges, formatMergeList } = await import('./merges/list.js');
      const ctx = contextFor(cmd);
      const store = await Store.open(ctx.storePath, { readOnly: true });
      try {
        emit(ctx, await listMerges(store), formatMergeList);
      } finally {
        store.close();
      }
    });
  merges
    .command('undo')
    .description('reverse a merge: the next crm run scores both ids apart again (the merge stays listed, marked undone, with when and by whom)')
    .argument('<id>', 'the merge id (crm merges lists them)', mergeIdArgument)
    .option('--json', 'print the merge as JSON')
    .action(async (id: number, _opts: unknown, cmd: Command) => {
      const { Store } = await import('./store/db.js');
      const { undoMerge, formatUndo } = await import('./merges/list.js');
      const ctx = contextFor(cmd);
      const store = await Store.open(ctx.storePath);
      try {
        emit(ctx, await store.transaction(() => undoMerge(store, id)), formatUndo);
      } finally {
        store.close();
      }
    });

  program
    .command('customer')
    .description(
      'find a customer by id (exact), e-mail or phone (normalised as `crm quality` does), name (case- and width-insensitive, in part) or --where on the customers file\'s other columns; one match shows the 360° view — profile, latest scores, history across runs, last orders and returns — several list the candidates with what matched. E-mail and phone (and names, with privacy.mask_names) are masked unless --show-pii',
    )
    .argument('[query]', 'a customer id, e-mail address, phone number or (part of a) name')
    .option('--where <key=value>', "a column of the customers file kept in attributes holds this value (repeatable: all must hold)", collect)
    .option('--limit <n>', 'the most candidates listed', '20')
    .option('--show-pii', 'show e-mail, phone and name as stored (masked by default)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Examples:
  crm customer C0000049
  crm customer "+55 11 99585-7900"
  crm customer bluefield --limit 5
  crm customer --where plate=沪A12345 --show-pii`,
    )
    .action(async (query: string | undefined, opts: { where?: string[]; limit: string; showPii?: boolean }, cmd: Command) => {
      const { lookupCustomer, parseWhere, parseLimit, formatCandidates } = await import('./run/lookup.js');
      const { formatCustomer360 } = await import('./run/customer360.js');
      const ctx = contextFor(cmd);
      const where = (opts.where ?? []).map(parseWhere);
      const limit = parseLimit(opts.limit);
      const maskNames = ctx.config().privacy?.mask_names ?? false;
      const showPii = Boolean(opts.showPii);
      const result = await lookupCustomer(ctx.storePath, query ?? null, { where, limit, showPii, maskNames });
      // Every lookup that shows a customer is audited, masked or not (a 360° view is an access to
      // a person's record, as in a bank's or an insurer's CRM); the row is written before anything
      // is shown. The row says how the customer was found, never the query itself (it may be a
      // phone number or a name).
      const shown = result.kind === 'customer' ? 1 : result.list.candidates.length;
      if (shown > 0) {
        await auditHandOut(ctx.storePath, {
          command: 'customer',
          what: result.kind === 'customer' ? '360° view' : 'candidate list',
          customers: shown,
          rows: shown,
          masked: !showPii,
          details: {
            matched: result.kind === 'customer' ? result.customer.matched : [...new Set(result.list.candidates.flatMap((c) => c.matched))],
            where_keys: where.map((w) => w.key),
            mask_names: maskNames,
          },
        }, {});
      }
      if (result.kind === 'customer') emit(ctx, result.customer, formatCustomer360);
      else emit(ctx, result.list, formatCandidates);
    });

  program
    .command('audit')
    .description('the audit trail: who exported, reported, looked up or erased how many customers, when, masked or not (newest first)')
    .option('--since <date>', 'rows logged on or after this day (UTC)', dateFlag('--since'))
    .option('--actor <name>', 'only this actor (as --actor, $CRM_ACTOR or the OS user gave it)')
    .option('--command <command>', "only this command, e.g. 'export segment', report, customer, forget")
    .option('--limit <n>', 'the most rows listed (default 50)', auditLimitFlag, 50)
    .option('--json', 'print as JSON: { total, limit, entries: [{ audit_id, logged_at, command, actor, actor_source, what, path, run_id, customers, rows, masked, details }] }')
    .addHelpText(
      'after',
      `
Examples:
  crm audit
  crm audit --since 2026-12-01 --command "export segment"
  crm audit --actor li.na --json`,
    )
    .action(async (opts: { since?: string; actor?: string; command?: string; limit: number }, cmd: Command) => {
      const { Store } = await import('./store/db.js');
      const { listAudit, formatAudit } = await import('./reports/audit-log.js');
      const ctx = contextFor(cmd);
      // Commander hands a flag that both the program and the command define to the program: the
      // global --actor (who runs a command) takes `crm audit --actor NAME` too. Written after
      // `audit`, it is this command's filter (crm audit writes no audit row: who runs it does not matter).
      const actor = opts.actor ?? (flagAfterCommand(cmd, '--actor') ? cmd.optsWithGlobals<{ actor?: string }>().actor : undefined);
      const store = await Store.open(ctx.storePath, { readOnly: true });
      try {
        const listing = await listAudit(store, { since: opts.since, actor, command: opts.command, limit: opts.limit });
        emit(ctx, listing, formatAudit);
      } finally {
        store.close();
      }
    });

  program
    .command('forget')
    .description("erase customers' personal data everywhere the store keeps it (right to erasure: PIPL, GDPR): ids become forgotten-<n>, names, e-mail, phone, attributes and rejected lines naming them are removed, aggregates stay; the store is rewritten so that no freed block keeps the old data")
    .argument('<ids...>', 'customer ids, as the store has them (crm customer QUERY finds one)')
    .option('--reason <text>', 'why, e.g. a ticket number; kept in the audit trail (never the person\'s data)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  crm forget C0000049 --reason "request #1234"
  crm --actor dpo forget C0000049 C0000107 --json`,
    )
    .action(async (ids: string[], opts: { reason?: string }, cmd: Command) => {
      const { forget } = await import('./store/forget.js');
      const ctx = contextFor(cmd);
      const result = await ctx.progress.step(`erasing ${formatCount(ids.length)} customer${ids.length === 1 ? '' : 's'}`, () => forget(ctx.storePath, ids, { reason: opts.reason }));
      emit(ctx, { ...result, rewrite_ms: Math.round(result.rewrite_ms) }, (r) => [
        `erased the personal data of ${formatCount(r.customers)} customer${r.customers === 1 ? '' : 's'} (audit row ${r.audit_id})`,
        ...r.tables.map((t) => `  ${t.table}: ${formatCount(t.rows_changed)} row${t.rows_changed === 1 ? "" : "s"} changed`),
        `store rewritten in ${formatDuration(r.rewrite_ms)} (${formatBytes(r.bytes_before)} → ${formatBytes(r.bytes_after)}); the old file's bytes were overwritten`,
      ]);
    });

  program
    .command('renewals')
    .description('the renewal-due list of the latest run: contracts due within DAYS (or in grace), by value at risk, with owner and reason')
    .option('--within <days>', "days after the run's as-of date (default 30)", withinDaysFlag)
    .option('--owner <name>', "only the contracts of this account owner's customers (exact name)")
    .addOption(new Option('--lang <lang>', 'language of the reasons').choices([...LANGS]).default('en'))
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Examples:
  crm renewals
  crm renewals --within 90 --owner "Li Wei"
  crm renewals --lang zh --json`,
    )
    .action(async (opts: { within?: number; owner?: string; lang: string }, cmd: Command) => {
      const { Store } = await import('./store/db.js');
      const { renewals, formatRenewals } = await import('./reports/renewals.js');
      const ctx = contextFor(cmd);
      const store = await Store.open(ctx.storePath, { readOnly: true });
      try {
        const result = await renewals(store, { withinDays: opts.within, owner: opts.owner, lang: parseLang(opts.lang) });
        emit(ctx, result, formatRenewals);
      } finally {
        store.close();
      }
    });

  // crm export segment / segments: lists for marketing (src/reports/export.ts, docs/exports.md, docs/cli.md).
  const exportCmd = program.command('export').description('segment lists for marketing and the renewal list as CSV, XLSX, Parquet, Arrow or JSON files');
  exportCmd
    .command('segment')
    .summary('export a segment, the key accounts or all customers')
    .description('write one RFM segment of the latest run, the 80/20 key accounts or all customers — contact data and scores — to a file')
    .argument('<name>', 'a segment name such as "At Risk" (see `crm export segments`), keyaccounts, or customers')
    .option('--format <format>', `${EXPORT_FORMATS.join(' | ')} (default: from the --out extension: .csv .xlsx .parquet .arrow/.feather/.ipc .json)`, parseFormat)
    .requiredOption('--out <file>', 'the file to write; missing folders are created')
    .option('--columns <list>', 'only these columns, in this order, e.g. customer_id,email,clv', parseColumns)
    .option('--owner <name>', "only this account owner's customers (exact name; see crm owners)")
    .option('--mask-pii', 'mask e-mail addresses and phone numbers (a***@example.com, +86 138****5678)')
    .option('--force', 'replace the file if it exists')
    .option('--bom', 'CSV: start with a UTF-8 byte-order mark, for Excel on Windows')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  crm export segment "At Risk" --out out/at-risk.xlsx
  crm export segment "At Risk" --owner "Li Na" --out out/li-na-at-risk.xlsx
  crm export segment keyaccounts --format csv --out out/key-accounts.csv --bom --mask-pii
  crm export segment customers --out out/customers.parquet --columns customer_id,email,clv --force`,
    )
    .action(async (name: string, opts: { format?: ExportFormat; out: string; columns?: string[]; owner?: string; maskPii?: boolean; force?: boolean; bom?: boolean }, cmd: Command) => {
      const { Store } = await import('./store/db.js');
      const { exportSegment, listSegments, resolveTarget } = await import('./reports/export.js');
      const { checkOwner } = await import('./reports/owner-filter.js');
      const { checkTarget } = await import('./reports/atomic-file.js');
      const ctx = contextFor(cmd);
      const format = exportFormatOf(opts, ctx);
      const store = await Store.open(ctx.storePath, { readOnly: true });
      try {
        // The usual mistakes (no run yet, unknown segment or owner, file exists) fail before any progress output.
        await listSegments(store); // no model run yet: exit 4
        const target = await resolveTarget(store, name);
        if (opts.owner !== undefined) await checkOwner(store, opts.owner);
        checkTarget(path.resolve(opts.out), { force: opts.force });
        const label = (target.kind === 'segment' ? target.segment : target.kind) + (opts.owner === undefined ? '' : ` of ${opts.owner}`);
        const result: SegmentExportResult = await ctx.progress.step(`exporting ${label} as ${format}`, (tick) =>
          exportSegment(store, name, { format, out: opts.out, columns: opts.columns, owner: opts.owner, maskPii: opts.maskPii, force: opts.force, bom: opts.bom, onProgress: tick, stage: true }),
        );
        const runId = await store.value<number>('SELECT max(run_id) FROM runs');
        store.close();
        // One row per customer in a segment export: rows are the customers handed out.
        await auditHandOut(ctx.storePath, {
          command: 'export segment',
          what: label,
          path: result.path,
          runId,
          customers: result.rows,
          rows: result.rows,
          masked: Boolean(opts.maskPii),
          details: { format, columns: result.columns, masked_columns: result.maskedColumns, owner: opts.owner ?? null },
        }, stagedHandOut([result.staged!]));
        for (const w of result.warnings) ctx.reporter.warn(w);
        if (ctx.json) {
          printJson({
            target: result.target.kind,
            segment: result.target.kind === 'segment' ? result.target.segment : null,
            owner: opts.owner ?? null,
            ...writtenFileJson(result),
          });
        } else {
          reportWrittenFile(ctx, result, `${formatCount(result.rows)} rows of ${label}`, opts.maskPii);
        }
      } finally {
        store.close();
      }
    });
  exportCmd
    .command('segments')
    .summary('the segments of the latest run, with sizes')
    .description('list what `crm export segment` can export: the RFM segments of the latest run with their sizes, key accounts and all customers')
    .option('--json', 'print as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const { Store } = await import('./store/db.js');
      const { listSegments } = await import('./reports/export.js');
      const ctx = contextFor(cmd);
      const store = await Store.open(ctx.storePath, { readOnly: true });
      try {
        const segments = await listSegments(store);
        const keyaccounts = (await store.value<number>('SELECT count(*) FROM customer_latest WHERE is_key_account')) ?? 0;
        const customers = (await store.value<number>('SELECT count(*) FROM customer_latest')) ?? 0;
        if (ctx.json) printJson({ segments, keyaccounts, customers });
        else {
          ctx.reporter.out(renderTable(['segment', 'customers'], segments.map((s) => [s.segment, formatCount(s.customers)])));
          ctx.reporter.out(`also: keyaccounts (${formatCount(keyaccounts)}), customers (${formatCount(customers)})`);
          ctx.reporter.out('export one with: crm export segment NAME --out FILE.xlsx');
        }
      } finally {
        store.close();
      }
    });

  exportCmd
    .command('owners')
    .summary("one file per owner with only their customers")
    .description("write one file per account owner into DIR, holding only that owner's customers of the latest run (contact data and scores, as `crm export segment customers`); customers without an owner are in no file")
    .requiredOption('--out <dir>', 'the folder to write into; created if missing')
    .addOption(new Option('--format <format>', 'csv or xlsx').choices(['csv', 'xlsx']).default('csv'))
    .option('--mask-pii', 'mask e-mail addresses and phone numbers (a***@example.com, +86 138****5678)')
    .option('--force', 'replace files that exist')
    .option('--bom', 'CSV: start with a UTF-8 byte-order mark, for Excel on Windows')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  crm export owners --out out/owners
  crm export owners --out out/owners --format xlsx --mask-pii`,
    )
    .action(async (opts: { out: string; format: 'csv' | 'xlsx'; maskPii?: boolean; force?: boolean; bom?: boolean }, cmd: Command) => {
      const { Store } = await import('./store/db.js');
      const { exportOwners } = await import('./reports/export-owners.js');
      const ctx = contextFor(cmd);
      const store = await Store.open(ctx.storePath, { readOnly: true });
      try {
        const { staged, ...result } = await ctx.progress.step(`exporting the owners' books as ${opts.format}`, () =>
          exportOwners(store, { dir: opts.out, format: opts.format, maskPii: opts.maskPii, force: opts.force, bom: opts.bom, stage: true }),
        );
        const runId = await store.value<number>('SELECT max(run_id) FROM runs');
        store.close();
        // One audit row per run of the command (one decision, one hand-out); details list each
        // owner's file and count. Each customer has one owner in effect, so the files' rows add
        // up to the distinct customers handed out.
        const customers = result.files.reduce((n, f) => n + f.rows, 0);
        await auditHandOut(ctx.storePath, {
          command: 'export owners',
          what: `${result.files.length} owners' books`,
          path: result.dir,
          runId,
          customers,
          rows: customers,
          masked: Boolean(opts.maskPii),
          details: { format: result.format, masked_columns: result.masked_columns, owners: result.files.map((f) => ({ owner: f.owner, file: path.basename(f.path), customers: f.rows })) },
        }, stagedHandOut(staged ?? []));
        if (ctx.json) printJson(result);
        else {
          for (const f of result.files) ctx.reporter.out(`${f.owner}: ${formatCount(f.rows)} customers → ${f.path} (${formatBytes(f.bytes)})`);
          ctx.reporter.out(`${formatCount(result.files.length)} files in ${result.dir}; each holds only its owner's customers`);
          if (opts.maskPii) ctx.reporter.out(`masked: ${result.masked_columns.join(', ') || 'none'}`);
          if (result.unowned_customers) ctx.reporter.out(`${formatCount(result.unowned_customers)} customers have no owner and are in no file (see crm owners)`);
        }
      } finally {
        store.close();
      }
    });

  exportCmd
    .command('renewals')
    .summary('export the renewal-due list')
    .description('write the renewal-due list of the latest run (as `crm renewals` shows it, with e-mail and phone) to a file')
    .option('--within <days>', "days after the run's as-of date (default 30)", withinDaysFlag)
    .option('--owner <name>', "only the contracts of this account owner's customers (exact name)")
    .addOption(new Option('--lang <lang>', 'language of the reasons').choices([...LANGS]).default('en'))
    .option('--format <format>', `${EXPORT_FORMATS.join(' | ')} (default: from the --out extension)`, parseFormat)
    .requiredOption('--out <file>', 'the file to write; missing folders are created')
    .option('--columns <list>', 'only these columns, in this order, e.g. contract_id,name,phone,renewal_due', parseColumns)
    .option('--mask-pii', 'mask e-mail addresses and phone numbers (a***@example.com, +86 138****5678)')
    .option('--force', 'replace the file if it exists')
    .option('--bom', 'CSV: start with a UTF-8 byte-order mark, for Excel on Windows')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  crm export renewals --out out/renewals.xlsx
  crm export renewals --within 60 --owner "Li Wei" --out out/li-wei.csv --bom --mask-pii`,
    )
    .action(
      async (
        opts: { within?: number; owner?: string; lang: string; format?: ExportFormat; out: string; columns?: string[]; maskPii?: boolean; force?: boolean; bom?: boolean },
        cmd: Command,
      ) => {
        const { Store } = await import('./store/db.js');
        const { exportRenewals, renewalScope } = await import('./reports/renewals.js');
        const { checkTarget } = await import('./reports/atomic-file.js');
        const ctx = contextFor(cmd);
        const format = exportFormatOf(opts, ctx);
        const store = await Store.open(ctx.storePath, { readOnly: true });
        try {
          const list = { withinDays: opts.within, owner: opts.owner, lang: parseLang(opts.lang) };
          // The usual mistakes (no run, no contracts, unknown owner, file exists) fail before any progress output.
          await renewalScope(store, list);
          checkTarget(path.resolve(opts.out), { force: opts.force });
          const result = await ctx.progress.step(`exporting the renewal list as ${format}`, (tick) =>
            exportRenewals(store, { ...list, format, out: opts.out, columns: opts.columns, maskPii: opts.maskPii, force: opts.force, bom: opts.bom, onProgress: tick, stage: true }),
          );
          const { scope } = result;
          store.close();
          await auditHandOut(ctx.storePath, {
            command: 'export renewals',
            what: `renewals within ${scope.within_days} days` + (scope.owner === null ? '' : ` of ${scope.owner}`),
            path: result.path,
            runId: scope.run_id,
            customers: result.customers,
            rows: result.rows,
            masked: Boolean(opts.maskPii),
            details: { format, columns: result.columns, masked_columns: result.maskedColumns, owner: scope.owner, lang: list.lang },
          }, stagedHandOut([result.staged!]));
          for (const w of result.warnings) ctx.reporter.warn(w);
          if (ctx.json) {
            printJson({
              target: 'renewals',
              run_id: scope.run_id,
              as_of: scope.as_of,
              within_days: scope.within_days,
              window_end: scope.window_end,
              owner: scope.owner,
              ...writtenFileJson(result),
            });
          } else {
            const who = scope.owner === null ? '' : ` for ${scope.owner}`;
            reportWrittenFile(ctx, result, `${formatCount(result.rows)} contract${result.rows === 1 ? '' : 's'} due for renewal${who} by ${scope.window_end} (run ${scope.run_id})`, opts.maskPii);
          }
        } finally {
          store.close();
        }
      },
    );

  program
    .command('report')
    .description(
      "the executive report of a run: one self-contained HTML page (English or Chinese) plus charts/*.vl.json|svg|png; --owner NAME: the report of one account manager's book (report-NAME.html); --owner NAME|all --digest: the owner's weekly digest (digest-NAME.html), a short page to send as an e-mail attachment",
    )
    .option('--out <dir>', 'output folder', 'out')
    .addOption(new Option('--lang <lang>', 'report language: en writes report.html, zh report.zh.html').choices([...LANGS]).default('en'))
    .option('--run <id>', 'a run other than the latest', integerFlag('--run', { positive: true }))
    .option('--owner <name>', "only this account owner's customers (exact name; see crm owners); with --digest, `all` writes one digest per owner")
    .option('--digest', 'with --owner: the weekly digest (what changed, who to call first and why, renewals due) of the latest run instead of the report')
    .option('--show-pii', "--digest: show customers' e-mail and phone as stored (masked by default)")
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  crm report --lang zh
  crm report --owner "Li Na"
  crm report --owner "Li Na" --digest --lang zh
  crm report --owner all --digest --out out/digests`,
    )
    .action(async (opts: { out: string; lang: string; run?: number; owner?: string; digest?: boolean; showPii?: boolean }, cmd: Command) => {
      const ctx = contextFor(cmd);
      if (opts.digest) {
        if (opts.owner === undefined) throw usageError('--digest needs --owner NAME (or --owner all)', ['A digest is one account manager\'s book: crm report --owner "Li Na" --digest']);
        if (opts.run !== undefined) throw usageError('--digest shows the latest run and its changes since the one before: leave out --run');
        const { writeDigests } = await import('./reports/digest.js');
        const maskNames = ctx.config().privacy?.mask_names ?? false;
        const result = await ctx.progress.step(opts.owner === 'all' ? "writing every owner's digest" : `writing the digest of ${opts.owner}`, () =>
          writeDigests({ storePath: ctx.storePath, outDir: path.resolve(opts.out), owner: opts.owner!, lang: parseLang(opts.lang), showPii: Boolean(opts.showPii), maskNames, force: true }),
        );
        if (ctx.json) printJson(result);
        else {
          for (const f of result.files) ctx.reporter.out(`${f.owner}: ${f.path} (${formatBytes(f.bytes)}, ${formatCount(f.customers)} customers named)`);
          ctx.reporter.out(`${formatCount(result.files.length)} digest${result.files.length === 1 ? '' : 's'} of run ${result.run_id}${result.masked ? "; customers' e-mail and phone masked (--show-pii shows them)" : ''}`);
        }
        return;
      }
      if (opts.showPii) throw usageError('--show-pii applies to --digest: the report never shows e-mail addresses or phone numbers');
      if (opts.owner === 'all') throw usageError('--owner all applies to --digest: give one owner\'s name for their report');
      const { renderReport } = await import('./reports/report.js');
      const lang = parseLang(opts.lang);
      const result = await ctx.progress.step(opts.owner === undefined ? 'rendering the report' : `rendering the report of ${opts.owner}`, () =>
        renderReport({ storePath: ctx.storePath, outDir: path.resolve(opts.out), lang, runId: opts.run, owner: opts.owner, reporter: ctx.reporter }),
      );
      await auditHandOut(ctx.storePath, {
        command: 'report',
        what: opts.owner === undefined ? `report of run ${result.run_id}` : `report of ${opts.owner}'s book, run ${result.run_id}`,
        path: result.htmlFile,
        runId: result.run_id,
        customers: result.customers,
        rows: null,
        // The report's views hold no e-mail or phone, and names pass through report_mask.
        masked: true,
        details: { lang, charts: result.charts, owner: opts.owner ?? null },
      }, { undo: () => removeFiles([result.htmlFile, ...result.chartFiles]) });
      const { queries, phases, customers: _customers, ...shown } = result;
      const ms = (value: number) => Math.round(value);
      if (ctx.json) {
        // Where the time went: the phases (open, prepare, sql, charts, chart_files, html) and each SQL cell.
        printJson({
          ...shown,
          ms: ms(result.ms),
          phases: Object.fromEntries(Object.entries(phases).map(([phase, value]) => [phase, ms(value)])),
          queries: queries.map((q) => ({ name: q.name, rows: q.rows, ms: ms(q.ms) })),
        });
      }
      else ctx.reporter.out(`${result.htmlFile} (${formatBytes(result.bytes)}, ${result.charts} charts, ${formatDuration(result.ms)}; run ${result.run_id} as of ${result.as_of}${opts.owner === undefined ? '' : `; ${opts.owner}'s book`})`);
    });

  const notebook = program.command('notebook').description('Markdown notebooks: SQL, charts and prose rendered into a report');
  notebook
    .command('render')
    .description('render FILE.md into a self-contained HTML report plus charts/*.svg|png')
    .argument('<file>', 'the notebook (.md)')
    .option('--out <dir>', 'output folder', 'out')
    .addOption(new Option('--lang <lang>', 'report language').choices([...LANGS]).default('en'))
    .option('--run <id>', 'the run the report_* views show (default: the latest, if any)', integerFlag('--run', { positive: true }))
    .option('--allow-files <dir>', 'let SQL cells read the files under this folder (otherwise they read only the store)', parseAllowedFolder)
    .action(async (file: string, opts: { out: string; lang: string; run?: number; allowFiles?: string }, cmd: Command) => {
      const { Store } = await import('./store/db.js');
      const { renderNotebook } = await import('./reports/notebook.js');
      const { reportViewsFor } = await import('./reports/report.js');
      const ctx = contextFor(cmd);
      const lang = parseLang(opts.lang);
      const store = await Store.open(ctx.storePath, { readOnly: true });
      let rendered;
      try {
        const prepare = await reportViewsFor(store, opts.run);
        const run = opts.run ?? (await store.value<number>('SELECT max(run_id) FROM runs')) ?? null;
        const result = await ctx.progress.step(`rendering ${path.basename(file)}`, () =>
          renderNotebook(path.resolve(file), { store, outDir: path.resolve(opts.out), lang, reporter: ctx.reporter, prepare, allowFiles: opts.allowFiles }),
        );
        // A notebook's SQL may read any table: the customers it could reach are all of them.
        const customers = Number((await store.value<number>('SELECT count(DISTINCT customer_id) FROM customers')) ?? 0);
        rendered = { result, run, customers };
      } finally {
        store.close();
      }
      const { result, run, customers } = rendered;
      await auditHandOut(ctx.storePath, {
        command: 'notebook render',
        what: path.basename(file),
        path: result.htmlFile,
        runId: run,
        customers,
        rows: result.queries.reduce((n, q) => n + q.rows, 0),
        // Its cells choose what they show: nothing is masked for them.
        masked: false,
        details: { lang, charts: result.charts.length, queries: result.queries.length },
      }, { undo: () => removeFiles([result.htmlFile, ...result.charts.flatMap((c) => [c.specFile, c.svgFile, c.pngFile])]) });
      ctx.reporter.out(`${result.htmlFile} (${formatBytes(result.bytes)}, ${result.charts.length} charts, ${formatDuration(result.ms)})`);
    });
}
