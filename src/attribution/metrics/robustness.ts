/**
 * Robustness of an explanation to small input changes (Quantus's definitions and defaults):
 * - average sensitivity (Yeh et al. 2019): the mean over `samples` (200) perturbations d, uniform
 *   in [-0.2, 0.2] per element, of ||phi(x + d) - phi(x)||_F / ||x||_F (Quantus divides by the
 *   input's norm; max-sensitivity in sensitivity.ts is Captum's, relative to ||phi(x)||);
 * - local Lipschitz estimate (Alvarez-Melis & Jaakkola 2018): the max over `samples` (200)
 *   Gaussian perturbations (std 0.1) of ||phi(x') - phi(x)||_2 / ||x' - x||_2;
 * - continuity (Montavon et al. 2018): the image is translated right by dx, 2 dx, ..., `steps` (28)
 *   times (uncovered columns filled with the "black" baseline, the image minimum); for each
 *   `patchSize` (7) tile of the explanation, the Pearson correlation of its sum (of |phi|, by
 *   default) with the target score along the translations, averaged over tiles (Quantus's
 *   "continuity correlation"). dx = max(1, floor(W / steps)); Quantus's H * W / steps moves a
 *   224 x 224 image out of view at the first step.
 * Quantus's abs and normalise (divide by max |phi|) switches are options, off unless stated.
 * Lower sensitivity and Lipschitz estimates mean more robust; continuity is read as a correlation.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add } from "../../ops/binary.ts";
import { randomNormal, randomUniform, tensor } from "../../ops/creation.ts";
import { Random } from "../../random.ts";
import { rowsPerCall } from "../batching.ts";
import { checkCall, checkInput, evalScores } from "../evaluate.ts";
import type { BatchOptions, Model, Target } from "../types.ts";
import {
  applyBaseline,
  type Baseline,
  checkBaseline,
  checkPositiveInt,
  hostImage,
  normaliseMaxAbs,
} from "./quantus-common.ts";
import { pearson } from "./rank-correlation.ts";
import type { Explainer } from "./sensitivity.ts";

export interface RobustnessOptions extends EngineOptions {
  samples?: number;
  seed?: number;
  /** Take |phi| before comparing (default false). */
  abs?: boolean;
  /** Divide each explanation by its max |value| before comparing (default false). */
  normalise?: boolean;
  /** A custom perturbation d (x's shape), replacing the default noise. */
  perturb?: (x: Tensor, rng: Random, sample: number) => Tensor;
}

/** Per-example host copies of an explanation, post-processed as the options say. */
async function explained(t: Tensor, n: number, o: RobustnessOptions): Promise<Float64Array[]> {
  const v = await t.data();
  t.dispose();
  const per = v.length / n;
  return Array.from({ length: n }, (_, i) => {
    let a: Float64Array = Float64Array.from(v.subarray(i * per, (i + 1) * per));
    if (o.normalise) a = normaliseMaxAbs(a);
    if (o.abs) a = a.map(Math.abs);
    return a;
  });
}

const dist = (a: ArrayLike<number>, b: ArrayLike<number>, off = 0) => {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] - b[off + j]) ** 2;
  return Math.sqrt(s);
};

/** Runs `samples` perturbations, calling `visit(i, phi_i, phi'_i, x_i, x'_i)` per example. */
async function perturbations(
  explain: Explainer,
  x: Tensor,
  o: RobustnessOptions,
  noise: (rng: Random) => Tensor,
  defaultSamples: number,
  api: string,
  visit: (
    i: number,
    a: Float64Array,
    b: Float64Array,
    xv: ArrayLike<number>,
    xp: ArrayLike<number>,
  ) => void,
): Promise<void> {
  const ctx = engineContext(o);
  await checkInput(x, api);
  const samples = o.samples ?? defaultSamples;
  checkPositiveInt(samples, "samples", api);
  const rng = new Random(o.seed ?? 0);
  const n = x.shape[0];
  const per = x.size / n;
  const xv = await x.data();
  const base = await explained(await ctx.run(() => explain(x)), n, o);
  for (let s = 0; s < samples; s++) {
    const moved = ctx.run(() =>
      tidy(() => keep(add(x, o.perturb ? o.perturb(x, rng, s) : noise(rng)))),
    );
    let maps: Float64Array[];
    let mv: ArrayLike<number>;
    try {
      mv = await moved.data();
      maps = await explained(await ctx.run(() => explain(moved)), n, o);
    } finally {
      moved.dispose();
    }
    for (let i = 0; i < n; i++)
      visit(
        i,
        base[i],
        maps[i],
        xv.subarray(i * per, (i + 1) * per),
        (mv as Float32Array).subarray(i * per, (i + 1) * per),
      );
  }
}

/** Average sensitivity per example (Quantus AvgSensitivity). */
export async function avgSensitivity(
  explain: Explainer,
  x: Tensor,
  o: RobustnessOptions & { lowerBound?: number } = {},
): Promise<number[]> {
  const r = o.lowerBound ?? 0.2;
  const samples = o.samples ?? 200;
  const sums = new Array<number>(x.shape[0]).fill(0);
  await perturbations(
    explain,
    x,
    o,
    (rng) => randomUniform(x.shape, { low: -r, high: r, seed: rng }),
    200,
    "avgSensitivity",
    (i, a, b, xi) => {
      const nx = dist(xi, new Float64Array(xi.length));
      sums[i] += nx > 0 ? dist(a, b) / nx : dist(a, b);
    },
  );
  return sums.map((s) => s / samples);
}

