/**
 * XRAI (Kapishnikov et al. 2019) as PAIR saliency's XRAI.GetMask computes it ("full" algorithm):
 * integrated gradients from a black and a white baseline (the image's min and max; 100 steps,
 * linspace), averaged, reduced over channels by the maximum; then, over candidate regions from
 * Felzenszwalb segmentations at several scales, greedily adds the region whose not-yet-covered
 * pixels have the highest mean attribution (dropping regions that add fewer than minPixelDiff
 * pixels) until the covered area exceeds areaThreshold or no region is left. Each pixel's value is
 * the gain of the region that covered it; pixels never covered get their mean attribution.
 * Returns [N, 1, H, W] and, in details, the region ranks (1 = most salient, as PAIR's
 * flatten_xrai_segments).
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { tensor } from "../../ops/creation.ts";
import { checkImageCall } from "../evaluate.ts";
import { type XraiRegionOptions, xraiRegions } from "../segments/xrai-regions.ts";
import type { Attribution, BatchOptions, Model, Target } from "../types.ts";
import { integratedGradients } from "./integrated-gradients.ts";

/**
 * When XRAI's greedy ranking (Kapishnikov et al. 2019; PAIR saliency) stops adding regions: each
 * step adds the region whose uncovered pixels have the highest mean attribution.
 */
export interface XraiRankOptions {
  /** Stop once this share of the image is covered (default 1: rank every region). */
  areaThreshold?: number;
  /** Drop a region that adds fewer new pixels than this (default 50). */
  minPixelDiff?: number;
}

export interface XraiOptions
  extends XraiRankOptions,
    XraiRegionOptions,
    BatchOptions,
    EngineOptions {
  /** IG steps per baseline (default 100, PAIR's). */
  steps?: number;
  /**
   * Candidate regions per example (sorted pixel indices into H x W); by default XRAI's
   * Felzenszwalb regions of each image.
   */
  regions?: readonly (readonly Int32Array[])[];
}

/** How XRAI ranked each example's regions. */
export interface XraiDetails extends Record<string, unknown> {
  /** Per example, [H * W] region ranks: 1 for the first region added, last for the uncovered rest. */
  ranks: Int32Array[];
  /** Regions added per example. */
  regionsAdded: number[];
  /** IG steps per baseline. */
  steps: number;
}

/** The XRAI value map and region ranks of one [H * W] attribution map. */
export function xraiRank(
  attr: ArrayLike<number>,
  regions: readonly Int32Array[],
  o: XraiRankOptions = {},
): { map: Float64Array; ranks: Int32Array; added: number } {
  const api = "xraiRank";
  const areaThreshold = o.areaThreshold ?? 1;
  if (!(areaThreshold >= 0 && areaThreshold <= 1))
    throw new Error(`${api}: areaThreshold must be in [0, 1], got ${areaThreshold}`);
  const minPixelDiff = o.minPixelDiff ?? 50;
  if (!(minPixelDiff >= 0 && Number.isFinite(minPixelDiff)))
    throw new Error(`${api}: minPixelDiff must be a finite number >= 0, got ${minPixelDiff}`);
  const d = attr.length;
  for (const [i, r] of regions.entries()) {
    for (const p of r) {
      if (!(p >= 0 && p < d))
        throw new Error(`${api}: region ${i} has pixel ${p}, outside the ${d}-pixel map`);
    }
  }
  const map = new Float64Array(d).fill(-Infinity);
  const covered = new Uint8Array(d);
  let coveredCount = 0;
  const remaining = new Set(regions.keys());
  const trace: { pixels: number[]; gain: number }[] = [];
  while (coveredCount / d <= areaThreshold) {
    let bestGain = -Infinity;
    let best = -1;
    for (const i of [...remaining]) {
      let count = 0;
      let sum = 0;
      for (const p of regions[i]) {
        if (!covered[p]) {
          count++;
          sum += attr[p];
        }
      }
      if (count < minPixelDiff || count === 0) {
        remaining.delete(i);
        continue;
      }
      const gain = sum / count;
      if (gain > bestGain) {
        bestGain = gain;
        best = i;
      }
    }
    if (best < 0) break;
    const pixels: number[] = [];
    for (const p of regions[best]) {
      if (!covered[p]) {
        covered[p] = 1;
        pixels.push(p);
        map[p] = bestGain;
      }
    }
    coveredCount += pixels.length;
    trace.push({ pixels, gain: bestGain });
    remaining.delete(best);
  }
  const rest: number[] = [];
  let restSum = 0;
  for (let p = 0; p < d; p++) {
    if (map[p] === -Infinity) {
      rest.push(p);
      restSum += attr[p];
    }
  }
  for (const p of rest) map[p] = restSum / rest.length;
  // Ranks by decreasing gain (a stable sort, as Python's sorted), the uncovered rest last.
  const ordered = trace.map((t, i) => ({ ...t, i })).sort((a, b) => b.gain - a.gain || a.i - b.i);
  const ranks = new Int32Array(d);
  ordered.forEach((t, i) => {
    for (const p of t.pixels) ranks[p] = i + 1;
  });
  for (const p of rest) ranks[p] = ordered.length + 1;
  return { map, ranks, added: trace.length };
}

/** XRAI with PAIR's defaults; [N, 1, H, W]. */
export async function xrai(
  model: Model,
  x: Tensor,
  target: Target,
  o: XraiOptions = {},
): Promise<Attribution<XraiDetails>> {
  const api = "xrai";
  const ctx = engineContext(o);
  await checkImageCall(x, target, api);
  const steps = o.steps ?? 100;
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`${api}: steps must be a positive integer, got ${steps}`);
  const [n, c, h, w] = x.shape;
  const plane = h * w;
  const per = c * plane;
  if (o.regions !== undefined && o.regions.length !== n)
    throw new Error(
      `${api}: regions must list one region set per example (${n}), got ${o.regions.length}`,
    );
  const xv = Float32Array.from(await x.data());
  // PAIR's default baselines: constant images at the image's min and at its max.
  const ends = [Math.min, Math.max].map((f) => {
    const b = new Float32Array(x.size);
    for (let i = 0; i < n; i++) {
      const v = xv.subarray(i * per, (i + 1) * per).reduce((acc, p) => f(acc, p));
      b.fill(v, i * per, (i + 1) * per);
    }
    return b;
  });
  const attr = new Float64Array(x.size);
  for (const b of ends) {
    const base = ctx.run(() => tensor(b, x.shape));
    try {
      const r = await integratedGradients(model, x, target, {
        baseline: base,
        steps,
        quadrature: "linspace",
        batchSize: o.batchSize,
        rules: o.rules,
        backend: o.backend,
      });
      const v = await r.map.data();
      r.map.dispose();
      for (let j = 0; j < v.length; j++) attr[j] += v[j] / ends.length;
    } finally {
      base.dispose();
    }
  }
  const out = new Float32Array(n * plane);
  const ranks: Int32Array[] = [];
  const regionsAdded: number[] = [];
  for (let i = 0; i < n; i++) {
    const merged = new Float64Array(plane).fill(-Infinity);
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < plane; p++)
        merged[p] = Math.max(merged[p], attr[i * per + ch * plane + p]);
    const regions = o.regions?.[i] ?? xraiRegions(xv.subarray(i * per, (i + 1) * per), c, h, w, o);
    const r = xraiRank(merged, regions, o);
    out.set(r.map, i * plane);
    ranks.push(r.ranks);
    regionsAdded.push(r.added);
  }
  return {
    map: ctx.run(() => tensor(out, [n, 1, h, w])),
    details: { ranks, regionsAdded, steps },
  };
}
