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
export { dispose, keep, memory, tidy } from "./autodiff/tidy.ts";
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
export type { WeightEntry, WeightMap } from "./models/io/weights.ts";
// Attribution methods, path quadrature, metrics (issue 5) and platform-neutral visualisation.
export * from "./attribution/index.ts";
export * from "./viz/index.ts";
export { createWebGPUBackend, WebGPUBackend } from "./kernels/webgpu/index.ts";
