/**
 * Every differentiable op by name, with the attributes it records. `OpName` keys the default
 * gradient table (src/ops/registry.ts) and the rule sets, so an op without a gradient rule, or a
 * rule for an op that does not exist, is a compile error.
 */

import type { DType, PadMode, UnaryParams } from "../kernels/backend.ts";
import type { Conv2dParams } from "../kernels/conv-geometry.ts";
import type { PoolParams } from "../kernels/pool-geometry.ts";
import type { AxisMap } from "../kernels/sparse-map.ts";
import type { Tensor } from "./tensor.ts";

type None = Record<string, never>;

export interface UnaryAttrs {
  neg: None;
  abs: None;
  exp: None;
  log: None;
  log1p: None;
  sqrt: None;
  rsqrt: None;
  square: None;
  reciprocal: None;
  sigmoid: None;
  tanh: None;
  relu: None;
  softplus: None;
  gelu: None;
  erf: None;
  sin: None;
  cos: None;
  leakyRelu: UnaryParams;
  clamp: UnaryParams;
  step: None;
  sign: None;
  floor: None;
  isnan: None;
}

export interface BinaryAttrs {
  add: None;
  sub: None;
  mul: None;
  div: None;
  maximum: None;
  minimum: None;
  pow: None;
  greater: None;
  greaterEqual: None;
  less: None;
  lessEqual: None;
  equal: None;
  mulStep: None;
}

export interface Conv2dAttrs extends Conv2dParams {
  /** A ReLU fused into the epilogue; recorded on the tape as its own `relu` node. */
  relu: boolean;
}

export interface CustomAttrs {
  /** The name rule sets use to target this op (customRules) and messages show. */
  name?: string;
  forward: (inputs: readonly Tensor[]) => { value: Tensor; residuals?: Tensor[] };
  backward: (dy: Tensor, residuals: readonly Tensor[], inputs: readonly Tensor[]) => Tensor[];
}

export interface OpAttrs extends UnaryAttrs, BinaryAttrs {
  select: None;
  /** x where x > 0, else alpha * x; inputs (x, alpha) with alpha broadcast to x. */
  prelu: None;
  broadcastTo: { shape: readonly number[] };
  sum: { axes: readonly number[] };
  max: { axes: readonly number[] };
  min: { axes: readonly number[] };
  argMax: { axis: number };
  cast: { dtype: DType };
  reshape: { shape: readonly number[] };
  transpose: { perm: readonly number[] };
  slice: { begin: readonly number[]; size: readonly number[]; step: readonly number[] };
  pad: { pads: readonly (readonly [number, number])[]; mode: PadMode; value: number };
  concat: { axis: number };
  interleave: { r: number };
  gather: { axis: number };
  scatterAdd: { axis: number; length: number };
  matmul: { transA: boolean; transB: boolean };
  linear: None;
  conv2d: Conv2dAttrs;
  conv2dBackpropFilter: Conv2dParams & { wShape: readonly number[] };
  conv2dBackpropInput: Conv2dParams & { xShape: readonly number[] };
  /** Inputs x, four kernels, optional bias; phase p = a * 2 + b pads [top, bottom, left, right]. */
  interleavedConv2d: {
    pads: readonly (readonly [number, number, number, number])[];
    relu: boolean;
  };
  /** Inputs dy and the four kernels of the interleavedConv2d whose input (xShape) gradient this is. */
  interleavedConv2dBackpropInput: {
    pads: readonly (readonly [number, number, number, number])[];
    xShape: readonly number[];
  };
  maxPool2d: PoolParams & { ceilMode: boolean };
  maxPool2dBackward: PoolParams & { ceilMode: boolean; xShape: readonly number[] };
  avgPool2d: PoolParams & { ceilMode: boolean };
  avgPool2dBackward: PoolParams & { ceilMode: boolean; xShape: readonly number[] };
  axisMap: { axis: number; map: AxisMap };
  custom: CustomAttrs;
}

export type OpName = keyof OpAttrs;
