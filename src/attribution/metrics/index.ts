/** Metrics for attribution maps. */
export {
  curveAuc,
  type DeletionOptions,
  type DeletionResult,
  deletionAuc,
  insertionAuc,
} from "./deletion.ts";
export {
  gaussianPerturbation,
  type InfidelityOptions,
  infidelity,
  type Perturbation,
} from "./infidelity.ts";
export { type LocalisationOptions, type LocalisationResult, localisation } from "./localisation.ts";
export { pixelSaliency, rankPixels } from "./pixel-saliency.ts";
export { type PointingResult, pointingGame } from "./pointing-game.ts";
export {
  modelRandomisation,
  type RandomisationOptions,
  type RandomisationResult,
  type RandomisationStep,
} from "./randomisation.ts";
export { pearson, ranks, spearman } from "./rank-correlation.ts";
export { noisyLinearImpute, type RoadOptions, type RoadResult, road } from "./road.ts";
export { type Explainer, maxSensitivity, type SensitivityOptions } from "./sensitivity.ts";
