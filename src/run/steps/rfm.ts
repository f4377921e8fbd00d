/**
 * The `rfm` step of `crm run`: the RFM score boundaries from the customer base (models/rfm.ts); the scores
 * and segments themselves are expressions of the customer rows (the write step, run/steps/write.ts).
 */
import { rfmCuts, rfmScoreCuts, type RfmScoring } from '../../models/rfm.js';
import type { Store } from '../../store/db.js';
import { BASE_TABLE } from './base.js';
import type { StepTools } from './tools.js';

export type RfmScoreCuts = ReturnType<typeof rfmScoreCuts>;

export async function rfmStep(store: Store, rfm: RfmScoring, { timed }: StepTools): Promise<RfmScoreCuts> {
  return rfmScoreCuts(rfm, await timed('rfm', () => rfmCuts(store, BASE_TABLE, rfm)));
}
