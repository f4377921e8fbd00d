/**
 * The `histories` step of `crm run`: the distinct histories (x, t_x, T) with how many customers share each
 * (relations/histories.ts), read once, in days and in time units; and whether the purchase models
 * can be fitted at all (else the run's fallback, scored by recency).
 */
import type { RfmSummary } from '../../models/rfm-data.js';
import { histories } from '../../models/relations/histories.js';
import { mapShared } from '../../models/shared-arrays.js';
import { readNumericColumns } from '../../store/columnar.js';
import type { Store } from '../../store/db.js';
import type { Fallback } from '../result.js';
import type { StepTools } from './tools.js';

export interface Histories {
  /** The columns as read: x, t_x_days, T_days, customers. */
  triples: Record<string, Float64Array>;
  /** The same in time units, as the models take them. */
  data: RfmSummary;
  /** Some history has x > 0: a repeat purchase. */
  repeaters: boolean;
}

export async function readHistories(store: Store, unitDays: number, { timed }: StepTools): Promise<Histories> {
  // In shared buffers: the model workers read them without a copy (models/shared-arrays.ts).
  const triples = await timed('read_triples', () => readNumericColumns(store, histories.sql, { shared: true }));
  const data = {
    x: triples.x,
    tx: mapShared(triples.t_x_days, (d) => d / unitDays),
    T: mapShared(triples.T_days, (d) => d / unitDays),
    weight: triples.customers,
  };
  // Read off the distinct histories already in hand (x > 0: a repeat purchase), not recounted.
  const repeaters = triples.x.some((x) => x > 0);
  return { triples, data, repeaters };
}

/**
 * Why the purchase models are not fitted, before any fit: no purchase (contracts only), too few
 * customers, or nobody repeats; null when they are to be fitted.
 */
export function fallbackBeforeFit(noPurchases: Fallback | null, customers: number, minCustomers: number, repeaters: boolean): Fallback | null {
  // (Everyone buying first on the as-of date is covered by "nobody repeats": T = 0 forces x = 0.)
  if (noPurchases) return noPurchases;
  if (customers < minCustomers) return ['too_few_customers', `only ${customers} customer${customers === 1 ? '' : 's'} (the models need at least ${minCustomers})`];
  if (!repeaters) return ['no_repeat_purchases', 'no customer has bought on more than one day, so purchase rates and drop-out cannot be told apart'];
  return null;
}
