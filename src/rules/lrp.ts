/**
 * Layer-wise relevance propagation as gradient-rule sets, in Zennit's formulation: the signal
 * flowing backward is the relevance R (start the backward pass with dy = output * onehot(target)).
 *
 * - conv2d and linear layers get a layer rule (epsilon, gamma, z+, alpha-beta, z^B, flat, w^2;
 *   lrp-layer-rules.ts), chosen by a composite from the layer's type and position.
 * - Every other linear op (matmul and so attention projections, additions (residuals, biases),
 *   sums, average pooling, interpolation) splits relevance in proportion to each input's
 *   contribution: R_i = in_i * vjp_i(R / stab(out)), the epsilon rule of that op.
 * - Activations pass relevance through unchanged (Zennit's Pass rule); copies, concatenation,
 *   slices and max pooling keep their gradient, which routes relevance without changing its sum.
 * - Products: each factor of a product receives the product's relevance; a divisor receives
 *   none (normalisation scales are treated as constants).
 * - Ops with no LRP rule (exp, log, sqrt, ...) fail when recorded, naming the op.
 * - Under these sets an eval-mode BatchNorm after a conv is folded into it (the canonizer).
 */
import type { OpContext, Vjp } from "../autodiff/op.ts";
import { runOp } from "../autodiff/op.ts";
import type { OpName } from "../autodiff/op-attrs.ts";
import type { RuleSet } from "../autodiff/rule-set.ts";
import { add, mul } from "../ops/binary.ts";
import { conv2dOp, convInputGrad } from "../ops/conv.ts";
import { matmul } from "../ops/matmul.ts";
import { ops } from "../ops/registry.ts";
import {
  alphaBetaRule,
  boxRule,
  epsilonRule,
  flatRule,
  gammaRule,
  type LayerRule,
  type LinearLayer,
  share,
  wSquareRule,
  zPlusRule,
} from "./lrp-layer-rules.ts";
import { NO_GRADIENT, STRUCTURAL, WINNER_TAKES_ALL } from "./op-groups.ts";

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

const convRule =
  (rule: LayerRule): Vjp<"conv2d"> =>
  (r, ctx) => {
    const [x, w, b] = ctx.inputs;
    return [() => rule(convLayer(ctx), r, x, w, b)];
  };

const denseRule =
  (rule: LayerRule): Vjp<"linear"> =>
  (r, ctx) => {
    const [x, w, b] = ctx.inputs;
    return [() => rule(denseLayer, r, x, w, b)];
  };

/** The epsilon rule of a bias-free linear op, for the inputs in `shared` (the others get none). */
function proportional(name: OpName, eps: number, shared?: readonly number[]): Vjp {
  const def = ops[name] as { vjp: Vjp };
  return (r, ctx) => {
    const thunks = def.vjp(share(r, ctx.out, eps), ctx);
    return thunks.map((t, i) =>
      t && (!shared || shared.includes(i)) ? () => mul(ctx.inputs[i], t()) : null,
    );
  };
}

const pass: Vjp = (r, ctx) => ctx.inputs.map((_, i) => (i === 0 ? () => r : null));

/** Activations LRP passes relevance through (Zennit's Pass rule). */
const ACTIVATIONS: readonly OpName[] = [
  "relu",
  "leakyRelu",
  "prelu",
  "sigmoid",
  "tanh",
  "gelu",
  "softplus",
  "clamp",
];

/** Each factor of a product gets the product's relevance (sum-to-shape over broadcasting). */
const product = (eps: number): Vjp => proportional("mul", eps);

/** Options of the LRP rule sets. */
export interface LrpRuleOptions {
  /** Stabiliser of every rule (default 1e-6). */
  epsilon?: number;
  /** Gamma of the gamma rule (default 0.25). */
  gamma?: number;
  /** Input bounds of the z^B rule (default [0, 1]). */
  box?: readonly [number, number];
}

/** Composite names, as the CLI spells them. */
export const LRP_COMPOSITES = [
  "epsilon",
  "epsilon-plus",
  "epsilon-plus-flat",
  "epsilon-gamma-box",
  "epsilon-alpha2-beta1",
  "epsilon-alpha2-beta1-flat",
] as const;
/**
 * A composite's name: Zennit's EpsilonPlus, EpsilonPlusFlat, EpsilonGammaBox, EpsilonAlpha2Beta1
 * and EpsilonAlpha2Beta1Flat, plus plain LRP-epsilon on every layer.
 */
export type LrpComposite = (typeof LRP_COMPOSITES)[number];

/** Rules of a composite: for the first linear layer, other convolutions, and dense layers. */
interface CompositeRules {
  first?: LayerRule;
  conv: LayerRule;
  dense: LayerRule;
}

