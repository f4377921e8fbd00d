/**
 * Statistical models of crm-analytics (pure TypeScript, no I/O): BG/NBD purchase/dropout
 * model, Gamma-Gamma spend model, discounted CLV, and their numerical building blocks.
 * See docs/models.md for the models, inputs, outputs and formulas.
 */

export {
  type BgNbdFit,
  type BgNbdFitOptions,
  type BgNbdFitTimings,
  type BgNbdParams,
  type BgNbdPrediction,
  type BgNbdStart,
  bgnbdLogLikelihood,
  bgnbdLogLikelihoodGradient,
  conditionalExpectedPurchases,
  expectedPurchases,
  expectedPurchasesIfAlive,
  fitBgNbd,
  pAlive,
  pAliveAll,
  predictBgNbd,
  probabilityOfNPurchases,
} from './bgnbd.js';
export {
  type ClvOptions,
  type DiscountSchedule,
  customerLifetimeValue,
  discountSchedule,
  discountedExpectedPurchases,
  discountedExpectedPurchasesAll,
} from './clv.js';
export {
  type GammaGammaFit,
  type GammaGammaFitOptions,
  type GammaGammaParams,
  type GammaGammaStart,
  type SpendSummary,
  conditionalExpectedValue,
  conditionalExpectedValues,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  populationMeanValue,
  validateSpendSummary,
} from './gamma-gamma.js';
export {
  type MinimizeOptions,
  type MinimizeResult,
  type ObjectiveWithGradient,
  invertSymmetric,
  minimizeBfgs,
  numericHessian,
} from './optimize.js';
export { Rng, createRng } from './random.js';
export {
  type DistinctGroups,
  type RfmSummary,
  type WeightedSample,
  compressRfm,
  groupDistinct,
  groupIntegers,
  groupPairs,
  pickRows,
  validateRfmSummary,
  weightedSubsample,
} from './rfm-data.js';
export {
  type SimulatedRfm,
  type SimulatedSpend,
  type SimulationWindow,
  simulateBgNbd,
  simulateGammaGamma,
} from './simulate.js';
export { digamma, exprel, hypergeometricTailSum, lgamma, log1pexp, log2F1, logSumExp2 } from './special.js';
