/**
 * ROAD (Rong et al. 2022, tleemann/road_evaluation): remove the most (MoRF) or least (LeRF)
 * relevant pixels by noisy linear imputation rather than a constant fill, then re-score. The
 * imputer solves, for every removed pixel, value = weighted mean of its 8 neighbours (weights 1/6
 * for the 4 direct and 1/12 for the diagonal ones, out-of-image neighbours dropped): a discrete
 * harmonic interpolation, so linear ramps are reproduced exactly away from the border; then adds
 * N(0, noise^2). Here `fraction` is the share of pixels removed for both orders (the reference's
 * `percentile` argument means opposite things for MoRF and LeRF).
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { tensor } from "../../ops/creation.ts";
import { Random } from "../../random.ts";
import { rowsPerCall } from "../batching.ts";
import { checkCall, perturbedAndCleanScores } from "../evaluate.ts";
import type { BatchOptions, Model, Target } from "../types.ts";
import { checkMapFor, pixelSaliency, rankPixels } from "./pixel-saliency.ts";

const NEIGHBOURS: readonly [number, number, number][] = [
  [1, 1, 1 / 12],
  [0, 1, 1 / 6],
  [-1, 1, 1 / 12],
  [1, -1, 1 / 12],
  [0, -1, 1 / 6],
  [-1, -1, 1 / 12],
  [1, 0, 1 / 6],
  [-1, 0, 1 / 6],
];

/**
 * Noisy linear imputation of an image [C, H, W]: pixels where `known` is 0 are solved for (conjugate
 * gradients on the symmetric positive definite system, float64), then noise is added.
 */
export function noisyLinearImpute(
  image: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  known: ArrayLike<number | boolean>,
  o: { noise?: number; seed?: number | Random } = {},
): Float32Array {
  const hw = height * width;
  if (image.length !== channels * hw || known.length !== hw) {
    throw new Error(
      `noisyLinearImpute: expected ${channels} x ${height} x ${width} values and a ${height} x ${width} mask`,
    );
  }
  const unknown: number[] = [];
  const index = new Int32Array(hw).fill(-1);
  for (let p = 0; p < hw; p++) {
    if (!known[p]) {
      index[p] = unknown.length;
      unknown.push(p);
    }
  }
  const out = Float32Array.from(image);
  const m = unknown.length;
  if (m === 0) return out;
  if (m === hw)
    throw new Error("noisyLinearImpute: every pixel is removed; nothing to interpolate from");
  // Row i: diag[i] x_i - sum_{unknown nbr j} w x_j = sum_{known nbr k} w v_k.
  const diag = new Float64Array(m);
  const nbr: { j: number; w: number }[][] = unknown.map(() => []);
  const knownNbr: { p: number; w: number }[][] = unknown.map(() => []);
  unknown.forEach((p, i) => {
    const y = Math.floor(p / width);
    const x = p % width;
    for (const [dy, dx, w] of NEIGHBOURS) {
      const yy = y + dy;
      const xx = x + dx;
      if (yy < 0 || xx < 0 || yy >= height || xx >= width) continue;
      diag[i] += w;
      const q = yy * width + xx;
      if (index[q] >= 0) nbr[i].push({ j: index[q], w });
      else knownNbr[i].push({ p: q, w });
    }
  });
  const apply = (v: Float64Array, r: Float64Array) => {
    for (let i = 0; i < m; i++) {
      let s = diag[i] * v[i];
      for (const { j, w } of nbr[i]) s -= w * v[j];
      r[i] = s;
    }
  };
  const rng = o.seed instanceof Random ? o.seed : new Random(o.seed ?? 0);
  const noise = o.noise ?? 0.01;
  for (let c = 0; c < channels; c++) {
    const off = c * hw;
    const b = new Float64Array(m);
    for (let i = 0; i < m; i++) for (const { p, w } of knownNbr[i]) b[i] += w * image[off + p];
    const x = new Float64Array(m);
    const r = Float64Array.from(b);
    const d = Float64Array.from(b);
    const ad = new Float64Array(m);
    let rr = r.reduce((a, v) => a + v * v, 0);
    const stop = 1e-24 * Math.max(1, rr);
    for (let it = 0; it < 10 * m + 100 && rr > stop; it++) {
      apply(d, ad);
      let dad = 0;
      for (let i = 0; i < m; i++) dad += d[i] * ad[i];
      const alpha = rr / dad;
      for (let i = 0; i < m; i++) {
        x[i] += alpha * d[i];
        r[i] -= alpha * ad[i];
      }
      const rr2 = r.reduce((a, v) => a + v * v, 0);
      const beta = rr2 / rr;
      rr = rr2;
      for (let i = 0; i < m; i++) d[i] = r[i] + beta * d[i];
    }
    for (let i = 0; i < m; i++)
      out[off + unknown[i]] = x[i] + (noise > 0 ? noise * rng.normal() : 0);
  }
  return out;
}

