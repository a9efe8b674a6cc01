/**
 * The three classic ReLU backward rules (Simonyan et al. 2013): the gradient, Zeiler & Fergus's
 * deconvnet and Springenberg's guided backprop differ only in how a ReLU passes the signal back.
 * Rules read the ReLU's output only, so they apply to fused conv+ReLU kernels too.
 */
import type { RuleSet } from "../autodiff/rule-set.ts";
import { mul } from "../ops/binary.ts";
import { relu, step } from "../ops/unary.ts";

/** The plain gradient: the empty rule set (every op keeps its default rule). */
export const gradientRules: RuleSet = {};

/** Deconvnet: relu(dy); the forward sign is ignored. */
export const deconvnetRules: RuleSet = {
  relu: (dy) => [() => relu(dy)],
};

/** Guided backprop: dy * 1[x > 0] * 1[dy > 0]. */
export const guidedBackpropRules: RuleSet = {
  relu: (dy, { out }) => [() => mul(relu(dy), step(out))],
};
