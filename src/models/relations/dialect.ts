/**
 * The few spellings that differ between DuckDB and ClickHouse SQL, for the rules that are
 * rendered on both engines (customer-metrics.ts, value-tiers.ts, histories.ts, customer-base.ts):
 * a rule is written once, as a function of a dialect, and `DUCKDB` renders exactly the text the
 * local run always ran, `CLICKHOUSE` the text `crm run --source` sends to the cluster for
 * crm_customer_metrics (cluster-metrics.ts). Kept to ClickHouse 18.16 (Debian's): no BIGINT or
 * TINYINT type names, and an array read past its end gives the element type's default (0, ''),
 * not NULL as in DuckDB — so `element` guards the index there.
 */
export interface SqlDialect {
  name: 'duckdb' | 'clickhouse';
  /** A boolean as 0/1, NULL counting as 0. */
  countTrue(condition: string): string;
  /** The `index`-th (1-based) element of `list`, NULL past its end. */
  element(list: string, index: string): string;
  /** How many elements `variable` of `list` satisfy `predicate`. */
  countWhere(list: string, variable: string, predicate: string): string;
  length(list: string): string;
  double(expression: string): string;
  bigint(expression: string): string;
  integer(expression: string): string;
  tinyint(expression: string): string;
  /** Whole days from `from` to `to` (dates). */
  dayDiff(from: string, to: string): string;
}

export const DUCKDB: SqlDialect = {
  name: 'duckdb',
  countTrue: (condition) => `coalesce(${condition}, false)::INTEGER`,
  element: (list, index) => `${list}[${index}]`,
  countWhere: (list, variable, predicate) => `len(list_filter(${list}, ${variable} -> ${predicate}))`,
  length: (list) => `len(${list})`,
  double: (e) => `CAST(${e} AS DOUBLE)`,
  bigint: (e) => `CAST(${e} AS BIGINT)`,
  integer: (e) => `CAST(${e} AS INTEGER)`,
  tinyint: (e) => `CAST(${e} AS TINYINT)`,
  dayDiff: (from, to) => `date_diff('day', ${from}, ${to})`,
};

export const CLICKHOUSE: SqlDialect = {
  name: 'clickhouse',
  countTrue: (condition) => `toInt32(coalesce(${condition}, 0))`,
  element: (list, index) => `if((${index}) BETWEEN 1 AND length(${list}), arrayElement(${list}, ${index}), NULL)`,
  // A NULL predicate counts as false, as in DuckDB's list_filter (arrayCount wants a plain UInt8).
  countWhere: (list, variable, predicate) => `arrayCount(${variable} -> toUInt8(coalesce(${predicate}, 0)), ${list})`,
  length: (list) => `length(${list})`,
  double: (e) => `toFloat64(${e})`,
  bigint: (e) => `toInt64(${e})`,
  integer: (e) => `toInt32(${e})`,
  tinyint: (e) => `toInt8(${e})`,
  dayDiff: (from, to) => `toInt32(dateDiff('day', ${from}, ${to}))`,
};
