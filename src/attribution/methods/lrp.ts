/**
 * Layer-wise relevance propagation through the engine's LRP rule sets (rules/lrp.ts): the backward
 * signal is the relevance, seeded with the target score itself, so the map sums to f(x) up to the
 * relevance the rules absorb (biases, epsilon); that gap is reported per example as `delta`, like
 * IG's convergence delta. LRP-0 (epsilon 0) equals gradient x input on bias-free ReLU networks.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import { valueAndGrads } from "../../autodiff/grad.ts";
import { withRules } from "../../autodiff/rule-set.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import {
  LRP_COMPOSITES,
  type LrpComposite,
  lrpCompositeRules,
  lrpZPlusRules,
} from "../../rules/lrp.ts";
import { checkCall, readScores } from "../evaluate.ts";
import { targetScores } from "../target.ts";
import type { Attribution, Model, Target } from "../types.ts";

/** Options of LRP: the composite (or a single rule), epsilon, gamma and the z^B input bounds. */
export interface LrpOptions extends EngineOptions {
  /**
   * Rules by layer type and position, as Zennit's composites: "epsilon" (default, the epsilon rule
   * everywhere as Captum's LRP), "epsilon-plus", "epsilon-plus-flat", "epsilon-gamma-box",
   * "epsilon-alpha2-beta1", "epsilon-alpha2-beta1-flat".
   */
  composite?: LrpComposite;
  /** "epsilon" or "zplus" on every layer (a shorthand kept for older callers; overrides composite). */
  rule?: "epsilon" | "zplus";
  /** Stabiliser (default 1e-6; 0 gives LRP-0). */
  epsilon?: number;
  /** Gamma of the gamma rule (default 0.25). */
  gamma?: number;
  /** Input bounds [low, high] of the z^B rule (default: the input's min and max). */
  box?: readonly [number, number];
}

/**
 * The target scores and the total relevance per example (equal to the score up to what the rules
 * absorb).
 */
export interface LrpDetails extends Record<string, unknown> {
  scores: number[];
  /** Sum of the map per example (equal to the score when relevance is conserved). */
  totals: number[];
  /** totals - scores per example: the relevance absorbed (biases, epsilon) or created. */
  delta: number[];
  /** The composite used ("epsilon" for the default). */
  composite: string;
}

/**
 * Layer-wise relevance propagation of the target score to the input with the epsilon or z+ rules;
 * the input's shape.
 */
export async function lrp(
  model: Model,
  x: Tensor,
  target: Target,
  o: LrpOptions = {},
): Promise<Attribution<LrpDetails>> {
  const ctx = engineContext(o);
  await checkCall(x, target, "lrp");
  const rule = o.rule;
  if (rule !== undefined && rule !== "epsilon" && rule !== "zplus") {
    throw new Error(`lrp: rule must be "epsilon" or "zplus", got "${rule}"`);
  }
  const composite = o.composite ?? "epsilon";
  if (!LRP_COMPOSITES.includes(composite)) {
    throw new Error(
      `lrp: unknown composite "${composite}" (expected one of ${LRP_COMPOSITES.join(", ")})`,
    );
  }
  const eps = o.epsilon ?? 1e-6;
  if (!(eps >= 0)) throw new Error(`lrp: epsilon must be >= 0, got ${eps}`);
  const gamma = o.gamma ?? 0.25;
  if (!(gamma >= 0)) throw new Error(`lrp: gamma must be >= 0, got ${gamma}`);
  if (o.box && !(o.box.length === 2 && o.box[0] <= o.box[1])) {
    throw new Error(`lrp: box must be [low, high] with low <= high, got [${o.box}]`);
  }
  const box = o.box ?? (await inputRange(x));
  const scores = ctx.run(() => tidy(() => keep(targetScores(model(x), target))));
  try {
    const scoreValues = Array.from(await readScores(scores, "lrp"));
    const rules =
      rule === "zplus"
        ? lrpZPlusRules(eps)
        : lrpCompositeRules(rule ?? composite, { epsilon: eps, gamma, box });
    const map = ctx.run(() =>
      withRules(rules, () =>
        tidy(() => {
          const f = (v: Tensor) => targetScores(model(v), target);
          return keep(valueAndGrads(f)([x], scores).grads[0]);
        }),
      ),
    );
    const v = await map.data();
    const per = x.size / x.shape[0];
    const totals = Array.from({ length: x.shape[0] }, (_, i) => {
      let t = 0;
      for (let j = i * per; j < (i + 1) * per; j++) t += v[j];
      return t;
    });
    const delta = totals.map((t, i) => t - scoreValues[i]);
    return {
      map,
      delta,
      details: { scores: scoreValues, totals, delta, composite: rule ?? composite },
    };
  } finally {
    scores.dispose();
  }
}

/** The input's [min, max], the default bounds of the z^B rule. */
async function inputRange(x: Tensor): Promise<[number, number]> {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of await x.data()) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
