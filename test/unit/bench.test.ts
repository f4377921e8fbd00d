/**
 * The bench's pure parts: its options, the median and ratios, which targets are met, and the
 * Markdown it prints. No timing is measured here (timings belong in `npm run bench`): the
 * results below are made up.
 */
import { describe, expect, it } from 'vitest';
import { BENCH_DEFAULTS, BenchUsageError, parseBenchArgs, parseCount, scaleCustomers, scaleSteps } from '../../bench/args.js';
import {
  checksFor,
  contractChecks,
  contractPairOf,
  contractPartMs,
  contractSteps,
  fitTime,
  formatContracts,
  formatLookup,
  formatReportOnly,
  reportChecks,
  formatRatios,
  formatScale,
  formatSeconds,
  formatVerdict,
  ingestPairOf,
  lookupChecks,
  median,
  medianTimed,
  medianIndex,
  pairOf,
  perMillion,
  ratio,
  scaleChecks,
  type ContractsResult,
  type DataSetResult,
  type LookupResult,
  type ScaleStep,
} from '../../bench/figures.js';

describe('the bench options', () => {
  it('default to both data sets, three pairs, three renders', () => {
    expect(parseBenchArgs([])).toEqual(BENCH_DEFAULTS);
    expect(BENCH_DEFAULTS.dataSets).toEqual(['clean', 'dirty']);
    // Medians of three pairs: one pair's ingest ratio ranged 2.07–3.24× idle (README, Measured).
    expect(BENCH_DEFAULTS).toMatchObject({ ingestRepeat: 3, runRepeat: 3 });
  });

  it('read every flag, with counts like 10M', () => {
    const o = parseBenchArgs(['--data', 'clean', '--run-repeat', '5', '--report-repeat=1', '--ingest-repeat', '2', '--skip-report', '--skip-append', '--customers', '100k', '--seed', '7', '--clean-lines', '9.8M', '--clean-file', '/x/clean.csv', '--work', '/tmp/w', '--fresh']);
    expect(o).toMatchObject({ dataSets: ['clean'], runRepeat: 5, ingestRepeat: 2, reportRepeat: 1, skipReport: true, skipAppend: true, customers: 100_000, seed: 7, cleanLines: 9_800_000, cleanFile: '/x/clean.csv', workDir: '/tmp/w', fresh: true, scale: false });
    expect(parseBenchArgs(['--data', 'dirty']).dataSets).toEqual(['dirty']);
    expect(parseBenchArgs(['--data', 'both']).dataSets).toEqual(['clean', 'dirty']);
  });

  it('run the contracts part with the data sets, alone with --data contracts, or not with --skip-contracts', () => {
    expect(BENCH_DEFAULTS).toMatchObject({ contracts: 1_000_000, skipContracts: false });
    expect(parseBenchArgs(['--contracts', '20k'])).toMatchObject({ contracts: 20_000, skipContracts: false, dataSets: ['clean', 'dirty'] });
    expect(parseBenchArgs(['--data', 'contracts'])).toMatchObject({ dataSets: [], skipContracts: false });
    expect(parseBenchArgs(['--skip-contracts'])).toMatchObject({ dataSets: ['clean', 'dirty'], skipContracts: true });
    expect(() => parseBenchArgs(['--data', 'contracts', '--skip-contracts'])).toThrow(/nothing to measure/);
    expect(() => parseBenchArgs(['--contracts', '0'])).toThrow(/give a positive count/);
  });

  it('measure the report alone with --data report (no data set, contracts or lookup); with --skip-report there is nothing to measure', () => {
    expect(BENCH_DEFAULTS.reportOnly).toBe(false);
    expect(parseBenchArgs(['--data', 'report', '--report-repeat', '5'])).toMatchObject({ dataSets: [], reportOnly: true, skipContracts: true, reportRepeat: 5 });
    expect(() => parseBenchArgs(['--data', 'report', '--skip-report'])).toThrow(/nothing to measure/);
    expect(() => parseBenchArgs(['--data', 'reports'])).toThrow(/contracts, lookup or report/);
  });

  it('run the lookup part after the dirty data set, alone with --data lookup (no contracts), or not with --skip-lookup', () => {
    expect(BENCH_DEFAULTS).toMatchObject({ lookupOnly: false, skipLookup: false });
    expect(parseBenchArgs(['--data', 'lookup'])).toMatchObject({ dataSets: [], lookupOnly: true, skipContracts: true });
    expect(parseBenchArgs(['--skip-lookup'])).toMatchObject({ dataSets: ['clean', 'dirty'], skipLookup: true, lookupOnly: false });
    expect(() => parseBenchArgs(['--data', 'lookup', '--skip-lookup'])).toThrow(/nothing to measure/);
  });

  it('stop the scale steps at --scale-max', () => {
    expect(scaleSteps(parseBenchArgs(['--scale']))).toEqual([1_000_000, 10_000_000, 100_000_000]);
    expect(scaleSteps(parseBenchArgs(['--scale', '--scale-max', '10M']))).toEqual([1_000_000, 10_000_000]);
    expect(scaleSteps(parseBenchArgs(['--scale-max', '50M']))).toEqual([1_000_000, 10_000_000]);
    expect(scaleCustomers(9_800_000)).toBe(2_500_000);
    expect(scaleCustomers(100_000_000)).toBe(25_510_204);
  });

  it('refuse what they do not know, or a bad value', () => {
    expect(() => parseBenchArgs(['--data', 'messy'])).toThrow(new BenchUsageError('--data "messy": give clean, dirty, both, contracts, lookup or report'));
    expect(() => parseBenchArgs(['--repeat', '3'])).toThrow(/unknown argument "--repeat"/);
    expect(() => parseBenchArgs(['extra'])).toThrow(/unknown argument "extra"/);
    expect(() => parseBenchArgs(['--run-repeat'])).toThrow('--run-repeat needs a value');
    expect(() => parseBenchArgs(['--run-repeat', '0'])).toThrow(/give a positive count/);
    expect(() => parseBenchArgs(['--scale-max', '500k'])).toThrow(/the smallest step is 1,000,000 lines/);
    expect(() => parseBenchArgs(['--fresh=yes'])).toThrow(/unknown argument/);
  });

  it('count with separators and k/M/G suffixes', () => {
    expect(parseCount('2,500,000', '--x')).toBe(2_500_000);
    expect(parseCount('2_500_000', '--x')).toBe(2_500_000);
    expect(parseCount('1.5k', '--x')).toBe(1500);
    expect(parseCount('1G', '--x')).toBe(1e9);
    expect(() => parseCount('ten', '--x')).toThrow(BenchUsageError);
    expect(() => parseCount('-1', '--x')).toThrow(BenchUsageError);
  });
});

