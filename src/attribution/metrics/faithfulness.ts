/**
 * Faithfulness metrics that correlate attributions with the model's response to removing pixels
 * (Quantus's definitions and defaults; "black" = the image minimum, see quantus-common.ts). The
 * score is the target output as the model gives it (a logit for a classifier); pass a callable
 * target (e.g. probabilityOf) for Quantus's softmax variants. Pixels are the map's channel sums;
 * a removed pixel has all channels replaced.
 * - faithfulness correlation (Bhatt et al. 2020): over `runs` (100) random subsets of
 *   `subsetSize` (224) pixels, Pearson correlation of sum a[S] with f(x) - f(x with S removed);
 * - faithfulness estimate (Alvarez-Melis & Jaakkola 2018): pixels in descending order of a, one
 *   group of `featuresInStep` (1) at a time removed from the clean image, Pearson correlation of
 *   the group's sum of a with the drop in f;
 * - monotonicity (Arya et al. 2019): from the all-baseline image, pixels put back in ascending
 *   order of a, `featuresInStep` at a time; monotonic when f never decreases;
 * - monotonicity correlation (Nguyen & Martinez 2020): groups in ascending order of a removed one
 *   at a time with "uniform" noise `samples` (100) times; Spearman correlation of the group's sum of
 *   a with mean (f(x) - f(x'))^2 / f(x)^2 (the division skipped when |f(x)| < eps = 1e-5);
 * - sensitivity-n (Ancona et al. 2018): pixels in descending order of a removed cumulatively
 *   (with "uniform" noise), for each n up to `nMaxPercentage` (0.8) of the pixels, the Pearson
 *   correlation across the batch's examples of the removed pixels' sum of a with the drop in f.
 *   Quantus correlates only the last group's sum; the paper's (used here) is the whole removed set.
 */
import type { EngineOptions } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { Random } from "../../random.ts";
import type { BatchOptions, Model, Target } from "../types.ts";
import { rankPixels } from "./pixel-saliency.ts";
import {
  applyBaseline,
  ascending,
  type Baseline,
  checkPositiveInt,
  cumulativeRemovalScores,
  exampleTarget,
  featuresInStep,
  group,
  hostImage,
  prepare,
  removalScores,
  sumAt,
  variantScores,
} from "./quantus-common.ts";
import { pearson, spearman } from "./rank-correlation.ts";

export interface PerturbationOptions extends BatchOptions, EngineOptions {
  /** What replaces removed pixels (each metric documents its default). */
  baseline?: Baseline;
  /** Seeds the "uniform" baseline and random subsets (default 0). */
  seed?: number;
}

export interface StepOptions extends PerturbationOptions {
  /** Pixels removed per step (default 1). */
  featuresInStep?: number;
}

/** Faithfulness correlation per example: random subsets' attribution sums against output drops. */
export async function faithfulnessCorrelation(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: PerturbationOptions & { runs?: number; subsetSize?: number } = {},
): Promise<number[]> {
  const api = "faithfulnessCorrelation";
  const p = await prepare(model, x, target, map, o, "black", api);
  const runs = o.runs ?? 100;
  const size = o.subsetSize ?? 224;
  checkPositiveInt(runs, "runs", api);
  checkPositiveInt(size, "subsetSize", api);
  const hw = x.shape[2] * x.shape[3];
  if (size > hw)
    throw new Error(`${api}: subsetSize ${size} is larger than the image (${hw} pixels)`);
  const rng = new Random(o.seed ?? 0);
  const out: number[] = [];
  for (let i = 0; i < x.shape[0]; i++) {
    const img = hostImage(p.xv, x.shape, i);
    const subsets = Array.from({ length: runs }, () => sample(hw, size, rng));
    const removed = (j: number) => subsets[j];
    const scores = await removalScores(
      p,
      model,
      img,
      exampleTarget(target, i),
      runs,
      removed,
      rng,
      api,
    );
    out.push(
      pearson(
        subsets.map((s) => sumAt(p.sal[i], s)),
        Array.from(scores, (v) => p.base[i] - v),
      ),
    );
  }
  return out;
}

/** k distinct indices of 0..n-1 (partial Fisher-Yates). */
function sample(n: number, k: number, rng: Random): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k);
}

/** Faithfulness estimate per example: each group's attribution sum against the drop it alone causes. */
export async function faithfulnessEstimate(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: StepOptions = {},
): Promise<number[]> {
  const api = "faithfulnessEstimate";
  const p = await prepare(model, x, target, map, o, "black", api);
  const step = featuresInStep(o, api);
  const rng = new Random(o.seed ?? 0);
  const out: number[] = [];
  for (let i = 0; i < x.shape[0]; i++) {
    const img = hostImage(p.xv, x.shape, i);
    const order = rankPixels(p.sal[i]);
    const groups = Math.ceil(order.length / step);
    const removed = (j: number) => group(order, j, step);
    const scores = await removalScores(
      p,
      model,
      img,
      exampleTarget(target, i),
      groups,
      removed,
      rng,
      api,
    );
    const sums = Array.from({ length: groups }, (_, g) => sumAt(p.sal[i], group(order, g, step)));
    out.push(
      pearson(
        sums,
        Array.from(scores, (v) => p.base[i] - v),
      ),
    );
  }
  return out;
}

