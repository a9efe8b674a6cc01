/**
 * Every op with its default gradient rule, keyed by name. The mapped type makes a missing op (or
 * an op without a rule) a compile error. runOp records each op with its own definition; this
 * table is how code that holds only a name finds it: rule sets (LRP, DeepLIFT) fall back to the
 * default rule of the ops they do not replace, the coverage table checks every op, and
 * scripts/architecture-doc.ts lists each op's kernels and tests in docs/architecture.md.
 */
import { customOp } from "../autodiff/custom-grad.ts";
import type { OpDef } from "../autodiff/op.ts";
import type { OpName } from "../autodiff/op-attrs.ts";
import { preluOp } from "./activations.ts";
import * as bin from "./binary.ts";
import { broadcastToOp } from "./broadcast.ts";
import { castOp } from "./cast.ts";
import { concatOp } from "./concat.ts";
import { conv2dBackpropFilterOp, conv2dBackpropInputOp, conv2dOp } from "./conv.ts";
import { gatherOp, scatterAddOp } from "./gather.ts";
import { interleavedConv2dBackpropInputOp, interleavedConv2dOp } from "./interleaved-conv.ts";
import { axisMapOp } from "./map-axis.ts";
import { linearOp, matmulOp } from "./matmul.ts";
import { padOp } from "./pad.ts";
import { interleaveOp } from "./pixel-shuffle.ts";
import { avgPool2dBackwardOp, avgPool2dOp, maxPool2dBackwardOp, maxPool2dOp } from "./pool.ts";
import { argMaxOp, maxOp, minOp, sumOp } from "./reduce.ts";
import { reshapeOp } from "./reshape.ts";
import { selectOp } from "./select.ts";
import { sliceOp } from "./slice.ts";
import { transposeOp } from "./transpose.ts";
import { unaryOps } from "./unary.ts";

export const ops: { readonly [K in OpName]: OpDef<K> } = {
  ...unaryOps,
  prelu: preluOp,
  add: bin.addOp,
  sub: bin.subOp,
  mul: bin.mulOp,
  div: bin.divOp,
  maximum: bin.maximumOp,
  minimum: bin.minimumOp,
  pow: bin.powOp,
  greater: bin.greaterOp,
  greaterEqual: bin.greaterEqualOp,
  less: bin.lessOp,
  lessEqual: bin.lessEqualOp,
  equal: bin.equalOp,
  interleave: interleaveOp,
  mulStep: bin.mulStepOp,
  select: selectOp,
  broadcastTo: broadcastToOp,
  sum: sumOp,
  max: maxOp,
  min: minOp,
  argMax: argMaxOp,
  cast: castOp,
  reshape: reshapeOp,
  transpose: transposeOp,
  slice: sliceOp,
  pad: padOp,
  concat: concatOp,
  gather: gatherOp,
  scatterAdd: scatterAddOp,
  matmul: matmulOp,
  linear: linearOp,
  conv2d: conv2dOp,
  conv2dBackpropFilter: conv2dBackpropFilterOp,
  conv2dBackpropInput: conv2dBackpropInputOp,
  interleavedConv2d: interleavedConv2dOp,
  interleavedConv2dBackpropInput: interleavedConv2dBackpropInputOp,
  maxPool2d: maxPool2dOp,
  maxPool2dBackward: maxPool2dBackwardOp,
  avgPool2d: avgPool2dOp,
  avgPool2dBackward: avgPool2dBackwardOp,
  axisMap: axisMapOp,
  custom: customOp,
};
