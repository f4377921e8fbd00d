/**
 * The committed samples under data/ are what scripts/generate-samples.ts writes today, and
 * their READMEs tell the truth about them (checked by parsing the files independently).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeSamples } from '../../scripts/generate-samples.js';
import { ZH_CUSTOMERS_HEADER, ZH_TRANSACTIONS_HEADER, zhCustomersText, zhTransactionsText } from '../../scripts/samples/zh.js';
import { ZH_POLICIES_HEADER, zhPoliciesText } from '../../scripts/samples/zh-policies.js';
import { isIsoDate, parseCsvLine, withTempDir } from './helpers.js';

const DATA = fileURLToPath(new URL('../../data/', import.meta.url));

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out.sort();
}

/** The bold number after `label` in a README: "- Rows read: **44**". */
function readmeNumber(readme: string, label: string): string {
  const m = new RegExp(`${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^*\\n]*\\*\\*(-?[\\d.]+)\\*\\*`).exec(readme);
  if (!m) throw new Error(`README has no "${label}" total`);
  return m[1];
}

function cents(amount: number): number {
  return Math.round(amount * 100);
}

function formatCents(c: number): string {
  const sign = c < 0 ? '-' : '';
  const a = Math.abs(c);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

describe('committed samples', () => {
  it('are exactly what scripts/generate-samples.ts writes (regenerate with it after changing the generator)', async () => {
    await withTempDir(async (tmp) => {
      const result = await writeSamples(tmp);
      expect(result.options).toMatchObject({ customers: 500, seed: 7 });
      const fresh = (await listFiles(tmp)).map((p) => relative(tmp, p));
      const committed = (await listFiles(DATA)).map((p) => relative(DATA, p));
      for (const f of fresh) expect(committed).toContain(f);
      for (const f of fresh) {
        const [a, b] = [await readFile(join(tmp, f)), await readFile(join(DATA, f))];
        expect(a.equals(b), `${f} differs from a fresh run`).toBe(true);
      }
    });
  });

  it('are small (< 300 KB each)', async () => {
    // data/online-retail-ii is a real export (1.6 MB), not generated: its size is the data's.
    const generated = (await listFiles(DATA)).filter((f) => !relative(DATA, f).startsWith('online-retail-ii'));
    expect(generated.length).toBeGreaterThan(5);
    for (const f of generated) expect((await stat(f)).size, f).toBeLessThan(300 * 1024);
  });
});

describe('data/zh (GB18030)', () => {
  const txPath = join(DATA, 'zh', '交易记录_gb18030.csv');
  const cuPath = join(DATA, 'zh', '客户_gb18030.csv');

  it('decodes back to the intended Chinese text, and is not UTF-8', async () => {
    const tx = await readFile(txPath);
    const cu = await readFile(cuPath);
    const gb = new TextDecoder('gb18030', { fatal: true });
    expect(gb.decode(tx)).toBe(zhTransactionsText());
    expect(gb.decode(cu)).toBe(zhCustomersText());
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(tx)).toThrow();
    // 客 is BF CD in GB2312/GBK/GB18030; ¥ (U+00A5) is the four bytes 81 30 84 36; ￥ (U+FFE5) is A3 A4.
    expect([...tx.subarray(0, 2)]).toEqual([0xbf, 0xcd]);
    expect(tx.includes(Buffer.from([0x81, 0x30, 0x84, 0x36]))).toBe(true);
    expect(tx.includes(Buffer.from([0xa3, 0xa4]))).toBe(true);
  });

  it('has the documented headers, date styles and amount styles', async () => {
    const text = new TextDecoder('gb18030').decode(await readFile(txPath));
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(ZH_TRANSACTIONS_HEADER);
    expect(text).toMatch(/,2024年1月5日,/);
    expect(text).toMatch(/,2024\/01\/05,/);
    expect(text).toMatch(/,"¥\d{1,3}(,\d{3})+\.\d{2}",/);
    expect(text).toMatch(/,￥\d+\.\d{2},/);
    const customers = new TextDecoder('gb18030').decode(await readFile(cuPath)).split('\r\n');
    expect(customers[0]).toBe(ZH_CUSTOMERS_HEADER);
    expect(customers.slice(1, -1).every((l) => parseCsvLine(l).length === 8)).toBe(true);
  });

  it('matches the counts in data/zh/README.md', async () => {
    const readme = await readFile(join(DATA, 'zh', 'README.md'), 'utf8');
    const lines = new TextDecoder('gb18030').decode(await readFile(txPath)).split('\r\n');
    expect(lines[lines.length - 1]).toBe('');
    const rows = lines.slice(1, -1).map((l) => parseCsvLine(l));
    expect(rows.every((r) => r.length === 5)).toBe(true);
    let loaded = 0;
    let missing = 0;
    let total = 0;
    let returns = 0;
    const customers = new Set<string>();
    const dates: string[] = [];
    for (const [customer, , date, amount] of rows) {
      if (customer.trim() === '') {
        missing++;
        continue;
      }
      loaded++;
      customers.add(customer);
      const m = /^(\d{4})年(\d{1,2})月(\d{1,2})日$/.exec(date) ?? /^(\d{4})\/(\d{2})\/(\d{2})$/.exec(date);
      expect(m, date).not.toBeNull();
      const iso = `${m![1]}-${m![2].padStart(2, '0')}-${m![3].padStart(2, '0')}`;
      expect(isIsoDate(iso)).toBe(true);
      dates.push(iso);
      const value = Number(amount.replace(/[¥￥,]/g, ''));
      expect(Number.isFinite(value), amount).toBe(true);
      if (value < 0) returns++;
      total += cents(value);
    }
    dates.sort();
    expect(readmeNumber(readme, 'Rows read')).toBe(String(rows.length));
    expect(rows.length).toBeGreaterThanOrEqual(35);
    expect(readmeNumber(readme, 'Rows loaded')).toBe(String(loaded));
    expect(readmeNumber(readme, 'Rows rejected')).toBe(String(missing));
    expect(readmeNumber(readme, 'Sum of loaded amounts')).toBe(formatCents(total));
    expect(readmeNumber(readme, 'Distinct customers among loaded rows')).toBe(String(customers.size));
    expect(readmeNumber(readme, 'Loaded returns')).toBe(String(returns));
    expect(readme).toContain(`**${dates[0]}** to **${dates[dates.length - 1]}**`);
  });
});

