export { prelu } from "./activations.ts";
export * from "./binary.ts";
export * from "./blur.ts";
export { broadcastTo } from "./broadcast.ts";
export { cast } from "./cast.ts";
export { concat, stack } from "./concat.ts";
export {
  type Conv2dOptions,
  type Conv2dTransposeOptions,
  conv2d,
  conv2dTranspose,
  convInputGrad,
  type Padding,
} from "./conv.ts";
export * from "./creation.ts";
export { dropout } from "./dropout.ts";
export { gather, scatterAdd } from "./gather.ts";
export { mapAxis } from "./map-axis.ts";
export { linear, matmul } from "./matmul.ts";
export * from "./norm.ts";
export { pad, pad2d } from "./pad.ts";
export * from "./pixel-shuffle.ts";
export {
  adaptiveAvgPool2d,
  avgPool2d,
  globalAvgPool2d,
  maxPool2d,
  type Pool2dOptions,
} from "./pool.ts";
export { argMax, logSumExp, max, mean, min, sum, variance } from "./reduce.ts";
export { expandDims, flatten, reshape, squeeze } from "./reshape.ts";
export { type ResizeMode, type ResizeOptions, resize, upsample } from "./resize.ts";
export { where } from "./select.ts";
export { reverse, slice, split } from "./slice.ts";
export { logSoftmax, softmax } from "./softmax.ts";
export { permute, transpose } from "./transpose.ts";
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
} from "./unary.ts";
export { nearestUpsampleConv2d } from "./upsample-conv.ts";
