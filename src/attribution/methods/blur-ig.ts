/**
 * Blur IG (Xu et al. 2020, PAIR saliency/core/blur_ig.py): integrates the gradient along the path
 * of ever stronger Gaussian blurs of x, from sigma_max (the baseline) down to 0 (x itself).
 * PAIR's sum, sum_i (s_i+1 - s_i) dgamma/ds(s_i) grad f(gamma(s_i)) negated, is the right-evaluated
 * Riemann-Stieltjes sum of the shared path module on the grid s_N, ..., s_0 = 0; unlike PAIR's
 * batched code, each node keeps its own step width (PAIR multiplies a whole batch by its last
 * width, which is wrong for sqrt schedules).
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { rowsPerCall } from "../batching.ts";
import { checkImageCall } from "../evaluate.ts";
import { integratePath } from "../path/integrate.ts";
import { blurPath } from "../path/path.ts";
import { stieltjesSamples } from "../path/samples.ts";
import type { Attribution, BatchOptions, Model, Target } from "../types.ts";

/** Options of Blur IG: the largest blur (the baseline), the number of steps and their spacing. */
export interface BlurIgOptions extends BatchOptions, EngineOptions {
  /** Largest blur width (PAIR default 50). */
  sigmaMax?: number;
  /** Number of nodes N (PAIR default 100). */
  steps?: number;
  /** Forward-difference step for d gamma / d sigma (PAIR default 0.01). */
  gradStep?: number;
  /** sigma_i = sqrt(i sigma_max / N) instead of i sigma_max / N (PAIR's sqrt option). */
  sqrt?: boolean;
}

/**
 * What Blur IG reports: the sigma grid and the scores at the input and at the most blurred image.
 */
export interface BlurIgDetails extends Record<string, unknown> {
  sigmas: number[];
  scores: number[];
  baselineScores: number[];
}

/** PAIR's schedule sigma_i, i = 0..N. */
export function blurIgSigmas(sigmaMax: number, steps: number, sqrt: boolean): number[] {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`blurIg: steps must be a positive integer, got ${steps}`);
  }
  return Array.from({ length: steps + 1 }, (_, i) =>
    sqrt ? Math.sqrt((i * sigmaMax) / steps) : (i * sigmaMax) / steps,
  );
}

/**
 * Blur IG (Xu et al. 2020): the gradient integrated along ever weaker Gaussian blurs of x, from
 * sigma_max down to x itself; the input's shape, with the completeness delta per example.
 */
export async function blurIg(
  model: Model,
  x: Tensor,
  target: Target,
  o: BlurIgOptions = {},
): Promise<Attribution<BlurIgDetails>> {
  const ctx = engineContext(o);
  await checkImageCall(x, target, "blurIg");
  const sigmaMax = o.sigmaMax ?? 50;
  if (!(sigmaMax > 0)) throw new Error(`blurIg: sigmaMax must be positive, got ${sigmaMax}`);
  const sigmas = blurIgSigmas(sigmaMax, o.steps ?? 100, o.sqrt ?? false);
  const top = sigmas[sigmas.length - 1];
  const path = blurPath(x, top, { gradStep: o.gradStep ?? 0.01 });
  const grid = [...sigmas].reverse();
  const samples = stieltjesSamples(path, grid, { at: "right", increment: "derivative" });
  const r = await integratePath(model, samples, target, x.shape[0], {
    batchSize: rowsPerCall(x, o.batchSize, "blurIg"),
    context: ctx,
    api: "blurIg",
  });
  return {
    map: r.map,
    delta: r.delta,
    details: {
      sigmas,
      scores: r.endScores,
      baselineScores: r.startScores,
      ...(r.note !== undefined ? { note: r.note } : {}),
    },
  };
}
