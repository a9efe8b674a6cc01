/**
 * Occlusion (Zeiler & Fergus) on a sliding window: each window position replaces a kh x kw patch
 * (all channels) by the fill, and f(x) - f(x occluded) is credited to the patch's pixels. Window
 * positions follow Captum: starts 0, s, 2s, ..., ceil((H - kh) / s) + 1 of them (the last window
 * may stick out; with stride 1 that is exactly PAIR's (H - kh + 1) full windows). Aggregation:
 * "mean" over the windows covering a pixel (Captum) or "sum" (PAIR). Leave-one-out is the 1 x 1
 * window.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { tensor } from "../../ops/creation.ts";
import { rowsPerCall } from "../batching.ts";
import { checkImageCall } from "../evaluate.ts";
import { checkFill, type Fill, perturbedScores } from "../perturb.ts";
import type { Attribution, BatchOptions, Model, Target } from "../types.ts";

/**
 * Options of occlusion: window and stride in pixels (Captum's placement), fill value and
 * aggregation.
 */
export interface OcclusionOptions extends BatchOptions, EngineOptions {
  /** Window [kh, kw] or a square side (default 15, PAIR's size, clipped to the image). */
  window?: number | readonly [number, number];
  /** Stride (default 1). */
  stride?: number | readonly [number, number];
  /** Replacement value or image (default 0). */
  fill?: Fill;
  /** "mean" (Captum, default) or "sum" (PAIR). */
  aggregation?: "mean" | "sum";
}

/**
 * The window, stride and number of positions used, the model evaluations and the unperturbed
 * scores.
 */
export interface OcclusionDetails extends Record<string, unknown> {
  window: [number, number];
  stride: [number, number];
  positions: [number, number];
  evaluations: number;
  scores: number[];
}

const pair = (v: number | readonly [number, number]): [number, number] =>
  typeof v === "number" ? [v, v] : [v[0], v[1]];

/**
 * Occlusion (Zeiler & Fergus): a sliding window replaced by the fill; f(x) - f(x occluded) credited
 * to the window's pixels (mean over covering windows by default). The input's shape.
 */
export async function occlusion(
  model: Model,
  x: Tensor,
  target: Target,
  o: OcclusionOptions = {},
): Promise<Attribution<OcclusionDetails>> {
  const ctx = engineContext(o);
  await checkImageCall(x, target, "occlusion");
  const [n, c, h, w] = x.shape;
  const [kh, kw] = o.window === undefined ? [Math.min(15, h), Math.min(15, w)] : pair(o.window);
  const [sh, sw] = pair(o.stride ?? 1);
  for (const [name, v, lim] of [
    ["window height", kh, h],
    ["window width", kw, w],
    ["stride", sh, Infinity],
    ["stride", sw, Infinity],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > lim) {
      throw new Error(`occlusion: ${name} must be an integer in [1, ${lim}], got ${v}`);
    }
  }
  const fill = o.fill ?? 0;
  checkFill(fill, x, "occlusion");
  const aggregation = o.aggregation ?? "mean";
  if (aggregation !== "mean" && aggregation !== "sum") {
    throw new Error(`occlusion: aggregation must be "mean" or "sum", got "${aggregation}"`);
  }
  const py = Math.ceil((h - kh) / sh) + 1;
  const px = Math.ceil((w - kw) / sw) + 1;
  const count = py * px;
  const window = (j: number) => {
    const y0 = Math.floor(j / px) * sh;
    const x0 = (j % px) * sw;
    return [y0, Math.min(h, y0 + kh), x0, Math.min(w, x0 + kw)] as const;
  };
  const { scores, base } = await perturbedScores(
    model,
    x,
    target,
    count,
    (j, m) => {
      const [y0, y1, x0, x1] = window(j);
      for (let y = y0; y < y1; y++) m.fill(1, y * w + x0, y * w + x1);
    },
    fill,
    rowsPerCall(x, o.batchSize, "occlusion"),
    ctx,
    "occlusion",
  );
  const total = new Float64Array(n * h * w);
  const cover = new Float64Array(h * w);
  for (let j = 0; j < count; j++) {
    const [y0, y1, x0, x1] = window(j);
    for (let y = y0; y < y1; y++) {
      for (let xx = x0; xx < x1; xx++) {
        cover[y * w + xx]++;
        for (let i = 0; i < n; i++) total[i * h * w + y * w + xx] += base[i] - scores[j * n + i];
      }
    }
  }
  const out = new Float32Array(n * c * h * w);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < h * w; p++) {
      const v =
        aggregation === "sum" || cover[p] === 0
          ? total[i * h * w + p]
          : total[i * h * w + p] / cover[p];
      for (let ch = 0; ch < c; ch++) out[(i * c + ch) * h * w + p] = v;
    }
  }
  return {
    map: ctx.run(() => tensor(out, x.shape)),
    details: {
      window: [kh, kw],
      stride: [sh, sw],
      positions: [py, px],
      evaluations: count * n + n,
      scores: Array.from(base),
    },
  };
}

/** Leave-one-out: occlusion of one pixel (all channels) at a time. */
export function leaveOneOut(
  model: Model,
  x: Tensor,
  target: Target,
  o: Omit<OcclusionOptions, "window" | "stride" | "aggregation"> = {},
): Promise<Attribution<OcclusionDetails>> {
  return occlusion(model, x, target, { ...o, window: 1, stride: 1, aggregation: "sum" });
}
