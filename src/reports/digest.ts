/**
 * The weekly digest of an account manager's book (`crm report --owner NAME --digest`): one short
 * HTML page per owner that opens from an e-mail attachment — no scripts, no external resources
 * (a Content-Security-Policy that allows only the inline style says so to the mail client), every
 * value escaped. It says what changed in the book since the previous run, who to call first and
 * why, and which of the owner's contracts are due for renewal.
 *
 * Nothing here decides anything: the changes are owner_books' (owners.ts, BOOK_ACCOUNTS_SQL), the
 * at-risk flag and its reasons are the run's (customer_metrics.at_risk_codes / at_risk_reason, as
 * `crm keyaccounts` shows them), the renewals are `crm renewals --owner` (renewals.ts) with its
 * reasons. Personal data (customers' e-mail and phone) is masked unless `showPii`.
 */
import path from 'node:path';
import fs from 'node:fs/promises';
import { Store } from '../store/db.js';
import { auditHandOut, type AuditEntry } from '../store/audit.js';
import { inputError } from '../util/errors.js';
import { TOOL_VERSION } from '../version.js';
import { checkTarget, writeAtomically } from './atomic-file.js';
import { latestContactsSql } from './contacts.js';
import { escapeHtml } from './html.js';
import { DEFAULT_LANG, formatDate, formatNumber, t, translateTerm, type Lang } from './i18n.js';
import { checkOwner, ownerSlugs } from './owner-filter.js';
import { BOOK_ACCOUNTS_SQL, latestRuns, ownerBookRows, type BookRuns, type OwnerBook } from './owners.js';
import { maskEmailSql, maskNameSql, maskPhoneSql } from './pii.js';
import { renewals, type RenewalRow } from './renewals.js';

/** `--owner all`: a digest for every owner. */
export const ALL_OWNERS = 'all';
/** Rows per list: a digest is short; the full lists are a command away. */
export const DIGEST_ROWS = 10;

export interface DigestOptions {
  storePath: string;
  outDir: string;
  /** An owner's exact name, or `all`. */
  owner: string;
  lang?: Lang;
  /** Customers' e-mail and phone as stored (default: masked). */
  showPii?: boolean;
  /** Mask customers' names too (config privacy.mask_names). */
  maskNames?: boolean;
  force?: boolean;
  /** The "generated" date (tests pin it). */
  now?: Date;
}

export interface DigestFile {
  owner: string;
  path: string;
  bytes: number;
  /** Distinct customers named in the page. */
  customers: number;
}

export interface DigestResult {
  run_id: number;
  lang: Lang;
  masked: boolean;
  files: DigestFile[];
}

export interface ChangedAccount {
  customer_id: string;
  name: string | null;
  net_revenue: number | null;
  new_key_account: boolean;
  became_at_risk: boolean;
  lost_key_account: boolean;
  reason: string | null;
}

export interface CallFirst {
  customer_id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  key_account: boolean;
  net_revenue: number | null;
  clv: number | null;
  /** The score the churn tier was cut from (churn_basis: p_no_purchase by default, else 1 − P(alive)). */
  churn_risk: number | null;
  reason: string | null;
}

export interface DigestData {
  owner: string;
  runs: BookRuns & { as_of: string; previous_as_of: string | null; key_share: number };
  book: OwnerBook;
  changes: ChangedAccount[];
  callFirst: CallFirst[];
  atRiskTotal: number;
  renewals: { window_end: string; total: number; rows: RenewalRow[] } | null;
}

/** The digest's file name: `digest-<slug>.html`, `digest-<slug>.zh.html`. */
export function digestFileName(slug: string, lang: Lang): string {
  return lang === DEFAULT_LANG ? `digest-${slug}.html` : `digest-${slug}.${lang}.html`;
}

/**
 * Why a customer is at risk, in the digest's language: English is the run's own sentence with
 * its numbers (customer_metrics.at_risk_reason, as crm keyaccounts shows it); Chinese words the
 * same codes (i18n `at_risk.*`, as the report does).
 */
