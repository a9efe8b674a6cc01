/**
 * A conv followed by an eval-mode BatchNorm, run as one conv: BN(conv(x, W) + b) = conv(x, W *
 * scale) + (b * scale + shift) per output channel. The two passes over the activation (and the
 * one of the BN in the backward pass) go; the folded weight and bias are small differentiable
 * ops, so parameter gradients still flow. Folded only when the result is the same as running
 * the two modules: BN in eval mode, no ReLU fused into the conv, no tap on the conv's own output
 * (taps on the BN's path still see the result), and no gradient-rule set replacing conv2d unless
 * it asks for the fold (LRP's canonizer).
 */
import { batchNormFoldable } from "../../autodiff/rule-set.ts";
import { state } from "../../autodiff/state.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul } from "../../ops/binary.ts";
import { batchNormScaleShift } from "../../ops/norm.ts";
import { reshape } from "../../ops/reshape.ts";
import type { Conv2d } from "./conv.ts";
import type { BatchNorm2d } from "./norm.ts";
import { applyTap, tapActive } from "./taps.ts";

export function convBatchNorm(conv: Conv2d, bn: BatchNorm2d, x: Tensor): Tensor {
  const foldable =
    !bn.training &&
    !conv.config.relu &&
    !tapActive(conv.path) &&
    batchNormFoldable(state.rules) &&
    bn.channels === conv.outChannels;
  if (!foldable) return bn.call(conv.call(x));
  const { scale, shift } = batchNormScaleShift(bn.evalParams());
  const w = mul(conv.weight, reshape(scale, [conv.outChannels, 1, 1, 1]));
  const b = conv.bias ? add(mul(conv.bias, scale), shift) : shift;
  return applyTap(bn.path, conv.forwardWith(x, w, b));
}
