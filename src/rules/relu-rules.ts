/**
 * The three classic ReLU backward rules (Simonyan et al. 2013): the gradient, Zeiler & Fergus's
 * deconvnet and Springenberg's guided backprop differ only in how a rectifier passes the signal
 * back. Rules read the ReLU's output only, so they apply to fused conv+ReLU kernels too.
 *
 * Leaky rectifiers (LeakyReLU, PReLU with slope a) get the rules the definitions imply:
 * deconvnet applies the forward nonlinearity to the backward signal (leaky(dy)); guided backprop
 * keeps the gradient's forward gate (1 where x > 0, else a) and zeroes negative signals.
 */
import type { RuleCoverage, RuleSet } from "../autodiff/rule-set.ts";
import { preluSlope } from "../ops/activations.ts";
import { mul } from "../ops/binary.ts";
import { leakyRelu, relu, step } from "../ops/unary.ts";
import {
  LINEAR,
  NO_GRADIENT,
  PIECEWISE,
  SMOOTH,
  STRUCTURAL,
  WINNER_TAKES_ALL,
  warnAll,
} from "./op-groups.ts";

function rectifierCoverage(name: string): RuleCoverage {
  return {
    name,
    passThrough: [...STRUCTURAL, ...LINEAR, ...WINNER_TAKES_ALL, ...NO_GRADIENT],
    warn: {
      ...warnAll(SMOOTH, `${name} changes rectifiers only; smooth activations keep their gradient`),
      ...warnAll(
        PIECEWISE,
        `${name} changes relu, leakyRelu and prelu only; a ReLU written as clamp or maximum is not changed`,
      ),
      custom: "its hand-written backward runs unchanged; target it by name with customRules",
    },
  };
}

/** The plain gradient: the empty rule set (every op keeps its default rule). */
export const gradientRules: RuleSet = {};

/** Deconvnet: relu(dy) at a ReLU, leakyRelu(dy, a) / prelu(dy, a) at leaky ones. */
export const deconvnetRules: RuleSet = {
  coverage: rectifierCoverage("deconvnet"),
  relu: (dy) => [() => relu(dy)],
  leakyRelu: (dy, { attrs }) => [() => leakyRelu(dy, attrs.a ?? 0.01)],
  prelu: (dy, { inputs: [, a] }) => [() => mul(dy, preluSlope(dy, a))],
};

/** Guided backprop: dy * 1[x > 0] * 1[dy > 0] at a ReLU; slope a instead of 0 where x <= 0 at leaky ones. */
export const guidedBackpropRules: RuleSet = {
  coverage: rectifierCoverage("guided backprop"),
  relu: (dy, { out }) => [() => mul(relu(dy), step(out))],
  leakyRelu: (dy, { inputs: [x], attrs }) => [() => mul(relu(dy), preluSlope(x, attrs.a ?? 0.01))],
  prelu: (dy, { inputs: [x, a] }) => [() => mul(relu(dy), preluSlope(x, a))],
};