describe('medians and ratios', () => {
  it('take the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(medianIndex([19_000, 25_000, 18_000])).toBe(0);
    expect(medianIndex([1, 9])).toBe(0);
  });

  it('give each pair its own ratio, so drift between pairs cancels', () => {
    expect(ratio(24_200, 4_850)).toBe(4.99);
    const pairs = [pairOf({ ms: 4_000, maxRssMB: 300 }, { ms: 8_000, maxRssMB: 1_500 }), pairOf({ ms: 6_000, maxRssMB: 300 }, { ms: 12_600, maxRssMB: 1_500 })];
    expect(pairs.map((p) => p.ratio)).toEqual([2, 2.1]);
    expect(ingestPairOf({ ms: 5_000, maxRssMB: 360 }, { ms: 12_000, maxRssMB: 1_100 }).ratio).toBe(2.4);
  });

  it('summarise repeats of a phase by the median time and the highest peak', () => {
    expect(medianTimed([{ ms: 5, maxRssMB: 10 }, { ms: 9, maxRssMB: 30 }, { ms: 7, maxRssMB: 20 }])).toEqual({ ms: 7, maxRssMB: 30 });
  });

  it('find the BG/NBD fit among the run\'s steps, whatever the step is called', () => {
    expect(fitTime({ base: 3436, bgnbd_fit: 921 })).toBe(921);
    expect(fitTime({ fit_bgnbd: 700 })).toBe(700);
    expect(fitTime({ base: 1 })).toBeNull();
  });
});

