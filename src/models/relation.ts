/**
 * A relation of the run's chain (dbt's habit): one SQL SELECT at one grain, with named CTEs,
 * explicit columns and its parameters bound as `$name` — never spliced — so the text can be pasted
 * into any DuckDB client (PREPARE … / EXECUTE with the run's values, recorded in runs.params) and
 * give the same rows. A relation reads the relations before it by their table names.
 */
import type { Params, Store } from '../store/db.js';
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

/** Values for a relation's parameters (DuckDB casts text such as ISO dates where the SQL says so). */
export type RelationParams<P extends string> = Record<P, string | number | boolean | null>;

/** The parameters a SQL text uses, in order of first use (for checking `params` in tests). */
export function parametersOf(sql: string): string[] {
  const seen = new Set<string>();
  for (const m of sql.replace(/--[^\n]*/g, '').replace(/'(?:[^']|'')*'/g, "''").matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) seen.add(m[1]);
  return [...seen];
}

/** CREATE OR REPLACE TEMP TABLE <name> AS <sql>, its parameters bound. Returns the rows written. */
export async function materialize<P extends string>(store: Store, relation: Relation<P>, params: RelationParams<P>, tick?: Tick): Promise<number> {
  const bound: Params = Object.fromEntries(relation.params.map((p) => [p, params[p]]));
  const sql = `CREATE OR REPLACE TEMP TABLE ${relation.name} AS\n${relation.sql}`;
  return tick ? store.runWithProgress(sql, tick, bound) : store.run(sql, bound);
}
