/**
 * Every op by the role it plays for gradient-rule definitions, so each rule set can declare its
 * coverage in terms of roles (the groups partition all ops; a test checks that).
 */
import type { OpName } from "../autodiff/op-attrs.ts";

/** Move, copy or select values without changing them. */
export const STRUCTURAL: readonly OpName[] = [
  "reshape",
  "transpose",
  "slice",
  "pad",
  "concat",
  "interleave",
  "gather",
  "scatterAdd",
  "broadcastTo",
  "cast",
  "select",
];

/** Linear (or affine) in each input: the layers and arithmetic of a network. */
export const LINEAR: readonly OpName[] = [
  "add",
  "sub",
  "neg",
  "mul",
  "div",
  "sum",
  "matmul",
  "linear",
  "conv2d",
  "interleavedConv2d",
  "avgPool2d",
  "axisMap",
];

/** Piecewise selections: the gradient routes the signal to the winner. */
export const WINNER_TAKES_ALL: readonly OpName[] = ["maxPool2d", "max", "min"];

/** Rectifiers: piecewise-linear gates with a kink at 0. */
export const RECTIFIERS: readonly OpName[] = ["relu", "leakyRelu", "prelu"];

/** Other piecewise-linear nonlinearities (ReLU6 as clamp, relu written as maximum(x, 0)). */
export const PIECEWISE: readonly OpName[] = ["clamp", "maximum", "minimum", "abs"];

/** Smooth elementwise nonlinearities. */
export const SMOOTH: readonly OpName[] = [
  "sigmoid",
  "tanh",
  "softplus",
  "gelu",
  "exp",
  "log",
  "log1p",
  "sqrt",
  "rsqrt",
  "square",
  "reciprocal",
  "erf",
  "sin",
  "cos",
  "pow",
];

/** Ops without a gradient (comparisons, indices) and the backward ops of double backward. */
export const NO_GRADIENT: readonly OpName[] = [
  "step",
  "sign",
  "floor",
  "isnan",
  "greater",
  "greaterEqual",
  "less",
  "lessEqual",
  "equal",
  "argMax",
  "conv2dBackpropFilter",
  "conv2dBackpropInput",
  "interleavedConv2dBackpropInput",
  "mulStep",
  "maxPool2dBackward",
  "avgPool2dBackward",
];

/** customGrad ops: a hand-written backward no rule set can see into. */
export const CUSTOM: readonly OpName[] = ["custom"];

/** A warning table giving every op in `ops` the same reason. */
export function warnAll(ops: readonly OpName[], reason: string): { [K in OpName]?: string } {
  return Object.fromEntries(ops.map((op) => [op, reason]));
}
