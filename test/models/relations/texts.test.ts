/**
 * Every relation of the run's upstream chain is one constant SQL text with its parameters bound
 * by name: `params` lists exactly the `$names` the text uses, and nothing was spliced into it at
 * run time (no template artefacts, no values: the text is the same in every run).
 */
import { describe, expect, it } from 'vitest';
import { inlined, parametersOf, type Relation } from '../../../src/models/relation.js';
import { cohorts } from '../../../src/models/relations/cohorts.js';
import { customerBase, returnOnlyCustomers } from '../../../src/models/relations/customer-base.js';
import { histories } from '../../../src/models/relations/histories.js';
import { moneyScale } from '../../../src/models/relations/money.js';
import { orderIds, orders, ordersUncosted } from '../../../src/models/relations/orders.js';
import { periodHistories, periodHistoryCounts } from '../../../src/models/relations/period-histories.js';
import { purchaseDays, purchaseDaysOfDailyOrders, purchaseDaysUncosted } from '../../../src/models/relations/purchase-days.js';
import { revenueLevels } from '../../../src/models/relations/revenue-levels.js';
import { trendWindows } from '../../../src/models/relations/trend-windows.js';

const RELATIONS: [string, Relation][] = [
  ['trendWindows', trendWindows],
  ['moneyScale', moneyScale],
  ['orders.narrow', orders.narrow],
  ['orders.wide', orders.wide],
  ['purchaseDays.narrow', purchaseDays.narrow],
  ['purchaseDays.wide', purchaseDays.wide],
  ['purchaseDays with orders inlined', inlined(purchaseDays.narrow, [orders.narrow])],
  ['ordersUncosted.narrow', ordersUncosted.narrow],
  ['ordersUncosted.wide', ordersUncosted.wide],
  ['purchaseDaysUncosted.narrow', purchaseDaysUncosted.narrow],
  ['purchaseDaysUncosted.wide', purchaseDaysUncosted.wide],
  ['orderIds', orderIds],
  ['purchaseDaysOfDailyOrders with orders inlined', inlined(purchaseDaysOfDailyOrders, [orders.narrow])],
  ['customerBase.narrow', customerBase.narrow],
  ['customerBase.wide', customerBase.wide],
  ['returnOnlyCustomers', returnOnlyCustomers],
  ['histories', histories],
  ['periodHistories', periodHistories],
  ['periodHistoryCounts', periodHistoryCounts],
  ['revenueLevels', revenueLevels],
  ['cohorts', cohorts],
];

describe.each(RELATIONS)('%s', (_, relation) => {
  it('params are exactly the parameters its SQL uses', () => {
    expect([...relation.params].sort()).toEqual(parametersOf(relation.sql).sort());
  });

  it('is a constant text: no splicing artefacts, no literal dates or shares', () => {
    expect(relation.sql).not.toMatch(/\$\{|undefined|\[object|NaN/);
    expect(relation.sql).not.toMatch(/DATE '\d{4}-\d{2}-\d{2}'/);
    expect(relation.sql).not.toMatch(/<\s*0\.\d/);
    expect(relation.sql.trim()).toMatch(/^(WITH|SELECT)\b/);
  });

  it('names its table and its grain', () => {
    expect(relation.name).toMatch(/^run_[a-z_]+$/);
    expect(relation.grain.length).toBeGreaterThan(10);
  });
});

describe('without costs', () => {
  it('the orders and purchase days without costs differ from the costed texts only in the margin', () => {
    for (const [costed, uncosted] of [[orders, ordersUncosted], [purchaseDays, purchaseDaysUncosted]] as const) {
      for (const width of ['narrow', 'wide'] as const) {
        const [a, b] = [costed[width].sql, uncosted[width].sql].map((sql) => sql.split('\n').filter((line) => !/margin|^\s*--/.test(line)).join('\n'));
        expect(b).toBe(a);
        expect(uncosted[width].sql).not.toMatch(/sum\((cost|margin)\)/);
        expect(uncosted[width].name).toBe(costed[width].name);
      }
    }
  });
});

describe('money widths', () => {
  it('the two texts of a money-summing relation differ only in the money type', () => {
    for (const r of [orders, purchaseDays, ordersUncosted, purchaseDaysUncosted, customerBase]) {
      expect(r.wide.sql).toBe(r.narrow.sql.replaceAll('DECIMAL(18, 4)', 'DECIMAL(38, 4)'));
      expect(r.narrow.sql).toContain('DECIMAL(18, 4)');
    }
  });
});
