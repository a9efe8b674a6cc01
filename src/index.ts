/**
 * salient: attribution maps for image models on an autodiff engine of its own.
 *
 * This root entry is platform neutral (Node, Deno, browsers). File paths, PNG/JPEG files and the
 * UpscalerJS packages are in "salient/node"; the WebGPU backend is in "salient/webgpu".
 */

// ---- Engine: tensors, gradients, memory, backends ----
export {
  getBackend,
  registerBackend,
  setBackend,
  toBackend,
  withBackend,
} from "./autodiff/backends.ts";
export { type EngineContext, type EngineOptions, engineContext } from "./autodiff/context.ts";
export { customGrad } from "./autodiff/custom-grad.ts";
export { setFlags } from "./autodiff/flags.ts";
export { grad, grads, valueAndGrad, valueAndGrads, variableGrads, vjp } from "./autodiff/grad.ts";
export { type RuleCoverage, type RuleSet, withRules } from "./autodiff/rule-set.ts";
export { Tensor, Variable } from "./autodiff/tensor.ts";
export { dispose, keep, memory, type PeakBytes, tidy, trackPeakBytes } from "./autodiff/tidy.ts";
export type { Backend } from "./kernels/backend.ts";
export { CpuBackend } from "./kernels/cpu/cpu-backend.ts";
// ---- Ops (differentiable) ----
export { prelu } from "./ops/activations.ts";
export {
  add,
  div,
  equal,
  greater,
  greaterEqual,
  less,
  lessEqual,
  maximum,
  minimum,
  mul,
  mulStep,
  pow,
  sub,
  type TensorLike,
} from "./ops/binary.ts";
export {
  type BlurBorder,
  depthwiseFilter2d,
  gaussianFilter,
  lamGaussianBlur,
  lamGaussianKernel2d,
} from "./ops/blur.ts";
export { broadcastTo } from "./ops/broadcast.ts";
export { cast } from "./ops/cast.ts";
export { concat, stack } from "./ops/concat.ts";
export {
  type Conv2dOptions,
  type Conv2dTransposeOptions,
  conv2d,
  conv2dTranspose,
  convInputGrad,
  type Padding,
} from "./ops/conv.ts";
export {
  arange,
  fill,
  fillLike,
  ones,
  onesLike,
  type RandomOptions,
  randomNormal,
  randomUniform,
  scalar,
  tensor,
  zeros,
  zerosLike,
} from "./ops/creation.ts";
export { dropout } from "./ops/dropout.ts";
export { gather, scatterAdd } from "./ops/gather.ts";
export { mapAxis } from "./ops/map-axis.ts";
export { linear, matmul } from "./ops/matmul.ts";
export { type BatchNormParams, batchNorm, batchNormTrain, layerNorm } from "./ops/norm.ts";
export { pad, pad2d } from "./ops/pad.ts";
export {
  interleave,
  pixelShuffle,
  pixelUnshuffle,
  type ShuffleOrder,
} from "./ops/pixel-shuffle.ts";
export {
  adaptiveAvgPool2d,
  avgPool2d,
  globalAvgPool2d,
  maxPool2d,
  type Pool2dOptions,
} from "./ops/pool.ts";
export { argMax, logSumExp, max, mean, min, sum, variance } from "./ops/reduce.ts";
export { expandDims, flatten, reshape, squeeze } from "./ops/reshape.ts";
export { type ResizeMode, type ResizeOptions, resize, upsample } from "./ops/resize.ts";
export { where } from "./ops/select.ts";
export { reverse, slice, split } from "./ops/slice.ts";
export { logSoftmax, softmax } from "./ops/softmax.ts";
export { permute, transpose } from "./ops/transpose.ts";
export {
  abs,
  clamp,
  cos,
  erf,
  exp,
  floor,
  gelu,
  isnan,
  leakyRelu,
  log,
  log1p,
  neg,
  reciprocal,
  relu,
  rsqrt,
  sigmoid,
  sign,
  sin,
  softplus,
  sqrt,
  square,
  step,
  tanh,
} from "./ops/unary.ts";
export { nearestUpsampleConv2d } from "./ops/upsample-conv.ts";
export { Random } from "./random.ts";
export { type CoverageTable, coverageTable } from "./rules/coverage-table.ts";
export { deepLiftRules } from "./rules/deeplift.ts";
// ---- Gradient rule sets (for withRules) ----
export {
  LRP_COMPOSITES,
  type LrpComposite,
  type LrpRuleOptions,
  lrpAlphaBetaRules,
  lrpCompositeRules,
  lrpEpsilonRules,
  lrpFlatRules,
  lrpGammaRules,
  lrpWSquareRules,
  lrpZPlusRules,
} from "./rules/lrp.ts";
export { deconvnetRules, gradientRules, guidedBackpropRules } from "./rules/relu-rules.ts";