/** Options of ROAD: removal order, removed fractions, imputation noise and seed. */
export interface RoadOptions extends BatchOptions, EngineOptions {
  /** "morf" (most relevant first; lower is better) or "lerf" (least relevant first; higher is better). */
  order?: "morf" | "lerf";
  /** Shares of pixels removed (default 0.1, 0.2, ..., 0.9). */
  fractions?: readonly number[];
  /** Imputation noise standard deviation (default 0.01, the reference's). */
  noise?: number;
  seed?: number;
}

/**
 * The target score after each removed fraction, their mean per example and the unperturbed scores.
 */
export interface RoadResult {
  fractions: number[];
  /** Target score after removing each fraction, [example][fraction]. */
  scores: number[][];
  /** Mean over fractions per example (the area-style summary). */
  mean: number[];
  /** Unperturbed scores. */
  base: number[];
}

/**
 * ROAD (Rong et al. 2022): the target score after removing the most (or least) relevant pixels of
 * `map` by noisy linear imputation, for each fraction.
 */
export async function road(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: RoadOptions = {},
): Promise<RoadResult> {
  const ctx = engineContext(o);
  await checkCall(x, target, "road");
  checkMapFor(map, x, "road");
  const [n, c, h, w] = x.shape;
  const fractions = [...(o.fractions ?? [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])];
  if (fractions.some((f) => !(f >= 0 && f < 1)))
    throw new Error(`road: fractions must be in [0, 1), got [${fractions}]`);
  const order = o.order ?? "morf";
  if (order !== "morf" && order !== "lerf")
    throw new Error(`road: order must be "morf" or "lerf", got "${order}"`);
  const sal = await pixelSaliency(map, "road");
  const values = await x.data();
  const rng = new Random(o.seed ?? 0);
  const imputed = new Float32Array(fractions.length * n * c * h * w);
  for (let f = 0; f < fractions.length; f++) {
    for (let i = 0; i < n; i++) {
      const ranked = rankPixels(sal[i]);
      const removed = Math.round(fractions[f] * h * w);
      const known = new Uint8Array(h * w).fill(1);
      for (let r = 0; r < removed; r++) known[ranked[order === "morf" ? r : h * w - 1 - r]] = 0;
      const img = values.subarray(i * c * h * w, (i + 1) * c * h * w);
      imputed.set(
        noisyLinearImpute(img, c, h, w, known, { noise: o.noise, seed: rng }),
        (f * n + i) * c * h * w,
      );
    }
  }
  const batch = rowsPerCall(x, o.batchSize, "road");
  const all = ctx.run(() => tidy(() => keep(tensor(imputed, [fractions.length * n, c, h, w]))));
  const { perturbed: scores, clean: base } = await perturbedAndCleanScores(
    model,
    all,
    x,
    target,
    batch,
    ctx,
    "road",
  );
  const per = Array.from({ length: n }, (_, i) => fractions.map((_, f) => scores[f * n + i]));
  return {
    fractions,
    scores: per,
    mean: per.map((s) => s.reduce((a, b) => a + b, 0) / s.length),
    base: Array.from(base),
  };
}
