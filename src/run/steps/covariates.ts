/**
 * The `covariates` step of `crm run` (--covariates; run/covariates.ts): the model used, refitted with
 * covariates; when that fit converges its predictions replace the predict step's (same columns), the
 * customers keyed by cell. The intervals and the stored projection describe the model without
 * covariates: a run whose customers carry the covariate model's predictions has neither.
 */
import { PURCHASE_MODEL_NAMES } from '../../models/purchase-models.js';
import type { Store } from '../../store/db.js';
import { runCovariateStep, type CovariatesReport } from '../covariates.js';
import type { RunOptions } from '../settings.js';
import { describeBgNbd } from './describe.js';
import type { PurchaseFits, UsedModels } from './fit.js';
import type { IntervalModel, Predicted } from './predict.js';
import { DAYS_PER_YEAR, daysBetween, type StepTools } from './tools.js';

export interface CovariatesInput {
  options: RunOptions;
  asOf: string;
  unitDays: number;
  horizonUnits: number;
  fits: Pick<PurchaseFits, 'bgnbd' | 'chosen'>;
  model: UsedModels['model'];
}

/** null without --covariates, or when no continuous-time model is used. */
export async function covariatesStep(store: Store, input: CovariatesInput, { progress, timed }: StepTools): Promise<CovariatesReport | null> {
  const { options, asOf, unitDays, horizonUnits, model } = input;
  const { settings } = options;
  const { chosen, bgnbd } = input.fits;
  if (!(model && options.covariates.length > 0)) return null;
  const base = chosen ? chosen.report : describeBgNbd(bgnbd!);
  const unrestricted = chosen ? null : (bgnbd!.model?.boundary ? bgnbd!.full.params : null);
  return progress.step(`fitting ${PURCHASE_MODEL_NAMES[model.key]} with covariates ${options.covariates.join(', ')}`, () =>
    timed('covariates', () =>
      runCovariateStep({
        store,
        names: options.covariates,
        model: model.key,
        baseParams: { ...(base as unknown as Record<string, number>), ...(unrestricted ?? {}) },
        baseLogLikelihood: base.log_likelihood,
        asOf,
        unitDays,
        horizonUnits,
        holdoutUnits: options.holdoutEnd ? daysBetween(asOf, options.holdoutEnd) / unitDays : null,
        clv: { horizon: horizonUnits, unitsPerYear: DAYS_PER_YEAR / unitDays, annualDiscountRate: settings.discount_rate },
        tiers: { tier_basis: settings.churn_tiers.basis, high: settings.churn_tiers.high, medium: settings.churn_tiers.medium },
      }),
    ),
  );
}

/** The model whose intervals the customer rows carry (z not NULL), if any: none when the covariate model scored them. */
export function intervalModelOf(predicted: Pick<Predicted, 'uncertainty' | 'bgbbUncertainty'>, covariates: CovariatesReport | null): IntervalModel | null {
  const uncertainty = covariates?.used ? null : predicted.uncertainty;
  return uncertainty ?? predicted.bgbbUncertainty;
}
