/**
 * The source of the latest run, on its own: `crm customer` reads it for every lookup, and
 * source.ts (which re-exports it) loads the ClickHouse client and the model relations.
 */
import type { Store } from '../store/db.js';

/**
 * The source the latest run read its transactions from (runs.input.source), or null for a run
 * on the store's own lines: `crm customer` and `crm quality` say that the lines live there.
 */
export async function latestRunSource(store: Store): Promise<string | null> {
  return (await store.value<string | null>("SELECT input->>'$.source' FROM runs ORDER BY run_id DESC LIMIT 1")) ?? null;
}
