/**
 * RISE (Petsiuk et al. 2018, eclique/RISE explanations.py): N random binary s x s grids with keep
 * probability p, upsampled bilinearly to (s + 1) * cell (cell = ceil(H / s)) and cropped at a
 * random shift in [0, cell) per axis; saliency = sum_n f(x * M_n) M_n / (N p). Masks come from a
 * seeded generator in mask order, so the map does not depend on the batch size. RISE scores the
 * softmax probability of the class; pass `scores: "target"` to use the target as given.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { tensor } from "../../ops/creation.ts";
import { Random } from "../../random.ts";
import { rowsPerCall } from "../batching.ts";
import { checkImageCall } from "../evaluate.ts";
import { perturbedScores } from "../perturb.ts";
import { probabilityOf } from "../target.ts";
import type { Attribution, BatchOptions, Model, Target } from "../types.ts";

/**
 * Options of RISE: number of masks (default 2000), grid cells, keep probability, seed, and which
 * score to use.
 */
export interface RiseOptions extends BatchOptions, EngineOptions {
  /** Number of masks N (default 2000). */
  masks?: number;
  /** Grid cells per side s (default 8). */
  cells?: number;
  /** Keep probability p (default 0.5). */
  keep?: number;
  seed?: number;
  /** "probability" (softmax of an index target, RISE's choice; default) or "target" (as given). */
  scores?: "probability" | "target";
}

/** The mask count, grid cells and keep probability used. */
export interface RiseDetails extends Record<string, unknown> {
  masks: number;
  cells: number;
  keep: number;
}

/**
 * Linear interpolation of a g x g grid to outH x outW with half-pixel centres and reflect
 * borders (skimage.transform.resize, order 1, mode "reflect" = numpy's reflect, edge not repeated).
 */
function upsampleGrid(
  grid: Float32Array,
  g: number,
  outH: number,
  outW: number,
  out: Float64Array,
): void {
  const reflect = (i: number) => (g === 1 ? 0 : i < 0 ? -i : i > g - 1 ? 2 * (g - 1) - i : i);
  const idx = (o: number, size: number) => {
    const src = (o + 0.5) * (g / size) - 0.5;
    const i0 = Math.floor(src);
    return [reflect(i0), reflect(i0 + 1), src - i0] as const;
  };
  for (let y = 0; y < outH; y++) {
    const [y0, y1, fy] = idx(y, outH);
    for (let x = 0; x < outW; x++) {
      const [x0, x1, fx] = idx(x, outW);
      const top = grid[y0 * g + x0] * (1 - fx) + grid[y0 * g + x1] * fx;
      const bottom = grid[y1 * g + x0] * (1 - fx) + grid[y1 * g + x1] * fx;
      out[y * outW + x] = top * (1 - fy) + bottom * fy;
    }
  }
}

/**
 * The RISE masks [count, H, W] (1 = keep): per mask an s x s grid of Bernoulli(p) cells, upsampled
 * to (s + 1) * cell per axis (cell = ceil(H / s), ceil(W / s)) and cropped at a random shift in
 * [0, cell), drawn in order from the seed.
 */
export function riseMasks(
  count: number,
  height: number,
  width: number,
  o: { cells?: number; keep?: number; seed?: number } = {},
): Float32Array {
  const s = o.cells ?? 8;
  const p = o.keep ?? 0.5;
  if (!Number.isInteger(s) || s < 1)
    throw new Error(`rise: cells must be a positive integer, got ${s}`);
  if (!(p > 0 && p <= 1)) throw new Error(`rise: keep must be in (0, 1], got ${p}`);
  const rng = new Random(o.seed ?? 0);
  const cellH = Math.ceil(height / s);
  const cellW = Math.ceil(width / s);
  const upH = (s + 1) * cellH;
  const upW = (s + 1) * cellW;
  const grid = new Float32Array(s * s);
  const big = new Float64Array(upH * upW);
  const out = new Float32Array(count * height * width);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < s * s; i++) grid[i] = rng.uniform() < p ? 1 : 0;
    const dy = rng.int(cellH);
    const dx = rng.int(cellW);
    upsampleGrid(grid, s, upH, upW, big);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        out[(n * height + y) * width + x] = big[(y + dy) * upW + x + dx];
      }
    }
  }
  return out;
}

/**
 * RISE (Petsiuk et al. 2018): sum over random upsampled binary masks of f(x * M) M / (N p), one map
 * per example [N, 1, H, W].
 */
export async function rise(
  model: Model,
  x: Tensor,
  target: Target,
  o: RiseOptions = {},
): Promise<Attribution<RiseDetails>> {
  const ctx = engineContext(o);
  await checkImageCall(x, target, "rise");
  const [n, c, h, w] = x.shape;
  const count = o.masks ?? 2000;
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`rise: masks must be a positive integer, got ${count}`);
  const keepP = o.keep ?? 0.5;
  const masks = riseMasks(count, h, w, { cells: o.cells, keep: keepP, seed: o.seed });
  const scoreTarget =
    (o.scores ?? "probability") === "probability" && typeof target !== "function"
      ? probabilityOf(target)
      : target;
  // perturbedScores replaces where the mask is 1; RISE keeps there, so pass 1 - M with fill 0.
  const { scores } = await perturbedScores(
    model,
    x,
    scoreTarget,
    count,
    (j, m) => {
      for (let p = 0; p < h * w; p++) m[p] = 1 - masks[j * h * w + p];
    },
    0,
    rowsPerCall(x, o.batchSize, "rise"),
    ctx,
    "rise",
  );
  const sal = new Float64Array(n * h * w);
  for (let j = 0; j < count; j++) {
    for (let i = 0; i < n; i++) {
      const s = scores[j * n + i];
      for (let p = 0; p < h * w; p++) sal[i * h * w + p] += s * masks[j * h * w + p];
    }
  }
  const out = new Float32Array(n * c * h * w);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < h * w; p++) {
      const v = sal[i * h * w + p] / (count * keepP);
      for (let ch = 0; ch < c; ch++) out[(i * c + ch) * h * w + p] = v;
    }
  }
  return {
    map: ctx.run(() => tensor(out, x.shape)),
    details: { masks: count, cells: o.cells ?? 8, keep: keepP },
  };
}
