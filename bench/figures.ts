/**
 * The bench's figures: medians, ratios to the yardsticks, the targets and whether each is met,
 * and the Markdown tables printed (ratios first, seconds second) so a run pastes straight into
 * the README. Pure: unit-tested in test/unit/bench.test.ts, never with timings of its own.
 */
import type { DataSetName } from './args.js';

/** One phase, in its own process: wall time and the process's peak resident memory. */
export interface PhaseResult {
  phase: string;
  ms: number;
  maxRssMB: number;
  exitCode: number;
}

export interface Timed {
  ms: number;
  maxRssMB: number;
}

/** One repeat of the run: the bare DuckDB summary and `crm run`, measured one after the other. */
export interface RunPair {
  summary: Timed;
  run: Timed;
  /** run ÷ summary of this pair: drift between pairs cancels. */
  ratio: number;
  /**
   * `crm run --model bgnbd` on the same store in the same pair (issue #12: the default run fits
   * and compares three models, `--model auto`; the BG/NBD alone keeps the figures comparable with
   * earlier benches), and run ÷ it.
   */
  bgnbd?: Timed;
  modelRatio?: number;
}

/** One repeat of the ingest: DuckDB's typed read and `crm ingest`, one after the other. */
export interface IngestPair {
  read: Timed;
  ingest: Timed;
  ratio: number;
}

export interface ReportRender {
  lang: 'en' | 'zh';
  /** Wall time of each render (the whole `crm report` process), in order. */
  ms: number[];
  medianMs: number;
  bytes: number;
  maxRssMB: number;
}

export interface AppendResult {
  /** Lines of the day's export. */
  lines: number;
  ingest: Timed;
  rerun: Timed;
  /** (append + rerun) ÷ the median full run. */
  ratio: number;
}

export interface DataSetResult {
  name: DataSetName;
  file: string;
  lines: number;
  bytes: number;
  ingestPairs: IngestPair[];
  /** Medians over the pairs (peak memory: the highest). */
  read: Timed;
  ingest: Timed;
  /** crm ingest ÷ DuckDB's typed read of the same file: the median of the pairs' ratios. */
  ingestRatio: number;
  /** The dirty data set's customers file (context: no yardstick). */
  customersIngest: Timed | null;
  pairs: RunPair[];
  /** Medians over the pairs. */
  summaryMs: number;
  runMs: number;
  runRatio: number;
  runMaxRssMB: number;
  /** Medians of the pairs' `crm run --model bgnbd` and of their run ÷ it (absent: not measured). */
  bgnbdRunMs?: number | null;
  modelRatio?: number | null;
  /** Customers scored and the step timings (`runs.timings`) of the median run. */
  customersScored: number | null;
  stepsMs: Record<string, number>;
  fitMs: number | null;
  report: ReportRender[] | null;
  append: AppendResult | null;
}

export const TARGETS = {
  /** crm ingest ÷ DuckDB's typed read_csv into a table. */
  ingestRatio: 2,
  /** crm run ÷ the bare per-customer summary. */
  runRatio: 2,
  /** Peak RSS of ingest and of run at 10M lines. */
  peakRssMB: 2048,
  /** Median render of `crm report`, per language, the whole process. */
  reportMs: 3000,
  /** The BG/NBD fit, from the run's own timings (strictly under). */
  fitMs: 2000,
  /** The default `crm run` (--model auto) ÷ `crm run --model bgnbd` (issue #12 §6). */
  modelRatio: 1.5,
  /** A day's append plus the rerun ÷ a full run. */
  appendRatio: 0.25,
  /** Peak RSS of any scale step, 100M lines with --memory-limit 4GB included (strictly under). */
  scalePeakRssMB: 5 * 1024,
} as const;

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The index of the value nearest the median (the run whose steps are shown). */
export function medianIndex(values: number[]): number {
  const m = median(values);
  let best = 0;
  values.forEach((v, i) => {
    if (Math.abs(v - m) < Math.abs(values[best] - m)) best = i;
  });
  return best;
}

/** a ÷ b to two decimals. */
export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}

export function pairOf(summary: Timed, run: Timed, bgnbd?: Timed): RunPair {
  return { summary, run, ratio: ratio(run.ms, summary.ms), ...(bgnbd ? { bgnbd, modelRatio: ratio(run.ms, bgnbd.ms) } : {}) };
}

