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
import type { Random } from "../../random.ts";
import type { BatchOptions, Model, Target } from "../types.ts";
import { rankPixels } from "./pixel-saliency.ts";
import {
  applyBaseline,
  ascending,
  type Baseline,
  checkPositiveInt,
  drops,
  featuresInStep,
  forEachExample,
  prepare,
  stepGroups,
  sumAt,
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
  return forEachExample(p, async (e) => {
    const subsets = Array.from({ length: runs }, () => sample(hw, size, p.rng));
    const scores = await e.removal(runs, (j) => subsets[j]);
    return pearson(
      subsets.map((s) => sumAt(e.sal, s)),
      drops(e.base, scores),
    );
  });
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
  return forEachExample(p, async (e) => {
    const groups = stepGroups(rankPixels(e.sal), step);
    const scores = await e.removal(groups.length, (j) => groups[j]);
    return pearson(
      groups.map((g) => sumAt(e.sal, g)),
      drops(e.base, scores),
    );
  });
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
  return forEachExample(p, async ({ img, sal, variants }) => {
    const hw = img.height * img.width;
    const groups = stepGroups(ascending(sal), step);
    // The image grows cumulatively: variants are made in order from one running copy.
    const cur = new Float32Array(img.values.length);
    applyBaseline(
      cur,
      img,
      Int32Array.from({ length: hw }, (_, k) => k),
      p.baseline,
      p.rng,
    );
    const scores = await variants(groups.length, (j, buf) => {
      for (const px of groups[j])
        for (let c = 0; c < img.channels; c++) cur[c * hw + px] = img.values[c * hw + px];
      buf.set(cur);
    });
    const curve = Array.from(scores);
    return { monotonic: curve.every((v, k) => k === 0 || v >= curve[k - 1]), curve };
  });
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
  return forEachExample(p, async (e) => {
    const groups = stepGroups(ascending(e.sal), step);
    const scores = await e.removal(groups.length * samples, (j) => groups[Math.floor(j / samples)]);
    const y = e.base;
    const inv = Math.abs(y) < eps ? 1 : 1 / (y * y);
    const vars = groups.map((_, g) => {
      let m = 0;
      for (let r = 0; r < samples; r++) m += (scores[g * samples + r] - y) ** 2;
      return (m / samples) * inv;
    });
    return spearman(
      groups.map((g) => sumAt(e.sal, g)),
      vars,
    );
  });
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
  const curves = await forEachExample(p, async (e) => {
    const regions = stepGroups(rankPixels(e.sal), step, steps);
    const scores = await e.cumulative(regions);
    let acc = 0;
    const sums = regions.map((r) => {
      acc += sumAt(e.sal, r);
      return acc;
    });
    return { sums, drops: drops(e.base, scores) };
  });
  return {
    n: Array.from({ length: steps }, (_, j) => Math.min(hw, (j + 1) * step)),
    correlation: Array.from({ length: steps }, (_, j) =>
      pearson(
        curves.map((c) => c.sums[j]),
        curves.map((c) => c.drops[j]),
      ),
    ),
  };
}
