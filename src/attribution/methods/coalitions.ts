/**
 * Shared by KernelSHAP and LIME: pixel groups (a grid, superpixels, any integer label map [H, W])
 * as interpretable features, model scores of coalitions (features present keep the input, absent
 * ones take the fill), and the per-feature values spread back onto the pixels.
 */
import { type EngineContext, type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { tensor } from "../../ops/creation.ts";
import { rowsPerCall } from "../batching.ts";
import { checkImageCall } from "../evaluate.ts";
import { checkFill, type Fill, perturbedScores } from "../perturb.ts";
import type { BatchOptions, Model, Target } from "../types.ts";

/** Options every coalition method takes: the pixel groups, the fill of absent groups, the seed. */
export interface CoalitionOptions extends BatchOptions, EngineOptions {
  /** Integer group label per pixel, [H, W] row-major; each distinct value is one feature. */
  mask: Int32Array | readonly number[];
  /** Value (or image of the input's shape) that absent features take (default 0). */
  fill?: Fill;
  seed?: number;
}

/** A checked coalition-method call: what scoring coalitions and spreading values back need. */
export interface CoalitionCall {
  model: Model;
  x: Tensor;
  target: Target;
  features: Features;
  fill: Fill;
  batchSize: number | undefined;
  ctx: EngineContext;
  api: string;
}

/** Checks the input, target, mask and fill of a coalition method's call. */
export async function coalitionCall(
  model: Model,
  x: Tensor,
  target: Target,
  o: CoalitionOptions | undefined,
  api: string,
): Promise<CoalitionCall> {
  const ctx = engineContext(o ?? {});
  const features = await checkedFeatures(x, target, o?.mask, api);
  const fill = o?.fill ?? 0;
  checkFill(fill, x, api);
  return { model, x, target, features, fill, batchSize: o?.batchSize, ctx, api };
}

/** {@link coalitionScores} of a checked call, batched as its options ask. */
export function scoreCoalitions(
  call: CoalitionCall,
  present: Uint8Array,
): Promise<{ scores: Float64Array; base: Float64Array }> {
  const { model, x, target, features, fill, ctx, api } = call;
  return coalitionScores(
    model,
    x,
    target,
    features,
    present,
    fill,
    rowsPerCall(x, call.batchSize, api),
    ctx,
    api,
  );
}

/** Per-example feature values credited to their pixels, in the call's engine context. */
export function spreadCallToPixels(
  call: CoalitionCall,
  values: readonly ArrayLike<number>[],
): Tensor {
  return call.ctx.run(() => spreadToPixels(values, call.features, call.x.shape));
}

/** Distinct labels of a pixel-group mask and the feature index of every pixel. */
export interface Features {
  labels: number[];
  /** Feature index per pixel, [H * W]. */
  index: Int32Array;
}

/** Checks a label mask [H, W] and numbers its distinct labels 0..M-1 in ascending order. */
export function featuresOf(
  mask: Int32Array | readonly number[] | undefined,
  h: number,
  w: number,
  api: string,
): Features {
  if (!mask || mask.length !== h * w) {
    throw new Error(
      `${api}: options.mask must hold one integer label per pixel (${h} x ${w} = ${h * w}), got ${mask ? mask.length : "none"}`,
    );
  }
  const labels = [...new Set(Array.from(mask))].sort((a, b) => a - b);
  if (labels.some((l) => !Number.isInteger(l)))
    throw new Error(`${api}: mask labels must be integers`);
  const group = new Map(labels.map((l, g) => [l, g]));
  const index = new Int32Array(h * w);
  for (let p = 0; p < h * w; p++) index[p] = group.get(mask[p])!;
  return { labels, index };
}

/** Checks a coalition method's call (an [N, C, H, W] input and its target) and numbers the mask's groups. */
export async function checkedFeatures(
  x: Tensor,
  target: Target,
  mask: Int32Array | readonly number[] | undefined,
  api: string,
): Promise<Features> {
  await checkImageCall(x, target, api);
  return featuresOf(mask, x.shape[2], x.shape[3], api);
}

/**
 * Target scores of every coalition (row j of `present`, M entries of 0/1: feature kept or filled),
 * [count * N] coalition-major, plus the unperturbed scores [N].
 */
export function coalitionScores(
  model: Model,
  x: Tensor,
  target: Target,
  features: Features,
  present: Uint8Array,
  fill: Fill,
  batchSize: number,
  ctx: EngineContext,
  api: string,
): Promise<{ scores: Float64Array; base: Float64Array }> {
  const m = features.labels.length;
  const count = present.length / m;
  return perturbedScores(
    model,
    x,
    target,
    count,
    (j, buf) => {
      const row = j * m;
      for (let p = 0; p < buf.length; p++) if (!present[row + features.index[p]]) buf[p] = 1;
    },
    fill,
    batchSize,
    ctx,
    api,
  );
}

/** Example i's score in each of `rows` coalitions, from coalition-major scores [rows * N]. */
export function exampleScores(
  scores: Float64Array,
  rows: number,
  n: number,
  i: number,
): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) y[r] = scores[r * n + i];
  return y;
}

/** values[i][g] credited to every pixel of feature g (all channels), as a tensor of x's shape. */
export function spreadToPixels(
  values: readonly ArrayLike<number>[],
  features: Features,
  shape: readonly number[],
): Tensor {
  const [n, c, h, w] = shape;
  const out = new Float32Array(n * c * h * w);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < h * w; p++) {
      const v = values[i][features.index[p]];
      for (let ch = 0; ch < c; ch++) out[(i * c + ch) * h * w + p] = v;
    }
  }
  return tensor(out, shape);
}