function dataSet(over: Partial<DataSetResult> = {}): DataSetResult {
  const pairs = [pairOf({ ms: 3_500, maxRssMB: 400 }, { ms: 7_000, maxRssMB: 1_900 }), pairOf({ ms: 3_600, maxRssMB: 400 }, { ms: 7_500, maxRssMB: 1_950 }), pairOf({ ms: 4_000, maxRssMB: 410 }, { ms: 7_600, maxRssMB: 1_980 })];
  return {
    name: 'clean',
    file: 'clean.csv',
    lines: 9_800_000,
    bytes: 357_278_471,
    ingestPairs: [ingestPairOf({ ms: 4_850, maxRssMB: 360 }, { ms: 9_700, maxRssMB: 1_157 })],
    read: { ms: 4_850, maxRssMB: 360 },
    ingest: { ms: 9_700, maxRssMB: 1_157 },
    ingestRatio: 2,
    customersIngest: null,
    pairs,
    summaryMs: 3_600,
    runMs: 7_500,
    runRatio: 2,
    runMaxRssMB: 1_980,
    customersScored: 2_500_000,
    stepsMs: { base: 3_000, bgnbd_fit: 921, total: 7_000 },
    fitMs: 921,
    report: [
      { lang: 'en', ms: [2_100, 2_900, 3_300], medianMs: 2_900, bytes: 970_000, maxRssMB: 500 },
      { lang: 'zh', ms: [3_100, 3_000, 3_200], medianMs: 3_100, bytes: 975_000, maxRssMB: 500 },
    ],
    append: { lines: 9_800, ingest: { ms: 2_000, maxRssMB: 300 }, rerun: { ms: 7_000, maxRssMB: 1_900 }, ratio: 1.2 },
    ...over,
  };
}

describe('the targets', () => {
  it('are met at their limit, and missed past it', () => {
    const checks = checksFor(dataSet());
    const byWhat = Object.fromEntries(checks.map((c) => [c.what, c.met]));
    expect(byWhat).toEqual({
      'crm ingest ÷ DuckDB read_csv': true,
      'crm run ÷ bare summary': true,
      'peak RSS of crm ingest': true,
      'peak RSS of crm run': true,
      'BG/NBD fit': true,
      'crm report --lang en (median)': true,
      'crm report --lang zh (median)': false,
      'append + rerun ÷ full run': false,
    });
  });

  it('miss a ratio over 2×, a peak over 2 GB, a fit of 2 s or none', () => {
    const missed = (over: Partial<DataSetResult>) => checksFor(dataSet(over)).filter((c) => !c.met).map((c) => c.what);
    expect(missed({ ingestRatio: 2.01, report: null, append: null })).toEqual(['crm ingest ÷ DuckDB read_csv']);
    expect(missed({ runRatio: 5.5, runMaxRssMB: 2_070, report: null, append: null })).toEqual(['crm run ÷ bare summary', 'peak RSS of crm run']);
    expect(missed({ fitMs: 2_000, report: null, append: null })).toEqual(['BG/NBD fit']);
    expect(missed({ fitMs: null, report: null, append: null })).toEqual(['BG/NBD fit']);
  });

  it('hold the default run (--model auto) to 1.5× the --model bgnbd run of the same pairs, when measured', () => {
    const pair = pairOf({ ms: 3_500, maxRssMB: 400 }, { ms: 9_000, maxRssMB: 1_900 }, { ms: 7_000, maxRssMB: 1_800 });
    expect(pair.modelRatio).toBe(1.29);
    const byWhat = (over: Partial<DataSetResult>) => Object.fromEntries(checksFor(dataSet({ report: null, append: null, ...over })).map((c) => [c.what, c.met]));
    expect(byWhat({ modelRatio: 1.5 })['crm run ÷ crm run --model bgnbd']).toBe(true);
    expect(byWhat({ modelRatio: 1.51 })['crm run ÷ crm run --model bgnbd']).toBe(false);
    expect('crm run ÷ crm run --model bgnbd' in byWhat({})).toBe(false);
    const lines = formatSeconds([dataSet({ pairs: [pair], bgnbdRunMs: 7_000, modelRatio: 1.29 })]);
    expect(lines).toContain('| `crm run --model bgnbd` (median; each pair) | 7.00 s (7.00); peak 1,800 MB |');
    expect(lines).toContain('| run ÷ run --model bgnbd of each pair | 1.29× |');
  });

  it('are named when missed, or all said met', () => {
    expect(formatVerdict(checksFor(dataSet({ report: null, append: null })))).toBe('all 5 targets met');
    expect(formatVerdict(checksFor(dataSet({ name: 'dirty', runRatio: 5.5, report: null, append: null })))).toBe(
      'targets missed (1 of 5): dirty crm run ÷ bare summary 5.50× (target ≤ 2×)',
    );
  });
});

