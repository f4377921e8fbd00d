/**
 * A relation of the run's chain (dbt's habit): one SQL SELECT at one grain, with named CTEs,
 * explicit columns and its parameters bound as `$name` — never spliced — so the text can be pasted
 * into any DuckDB client (PREPARE … / EXECUTE with the run's values, recorded in runs.params) and
 * give the same rows. A relation reads the relations before it by their table names.
 */
import { DOUBLE, LIST, listValue, VARCHAR } from '../store/duckdb.js';
import type { ParamTypes, Params, Row, Store } from '../store/db.js';
import type { Tick } from '../util/progress.js';

export interface Relation<P extends string = string> {
  /** The temp table the run materialises it as; later relations read it by this name. */
  name: string;
  /** What one row is ("one row per customer and purchase day"). */
  grain: string;
  /** One SELECT; parameters as `$name` (each listed in `params`). */
  sql: string;
  /** The parameters the SQL binds, by name. */
  params: readonly P[];
}

/**
 * Values for a relation's parameters (DuckDB casts text such as ISO dates where the SQL says so).
 * A list binds as DOUBLE[] (numbers) or VARCHAR[] (strings); an empty list binds as DOUBLE[].
 */
export type RelationParams<P extends string> = Record<P, string | number | boolean | null | readonly number[] | readonly string[]>;

/** The values and types to bind: lists need their item type spelled out (DuckDB cannot infer it from values). */
export function bindParams<P extends string>(relation: Relation<P>, params: RelationParams<P>): { values: Params; types: ParamTypes } {
  const values: Params = {};
  const types: ParamTypes = {};
  for (const name of relation.params) {
    const value = params[name];
    if (value === undefined) throw new Error(`relation ${relation.name}: no value for $${name}`);
    if (Array.isArray(value)) {
      const text = value.length > 0 && typeof value[0] === 'string';
      values[name] = listValue([...value]);
      types[name] = LIST(text ? VARCHAR : DOUBLE);
    } else {
      values[name] = value as string | number | boolean | null;
    }
  }
  return { values, types };
}

/** The parameters a SQL text uses, in order of first use (for checking `params` in tests). */
export function parametersOf(sql: string): string[] {
  const seen = new Set<string>();
  for (const m of sql.replace(/--[^\n]*/g, '').replace(/'(?:[^']|'')*'/g, "''").matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) seen.add(m[1]);
  return [...seen];
}

/**
 * `relation` with `inputs` (relations it reads by name) inlined as CTEs of the same names, so a
 * relation that is read once is never materialised: DuckDB plans the whole chain as one query
 * and streams each step into the next. The text stays one runnable query; its parameters are
 * those of all the parts (shared names mean the same value). Inputs are listed in chain order
 * (an input may read the ones before it).
 */
export function inlined<P extends string, Q extends string>(relation: Relation<P>, inputs: readonly Relation<Q>[]): Relation<P | Q> {
  const ctes = inputs.map((input) => `${input.name} AS (${input.sql.trimEnd()}\n)`).join(',\n');
  const params = [...new Set<P | Q>([...inputs.flatMap((i) => i.params), ...relation.params])];
  return { ...relation, sql: `\nWITH ${ctes}\nSELECT * FROM (${relation.sql.trimEnd()}\n)`, params };
}

/** The bound values of a relation's parameters (only those it uses; scalars need no types). */
export function boundParams<P extends string>(relation: Relation<P>, params: RelationParams<P>): Params {
  return bindParams(relation, params).values;
}

/** CREATE OR REPLACE TEMP TABLE <name> AS <sql>, its parameters bound. Returns the rows written. */
export async function materialize<P extends string>(store: Store, relation: Relation<P>, params: RelationParams<P>, tick?: Tick): Promise<number> {
  const { values, types } = bindParams(relation, params);
  const sql = `CREATE OR REPLACE TEMP TABLE ${relation.name} AS\n${relation.sql}`;
  return tick ? store.runWithProgress(sql, tick, values, types) : store.run(sql, values, types);
}

/** INSERT INTO <table> BY NAME <sql>, its parameters bound (a relation written straight into a store table). Returns the rows written. */
export async function insertInto<P extends string>(store: Store, table: string, relation: Relation<P>, params: RelationParams<P>): Promise<number> {
  const { values, types } = bindParams(relation, params);
  return store.run(`INSERT INTO ${table} BY NAME\n${relation.sql}`, values, types);
}

/** The relation's rows, its parameters bound (for small relations: summaries, backtest buckets). */
export async function rowsOf<T extends Row, P extends string>(store: Store, relation: Relation<P>, params: RelationParams<P>): Promise<T[]> {
  const { values, types } = bindParams(relation, params);
  return store.all<T>(relation.sql, values, types);
}