function reasonSql(lang: Lang): string {
  if (lang === 'en') return 'm.at_risk_reason';
  return `array_to_string(list_transform(CAST(m.at_risk_codes AS VARCHAR[]), lambda c: CASE c ${['revenue_down', 'churn_risk_up', 'churn_risk_high']
    .map((c) => `WHEN '${c}' THEN '${translateTerm('zh', `at_risk.${c}`)}'`)
    .join(' ')} ELSE c END), '；')`;
}

/** The owned customers of the book relation, once for all digests (temporary: the store stays read-only). */
const ACCOUNTS_TABLE = 'digest_accounts';

async function prepareAccounts(store: Store, runs: BookRuns): Promise<void> {
  await store.run(`CREATE OR REPLACE TEMP TABLE ${ACCOUNTS_TABLE} AS SELECT * FROM (${BOOK_ACCOUNTS_SQL}) WHERE owner IS NOT NULL`, {
    run_id: runs.run_id,
    previous_run_id: runs.previous_run_id,
  });
}

async function digestData(
  store: Store,
  owner: string,
  book: OwnerBook,
  runs: DigestData['runs'],
  opts: { lang: Lang; showPii: boolean; maskNames: boolean },
): Promise<DigestData> {
  const params = { run_id: runs.run_id, owner };
  const name = opts.maskNames ? maskNameSql('c.name') : 'c.name';
  const contacts = latestContactsSql('customer_id IN (SELECT customer_id FROM customer_owners WHERE account_owner = CAST($owner AS VARCHAR))');
  const changes = await store.all<ChangedAccount & Record<string, unknown>>(
    `SELECT a.customer_id, ${name} AS name, a.net_revenue, a.new_key_account, a.became_at_risk, a.lost_key_account, ${reasonSql(opts.lang)} AS reason
     FROM ${ACCOUNTS_TABLE} a
     LEFT JOIN customer_metrics m ON m.run_id = CAST($run_id AS INTEGER) AND m.customer_id = a.customer_id
     LEFT JOIN (${contacts}) c ON c.customer_id = a.customer_id
     WHERE a.owner = CAST($owner AS VARCHAR) AND (a.new_key_account OR a.became_at_risk OR a.lost_key_account)
     ORDER BY a.net_revenue DESC NULLS LAST, a.customer_id`,
    params,
  );
  const email = opts.showPii ? 'c.email' : maskEmailSql('c.email');
  const phone = opts.showPii ? 'c.phone' : maskPhoneSql('c.phone');
  const callFirst = await store.all<CallFirst & Record<string, unknown>>(
    `SELECT a.customer_id, ${name} AS name, ${email} AS email, ${phone} AS phone, a.key_account, a.net_revenue, a.clv,
            -- The score the churn tier was cut from (as crm keyaccounts shows it): p_no_purchase by default.
            CASE WHEN m.churn_basis = 'p_no_purchase' THEN m.p_no_purchase ELSE m.churn_risk END AS churn_risk,
            ${reasonSql(opts.lang)} AS reason
     FROM ${ACCOUNTS_TABLE} a
     JOIN customer_metrics m ON m.run_id = CAST($run_id AS INTEGER) AND m.customer_id = a.customer_id
     LEFT JOIN (${contacts}) c ON c.customer_id = a.customer_id
     WHERE a.owner = CAST($owner AS VARCHAR) AND a.at_risk
     ORDER BY a.key_account DESC, a.clv DESC NULLS LAST, a.net_revenue DESC NULLS LAST, a.customer_id
     LIMIT ${DIGEST_ROWS}`,
    params,
  );
  const hasContracts = ((await store.value<number>('SELECT count(*) FROM contract_metrics WHERE run_id = $run_id', { run_id: runs.run_id })) ?? 0) > 0;
  let due: DigestData['renewals'] = null;
  if (hasContracts) {
    const r = await renewals(store, { owner, lang: opts.lang });
    due = { window_end: r.window_end, total: r.contracts, rows: r.renewals.slice(0, DIGEST_ROWS) };
  }
  return { owner, runs, book, changes, callFirst, atRiskTotal: book.at_risk, renewals: due };
}

