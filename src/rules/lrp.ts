/**
 * Layer-wise relevance propagation as gradient rules for the linear layers (conv2d and linear),
 * in Zennit's formulation: the signal flowing backward is the relevance R, and a layer with
 * input x and pre-activation z passes R_in = x * J^T (R / stab(z)). ReLUs keep their default rule
 * (relevance at an inactive unit is already 0 because its output x is 0 in the next layer).
 * Start the backward pass with dy = output * onehot(target).
 */
import type { OpContext } from "../autodiff/op.ts";
import { runOp } from "../autodiff/op.ts";
import type { RuleSet } from "../autodiff/rule-set.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { add, div, equal, mul } from "../ops/binary.ts";
import { conv2dOp, convInputGrad } from "../ops/conv.ts";
import { matmul } from "../ops/matmul.ts";
import { clamp, sign } from "../ops/unary.ts";

/** z + eps * sign(z), with sign(0) taken as +1 (Zennit's stabilizer). */
function stabilize(z: Tensor, eps: number): Tensor {
  return add(z, mul(add(sign(z), equal(z, 0)), eps));
}

/** One linear layer's forward (bias optional) and the transpose of its weight map. */
interface LinearLayer {
  forward(x: Tensor, w: Tensor, b: Tensor | undefined): Tensor;
  transpose(s: Tensor, w: Tensor, xShape: readonly number[]): Tensor;
}

function convLayer(ctx: OpContext<"conv2d">): LinearLayer {
  const { relu: _, ...params } = ctx.attrs;
  return {
    forward: (x, w, b) => runOp(conv2dOp, b ? [x, w, b] : [x, w], { ...params, relu: false }),
    transpose: (s, w, xShape) => convInputGrad(s, w, params, xShape),
  };
}

const denseLayer: LinearLayer = {
  forward: (x, w, b) => {
    const z = matmul(x, w, false, true);
    return b ? add(z, b) : z;
  },
  transpose: (s, w) => matmul(s, w),
};

function epsilonRule(
  layer: LinearLayer,
  eps: number,
  relevance: Tensor,
  [x, w, b]: readonly Tensor[],
) {
  const z = layer.forward(x, w, b);
  return mul(x, layer.transpose(div(relevance, stabilize(z, eps)), w, x.shape));
}

/** z+ (Zennit ZPlus): positive inputs through positive weights, negative through negative, no bias. */
function zPlusRule(layer: LinearLayer, eps: number, relevance: Tensor, [x, w]: readonly Tensor[]) {
  const xp = clamp(x, 0);
  const xn = clamp(x, -Infinity, 0);
  const wp = clamp(w, 0);
  const wn = clamp(w, -Infinity, 0);
  const z = add(layer.forward(xp, wp, undefined), layer.forward(xn, wn, undefined));
  const s = div(relevance, stabilize(z, eps));
  return add(mul(xp, layer.transpose(s, wp, x.shape)), mul(xn, layer.transpose(s, wn, x.shape)));
}

type Rule = typeof epsilonRule;

function lrpRuleSet(rule: Rule, eps: number): RuleSet {
  return {
    conv2d: (r, ctx) => [() => rule(convLayer(ctx), eps, r, ctx.inputs)],
    linear: (r, ctx) => [() => rule(denseLayer, eps, r, ctx.inputs)],
  };
}

/** LRP-epsilon (eps = 0 gives LRP-0, which equals gradient x input on ReLU networks). */
export function lrpEpsilonRules(epsilon = 1e-6): RuleSet {
  return lrpRuleSet(epsilonRule, epsilon);
}

/** LRP-z+ (equivalently alpha=1, beta=0 on non-negative inputs). */
export function lrpZPlusRules(epsilon = 1e-6): RuleSet {
  return lrpRuleSet(zPlusRule, epsilon);
}
