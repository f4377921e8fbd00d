/**
 * data/zh/: a Chinese export pair encoded in GB18030, as Excel and many Chinese ERPs still
 * write by default, and its README.
 *
 * Why structured rows: each transaction is listed once as data (customer, order, date, amount,
 * product, and which date and currency style it is written in); the file text and the
 * README's expected totals are both derived from that list, and the test parses the decoded
 * file on its own and compares with it.
 *
 * Styles exercised: Chinese headers; dates as `2024年1月5日` and `2024/01/05`; amounts with a
 * half-width `¥` (U+00A5: four bytes in GB18030, absent from GBK) or a full-width `￥`
 * (U+FFE5, two bytes), thousands commas (so the field is quoted), a negative return, and one
 * row without a customer id. CRLF line ends, no BOM.
 */
import { formatCentsSigned } from './dirty.js';

export const ZH_EOL = '\r\n';
export const ZH_TRANSACTIONS_HEADER = '客户编号,订单编号,下单日期,金额,产品';
export const ZH_CUSTOMERS_HEADER = '客户编号,客户名称,邮箱,手机,地区,行业,客户经理,注册日期';

type DateStyle = 'cn' | 'slash';
type Yen = 'half' | 'full';

export interface ZhTransaction {
  customerId: string;
  orderId: string;
  /** ISO date. */
  date: string;
  cents: number;
  product: string;
  dateStyle: DateStyle;
  yen: Yen;
}

function formatDate(iso: string, style: DateStyle): string {
  const [y, m, d] = iso.split('-');
  return style === 'cn' ? `${Number(y)}年${Number(m)}月${Number(d)}日` : `${y}/${m}/${d}`;
}

/** ¥1,234.50 / -¥120.00 / ￥88.00 — quoted when a thousands comma appears. */
function formatAmount(cents: number, yen: Yen): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const units = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const text = `${sign}${yen === 'half' ? '¥' : '￥'}${units}.${String(abs % 100).padStart(2, '0')}`;
  return text.includes(',') ? `"${text}"` : text;
}

const PRICES: Record<string, number> = {
  办公椅: 89_900,
  A4打印纸: 2_550,
  无线鼠标: 8_900,
  保温杯: 12_900,
  台灯: 15_900,
  茶叶礼盒: 36_800,
  蓝牙耳机: 29_900,
  文件柜: 128_000,
  笔记本电脑支架: 13_900,
  咖啡机: 249_900,
  投影仪: 499_900,
  白板: 32_000,
};

/** [customer, order, ISO date, product, quantity]; a negative quantity is a return. */
const SALES: readonly [string, string, string, string, number][] = [
  ['KH0001', 'XS2024010501', '2024-01-05', '办公椅', 10],
  ['KH0001', 'XS2024010501', '2024-01-05', 'A4打印纸', 20],
  ['KH0002', 'XS2024010801', '2024-01-08', '投影仪', 2],
  ['KH0003', 'XS2024010901', '2024-01-09', '保温杯', 1],
  ['KH0004', 'XS2024011201', '2024-01-12', '咖啡机', 3],
  ['KH0002', 'XS2024011502', '2024-01-15', '无线鼠标', 25],
  ['KH0005', 'XS2024011601', '2024-01-16', '台灯', 1],
  ['KH0006', 'XS2024011801', '2024-01-18', '文件柜', 4],
  ['KH0007', 'XS2024012001', '2024-01-20', '蓝牙耳机', 1],
  ['KH0008', 'XS2024012201', '2024-01-22', 'A4打印纸', 100],
  ['KH0001', 'XS2024012501', '2024-01-25', '白板', 5],
  ['KH0009', 'XS2024012601', '2024-01-26', '茶叶礼盒', 2],
  ['KH0010', 'XS2024013001', '2024-01-30', '笔记本电脑支架', 30],
  ['KH0003', 'XS2024020201', '2024-02-02', '茶叶礼盒', 1],
  ['KH0003', 'TH2024020301', '2024-02-03', '保温杯', -1],
  ['KH0011', 'XS2024020501', '2024-02-05', '无线鼠标', 1],
  ['KH0012', 'XS2024020701', '2024-02-07', '办公椅', 24],
  ['KH0004', 'XS2024021901', '2024-02-19', '茶叶礼盒', 12],
  ['KH0006', 'XS2024022001', '2024-02-20', '台灯', 6],
  ['KH0002', 'XS2024022201', '2024-02-22', '蓝牙耳机', 15],
  ['KH0007', 'XS2024022601', '2024-02-26', '保温杯', 2],
  ['KH0008', 'XS2024022801', '2024-02-28', '文件柜', 2],
  ['KH0010', 'XS2024030101', '2024-03-01', '投影仪', 1],
  ['KH0012', 'XS2024030401', '2024-03-04', 'A4打印纸', 200],
  ['KH0001', 'XS2024030601', '2024-03-06', '咖啡机', 1],
  ['KH0005', 'XS2024030801', '2024-03-08', '无线鼠标', 1],
  ['KH0009', 'XS2024031101', '2024-03-11', '台灯', 1],
  ['KH0011', 'XS2024031301', '2024-03-13', '笔记本电脑支架', 1],
  ['KH0004', 'XS2024031501', '2024-03-15', '白板', 3],
  ['KH0002', 'XS2024031801', '2024-03-18', '办公椅', 6],
  ['KH0006', 'XS2024032001', '2024-03-20', 'A4打印纸', 40],
  ['KH0012', 'XS2024032201', '2024-03-22', '文件柜', 10],
  ['KH0008', 'XS2024032501', '2024-03-25', '蓝牙耳机', 4],
  ['KH0001', 'XS2024032801', '2024-03-28', '茶叶礼盒', 20],
  ['KH0010', 'XS2024040101', '2024-04-01', '白板', 8],
  ['KH0003', 'XS2024040301', '2024-04-03', '台灯', 1],
  ['KH0007', 'XS2024040801', '2024-04-08', '咖啡机', 1],
  ['KH0002', 'XS2024041001', '2024-04-10', '保温杯', 50],
  ['KH0012', 'XS2024041201', '2024-04-12', '投影仪', 3],
];

