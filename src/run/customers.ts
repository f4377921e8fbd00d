/**
 * `crm run`'s customer rows with contracts (issue #10 §4, "every customer once"): what a run does
 * when some or all of its customers have contracts rather than purchases.
 *
 * - The data's last date (the default as-of) is run/contracts.ts's lastDataDate: the latest of
 *   the last transaction, contract period start and cancellation.
 * - A store with contracts whose customers have no purchase by as-of runs the contract part and
 *   writes contract-only customers; the purchase models are skipped, said so by the fallback
 *   code `no_purchases`. With neither purchases nor contracts the run stops, as before.
 * - The customer rows are written inside the run's write transaction, after the contract step
 *   has inserted the run's contract_metrics: the value-tier boundaries rank purchase value plus
 *   contract residual value (relations/customer-metrics.ts), so they are computed there too.
 */
import { bindParams, insertInto, type RelationParams } from '../models/relation.js';
import { tierValues, type ContractPart, type CustomerMetricsParam } from '../models/relations/customer-metrics.js';
import { metricsCustomers } from '../models/relations/value-tiers.js';
import { valueTierCuts, type ValueTierRule } from '../models/tiers.js';
import type { Store } from '../store/db.js';
import { inputError } from '../util/errors.js';

/**
 * The fallback code of a run without purchases: the purchase models are skipped altogether —
 * nobody is scored by recency either, unlike the codes of FALLBACK_CODES (run/index.ts).
 */
export const NO_PURCHASES_CODE = 'no_purchases';

export const NO_DATA_MESSAGE =
  'the store has no transactions and no contracts: load some with `crm ingest transactions FILE` or `crm ingest contracts FILE`';

/**
 * With no purchase by as-of: the run goes on when contracts started by then (the purchase
 * models skipped, returned as the fallback's code and reason); without, it stops as before.
 * `hasContracts`: the contract step found a period starting by as-of (run/contracts.ts).
 */
export function noPurchasesFallback(hasContracts: boolean, asOf: string): [typeof NO_PURCHASES_CODE, string] {
  if (!hasContracts) throw inputError(`no customer has a purchase or a contract on or before ${asOf}`);
  return [
    NO_PURCHASES_CODE,
    `no customer has a purchase on or before ${asOf}: the purchase models (RFM, BG/NBD, Gamma-Gamma, 80/20) are skipped and customers are scored from their contracts`,
  ];
}

/**
 * The run's rows of metrics_customers: the value-tier boundaries from the values the tiers rank
 * (relations/customer-metrics.ts TIER_VALUES: that column alone), then every row computed as it is
 * inserted. Inside the write transaction, after the run's contract_metrics are in. Returns the
 * customers written (runs.customers) and the tiers' cuts (which a --source run's write back
 * sends to the cluster).
 */
export async function writeCustomerRows(
  store: Store,
  params: RelationParams<CustomerMetricsParam>,
  tiers: ValueTierRule[],
  timed: <R>(name: string, fn: () => Promise<R>) => Promise<R>,
): Promise<{ customers: number; tierCuts: number[] }> {
  // Without contract rows in this run (no contract period by as-of, or a --source run), the
  // relations without the contract part's FULL OUTER JOIN give the same rows for less.
  const part: ContractPart = (await store.value<boolean>('SELECT EXISTS (SELECT 1 FROM contract_metrics WHERE run_id = $run_id)', { run_id: params.run_id as number }))
    ? 'with_contracts'
    : 'purchases_only';
  const tierValuesOfRun = tierValues[part];
  const tierCuts = await timed('value_tiers', () => valueTierCuts(store, `(${tierValuesOfRun.sql})`, 'tier_value', tiers, bindParams(tierValuesOfRun, params)));
  const customers = await timed('write_metrics', () =>
    insertInto(store, 'metrics_customers', metricsCustomers[part], { ...params, tier_names: tiers.map((t) => t.name), tier_cuts: tierCuts }),
  );
  return { customers, tierCuts };
}
