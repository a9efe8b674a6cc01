/**
 * Feature ablation with a mask (Captum `FeatureAblation`): pixels are grouped by an integer label
 * map [H, W] (a grid, superpixels, ...); each group in turn is set to the fill (all channels) and
 * f(x) - f(x ablated) is credited to every pixel of the group. k groups cost exactly k + 1 rows
 * of model evaluation per example (the unperturbed input once, then one per group).
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { tensor } from "../../ops/creation.ts";
import { rowsPerCall } from "../batching.ts";
import { checkImageCall } from "../evaluate.ts";
import { checkFill, type Fill, perturbedScores } from "../perturb.ts";
import type { Attribution, BatchOptions, Model, Target } from "../types.ts";

/** Options of feature ablation: the integer group label per pixel [H, W] and the fill value. */
export interface FeatureAblationOptions extends BatchOptions, EngineOptions {
  /** Integer group label per pixel, [H, W] row-major (any integers; each distinct value is a group). */
  mask: Int32Array | readonly number[];
  /** Replacement value or image (default 0). */
  fill?: Fill;
}

/** The group labels, the target score with each group ablated, and the unperturbed scores. */
export interface FeatureAblationDetails extends Record<string, unknown> {
  /** The distinct labels in ascending order; group g is labels[g]. */
  labels: number[];
  /** f(x) - f(x with group g ablated), [groups][N]. */
  groupScores: number[][];
  scores: number[];
}

/**
 * Feature ablation: each pixel group of `o.mask` in turn set to the fill; f(x) - f(x ablated)
 * credited to every pixel of the group. The input's shape.
 */
export async function featureAblation(
  model: Model,
  x: Tensor,
  target: Target,
  o: FeatureAblationOptions,
): Promise<Attribution<FeatureAblationDetails>> {
  const ctx = engineContext(o ?? {});
  await checkImageCall(x, target, "featureAblation");
  const [n, c, h, w] = x.shape;
  const mask = o?.mask;
  if (!mask || mask.length !== h * w) {
    throw new Error(
      `featureAblation: options.mask must hold one integer label per pixel (${h} x ${w} = ${h * w}), got ${mask ? mask.length : "none"}`,
    );
  }
  const labels = [...new Set(Array.from(mask))].sort((a, b) => a - b);
  if (labels.some((l) => !Number.isInteger(l))) {
    throw new Error("featureAblation: mask labels must be integers");
  }
  const group = new Map(labels.map((l, g) => [l, g]));
  const fill = o.fill ?? 0;
  checkFill(fill, x, "featureAblation");
  const { scores, base } = await perturbedScores(
    model,
    x,
    target,
    labels.length,
    (g, m) => {
      for (let p = 0; p < h * w; p++) if (mask[p] === labels[g]) m[p] = 1;
    },
    fill,
    rowsPerCall(x, o.batchSize, "featureAblation"),
    ctx,
    "featureAblation",
  );
  const groupScores = labels.map((_, g) =>
    Array.from({ length: n }, (_, i) => base[i] - scores[g * n + i]),
  );
  const out = new Float32Array(n * c * h * w);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < h * w; p++) {
      const v = groupScores[group.get(mask[p])!][i];
      for (let ch = 0; ch < c; ch++) out[(i * c + ch) * h * w + p] = v;
    }
  }
  return {
    map: ctx.run(() => tensor(out, x.shape)),
    details: { labels, groupScores, scores: Array.from(base) },
  };
}