describe('the printed tables', () => {
  it('put the ratios first, one column per data set, — where a target does not apply', () => {
    const lines = formatRatios([dataSet(), dataSet({ name: 'dirty', lines: 10_123_456, report: null, append: null, ingestRatio: 2.5 })]);
    expect(lines.slice(0, 4)).toEqual([
      '| yardstick | target | clean (9.8M lines) | dirty (10.12M lines) |',
      '|---|---|---|---|',
      '| crm ingest ÷ DuckDB read_csv | ≤ 2× | 2.00× ✓ | 2.50× ✗ |',
      '| crm run ÷ bare summary | ≤ 2× | 2.00× ✓ | 2.00× ✓ |',
    ]);
    expect(lines).toContain('| peak RSS of crm run | ≤ 2,048 MB | 1,980 MB ✓ | 1,980 MB ✓ |');
    expect(lines).toContain('| BG/NBD fit | < 2 s | 0.92 s ✓ | 0.92 s ✓ |');
    expect(lines).toContain('| append + rerun ÷ full run | ≤ 0.25 | 1.20 ✗ | — |');
  });

  it('give seconds and peaks second, each pair listed, rows without figures left out', () => {
    const lines = formatSeconds([dataSet()]);
    expect(lines).toContain('| DuckDB `read_csv` into a table | 4.85 s (peak 360 MB) |');
    expect(lines.some((l) => l.startsWith('| ingest ÷ read of each pair'))).toBe(false);
    const twice = formatSeconds([dataSet({ ingestPairs: [ingestPairOf({ ms: 4_000, maxRssMB: 1 }, { ms: 9_000, maxRssMB: 2 }), ingestPairOf({ ms: 5_000, maxRssMB: 1 }, { ms: 9_500, maxRssMB: 2 })] })]);
    expect(twice).toContain('| ingest ÷ read of each pair | 2.25×, 1.90× |');
    expect(twice).toContain('| `crm ingest transactions` | 9.70 s (peak 1,157 MB); each 9.00, 9.50 |');
    expect(lines).toContain('| `crm run` (median; each pair) | 7.50 s (7.00, 7.50, 7.60); peak 1,980 MB |');
    expect(lines).toContain('| run ÷ summary of each pair | 2.00×, 2.08×, 1.90× |');
    expect(lines).toContain('| daily append: `crm ingest transactions --append` (lines) | 2.00 s (peak 300 MB), 9,800 lines |');
    expect(lines.some((l) => l.includes('crm ingest customers'))).toBe(false);
  });

  it('show the scale steps with seconds per million lines, and a failed step as failed', () => {
    const steps: ScaleStep[] = [
      { lines: 1_000_000, customers: 255_102, bytes: 36 * 1024 ** 2, memoryLimit: null, ingest: { ms: 2_500, maxRssMB: 400 }, run: { ms: 2_000, maxRssMB: 500 }, failure: null },
      { lines: 100_000_000, customers: 25_510_204, bytes: 3.6 * 1024 ** 3, memoryLimit: '4GB', ingest: { ms: 250_000, maxRssMB: 4_800 }, run: null, failure: 'crm: error: out of memory' },
    ];
    expect(perMillion(250_000, 100_000_000)).toBe('2.50');
    const table = formatScale(steps);
    expect(table[2]).toBe('| 1M | 255,102 | 0.04 GB | default | 2.50 s | 2.50 | 400 MB | 2.00 s | 2.00 | 500 MB | ok |');
    expect(table[3]).toBe('| 100M | 25,510,204 | 3.60 GB | 4GB | 250.0 s | 2.50 | 4,800 MB | — | — | — | failed: crm: error: out of memory |');
    const checks = scaleChecks(steps);
    expect(checks.filter((c) => !c.met).map((c) => `${c.scope}: ${c.what}`)).toEqual(['scale 100M: ingest and run complete']);
    expect(formatVerdict(checks)).toBe('targets missed (1 of 5): scale 100M ingest and run complete failed: crm: error: out of memory (target yes)');
  });
});

