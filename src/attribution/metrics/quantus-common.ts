/**
 * Shared pieces of the Quantus-style metrics: baseline values that replace perturbed pixels
 * (Quantus's "black" = the image minimum, "white" = its maximum, "mean" = the per-channel mean,
 * "uniform" = fresh uniform noise in [min, max]), the scores of many perturbed copies of one
 * example built on the host and evaluated in batches, and small numeric helpers.
 */
import { type EngineContext, type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { tensor } from "../../ops/creation.ts";
import { Random } from "../../random.ts";
import { rowsPerCall } from "../batching.ts";
import { checkCall, evalScores, evalScoresOf } from "../evaluate.ts";
import type { BatchOptions, Model, Target } from "../types.ts";
import { checkMapFor, pixelSaliency } from "./pixel-saliency.ts";

/** What replaces a perturbed pixel (all channels): a Quantus baseline name or a fixed value. */
export type Baseline = "black" | "white" | "mean" | "uniform" | number;

const BASELINES = ["black", "white", "mean", "uniform"];

export function checkBaseline(b: Baseline, api: string): void {
  if (typeof b === "number" ? !Number.isFinite(b) : !BASELINES.includes(b)) {
    throw new Error(
      `${api}: the baseline must be a finite number or one of ${BASELINES.join(", ")}, got ${String(b)}`,
    );
  }
}

/** One example's pixels [C, H, W] on the host, with its value range and channel means. */
export interface HostImage {
  values: Float32Array;
  channels: number;
  height: number;
  width: number;
  min: number;
  max: number;
  channelMeans: Float64Array;
}

export function hostImage(all: ArrayLike<number>, shape: readonly number[], i: number): HostImage {
  const [, c, h, w] = shape;
  const per = c * h * w;
  const values = Float32Array.from({ length: per }, (_, k) => all[i * per + k]);
  let min = Infinity;
  let max = -Infinity;
  const channelMeans = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) {
      const v = values[ch * h * w + p];
      min = Math.min(min, v);
      max = Math.max(max, v);
      channelMeans[ch] += v / (h * w);
    }
  }
  return { values, channels: c, height: h, width: w, min, max, channelMeans };
}

/**
 * Writes the baseline into `buf` (an image [C, H, W]) at the given pixels, all channels; "uniform"
 * draws a new value per element.
 */
export function applyBaseline(
  buf: Float32Array,
  img: HostImage,
  pixels: ArrayLike<number>,
  baseline: Baseline,
  rng: Random,
): void {
  const hw = img.height * img.width;
  for (let ch = 0; ch < img.channels; ch++) {
    const fixed =
      typeof baseline === "number"
        ? baseline
        : baseline === "black"
          ? img.min
          : baseline === "white"
            ? img.max
            : baseline === "mean"
              ? img.channelMeans[ch]
              : Number.NaN;
    for (let k = 0; k < pixels.length; k++) {
      buf[ch * hw + pixels[k]] = Number.isNaN(fixed)
        ? img.min + (img.max - img.min) * rng.uniform()
        : fixed;
    }
  }
}

/** The target of example i alone, for scoring its perturbed copies. */
export function exampleTarget(target: Target, i: number): Target {
  return typeof target === "object" ? [target[i]] : target;
}

/**
 * Target scores of `count` variants of one image, `make(j, buf)` writing variant j into `buf`
 * (an [C, H, W] image, not cleared between calls, called in order j = 0, 1, ...), evaluated
 * `batchSize` rows at a time.
 */
export function variantScores(
  model: Model,
  img: HostImage,
  target: Target,
  count: number,
  make: (j: number, buf: Float32Array) => void,
  batchSize: number,
  ctx: EngineContext,
  api: string,
): Promise<Float64Array> {
  const { channels: c, height: h, width: w } = img;
  const per = c * h * w;
  return evalScoresOf(
    model,
    count,
    (a, b) => {
      const data = new Float32Array((b - a) * per);
      for (let j = a; j < b; j++) make(j, data.subarray((j - a) * per, (j - a + 1) * per));
      return tensor(data, [b - a, c, h, w]);
    },
    target,
    batchSize,
    ctx,
    api,
  );
}

/**
 * Scores of `count` copies of one image, copy j being the clean image with the pixels `removed(j)`
 * replaced by the baseline.
 */
export function removalScores(
  p: Pick<Prepared, "baseline" | "batch" | "ctx">,
  model: Model,
  img: HostImage,
  target: Target,
  count: number,
  removed: (j: number) => ArrayLike<number>,
  rng: Random,
  api: string,
): Promise<Float64Array> {
  return variantScores(
    model,
    img,
    target,
    count,
    (j, buf) => {
      buf.set(img.values);
      applyBaseline(buf, img, removed(j), p.baseline, rng);
    },
    p.batch,
    p.ctx,
    api,
  );
}

/** Scores of the image with the regions removed cumulatively, one region more per variant. */
export function cumulativeRemovalScores(
  p: Pick<Prepared, "baseline" | "batch" | "ctx">,
  model: Model,
  img: HostImage,
  target: Target,
  regions: readonly ArrayLike<number>[],
  rng: Random,
  api: string,
): Promise<Float64Array> {
  const cur = Float32Array.from(img.values);
  return variantScores(
    model,
    img,
    target,
    regions.length,
    (j, buf) => {
      applyBaseline(cur, img, regions[j], p.baseline, rng);
      buf.set(cur);
    },
    p.batch,
    p.ctx,
    api,
  );
}