export function ingestPairOf(read: Timed, ingest: Timed): IngestPair {
  return { read, ingest, ratio: ratio(ingest.ms, read.ms) };
}

/** The median time and the highest peak of a phase's repeats. */
export function medianTimed(runs: Timed[]): Timed {
  return { ms: median(runs.map((r) => r.ms)), maxRssMB: Math.max(...runs.map((r) => r.maxRssMB)) };
}

/** The BG/NBD fit's time among a run's step timings, under whichever name the run gives it. */
export function fitTime(stepsMs: Record<string, number>): number | null {
  const key = Object.keys(stepsMs).find((k) => /bg_?nbd.*fit|fit.*bg_?nbd/i.test(k));
  return key === undefined ? null : stepsMs[key];
}

export interface Check {
  scope: string;
  what: string;
  value: number;
  limit: number;
  unit: '×' | 'MB' | 's' | '';
  /** Strictly under the limit (`<`) rather than at most (`≤`). */
  strict: boolean;
  met: boolean;
  /** The value in words, when a number would not say it (a step that failed). */
  shown?: string;
}

function check(scope: string, what: string, value: number, limit: number, unit: Check['unit'], strict = false): Check {
  return { scope, what, value, limit, unit, strict, met: Number.isFinite(value) && (strict ? value < limit : value <= limit) };
}

/** `crm report` ≤ 3 s, the median render of each language. */
export function reportChecks(renders: ReportRender[], scope = 'clean'): Check[] {
  return renders.map((x) => check(scope, `crm report --lang ${x.lang} (median)`, x.medianMs / 1000, TARGETS.reportMs / 1000, 's'));
}

/** `npm run bench -- --data report`: each language's renders, with the load average around them. */
export function formatReportOnly(r: { renders: ReportRender[]; loadBefore: number[]; loadAfter: number[] }): string[] {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  return [
    ...markdownTable(
      ['`crm report` on the clean store', 'median', 'each', 'HTML', 'peak'],
      r.renders.map((x) => [`\`--lang ${x.lang}\``, seconds(x.medianMs), times(x.ms), `${Math.round(x.bytes / 1024).toLocaleString('en-US')} KB`, megabytes(x.maxRssMB)]),
    ),
    '',
    `load average (1, 5, 15 min): ${load(r.loadBefore)} before, ${load(r.loadAfter)} after`,
  ];
}

/** Every target that applies to a data set's results. */
export function checksFor(r: DataSetResult): Check[] {
  const checks = [
    check(r.name, 'crm ingest ÷ DuckDB read_csv', r.ingestRatio, TARGETS.ingestRatio, '×'),
    check(r.name, 'crm run ÷ bare summary', r.runRatio, TARGETS.runRatio, '×'),
    check(r.name, 'peak RSS of crm ingest', r.ingest.maxRssMB, TARGETS.peakRssMB, 'MB'),
    check(r.name, 'peak RSS of crm run', r.runMaxRssMB, TARGETS.peakRssMB, 'MB'),
    check(r.name, 'BG/NBD fit', (r.fitMs ?? NaN) / 1000, TARGETS.fitMs / 1000, 's', true),
  ];
  if (r.modelRatio !== undefined && r.modelRatio !== null) checks.splice(2, 0, check(r.name, 'crm run ÷ crm run --model bgnbd', r.modelRatio, TARGETS.modelRatio, '×'));
  checks.push(...reportChecks(r.report ?? [], r.name));
  if (r.append) checks.push(check(r.name, 'append + rerun ÷ full run', r.append.ratio, TARGETS.appendRatio, ''));
  return checks;
}

// ---------------------------------------------------------------------------------------------
// Formatting: Markdown tables, so the output pastes into the README as it is.

export function seconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
}

export function times(ms: number[]): string {
  return ms.map((x) => (x / 1000).toFixed(x < 10_000 ? 2 : 1)).join(', ');
}

export function megabytes(mb: number): string {
  return `${mb.toLocaleString('en-US')} MB`;
}

