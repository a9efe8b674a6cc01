/**
 * Deletion and insertion (Petsiuk et al. 2018, eclique/RISE evaluation.py): pixels are taken in
 * order of decreasing saliency, `pixelsPerStep` at a time; deletion replaces them by a substrate
 * (zeros) and tracks the score falling, insertion starts from a blurred image and puts them back.
 * The score is recorded at n + 1 points (n = ceil(HW / step)) and
 * AUC = (sum of scores - s_0 / 2 - s_n / 2) / n. Lower deletion AUC and higher insertion AUC are better.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add } from "../../ops/binary.ts";
import { gaussianFilter } from "../../ops/blur.ts";
import { slice } from "../../ops/slice.ts";
import { rowsPerCall } from "../batching.ts";
import { checkCall } from "../evaluate.ts";
import { checkFill, type Fill, perturbedScores } from "../perturb.ts";
import type { BatchOptions, Model, Target } from "../types.ts";
import { checkMapFor, pixelSaliency, rankPixels } from "./pixel-saliency.ts";

export interface DeletionOptions extends BatchOptions, EngineOptions {
  /** Pixels removed (or inserted) per step; default the image width (224 for 224 x 224, as RISE). */
  pixelsPerStep?: number;
  /**
   * What replaces the pixels: default 0 for deletion, and for insertion a Gaussian blur of the
   * input (sigma 5, radius 5, zero border: RISE's 11 x 11 kernel).
   */
  substrate?: Fill;
}

/** Deletion or insertion curves and their AUCs, one per example. */
export interface DeletionResult {
  /** Scores at 0, step, 2 step, ... pixels, per example. */
  curves: number[][];
  /** Area under each curve, x normalised to [0, 1] (trapezoid). */
  auc: number[];
}

/** The area under a curve sampled at n + 1 equally spaced points on [0, 1] (trapezoid). */
export function curveAuc(scores: readonly number[]): number {
  const n = scores.length - 1;
  if (n < 1) throw new Error("curveAuc: a curve needs at least 2 points");
  let s = 0;
  for (const v of scores) s += v;
  return (s - scores[0] / 2 - scores[n] / 2) / n;
}

async function run(
  mode: "deletion" | "insertion",
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: DeletionOptions,
): Promise<DeletionResult> {
  const ctx = engineContext(o);
  await checkCall(x, target, mode);
  checkMapFor(map, x, mode);
  const [n, , h, w] = x.shape;
  const step = o.pixelsPerStep ?? w;
  if (!Number.isInteger(step) || step < 1)
    throw new Error(`${mode}: pixelsPerStep must be a positive integer, got ${step}`);
  const steps = Math.ceil((h * w) / step);
  const sal = await pixelSaliency(map, mode);
  const batch = rowsPerCall(x, o.batchSize, mode);
  if (o.substrate !== undefined) checkFill(o.substrate, x, mode);
  const curves: number[][] = [];
  for (let i = 0; i < n; i++) {
    // Copies (slice returns its input when it covers it all), so disposing them is safe.
    const xi = ctx.run(() => tidy(() => keep(add(slice(x, [i], [1]), 0))));
    const given = o.substrate;
    const sub =
      given === undefined
        ? mode === "deletion"
          ? 0
          : ctx.run(() => tidy(() => keep(gaussianFilter(xi, 5, { truncate: 1 }))))
        : typeof given === "number"
          ? given
          : ctx.run(() => tidy(() => keep(add(slice(given, [i], [1]), 0))));
    try {
      const order = rankPixels(sal[i]);
      // Deletion: mask j covers the top j * step pixels. Insertion: everything but them.
      const { scores } = await perturbedScores(
        model,
        xi,
        typeof target === "object" ? [target[i]] : target,
        steps + 1,
        (j, m) => {
          const k = Math.min(h * w, j * step);
          if (mode === "deletion") for (let r = 0; r < k; r++) m[order[r]] = 1;
          else {
            m.fill(1);
            for (let r = 0; r < k; r++) m[order[r]] = 0;
          }
        },
        sub,
        batch,
        ctx,
        mode,
      );
      curves.push(Array.from(scores));
    } finally {
      xi.dispose();
      if (typeof sub !== "number") sub.dispose();
    }
  }
  return { curves, auc: curves.map(curveAuc) };
}

/**
 * Deletion (Petsiuk et al. 2018, RISE): the target score as the most salient pixels are set to 0
 * (or `substrate`), `pixelsPerStep` at a time; a faithful map makes it fall fast (lower AUC is
 * better).
 */
export function deletionAuc(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: DeletionOptions = {},
) {
  return run("deletion", model, x, target, map, o);
}

/**
 * Insertion (Petsiuk et al. 2018, RISE): the target score as the most salient pixels are put back
 * into a blurred copy (or `substrate`); a faithful map makes it rise fast (higher AUC is better).
 */
export function insertionAuc(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: DeletionOptions = {},
) {
  return run("insertion", model, x, target, map, o);
}
