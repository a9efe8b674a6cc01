/** salient: attribution maps for image models on an autodiff engine of its own. */
export {
  getBackend,
  registerBackend,
  setBackend,
  toBackend,
  withBackend,
} from "./autodiff/backends.ts";
export { customGrad } from "./autodiff/custom-grad.ts";
export { setFlags } from "./autodiff/flags.ts";
export { grad, grads, valueAndGrad, valueAndGrads, variableGrads, vjp } from "./autodiff/grad.ts";
export { type RuleSet, withRules } from "./autodiff/rule-set.ts";
export { Tensor, Variable } from "./autodiff/tensor.ts";
export { dispose, keep, memory, tidy, trackPeakBytes } from "./autodiff/tidy.ts";
export type { Backend } from "./kernels/backend.ts";
export { CpuBackend } from "./kernels/cpu/cpu-backend.ts";
export * from "./ops/index.ts";
export { Random } from "./random.ts";
export { lrpEpsilonRules, lrpZPlusRules } from "./rules/lrp.ts";
export { deconvnetRules, gradientRules, guidedBackpropRules } from "./rules/relu-rules.ts";

import { lrpEpsilonRules, lrpZPlusRules } from "./rules/lrp.ts";
import { deconvnetRules, gradientRules, guidedBackpropRules } from "./rules/relu-rules.ts";

/** The built-in gradient-rule sets, for withRules(rules.guidedBackprop, () => ...). */
export const rules = {
  gradient: gradientRules,
  guidedBackprop: guidedBackpropRules,
  deconvnet: deconvnetRules,
  lrpEpsilon: lrpEpsilonRules,
  lrpZPlus: lrpZPlusRules,
};
// NN-Explainer (issue 6) and its multi-object Fashion-MNIST canvases.
export * from "./attribution/explainer/index.ts";
// Attribution methods, path quadrature, metrics (issue 5) and platform-neutral visualisation.
export * from "./attribution/index.ts";
export { createWebGPUBackend, WebGPUBackend } from "./kernels/webgpu/index.ts";
export {
  FASHION_CLASSES,
  fashionCnnAccuracy,
  fashionCnnWeights,
  loadFashionCnn,
} from "./models/classifiers/fashion-cnn.ts";
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
export {
  type LoadIntoOptions,
  type LoadReport,
  loadWeights,
  loadWeightsIntoModule,
  sniffWeightFormat,
  type WeightFormat,
} from "./models/io/load-weights.ts";
export { OnnxUnsupportedError } from "./models/io/onnx/errors.ts";
export { HostArray } from "./models/io/onnx/host.ts";
export {
  loadOnnx,
  OnnxModel,
  readOnnxInitializers,
  unsupportedOps as unsupportedOnnxOps,
} from "./models/io/onnx/model.ts";
export { type PytorchOptions, readPytorchCheckpoint } from "./models/io/pytorch/checkpoint.ts";
export { readSafetensors, writeSafetensors } from "./models/io/safetensors.ts";
export { kerasConvStateDict } from "./models/io/tfjs/keras-kernels.ts";
export { readTfjsWeights } from "./models/io/tfjs/weights.ts";
export { loadTfjsLayersModel, TfjsLayersModel } from "./models/io/tfjs-layers.ts";
export type { WeightEntry, WeightMap } from "./models/io/weights.ts";
// Models (issue 4): nn layers, the SR zoo, classifiers, tfjs layers-model import, training.
export * from "./models/nn/index.ts";
export {
  ARCHITECTURES,
  BUNDLED_MODELS,
  createArchitecture,
  loadBundledClassifier,
} from "./models/registry.ts";
export { batchesPerEpoch, permutation, shuffledBatches } from "./models/train/data-loader.ts";
export {
  accuracy,
  type FitOptions,
  fitClassifier,
  imageBatch,
} from "./models/train/fit-classifier.ts";
export { bceWithLogits, crossEntropy, l1, mse, oneHot } from "./models/train/losses.ts";
export { Adam, type Optimizer, SGD } from "./models/train/optim.ts";
export { cosineSchedule, type Schedule, stepSchedule } from "./models/train/schedule.ts";
export { downscale, modcrop, psnr, randomPatches, rgbToY } from "./models/train/sr-data.ts";
export * from "./models/zoo/index.ts";
export * from "./viz/index.ts";