export function lineCount(n: number): string {
  if (n >= 1e6) return `${Number((n / 1e6).toFixed(2))}M`;
  if (n >= 1e3) return `${Number((n / 1e3).toFixed(1))}k`;
  return String(n);
}

const mark = (met: boolean) => (met ? '✓' : '✗');

function checkValue(c: Check): string {
  if (c.shown !== undefined) return `${c.shown} ${mark(c.met)}`;
  if (!Number.isFinite(c.value)) return 'n/a ✗';
  const v = c.unit === '×' ? `${c.value.toFixed(2)}×` : c.unit === 'MB' ? megabytes(c.value) : c.unit === 's' ? `${c.value.toFixed(2)} s` : c.value.toFixed(2);
  return `${v} ${mark(c.met)}`;
}

function checkLimit(c: Check): string {
  if (c.shown !== undefined) return 'yes';
  const op = c.strict ? '<' : '≤';
  if (c.unit === '×') return `${op} ${c.limit}×`;
  if (c.unit === 'MB') return `${op} ${megabytes(c.limit)}`;
  if (c.unit === 's') return `${op} ${c.limit} s`;
  return `${op} ${c.limit}`;
}

export function markdownTable(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function dataSetHeading(r: DataSetResult): string {
  return `${r.name} (${lineCount(r.lines)} lines)`;
}

/** Rows: each target; columns: each data set (— where it does not apply). */
export function formatRatios(results: DataSetResult[]): string[] {
  const perSet = results.map(checksFor);
  const whats: string[] = [];
  for (const checks of perSet) for (const c of checks) if (!whats.includes(c.what)) whats.push(c.what);
  const rows = whats.map((what) => {
    const any = perSet.flat().find((c) => c.what === what)!;
    return [what, checkLimit(any), ...perSet.map((checks) => {
      const c = checks.find((x) => x.what === what);
      return c ? checkValue(c) : '—';
    })];
  });
  return markdownTable(['yardstick', 'target', ...results.map(dataSetHeading)], rows);
}

const timed = (t: Timed) => `${seconds(t.ms)} (peak ${megabytes(t.maxRssMB)})`;
/** The repeats' times, when there were several. */
const each = (ms: number[]) => (ms.length > 1 ? `; each ${times(ms)}` : '');

/** Rows: each measured step in seconds and peak memory; columns: each data set. */
export function formatSeconds(results: DataSetResult[]): string[] {
  const cell = (f: (r: DataSetResult) => string | null) => results.map((r) => f(r) ?? '—');
  const rows: string[][] = [
    ['DuckDB `read_csv` into a table', ...cell((r) => timed(r.read) + each(r.ingestPairs.map((p) => p.read.ms)))],
    ['`crm ingest transactions`', ...cell((r) => timed(r.ingest) + each(r.ingestPairs.map((p) => p.ingest.ms)))],
    ['ingest ÷ read of each pair', ...cell((r) => (r.ingestPairs.length > 1 ? r.ingestPairs.map((p) => `${p.ratio.toFixed(2)}×`).join(', ') : null))],
    ['`crm ingest customers`', ...cell((r) => (r.customersIngest ? timed(r.customersIngest) : null))],
    ['bare summary (median; each pair)', ...cell((r) => `${seconds(r.summaryMs)} (${times(r.pairs.map((p) => p.summary.ms))})`)],
    ['`crm run` (median; each pair)', ...cell((r) => `${seconds(r.runMs)} (${times(r.pairs.map((p) => p.run.ms))}); peak ${megabytes(r.runMaxRssMB)}`)],
    ['run ÷ summary of each pair', ...cell((r) => r.pairs.map((p) => `${p.ratio.toFixed(2)}×`).join(', '))],
    ['`crm run --model bgnbd` (median; each pair)', ...cell((r) => (r.bgnbdRunMs ? `${seconds(r.bgnbdRunMs)} (${times(r.pairs.map((p) => p.bgnbd?.ms ?? NaN))}); peak ${megabytes(Math.max(...r.pairs.map((p) => p.bgnbd?.maxRssMB ?? 0)))}` : null))],
    ['run ÷ run --model bgnbd of each pair', ...cell((r) => (r.bgnbdRunMs ? r.pairs.map((p) => `${(p.modelRatio ?? NaN).toFixed(2)}×`).join(', ') : null))],
    ['customers scored', ...cell((r) => (r.customersScored === null ? null : r.customersScored.toLocaleString('en-US')))],
    ...(['en', 'zh'] as const).map((lang) => [
      `\`crm report --lang ${lang}\` (median; each)`,
      ...cell((r) => {
        const x = r.report?.find((y) => y.lang === lang);
        return x ? `${seconds(x.medianMs)} (${times(x.ms)}), ${Math.round(x.bytes / 1024).toLocaleString('en-US')} KB` : null;
      }),
    ]),
    ['daily append: `crm ingest transactions --append` (lines)', ...cell((r) => (r.append ? `${timed(r.append.ingest)}, ${r.append.lines.toLocaleString('en-US')} lines` : null))],
    ['daily append: `crm run` again', ...cell((r) => (r.append ? timed(r.append.rerun) : null))],
  ];
  return markdownTable(['step', ...results.map(dataSetHeading)], rows.filter((row) => row.slice(1).some((c) => c !== '—')));
}

/** The median run's steps, one line per data set. */
export function formatSteps(results: DataSetResult[]): string[] {
  return results.map((r) => {
    const steps = Object.entries(r.stepsMs)
      .filter(([k]) => k !== 'total')
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    return `${r.name}: steps of the median \`crm run\` (ms): ${steps || 'n/a'}`;
  });
}

/** "targets missed: …" naming each, or that all were met. */
export function formatVerdict(checks: Check[]): string {
  const missed = checks.filter((c) => !c.met);
  if (!missed.length) return `all ${checks.length} targets met`;
  return `targets missed (${missed.length} of ${checks.length}): ${missed.map((c) => `${c.scope} ${c.what} ${checkValue(c).replace(/ ✗$/, '')} (target ${checkLimit(c)})`).join('; ')}`;
}

// ---------------------------------------------------------------------------------------------
// --scale

export interface ScaleStep {
  lines: number;
  customers: number;
  bytes: number;
  memoryLimit: string | null;
  ingest: Timed | null;
  run: Timed | null;
  /** Why the step stopped, when it did (the command's last error line). */
  failure: string | null;
}

export function scaleChecks(steps: ScaleStep[]): Check[] {
  return steps.flatMap((s) => {
    const scope = `scale ${lineCount(s.lines)}`;
    const completes: Check = { scope, what: 'ingest and run complete', value: s.failure ? 0 : 1, limit: 1, unit: '', strict: false, met: s.failure === null, shown: s.failure ? `failed: ${s.failure}` : 'yes' };
    return [
      completes,
      ...(s.ingest ? [check(scope, 'peak RSS of crm ingest', s.ingest.maxRssMB, TARGETS.scalePeakRssMB, 'MB', true)] : []),
      ...(s.run ? [check(scope, 'peak RSS of crm run', s.run.maxRssMB, TARGETS.scalePeakRssMB, 'MB', true)] : []),
    ];
  });
}

/** Seconds per million lines: the figure that stays flat when cost grows linearly. */
export function perMillion(ms: number, lines: number): string {
  return ((ms / 1000) * (1e6 / lines)).toFixed(2);
}

export function formatScale(steps: ScaleStep[]): string[] {
  const rows = steps.map((s) => [
    lineCount(s.lines),
    s.customers.toLocaleString('en-US'),
    `${(s.bytes / 1024 ** 3).toFixed(2)} GB`,
    s.memoryLimit ?? 'default',
    s.ingest ? seconds(s.ingest.ms) : '—',
    s.ingest ? perMillion(s.ingest.ms, s.lines) : '—',
    s.ingest ? megabytes(s.ingest.maxRssMB) : '—',
    s.run ? seconds(s.run.ms) : '—',
    s.run ? perMillion(s.run.ms, s.lines) : '—',
    s.run ? megabytes(s.run.maxRssMB) : '—',
    s.failure ? `failed: ${s.failure}` : 'ok',
  ]);
  return markdownTable(
    ['lines', 'customers', 'CSV', '--memory-limit', 'ingest', 'ingest s / M lines', 'ingest peak', 'run', 'run s / M lines', 'run peak', ''],
    rows,
  );
}

// ---------------------------------------------------------------------------------------------
// The contracts part: a policy book of 1M contracts, `crm ingest contracts` and `crm run`'s
// contract part next to DuckDB's yardsticks.

/** One repeat of the run on the contracts store: the bare contract summary, then `crm run`. */
export interface ContractRunPair {
  summary: Timed;
  run: Timed;
  /** The run's contract part: the sum of its `contracts_*` step timings (NaN when it recorded none). */
  contractMs: number;
  /** contract part ÷ summary of this pair. */
  ratio: number;
}

export interface ContractsResult {
  contracts: number;
  /** Data rows of contracts.csv (periods). */
  rows: number;
  file: string;
  bytes: number;
  /** `crm generate` time when the book was written in this bench run; null when it was cached. */
  generateMs: number | null;
  /** DuckDB's reads, kept even when the ingest after one failed. */
  reads: Timed[];
  ingestPairs: IngestPair[];
  pairs: ContractRunPair[];
  /** The `contracts_*` steps of the median run. */
  stepsMs: Record<string, number>;
  /** The phase that failed and its last error line (e.g. a command not built yet), or null. */
  failure: string | null;
}

/** Prefix of the run's contract-part step timings in runs.timings. */
export const CONTRACT_STEP_PREFIX = 'contracts_';

export const CONTRACT_TARGETS = {
  /** crm ingest contracts ÷ DuckDB's typed read_csv into a table (as for transactions). */
  ingestRatio: TARGETS.ingestRatio,
  /** `crm run`'s contract part at 1M contracts (issue #10 §5), strictly under. */
  contractPartMs: 5000,
  peakRssMB: TARGETS.peakRssMB,
} as const;

/** The run's contract steps (keys starting with `contracts_`) among its timings. */
export function contractSteps(stepsMs: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(stepsMs).filter(([k]) => k.startsWith(CONTRACT_STEP_PREFIX)));
}