import { deepLiftRules } from "./rules/deeplift.ts";
import { lrpEpsilonRules, lrpZPlusRules } from "./rules/lrp.ts";
import { deconvnetRules, gradientRules, guidedBackpropRules } from "./rules/relu-rules.ts";

/** The built-in gradient-rule sets, for withRules(rules.guidedBackprop, () => ...). */
export const rules = {
  gradient: gradientRules,
  guidedBackprop: guidedBackpropRules,
  deconvnet: deconvnetRules,
  /** LRP-epsilon rules: `rules.lrpEpsilon(epsilon)` (default 1e-6) gives the rule set. */
  lrpEpsilon: lrpEpsilonRules,
  /** LRP z+ rules: `rules.lrpZPlus()` gives the rule set. */
  lrpZPlus: lrpZPlusRules,
  /** DeepLIFT Rescale rules for a batch [inputs; references]: `rules.deepLift()` (see deepLift). */
  deepLift: deepLiftRules,
};

// ---- Attribution methods, their building blocks and the method registry ----
export { type BaselineSpec, DEFAULT_BLUR_SIGMA, makeBaseline } from "./attribution/baselines.ts";
// ---- NN-Explainer: a trained explainer network for a multi-label classifier ----
export {
  BUNDLED_EXPLAINERS,
  type ExplainerPair,
  loadExplainerPair,
} from "./attribution/explainer/bundled.ts";
export {
  type ClassMaskCase,
  type ClassSpecificity,
  classSpecificity,
  explainerCanvasCases,
} from "./attribution/explainer/class-specificity.ts";
export {
  aggregateEvaluations,
  type ClassMapMethod,
  type EvaluationOptions,
  type EvaluationRow,
  evaluateImage,
  evaluateMethod,
  type ImageEvaluation,
  type ImageEvaluationOptions,
} from "./attribution/explainer/evaluate.ts";
export {
  classMasks,
  combineMasks,
  type Explanation,
  explainImage,
} from "./attribution/explainer/explain.ts";
export {
  EXPLAINER_LOSS_DEFAULTS,
  type ExplainerLossOptions,
  type ExplainerLossTerms,
  explainerLoss,
  explainerMasks,
} from "./attribution/explainer/loss.ts";
export {
  COMPARISON_DEFAULTS,
  comparisonMethods,
  explainerMethod,
  riseAllClasses,
} from "./attribution/explainer/methods.ts";
export {
  type MultiLabelScores,
  multiLabelScores,
  saliencyMetric,
} from "./attribution/explainer/metrics.ts";
// ---- LAM: local attribution maps for super-resolution networks ----
export { type Detector, gradientMagnitude, intensity } from "./attribution/lam/detectors.ts";
export { countSaliencyPixels, diffusionIndex, gini } from "./attribution/lam/gini.ts";
export {
  type LamCrop,
  type LamImages,
  lamCrop,
  lamImagesFromHr,
  type SrOutputProblem,
  srOutputProblem,
} from "./attribution/lam/input.ts";
export { weightedKde } from "./attribution/lam/kde.ts";
export {
  LAM_DEFAULTS,
  type LamOptions,
  type LamResult,
  lam,
  type SrModel,
} from "./attribution/lam/lam.ts";
export { gradAbsNorm } from "./attribution/lam/normalize.ts";
export {
  type LamPathKind,
  type LamPathOptions,
  lamSamples,
  progressiveBlurPath,
} from "./attribution/lam/paths.ts";
export type { LamWindow } from "./attribution/lam/window.ts";
export { type LayerGradient, layerGradient } from "./attribution/layer-gradient.ts";
export * from "./attribution/localisation/index.ts";
export {
  type BlurIgDetails,
  type BlurIgOptions,
  blurIg,
  blurIgSigmas,
} from "./attribution/methods/blur-ig.ts";
export {
  ablationCam,
  eigenCam,
  type PerturbationCamOptions,
  type PerturbationCamVariant,
  perturbationCam,
  scoreCam,
} from "./attribution/methods/cam-family.ts";
export {
  type ClassModelDetails,
  type ClassModelOptions,
  classModelVisualization,
} from "./attribution/methods/class-model.ts";
export {
  type DeepLiftDetails,
  type DeepLiftOptions,
  type DeepLiftShapOptions,
  deepLift,
  deepLiftShap,
} from "./attribution/methods/deeplift.ts";
// ---- Optimised masks and localisation from saliency ----
export {
  type ExtremalPerturbationDetails,
  type ExtremalPerturbationOptions,
  type ExtremalVariant,
  extremalPerturbation,
} from "./attribution/methods/extremal-perturbation.ts";
export {
  type FeatureAblationDetails,
  type FeatureAblationOptions,
  featureAblation,
} from "./attribution/methods/feature-ablation.ts";
export {
  type BiasLayer,
  type FullGradDetails,
  type FullGradOptions,
  fullGrad,
  fullGradBiases,
} from "./attribution/methods/fullgrad.ts";
export {
  type CamDetails,
  type CamOptions,
  type CamVariant,
  camMethod,
  gradCam,
  gradCamPlusPlus,
  hiResCam,
  layerCam,
  xGradCam,
} from "./attribution/methods/grad-cam.ts";
export {
  type GradientDetails,
  type GradientOptions,
  gradient,
  saliency,
} from "./attribution/methods/gradient.ts";
export {
  type GradientShapDetails,
  type GradientShapOptions,
  gradientShap,
} from "./attribution/methods/gradient-shap.ts";
export { deconvnet, guidedBackprop } from "./attribution/methods/guided-backprop.ts";
export { guidedGradCam } from "./attribution/methods/guided-grad-cam.ts";
export {
  type GuidedIgDetails,
  type GuidedIgOptions,
  guidedIg,
} from "./attribution/methods/guided-ig.ts";
export {
  type IgosDetails,
  type IgosOptions,
  iGos,
  igos,
} from "./attribution/methods/igos.ts";
export { inputXGradient } from "./attribution/methods/input-x-gradient.ts";
export {
  type IntegratedGradientsDetails,
  type IntegratedGradientsOptions,
  integratedGradients,
} from "./attribution/methods/integrated-gradients.ts";
export {
  type KernelShapDetails,
  type KernelShapOptions,
  kernelShap,
} from "./attribution/methods/kernel-shap.ts";
export { type LimeDetails, type LimeOptions, lime } from "./attribution/methods/lime.ts";
export { type LrpDetails, type LrpOptions, lrp } from "./attribution/methods/lrp.ts";
export {
  type MeaningfulPerturbationDetails,
  type MeaningfulPerturbationOptions,
  meaningfulPerturbation,
} from "./attribution/methods/meaningful-perturbation.ts";
export {
  leaveOneOut,
  type OcclusionDetails,
  type OcclusionOptions,
  occlusion,
} from "./attribution/methods/occlusion.ts";
export { type RiseDetails, type RiseOptions, rise, riseMasks } from "./attribution/methods/rise.ts";
export {
  type NoiseVariant,
  type SmoothGradDetails,
  type SmoothGradOptions,
  smoothGrad,
} from "./attribution/methods/smooth-grad.ts";
export {
  type TokenLayout,
  tokenLayout,
  tokensToGrid,
} from "./attribution/methods/token-grid.ts";
export {
  type XraiDetails,
  type XraiOptions,
  type XraiRankOptions,
  xrai,
  xraiRank,
} from "./attribution/methods/xrai.ts";
// ---- Attribution metrics ----
export * from "./attribution/metrics/index.ts";
export {
  choiceFlag,
  intFlag,
  type NumberRule,
  numberFlag,
  UsageError,
} from "./attribution/option-values.ts";
export {
  type IntegrateOptions,
  integratePath,
  type PathIntegral,
} from "./attribution/path/integrate.ts";
export { type BlurPathOptions, blurPath, linearPath, type Path } from "./attribution/path/path.ts";
export {
  gaussLegendre,
  QUADRATURE_RULES,
  type Quadrature,
  type QuadratureRule,
  quadrature,
} from "./attribution/path/quadrature.ts";
export { PRESETS, type Preset, type PresetName, preset } from "./attribution/presets.ts";
// The method registry: every method by name with its options as data (what `salient attribute`,
// `salient methods` and the explorer run).
export {
  checkMethodOptions,
  METHODS,
  type MethodContext,
  type MethodEntry,
  type MethodOption,
  optionText,
} from "./attribution/registry.ts";
export {
  type FelzenszwalbOptions,
  felzenszwalbSegments,
} from "./attribution/segments/felzenszwalb.ts";
export { gridSegments } from "./attribution/segments/grid.ts";
export { type SlicOptions, slicSegments } from "./attribution/segments/slic.ts";
export { type XraiRegionOptions, xraiRegions } from "./attribution/segments/xrai-regions.ts";
export {
  type CemOptions,
  type CemRegion,
  type CemResult,
  causalEffectMap,
  strongestBlocks,
} from "./attribution/sr/cem.ts";
export { deepFeatures, defaultFeatureLayer, poolCells } from "./attribution/sr/deep-features.ts";
export {
  contrastScores,
  type FaigOptions,
  type FaigResult,
  type FaigSample,
  type FilterScore,
  faig,
  maskEffects,
  maskFilters,
  rankFilters,
} from "./attribution/sr/faig.ts";
export { type Mggd, mggdKl, mggdLogDensity, sampleMggd } from "./attribution/sr/mggd.ts";
export { fitMggd, type MggdFit, type MggdFitOptions } from "./attribution/sr/mggd-fit.ts";
export {
  fitGgd,
  type Ggd,
  ggdKl,
  pca,
  projectRows,
  type SrgaModel,
  type SrgaResult,
  srga,
} from "./attribution/sr/srga.ts";
export {
  conditionalProbabilities,
  nearestNeighbourAgreement,
  squaredDistances,
  type TsneOptions,
  trustworthiness,
  tsne,
} from "./attribution/sr/tsne.ts";
export { targetScores } from "./attribution/target.ts";
export type {
  Attribution,
  AttributionMethod,
  BatchOptions,
  Model,
  Target,
  TargetFn,
} from "./attribution/types.ts";
// ---- Models: layers, the SR zoo, classifiers, bundled weights, training ----
export {
  FASHION_CLASSES,
  fashionCnnAccuracy,
  fashionCnnWeights,
  loadFashionCnn,
} from "./models/classifiers/fashion-cnn.ts";
export {
  MultiLabelCnn,
  type MultiLabelCnnConfig,
  multiLabelCnnFrom,
} from "./models/classifiers/multi-label-cnn.ts";
export { ResNet, type ResNetConfig } from "./models/classifiers/resnet.ts";
export { SmallCnn } from "./models/classifiers/small-cnn.ts";
export { type VggConfig, VggNet } from "./models/classifiers/vgg.ts";
export {
  type MultiFashionOptions,
  type MultiFashionSample,
  multiFashionBatch,
  multiFashionSample,
  type SourcePool,
  sourcePool,
} from "./models/data/multi-fashion.ts";
// ---- Browser images and models from URLs (platform neutral) ----
export * from "./models/io/fetch-model.ts";
export {
  defaultCamLayer,
  type LayerInfo,
  type LayerName,
  layerNames,
  listLayers,
} from "./models/io/layer-list.ts";
// ---- Model loading from bytes (ONNX, PyTorch, safetensors, tfjs) ----
export {
  type LoadIntoOptions,
  type LoadReport,
  loadWeights,
  loadWeightsIntoModule,
  sniffWeightFormat,
  type WeightFormat,
} from "./models/io/load-weights.ts";
export { OnnxUnsupportedError } from "./models/io/onnx/errors.ts";
export {
  loadOnnx,
  type OnnxLayerName,
  OnnxModel,
  readOnnxInitializers,
  unsupportedOps as unsupportedOnnxOps,
} from "./models/io/onnx/model.ts";
export { type PytorchOptions, readPytorchCheckpoint } from "./models/io/pytorch/checkpoint.ts";
export { readSafetensors, writeSafetensors } from "./models/io/safetensors.ts";
export { readTfjsWeights } from "./models/io/tfjs/weights.ts";
export { loadTfjsLayersModel, TfjsLayersModel } from "./models/io/tfjs-layers.ts";
export type { WeightEntry, WeightMap } from "./models/io/weights.ts";
export * from "./models/nn/index.ts";
export {
  ARCHITECTURES,
  type Architecture,
  BUNDLED_MODELS,
  type BundledModel,
  createArchitecture,
  loadBundledClassifier,
} from "./models/registry.ts";
export { type Tiled, type TileOptions, upscaleTiled } from "./models/sr/tiled.ts";
export { imageInputChannels, rgbSr, yChannelSr } from "./models/sr/y-channel.ts";
export {
  type CheckpointStore,
  memoryCheckpointStore,
} from "./models/train/explainer-checkpoint.ts";
export {
  accuracy,
  type FitOptions,
  fitClassifier,
  imageBatch,
} from "./models/train/fit-classifier.ts";
export { evaluateMultiLabel, fitMultiLabel } from "./models/train/fit-multi-label.ts";
export { bceWithLogits, crossEntropy, l1, mse, oneHot } from "./models/train/losses.ts";
export { Adam, type Optimizer, SGD } from "./models/train/optim.ts";
export { cosineSchedule, type Schedule, stepSchedule } from "./models/train/schedule.ts";
export { downscale, modcrop, psnr, randomPatches, rgbToY } from "./models/train/sr-data.ts";
export {
  type TrainExplainerOptions,
  type TrainExplainerResult,
  trainExplainer,
} from "./models/train/train-explainer.ts";
export {
  ExplainerNet,
  type ExplainerNetConfig,
  explainerNetFrom,
} from "./models/unet/explainer-net.ts";
export { fsrcnnX2Weights, loadFsrcnnX2 } from "./models/zoo/fsrcnn-pretrained.ts";
export { fsrcnnRgb, rgbToYcbcr, ycbcrToRgb } from "./models/zoo/fsrcnn-rgb.ts";
export * from "./models/zoo/index.ts";
export * from "./viz/browser-image.ts";
// ---- Visualisation (platform neutral) ----
export * from "./viz/index.ts";
export {
  drawWindow,
  type LamPanels,
  type LamPanelsInput,
  lamPanels,
} from "./viz/lam-panels.ts";
export { type ScatterPoint, scatterSvg } from "./viz/scatter-svg.ts";
