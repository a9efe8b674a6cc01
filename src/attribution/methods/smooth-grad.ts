/**
 * SmoothGrad (Smilkov et al. 2017), SmoothGrad^2 and VarGrad around any attribution method:
 * the method's maps at S noisy copies x + e_s, e_s ~ N(0, sigma^2), reduced to their mean, the
 * mean of squares, or the variance E[a^2] - E[a]^2. Noise is relative by default (sigma = noise *
 * (max x - min x) per example, as PAIR and Zennit), drawn from a seeded generator in sample order,
 * so the result is the same for any batch size.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add, div, mul, sub } from "../../ops/binary.ts";
import { tensor } from "../../ops/creation.ts";
import { slice } from "../../ops/slice.ts";
import { square } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { rowsPerCall } from "../batching.ts";
import { checkCall, replicate } from "../evaluate.ts";
import { targetScores } from "../target.ts";
import type { Attribution, AttributionMethod, BatchOptions, Model, Target } from "../types.ts";

/**
 * How SmoothGrad reduces the noisy maps: their mean, the mean of their squares, or their variance
 * (VarGrad).
 */
export type NoiseVariant = "mean" | "squared" | "vargrad";

/**
 * Options of SmoothGrad: samples, noise level and kind, reduction, seed, and the wrapped method's
 * own options.
 */
export interface SmoothGradOptions<O> extends BatchOptions, EngineOptions {
  /** Number of noisy samples S (default 25, as PAIR). */
  samples?: number;
  /** Noise level: a fraction of each example's value range (relative) or a standard deviation. */
  noise?: number;
  /** "relative" (default; sigma = noise * (max - min)) or "absolute" (Captum's stdevs). */
  noiseType?: "relative" | "absolute";
  /** "mean" (SmoothGrad, default), "squared" (SmoothGrad^2, PAIR's default), or "vargrad". */
  variant?: NoiseVariant;
  seed?: number;
  /** Options passed to the wrapped method. */
  methodOptions?: O;
}

/**
 * The samples, the noise sigma per example, the reduction, and the wrapped method's deltas if it
 * has them.
 */
export interface SmoothGradDetails extends Record<string, unknown> {
  samples: number;
  sigmas: number[];
  variant: NoiseVariant;
  /** The wrapped method's completeness delta per noisy example (sample-major), if it has one. */
  deltas?: number[];
}

/**
 * SmoothGrad (Smilkov et al. 2017) around any attribution method: its maps at noisy copies of x
 * reduced by `o.variant` (mean by default); the input's shape.
 */
export async function smoothGrad<O>(
  method: AttributionMethod<O, Record<string, unknown>>,
  model: Model,
  x: Tensor,
  target: Target,
  o: SmoothGradOptions<O> = {},
): Promise<Attribution<SmoothGradDetails>> {
  // The wrapped method is called after awaits: each call re-enters the context of this one.
  const ctx = engineContext(o);
  await checkCall(x, target, "smoothGrad");
  const samples = o.samples ?? 25;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new Error(`smoothGrad: samples must be a positive integer, got ${samples}`);
  }
  const level = o.noise ?? 0.15;
  if (!(level >= 0) || !Number.isFinite(level)) {
    throw new Error(`smoothGrad: noise must be a non-negative number, got ${level}`);
  }
  const variant = o.variant ?? "mean";
  if (!["mean", "squared", "vargrad"].includes(variant)) {
    throw new Error(`smoothGrad: variant must be mean, squared or vargrad, got "${variant}"`);
  }
  const n = x.shape[0];
  const per = x.size / n;
  const values = await x.data();
  const sigmas = Array.from({ length: n }, (_, i) => {
    if (o.noiseType === "absolute") return level;
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = i * per; j < (i + 1) * per; j++) {
      lo = Math.min(lo, values[j]);
      hi = Math.max(hi, values[j]);
    }
    return level * (hi - lo);
  });
  // A per-example list becomes a callable so it follows the replicated rows of each call.
  const rowTarget: Target = Array.isArray(target)
    ? (out: Tensor, off = 0) => targetScores(out, target, off)
    : target;
  const perCall = Math.max(1, Math.floor(rowsPerCall(x, o.batchSize, "smoothGrad") / n));
  const rng = new Random(o.seed ?? 0);
  let sum: Tensor | null = null;
  let sumSq: Tensor | null = null;
  const deltas: number[] = [];
  let hasDelta = true;
  try {
    for (let s0 = 0; s0 < samples; s0 += perCall) {
      const k = Math.min(perCall, samples - s0);
      const noise = new Float32Array(k * n * per);
      for (let r = 0; r < k * n; r++) {
        const sd = sigmas[r % n];
        for (let j = 0; j < per; j++) noise[r * per + j] = sd * rng.normal();
      }
      const noisy = ctx.run(() =>
        tidy(() => keep(add(replicate(x, k), tensor(noise, [k * n, ...x.shape.slice(1)])))),
      );
      let res: Attribution<Record<string, unknown>>;
      try {
        res = await ctx.run(() => method(model, noisy, rowTarget, o.methodOptions));
      } finally {
        noisy.dispose();
      }
      if (res.delta) deltas.push(...res.delta);
      else hasDelta = false;
      const next = tidy(() => {
        let a = sum;
        let b = sumSq;
        const rows = res.map.shape[0] / k;
        for (let j = 0; j < k; j++) {
          const m = slice(res.map, [j * rows], [rows]);
          a = a ? add(a, m) : add(m, 0);
          b = b ? add(b, square(m)) : square(m);
        }
        return { a: keep(a!), b: keep(b!) };
      });
      res.map.dispose();
      sum?.dispose();
      sumSq?.dispose();
      sum = next.a;
      sumSq = next.b;
    }
    const s = sum!;
    const q = sumSq!;
    const map = tidy(() => {
      const m = div(s, samples);
      if (variant === "mean") return keep(m);
      const m2 = div(q, samples);
      return keep(variant === "squared" ? m2 : sub(m2, mul(m, m)));
    });
    return {
      map,
      details: { samples, sigmas, variant, ...(hasDelta ? { deltas } : {}) },
    };
  } finally {
    sum?.dispose();
    sumSq?.dispose();
  }
}