/** The contract part's time: the sum of its steps, NaN when the run recorded none. */
export function contractPartMs(stepsMs: Record<string, number>): number {
  const steps = Object.values(contractSteps(stepsMs));
  return steps.length === 0 ? NaN : steps.reduce((a, b) => a + b, 0);
}

export function contractPairOf(summary: Timed, run: Timed, stepsMs: Record<string, number>): ContractRunPair {
  const contractMs = contractPartMs(stepsMs);
  return { summary, run, contractMs, ratio: ratio(contractMs, summary.ms) };
}

export function contractChecks(r: ContractsResult): Check[] {
  const scope = `contracts (${lineCount(r.contracts)})`;
  const checks: Check[] = [];
  if (r.failure) {
    checks.push({ scope, what: 'crm ingest contracts and crm run complete', value: 0, limit: 1, unit: '', strict: false, met: false, shown: `failed: ${r.failure}` });
  }
  if (r.ingestPairs.length) {
    checks.push(check(scope, 'crm ingest contracts ÷ DuckDB read_csv', median(r.ingestPairs.map((p) => p.ratio)), CONTRACT_TARGETS.ingestRatio, '×'));
    checks.push(check(scope, 'peak RSS of crm ingest contracts', Math.max(...r.ingestPairs.map((p) => p.ingest.maxRssMB)), CONTRACT_TARGETS.peakRssMB, 'MB'));
  }
  if (r.pairs.length) {
    checks.push(check(scope, "crm run's contract part", median(r.pairs.map((p) => p.contractMs)) / 1000, CONTRACT_TARGETS.contractPartMs / 1000, 's', true));
    checks.push(check(scope, 'peak RSS of crm run (contracts store)', Math.max(...r.pairs.map((p) => p.run.maxRssMB)), CONTRACT_TARGETS.peakRssMB, 'MB'));
  }
  return checks;
}

