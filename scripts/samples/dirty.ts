/**
 * data/dirty/transactions_dirty.csv: a small, hand-written export with the habits of real
 * ones, and its README listing what an ingest should do with every line.
 *
 * Why hand-written rows in code: each row is there for a reason (noted beside it), and the
 * README's line-by-line table and totals are produced from the same list, so the two cannot
 * drift apart. The file is written byte for byte: UTF-8 with a BOM, `;` between fields,
 * CRLF line ends, European numbers, DD/MM/YYYY dates — an Excel "CSV (semicolon)" export from
 * a European locale.
 */

export type RejectReason = 'missing_customer_id' | 'invalid_order_date' | 'invalid_amount' | 'malformed_row';

/** What a correct ingest makes of a loaded row. */
export interface ExpectedRecord {
  invoice: string;
  customerId: string;
  /** ISO date. */
  date: string;
  /** Exact decimal, two places: '1234.50', '-12.00'. */
  amount: string;
  product: string;
  isReturn: boolean;
}

export type DirtyRow =
  | { verdict: 'load'; text: string; expected: ExpectedRecord; note: string }
  | { verdict: 'reject'; text: string; reason: RejectReason; note: string }
  | { verdict: 'skip'; text: string; note: string };

export const DIRTY_HEADER = 'Invoice;Customer ID;InvoiceDate;Amount;Product';
export const DIRTY_EOL = '\r\n';
const BOM = '\ufeff';
const NBSP = '\u00a0';

function load(text: string, expected: Omit<ExpectedRecord, 'isReturn'>, note: string): DirtyRow {
  const isReturn = expected.invoice.startsWith('C') || expected.amount.startsWith('-');
  return { verdict: 'load', text, expected: { ...expected, isReturn }, note };
}
function reject(text: string, reason: RejectReason, note: string): DirtyRow {
  return { verdict: 'reject', text, reason, note };
}

