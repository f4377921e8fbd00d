/**
 * Beside the `fit` step of `crm run`, in DuckDB's threads while the purchase models are fitted here (pure
 * JS, no store access): the 80/20 levels (relations/revenue-levels.ts), then the cohort triangle
 * (relations/cohorts.ts, temp.run_cohorts; inserted in the write step).
 */
import { materialize } from '../../models/relation.js';
import { revenueLevels } from '../../models/relations/revenue-levels.js';
import type { Store } from '../../store/db.js';
import type { ChainParams, CustomerBase } from './base.js';
import type { StepTools } from './tools.js';

/** Temp table of the cohort triangle. */
export const COHORTS_TABLE = 'temp.run_cohorts';

/**
 * Started, not awaited: the caller awaits the promise after the fits. A failure is reported
 * there, not as an unhandled rejection meanwhile.
 */
export function startLevelsAndCohorts(store: Store, base: Pick<CustomerBase, 'levelsLoaded' | 'cohorts'>, chain: ChainParams, { timed }: StepTools): Promise<void> {
  const inDuckDb = (async () => {
    // A run from a source may have ranked the levels on the cluster already (run/source.ts).
    if (!base.levelsLoaded) await timed('pareto', () => materialize(store, revenueLevels, chain));
    await timed('cohorts', () => materialize(store, base.cohorts, chain));
  })();
  inDuckDb.catch(() => undefined);
  return inDuckDb;
}