/** The contracts part: its targets, then its seconds, then the median run's contract steps. */
export function formatContracts(r: ContractsResult): string[] {
  const heading = `contracts (${lineCount(r.contracts)} contracts, ${lineCount(r.rows)} rows)`;
  const checks = contractChecks(r);
  const ratios = markdownTable(['yardstick', 'target', heading], checks.map((c) => [c.what, checkLimit(c), checkValue(c)]));
  const reads = r.reads;
  const ingests = r.ingestPairs.map((p) => p.ingest);
  const rows: string[][] = [
    ['`crm generate --customers 0 --contracts N`', r.generateMs === null ? 'cached' : seconds(r.generateMs)],
    ...(reads.length ? [['DuckDB `read_csv` into a table', timed(medianTimed(reads)) + each(reads.map((x) => x.ms))]] : []),
    ...(ingests.length ? [['`crm ingest contracts`', timed(medianTimed(ingests)) + each(ingests.map((x) => x.ms))]] : []),
    ...(r.pairs.length
      ? [
          ['bare contract summary (median; each pair)', `${seconds(median(r.pairs.map((p) => p.summary.ms)))} (${times(r.pairs.map((p) => p.summary.ms))})`],
          ['`crm run`, whole (median; each pair)', `${seconds(median(r.pairs.map((p) => p.run.ms)))} (${times(r.pairs.map((p) => p.run.ms))}); peak ${megabytes(Math.max(...r.pairs.map((p) => p.run.maxRssMB)))}`],
          ["`crm run`'s contract part, `contracts_*` steps (median; each pair)", r.pairs.some((p) => Number.isFinite(p.contractMs)) ? `${seconds(median(r.pairs.map((p) => p.contractMs)))} (${times(r.pairs.map((p) => p.contractMs))})` : 'no `contracts_*` timings'],
          ['contract part ÷ summary of each pair', r.pairs.map((p) => (Number.isFinite(p.ratio) ? `${p.ratio.toFixed(2)}×` : 'n/a')).join(', ')],
        ]
      : []),
  ];
  const steps = Object.entries(r.stepsMs).map(([k, v]) => `${k} ${v}`).join(', ');
  return [...ratios, '', ...markdownTable(['step', heading], rows), '', `contracts: steps of the median \`crm run\` (ms): ${steps || 'n/a'}`];
}