describe('data/zh/保单_gb18030.csv (policy years)', () => {
  const file = join(DATA, 'zh', '保单_gb18030.csv');

  it('is GB18030 with the documented Chinese headers and both date styles', async () => {
    const bytes = await readFile(file);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
    const text = new TextDecoder('gb18030', { fatal: true }).decode(bytes);
    expect(text).toBe(zhPoliciesText());
    expect(text.split('\r\n')[0]).toBe(ZH_POLICIES_HEADER);
    expect(text).toMatch(/,\d{4}年\d{1,2}月\d{1,2}日,/);
    expect(text).toMatch(/,\d{4}-\d{2}-\d{2},/);
    expect(text).toMatch(/,"\d{1,3}(,\d{3})+\.\d{2}",/);
  });

  it('matches the counts in data/zh/README.md, parsed on its own', async () => {
    const readme = await readFile(join(DATA, 'zh', 'README.md'), 'utf8');
    const lines = new TextDecoder('gb18030').decode(await readFile(file)).split('\r\n');
    expect(lines[lines.length - 1]).toBe('');
    const rows = lines.slice(1, -1).map((l) => parseCsvLine(l));
    expect(rows.every((r) => r.length === 9)).toBe(true);
    const iso = (d: string) => {
      const m = /^(\d{4})年(\d{1,2})月(\d{1,2})日$/.exec(d);
      return m ? `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}` : d;
    };
    const customers = new Set(
      new TextDecoder('gb18030')
        .decode(await readFile(join(DATA, 'zh', '客户_gb18030.csv')))
        .split('\r\n')
        .slice(1, -1)
        .map((l) => l.split(',')[0]),
    );
    let premium = 0;
    const loaded: string[][] = [];
    const rejected: Record<string, number> = {};
    for (const r of rows) {
      const [, customer, , start, end, amount] = r;
      const cents = Math.round(Number(amount.replace(/,/g, '')) * 100);
      expect(isIsoDate(iso(start)) && isIsoDate(iso(end)), r.join(',')).toBe(true);
      expect(customers.has(customer), customer).toBe(true);
      const reason = cents < 0 ? 'negative_amount' : iso(end) < iso(start) ? 'period_end_before_start' : null;
      if (reason) rejected[reason] = (rejected[reason] ?? 0) + 1;
      else {
        loaded.push(r);
        premium += cents;
      }
    }
    expect(rows.length).toBeGreaterThanOrEqual(40);
    expect(rejected).toEqual({ negative_amount: 1, period_end_before_start: 1 });
    expect(readmeNumber(readme, 'Rows read')).toBe('40'); // the transactions section comes first
    expect(readme).toContain(`- Rows read: **${rows.length}**`);
    expect(readme).toContain(`- Rows loaded: **${loaded.length}**`);
    expect(readme).toContain(`- Policies (contracts) loaded: **${new Set(loaded.map((r) => r[0])).size}**, of **${new Set(loaded.map((r) => r[1])).size}** customers`);
    expect(readme).toContain(`- Sum of loaded premiums: **${formatCents(premium)}**`);
    const status = (words: string[]) => loaded.filter((r) => words.includes(r[7])).length;
    expect(readme).toContain(`active **${status(['有效'])}**, lapsed **${status(['满期', '失效'])}**, cancelled **${status(['退保'])}**`);
    // Every cancelled period, and no other, has a cancel date.
    for (const r of loaded) expect(r[8] !== '', r.join(',')).toBe(r[7] === '退保');
  });
});

