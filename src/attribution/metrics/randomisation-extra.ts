/**
 * Randomisation metrics beyond the cascading MPRT of randomisation.ts (Quantus's definitions and
 * defaults):
 * - smooth MPRT (Hedström et al. 2023): MPRT on denoised explanations, each the mean of the
 *   explanations of `samples` (50) noisy copies x + N(0, sigma^2), sigma = 0.1 (max x - min x);
 *   layers randomised cascading, bottom-up (input side first) by default; Spearman correlations;
 * - efficient MPRT (Hedström et al. 2023): every parameterised layer randomised, and the ratio of
 *   the explanation's discrete entropy (a 100-bin histogram of its values, natural log) after to
 *   before; above 1 means the explanation grew more random, as it should;
 * - random logit (Sixt et al. 2020): the SSIM (skimage defaults: 7 x 7 uniform window, K1 0.01,
 *   K2 0.03, sample covariance, data range = the two maps' joint range) between the explanation of
 *   the target class and of a class drawn uniformly among the others (seed 42); lower is better.
 * Maps are compared by their channel sums.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import type { Module } from "../../models/nn/module.ts";
import { add, div } from "../../ops/binary.ts";
import { randomNormal } from "../../ops/creation.ts";
import { Random } from "../../random.ts";
import { checkInput } from "../evaluate.ts";
import { pixelSaliency } from "./pixel-saliency.ts";
import { checkPositiveInt } from "./quantus-common.ts";
import {
  modelRandomisation,
  type RandomisationOptions,
  type RandomisationResult,
  redrawFromOwnStd,
} from "./randomisation.ts";
import type { Explainer } from "./sensitivity.ts";

/** Modules that directly own parameters, in forward (registration) order. */
function parameterisedLayers(root: Module): string[] {
  const names = root.namedParameters().map(([n]) => n.slice(0, Math.max(0, n.lastIndexOf("."))));
  return [...new Set(names)];
}

/** The mean explanation of `samples` noisy copies of x (noise sigma = level * the input's range). */
export async function smoothedExplanation(
  explain: Explainer,
  x: Tensor,
  o: { samples?: number; noise?: number; seed?: number } & EngineOptions = {},
): Promise<Tensor> {
  const ctx = engineContext(o);
  const samples = o.samples ?? 50;
  checkPositiveInt(samples, "samples", "smoothedExplanation");
  const v = await x.data();
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of v) {
    lo = Math.min(lo, t);
    hi = Math.max(hi, t);
  }
  const std = (o.noise ?? 0.1) * (hi - lo);
  const rng = new Random(o.seed ?? 0);
  let acc: Tensor | null = null;
  for (let s = 0; s < samples; s++) {
    const noisy = ctx.run(() =>
      tidy(() => keep(std > 0 ? add(x, randomNormal(x.shape, { std, seed: rng })) : add(x, 0))),
    );
    let m: Tensor;
    try {
      m = await ctx.run(() => explain(noisy));
    } finally {
      noisy.dispose();
    }
    const prev: Tensor | null = acc;
    acc = ctx.run(() => tidy(() => keep(prev ? add(prev, m) : add(m, 0))));
    prev?.dispose();
    m.dispose();
  }
  const sum = acc as Tensor;
  const mean = ctx.run(() => tidy(() => keep(div(sum, samples))));
  sum.dispose();
  return mean;
}

export interface SmoothMprtOptions extends RandomisationOptions {
  samples?: number;
  /** Noise std as a fraction of the input's range (default 0.1). */
  noise?: number;
  /** Which end is randomised first (default "bottom_up"); ignored when `layers` is given. */
  layerOrder?: "bottom_up" | "top_down";
}

/** Smooth MPRT: the model-randomisation check on noise-averaged explanations of x. */
export async function smoothMprt(
  root: Module,
  explain: Explainer,
  x: Tensor,
  o: SmoothMprtOptions = {},
): Promise<RandomisationResult> {
  const ctx = engineContext(o);
  await checkInput(x, "smoothMprt");
  const forward = parameterisedLayers(root);
  const layers =
    o.layers ?? ((o.layerOrder ?? "bottom_up") === "bottom_up" ? forward : forward.reverse());
  // Inside the captured context: modelRandomisation and each explanation inherit it.
  return ctx.run(() =>
    modelRandomisation(
      root,
      // The same noise for every layer, so only the model changes between explanations.
      () => smoothedExplanation(explain, x, { samples: o.samples, noise: o.noise, seed: o.seed }),
      { ...o, rules: undefined, backend: undefined, layers, mode: o.mode ?? "cascading" },
    ),
  );
}