/** Local Lipschitz estimate per example (Quantus LocalLipschitzEstimate). */
export async function localLipschitzEstimate(
  explain: Explainer,
  x: Tensor,
  o: RobustnessOptions & { std?: number } = {},
): Promise<number[]> {
  const std = o.std ?? 0.1;
  const worst = new Array<number>(x.shape[0]).fill(0);
  await perturbations(
    explain,
    x,
    o,
    (rng) => randomNormal(x.shape, { mean: 0, std, seed: rng }),
    200,
    "localLipschitzEstimate",
    (i, a, b, xi, xp) => {
      const dx = dist(xi, xp);
      if (dx > 0) worst[i] = Math.max(worst[i], dist(a, b) / dx);
    },
  );
  return worst;
}

export interface ContinuityOptions extends BatchOptions, EngineOptions {
  steps?: number;
  patchSize?: number;
  baseline?: Baseline;
  /** Default true, as Quantus. */
  abs?: boolean;
  /** Divide each explanation by its max |value| (default false). */
  normalise?: boolean;
}

/**
 * Continuity of one example (Montavon et al. 2018, Quantus's Continuity): higher means the
 * explanation follows the model as the image shifts.
 */
export interface ContinuityResult {
  /** The mean over tiles of corr(tile sum, score) along the translations. */
  score: number;
  /** Target scores after each translation. */
  scores: number[];
  /** Per tile (raster order), its attribution sum after each translation. */
  tileSums: number[][];
}

/** Continuity per example: how tile sums of the explanation follow the score as the image shifts. */
export async function continuity(
  model: Model,
  explain: Explainer,
  x: Tensor,
  target: Target,
  o: ContinuityOptions = {},
): Promise<ContinuityResult[]> {
  const api = "continuity";
  const ctx = engineContext(o);
  await checkCall(x, target, api);
  if (x.rank !== 4) throw new Error(`${api}: expected images [N, C, H, W], got [${x.shape}]`);
  const steps = o.steps ?? 28;
  const size = o.patchSize ?? 7;
  checkPositiveInt(steps, "steps", api);
  checkPositiveInt(size, "patchSize", api);
  const baseline = o.baseline ?? "black";
  checkBaseline(baseline, api);
  const [n, c, h, w] = x.shape;
  const dx = Math.max(1, Math.floor(w / steps));
  const xv = await x.data();
  const imgs = Array.from({ length: n }, (_, i) => hostImage(xv, x.shape, i));
  const rng = new Random(0);
  const batch = rowsPerCall(x, o.batchSize, api);
  const tiles: [number, number][] = [];
  for (let y = 0; y < h; y += size) for (let xx = 0; xx < w; xx += size) tiles.push([y, xx]);
  const scores: number[][] = imgs.map(() => []);
  const sums: number[][][] = imgs.map(() => tiles.map(() => []));
  for (let s = 1; s <= steps; s++) {
    const shift = s * dx;
    const data = new Float32Array(xv.length);
    imgs.forEach((img, i) => {
      const out = data.subarray(i * c * h * w, (i + 1) * c * h * w);
      const uncovered: number[] = [];
      for (let r = 0; r < h; r++) {
        for (let col = 0; col < w; col++) {
          if (col < shift) uncovered.push(r * w + col);
          else
            for (let ch = 0; ch < c; ch++)
              out[ch * h * w + r * w + col] = img.values[ch * h * w + r * w + col - shift];
        }
      }
      applyBaseline(out, img, uncovered, baseline, rng);
    });
    const moved = ctx.run(() => tensor(data, x.shape));
    try {
      const f = await evalScores(model, moved, target, batch, ctx, api);
      const m = await ctx.run(() => explain(moved));
      const maps = await m.data();
      m.dispose();
      const per = maps.length / n;
      const mc = per / (h * w);
      if (!Number.isInteger(mc))
        throw new Error(`${api}: the explanation must be [N, C or 1, ${h}, ${w}]`);
      for (let i = 0; i < n; i++) {
        scores[i].push(f[i]);
        let a: Float64Array = Float64Array.from(maps.subarray(i * per, (i + 1) * per));
        if (o.normalise) a = normaliseMaxAbs(a);
        if (o.abs ?? true) a = a.map(Math.abs);
        tiles.forEach(([ty, tx], k) => {
          let t = 0;
          for (let ch = 0; ch < mc; ch++)
            for (let r = ty; r < Math.min(h, ty + size); r++)
              for (let col = tx; col < Math.min(w, tx + size); col++)
                t += a[ch * h * w + r * w + col];
          sums[i][k].push(t);
        });
      }
    } finally {
      moved.dispose();
    }
  }
  return imgs.map((_, i) => ({
    score:
      steps < 2
        ? Number.NaN
        : sums[i].reduce((t, series) => t + pearson(series, scores[i]), 0) / tiles.length,
    scores: scores[i],
    tileSums: sums[i],
  }));
}
