/**
 * Writes the committed sample files under data/ (or under the directory given as the first
 * argument): the generated demo input, the hand-written dirty export, the GB18030 files and the
 * JSON samples, each with its README. Deterministic: running it again gives the same bytes.
 *
 *   npm run build && node dist/scripts/generate-samples.js [DIR]
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLANS } from '../src/generate/contract-model.js';
import { describeResult, generate, type GenerateResult } from '../src/generate/index.js';
import { dirtyCsvText, dirtyReadme } from './samples/dirty.js';
import { encodeGb18030 } from './samples/gb18030.js';
import { jsonArrayText, ndjsonText } from './samples/json.js';
import { zhCustomersText, zhReadme, zhTransactionsText } from './samples/zh.js';
import { zhPoliciesReadme, zhPoliciesText } from './samples/zh-policies.js';
import { repoRoot } from './repo-root.js';

/** The demo input: small enough to commit, large enough for every model to find something. */
export const SAMPLE_OPTIONS = { customers: 500, seed: 7 } as const;
/** The demo's policy book: the same customers and seed, plus this many contracts. */
export const SAMPLE_CONTRACTS = 400;

export async function writeSamples(dataDir: string): Promise<GenerateResult> {
  const sample = await generate({ ...SAMPLE_OPTIONS, outDir: join(dataDir, 'sample') });
  const book = await writeContractSample(join(dataDir, 'sample'));

  await mkdir(join(dataDir, 'dirty'), { recursive: true });
  await writeFile(join(dataDir, 'dirty', 'transactions_dirty.csv'), dirtyCsvText(), 'utf8');
  await writeFile(join(dataDir, 'dirty', 'README.md'), dirtyReadme(), 'utf8');

  await mkdir(join(dataDir, 'zh'), { recursive: true });
  await writeFile(join(dataDir, 'zh', '交易记录_gb18030.csv'), encodeGb18030(zhTransactionsText()));
  await writeFile(join(dataDir, 'zh', '客户_gb18030.csv'), encodeGb18030(zhCustomersText()));
  await writeFile(join(dataDir, 'zh', '保单_gb18030.csv'), encodeGb18030(zhPoliciesText()));
  await writeFile(join(dataDir, 'zh', 'README.md'), zhReadme() + zhPoliciesReadme(), 'utf8');

  await mkdir(join(dataDir, 'json'), { recursive: true });
  await writeFile(join(dataDir, 'json', 'transactions.ndjson'), ndjsonText(), 'utf8');
  await writeFile(join(dataDir, 'json', 'transactions.json'), jsonArrayText(), 'utf8');
  await writeFile(join(dataDir, 'README.md'), indexReadme(sample, book), 'utf8');
  return sample;
}

/**
 * data/sample/contracts.csv and policyholders.csv: the same generation with contracts, whose
 * customers.csv is the sample's with the contract-only customers appended. The sample's own
 * customers.csv stays as it was; the appended rows go to policyholders.csv (the insurer's
 * customer master), so every contract's customer id is in one of the two files.
 */
