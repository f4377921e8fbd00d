/**
 * `crm ingest contracts` in process: every reject code with its column and sentence, the
 * original row kept, row accounting, status words, period ends stored as written, the date and
 * decimal conventions shared with transactions, and a statusExpr property test (fast-check) on
 * the real SQL.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_STATUS_WORDS, foldStatusWord } from '../../src/ingest/fields.js';
import { statusExpr } from '../../src/ingest/values.js';
import { literal } from '../../src/store/db.js';
import { ingestError, ingestFiles } from '../helpers/ingest.js';

const HEADER = 'policy_no,customer_id,plan,start_date,end_date,premium,status,cancel_date';

const contracts = (files: Record<string, string | Buffer>, opts: Parameters<typeof ingestFiles>[1] = {}) => ingestFiles(files, { kind: 'contracts', ...opts });

interface Reject {
  source_row: number;
  reason: string;
  column_name: string | null;
  detail: string;
  raw: string;
}

describe('contract validation', () => {
  const rows: [string, string | null, RegExp | null][] = [
    // line, expected reason (null: loads), detail
    ['P1,C1,Motor,2024-01-01,2024-12-31,1200.00,active,', null, null],
    [',C2,Motor,2024-01-01,2024-12-31,10,,', 'missing_contract_id', /^policy_no: no contract id$/],
    ['P3,,Motor,2024-01-01,2024-12-31,10,,', 'missing_customer_id', /^customer_id: no customer id$/],
    ['P4,C4,Motor,,2024-12-31,10,,', 'missing_period_start', /^start_date: no period start$/],
    ['P5,C5,Motor,2024-01-01,,10,,', 'missing_period_end', /^end_date: no period end$/],
    ['P6,C6,Motor,2024-13-45,2024-12-31,10,,', 'invalid_period_start', /^start_date: cannot read "2024-13-45" as a date$/],
    ['P7,C7,Motor,2024-01-01,soon,10,,', 'invalid_period_end', /^end_date: cannot read "soon" as a date$/],
    ['P8,C8,Motor,2024-01-01,2024-12-31,,,', 'missing_amount', /^premium: no amount$/],
    ['P9,C9,Motor,2024-01-01,2024-12-31,12x,,', 'invalid_amount', /^premium: cannot read "12x" as an amount$/],
    ['P10,C10,Motor,2024-01-01,2024-12-31,10,pending,', 'invalid_status', /^status: "pending" is not a status word crm knows: active \(有效, 生效, 已生效…\), cancelled \(退保, 已退保, 注销…\), lapsed \(失效, 已失效, 满期…\); see the README$/],
    ['P11,C11,Motor,2024-01-01,2024-12-31,10,cancelled,someday', 'invalid_cancel_date', /^cancel_date: cannot read "someday" as a date$/],
    ['P12,C12,Motor,2024-06-01,2024-05-31,10,,', 'period_end_before_start', /^end_date: the period ends on 2024-05-31, before it starts on 2024-06-01$/],
    ['P13,C13,Motor,2024-01-01,2024-12-31,-120.50,,', 'negative_amount', /^premium: "-120.50" is negative: a refund or correction is not a contract period$/],
    ['P14,C14,Motor,2024-03-01,2025-02-28,10,cancelled,2024-02-01', 'cancel_date_before_start', /^cancel_date: cancelled on 2024-02-01, before the period starts on 2024-03-01$/],
    ['P15,C15,Motor,2024-03-01,2025-03-01,0,已退保,2024-06-30', null, null],
    // A cancel date after the end loads: crm quality reports it.
    ['P16,C16,Motor,2024-03-01,2024-03-01,10,,2024-04-01', null, null],
  ];
  const file = [HEADER, ...rows.map((r) => r[0])].join('\n') + '\n';

  it('rejects each bad row with its own reason, column and sentence, and keeps the original row', async () => {
    const run = await contracts({ 'p.csv': file });
    const rejects = await run.query<Reject>('SELECT source_row, reason, column_name, detail, raw FROM rejects ORDER BY source_row');
    const expected = rows.flatMap(([line, reason, detail], i) => (reason ? [{ line, reason, detail: detail!, row: i + 2 }] : []));
    expect(rejects.map((r) => [r.source_row, r.reason])).toEqual(expected.map((e) => [e.row, e.reason]));
    for (const [i, r] of rejects.entries()) {
      expect(r.detail, r.reason).toMatch(expected[i].detail);
      expect(r.raw).toBe(expected[i].line);
      expect(r.column_name).toBe(r.detail.split(':')[0]);
    }
    const kinds = await run.query<{ kind: string }>('SELECT DISTINCT kind FROM rejects');
    expect(kinds).toEqual([{ kind: 'contracts' }]);
  });

  it('accounts for every row: read = loaded + rejected, per reason, in the report and in loads', async () => {
    const run = await contracts({ 'p.csv': file });
    const f = run.report.files[0];
    const rejected = rows.filter((r) => r[1]).length;
    expect(f).toMatchObject({ status: 'loaded', rows_read: rows.length, rows_loaded: rows.length - rejected, rows_rejected: rejected });
    expect(Object.values(f.rejected_by_reason).reduce((a, b) => a + b, 0)).toBe(rejected);
    expect(f.rejected_by_reason.negative_amount).toBe(1);
    const [load] = await run.query<{ kind: string; rows_read: number; rows_loaded: number; rows_rejected: number }>('SELECT kind, rows_read, rows_loaded, rows_rejected FROM loads');
    expect(load).toEqual({ kind: 'contracts', rows_read: rows.length, rows_loaded: rows.length - rejected, rows_rejected: rejected });
    const [{ n }] = await run.query<{ n: number }>('SELECT count(*) AS n FROM contracts');
    expect(Number(n)).toBe(rows.length - rejected);
    expect(await run.query('SELECT count(*) AS n FROM transactions')).toEqual([{ n: 0 }]);
  });

  it('loads the good rows exactly: statuses read from their words, period ends as written, no date shifted', async () => {
    const run = await contracts({ 'p.csv': file });
    const loaded = await run.query(
      `SELECT source_row, contract_id, customer_id, plan, CAST(period_start AS VARCHAR) AS s, CAST(period_end AS VARCHAR) AS e, CAST(amount AS VARCHAR) AS amount, status, CAST(cancel_date AS VARCHAR) AS c
       FROM contracts ORDER BY source_row`,
    );
    expect(loaded).toEqual([
      { source_row: 2, contract_id: 'P1', customer_id: 'C1', plan: 'Motor', s: '2024-01-01', e: '2024-12-31', amount: '1200.0000', status: 'active', c: null },
      { source_row: 16, contract_id: 'P15', customer_id: 'C15', plan: 'Motor', s: '2024-03-01', e: '2025-03-01', amount: '0.0000', status: 'cancelled', c: '2024-06-30' },
      { source_row: 17, contract_id: 'P16', customer_id: 'C16', plan: 'Motor', s: '2024-03-01', e: '2024-03-01', amount: '10.0000', status: null, c: '2024-04-01' },
    ]);
  });

  it('keeps unmapped columns in attributes', async () => {
    const run = await contracts({ 'p.csv': 'policy_no,customer_id,start_date,end_date,premium,车牌号\nP1,C1,2024-01-01,2024-12-31,10,沪A12345\n' });
    expect(await run.query(`SELECT attributes->>'车牌号' AS plate FROM contracts`)).toEqual([{ plate: '沪A12345' }]);
  });
});

describe('contract conventions shared with transactions', () => {
  it('reads Chinese headers, Chinese dates and yuan premiums (GB18030: see test/e2e/contracts.test.ts)', async () => {
    const text = '保单号,客户编号,险种,起保日期,终保日期,保费,状态\r\nBD1,KH0001,车险,2024年3月15日,2025年3月15日,"4,860.00",有效\r\nBD1,KH0001,车险,2023/03/15,2024/03/15,￥4620.00,满期\r\n';
    const run = await contracts({ 'p.csv': Buffer.from(new TextEncoder().encode(text)) });
    expect(run.report.files[0]).toMatchObject({ rows_loaded: 2, rows_rejected: 0 });
    expect(await run.query(`SELECT CAST(period_start AS VARCHAR) AS s, CAST(amount AS DOUBLE) AS a, status FROM contracts ORDER BY s`)).toEqual([
      { s: '2023-03-15', a: 4620, status: 'lapsed' },
      { s: '2024-03-15', a: 4860, status: 'active' },
    ]);
  });

  it('takes the day/month order a sibling date column decides, and records why', async () => {
    // The start dates fit either order; the end dates (day 31) decide DMY for the whole file.
    const run = await contracts({ 'p.csv': 'policy,customer,start date,end date,premium\nP1,C1,01/02/2024,31/01/2025,10\nP2,C2,05/03/2024,04/03/2025,10\n' });
    expect(run.report.files[0]).toMatchObject({ rows_loaded: 2, rows_rejected: 0 });
    expect(run.report.files[0].tables[0].date_formats.period_start).toBe("DMY (as period_end: this column's own values fit either order)");
    expect(await run.query(`SELECT CAST(period_start AS VARCHAR) AS s, CAST(period_end AS VARCHAR) AS e FROM contracts ORDER BY s`)).toEqual([
      { s: '2024-02-01', e: '2025-01-31' },
      { s: '2024-03-05', e: '2025-03-04' },
    ]);
  });

  it('still rejects dates no column decides, asking for --date-format', async () => {
    const run = await contracts({ 'p.csv': 'policy,customer,start date,end date,premium\nP1,C1,01/02/2024,01/02/2025,10\n' });
    expect(run.report.files[0].rejected_by_reason).toEqual({ invalid_period_start: 1 });
    const [r] = await run.query<Reject>('SELECT detail FROM rejects');
    expect(r.detail).toContain('pass --date-format DMY or MDY');
    const again = await contracts({ 'p.csv': 'policy,customer,start date,end date,premium\nP1,C1,01/02/2024,01/02/2025,10\n' }, { dateFormat: 'MDY' });
    expect(await again.query(`SELECT CAST(period_start AS VARCHAR) AS s FROM contracts`)).toEqual([{ s: '2024-01-02' }]);
  });

  it('decides the decimal comma from the premiums, and stops on a column mixing both', async () => {
    const run = await contracts({ 'p.csv': 'policy;customer;start date;end date;premium\nP1;C1;2024-01-01;2024-12-31;1.234,50\nP2;C2;2024-01-01;2024-12-31;7,5\n' });
    expect(await run.query(`SELECT CAST(amount AS DOUBLE) AS a FROM contracts ORDER BY a`)).toEqual([{ a: 7.5 }, { a: 1234.5 }]);
    const err = await ingestError({ 'p.csv': 'policy;customer;start date;end date;premium\nP1;C1;2024-01-01;2024-12-31;12.50\nP2;C2;2024-01-01;2024-12-31;7,5\n' }, { kind: 'contracts' });
    expect(err.message).toContain('column "premium" mixes decimal separators');
    expect(err.details!.join('\n')).toContain('ingest.contracts.decimalSeparator');
  });

  it('reads NDJSON and a mapping from the config file (ingest.contracts)', async () => {
    const ndjson = ['{"sub":"S1","who":"U1","from":"2024-01-01","to":"2024-02-01","fee":9.9}', '{"sub":"S1","who":"U1","from":"2024-02-01","to":"2024-03-01","fee":9.9}'].join('\n') + '\n';
    const run = await contracts(
      { 's.ndjson': ndjson },
      { config: { ingest: { contracts: { map: { contract_id: 'sub', customer_id: 'who', period_start: 'from', period_end: 'to', amount: 'fee' } } } } },
    );
    expect(run.report.files[0]).toMatchObject({ format: 'ndjson', rows_loaded: 2 });
    expect(run.report.files[0].tables[0].mapping).toEqual({ contract_id: 'sub', customer_id: 'who', period_start: 'from', period_end: 'to', amount: 'fee' });
  });

  it('refuses --return-pattern for contracts (a flag that cannot apply is not ignored)', async () => {
    const err = await ingestError({ 'p.csv': 'policy,customer,start date,end date,premium\nP1,C1,2024-01-01,2024-12-31,10\n' }, { kind: 'contracts', returnPattern: '^R' });
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('--return-pattern applies to transactions only, not contracts');
  });
});

describe('statusExpr (property, on the real SQL)', () => {
  let conn: DuckDBConnection;
  beforeAll(async () => {
    conn = await (await DuckDBInstance.create(':memory:')).connect();
  });
  afterAll(() => conn.closeSync());

  /** The status of each text, in one query. */
  const statusesOf = async (texts: string[]): Promise<(string | null)[]> => {
    const values = texts.map((t, i) => `(${i}, ${literal(t)})`).join(', ');
    const reader = await conn.runAndReadAll(`SELECT ${statusExpr('v')} AS s FROM (VALUES ${values}) t(i, v) ORDER BY i`);
    return reader.getRowObjects().map((r) => r.s as string | null);
  };
  const statusOf = async (text: string) => (await statusesOf([text]))[0];
  const known = Object.entries(CONTRACT_STATUS_WORDS).flatMap(([status, words]) => words.map((w) => [w, status] as const));
  const knownFolded = new Set(known.map(([w]) => foldStatusWord(w)));

  it('reads every known word however it is cased, padded or spaced', async () => {
    const variant = fc.record({
      pick: fc.nat({ max: known.length - 1 }),
      upper: fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
      pad: fc.constantFrom('', ' ', '\t', '\u3000', ' \u00a0'),
      joiner: fc.constantFrom(' ', '  ', '_', '-', ' - '),
    });
    const write = ({ pick, upper, pad, joiner }: { pick: number; upper: boolean[]; pad: string; joiner: string }) => {
      const cased = [...known[pick][0]].map((ch, i) => (upper[i % upper.length] ? ch.toUpperCase() : ch)).join('');
      return `${pad}${cased.replace(/ /g, joiner)}${pad}`;
    };
    await fc.assert(
      fc.asyncProperty(fc.array(variant, { minLength: 1, maxLength: 30 }), async (variants) => {
        expect(await statusesOf(variants.map(write))).toEqual(variants.map((v) => known[v.pick][1]));
      }),
      { numRuns: 30 },
    );
  });

  it('reads nothing else: any other text is NULL (and rejected by the stage)', async () => {
    const unknown = fc.string({ maxLength: 12 }).filter((text) => !knownFolded.has(foldStatusWord(text)));
    await fc.assert(
      fc.asyncProperty(fc.array(unknown, { minLength: 1, maxLength: 30 }), async (texts) => {
        expect(await statusesOf(texts)).toEqual(texts.map(() => null));
      }),
      { numRuns: 30 },
    );
    for (const near of ['activ', 'active!', '有 效', 'cancelled?', '终止', 'in forced']) expect(await statusOf(near), near).toBeNull();
  });
});