/** The row with no customer id (a walk-in sale keyed without a customer); line 17 of the file. */
const MISSING_CUSTOMER_AT = 15;
const MISSING_CUSTOMER: ZhTransaction = {
  customerId: '',
  orderId: 'XS2024021502',
  date: '2024-02-15',
  cents: PRICES['无线鼠标'],
  product: '无线鼠标',
  dateStyle: 'slash',
  yen: 'half',
};

/** All 40 data rows, in file order (data row i is on line i + 2). */
export const ZH_TRANSACTIONS: readonly ZhTransaction[] = (() => {
  const rows: ZhTransaction[] = SALES.map(([customerId, orderId, date, product, quantity], i) => ({
    customerId,
    orderId,
    date,
    cents: PRICES[product] * quantity,
    product,
    dateStyle: i % 2 === 0 ? 'cn' : 'slash',
    yen: i % 5 === 3 ? 'full' : 'half',
  }));
  rows.splice(MISSING_CUSTOMER_AT, 0, MISSING_CUSTOMER);
  return rows;
})();

export interface ZhCustomer {
  id: string;
  name: string;
  email: string;
  phone: string;
  region: string;
  industry: string;
  manager: string;
  /** Signup date exactly as written. */
  signup: string;
}

export const ZH_CUSTOMERS: readonly ZhCustomer[] = [
  { id: 'KH0001', name: '上海华联贸易有限公司', email: 'purchase@hualian-trade.example', phone: '13800138001', region: '华东', industry: '零售', manager: '李伟', signup: '2023年3月15日' },
  { id: 'KH0002', name: '北京创新科技有限公司', email: 'it@chuangxin-tech.example', phone: '139-1111-2222', region: '华北', industry: '科技', manager: '王静', signup: '2023/04/02' },
  { id: 'KH0003', name: '张伟', email: 'zhangwei@mail.example', phone: '13612345678', region: '华东', industry: '', manager: '', signup: '2023年5月8日' },
  { id: 'KH0004', name: '广州南方餐饮管理有限公司', email: 'caigou@nanfang-canyin.example', phone: '+86 137 2000 3000', region: '华南', industry: '餐饮', manager: '李伟', signup: '2023/06/20' },
  { id: 'KH0005', name: '王芳', email: 'wangfang@mail.example', phone: '', region: '华中', industry: '', manager: '', signup: '2023年7月1日' },
  { id: 'KH0006', name: '成都天府医疗器械有限公司', email: 'office@tianfu-yiliao.example', phone: '18628001234', region: '西南', industry: '医疗', manager: '陈晨', signup: '2023/08/12' },
  { id: 'KH0007', name: '刘洋', email: 'liuyang@mail.example', phone: '13755556666', region: '华南', industry: '', manager: '', signup: '2023年9月9日' },
  { id: 'KH0008', name: '深圳前海物流有限公司', email: 'ops@qianhai-wuliu.example', phone: '13500755000', region: '华南', industry: '物流', manager: '王静', signup: '2023/10/18' },
  { id: 'KH0009', name: '陈静', email: 'chenjing@mail.example', phone: '13588889999', region: '华东', industry: '', manager: '', signup: '2023年11月11日' },
  { id: 'KH0010', name: '杭州西湖教育科技有限公司', email: 'admin@xihu-jiaoyu.example', phone: '15700571234', region: '华东', industry: '教育', manager: '陈晨', signup: '2023/12/01' },
  { id: 'KH0011', name: '赵磊', email: 'zhaolei@mail.example', phone: '13344445555', region: '华北', industry: '', manager: '', signup: '2024年1月3日' },
  { id: 'KH0012', name: '武汉长江制造有限公司', email: 'buyer@changjiang-zhizao.example', phone: '13907100000', region: '华中', industry: '制造业', manager: '李伟', signup: '2024/01/15' },
];