function compositeRules(name: LrpComposite, o: LrpRuleOptions): CompositeRules {
  const eps = o.epsilon ?? 1e-6;
  const dense = epsilonRule(eps);
  const [low, high] = o.box ?? [0, 1];
  switch (name) {
    case "epsilon":
      return { conv: dense, dense };
    case "epsilon-plus":
      return { conv: zPlusRule(eps), dense };
    case "epsilon-plus-flat":
      return { first: flatRule(eps), conv: zPlusRule(eps), dense };
    case "epsilon-gamma-box":
      return { first: boxRule(low, high, eps), conv: gammaRule(o.gamma ?? 0.25, eps), dense };
    case "epsilon-alpha2-beta1":
      return { conv: alphaBetaRule(2, 1, eps), dense };
    case "epsilon-alpha2-beta1-flat":
      return { first: flatRule(eps), conv: alphaBetaRule(2, 1, eps), dense };
    default:
      throw new Error(
        `lrp: unknown composite "${name}" (expected one of ${LRP_COMPOSITES.join(", ")})`,
      );
  }
}

/** The relevance-routing part shared by every LRP set: everything but conv2d and linear. */
function routing(eps: number): RuleSet {
  const table: { [K in OpName]?: Vjp } = {
    matmul: proportional("matmul", eps),
    add: proportional("add", eps),
    sub: proportional("sub", eps),
    neg: proportional("neg", eps),
    sum: proportional("sum", eps),
    avgPool2d: proportional("avgPool2d", eps, [0]),
    axisMap: proportional("axisMap", eps, [0]),
    mul: product(eps),
    div: proportional("div", eps, [0]),
  };
  for (const op of ACTIVATIONS) table[op] = pass;
  return {
    ...(table as RuleSet),
    coverage: { name: "lrp", passThrough: [...STRUCTURAL, ...WINNER_TAKES_ALL, ...NO_GRADIENT] },
    foldBatchNorm: true,
  };
}

/** A rule set with one layer rule for every conv2d and linear layer. */
function uniform(rule: LayerRule, eps: number): RuleSet {
  return { ...routing(eps), conv2d: convRule(rule), linear: denseRule(rule) };
}

/**
 * An LRP composite as a rule set: rules by layer type (conv2d vs linear) and position (the first
 * conv2d/linear layer recorded, for the flat and box variants). It counts layers as they are
 * recorded, so build a fresh one for each forward pass.
 */
export function lrpCompositeRules(name: LrpComposite, o: LrpRuleOptions = {}): RuleSet {
  const eps = o.epsilon ?? 1e-6;
  const rules = compositeRules(name, o);
  let seenLayer = false;
  const first = (kind: "conv2d" | "linear") => {
    const isFirst = !seenLayer;
    seenLayer = true;
    return isFirst && rules.first ? rules.first : kind === "conv2d" ? rules.conv : rules.dense;
  };
  return {
    ...routing(eps),
    chooseRule: (op) => {
      if (op === "conv2d") return convRule(first("conv2d")) as Vjp;
      if (op === "linear") return denseRule(first("linear")) as Vjp;
      return undefined;
    },
  };
}

/** LRP-epsilon everywhere (eps = 0 gives LRP-0, which equals gradient x input on ReLU networks). */
export function lrpEpsilonRules(epsilon = 1e-6): RuleSet {
  return uniform(epsilonRule(epsilon), epsilon);
}

/** LRP-z+ on every conv2d/linear layer (equivalently alpha=1, beta=0 on non-negative inputs). */
export function lrpZPlusRules(epsilon = 1e-6): RuleSet {
  return uniform(zPlusRule(epsilon), epsilon);
}

/** LRP-alpha-beta on every conv2d/linear layer (alpha - beta = 1 for conservation). */
export function lrpAlphaBetaRules(alpha = 2, beta = 1, epsilon = 1e-6): RuleSet {
  return uniform(alphaBetaRule(alpha, beta, epsilon), epsilon);
}

/** LRP-gamma on every conv2d/linear layer. */
export function lrpGammaRules(gamma = 0.25, epsilon = 1e-6): RuleSet {
  return uniform(gammaRule(gamma, epsilon), epsilon);
}

/** LRP-flat on every conv2d/linear layer (mostly used for the first layer). */
export function lrpFlatRules(epsilon = 1e-6): RuleSet {
  return uniform(flatRule(epsilon), epsilon);
}
/**
 * LRP-w^2 on every conv2d/linear layer: relevance shared in proportion to w^2, whatever the input
 * (Montavon et al. 2017; Zennit's WSquare). Like flat, mostly used for the first layer.
 */
export function lrpWSquareRules(epsilon = 1e-6): RuleSet {
  return uniform(wSquareRule(epsilon), epsilon);
}
