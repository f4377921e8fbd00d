/**
 * The `prepare` step of `crm run`: the as-of date (checked against the data's last date: the store's, or the
 * source's) and the contract part staged before the transaction (run/contracts.ts), with the
 * run's time unit and horizon in units.
 */
import type { Store } from '../../store/db.js';
import { inputError } from '../../util/errors.js';
import type { Reporter } from '../../util/log.js';
import { LAST_TRANSACTION_DATE, lastDataDate, prepareContracts, type DataEnd, type PreparedContracts } from '../contracts.js';
import { NO_DATA_MESSAGE } from '../customers.js';
import { checkDatesAgainstData, UNIT_DAYS, type RunOptions } from '../settings.js';
import { sourceExtent, type RunSource } from '../source.js';
import { DAYS_PER_YEAR, type StepTools } from './tools.js';

export interface PrepareInput {
  options: RunOptions;
  /** crm run --source: the cluster the lines live on (null: the store). */
  source: RunSource | null;
  /** The source's tables have a cost column (false without a source). */
  sourceHasCost: boolean;
  reporter: Reporter;
}

export interface PreparedRun {
  asOf: string;
  /** null: no contract part (none by as-of, or a run from a source). */
  contracts: PreparedContracts | null;
  /** Days per time unit (settings.time_unit). */
  unitDays: number;
  /** The horizon (settings.horizon_months) in time units. */
  horizonUnits: number;
}

export async function prepareRun(store: Store, input: PrepareInput, { progress, timed }: StepTools): Promise<PreparedRun> {
  const { options, source } = input;
  const { settings } = options;
  const dataEnd = source ? await sourceDataEnd(source, input.sourceHasCost) : await lastDataDate(store);
  if (!dataEnd) throw inputError(source ? `the source ${source.label} has no transactions` : NO_DATA_MESSAGE);
  const asOf = checkDatesAgainstData(options, dataEnd);
  // Contracts (run/contracts.ts): runs of renewals and the sBG fits, staged before the transaction.
  // A source holds transactions only: its run has no contract part. Contracts in the store are
  // left out, and the run says so (exit 0; a run without --source scores them).
  const contracts = source ? null : await prepareContracts({ store, asOf, holdoutEnd: options.holdoutEnd, settings, progress, timed });
  if (source) {
    const periods = (await store.value<number>('SELECT CAST(count(*) AS INTEGER) FROM contracts WHERE period_start <= CAST($as_of AS DATE)', { as_of: asOf })) ?? 0;
    if (periods > 0) {
      input.reporter.warn(`the store's ${periods.toLocaleString('en-US')} contract periods are not in this run: a run from ${source.label} scores that source's transactions only (no contract_metrics, renewal probabilities or contract values; value tiers rank purchases alone). Run crm run without --source for the contract part.`);
    }
  }
  const unitDays = UNIT_DAYS[settings.time_unit];
  const horizonUnits = (settings.horizon_months * DAYS_PER_YEAR) / 12 / unitDays;
  return { asOf, contracts, unitDays, horizonUnits };
}

/** The source's last date (the default as-of), as the store's lastDataDate says it for transactions. */
async function sourceDataEnd(source: RunSource, hasCost: boolean): Promise<DataEnd | null> {
  const { lastDate } = await sourceExtent(source, hasCost, null);
  return lastDate ? { date: lastDate, described: LAST_TRANSACTION_DATE, detail: null, contracts: false } : null;
}