describe('the contracts part', () => {
  const timings = { contracts_detect: 900, contracts_fit: 300, contracts_write: 1_300, bgnbd_fit: 50, total: 4_000 };
  const book = (over: Partial<ContractsResult> = {}): ContractsResult => ({
    contracts: 1_000_000,
    rows: 3_640_442,
    file: '/b/contracts.csv',
    bytes: 300e6,
    generateMs: null,
    reads: [{ ms: 3_000, maxRssMB: 300 }],
    ingestPairs: [ingestPairOf({ ms: 3_000, maxRssMB: 300 }, { ms: 5_400, maxRssMB: 900 })],
    pairs: [contractPairOf({ ms: 1_000, maxRssMB: 200 }, { ms: 6_000, maxRssMB: 1_200 }, timings)],
    stepsMs: contractSteps(timings),
    failure: null,
    ...over,
  });

  it("times the run's contract part as the sum of its contracts_ steps, or not at all", () => {
    expect(contractSteps(timings)).toEqual({ contracts_detect: 900, contracts_fit: 300, contracts_write: 1_300 });
    expect(contractPartMs(timings)).toBe(2_500);
    expect(contractPartMs({ bgnbd_fit: 5 })).toBeNaN();
    expect(contractPairOf({ ms: 1_000, maxRssMB: 1 }, { ms: 9_000, maxRssMB: 1 }, timings).ratio).toBe(2.5);
  });

  it('holds the ingest to 2× DuckDB, the contract part under 5 s, and says when a phase failed', () => {
    const byWhat = (r: ContractsResult) => Object.fromEntries(contractChecks(r).map((c) => [c.what, c.met]));
    expect(byWhat(book())).toEqual({
      'crm ingest contracts ÷ DuckDB read_csv': true,
      'peak RSS of crm ingest contracts': true,
      "crm run's contract part": true,
      'peak RSS of crm run (contracts store)': true,
    });
    const slow = { ...timings, contracts_detect: 3_400 };
    expect(byWhat(book({ pairs: [contractPairOf({ ms: 1_000, maxRssMB: 1 }, { ms: 9_000, maxRssMB: 1 }, slow)] }))["crm run's contract part"]).toBe(false);
    expect(byWhat(book({ pairs: [contractPairOf({ ms: 1_000, maxRssMB: 1 }, { ms: 9_000, maxRssMB: 1 }, { total: 9_000 })] }))["crm run's contract part"]).toBe(false);
    const failed = book({ ingestPairs: [], pairs: [], failure: 'contracts: crm ingest contracts: crm: error: unknown kind "contracts"' });
    expect(contractChecks(failed).map((c) => [c.what, c.met])).toEqual([['crm ingest contracts and crm run complete', false]]);
    expect(formatVerdict(contractChecks(failed))).toMatch(/^targets missed \(1 of 1\): contracts \(1M\) crm ingest contracts and crm run complete failed: /);
  });

  it('prints its targets, its seconds and the median run’s contract steps', () => {
    const lines = formatContracts(book());
    expect(lines[0]).toBe('| yardstick | target | contracts (1M contracts, 3.64M rows) |');
    expect(lines).toContain('| crm ingest contracts ÷ DuckDB read_csv | ≤ 2× | 1.80× ✓ |');
    expect(lines).toContain("| crm run's contract part | < 5 s | 2.50 s ✓ |");
    expect(lines).toContain('| `crm generate --customers 0 --contracts N` | cached |');
    expect(lines).toContain('| DuckDB `read_csv` into a table | 3.00 s (peak 300 MB) |');
    expect(lines).toContain("| `crm run`'s contract part, `contracts_*` steps (median; each pair) | 2.50 s (2.50) |");
    expect(lines).toContain('| contract part ÷ summary of each pair | 2.50× |');
    expect(lines[lines.length - 1]).toBe('contracts: steps of the median `crm run` (ms): contracts_detect 900, contracts_fit 300, contracts_write 1300');
    const failed = formatContracts(book({ generateMs: 9_500, ingestPairs: [], pairs: [], stepsMs: {}, failure: 'x' }));
    expect(failed).toContain('| `crm generate --customers 0 --contracts N` | 9.50 s |');
    expect(failed).toContain('| DuckDB `read_csv` into a table | 3.00 s (peak 300 MB) |');
    expect(failed.some((l) => l.includes('crm ingest contracts`'))).toBe(false);
  });
});

