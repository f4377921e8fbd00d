/**
 * data/zh/保单_gb18030.csv: a Chinese policy export (one row per policy year), encoded in
 * GB18030 like the transactions and customers beside it, for `crm ingest contracts`.
 *
 * Why structured rows: each policy is listed once as data (customer, plan, channel, first
 * start, number of annual periods, how its end date is written, how it ended); the file text
 * and the README's expected totals are both derived from that list, and the test parses the
 * decoded file on its own and compares with it.
 *
 * What it exercises: Chinese headers (保单号, 客户编号, 险种, 起保日期, 终保日期, 保费, 渠道, 状态,
 * 退保日期); both period-end conventions (life and health policies end on the last day,
 * 2021-05-19, motor policies at the next start, 2022-04-01, as "至2022年4月1日零时止" reads);
 * `2024年3月15日` and `2024-03-15` dates; `"4,860.00"` premiums; 有效/满期/失效/退保 statuses;
 * annual renewals, two policies not renewed, a lapse and reinstatement (a gap), two
 * cancellations, and two rows that must be rejected (a 批退 refund with a negative premium, and a
 * period ending before it starts). Customer ids are those of 客户_gb18030.csv. The export is as
 * of EXPORT_DATE: no period starts after it.
 */
import { ZH_EOL } from './zh.js';

export const ZH_POLICIES_HEADER = '保单号,客户编号,险种,起保日期,终保日期,保费,渠道,状态,退保日期';
export const EXPORT_DATE = '2025-06-30';

/** The period's last day (life, health, accident) or the next period's start (motor). */
type EndStyle = 'inclusive' | 'exclusive';

interface Policy {
  no: string;
  customer: string;
  plan: string;
  channel: string;
  /** First period's start (ISO). */
  start: string;
  periods: number;
  end: EndStyle;
  /** Yuan; the premium varies a little year by year around it. */
  premium: number;
  /** The last period was cancelled on this day (退保). */
  cancelled?: string;
  /** Months between the first period's end and the second's start (a lapse, then reinstatement). */
  lapseMonths?: number;
}

const POLICIES: readonly Policy[] = [
  { no: 'BD21000101', customer: 'KH0001', plan: '车险', channel: '个人代理', start: '2021-04-01', periods: 5, end: 'exclusive', premium: 4860 },
  { no: 'BD21000102', customer: 'KH0001', plan: '意外险', channel: '个人代理', start: '2021-04-01', periods: 3, end: 'inclusive', premium: 380 },
  { no: 'BD22000201', customer: 'KH0002', plan: '车险', channel: '网销', start: '2022-01-10', periods: 4, end: 'exclusive', premium: 6230 },
  { no: 'BD21000301', customer: 'KH0003', plan: '寿险', channel: '银保', start: '2021-05-20', periods: 5, end: 'inclusive', premium: 12000 },
  { no: 'BD22000401', customer: 'KH0004', plan: '车险', channel: '电销', start: '2022-06-15', periods: 3, end: 'exclusive', premium: 3950, cancelled: '2024-11-20' },
  { no: 'BD23000501', customer: 'KH0005', plan: '健康险', channel: '网销', start: '2023-02-01', periods: 3, end: 'inclusive', premium: 1680 },
  { no: 'BD21000601', customer: 'KH0006', plan: '车险', channel: '个人代理', start: '2021-09-01', periods: 4, end: 'exclusive', premium: 5420 },
  { no: 'BD21000602', customer: 'KH0006', plan: '意外险', channel: '团险直销', start: '2021-09-01', periods: 4, end: 'inclusive', premium: 2600 },
  { no: 'BD21000701', customer: 'KH0007', plan: '寿险', channel: '个人代理', start: '2021-03-01', periods: 4, end: 'inclusive', premium: 8800, lapseMonths: 4 },
  { no: 'BD22000801', customer: 'KH0008', plan: '车险', channel: '电销', start: '2022-08-08', periods: 2, end: 'exclusive', premium: 4410 },
  { no: 'BD23000901', customer: 'KH0009', plan: '意外险', channel: '网销', start: '2023-05-01', periods: 3, end: 'inclusive', premium: 260 },
  { no: 'BD22001001', customer: 'KH0010', plan: '健康险', channel: '团险直销', start: '2022-01-01', periods: 4, end: 'inclusive', premium: 15600 },
  { no: 'BD22001002', customer: 'KH0010', plan: '车险', channel: '个人代理', start: '2022-03-18', periods: 4, end: 'exclusive', premium: 7130 },
  { no: 'BD24001101', customer: 'KH0011', plan: '车险', channel: '网销', start: '2024-02-05', periods: 2, end: 'exclusive', premium: 3380 },
  { no: 'BD21001201', customer: 'KH0012', plan: '车险', channel: '个人代理', start: '2021-01-15', periods: 5, end: 'inclusive', premium: 9870 },
  { no: 'BD21001202', customer: 'KH0012', plan: '寿险', channel: '银保', start: '2021-11-11', periods: 4, end: 'inclusive', premium: 20000, cancelled: '2025-02-14' },
];