/** Rows of the file after the header, in order (line n of the file is DIRTY_ROWS[n − 2]). */
export const DIRTY_ROWS: readonly DirtyRow[] = [
  load('536365;17850;01/12/2023;€15,30;WHITE HANGING HEART T-LIGHT HOLDER', { invoice: '536365', customerId: '17850', date: '2023-12-01', amount: '15.30', product: 'WHITE HANGING HEART T-LIGHT HOLDER' }, 'clean: € sign, decimal comma'),
  load('536365;17850;01/12/2023;€20,34;WHITE METAL LANTERN', { invoice: '536365', customerId: '17850', date: '2023-12-01', amount: '20.34', product: 'WHITE METAL LANTERN' }, 'second line of invoice 536365'),
  load('536366;17850;01/12/2023;€11,10;HAND WARMER UNION JACK', { invoice: '536366', customerId: '17850', date: '2023-12-01', amount: '11.10', product: 'HAND WARMER UNION JACK' }, 'clean'),
  load('536367;13047;01/12/2023;€1.234,50;ASSORTED COLOUR BIRD ORNAMENT', { invoice: '536367', customerId: '13047', date: '2023-12-01', amount: '1234.50', product: 'ASSORTED COLOUR BIRD ORNAMENT' }, '`.` as thousands separator'),
  load('536368;13047;04/12/2023;54,08;JAM MAKING SET WITH JARS', { invoice: '536368', customerId: '13047', date: '2023-12-04', amount: '54.08', product: 'JAM MAKING SET WITH JARS' }, 'no currency sign'),
  load('536369;13748;05/12/2023;17,85;BATH BUILDING BLOCK WORD', { invoice: '536369', customerId: '13748', date: '2023-12-05', amount: '17.85', product: 'BATH BUILDING BLOCK WORD' }, 'clean'),
  load('536370;12583;13/12/2023;855,86;ALARM CLOCK BAKELIKE PINK', { invoice: '536370', customerId: '12583', date: '2023-12-13', amount: '855.86', product: 'ALARM CLOCK BAKELIKE PINK' }, 'day 13: proves the dates are DD/MM/YYYY'),
  load("536371;13607.0;14/12/2023;102,00;PAPER CHAIN KIT 50'S CHRISTMAS", { invoice: '536371', customerId: '13607', date: '2023-12-14', amount: '102.00', product: "PAPER CHAIN KIT 50'S CHRISTMAS" }, 'customer id `13607.0` (a spreadsheet float)'),
  load('536372;17850;15/12/2023;1 234,00;"MUG; ""CLASSIC"" WHITE"', { invoice: '536372', customerId: '17850', date: '2023-12-15', amount: '1234.00', product: 'MUG; "CLASSIC" WHITE' }, 'space as thousands separator; quoted product with `;` and doubled quotes'),
  load('536373;15100;18/12/2023;(12,00);POSTAGE', { invoice: '536373', customerId: '15100', date: '2023-12-18', amount: '-12.00', product: 'POSTAGE' }, 'accounting negative `(12,00)`: a credit'),
  reject('536374;;19/12/2023;€350,40;VICTORIAN SEWING BOX LARGE', 'missing_customer_id', 'empty customer id'),
  load('536375;17850;20/12/2023;€25,50;"12"" RULER, WOODEN"', { invoice: '536375', customerId: '17850', date: '2023-12-20', amount: '25.50', product: '12" RULER, WOODEN' }, 'quoted product with a doubled quote and a comma'),
  load('536376;15291;21/12/2023;€99,00;CHILDRENS CUTLERY SPACEBOY', { invoice: '536376', customerId: '15291', date: '2023-12-21', amount: '99.00', product: 'CHILDRENS CUTLERY SPACEBOY' }, 'clean'),
  reject('536377;17809;31/02/2024;€19,90;SET OF 3 CAKE TINS PANTRY DESIGN', 'invalid_order_date', '31 February does not exist (nor month 31, read as MM/DD)'),
  load('536378;14688;02/01/2024;€8,50;PACK OF 12 PINK PAISLEY TISSUES', { invoice: '536378', customerId: '14688', date: '2024-01-02', amount: '8.50', product: 'PACK OF 12 PINK PAISLEY TISSUES' }, 'ambiguous-looking date, read as DD/MM'),
  { verdict: 'skip', text: '', note: 'blank line: skipped, not counted as a row' },
  load('536379;14688;02/01/2024;€ 0,85;PAPER NAPKINS', { invoice: '536379', customerId: '14688', date: '2024-01-02', amount: '0.85', product: 'PAPER NAPKINS' }, 'space after €'),
  load('C123;17850;03/01/2024;-€15,30;WHITE HANGING HEART T-LIGHT HOLDER', { invoice: 'C123', customerId: '17850', date: '2024-01-03', amount: '-15.30', product: 'WHITE HANGING HEART T-LIGHT HOLDER' }, 'return: invoice `C123`, minus before €'),
  reject('536380; ;05/01/2024;€42,00;REGENCY CAKESTAND 3 TIER', 'missing_customer_id', 'customer id is a single space: empty once trimmed'),
  load('536381;12431;08/01/2024;€2.005,20;ROUND SNACK BOXES SET OF4 WOODLAND', { invoice: '536381', customerId: '12431', date: '2024-01-08', amount: '2005.20', product: 'ROUND SNACK BOXES SET OF4 WOODLAND' }, '`.` as thousands separator'),
  reject('536382;12431;08/01/2024;12,5O;LUNCH BAG RED RETROSPOT', 'invalid_amount', 'amount `12,5O` has the letter O for a zero'),
  load('536383;16029;09/01/2024;€765,00;GIN + TONIC DIET METAL SIGN', { invoice: '536383', customerId: '16029', date: '2024-01-09', amount: '765.00', product: 'GIN + TONIC DIET METAL SIGN' }, 'clean'),
  load(`536384;16029;10/01/2024;1${NBSP}050,00;JUMBO BAG PINK POLKADOT`, { invoice: '536384', customerId: '16029', date: '2024-01-10', amount: '1050.00', product: 'JUMBO BAG PINK POLKADOT' }, 'no-break space (U+00A0) as thousands separator, as French Excel writes it'),
  reject('536385;17511;n/a;€45,60;HOT WATER BOTTLE KEEP CALM', 'invalid_order_date', 'date `n/a`'),
  load('536386;17511;16/01/2024;€45,60;HOT WATER BOTTLE KEEP CALM', { invoice: '536386', customerId: '17511', date: '2024-01-16', amount: '45.60', product: 'HOT WATER BOTTLE KEEP CALM' }, 'clean'),
  reject('536387;15311;17/01/2024;€312,00;JUMBO BAG RED RETROSPOT;EXTRA', 'malformed_row', '6 fields where the header has 5 (a stray `;EXTRA`)'),
  load('536388; 15311 ;17/01/2024;€76,80;CREAM CUPID HEARTS COAT HANGER', { invoice: '536388', customerId: '15311', date: '2024-01-17', amount: '76.80', product: 'CREAM CUPID HEARTS COAT HANGER' }, 'customer id with spaces around it'),
  load('536389;14527;22/01/2024;€19,80;SET OF 6 SPICE TINS PANTRY DESIGN', { invoice: '536389', customerId: '14527', date: '2024-01-22', amount: '19.80', product: 'SET OF 6 SPICE TINS PANTRY DESIGN' }, 'clean'),
  load('C536389;14527;25/01/2024;-19,80;SET OF 6 SPICE TINS PANTRY DESIGN', { invoice: 'C536389', customerId: '14527', date: '2024-01-25', amount: '-19.80', product: 'SET OF 6 SPICE TINS PANTRY DESIGN' }, 'return of the line above: `C` + its invoice'),
  load('536390;12662;23/01/2024;€164,00;PARTY BUNTING', { invoice: '536390', customerId: '12662', date: '2024-01-23', amount: '164.00', product: 'PARTY BUNTING' }, 'clean'),
  load('536391;12662;23/01/2024;€3,75;RED RETROSPOT NAPKINS', { invoice: '536391', customerId: '12662', date: '2024-01-23', amount: '3.75', product: 'RED RETROSPOT NAPKINS' }, 'clean'),
  load('536392;13705;24/01/2024;€7,95;DOORMAT NEW ENGLAND', { invoice: '536392', customerId: '13705', date: '2024-01-24', amount: '7.95', product: 'DOORMAT NEW ENGLAND' }, 'clean'),
  load('536393;13705;26/01/2024;€59,40;SPOTTY BUNTING', { invoice: '536393', customerId: '13705', date: '2024-01-26', amount: '59.40', product: 'SPOTTY BUNTING' }, 'clean'),
  load('536394;18074;29/01/2024;€10,20;"LANTERN; ANTIQUE ""GOLD"""', { invoice: '536394', customerId: '18074', date: '2024-01-29', amount: '10.20', product: 'LANTERN; ANTIQUE "GOLD"' }, 'quoted product ending in a doubled quote'),
  load('536395;18074;30/01/2024;€1.500,00;RETROSPOT TEA SET CERAMIC 11 PC', { invoice: '536395', customerId: '18074', date: '2024-01-30', amount: '1500.00', product: 'RETROSPOT TEA SET CERAMIC 11 PC' }, '`.` as thousands separator'),
  load('536396;14911;31/01/2024;250;WOODEN FRAME ANTIQUE WHITE', { invoice: '536396', customerId: '14911', date: '2024-01-31', amount: '250.00', product: 'WOODEN FRAME ANTIQUE WHITE' }, 'whole number, no decimals'),
  load('536397;14911;01/02/2024;€33,00;VINTAGE BILLBOARD LOVE/HATE MUG', { invoice: '536397', customerId: '14911', date: '2024-02-01', amount: '33.00', product: 'VINTAGE BILLBOARD LOVE/HATE MUG' }, 'clean'),
  load('536398;17850;05/02/2024;€4,25;HAND WARMER RED POLKA DOT', { invoice: '536398', customerId: '17850', date: '2024-02-05', amount: '4.25', product: 'HAND WARMER RED POLKA DOT' }, 'clean'),
  load('536399;16250;12/02/2024;€118,00;KNITTED UNION FLAG HOT WATER BOTTLE', { invoice: '536399', customerId: '16250', date: '2024-02-12', amount: '118.00', product: 'KNITTED UNION FLAG HOT WATER BOTTLE' }, 'ambiguous-looking date, read as DD/MM'),
  load('536400;16250;14/02/2024;€22,10;RED WOOLLY HOTTIE WHITE HEART', { invoice: '536400', customerId: '16250', date: '2024-02-14', amount: '22.10', product: 'RED WOOLLY HOTTIE WHITE HEART' }, 'clean'),
  load('536401;15100;20/02/2024;€12,00;POSTAGE', { invoice: '536401', customerId: '15100', date: '2024-02-20', amount: '12.00', product: 'POSTAGE' }, 'clean'),
  load('536402;13047;22/02/2024;€84,00;SET 7 BABUSHKA NESTING BOXES', { invoice: '536402', customerId: '13047', date: '2024-02-22', amount: '84.00', product: 'SET 7 BABUSHKA NESTING BOXES' }, 'clean'),
  load('536403;12583;26/02/2024;€6,95;GLASS STAR FROSTED T-LIGHT HOLDER', { invoice: '536403', customerId: '12583', date: '2024-02-26', amount: '6.95', product: 'GLASS STAR FROSTED T-LIGHT HOLDER' }, 'clean'),
  load('536404;17809;28/02/2024;€49,50;SET OF 3 CAKE TINS PANTRY DESIGN', { invoice: '536404', customerId: '17809', date: '2024-02-28', amount: '49.50', product: 'SET OF 3 CAKE TINS PANTRY DESIGN' }, 'clean'),
  load('536405;13748;29/02/2024;€15,00;BATH BUILDING BLOCK WORD', { invoice: '536405', customerId: '13748', date: '2024-02-29', amount: '15.00', product: 'BATH BUILDING BLOCK WORD' }, 'leap day, valid in 2024'),
];

