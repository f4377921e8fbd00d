/**
 * The run's reports of its models as `crm run` returns them and runs records them (runs.bgnbd,
 * runs.gamma_gamma): the BG/NBD's parameters (null where its limit has none) and the Gamma-Gamma's.
 */
import { meanPurchaseRate, type PurchaseModelFit } from '../../models/bgnbd-limits.js';
import { spendModelPopulationMean, type SpendModelFit } from '../../models/gamma-gamma-limits.js';
import type { LimitParam, ModelReport } from '../result.js';

/** runs.bgnbd: the fitted model's parameters (null where its limit has none), or the failed fit's. */
export function describeBgNbd(fit: PurchaseModelFit): NonNullable<ModelReport['bgnbd']> {
  const model = fit.model;
  const params: Record<string, number> = model ? { ...model.params } : { ...fit.full.params };
  const param = (name: string): LimitParam => params[name] ?? null;
  return {
    boundary: model?.boundary ?? null,
    r: param('r'),
    alpha: param('alpha'),
    a: param('a'),
    b: param('b'),
    p: param('p'),
    rate: model ? meanPurchaseRate(model) : fit.full.params.r / fit.full.params.alpha,
    log_likelihood: fit.logLikelihood,
    converged: fit.converged,
    standard_errors: model ? fit.standardErrors : fit.full.standardErrors ? { ...fit.full.standardErrors } : null,
    customers: fit.customers,
    triples: fit.rows,
    iterations: fit.iterations,
    message: fit.message,
    ...(model?.boundary ? { unrestricted: { ...fit.full.params, log_likelihood: fit.full.logLikelihood } } : {}),
  };
}

/** runs.gamma_gamma: the spend model's parameters and which model scored spend (boundary, spend_model). */
export function describeGamma(fit: SpendModelFit, excluded: number): NonNullable<ModelReport['gamma_gamma']> {
  const model = fit.model;
  const common = { customers: fit.full.customers, excluded_non_positive: excluded, message: fit.message };
  if (model?.boundary === 'homogeneous_spend') {
    return {
      p: model.params.p,
      q: null,
      v: null,
      log_likelihood: fit.logLikelihood,
      converged: true,
      standard_errors: fit.limit!.standardErrors ? { ...fit.limit!.standardErrors } : null,
      ...common,
      boundary: 'homogeneous_spend',
      spend_model: 'homogeneous_spend',
      nu: model.params.nu,
      population_mean: spendModelPopulationMean(model),
      unrestricted: { ...fit.full.params, log_likelihood: fit.fullLogLikelihood },
    };
  }
  const full = fit.full;
  return {
    ...full.params,
    log_likelihood: full.logLikelihood,
    converged: model !== null,
    standard_errors: full.standardErrors ? { ...full.standardErrors } : null,
    ...common,
    boundary: null,
    spend_model: model !== null ? 'gamma_gamma' : 'own_mean',
  };
}
