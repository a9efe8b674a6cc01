/**
 * Faithfulness curves: the target score as the most relevant pixels, patches or segments are
 * removed cumulatively (Quantus's definitions and defaults; scores as in faithfulness.ts).
 * - pixel flipping (Bach et al. 2015): `featuresInStep` (1) pixels at a time in descending order
 *   of a, baseline "black"; the curve of f and its area (np.trapz, unit spacing, as Quantus);
 * - region perturbation (Samek et al. 2015): every `patchSize` (8) square patch (top-left corner at
 *   each pixel, cut at the border) ranked by its sum of a ("morf": most relevant first, "lerf",
 *   "random"), taken greedily without overlap up to `regionsEvaluation` (100), each replaced by
 *   "uniform" noise; the curve of f(x) - f(x_k) and AOPC = the mean of f(x) - f(x_k) over
 *   k = 0..L (k = 0 contributes 0);
 * - selectivity (Montavon et al. 2018): the image tiled into `patchSize` (8) squares, removed in
 *   descending order of their sum of a with baseline "black"; the curve of f and its area;
 * - IROF (Rieger & Hansen 2020): superpixels (SLIC, about 100 segments, or given) ranked by their
 *   mean a, removed cumulatively with the per-channel image mean; the curve f(x_k) / f(x) and the
 *   area over it, len - np.trapz(curve), as Quantus reports it. Removal is cumulative, as in the
 *   paper; some Quantus releases replace each segment in the clean image alone.
 */

import type { Tensor } from "../../autodiff/tensor.ts";
import { type SlicOptions, slicSegments } from "../segments/slic.ts";
import type { Model, Target } from "../types.ts";
import type { PerturbationOptions, StepOptions } from "./faithfulness.ts";
import { rankPixels } from "./pixel-saliency.ts";
import {
  checkPositiveInt,
  drops,
  featuresInStep,
  forEachExample,
  prepare,
  stepGroups,
  trapezoid,
} from "./quantus-common.ts";

/** One example's faithfulness curve and its summary score. */
export interface CurveResult {
  /**
   * The curve point per removal step: f (pixel flipping, selectivity), f(x) - f(x_k) (region
   * perturbation) or f(x_k) / f(x) (IROF).
   */
  curve: number[];
  /** The summary: the area under (pixel flipping, selectivity), AOPC (region perturbation) or over (IROF) the curve. */
  score: number;
}

/** Pixel flipping per example: f as pixels are removed in descending order of a. */
export async function pixelFlipping(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: StepOptions = {},
): Promise<CurveResult[]> {
  const api = "pixelFlipping";
  const p = await prepare(model, x, target, map, o, "black", api);
  const step = featuresInStep(o, api);
  return forEachExample(p, async (e) => {
    const curve = Array.from(await e.cumulative(stepGroups(rankPixels(e.sal), step)));
    return { curve, score: trapezoid(curve) };
  });
}

/** Pixels of the square patch with top-left corner (y, x), cut at the image border. */
function patchPixels(y: number, x: number, size: number, h: number, w: number): Int32Array {
  const out: number[] = [];
  for (let r = y; r < Math.min(h, y + size); r++)
    for (let c = x; c < Math.min(w, x + size); c++) out.push(r * w + c);
  return Int32Array.from(out);
}

