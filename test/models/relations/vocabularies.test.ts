/**
 * The relations give metrics_customers' ENUM columns their store type where the values are made
 * (relations/vocabularies.ts), so the INSERT casts nothing per customer. The types must be the
 * store's own: a store migration that widens one fails here until the constant follows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABC_CLASS_TYPE, AT_RISK_CODES_TYPE, CHURN_METHOD_TYPE, CHURN_TIER_TYPE } from '../../../src/models/relations/vocabularies.js';
import { atRiskCodesSql } from '../../../src/models/relations/customer-metrics.js';
import { Store } from '../../../src/store/db.js';

let store: Store;
beforeAll(async () => {
  store = await Store.open(':memory:', { create: true });
});
afterAll(() => store.close());

describe('vocabularies', () => {
  it.each([
    ['churn_tier', CHURN_TIER_TYPE],
    ['churn_method', CHURN_METHOD_TYPE],
    ['abc_class', ABC_CLASS_TYPE],
    ['at_risk_codes', AT_RISK_CODES_TYPE],
  ])('%s is typed as metrics_customers.%s', async (column, type) => {
    const stored = await store.value<string>(
      "SELECT data_type FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'metrics_customers' AND column_name = $column",
      { column },
    );
    // DuckDB spells the type as the constant does; compare the parsed types too (spacing aside).
    expect(await store.value<string>(`SELECT typeof(CAST(NULL AS ${type}))`)).toBe(stored);
  });
});

describe('at-risk codes', () => {
  it('picks, for every combination of the three flags (NULL too), the codes the rule lists, typed as the store column', async () => {
    // The rule written out (the list each customer's reasons were built into before the lookup).
    const rule = `CASE WHEN a OR b OR c THEN list_concat(CASE WHEN a THEN ['revenue_down'] END, CASE WHEN b THEN ['churn_risk_up'] END,
                    CASE WHEN c THEN ['churn_risk_high'] END) END`;
    const flags = `(VALUES (true), (false), (NULL::BOOLEAN)) t(v)`;
    const rows = await store.all<{ same: boolean; codes: string | null; type: string }>(
      `SELECT ${atRiskCodesSql('a', 'b', 'c')} IS NOT DISTINCT FROM CAST(${rule} AS ENUM('revenue_down', 'churn_risk_up', 'churn_risk_high')[]) AS same,
              CAST(${atRiskCodesSql('a', 'b', 'c')} AS VARCHAR) AS codes, typeof(${atRiskCodesSql('a', 'b', 'c')}) AS type
       FROM (SELECT x.v AS a, y.v AS b, z.v AS c FROM ${flags.replace(' t(v)', ' x(v)')}, ${flags.replace(' t(v)', ' y(v)')}, ${flags.replace(' t(v)', ' z(v)')})
       ORDER BY a DESC NULLS LAST, b DESC NULLS LAST, c DESC NULLS LAST`,
    );
    expect(rows).toHaveLength(27);
    expect(rows.every((r) => r.same)).toBe(true);
    expect(rows[0].codes).toBe('[revenue_down, churn_risk_up, churn_risk_high]');
    expect(rows.at(-1)!.codes).toBeNull();
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set(["ENUM('revenue_down', 'churn_risk_up', 'churn_risk_high')[]"]));
  });
});