async function writeContractSample(sampleDir: string): Promise<GenerateResult> {
  const tmp = await mkdtemp(join(tmpdir(), 'crm-samples-'));
  try {
    const book = await generate({ ...SAMPLE_OPTIONS, contracts: SAMPLE_CONTRACTS, outDir: tmp });
    await copyFile(join(tmp, 'contracts.csv'), join(sampleDir, 'contracts.csv'));
    const lines = (await readFile(join(tmp, 'customers.csv'), 'utf8')).split('\n');
    const holders = [lines[0], ...lines.slice(1 + SAMPLE_OPTIONS.customers)].join('\n');
    await writeFile(join(sampleDir, 'policyholders.csv'), holders, 'utf8');
    return book;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** data/README.md: what each folder is for, with the demo sample's counts. */
function indexReadme(r: GenerateResult, book: GenerateResult): string {
  const c = r.counts;
  const k = book.counts.contracts!;
  const p = r.profile;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return `# data — sample inputs

Written by \`scripts/generate-samples.ts\` (\`npm run build && node dist/scripts/generate-samples.js\`); a test checks
that these files are exactly what it writes, so regenerate them after changing the generator.

| folder | what | for |
| --- | --- | --- |
| \`sample/\` | \`customers.csv\`, \`transactions.csv\` from \`generate({ customers: ${r.options.customers}, seed: ${r.options.seed} })\`; \`contracts.csv\`, \`policyholders.csv\` from the same with \`contracts: ${k.contracts}\` | the demo's input |
| \`dirty/\` | a hand-written European export: BOM, \`;\`, DD/MM/YYYY, \`€1.234,50\`, bad rows | ingest edge cases; see its README |
| \`zh/\` | a Chinese transactions/customers pair and a policy export (保单, one row per policy year) in GB18030 | encoding and Chinese formats; \`crm ingest contracts\`; see its README |
| \`json/\` | the same 20 records as NDJSON and as a JSON array | JSON ingest |

## sample/

\`owners.csv\` is not written by the generator: it is the demo's owners file (\`crm ingest owners\`),
made once from the demo store (transactions, customers and policyholders, contracts, \`crm run\`):
62 of the 67 key accounts with no owner there, given to six account managers with their team and
e-mail (\`customer_id, account_owner, team, owner_email\`), ten each and two more for Li Na; five
key accounts stay unowned, so \`crm owners\` has something to report.

- ${c.customers} customers (${c.customersWithoutTransactions} without transactions, ${c.customerIssues.duplicatePersons} duplicate persons, ${c.customerIssues.invalidEmails} invalid e-mails, ${c.customerIssues.missingEmails} missing e-mails, ${c.customerIssues.missingPhones} missing phones, ${c.keyAccounts} key accounts with ${c.accountOwners} account owners)
- ${c.transactionLines} transaction lines: ${c.orderLines} order lines in ${c.orders} orders, ${c.returns} returns
- ${c.dirtyRows.total} dirty lines: ${c.dirtyRows.missingCustomerId} missing customer id, ${c.dirtyRows.invalidDate} invalid dates, ${c.dirtyRows.invalidAmount} invalid amounts
- Period ${r.options.startDate} to ${r.options.endDate}; net revenue of the clean lines ${p.netRevenue.toFixed(2)}
- Top 20% of buying customers bring ${pct(p.top20RevenueShare)} of net revenue; ${pct(p.inactiveLast6MonthsShare)} of customers acquired before the last 6 months bought nothing in them; ${pct(p.oneTimeBuyerShare)} bought once

### sample/contracts.csv — a policy book

\`crm generate --customers ${r.options.customers} --contracts ${k.contracts} --seed ${r.options.seed}\`'s \`contracts.csv\`: one row per contract period
(\`customer_id, contract_id, plan, period_start, period_end, amount, channel, region, status, cancel_date\`; the period's
last day inclusive; the status is the contract's on ${r.options.endDate}, repeated on each of its rows; \`cancel_date\` on the
period it falls in).

- ${k.contracts} contracts in ${k.rows} period rows: ${k.byStatus.active} active, ${k.byStatus.lapsed} lapsed, ${k.byStatus.cancelled} cancelled
- Held by ${k.holdersWithPurchases} customers of \`customers.csv\` (who also buy) and ${k.contractOnlyCustomers} contract-only customers, whose master data is
  \`policyholders.csv\` (same columns as \`customers.csv\`; ${k.agents} ${k.agents === 1 ? 'agent' : 'agents'} as account owners)
- Plans, each drawn from a known shifted-beta-geometric (θ ~ Beta(α, β), renewal with probability 1 − θ):
${planLines()}
- ${k.dirtyRows.total} dirty rows: ${k.dirtyRows.duplicatePeriod} periods exported twice, ${k.dirtyRows.overlap} overlapping the next period, ${k.dirtyRows.reinstatement} reinstatements after a gap of more than 30 days, ${k.dirtyRows.endBeforeStart} periods ending before they start, ${k.dirtyRows.missingPremium} missing premiums
`;
}

function planLines(): string {
  return PLANS.map((p) => `  - \`${p.plan}\`: ${p.period === 'month' ? 'monthly' : p.period === 'quarter' ? 'quarterly' : 'annual'}, α = ${p.alpha}, β = ${p.beta}`).join('\n');
}

async function main(): Promise<void> {
  const dataDir = resolve(process.argv[2] ?? join(repoRoot(), 'data'));
  const r = await writeSamples(dataDir);
  process.stdout.write([`wrote samples under ${dataDir}`, ...describeResult(r)].join('\n') + '\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
