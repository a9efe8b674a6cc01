/**
 * Layer-wise relevance propagation through the engine's LRP rule sets (rules/lrp.ts): the backward
 * signal is the relevance, seeded with the target score itself, so the map sums to f(x) up to the
 * relevance the rules absorb (biases, epsilon). LRP-0 (epsilon 0) equals gradient x input on
 * ReLU networks.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import { valueAndGrads } from "../../autodiff/grad.ts";
import { withRules } from "../../autodiff/rule-set.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { lrpEpsilonRules, lrpZPlusRules } from "../../rules/lrp.ts";
import { checkCall, readScores } from "../evaluate.ts";
import { targetScores } from "../target.ts";
import type { Attribution, Model, Target } from "../types.ts";

/** Options of LRP: the rule ("epsilon", default, or "zplus") and epsilon. */
export interface LrpOptions extends EngineOptions {
  /** "epsilon" (default) or "zplus". */
  rule?: "epsilon" | "zplus";
  /** Stabiliser (default 1e-6; 0 gives LRP-0). */
  epsilon?: number;
}

/**
 * The target scores and the total relevance per example (equal to the score up to what the rules
 * absorb).
 */
export interface LrpDetails extends Record<string, unknown> {
  scores: number[];
  /** Sum of the map per example (equal to the score when relevance is conserved). */
  totals: number[];
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
  const rule = o.rule ?? "epsilon";
  if (rule !== "epsilon" && rule !== "zplus") {
    throw new Error(`lrp: rule must be "epsilon" or "zplus", got "${rule}"`);
  }
  const eps = o.epsilon ?? 1e-6;
  if (!(eps >= 0)) throw new Error(`lrp: epsilon must be >= 0, got ${eps}`);
  const scores = ctx.run(() => tidy(() => keep(targetScores(model(x), target))));
  try {
    const scoreValues = Array.from(await readScores(scores, "lrp"));
    const rules = rule === "epsilon" ? lrpEpsilonRules(eps) : lrpZPlusRules(eps);
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
    return { map, details: { scores: scoreValues, totals } };
  } finally {
    scores.dispose();
  }
}