type Verdict = { verdict: 'skip' } | { verdict: 'reject'; reason: string } | { verdict: 'load'; customer: string; date: string; amount: string; isReturn: boolean };

/** The rules of data/dirty/README.md, implemented independently of the script that wrote it. */
function judgeDirtyLine(line: string): Verdict {
  if (line === '') return { verdict: 'skip' };
  const f = parseCsvLine(line, ';');
  if (f.length !== 5) return { verdict: 'reject', reason: 'malformed_row' };
  const customer = f[1].trim().replace(/\.0$/, '');
  if (customer === '') return { verdict: 'reject', reason: 'missing_customer_id' };
  const d = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(f[2]);
  const date = d ? `${d[3]}-${d[2]}-${d[1]}` : '';
  if (!isIsoDate(date)) return { verdict: 'reject', reason: 'invalid_order_date' };
  let s = f[3].replace(/[€\s\u00a0]/g, '');
  let negative = false;
  if (/^\(.*\)$/.test(s)) {
    negative = true;
    s = s.slice(1, -1);
  }
  if (s.startsWith('-')) {
    negative = true;
    s = s.slice(1);
  }
  s = s.replace(/\./g, '').replace(',', '.');
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return { verdict: 'reject', reason: 'invalid_amount' };
  const c = cents(Number(s)) * (negative ? -1 : 1);
  return { verdict: 'load', customer, date, amount: formatCents(c), isReturn: f[0].startsWith('C') || negative };
}

describe('data/dirty', () => {
  const csvPath = join(DATA, 'dirty', 'transactions_dirty.csv');

  it('is a UTF-8 file with a BOM, `;` delimiter, CRLF line ends and the English header', async () => {
    const bytes = await readFile(csvPath);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8').slice(1);
    expect(text.split('\r\n')[0]).toBe('Invoice;Customer ID;InvoiceDate;Amount;Product');
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = text.split('\r\n').slice(1, -1);
    expect(lines.length).toBeGreaterThanOrEqual(30);
    expect(lines.length).toBeLessThanOrEqual(60);
  });

  it('has what the brief asked for: day > 12, € thousands, (negatives), spaced thousands, quotes, 13607.0, C123, a blank line', async () => {
    const text = (await readFile(csvPath, 'utf8')).slice(1);
    expect(text).toMatch(/;(1[3-9]|2\d|3[01])\/\d{2}\/\d{4};/);
    expect(text).toContain('€1.234,50');
    expect(text).toMatch(/;\(\d+,\d{2}\);/);
    expect(text).toContain(';1 234,00;');
    expect(text).toContain('""');
    expect(text).toContain(';13607.0;');
    expect(text).toMatch(/\r\nC123;/);
    expect(text).toContain('\r\n\r\n');
  });

  it('matches data/dirty/README.md line by line and in its totals', async () => {
    const readme = await readFile(join(DATA, 'dirty', 'README.md'), 'utf8');
    const lines = (await readFile(csvPath, 'utf8')).slice(1).split('\r\n').slice(0, -1);
    const documented = new Map<number, string>();
    for (const l of readme.split('\n')) {
      const m = /^\| (\d+) \|[^|]*\| ([^|]+) \| (.*) \|$/.exec(l);
      if (m) documented.set(Number(m[1]), `${m[2].trim()} ${m[3]}`);
    }
    expect([...documented.keys()]).toEqual(lines.slice(1).map((_, i) => i + 2));

    const counts = { read: 0, loaded: 0, rejected: 0, blank: 0, returns: 0, total: 0 };
    const byReason: Record<string, number> = {};
    const customers = new Set<string>();
    lines.slice(1).forEach((line, i) => {
      const lineNo = i + 2;
      const v = judgeDirtyLine(line);
      const doc = documented.get(lineNo)!;
      if (v.verdict === 'skip') {
        counts.blank++;
        expect(doc, `line ${lineNo}`).toMatch(/^skip /);
        return;
      }
      counts.read++;
      if (v.verdict === 'reject') {
        counts.rejected++;
        byReason[v.reason] = (byReason[v.reason] ?? 0) + 1;
        expect(doc, `line ${lineNo}`).toMatch(new RegExp(`^reject: \`${v.reason}\` `));
        return;
      }
      counts.loaded++;
      customers.add(v.customer);
      counts.total += Math.round(Number(v.amount) * 100);
      if (v.isReturn) counts.returns++;
      expect(doc, `line ${lineNo}`).toMatch(/^load /);
      expect(doc.endsWith(`→ customer \`${v.customer}\`, ${v.date}, ${v.amount}${v.isReturn ? ', is_return' : ''}`), `line ${lineNo}: ${doc}`).toBe(true);
    });

    expect(readmeNumber(readme, 'Lines in the file')).toBe(String(lines.length));
    expect(readmeNumber(readme, 'Rows read')).toBe(String(counts.read));
    expect(readmeNumber(readme, 'Rows loaded')).toBe(String(counts.loaded));
    expect(readmeNumber(readme, 'Rows rejected')).toBe(String(counts.rejected));
    for (const reason of ['missing_customer_id', 'invalid_order_date', 'invalid_amount', 'malformed_row']) {
      expect(byReason[reason], reason).toBeGreaterThan(0);
      expect(readmeNumber(readme, `\`${reason}\`:`)).toBe(String(byReason[reason]));
    }
    expect(counts.blank).toBeGreaterThan(0);
    expect(readmeNumber(readme, 'Sum of loaded amounts')).toBe(formatCents(counts.total));
    expect(readmeNumber(readme, 'Distinct customers among loaded rows')).toBe(String(customers.size));
    expect(readmeNumber(readme, 'Loaded returns')).toBe(String(counts.returns));
  });
});

