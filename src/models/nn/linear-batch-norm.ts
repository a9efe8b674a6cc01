/**
 * LRP's BatchNorm canonizer for layers run one after another (Sequential): an eval-mode
 * BatchNorm1d after a Linear, or a BatchNorm2d after a Conv2d, runs as one layer with the norm's
 * scale and shift folded into its weight and bias, y = x (W * s)^T + (b * s + t). LRP's layer
 * rules then see one affine layer, as zennit's canonizer makes them, rather than a layer and a
 * separate per-channel multiply-add that takes a share of the relevance. The fold happens only
 * under a rule set that asks for it, so plain forward passes and other methods run the two
 * modules as written.
 */
import { state } from "../../autodiff/state.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul } from "../../ops/binary.ts";
import { linear } from "../../ops/matmul.ts";
import { batchNormScaleShift } from "../../ops/norm.ts";
import { reshape } from "../../ops/reshape.ts";
import { Conv2d } from "./conv.ts";
import { convBatchNorm } from "./conv-batch-norm.ts";
import { Linear } from "./linear.ts";
import type { Module } from "./module.ts";
import { BatchNorm1d, BatchNorm2d } from "./norm.ts";
import { applyTap, tapActive } from "./taps.ts";

/** Whether the innermost rule set replacing `op` asks for BatchNorm folding (LRP's sets do). */
export function rulesFoldBatchNorm(op: "linear" | "conv2d"): boolean {
  const rules = state.rules;
  for (let i = rules.length - 1; i >= 0; i--) {
    const set = rules[i];
    if (set[op] || set.chooseRule) return set.foldBatchNorm === true;
  }
  return false;
}

/** BN(linear(x)) with the eval norm folded into the Linear when LRP rules ask for it. */
export function linearBatchNorm(layer: Linear, bn: BatchNorm1d, x: Tensor): Tensor {
  const foldable =
    !bn.training &&
    x.rank === 2 &&
    bn.channels === layer.outFeatures &&
    !tapActive(layer.path) &&
    rulesFoldBatchNorm("linear");
  if (!foldable) return bn.call(layer.call(x));
  const { scale, shift } = batchNormScaleShift(bn.evalParams());
  const w = mul(layer.weight, reshape(scale, [layer.outFeatures, 1]));
  const b = layer.bias ? add(mul(layer.bias, scale), shift) : shift;
  return applyTap(bn.path, linear(x, w, b));
}

/**
 * Runs `layer` and, when it is a Linear + BatchNorm1d or Conv2d + BatchNorm2d pair that LRP rules
 * fold, `next` with it; returns the output and whether `next` was consumed.
 */
export function callFoldingNorm(
  layer: Module,
  next: Module | undefined,
  x: Tensor,
): { y: Tensor; consumedNext: boolean } {
  if (layer instanceof Linear && next instanceof BatchNorm1d && rulesFoldBatchNorm("linear")) {
    return { y: linearBatchNorm(layer, next, x), consumedNext: true };
  }
  if (
    layer instanceof Conv2d &&
    next instanceof BatchNorm2d &&
    !(next instanceof BatchNorm1d) &&
    rulesFoldBatchNorm("conv2d")
  ) {
    return { y: convBatchNorm(layer, next, x), consumedNext: true };
  }
  return { y: layer.call(x), consumedNext: false };
}
