/** Metrics for attribution maps. */

export {
  type CompletenessOptions,
  type CompletenessResult,
  completeness,
  type InputInvarianceResult,
  inputInvariance,
  type ModelExplainer,
  type NonSensitivityOptions,
  nonSensitivity,
} from "./axiomatic.ts";
export { complexity, effectiveComplexity, sparseness } from "./complexity.ts";
export {
  curveAuc,
  type DeletionOptions,
  type DeletionResult,
  deletionAuc,
  insertionAuc,
} from "./deletion.ts";
export {
  faithfulnessCorrelation,
  faithfulnessEstimate,
  type MonotonicityResult,
  monotonicityArya,
  monotonicityCorrelation,
  type PerturbationOptions,
  type StepOptions,
  sensitivityN,
} from "./faithfulness.ts";
export {
  type CurveResult,
  type IrofOptions,
  irof,
  pixelFlipping,
  regionPerturbation,
  selectivity,
} from "./faithfulness-curves.ts";
export {
  gaussianPerturbation,
  type InfidelityOptions,
  infidelity,
  type Perturbation,
} from "./infidelity.ts";
export { type LocalisationOptions, type LocalisationResult, localisation } from "./localisation.ts";
export {
  attributionLocalisation,
  localisationAuc,
  relevanceMassAccuracy,
  relevanceRankAccuracy,
  topKIntersection,
} from "./localisation-quantus.ts";
export { pixelSaliency, rankPixels } from "./pixel-saliency.ts";
export { type PointingResult, pointingGame } from "./pointing-game.ts";
export { type Baseline, normaliseMaxAbs } from "./quantus-common.ts";
export {
  modelRandomisation,
  type RandomisationOptions,
  type RandomisationResult,
  type RandomisationStep,
} from "./randomisation.ts";
export {
  type ClassExplainer,
  discreteEntropy,
  type EfficientMprtResult,
  efficientMprt,
  randomLogit,
  type SmoothMprtOptions,
  smoothedExplanation,
  smoothMprt,
  ssim,
} from "./randomisation-extra.ts";
export { pearson, ranks, spearman } from "./rank-correlation.ts";
export { noisyLinearImpute, type RoadOptions, type RoadResult, road } from "./road.ts";
export {
  avgSensitivity,
  type ContinuityOptions,
  type ContinuityResult,
  continuity,
  localLipschitzEstimate,
  type RobustnessOptions,
} from "./robustness.ts";
export { type Explainer, maxSensitivity, type SensitivityOptions } from "./sensitivity.ts";