/** scipy.stats.entropy of np.histogram(values, bins): natural log, equal-width bins over [min, max]. */
export function discreteEntropy(values: ArrayLike<number>, bins = 100): number {
  checkPositiveInt(bins, "bins", "discreteEntropy");
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]))
      throw new Error(`discreteEntropy: the values have ${values[i]} at index ${i}`);
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  if (values.length === 0 || hi === lo) return 0;
  const counts = new Float64Array(bins);
  for (let i = 0; i < values.length; i++)
    counts[Math.min(bins - 1, Math.floor(((values[i] - lo) / (hi - lo)) * bins))]++;
  let h = 0;
  for (const c of counts) {
    const p = c / values.length;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/**
 * Efficient MPRT (Hedström et al. 2023, as Quantus's EfficientMPRT): discrete entropies of each
 * example's explanation (natural log); a ratio above 1 means randomising the model made the
 * explanation more random, as it should.
 */
export interface EfficientMprtResult {
  /** Entropy after / before, per example. */
  ratio: number[];
  /** Entropy of the explanation of the trained model, per example. */
  before: number[];
  /** Entropy once every parameterised layer is randomised, per example. */
  after: number[];
}

/** Efficient MPRT: the explanation's entropy after randomising every layer over its entropy before. */
export async function efficientMprt(
  root: Module,
  explain: Explainer,
  x: Tensor,
  o: EngineOptions & { seed?: number; bins?: number } = {},
): Promise<EfficientMprtResult> {
  const ctx = engineContext(o);
  await checkInput(x, "efficientMprt");
  const params = root.namedParameters();
  if (params.length === 0)
    throw new Error("efficientMprt: the model has no parameters to randomise");
  const entropies = async () => {
    const m = await ctx.run(() => explain(x));
    try {
      return (await pixelSaliency(m, "efficientMprt")).map((a) => discreteEntropy(a, o.bins));
    } finally {
      m.dispose();
    }
  };
  const before = await entropies();
  const originals = ctx.run(() => params.map(([, p]) => tidy(() => keep(add(p, 0)))));
  const rng = new Random(o.seed ?? 0);
  try {
    await redrawFromOwnStd(params, rng, ctx);
    const after = await entropies();
    return { ratio: after.map((a, i) => a / before[i]), before, after };
  } finally {
    params.forEach(([, p], i) => {
      p.assign(originals[i]);
      originals[i].dispose();
    });
  }
}

/** Structural similarity of two [height, width] maps, as skimage.metrics.structural_similarity. */
export function ssim(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  height: number,
  width: number,
  o: { win?: number; dataRange?: number } = {},
): number {
  const n = height * width;
  if (a.length !== n || b.length !== n)
    throw new Error(
      `ssim: both maps must have ${height} x ${width} values, got ${a.length} and ${b.length}`,
    );
  const win = o.win ?? 7;
  if (!Number.isInteger(win) || win < 1 || win % 2 === 0 || win > height || win > width)
    throw new Error(
      `ssim: the window must be odd and fit the ${height} x ${width} map, got ${win}`,
    );
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, a[i], b[i]);
    hi = Math.max(hi, a[i], b[i]);
  }
  const range = o.dataRange ?? hi - lo;
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  const np = win * win;
  const covNorm = np > 1 ? np / (np - 1) : 1;
  let total = 0;
  let count = 0;
  for (let y = 0; y + win <= height; y++) {
    for (let x = 0; x + win <= width; x++) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let r = y; r < y + win; r++) {
        for (let c = x; c < x + win; c++) {
          const u = a[r * width + c];
          const v = b[r * width + c];
          sa += u;
          sb += v;
          saa += u * u;
          sbb += v * v;
          sab += u * v;
        }
      }
      const ua = sa / np;
      const ub = sb / np;
      const va = covNorm * (saa / np - ua * ua);
      const vb = covNorm * (sbb / np - ub * ub);
      const vab = covNorm * (sab / np - ua * ub);
      total += ((2 * ua * ub + c1) * (2 * vab + c2)) / ((ua * ua + ub * ub + c1) * (va + vb + c2));
      count++;
    }
  }
  return total / count;
}

/** An explanation of a batch for given per-example classes. */
export type ClassExplainer = (x: Tensor, classes: number[]) => Promise<Tensor>;

/** Random logit: SSIM between the target's explanation and a random other class's, per example. */
export async function randomLogit(
  explain: ClassExplainer,
  x: Tensor,
  target: number | readonly number[],
  o: EngineOptions & { classes: number; seed?: number; win?: number },
): Promise<number[]> {
  const ctx = engineContext(o);
  await checkInput(x, "randomLogit");
  const n = x.shape[0];
  const classes = o.classes;
  if (!Number.isInteger(classes) || classes < 2)
    throw new Error(`randomLogit: classes must be an integer >= 2, got ${classes}`);
  const ys = Array.from({ length: n }, (_, i) => (typeof target === "number" ? target : target[i]));
  for (const y of ys) {
    if (!Number.isInteger(y) || y < 0 || y >= classes)
      throw new Error(`randomLogit: targets must be class indices in [0, ${classes}), got ${y}`);
  }
  const rng = new Random(o.seed ?? 42);
  const off = ys.map((y) => {
    const k = rng.int(classes - 1);
    return k >= y ? k + 1 : k;
  });
  const maps = async (cs: number[]) => {
    const m = await ctx.run(() => explain(x, cs));
    try {
      if (m.rank !== 4)
        throw new Error(`randomLogit: expected maps [N, C, H, W], got [${m.shape}]`);
      return { sal: await pixelSaliency(m, "randomLogit"), h: m.shape[2], w: m.shape[3] };
    } finally {
      m.dispose();
    }
  };
  const a = await maps(ys);
  const b = await maps(off);
  return a.sal.map((s, i) => ssim(s, b.sal[i], a.h, a.w, { win: o.win }));
}