describe('the report part alone (--data report)', () => {
  const renders = [
    { lang: 'en' as const, ms: [2900, 2800, 3100], medianMs: 2900, bytes: 900 * 1024, maxRssMB: 540 },
    { lang: 'zh' as const, ms: [3100, 3200, 3050], medianMs: 3100, bytes: 910 * 1024, maxRssMB: 550 },
  ];
  it('checks each language\'s median against 3 s', () => {
    expect(reportChecks(renders).map((c) => [c.what, c.met])).toEqual([
      ['crm report --lang en (median)', true],
      ['crm report --lang zh (median)', false],
    ]);
  });
  it('prints each language with its renders and the load average around them', () => {
    const text = formatReportOnly({ renders, loadBefore: [0.5, 1, 1.25], loadAfter: [1.5, 1, 1.25] }).join('\n');
    expect(text).toContain('| `--lang en` | 2.90 s | 2.90, 2.80, 3.10 |');
    expect(text).toContain('load average (1, 5, 15 min): 0.50 1.00 1.25 before, 1.50 1.00 1.25 after');
  });
});

describe('the lookup part', () => {
  const lookup = (over: Partial<LookupResult> = {}): LookupResult => ({
    customers: 2_500_000,
    store: '/w/dirty.duckdb',
    versionMs: [150, 160, 140],
    queries: [
      { kind: 'id', query: 'C0000042', ms: [600, 650, 620] },
      { kind: 'e-mail', query: ' A@B.EXAMPLE ', ms: [800, 1_200, 900] },
      { kind: 'no match', query: 'a|b', ms: [990, 1_000, 1_010] },
    ],
    failure: null,
    ...over,
  });

  it('hold each kind of query to under 1 s by its median whole command, and say when a command failed', () => {
    expect(lookupChecks(lookup()).map((c) => [c.what, c.value, c.met])).toEqual([
      ['crm customer by id (median)', 0.62, true],
      ['crm customer by e-mail (median)', 0.9, true],
      ['crm customer by no match (median)', 1, false],
    ]);
    const failed = lookupChecks(lookup({ queries: [], failure: 'lookup: crm customer by id: crm: error: no store' }));
    expect(failed.map((c) => [c.what, c.met])).toEqual([['crm customer QUERY completes', false]]);
    expect(formatVerdict(failed)).toMatch(/^targets missed \(1 of 1\): lookup \(2.5M customers\) crm customer QUERY completes failed: /);
  });

  it('prints its targets, then each query with its times and the start-up floor', () => {
    const lines = formatLookup(lookup());
    expect(lines[0]).toBe('| yardstick | target | lookup (2.5M customers) |');
    expect(lines).toContain('| crm customer by e-mail (median) | < 1 s | 0.90 s ✓ |');
    expect(lines).toContain('| by e-mail | ` A@B.EXAMPLE ` | 0.90 s (0.80, 1.20, 0.90) |');
    expect(lines).toContain('| by no match | `a\\|b` | 1.00 s (0.99, 1.00, 1.01) |');
    expect(lines[lines.length - 1]).toBe('| `crm --version` (start-up floor) |  | 0.15 s (0.15, 0.16, 0.14) |');
  });
});