// ---------------------------------------------------------------------------------------
// The page

const STYLE = `
body{font:15px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue","PingFang SC","Microsoft YaHei",Arial,sans-serif;color:#1f2933;max-width:860px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid #d9e2ec;padding-bottom:4px}h3{font-size:15px;margin:14px 0 6px}
p.meta,p.note,footer{color:#52606d;font-size:13px}
.kpis{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}.kpi{border:1px solid #d9e2ec;border-radius:6px;padding:8px 12px;min-width:110px}
.kpi b{display:block;font-size:19px}.kpi span{color:#52606d;font-size:12px}.kpi .up{color:#b42318;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{background:#f5f7fa}td.n{text-align:right;white-space:nowrap}`;

const esc = (v: unknown) => escapeHtml(v === null || v === undefined ? '' : String(v));

function table(headers: string[], rows: { cells: unknown[]; numeric?: boolean[] }[]): string {
  const head = `<tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.cells.map((c, i) => `<td${r.numeric?.[i] ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n${head}\n${body}\n</table>`;
}

function kpi(label: string, value: string, change?: string): string {
  return `<div class="kpi"><span>${esc(label)}</span><b>${esc(value)}</b>${change ? `<span class="up">${esc(change)}</span>` : ''}</div>`;
}

/** The digest page. Pure: every value from the store goes through escapeHtml. */
export function digestHtml(d: DigestData, lang: Lang, opts: { masked: boolean; now: Date }): string {
  const money = (v: unknown) => (v === null || v === undefined ? '–' : formatNumber(lang, v, 'money'));
  const count = (v: unknown) => formatNumber(lang, v, 'integer');
  const pct = (v: unknown) => (v === null || v === undefined ? '–' : formatNumber(lang, v, 'percent', 0));
  const who = (x: { name: string | null; customer_id: string }) => (x.name ? `${x.name} (${x.customer_id})` : x.customer_id);
  const b = d.book;
  const parts: string[] = [];
  parts.push(`<h1>${esc(t(lang, 'digest.title', { owner: d.owner }))}</h1>`);
  parts.push(
    `<p class="meta">${esc(
      d.runs.previous_run_id === null
        ? t(lang, 'digest.first_run', { run: d.runs.run_id, as_of: formatDate(lang, d.runs.as_of) })
        : t(lang, 'digest.run', { run: d.runs.run_id, as_of: formatDate(lang, d.runs.as_of), previous: d.runs.previous_run_id, previous_as_of: formatDate(lang, d.runs.previous_as_of) }),
    )}${b.team ? ` · ${esc(b.team)}` : ''}</p>`,
  );
  const plus = (n: number | null) => (n ? `+${count(n)}` : undefined);
  parts.push(
    `<div class="kpis">${[
      kpi(t(lang, 'digest.kpi.customers'), count(b.customers)),
      kpi(t(lang, 'digest.kpi.key_accounts'), count(b.key_accounts), plus(b.new_key_accounts)),
      kpi(t(lang, 'digest.kpi.at_risk'), count(b.at_risk), plus(b.new_at_risk)),
      kpi(t(lang, 'digest.kpi.revenue'), money(b.revenue)),
      kpi(t(lang, 'digest.kpi.clv'), money(b.clv)),
    ].join('')}</div>`,
  );

  // What changed
  if (d.runs.previous_run_id !== null) {
    parts.push(`<h2>${esc(t(lang, 'digest.changes'))}</h2>`);
    const lists: [string, ChangedAccount[], boolean][] = [
      ['digest.new_key', d.changes.filter((c) => c.new_key_account), false],
      ['digest.became_at_risk', d.changes.filter((c) => c.became_at_risk), true],
      ['digest.lost', d.changes.filter((c) => c.lost_key_account), false],
    ];
    if (lists.every(([, rows]) => rows.length === 0)) parts.push(`<p>${esc(t(lang, 'digest.no_changes'))}</p>`);
    for (const [key, rows, withReason] of lists) {
      if (rows.length === 0) continue;
      parts.push(`<h3>${esc(t(lang, key, { n: count(rows.length) }))}</h3>`);
      const shown = rows.slice(0, DIGEST_ROWS);
      parts.push(
        table(
          [t(lang, 'digest.col.customer'), t(lang, 'digest.col.revenue'), ...(withReason ? [t(lang, 'digest.col.why')] : [])],
          shown.map((c) => ({ cells: [who(c), money(c.net_revenue), ...(withReason ? [c.reason] : [])], numeric: [false, true, false] })),
        ),
      );
      if (rows.length > shown.length) parts.push(`<p class="note">${esc(t(lang, 'digest.more', { n: count(rows.length - shown.length) }))}</p>`);
    }
  }

  // Who to call first
  parts.push(`<h2>${esc(t(lang, 'digest.call_first'))}</h2>`);
  if (d.callFirst.length === 0) parts.push(`<p>${esc(t(lang, 'digest.nobody_at_risk'))}</p>`);
  else {
    parts.push(`<p class="note">${esc(t(lang, 'digest.call_first_note'))}</p>`);
    parts.push(
      table(
        [t(lang, 'digest.col.customer'), t(lang, 'digest.col.phone'), t(lang, 'digest.col.email'), t(lang, 'digest.col.key'), t(lang, 'digest.col.clv'), t(lang, 'digest.col.churn_risk'), t(lang, 'digest.col.why')],
        d.callFirst.map((c) => ({
          cells: [who(c), c.phone, c.email, c.key_account ? t(lang, 'digest.yes') : '', money(c.clv), pct(c.churn_risk), c.reason],
          numeric: [false, false, false, false, true, true, false],
        })),
      ),
    );
    if (d.atRiskTotal > d.callFirst.length) parts.push(`<p class="note">${esc(t(lang, 'digest.more', { n: count(d.atRiskTotal - d.callFirst.length) }))}</p>`);
  }

  // Renewals due
  if (d.renewals) {
    const r = d.renewals;
    parts.push(`<h2>${esc(t(lang, 'digest.renewals', { date: formatDate(lang, r.window_end) }))}</h2>`);
    if (r.total === 0) parts.push(`<p>${esc(t(lang, 'digest.renewals_none', { date: formatDate(lang, r.window_end) }))}</p>`);
    else {
      parts.push(
        table(
          [t(lang, 'digest.col.customer'), t(lang, 'digest.col.contract'), t(lang, 'digest.col.due'), t(lang, 'digest.col.value_at_risk'), t(lang, 'digest.col.why')],
          r.rows.map((x) => ({ cells: [who(x), x.plan ? `${x.contract_id} · ${x.plan}` : x.contract_id, formatDate(lang, x.renewal_due), money(x.value_at_risk), x.reason], numeric: [false, false, false, true, false] })),
        ),
      );
      if (r.total > r.rows.length) parts.push(`<p class="note">${esc(t(lang, 'digest.more', { n: count(r.total - r.rows.length) }))}</p>`);
    }
  }

  const footer = [opts.masked ? t(lang, 'digest.masked') : '', t(lang, 'digest.footer', { date: formatDate(lang, opts.now.toISOString().slice(0, 10)), version: TOOL_VERSION, share: pct(d.runs.key_share) })]
    .filter(Boolean)
    .join(' ');
  return `<!DOCTYPE html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(t(lang, 'digest.title', { owner: d.owner }))}</title>
<style>${STYLE}</style>
</head>
<body>
${parts.join('\n')}
<footer><p>${esc(footer)}</p></footer>
</body>
</html>
`;
}

/** Distinct customers a page names (for the audit row). */
function customersNamed(d: DigestData): number {
  return new Set([...d.changes, ...d.callFirst, ...(d.renewals?.rows ?? [])].map((c) => c.customer_id)).size;
}

/**
 * `crm report --owner NAME|all --digest`: one page per owner into `outDir`. All targets are
 * checked before the first is written (an existing file without --force stops the command
 * before it writes anything); each file is written atomically. Then one audit row per file.
 */
export async function writeDigests(opts: DigestOptions): Promise<DigestResult> {
  const lang = opts.lang ?? DEFAULT_LANG;
  const masked = !opts.showPii;
  const store = await Store.open(opts.storePath, { readOnly: true });
  let result: DigestResult;
  try {
    const runs = await latestRuns(store);
    const owners =
      opts.owner === ALL_OWNERS
        ? (await store.all<{ owner: string }>('SELECT DISTINCT account_owner AS owner FROM customer_owners ORDER BY owner')).map((r) => r.owner)
        : [opts.owner];
    if (opts.owner === ALL_OWNERS && owners.length === 0) {
      throw inputError('no customer has an account owner: there is no book to write a digest for', ['Load owners with `crm ingest owners FILE`.']);
    }
    if (opts.owner !== ALL_OWNERS) await checkOwner(store, opts.owner);
    const dir = path.resolve(opts.outDir);
    const targets = ownerSlugs(owners).map((slug) => path.join(dir, digestFileName(slug, lang)));
    for (const target of targets) checkTarget(target, { force: opts.force });
    const run = (await store.one<{ as_of: string; previous_as_of: string | null; key_share: number }>(
      `SELECT CAST(as_of AS VARCHAR) AS as_of, (SELECT CAST(as_of AS VARCHAR) FROM runs WHERE run_id = $previous) AS previous_as_of,
              CAST(params->>'$.key_accounts.share' AS DOUBLE) AS key_share
       FROM runs WHERE run_id = $run`,
      { run: runs.run_id, previous: runs.previous_run_id },
    ))!;
    const now = opts.now ?? new Date();
    // The books and the owned accounts once: one digest per owner must not rescan every customer per owner.
    const books = new Map((await ownerBookRows(store, runs)).map((b) => [b.owner, b]));
    await prepareAccounts(store, runs);
    const files: DigestFile[] = [];
    for (const [i, owner] of owners.entries()) {
      const data = await digestData(store, owner, books.get(owner)!, { ...runs, ...run }, { lang, showPii: Boolean(opts.showPii), maskNames: Boolean(opts.maskNames) });
      const html = digestHtml(data, lang, { masked, now });
      const { bytes } = await writeAtomically(targets[i], { force: opts.force }, (tmp) => fs.writeFile(tmp, html, 'utf8'));
      files.push({ owner, path: targets[i], bytes, customers: customersNamed(data) });
    }
    result = { run_id: runs.run_id, lang, masked, files };
  } finally {
    store.close();
  }
  await recordDigestAudit(opts.storePath, result);
  return result;
}

/**
 * One audit row per digest written (who received which owner's customers, masked or not), all in
 * one transaction through the hand-out door (store/audit.ts): if the rows cannot be written, the
 * digests are removed and nothing is handed out.
 */
export async function recordDigestAudit(storePath: string, result: DigestResult): Promise<void> {
  const entries: AuditEntry[] = result.files.map((f) => ({
    command: 'report --digest',
    what: `digest of ${f.owner}'s book`,
    path: f.path,
    runId: result.run_id,
    customers: f.customers,
    masked: result.masked,
    details: { owner: f.owner, lang: result.lang },
  }));
  await auditHandOut(storePath, entries, {
    undo: async () => {
      await Promise.all(result.files.map((f) => fs.rm(f.path, { force: true })));
    },
  });
}