export type ZhPolicyStatus = '有效' | '满期' | '失效' | '退保';

export interface ZhPolicyRow {
  no: string;
  customer: string;
  plan: string;
  /** ISO dates. */
  start: string;
  end: string;
  cents: number;
  channel: string;
  status: ZhPolicyStatus;
  cancelDate: string;
  /** Why this row must be rejected, or null. */
  reject: 'negative_amount' | 'period_end_before_start' | null;
}

function addMonths(iso: string, months: number): string {
  const [y, m, d] = iso.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1 + months, d));
  return date.toISOString().slice(0, 10);
}

function addDays(iso: string, days: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Deterministic year-to-year variation: −6 % … +6 %, rounded to 10 yuan. */
function premiumCents(base: number, year: number): number {
  const factor = 1 + 0.03 * (((year * 7 + base) % 5) - 2);
  return Math.round((base * factor) / 10) * 10 * 100;
}

function periodsOf(p: Policy): ZhPolicyRow[] {
  const rows: ZhPolicyRow[] = [];
  let start = p.start;
  for (let k = 0; k < p.periods; k++) {
    const next = addMonths(start, 12);
    const end = p.end === 'exclusive' ? next : addDays(next, -1);
    const last = k === p.periods - 1;
    const cancelled = last && p.cancelled !== undefined;
    const lapsedHere = k === 0 && p.lapseMonths !== undefined;
    const status: ZhPolicyStatus = cancelled ? '退保' : lapsedHere ? '失效' : last && end >= EXPORT_DATE ? '有效' : '满期';
    rows.push({ no: p.no, customer: p.customer, plan: p.plan, start, end, cents: premiumCents(p.premium, k), channel: p.channel, status, cancelDate: cancelled ? p.cancelled! : '', reject: null });
    start = lapsedHere ? addMonths(next, p.lapseMonths!) : next;
  }
  return rows;
}

/** A 批退 (endorsement refund) of part of BD22000201's 2024 premium, and a year typed wrong. */
const REJECTED: readonly ZhPolicyRow[] = [
  { no: 'BD22000201', customer: 'KH0002', plan: '车险', start: '2024-05-20', end: '2025-01-10', cents: -32_000, channel: '网销', status: '有效', cancelDate: '', reject: 'negative_amount' },
  { no: 'BD25001301', customer: 'KH0003', plan: '意外险', start: '2025-03-01', end: '2024-02-28', cents: 29_000, channel: '网销', status: '有效', cancelDate: '', reject: 'period_end_before_start' },
];

/** Every data row, in file order (row i is on line i + 2): by policy number, then start. */
export const ZH_POLICY_ROWS: readonly ZhPolicyRow[] = [...POLICIES.flatMap(periodsOf), ...REJECTED].sort(
  (a, b) => a.no.localeCompare(b.no) || a.start.localeCompare(b.start) || a.cents - b.cents,
);

/** Every third row writes its dates the Chinese way: 2024年3月15日. */
function formatDate(iso: string, row: number): string {
  if (iso === '') return '';
  if (row % 3 !== 1) return iso;
  const [y, m, d] = iso.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

/** 4860.00, or "4,860.00" (quoted) on every fourth row. */
function formatPremium(cents: number, row: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const yuan = String(Math.floor(abs / 100));
  const grouped = row % 4 === 0 ? yuan.replace(/\B(?=(\d{3})+(?!\d))/g, ',') : yuan;
  const text = `${sign}${grouped}.${String(abs % 100).padStart(2, '0')}`;
  return text.includes(',') ? `"${text}"` : text;
}

export function zhPoliciesText(): string {
  const lines = ZH_POLICY_ROWS.map((r, i) =>
    [r.no, r.customer, r.plan, formatDate(r.start, i), formatDate(r.end, i), formatPremium(r.cents, i), r.channel, r.status, formatDate(r.cancelDate, i)].join(','),
  );
  return [ZH_POLICIES_HEADER, ...lines].map((l) => l + ZH_EOL).join('');
}

function formatCents(c: number): string {
  const sign = c < 0 ? '-' : '';
  const a = Math.abs(c);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

export function zhPoliciesReadme(): string {
  const loaded = ZH_POLICY_ROWS.filter((r) => r.reject === null);
  const lineOf = (reason: ZhPolicyRow['reject']) => ZH_POLICY_ROWS.findIndex((r) => r.reject === reason) + 2;
  const count = (status: ZhPolicyStatus) => loaded.filter((r) => r.status === status).length;
  const starts = loaded.map((r) => r.start).sort();
  return `
## 保单_gb18030.csv — contracts (policy years)

One row per policy year, as a Chinese policy system exports it, for \`crm ingest contracts\` (GB18030, CRLF,
no BOM), exported on **${EXPORT_DATE}**: no period starts later. Generated from \`scripts/samples/zh-policies.ts\`.

| header | field | meaning |
| --- | --- | --- |
| 保单号 | contract_id | policy number (\`BD…\`), the same for every year of a policy |
| 客户编号 | customer_id | the policyholder: the ids of 客户_gb18030.csv |
| 险种 | plan | 车险 (motor), 寿险 (life), 健康险 (health), 意外险 (accident) |
| 起保日期 | period_start | \`2024-03-15\` and \`2024年3月15日\` styles |
| 终保日期 | period_end | as written: motor policies end at the next start (\`2021-04-01\` → \`2022-04-01\`), the others on the last day (\`2021-05-20\` → \`2022-05-19\`) |
| 保费 | amount | the year's premium, \`4860.00\` or \`"4,860.00"\` |
| 渠道 | channel | 个人代理, 银保, 电销, 网销, 团险直销 |
| 状态 | status | 有效 → active, 满期 and 失效 → lapsed, 退保 → cancelled |
| 退保日期 | cancel_date | the day a cancelled policy was surrendered |

Expected result of \`crm ingest contracts data/zh/保单_gb18030.csv --encoding gb18030\`:

- Rows read: **${ZH_POLICY_ROWS.length}**
- Rows loaded: **${loaded.length}**
- Rows rejected: **${ZH_POLICY_ROWS.length - loaded.length}** — \`negative_amount\` (line ${lineOf('negative_amount')}: a 批退 refund) and \`period_end_before_start\` (line ${lineOf('period_end_before_start')}: a mistyped year)
- Policies (contracts) loaded: **${new Set(loaded.map((r) => r.no)).size}**, of **${new Set(loaded.map((r) => r.customer)).size}** customers
- Sum of loaded premiums: **${formatCents(loaded.reduce((s, r) => s + r.cents, 0))}**
- Statuses: active **${count('有效')}**, lapsed **${count('满期') + count('失效')}**, cancelled **${count('退保')}** (each with a 退保日期)
- Period starts from **${starts[0]}** to **${starts[starts.length - 1]}**

What \`crm quality\` finds (grace period 30 days): one gap, in BD21000701 (a life policy lapsed for
non-payment, 失效, and reinstated four months later); no overlaps — the motor policies' end = next start is
contiguous; no duplicate periods. Two policies were not renewed (BD21000102 ended 2024-03-31,
BD22000801 on 2024-08-08) and two were cancelled (BD22000401, BD21001202).
`;
}
