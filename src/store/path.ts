import path from 'node:path';

export const DEFAULT_STORE = 'crm.duckdb';

/** The store path: --db, else $CRM_DB, else ./crm.duckdb. */
export function resolveStorePath(flag?: string): string {
  return path.resolve(flag || process.env.CRM_DB || DEFAULT_STORE);
}
