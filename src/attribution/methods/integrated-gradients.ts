/**
 * Integrated gradients (Sundararajan et al. 2017): (x - x') * integral_0^1 grad f(x' + a (x - x')) da,
 * by any quadrature of the shared path module, with the completeness delta per example.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { type BaselineSpec, makeBaseline } from "../baselines.ts";
import { rowsPerCall } from "../batching.ts";
import { checkCall, checkFinite } from "../evaluate.ts";
import { integratePath } from "../path/integrate.ts";
import { linearPath } from "../path/path.ts";
import { type QuadratureRule, quadrature } from "../path/quadrature.ts";
import { quadratureSamples } from "../path/samples.ts";
import type { Attribution, BatchOptions, Model, Target } from "../types.ts";

/**
 * Options of integrated gradients: baseline (default 0), steps (default 50) and quadrature rule
 * (default Gauss-Legendre).
 */
export interface IntegratedGradientsOptions extends BatchOptions, EngineOptions {
  /** Default 0 (black for [0, 1] images), as in Captum, PAIR and Zennit. */
  baseline?: BaselineSpec;
  /** Default 50 (Captum's n_steps). */
  steps?: number;
  /** Default "gausslegendre" (Captum's default). */
  quadrature?: QuadratureRule;
}

/** The steps and rule used, and the target scores at the input and at the baseline. */
export interface IntegratedGradientsDetails extends Record<string, unknown> {
  steps: number;
  quadrature: QuadratureRule;
  /** f(x) and f(x') per example. */
  scores: number[];
  baselineScores: number[];
}

/**
 * Integrated gradients (Sundararajan et al. 2017): (x - x') times the path integral of the gradient
 * from the baseline x' to x; the input's shape, with the completeness delta sum(map) - (f(x) -
 * f(x')) per example.
 */
export async function integratedGradients(
  model: Model,
  x: Tensor,
  target: Target,
  o: IntegratedGradientsOptions = {},
): Promise<Attribution<IntegratedGradientsDetails>> {
  const ctx = engineContext(o);
  await checkCall(x, target, "integratedGradients");
  const rule = o.quadrature ?? "gausslegendre";
  const steps = o.steps ?? 50;
  const q = quadrature(rule, steps);
  const baseline = ctx.run(() =>
    tidy(() => keep(makeBaseline(o.baseline ?? 0, x, "integratedGradients"))),
  );
  try {
    await checkFinite(baseline, "integratedGradients", "baseline");
    const r = await integratePath(
      model,
      quadratureSamples(linearPath(baseline, x), q),
      target,
      x.shape[0],
      {
        batchSize: rowsPerCall(x, o.batchSize, "integratedGradients"),
        context: ctx,
        api: "integratedGradients",
      },
    );
    return {
      map: r.map,
      delta: r.delta,
      details: {
        steps,
        quadrature: rule,
        scores: r.endScores,
        baselineScores: r.startScores,
        // Set when the model only ran one row per call (a fixed-batch export).
        ...(r.note !== undefined ? { note: r.note } : {}),
      },
    };
  } finally {
    baseline.dispose();
  }
}