export function zhTransactionsText(): string {
  const lines = ZH_TRANSACTIONS.map(
    (t) => `${t.customerId},${t.orderId},${formatDate(t.date, t.dateStyle)},${formatAmount(t.cents, t.yen)},${t.product}`,
  );
  return [ZH_TRANSACTIONS_HEADER, ...lines].map((l) => l + ZH_EOL).join('');
}

export function zhCustomersText(): string {
  const lines = ZH_CUSTOMERS.map((c) => [c.id, c.name, c.email, c.phone, c.region, c.industry, c.manager, c.signup].join(','));
  return [ZH_CUSTOMERS_HEADER, ...lines].map((l) => l + ZH_EOL).join('');
}

export interface ZhTotals {
  rowsRead: number;
  loaded: number;
  rejectedMissingCustomerId: number;
  loadedAmount: string;
  loadedCustomers: number;
  loadedReturns: number;
  firstDate: string;
  lastDate: string;
  customers: number;
  customersMissingPhone: number;
  customersWithManager: number;
}

export function zhTotals(): ZhTotals {
  const loaded = ZH_TRANSACTIONS.filter((t) => t.customerId !== '');
  const dates = loaded.map((t) => t.date).sort();
  return {
    rowsRead: ZH_TRANSACTIONS.length,
    loaded: loaded.length,
    rejectedMissingCustomerId: ZH_TRANSACTIONS.length - loaded.length,
    loadedAmount: formatCentsSigned(loaded.reduce((s, t) => s + t.cents, 0)),
    loadedCustomers: new Set(loaded.map((t) => t.customerId)).size,
    loadedReturns: loaded.filter((t) => t.cents < 0).length,
    firstDate: dates[0],
    lastDate: dates[dates.length - 1],
    customers: ZH_CUSTOMERS.length,
    customersMissingPhone: ZH_CUSTOMERS.filter((c) => c.phone === '').length,
    customersWithManager: ZH_CUSTOMERS.filter((c) => c.manager !== '').length,
  };
}

export function zhReadme(): string {
  const t = zhTotals();
  const missingLine = ZH_TRANSACTIONS.findIndex((r) => r.customerId === '') + 2;
  const returnRow = ZH_TRANSACTIONS.findIndex((r) => r.cents < 0) + 2;
  return `# data/zh — a Chinese export in GB18030

Two files as a Chinese ERP or Excel (简体中文) writes them: **GB18030** (GBK-compatible; not UTF-8, no BOM),
comma-separated, CRLF line ends. Decode with \`new TextDecoder('gb18030')\` (the \`gbk\` label decodes the same).

Generated by \`scripts/generate-samples.ts\` from \`scripts/samples/zh.ts\` (Node cannot encode GB18030; the script
builds the encoder from Node's decoder and checks the round trip); edit that, not these files.

## 交易记录_gb18030.csv — transactions

| header | meaning |
| --- | --- |
| 客户编号 | customer id (\`KH0001\`…) |
| 订单编号 | order id (\`XS…\` sale, \`TH…\` return) |
| 下单日期 | order date: \`2024年1月5日\` and \`2024/01/05\` styles, mixed row by row |
| 金额 | amount (line total): \`¥88.00\` (U+00A5, a 4-byte GB18030 sequence), \`￥1,234.50\` (full-width U+FFE5); thousands commas, so such fields are quoted; a negative amount is a return |
| 产品 | product |

Expected result of an ingest:

- Lines: **${t.rowsRead + 1}** (header + ${t.rowsRead} data rows)
- Rows read: **${t.rowsRead}**
- Rows loaded: **${t.loaded}**
- Rows rejected: **${t.rejectedMissingCustomerId}** — \`missing_customer_id\` (line ${missingLine})
- Sum of loaded amounts: **${t.loadedAmount}**
- Distinct customers among loaded rows: **${t.loadedCustomers}**
- Loaded returns (negative amount): **${t.loadedReturns}** (line ${returnRow})
- Dates from **${t.firstDate}** to **${t.lastDate}**

## 客户_gb18030.csv — customers

Headers: 客户编号 (customer id), 客户名称 (name: companies and people), 邮箱 (e-mail), 手机 (mobile, in several
formats), 地区 (region: 华东/华北/华南/华中/西南), 行业 (industry; empty for individuals), 客户经理 (account
owner), 注册日期 (signup date, both date styles).

- Rows: **${t.customers}**, all loadable; every transaction's customer is among them
- Missing phone: **${t.customersMissingPhone}**
- With an account owner: **${t.customersWithManager}**
`;
}
