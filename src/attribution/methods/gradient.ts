/**
 * Gradient saliency (Simonyan et al. 2013): the raw input gradient of the target score, and the
 * saliency map max_c |d f / d x_c| (one value per pixel). Captum's `Saliency` is the |gradient|
 * (abs: true); PAIR's is the raw gradient.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { RuleSet } from "../../autodiff/rule-set.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { max } from "../../ops/reduce.ts";
import { abs } from "../../ops/unary.ts";
import { checkCall, readScores, scoresAndGrad } from "../evaluate.ts";
import type { Attribution, Model, Target } from "../types.ts";

/** Options of gradient: `abs` for |gradient| (Captum's Saliency). */
export interface GradientOptions extends EngineOptions {
  /** Return |gradient| (Captum's Saliency default). */
  abs?: boolean;
}

/** The target score per example. */
export interface GradientDetails extends Record<string, unknown> {
  /** The target score per example. */
  scores: number[];
}

/**
 * Gradient under a rule set, with the scores read back (shared by GB, deconvnet, x * grad). The
 * engine context (enclosing scopes plus `engine`'s explicit rules and backend) is captured on
 * entry, so it holds across the awaits.
 */
export async function ruledGradient(
  model: Model,
  x: Tensor,
  target: Target,
  api: string,
  rules?: RuleSet,
  post?: (g: Tensor) => Tensor,
  engine: EngineOptions = {},
): Promise<Attribution<GradientDetails>> {
  const ctx = engineContext(engine);
  await checkCall(x, target, api);
  const { scores, map } = ctx.run(() =>
    tidy(() => {
      const r = scoresAndGrad(model, x, target, rules);
      return { scores: keep(r.scores), map: keep(post ? post(r.grad) : r.grad) };
    }),
  );
  try {
    return { map, details: { scores: Array.from(await readScores(scores, api)) } };
  } catch (e) {
    map.dispose();
    throw e;
  } finally {
    scores.dispose();
  }
}

/** d score / d x, the input's shape. */
export function gradient(
  model: Model,
  x: Tensor,
  target: Target,
  o: GradientOptions = {},
): Promise<Attribution<GradientDetails>> {
  return ruledGradient(model, x, target, "gradient", undefined, o.abs ? abs : undefined, o);
}

/** Simonyan's saliency map: max over channels of |gradient|, [N, 1, ...spatial]. */
export function saliency(
  model: Model,
  x: Tensor,
  target: Target,
  o: EngineOptions = {},
): Promise<Attribution<GradientDetails>> {
  return ruledGradient(model, x, target, "saliency", undefined, (g) => max(abs(g), 1, true), o);
}
