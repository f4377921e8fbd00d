/**
 * Read-only views of run results (src/run/views.ts): `crm customer ID`, `crm model show`,
 * `crm keyaccounts`, including their errors. (`crm model show --json` of a fitted run with a
 * backtest is checked in backtest.test.ts.)
 *
 * Customer X: order O1 (two lines, 35), O2 (10), a return C3 (−15) of O1's P-B, O4 (45).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type RunJson, type TestStore } from '../helpers/run.js';

const TRANSACTIONS = `customer_id,order_id,order_date,product,quantity,amount
X,O1,2024-01-05,P-A,2,20
X,O1,2024-01-05,P-B,1,15
X,O2,2024-02-10,P-A,1,10
X,C3,2024-02-20,P-B,-1,-15
X,O4,2024-03-15,P-C,3,45
Y,O5,2024-01-20,P-A,5,50
Y,O6,2024-03-01,P-C,1,15
Z,O7,2024-02-02,P-B,2,30
`;
const CUSTOMERS = `customer_id,name,email,region,account_owner
X,Xenia Corp,xenia@example.com,North,Ann
Y,Yoyo Ltd,,South,Bob
`;

let store: TestStore;
let beforeRun: ReturnType<TestStore['cli']>;
let run1: RunJson;
let run2: RunJson;

beforeAll(async () => {
  store = await createStore(TRANSACTIONS, 'crm-views-');
  await store.ingest(CUSTOMERS, { kind: 'customers' });
  beforeRun = store.cli(['keyaccounts']);
  run1 = store.json<RunJson>(['run', '--as-of', '2024-02-29']);
  run2 = store.json<RunJson>(['run']);
});
afterAll(() => store?.cleanup());

describe('before any run', () => {
  it('crm keyaccounts exits 4 (store error) and says to run crm run first', () => {
    // (crm model show goes through the same check: see migration.test.ts.)
    expect(beforeRun.code).toBe(4);
    expect(beforeRun.stderr).toBe('crm: error: no model run yet: run `crm run` first\n');
    expect(beforeRun.stdout).toBe('');
  });
});

describe('crm customer', () => {
  it('--json: profile, latest metrics, history across runs, orders and returns', () => {
    const c = store.json<{
      customer_id: string;
      profile: Record<string, unknown>;
      metrics: Record<string, unknown>;
      history: Record<string, unknown>[];
      orders: Record<string, unknown>[];
      returns: Record<string, unknown>[];
    }>(['customer', 'X']);
    expect(c.customer_id).toBe('X');
    // E-mail and phone are masked on screen by default (--show-pii: below).
    expect(c.profile).toMatchObject({ customer_id: 'X', name: 'Xenia Corp', email: 'x***@example.com', region: 'North', account_owner: 'Ann' });
    expect(c.profile).not.toHaveProperty('load_id');
    expect(c.metrics).toMatchObject({
      run_id: run2.run_id,
      customer_id: 'X',
      first_purchase: '2024-01-05',
      last_purchase: '2024-03-15',
      frequency: 3,
      purchase_days: 3,
      monetary: 75,
      gross_revenue: 90,
      returns_value: 15,
      return_lines: 1,
      avg_order_value: 30,
    });
    expect(c.history.map((h) => [h.run_id, h.as_of, h.monetary])).toEqual([
      [run1.run_id, '2024-02-29', 30],
      [run2.run_id, '2024-03-15', 75],
    ]);
    expect(c.orders).toEqual([
      { order_id: 'O4', order_date: '2024-03-15', lines: 1, amount: 45, products: 'P-C' },
      { order_id: 'O2', order_date: '2024-02-10', lines: 1, amount: 10, products: 'P-A' },
      { order_id: 'O1', order_date: '2024-01-05', lines: 2, amount: 35, products: 'P-A, P-B' },
    ]);
    expect(c.returns).toEqual([{ order_id: 'C3', order_date: '2024-02-20', product: 'P-B', quantity: -1, amount: -15 }]);
  });

  it('--show-pii shows the e-mail as stored; text output masks it by default', () => {
    expect(store.json<{ profile: { email: string }; pii_masked: boolean }>(['customer', 'X', '--show-pii'])).toMatchObject({ profile: { email: 'xenia@example.com' }, pii_masked: false, matched: ['id'] });
    const text = store.cli(['customer', 'X']);
    expect(text.stdout).toContain('email         x***@example.com');
    expect(text.stdout).not.toContain('xenia@');
  });

  it('by name in part: one match shows the 360° view; privacy.mask_names in crm.config.json masks the name', () => {
    expect(store.cli(['customer', 'xenia']).stdout).toMatch(/^customer X — Xenia Corp\n/);
    store.write('crm.config.json', JSON.stringify({ privacy: { mask_names: true } }));
    try {
      expect(store.cli(['customer', 'xenia']).stdout).toMatch(/^customer X — X\*\*\* C\*\*\*\n/);
      expect(store.cli(['customer', 'xenia', '--show-pii']).stdout).toMatch(/^customer X — Xenia Corp\n/);
    } finally {
      store.write('crm.config.json', '{}');
    }
  });

  it('several matches: the candidates with what matched (text and --json)', () => {
    const text = store.cli(['customer', 'o']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^2 customers match "o" \(by id, e-mail, phone or name\):\n/);
    expect(text.stdout).toMatch(/X\s+Xenia Corp\s+x\*\*\*@example\.com\s+North\s+\S+\s+name/);
    const json = store.json<{ matches: number; candidates: { customer_id: string; matched: string[] }[] }>(['customer', 'o', '--limit', '1']);
    expect([json.matches, json.candidates.map((c) => [c.customer_id, c.matched])]).toEqual([2, [['X', ['name']]]]);
  });

  it('a customer with orders but no profile has profile null', () => {
    const c = store.json<{ profile: unknown; metrics: { monetary: number }; orders: unknown[] }>(['customer', 'Z']);
    expect(c.profile).toBeNull();
    expect(c.metrics.monetary).toBe(30);
    expect(c.orders.length).toBe(1);
  });

  it('an unknown customer: exit 3 (input error) naming it', () => {
    const r = store.cli(['customer', 'NOPE', '--json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      'crm: error: no customer "NOPE" (by id, e-mail, phone or name) in the store\n' +
        '  An id must match exactly; an e-mail or phone must match whole (after normalising); a name may match in part.\n',
    );
    expect(r.stdout).toBe('');
  });
});

describe('crm model show', () => {
  it('--run 1 --json: that run, a fallback without models or backtest', () => {
    const m = store.json<Record<string, unknown>>(['model', 'show', '--run', '1']);
    expect(m).toMatchObject({
      run_id: 1,
      as_of: '2024-02-29',
      time_unit: 'week',
      horizon_months: 12,
      customers: 3,
      model_status: 'fallback',
      fallback_reason: 'only 3 customers (the models need at least 20)',
      bgnbd: null,
      gamma_gamma: null,
      backtest: null,
    });
  });
});
