/**
 * The relations give metrics_customers' ENUM columns their store type where the values are made
 * (relations/vocabularies.ts), so the INSERT casts nothing per customer. The types must be the
 * store's own: a store migration that widens one fails here until the constant follows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABC_CLASS_TYPE, CHURN_METHOD_TYPE, CHURN_TIER_TYPE } from '../../../src/models/relations/vocabularies.js';
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
  ])('%s is typed as metrics_customers.%s', async (column, type) => {
    const stored = await store.value<string>(
      "SELECT data_type FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'metrics_customers' AND column_name = $column",
      { column },
    );
    // DuckDB spells the type as the constant does; compare the parsed types too (spacing aside).
    expect(await store.value<string>(`SELECT typeof(CAST(NULL AS ${type}))`)).toBe(stored);
  });
});
