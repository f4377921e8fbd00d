/**
 * The dates of `crm run` against the data (issue #8 §5): the backtest's holdout (as-of,
 * holdout-end] must lie within the data — a holdout-end after the last transaction date would
 * count days nobody recorded as days without purchases — and --since must not be after as-of,
 * also when as-of is the default (the last transaction date; with contracts the data's last date,
 * the latest transaction, contract period start or cancellation, and the messages say so).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAST_TRANSACTION_DATE } from '../../src/run/contracts.js';
import { checkDatesAgainstData } from '../../src/run/settings.js';
import { Store } from '../../src/store/db.js';
import { CrmError } from '../../src/util/errors.js';
import { createStore, type TestStore, type TxRow } from '../helpers/run.js';

const LAST = '2024-12-31';

function exitCodeOf(fn: () => unknown): number | string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof CrmError ? e.exitCode : String(e);
  }
}

describe('checkDatesAgainstData', () => {
  const check = (o: { asOf?: string; holdoutEnd?: string; since?: string }, last = LAST) =>
    checkDatesAgainstData({ asOf: o.asOf ?? null, holdoutEnd: o.holdoutEnd ?? null, since: o.since ?? null }, { date: last, described: LAST_TRANSACTION_DATE, detail: null, contracts: false });

  it('as-of defaults to the last transaction date; a holdout within the data passes', () => {
    expect(check({})).toBe(LAST);
    expect(check({ asOf: '2024-06-30', holdoutEnd: LAST })).toBe('2024-06-30');
    expect(check({ asOf: '2024-06-30', since: '2024-01-01' })).toBe('2024-06-30');
    expect(check({ asOf: '2024-06-30', since: '2024-06-30' })).toBe('2024-06-30');
  });

  it('a holdout-end after the last transaction date is an input error (3) naming that date', () => {
    expect(exitCodeOf(() => check({ asOf: '2024-06-30', holdoutEnd: '2025-01-01' }))).toBe(3);
    expect(() => check({ asOf: '2024-06-30', holdoutEnd: '2025-01-01' })).toThrow(/after the last transaction date in the store, 2024-12-31/);
    expect(exitCodeOf(() => check({ holdoutEnd: '2025-01-01' }))).toBe(3);
  });

  it('a holdout-end on or before as-of, and a --since after it, are usage errors (2), with as-of given or defaulted', () => {
    expect(exitCodeOf(() => check({ asOf: '2024-06-30', holdoutEnd: '2024-06-30' }))).toBe(2);
    expect(exitCodeOf(() => check({ asOf: '2024-06-30', holdoutEnd: '2024-05-01' }))).toBe(2);
    expect(exitCodeOf(() => check({ holdoutEnd: LAST }))).toBe(2);
    expect(exitCodeOf(() => check({ holdoutEnd: '2024-10-01' }))).toBe(2);
    expect(() => check({ holdoutEnd: '2024-10-01' })).toThrow(/as-of date 2024-12-31 \(the default: the last transaction date\)/);
    expect(exitCodeOf(() => check({ since: '2025-01-01' }))).toBe(2);
    expect(exitCodeOf(() => check({ asOf: '2024-06-30', since: '2024-07-01' }))).toBe(2);
  });

  it('dates compare as dates, not text, past the year 9999', () => {
    expect(check({ asOf: '2024-06-30', holdoutEnd: '9999-12-31' }, '10000-01-01')).toBe('2024-06-30');
    expect(exitCodeOf(() => check({ since: '2024-01-01' }, '10000-01-01'))).toBe('no error');
  });
});

describe('crm run with dates outside the data', () => {
  let store: TestStore;
  beforeAll(async () => {
    const rows: TxRow[] = [];
    for (let c = 1; c <= 25; c++) {
      for (const date of ['2024-01-15', '2024-05-10', '2024-09-20', LAST].slice(0, 1 + (c % 4))) {
        rows.push({ customer_id: `C${c}`, order_date: date, amount: 10 + c });
      }
    }
    store = await createStore(rows, 'crm-dates-');
  });
  afterAll(() => store?.cleanup());

  const CASES: [string[], number, RegExp][] = [
    [['--as-of', '2024-06-30', '--holdout-end', '2025-03-31'], 3, /--holdout-end 2025-03-31 is after the last transaction date in the store, 2024-12-31/],
    [['--holdout-end', '2025-03-31'], 3, /2024-12-31/],
    [['--holdout-end', LAST], 2, /--holdout-end 2024-12-31 must be after the as-of date 2024-12-31/],
    [['--holdout-end', '2024-10-01'], 2, /must be after the as-of date 2024-12-31/],
    [['--as-of', '2024-06-30', '--holdout-end', '2024-06-30'], 2, /--holdout-end 2024-06-30 must be after --as-of 2024-06-30/],
    [['--as-of', '2024-06-30', '--holdout-end', '2024-05-01'], 2, /must be after --as-of 2024-06-30/],
    [['--since', '2025-01-01'], 2, /--since 2025-01-01 must not be after the as-of date 2024-12-31/],
    [['--as-of', '2024-06-30', '--since', '2024-07-01'], 2, /--since 2024-07-01 must not be after --as-of 2024-06-30/],
  ];

  it.each(CASES)('crm run %j exits %i, says why, writes no run', async (args, code, message) => {
    const r = store.cli(['run', ...args]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await store.query('SELECT run_id FROM runs')).toEqual([]);
  });

  it('a holdout ending on the last transaction date is a backtest over days with data', () => {
    const run = store.json<{ backtest: { holdout_end: string; holdout_days: number; buyers: number } }>(['run', '--as-of', '2024-06-30', '--holdout-end', LAST]);
    expect(run.backtest.holdout_end).toBe(LAST);
    expect(run.backtest.holdout_days).toBe(184);
    // Customers with c % 4 ≥ 2 (12 of 25) bought on 2024-09-20 and/or 2024-12-31.
    expect(run.backtest.buyers).toBe(12);
  });
});

describe('crm run with dates outside the data of a store holding contracts only', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createStore(null, 'crm-dates-contracts-');
    const db = await Store.open(store.db, { create: true });
    try {
      // The data's last date is the cancellation of P2 (2024-11-15), after every period start.
      await db.run(`INSERT INTO contracts (load_id, source_file, source_row, customer_id, contract_id, period_start, period_end, amount, plan, status, cancel_date) VALUES
        (1, 'p.csv', 2, 'A', 'P1', DATE '2023-01-01', DATE '2023-12-31', 100, 'motor', NULL, NULL),
        (1, 'p.csv', 3, 'A', 'P1', DATE '2024-01-01', DATE '2024-12-31', 100, 'motor', NULL, NULL),
        (1, 'p.csv', 4, 'B', 'P2', DATE '2024-03-01', DATE '2025-02-28', 200, 'life', 'cancelled', DATE '2024-11-15')`);
    } finally {
      db.close();
    }
  });
  afterAll(() => store?.cleanup());

  const LAST_DATA = '2024-11-15';
  const CASES: [string[], number, string][] = [
    [
      ['--as-of', '2024-06-30', '--holdout-end', '2025-03-31'],
      3,
      `crm: error: --holdout-end 2025-03-31 is after the data's last date in the store, ${LAST_DATA} (the latest transaction, contract period start or cancellation)\n` +
        '  The backtest compares predictions with the purchases and renewals recorded up to --holdout-end; days after the data ends would count as days without purchases or renewals.\n' +
        `  Use a --holdout-end on or before ${LAST_DATA}, and an earlier --as-of.\n`,
    ],
    [
      ['--holdout-end', '2024-10-01'],
      2,
      `crm: error: --holdout-end 2024-10-01 must be after the as-of date ${LAST_DATA} (the default: the data's last date, the latest transaction, contract period start or cancellation)\n` +
        '  A backtest scores customers as of an earlier date and compares with what they bought or renewed until --holdout-end: `crm run --as-of DATE --holdout-end LATER_DATE`.\n',
    ],
    [
      ['--since', '2025-01-01'],
      2,
      `crm: error: --since 2025-01-01 must not be after the as-of date ${LAST_DATA} (the default: the data's last date, the latest transaction, contract period start or cancellation)\n`,
    ],
    [['--as-of', '2022-06-30'], 3, 'crm: error: no customer has a purchase or a contract on or before 2022-06-30\n'],
  ];

  it.each(CASES)('crm run %j exits %i and names the data\'s last date, not a transaction date', async (args, code, message) => {
    const r = store.cli(['run', ...args]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr.split('\n').filter((l) => !/…|done in/.test(l)).join('\n')).toBe(message);
    expect(r.stderr).not.toContain('transaction date');
    expect(await store.query('SELECT run_id FROM runs')).toEqual([]);
  });

  it('the default as-of is that date, and an as-of after it scores every contract as ended', () => {
    expect(store.json<{ as_of: string }>(['run']).as_of).toBe(LAST_DATA);
    const later = store.json<{ as_of: string; contracts: { summary: { active: number; lapsed: number; cancelled: number } } }>(['run', '--as-of', '2026-06-30']);
    expect(later.as_of).toBe('2026-06-30');
    expect(later.contracts.summary).toMatchObject({ active: 0, lapsed: 1, cancelled: 1 });
  });
});