/** Monotonicity of one example (Arya et al. 2019, as Quantus's Monotonicity). */
export interface MonotonicityResult {
  /** True when the curve never decreases. */
  monotonic: boolean;
  /** f after each group is put back, starting from the all-baseline image. */
  curve: number[];
}

/** Monotonicity (Arya et al.): does f rise steadily as pixels return in ascending order of a? */
export async function monotonicityArya(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: StepOptions = {},
): Promise<MonotonicityResult[]> {
  const api = "monotonicityArya";
  const p = await prepare(model, x, target, map, o, "black", api);
  const step = featuresInStep(o, api);
  const rng = new Random(o.seed ?? 0);
  const out: MonotonicityResult[] = [];
  for (let i = 0; i < x.shape[0]; i++) {
    const img = hostImage(p.xv, x.shape, i);
    const hw = img.height * img.width;
    const order = ascending(p.sal[i]);
    const groups = Math.ceil(hw / step);
    // The image grows cumulatively: variants are made in order from one running copy.
    const cur = new Float32Array(img.values.length);
    applyBaseline(
      cur,
      img,
      Int32Array.from({ length: hw }, (_, k) => k),
      p.baseline,
      rng,
    );
    const scores = await variantScores(
      model,
      img,
      exampleTarget(target, i),
      groups,
      (j, buf) => {
        for (const px of group(order, j, step))
          for (let c = 0; c < img.channels; c++) cur[c * hw + px] = img.values[c * hw + px];
        buf.set(cur);
      },
      p.batch,
      p.ctx,
      api,
    );
    const curve = Array.from(scores);
    out.push({ monotonic: curve.every((v, k) => k === 0 || v >= curve[k - 1]), curve });
  }
  return out;
}

/** Monotonicity correlation (Nguyen & Martinez) per example. */
export async function monotonicityCorrelation(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: StepOptions & { samples?: number; eps?: number } = {},
): Promise<number[]> {
  const api = "monotonicityCorrelation";
  const p = await prepare(model, x, target, map, o, "uniform", api);
  const step = featuresInStep(o, api);
  const samples = p.baseline === "uniform" ? (o.samples ?? 100) : 1;
  checkPositiveInt(samples, "samples", api);
  const eps = o.eps ?? 1e-5;
  const rng = new Random(o.seed ?? 0);
  const out: number[] = [];
  for (let i = 0; i < x.shape[0]; i++) {
    const img = hostImage(p.xv, x.shape, i);
    const order = ascending(p.sal[i]);
    const groups = Math.ceil(order.length / step);
    const removed = (j: number) => group(order, Math.floor(j / samples), step);
    const count = groups * samples;
    const scores = await removalScores(
      p,
      model,
      img,
      exampleTarget(target, i),
      count,
      removed,
      rng,
      api,
    );
    const y = p.base[i];
    const inv = Math.abs(y) < eps ? 1 : 1 / (y * y);
    const vars = Array.from({ length: groups }, (_, g) => {
      let m = 0;
      for (let r = 0; r < samples; r++) m += (scores[g * samples + r] - y) ** 2;
      return (m / samples) * inv;
    });
    const sums = Array.from({ length: groups }, (_, g) => sumAt(p.sal[i], group(order, g, step)));
    out.push(spearman(sums, vars));
  }
  return out;
}

/** Sensitivity-n: one correlation across the batch per n = step, 2 step, ... (needs N >= 2). */
export async function sensitivityN(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: StepOptions & { nMaxPercentage?: number } = {},
): Promise<{ n: number[]; correlation: number[] }> {
  const api = "sensitivityN";
  const p = await prepare(model, x, target, map, o, "uniform", api);
  if (x.shape[0] < 2)
    throw new Error(`${api}: correlations run across examples; give a batch of at least 2`);
  const step = featuresInStep(o, api);
  const frac = o.nMaxPercentage ?? 0.8;
  if (!(frac > 0 && frac <= 1))
    throw new Error(`${api}: nMaxPercentage must be in (0, 1], got ${frac}`);
  const hw = x.shape[2] * x.shape[3];
  const steps = Math.floor((frac * hw) / step);
  if (steps < 1)
    throw new Error(`${api}: nMaxPercentage ${frac} of ${hw} pixels is less than one step`);
  const rng = new Random(o.seed ?? 0);
  const sums: number[][] = [];
  const drops: number[][] = [];
  for (let i = 0; i < x.shape[0]; i++) {
    const img = hostImage(p.xv, x.shape, i);
    const order = rankPixels(p.sal[i]);
    const regions = Array.from({ length: steps }, (_, j) => group(order, j, step));
    const scores = await cumulativeRemovalScores(
      p,
      model,
      img,
      exampleTarget(target, i),
      regions,
      rng,
      api,
    );
    let acc = 0;
    sums.push(
      Array.from({ length: steps }, (_, j) => {
        acc += sumAt(p.sal[i], group(order, j, step));
        return acc;
      }),
    );
    drops.push(Array.from(scores, (v) => p.base[i] - v));
  }
  return {
    n: Array.from({ length: steps }, (_, j) => Math.min(hw, (j + 1) * step)),
    correlation: Array.from({ length: steps }, (_, j) =>
      pearson(
        sums.map((s) => s[j]),
        drops.map((d) => d[j]),
      ),
    ),
  };
}