/** The file's exact text: BOM, header, rows, CRLF after every line. */
export function dirtyCsvText(): string {
  return BOM + [DIRTY_HEADER, ...DIRTY_ROWS.map((r) => r.text)].map((l) => l + DIRTY_EOL).join('');
}

export interface DirtyTotals {
  /** Lines in the file, header included. */
  totalLines: number;
  blankLines: number;
  /** Data rows: every non-blank line after the header. */
  rowsRead: number;
  loaded: number;
  rejected: number;
  rejectedBy: Record<RejectReason, number>;
  /** Sum of loaded amounts, exact, two decimals. */
  loadedAmount: string;
  loadedCustomers: number;
  loadedReturns: number;
}

/** '−1234.50' → −123450, exactly. */
export function centsOf(amount: string): number {
  const m = /^(-?)(\d+)\.(\d{2})$/.exec(amount);
  if (!m) throw new Error(`not a two-decimal amount: ${amount}`);
  return (m[1] ? -1 : 1) * (Number(m[2]) * 100 + Number(m[3]));
}

export function formatCentsSigned(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function dirtyTotals(): DirtyTotals {
  const rejectedBy: Record<RejectReason, number> = { missing_customer_id: 0, invalid_order_date: 0, invalid_amount: 0, malformed_row: 0 };
  let loaded = 0;
  let blankLines = 0;
  let cents = 0;
  let returns = 0;
  const customers = new Set<string>();
  for (const r of DIRTY_ROWS) {
    if (r.verdict === 'skip') blankLines++;
    else if (r.verdict === 'reject') rejectedBy[r.reason]++;
    else {
      loaded++;
      cents += centsOf(r.expected.amount);
      customers.add(r.expected.customerId);
      if (r.expected.isReturn) returns++;
    }
  }
  const rejected = Object.values(rejectedBy).reduce((a, b) => a + b, 0);
  return {
    totalLines: DIRTY_ROWS.length + 1,
    blankLines,
    rowsRead: loaded + rejected,
    loaded,
    rejected,
    rejectedBy,
    loadedAmount: formatCentsSigned(cents),
    loadedCustomers: customers.size,
    loadedReturns: returns,
  };
}

/** data/dirty/README.md, from the annotated rows. */
export function dirtyReadme(): string {
  const t = dirtyTotals();
  const table = DIRTY_ROWS.map((r, i) => {
    const line = i + 2;
    const invoice = r.text === '' ? '' : `\`${r.text.split(';')[0]}\``;
    if (r.verdict === 'skip') return `| ${line} | | skip | ${r.note} |`;
    if (r.verdict === 'reject') return `| ${line} | ${invoice} | reject: \`${r.reason}\` | ${r.note} |`;
    const e = r.expected;
    const as = `customer \`${e.customerId}\`, ${e.date}, ${e.amount}${e.isReturn ? ', is_return' : ''}`;
    return `| ${line} | ${invoice} | load | ${r.note} → ${as} |`;
  });
  return `# data/dirty — a messy export, line by line

\`transactions_dirty.csv\` imitates a European spreadsheet export ("CSV (semicolon)"):

- UTF-8 **with a BOM** (\`EF BB BF\`), **\`;\`** between fields, **CRLF** line ends, ${t.totalLines} lines.
- Header (line 1): \`${DIRTY_HEADER}\`.
- Dates are **DD/MM/YYYY**; line 8 has day 13, which settles the order.
- Amounts are line totals with a **decimal comma**: \`€1.234,50\`, \`1 234,00\`, \`1\u00a0050,00\` (no-break
  space), \`€ 0,85\`, \`250\`; negatives as \`(12,00)\` or \`-€15,30\`/\`-19,80\`.
- Quoted fields follow RFC 4180: \`"MUG; ""CLASSIC"" WHITE"\` is \`MUG; "CLASSIC" WHITE\`.
- A return is an invoice starting with \`C\` or a negative amount (\`is_return\`).

Generated by \`scripts/generate-samples.ts\` (\`npm run build && node dist/scripts/generate-samples.js\`) from the
annotated rows in \`scripts/samples/dirty.ts\`; edit those, not this file.

## Rules an ingest should apply (in this order, first failure wins)

1. Blank lines are skipped and not counted as rows.
2. A row with a field count other than the header's is rejected: \`malformed_row\`.
3. Customer id is trimmed; a trailing \`.0\` (spreadsheet float) is dropped; empty → \`missing_customer_id\`.
4. The date must be a real DD/MM/YYYY date → \`invalid_order_date\` otherwise.
5. The amount, after removing \`€\`, spaces and no-break spaces and \`.\` thousands separators, with \`,\` as the
   decimal mark and \`(…)\` or a leading \`-\` meaning negative, must be a number → \`invalid_amount\` otherwise.

## Expected totals

- Lines in the file: **${t.totalLines}** (1 header, ${t.blankLines} blank, ${t.rowsRead} data rows)
- Rows read: **${t.rowsRead}**
- Rows loaded: **${t.loaded}**
- Rows rejected: **${t.rejected}**
  - \`missing_customer_id\`: **${t.rejectedBy.missing_customer_id}**
  - \`invalid_order_date\`: **${t.rejectedBy.invalid_order_date}**
  - \`invalid_amount\`: **${t.rejectedBy.invalid_amount}**
  - \`malformed_row\`: **${t.rejectedBy.malformed_row}**
- Sum of loaded amounts: **${t.loadedAmount}**
- Distinct customers among loaded rows: **${t.loadedCustomers}**
- Loaded returns (\`C\` invoice or negative amount): **${t.loadedReturns}**

## Line by line

| line | invoice | expected | what it is |
| ---: | --- | --- | --- |
${table.join('\n')}
`;
}
