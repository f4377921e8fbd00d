import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dayMonthEvidence,
  decideDayMonthOrder,
  decideDecimalSeparator,
  decimalEvidenceExpr,
  decimalExpr,
  idExpr,
  parseDateFormatFlag,
  textExpr,
  planDates,
  timestampExpr,
} from '../../src/ingest/values.js';
import { ingestFiles } from '../helpers/ingest.js';
import { evalExpr } from '../helpers/sql-expr.js';

let conn: DuckDBConnection;
beforeAll(async () => {
  conn = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => conn.closeSync());


describe('identifiers', () => {
  it('keep leading zeros, drop spreadsheet .0 and blanks', async () => {
    expect(await evalExpr(conn, ['00123', '13607.0', '13607.00', ' C001 ', '', '12.5', 'AB.0', '   '], idExpr)).toEqual([
      '00123',
      '13607',
      '13607',
      'C001',
      null,
      '12.5',
      'AB.0',
      null,
    ]);
  });
});

/** Unicode white space an export may leave around a value: tab, line breaks, no-break and ideographic spaces, NEL, LS/PS, BOM. */
const SURROUNDINGS = ['\t', '\u00A0', '\u3000', '\u2028', '\u0085', '\r\n', '\v\f', '\u202F', '\uFEFF'];

describe('white space around values', () => {
  it('is trimmed from ids at both ends, whatever kind, so C5 and "C5<tab>" are one customer', async () => {
    const values = SURROUNDINGS.flatMap((w) => [`C5${w}`, `${w}C5`, `${w} C5 ${w}`]);
    expect(await evalExpr(conn, values, idExpr)).toEqual(values.map(() => 'C5'));
    expect(await evalExpr(conn, ['13607.0\t', '\u00A013607.00', 'C\t5', '\t\u00A0\u3000'], idExpr)).toEqual(['13607', '13607', 'C\t5', null]);
  });

  it('an export with "C5<tab>" and "C5<no-break space>" loads one customer C5', async () => {
    const csv = 'customer_id,order_date,amount\nC5,2024-01-05,10\nC5\t,2024-01-06,5\n"\u00A0C5\u00A0",2024-01-07\t,2,50\u3000\n';
    const run = await ingestFiles({ 'tx.csv': csv.replace('2,50\u3000', '"2,50\u3000"') });
    expect(await run.query('SELECT customer_id, count(*) AS n, CAST(sum(amount) AS VARCHAR) AS total FROM transactions GROUP BY ALL')).toEqual([
      { customer_id: 'C5', n: 3, total: '17.5000' },
    ]);
  });

  it('is trimmed from text fields', async () => {
    expect(await evalExpr(conn, ['Lamp\t', '\u2028Lamp\u0085', '\t'], textExpr)).toEqual(['Lamp', 'Lamp', null]);
  });

  it('is trimmed from dates and amounts', async () => {
    const plan = planDates({ candidates: 0, maxFirst: 0, maxSecond: 0 });
    const dates = SURROUNDINGS.map((w) => `${w}2024-01-05${w}`);
    expect(await evalExpr(conn, dates, (c) => timestampExpr(c, plan))).toEqual(dates.map(() => '2024-01-05 00:00:00'));
    const amounts = SURROUNDINGS.map((w) => `${w}1.234,50${w}`);
    expect(await evalExpr(conn, amounts, (c) => decimalExpr(c, ','))).toEqual(amounts.map(() => '1234.5000'));
    expect(await evalExpr(conn, amounts, decimalEvidenceExpr)).toEqual(amounts.map(() => '2'));
  });
});

describe('dates', () => {
  it('reads ISO, compact, slashed year-first, Chinese, month names and Excel serials', async () => {
    const plan = planDates({ candidates: 0, maxFirst: 0, maxSecond: 0 });
    const out = await evalExpr(conn, 
      ['2024-01-05', '2024-01-05 08:26:00', '2024-01-05T08:26:00Z', '2024/1/5', '20240105', '2024年1月5日', '2024年01月05日 10:11:12', '05-Jan-2024', 'Jan 5, 2024', '45296', '45296.5', 'n/a', '2024-02-30'],
      (c) => timestampExpr(c, plan),
    );
    expect(out).toEqual([
      '2024-01-05 00:00:00',
      '2024-01-05 08:26:00',
      '2024-01-05 08:26:00',
      '2024-01-05 00:00:00',
      '2024-01-05 00:00:00',
      '2024-01-05 00:00:00',
      '2024-01-05 10:11:12',
      '2024-01-05 00:00:00',
      '2024-01-05 00:00:00',
      '2024-01-05 00:00:00',
      '2024-01-05 12:00:00',
      null,
      null,
    ]);
  });

  it('decides day/month order from the data', () => {
    expect(decideDayMonthOrder(dayMonthEvidence(['05/01/2024', '13/01/2024']))).toBe('DMY');
    expect(decideDayMonthOrder(dayMonthEvidence(['01/05/2024', '01/13/2024']))).toBe('MDY');
    expect(decideDayMonthOrder(dayMonthEvidence(['01/05/2024', '02/03/2024']))).toBe('ambiguous');
    expect(decideDayMonthOrder(dayMonthEvidence(['13/01/2024', '01/13/2024']))).toBe('conflict');
    expect(decideDayMonthOrder(dayMonthEvidence(['2024-01-05']))).toBeNull();
  });

  it('parses dd/mm and mm/dd with the decided order, and rejects undecidable ones', async () => {
    const values = ['05/01/2024', '5.1.2024 8:26', '12/1/2010 8:26'];
    expect(await evalExpr(conn, values, (c) => timestampExpr(c, planDates(dayMonthEvidence(['13/01/2024']))))).toEqual([
      '2024-01-05 00:00:00',
      '2024-01-05 08:26:00',
      '2010-01-12 08:26:00',
    ]);
    expect(await evalExpr(conn, values, (c) => timestampExpr(c, planDates(dayMonthEvidence(['01/13/2024']))))).toEqual([
      '2024-05-01 00:00:00',
      '2024-05-01 08:26:00',
      '2010-12-01 08:26:00',
    ]);
    const ambiguous = planDates(dayMonthEvidence(['01/05/2024']));
    expect(ambiguous.order).toBeNull();
    expect(await evalExpr(conn, ['01/05/2024'], (c) => timestampExpr(c, ambiguous))).toEqual([null]);
  });

  it('honours --date-format', async () => {
    expect(parseDateFormatFlag('dmy')).toEqual({ order: 'DMY' });
    expect(parseDateFormatFlag('%d.%m.%Y')).toEqual({ exact: '%d.%m.%Y' });
    expect(() => parseDateFormatFlag('weird')).toThrow(/not understood/);
    const plan = planDates({ candidates: 0, maxFirst: 0, maxSecond: 0 }, 'MDY');
    expect(await evalExpr(conn, ['01/05/2024'], (c) => timestampExpr(c, plan))).toEqual(['2024-01-05 00:00:00']);
    const exact = planDates({ candidates: 0, maxFirst: 0, maxSecond: 0 }, '%d.%m.%Y');
    expect(await evalExpr(conn, ['05.01.2024', '2024-01-05'], (c) => timestampExpr(c, exact))).toEqual(['2024-01-05 00:00:00', null]);
  });
});

describe('amounts', () => {
  it('read currency signs, thousands separators and negatives with a decimal point', async () => {
    const out = await evalExpr(conn, 
      ['12.5', ' 1,234.50 ', '$1,234.50', '¥1,234.50', '(123.45)', '-12', '123.45-', 'USD 99', '1 234.5', "1'234.50", '12,5O', 'abc', '1.2.3x', ''],
      (c) => decimalExpr(c, '.'),
    );
    expect(out).toEqual(['12.5000', '1234.5000', '1234.5000', '1234.5000', '-123.4500', '-12.0000', '-123.4500', '99.0000', '1234.5000', '1234.5000', null, null, null, null]);
  });

  it('read decimal commas', async () => {
    const out = await evalExpr(conn, ['€1.234,50', '(12,00)', '1 234,00', '12,5', '7'], (c) => decimalExpr(c, ','));
    expect(out).toEqual(['1234.5000', '-12.0000', '1234.0000', '12.5000', '7.0000']);
  });

  it('say what each value proves about the decimal separator', async () => {
    const out = await evalExpr(conn, 
      ['12.50', '1,234.50', '0.5', '1,234,567', '7,5', '1.234,50', '0,123', '1.234.567', '1,234', '1.234', '1234', '12,34.5', '12,5O'],
      decimalEvidenceExpr,
    );
    // 1: only with a point, 2: only with a comma, 3: both ways (different values), null: neither.
    expect(out).toEqual(['1', '1', '1', '1', '2', '2', '2', '2', '3', '3', null, null, null]);
  });

  it('decide the separator only from evidence that does not contradict itself', () => {
    expect(decideDecimalSeparator({ point: 3, comma: 0, ambiguous: 2 })).toBe('.');
    expect(decideDecimalSeparator({ point: 0, comma: 1, ambiguous: 0 })).toBe(',');
    expect(decideDecimalSeparator({ point: 900, comma: 1, ambiguous: 0 })).toBe('conflict');
    expect(decideDecimalSeparator({ point: 0, comma: 0, ambiguous: 5 })).toBeNull();
  });

  it('without a decided separator, read only values that cannot be read two ways', async () => {
    expect(await evalExpr(conn, ['1,234', '1.234', '1234', '1 234', '$ 7', '12.5'], (c) => decimalExpr(c, null))).toEqual([null, null, '1234.0000', '1234.0000', '7.0000', null]);
  });

  it('accept thousands separators only in groups of three', async () => {
    expect(await evalExpr(conn, ['7,5', '12,34.5', '1,2345.0', '0,123.5', '1,234,567.89'], (c) => decimalExpr(c, '.'))).toEqual([null, null, null, null, '1234567.8900']);
    expect(await evalExpr(conn, ['7.5', '12.34,5', '1.234.567,89'], (c) => decimalExpr(c, ','))).toEqual([null, null, '1234567.8900']);
  });
});
