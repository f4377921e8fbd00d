/**
 * The run's reports of its models as `crm run` returns them and runs records them (runs.bgnbd,
 * runs.gamma_gamma): the BG/NBD's parameters (null where its limit has none) and the Gamma-Gamma's.
 */
import { meanPurchaseRate, type PurchaseModelFit } from '../../models/bgnbd-limits.js';
import type { GammaGammaFit } from '../../models/gamma-gamma.js';
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

export function describeGamma(fit: GammaGammaFit, excluded: number): NonNullable<ModelReport['gamma_gamma']> {
  return {
    ...fit.params,
    log_likelihood: fit.logLikelihood,
    converged: fit.converged && fit.finiteMean,
    standard_errors: fit.standardErrors,
    customers: fit.customers,
    excluded_non_positive: excluded,
    message: fit.message,
  };
}
