/**
 * `npm run demo`: the first run of a newcomer. Ingests the sample exports in data/sample into
 * the default store (./crm.duckdb), runs every step the tool has, writes the outputs under
 * out/ and prints where they are. It drives the real `crm` CLI, so what it prints is what
 * users see; running it again is safe (ingesting unchanged files is a no-op).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/version.js';

const CLI = path.join(PACKAGE_ROOT, 'dist/cli.js');
const OUT = path.join(PACKAGE_ROOT, 'out');
const SAMPLE = path.join('data', 'sample');

interface Step {
  title: string;
  args: string[];
  /** Save stdout to this file under out/ instead of printing it. */
  saveTo?: string;
}

const STEPS: Step[] = [
  { title: 'Load the customer master data', args: ['ingest', 'customers', path.join(SAMPLE, 'customers.csv')] },
  { title: 'Load the transaction lines', args: ['ingest', 'transactions', path.join(SAMPLE, 'transactions.csv')] },
  { title: 'Load the policyholders who only hold contracts (the insurer’s customer master)', args: ['ingest', 'customers', path.join(SAMPLE, 'policyholders.csv')] },
  { title: 'Load the policy book: one row per contract period', args: ['ingest', 'contracts', path.join(SAMPLE, 'contracts.csv')] },
  { title: 'Load who manages which account (the owners file)', args: ['ingest', 'owners', path.join(SAMPLE, 'owners.csv')] },
  { title: 'Check data quality', args: ['quality', '--as-of', '2025-12-31'] },
  { title: 'Save the data-quality report as JSON', args: ['quality', '--as-of', '2025-12-31', '--json'], saveTo: 'quality.json' },
  {
    title: 'Ask the store a question in SQL',
    args: ['query', 'SELECT reason, count(*) AS rows FROM rejects GROUP BY reason ORDER BY rows DESC'],
  },
  {
    title: 'Score the customers as of mid-2025 and backtest against the second half',
    args: ['run', '--as-of', '2025-06-30', '--holdout-end', '2025-12-31'],
  },
  { title: 'Score the customers as of the last transaction', args: ['run'] },
  { title: 'Renewals due in the next 60 days, by value at risk', args: ['renewals', '--within', '60'] },
  { title: 'The renewal list as CSV for the agents', args: ['export', 'renewals', '--out', 'out/renewals.csv', '--within', '60', '--force'] },
  { title: 'Save the run as JSON', args: ['model', 'show', '--json'], saveTo: 'model.json' },
  { title: 'The fitted models and the backtest', args: ['model', 'show', '--run', '1'] },
  { title: 'The 80/20 key accounts', args: ['keyaccounts', '--json'], saveTo: 'keyaccounts.json' },
  { title: "The account managers' books, and the key accounts nobody owns", args: ['owners'] },
  { title: 'Propose owners for the unowned key accounts (a dry run: nothing written)', args: ['owners', 'assign', '--dry-run', '--max', '11'] },
  { title: 'One customer, 360°', args: ['customer', 'C0000049'] },
  { title: 'The executive report, in English', args: ['report', '--out', 'out'] },
  { title: 'The executive report, in Chinese', args: ['report', '--out', 'out', '--lang', 'zh'] },
  { title: "Li Na's weekly digest: what changed, who to call first and why", args: ['report', '--owner', 'Li Na', '--digest', '--out', 'out'] },
  { title: 'What marketing can export', args: ['export', 'segments'] },
  { title: 'The "At Risk" call list for marketing (contacts masked)', args: ['export', 'segment', 'At Risk', '--out', 'out/at-risk.xlsx', '--mask-pii', '--force'] },
  { title: 'The key accounts as CSV for Excel', args: ['export', 'segment', 'keyaccounts', '--out', 'out/key-accounts.csv', '--bom', '--force'] },
  { title: 'Customers filed twice: suggest merges to review', args: ['quality', '--suggest-merges', '--out', 'out/merge-suggestions.csv', '--force'] },
  // --append: running the demo again adds only new suggestions (ids merged before are not suggested again).
  { title: 'Record the reviewed merges', args: ['ingest', 'merges', 'out/merge-suggestions.csv', '--append'] },
  { title: 'Score again: each surviving id with its duplicates’ history', args: ['run'] },
  { title: 'The merges recorded (crm merges undo ID reverses one)', args: ['merges'] },
  { title: 'One customer, one id', args: ['customer', 'C0000109'] },
];

function run(step: Step): void {
  process.stdout.write(`\n▶ ${step.title}\n  $ crm ${step.args.map((a) => (/[\s*()]/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`);
  const r = spawnSync(process.execPath, [CLI, ...step.args], {
    cwd: PACKAGE_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CRM_DB: '' },
  });
  if (r.status !== 0) {
    process.stdout.write(r.stdout ?? '');
    throw new Error(`demo step failed (exit ${r.status}): crm ${step.args.join(' ')}`);
  }
  if (step.saveTo) {
    fs.writeFileSync(path.join(OUT, step.saveTo), r.stdout);
    process.stdout.write(`  → out/${step.saveTo}\n`);
  } else {
    process.stdout.write(r.stdout.replace(/^/gm, '  '));
  }
}

function main(): void {
  fs.mkdirSync(OUT, { recursive: true });
  for (const step of STEPS) run(step);
  process.stdout.write(
    [
      '',
      'Done. Outputs:',
      `  store       ${path.join(PACKAGE_ROOT, 'crm.duckdb')}  (query it: npx crm query "SELECT * FROM transactions LIMIT 5")`,
      `  quality     ${path.join(OUT, 'quality.json')}`,
      `  models      ${path.join(OUT, 'model.json')}`,
      `  key accounts ${path.join(OUT, 'keyaccounts.json')}, ${path.join(OUT, 'key-accounts.csv')}`,
      `  report      ${path.join(OUT, 'report.html')}, ${path.join(OUT, 'report.zh.html')} (charts in ${path.join(OUT, 'charts')})`,
      `  marketing   ${path.join(OUT, 'at-risk.xlsx')}`,
      `  digest      ${path.join(OUT, 'digest-Li-Na.html')}`,
      `  renewals    ${path.join(OUT, 'renewals.csv')}`,
      `  merges      ${path.join(OUT, 'merge-suggestions.csv')} (reviewed and recorded: crm merges)`,
      '',
    ].join('\n'),
  );
}

try {
  main();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