describe('data/json', () => {
  it('holds the same ~20 records as NDJSON and as an array, with the documented keys', async () => {
    const ndjson = (await readFile(join(DATA, 'json', 'transactions.ndjson'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const array = JSON.parse(await readFile(join(DATA, 'json', 'transactions.json'), 'utf8')) as Record<string, unknown>[];
    expect(array).toEqual(ndjson);
    expect(ndjson.length).toBe(20);
    for (const r of ndjson) {
      expect(Object.keys(r)).toEqual(['customerId', 'orderId', 'date', 'amount']);
      expect(typeof r.amount).toBe('number');
      expect(isIsoDate(r.date as string)).toBe(true);
    }
    expect(ndjson.some((r) => (r.orderId as string).startsWith('C') && (r.amount as number) < 0)).toBe(true);
  });
});

describe('data/sample/contracts.csv', () => {
  it('holds contracts of customers in customers.csv or policyholders.csv, with the counts of data/README.md', async () => {
    const read = async (f: string) => (await readFile(join(DATA, 'sample', f), 'utf8')).trimEnd().split('\n').map((l) => parseCsvLine(l));
    const contracts = await read('contracts.csv');
    const customers = await read('customers.csv');
    const holders = await read('policyholders.csv');
    expect(holders[0]).toEqual(customers[0]);
    const known = new Set([...customers.slice(1), ...holders.slice(1)].map((r) => r[0]));
    const purchase = new Set(customers.slice(1).map((r) => r[0]));
    const ids = new Set(contracts.slice(1).map((r) => r[1]));
    const byStatus: Record<string, Set<string>> = { active: new Set(), lapsed: new Set(), cancelled: new Set() };
    for (const r of contracts.slice(1)) {
      expect(known.has(r[0]), r[0]).toBe(true);
      byStatus[r[8]].add(r[1]);
    }
    const holderIds = new Set(contracts.slice(1).map((r) => r[0]));
    const alsoBuy = [...holderIds].filter((c) => purchase.has(c)).length;
    expect(alsoBuy).toBeGreaterThan(0);
    expect(holderIds.size - alsoBuy).toBe(holders.length - 1);
    const readme = await readFile(join(DATA, 'README.md'), 'utf8');
    expect(readme).toContain(`- ${ids.size} contracts in ${contracts.length - 1} period rows: ${byStatus.active.size} active, ${byStatus.lapsed.size} lapsed, ${byStatus.cancelled.size} cancelled`);
    expect(readme).toContain(`Held by ${alsoBuy} customers of \`customers.csv\` (who also buy) and ${holders.length - 1} contract-only customers`);
  });
});