// ---------------------------------------------------------------------------------------------
// The lookup part (issue #11 §2)

/** What a lookup query is, in the order they are run and shown. */
export const LOOKUP_KINDS = ['id', 'e-mail', 'phone', 'name', 'no match'] as const;
export type LookupKind = (typeof LOOKUP_KINDS)[number];

export const LOOKUP_TARGETS = {
  /** `crm customer QUERY` on 2.5M customers, the whole command (process start included), strictly under. */
  commandMs: 1000,
} as const;

export interface LookupQuery {
  kind: LookupKind;
  /** What was typed (personal data of generated customers only). */
  query: string;
  /** Each repeat's whole command, process start to exit. */
  ms: number[];
}

export interface LookupResult {
  customers: number;
  store: string;
  /** `crm --version`, each repeat: the floor any command pays (node and the CLI's start). */
  versionMs: number[];
  queries: LookupQuery[];
  /** The phase that failed and its last error line, or null. */
  failure: string | null;
}

export function lookupChecks(r: LookupResult): Check[] {
  const scope = `lookup (${lineCount(r.customers)} customers)`;
  if (r.failure) return [{ scope, what: 'crm customer QUERY completes', value: 0, limit: 1, unit: '', strict: false, met: false, shown: `failed: ${r.failure}` }];
  return r.queries.map((q) => check(scope, `crm customer by ${q.kind} (median)`, median(q.ms) / 1000, LOOKUP_TARGETS.commandMs / 1000, 's', true));
}

/** The lookup part: its targets, then each kind's query and times. */
export function formatLookup(r: LookupResult): string[] {
  const heading = `lookup (${lineCount(r.customers)} customers)`;
  const checks = lookupChecks(r);
  const rows = r.queries.map((q) => [`by ${q.kind}`, `\`${q.query.replace(/\|/g, '\\|')}\``, `${seconds(median(q.ms))} (${times(q.ms)})`]);
  return [
    ...markdownTable(['yardstick', 'target', heading], checks.map((c) => [c.what, checkLimit(c), checkValue(c)])),
    '',
    ...markdownTable(['`crm customer`', 'query', 'whole command (median; each)'], [
      ...rows,
      ['`crm --version` (start-up floor)', '', r.versionMs.length ? `${seconds(median(r.versionMs))} (${times(r.versionMs)})` : 'n/a'],
    ]),
  ];
}
