/** Attribution methods, the shared path-quadrature module, segmentations and metrics. */
export { type BaselineSpec, DEFAULT_BLUR_SIGMA, makeBaseline } from "./baselines.ts";
export { chunks, rowsPerCall } from "./batching.ts";
export { evalScores, scoresAndGrad } from "./evaluate.ts";
export { type LayerGradient, layerGradient } from "./layer-gradient.ts";
export { type BlurIgDetails, type BlurIgOptions, blurIg, blurIgSigmas } from "./methods/blur-ig.ts";
export {
  type ClassModelDetails,
  type ClassModelOptions,
  classModelVisualization,
} from "./methods/class-model.ts";
export {
  type DeepLiftDetails,
  type DeepLiftOptions,
  type DeepLiftShapOptions,
  deepLift,
  deepLiftShap,
} from "./methods/deeplift.ts";
export {
  type FeatureAblationDetails,
  type FeatureAblationOptions,
  featureAblation,
} from "./methods/feature-ablation.ts";
export {
  type CamDetails,
  type CamOptions,
  type CamVariant,
  camMethod,
  GRADCAM_PP_EPS,
  gradCam,
  gradCamPlusPlus,
  hiResCam,
  layerCam,
} from "./methods/grad-cam.ts";
export {
  type GradientDetails,
  type GradientOptions,
  gradient,
  saliency,
} from "./methods/gradient.ts";
export { deconvnet, guidedBackprop } from "./methods/guided-backprop.ts";
export { guidedGradCam } from "./methods/guided-grad-cam.ts";
export { inputXGradient } from "./methods/input-x-gradient.ts";
export {
  type IntegratedGradientsDetails,
  type IntegratedGradientsOptions,
  integratedGradients,
} from "./methods/integrated-gradients.ts";
export { type LrpDetails, type LrpOptions, lrp } from "./methods/lrp.ts";
export {
  leaveOneOut,
  type OcclusionDetails,
  type OcclusionOptions,
  occlusion,
} from "./methods/occlusion.ts";
export { type RiseDetails, type RiseOptions, rise, riseMasks } from "./methods/rise.ts";
export {
  type NoiseVariant,
  type SmoothGradDetails,
  type SmoothGradOptions,
  smoothGrad,
} from "./methods/smooth-grad.ts";
export * from "./metrics/index.ts";
export { type IntegrateOptions, integratePath, type PathIntegral } from "./path/integrate.ts";
export { type BlurPathOptions, blurPath, linearPath, type Path } from "./path/path.ts";
export {
  gaussLegendre,
  QUADRATURE_RULES,
  type Quadrature,
  type QuadratureRule,
  quadrature,
} from "./path/quadrature.ts";
export {
  type PathSamples,
  quadratureSamples,
  type StieltjesOptions,
  stieltjesSamples,
} from "./path/samples.ts";
export { type Fill, maskedBatch, perturbedScores } from "./perturb.ts";
export { PRESETS, type Preset, type PresetName, preset } from "./presets.ts";
export { gridSegments } from "./segments/grid.ts";
export { enforceConnectivity, rgbToLab, type SlicOptions, slicSegments } from "./segments/slic.ts";
export { probabilityOf, targetScores, validateTarget } from "./target.ts";
export type {
  Attribution,
  AttributionMethod,
  BatchOptions,
  Model,
  Target,
  TargetFn,
} from "./types.ts";