/** Region perturbation per example: the output drop as the top patches are replaced. */
export async function regionPerturbation(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: PerturbationOptions & {
    patchSize?: number;
    regionsEvaluation?: number;
    order?: "morf" | "lerf" | "random";
  } = {},
): Promise<CurveResult[]> {
  const api = "regionPerturbation";
  const p = await prepare(model, x, target, map, o, "uniform", api);
  const size = o.patchSize ?? 8;
  const limit = o.regionsEvaluation ?? 100;
  checkPositiveInt(size, "patchSize", api);
  checkPositiveInt(limit, "regionsEvaluation", api);
  const ord = o.order ?? "morf";
  if (!["morf", "lerf", "random"].includes(ord))
    throw new Error(`${api}: order must be morf, lerf or random, got ${ord}`);
  const { rng } = p;
  const [, , h, w] = x.shape;
  return forEachExample(p, async (e) => {
    const a = e.sal;
    // Patch sums from an integral image: patch (y, x) covers rows y..y+size-1, cut at the border.
    const ii = new Float64Array((h + 1) * (w + 1));
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++)
        ii[(r + 1) * (w + 1) + c + 1] =
          a[r * w + c] + ii[r * (w + 1) + c + 1] + ii[(r + 1) * (w + 1) + c] - ii[r * (w + 1) + c];
    const sums = new Float64Array(h * w);
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const r2 = Math.min(h, r + size);
        const c2 = Math.min(w, c + size);
        sums[r * w + c] =
          ii[r2 * (w + 1) + c2] - ii[r * (w + 1) + c2] - ii[r2 * (w + 1) + c] + ii[r * (w + 1) + c];
      }
    }
    let order: ArrayLike<number>;
    if (ord === "random") {
      const idx = Array.from({ length: h * w }, (_, k) => k);
      for (let k = idx.length - 1; k > 0; k--) {
        const j = rng.int(k + 1);
        [idx[k], idx[j]] = [idx[j], idx[k]];
      }
      order = idx;
    } else order = ord === "morf" ? rankPixels(sums) : rankPixels(sums.map((v) => -v));
    // Greedy choice without overlap; the patch's part beyond the border counts too, as Quantus pads.
    const pw = w + size - 1;
    const blocked = new Uint8Array((h + size - 1) * pw);
    const regions: Int32Array[] = [];
    for (let k = 0; k < order.length && regions.length < limit; k++) {
      const y = Math.floor(order[k] / w);
      const xx = order[k] % w;
      let free = true;
      for (let r = y; r < y + size && free; r++)
        for (let c = xx; c < xx + size; c++) if (blocked[r * pw + c]) free = false;
      if (!free) continue;
      for (let r = y; r < y + size; r++)
        for (let c = xx; c < xx + size; c++) blocked[r * pw + c] = 1;
      regions.push(patchPixels(y, xx, size, h, w));
    }
    const curve = drops(e.base, await e.cumulative(regions));
    return { curve, score: curve.reduce((s, v) => s + v, 0) / (curve.length + 1) };
  });
}

/** Selectivity per example: f as the image's tiles are removed in descending order of their sum. */
export async function selectivity(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: PerturbationOptions & { patchSize?: number } = {},
): Promise<CurveResult[]> {
  const api = "selectivity";
  const p = await prepare(model, x, target, map, o, "black", api);
  const size = o.patchSize ?? 8;
  checkPositiveInt(size, "patchSize", api);
  const [, , h, w] = x.shape;
  const tiles: Int32Array[] = [];
  for (let y = 0; y < h; y += size)
    for (let xx = 0; xx < w; xx += size) tiles.push(patchPixels(y, xx, size, h, w));
  return forEachExample(p, async (e) => {
    const sums = tiles.map((t) => t.reduce((s, px) => s + e.sal[px], 0));
    const regions = Array.from(rankPixels(sums), (k) => tiles[k]);
    const curve = Array.from(await e.cumulative(regions));
    return { curve, score: trapezoid(curve) };
  });
}

export interface IrofOptions extends PerturbationOptions {
  /** Segment labels per pixel (H * W, labels 0..K-1), one shared array or one per example; default SLIC. */
  segments?: Int32Array | readonly Int32Array[];
  slic?: SlicOptions;
}

/** IROF per example: the area over the relative-score curve as superpixels are removed. */
export async function irof(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: IrofOptions = {},
): Promise<CurveResult[]> {
  const api = "irof";
  const p = await prepare(model, x, target, map, o, "mean", api);
  const [, c, h, w] = x.shape;
  return forEachExample(p, async ({ i, img, sal, base, cumulative }) => {
    const given = o.segments;
    const labels =
      given === undefined
        ? slicSegments(img.values, c, h, w, { segments: 100, ...o.slic })
        : given instanceof Int32Array
          ? given
          : given[i];
    if (!labels || labels.length !== h * w)
      throw new Error(`${api}: segments must be ${h} x ${w} labels (one array or one per example)`);
    let k = 0;
    for (const l of labels) {
      if (!(l >= 0)) throw new Error(`${api}: segment labels must be >= 0, got ${l}`);
      k = Math.max(k, l + 1);
    }
    const members: number[][] = Array.from({ length: k }, () => []);
    labels.forEach((l, px) => members[l].push(px));
    const present = members.filter((m) => m.length > 0);
    const means = present.map((m) => m.reduce((s, px) => s + sal[px], 0) / m.length);
    const regions = Array.from(rankPixels(means), (j) => present[j]);
    if (base === 0)
      throw new Error(`${api}: the clean score of example ${i} is 0; the curve divides by it`);
    const curve = Array.from(await cumulative(regions), (v) => v / base);
    return { curve, score: curve.length - trapezoid(curve) };
  });
}