/** The checked `featuresInStep` option: pixels per removal group (default 1). */
export function featuresInStep(o: { featuresInStep?: number }, api: string): number {
  const step = o.featuresInStep ?? 1;
  checkPositiveInt(step, "featuresInStep", api);
  return step;
}

/** Pixel indices by ascending value; ties keep raster order. */
export function ascending(values: ArrayLike<number>): Int32Array {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[a] - values[b] || a - b);
  return Int32Array.from(idx);
}

/** np.trapz(values, dx=1): the area Quantus's calculate_auc reports. */
export function trapezoid(values: readonly number[]): number {
  let s = 0;
  for (let i = 1; i < values.length; i++) s += (values[i - 1] + values[i]) / 2;
  return s;
}

export function checkPositiveInt(v: number, name: string, api: string): void {
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`${api}: ${name} must be a positive integer, got ${v}`);
}

/** Divides by the largest |value| (Quantus's normalise_by_max); an all-zero map is left as is. */
export function normaliseMaxAbs(a: ArrayLike<number>): Float64Array {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return Float64Array.from(a, (v) => (m > 0 ? v / m : v));
}

/** What every perturbation metric starts from: checked inputs, per-pixel maps and clean scores. */
export interface Prepared {
  model: Model;
  x: Tensor;
  target: Target;
  api: string;
  ctx: EngineContext;
  batch: number;
  /** Channel-summed map per example (H * W values). */
  sal: Float64Array[];
  xv: ArrayLike<number>;
  /** Target scores of the unperturbed examples. */
  base: Float64Array;
  baseline: Baseline;
  /** The call's one seeded stream (`seed`, default 0): uniform noise and random orders draw from it. */
  rng: Random;
}

export async function prepare(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: BatchOptions & EngineOptions & { baseline?: Baseline; seed?: number },
  defaultBaseline: Baseline,
  api: string,
): Promise<Prepared> {
  const ctx = engineContext(o);
  await checkCall(x, target, api);
  checkMapFor(map, x, api);
  const baseline = o.baseline ?? defaultBaseline;
  checkBaseline(baseline, api);
  const batch = rowsPerCall(x, o.batchSize, api);
  const sal = await pixelSaliency(map, api);
  const xv = await x.data();
  const base = await evalScores(model, x, target, batch, ctx, api);
  const rng = new Random(o.seed ?? 0);
  return { model, x, target, api, ctx, batch, sal, xv, base, baseline, rng };
}

/** One example of a prepared call, with the scores of its perturbed copies. */
export interface MetricExample {
  /** Index in the batch. */
  i: number;
  img: HostImage;
  /** Channel-summed map (H * W values). */
  sal: Float64Array;
  /** Target score of the clean example. */
  base: number;
  /** The example's own target. */
  target: Target;
  /** {@link removalScores}: f with the pixels `removed(j)` replaced in the clean image, j < count. */
  removal(count: number, removed: (j: number) => ArrayLike<number>): Promise<Float64Array>;
  /** {@link cumulativeRemovalScores}: f as the regions are replaced one after another. */
  cumulative(regions: readonly ArrayLike<number>[]): Promise<Float64Array>;
  /** {@link variantScores} of `count` copies written by `make`, batched as the call asks. */
  variants(count: number, make: (j: number, buf: Float32Array) => void): Promise<Float64Array>;
}

/**
 * Runs `each` on every example in batch order (one at a time: the seeded stream runs on from one
 * example to the next) and collects the results.
 */
export async function forEachExample<T>(
  p: Prepared,
  each: (e: MetricExample) => Promise<T>,
): Promise<T[]> {
  const { model, x, target, api, rng } = p;
  const out: T[] = [];
  for (let i = 0; i < x.shape[0]; i++) {
    const img = hostImage(p.xv, x.shape, i);
    const t = exampleTarget(target, i);
    out.push(
      await each({
        i,
        img,
        sal: p.sal[i],
        base: p.base[i],
        target: t,
        removal: (count, removed) => removalScores(p, model, img, t, count, removed, rng, api),
        cumulative: (regions) => cumulativeRemovalScores(p, model, img, t, regions, rng, api),
        variants: (count, make) => variantScores(model, img, t, count, make, p.batch, p.ctx, api),
      }),
    );
  }
  return out;
}

/** `order` cut into `count` consecutive groups of `step` pixels (the last may be shorter). */
export function stepGroups(
  order: Int32Array,
  step: number,
  count = Math.ceil(order.length / step),
): Int32Array[] {
  return Array.from({ length: count }, (_, g) => group(order, g, step));
}

/** The drop f(x) - f(x') of each perturbed score from the clean one. */
export function drops(base: number, scores: Float64Array): number[] {
  return Array.from(scores, (v) => base - v);
}

/** The pixels of group g when `order` is cut into groups of `step`. */
export function group(order: Int32Array, g: number, step: number): Int32Array {
  return order.subarray(g * step, Math.min(order.length, (g + 1) * step));
}

/** Sum of the map over some pixels. */
export function sumAt(a: ArrayLike<number>, pixels: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < pixels.length; k++) s += a[pixels[k]];
  return s;
}
