/**
 * Causal effect maps for SR networks (after Hu et al. 2024): intervene on the input by replacing
 * one block with the same block of other ("donor") images, and measure how the PSNR of an output
 * region against its reference changes. A coarse pass over large cells finds where the effects
 * are, then the cells that matter are refined into the small blocks.
 *
 * effect(block) = PSNR(original) - mean over donors PSNR(block replaced), in dB: positive where
 * the block's content helps the region, negative where it hurts it.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import { tensor } from "../../ops/creation.ts";
import { slice } from "../../ops/slice.ts";

/** An output region in SR pixels (x the column, y the row of its top-left corner). */
export interface CemRegion {
  x: number;
  y: number;
  size: number;
}

/** Options of `causalEffectMap`. */
export interface CemOptions {
  /** Side of the input blocks in LR pixels (default 8, the paper's). */
  block?: number;
  /** Side of the coarse cells in blocks (default 4; 1: no coarse pass, every block evaluated). */
  coarse?: number;
  /** Coarse cells with |effect| >= refine * the largest |effect| are refined (default 0.1). */
  refine?: number;
  /** Intervened images per forward pass (default 16; memory, not results). */
  batch?: number;
  /** Peak value of the PSNR (default 1, for images in [0, 1]). */
  peak?: number;
  /**
   * Called after each forward batch with the intervened images done and due in the current pass
   * (the count restarts for the fine pass).
   */
  onProgress?: (done: number, total: number) => void;
}

export interface BlockEffect {
  row: number;
  col: number;
  effect: number;
}

/**
 * A causal effect map: per LR block, PSNR(original) - mean over donors of PSNR(block replaced),
 * in dB; positive where the block's content helps the region.
 */
export interface CemResult {
  /** Block side in LR pixels. */
  block: number;
  /** Block grid [rows, cols] over the LR image. */
  grid: [number, number];
  /** Effect per block (row-major), 0 where the block was not evaluated. */
  effects: Float32Array;
  /** 1 where the block was evaluated (all of them without a coarse pass). */
  evaluated: Uint8Array;
  /** The coarse pass: cell side in LR pixels, its grid and effect per cell; null without one. */
  coarse: { cell: number; grid: [number, number]; effects: Float32Array } | null;
  /** PSNR of the region of the unmodified output against the reference. */
  psnr: number;
  /** Forward evaluations of intervened images. */
  evaluations: number;
}

interface Rect {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** PSNR from a mean squared error, capped at 1e-10 so identical regions give a finite value. */
const psnrOf = (mse: number, peak: number) => 10 * Math.log10((peak * peak) / Math.max(mse, 1e-10));

/**
 * The causal effect map of `run` for `region` of its output on `lr` ([1, C, h, w]), measured
 * against `reference` ([1, C', H, W], usually the HR image), with blocks replaced by the same
 * blocks of each donor ([1, C, h, w] each).
 */
export async function causalEffectMap(
  run: (x: Tensor) => Tensor,
  lr: Tensor,
  reference: Tensor,
  region: CemRegion,
  donors: readonly Tensor[],
  options: CemOptions = {},
): Promise<CemResult> {
  const block = options.block ?? 8;
  const coarse = options.coarse ?? 4;
  const refine = options.refine ?? 0.1;
  const batch = options.batch ?? 16;
  const peak = options.peak ?? 1;
  checkInputs(lr, reference, region, donors, { block, coarse, refine, batch });
  const [, c, h, w] = lr.shape;
  const image = Float32Array.from(await lr.data());
  const donorValues = await Promise.all(donors.map(async (d) => Float32Array.from(await d.data())));
  const refRegion = await regionValues(reference, region);
  const regionMse = async (x: Tensor): Promise<number[]> => {
    const out = tidy(() => run(x));
    try {
      const [n, oc, H, W] = out.shape;
      if (region.y + region.size > H || region.x + region.size > W || oc !== reference.shape[1])
        throw new Error(
          `cem: the model's output [${out.shape}] does not hold the region ${region.x},${region.y},${region.size} of the reference [${reference.shape}]`,
        );
      const v = await regionValues(out, region);
      const per = v.length / n;
      return Array.from({ length: n }, (_, i) => {
        let s = 0;
        for (let j = 0; j < per; j++) s += (v[i * per + j] - refRegion[j]) ** 2;
        return s / per;
      });
    } finally {
      out.dispose();
    }
  };
  const psnr0 = psnrOf((await regionMse(lr))[0], peak);

  const rows = Math.ceil(h / block);
  const cols = Math.ceil(w / block);
  const blockRect = (r: number, q: number, span = 1): Rect => ({
    top: r * block,
    left: q * block,
    height: Math.min(span * block, h - r * block),
    width: Math.min(span * block, w - q * block),
  });
  let evaluations = 0;
  let done = 0;
  /** Mean over donors of PSNR(original) - PSNR(rect replaced), for each rect. */
  const effectsOf = async (rects: readonly Rect[], total: number): Promise<number[]> => {
    const jobs = rects.flatMap((rect, i) => donorValues.map((d) => ({ i, rect, d })));
    const sums = new Float64Array(rects.length);
    for (let s = 0; s < jobs.length; s += batch) {
      const part = jobs.slice(s, s + batch);
      const stacked = new Float32Array(part.length * image.length);
      part.forEach(({ rect, d }, k) => {
        const off = k * image.length;
        stacked.set(image, off);
        for (let ch = 0; ch < c; ch++)
          for (let y = rect.top; y < rect.top + rect.height; y++) {
            const at = (ch * h + y) * w + rect.left;
            stacked.set(d.subarray(at, at + rect.width), off + at);
          }
      });
      const x = tensor(stacked, [part.length, c, h, w]);
      let mses: number[];
      try {
        mses = await regionMse(x);
      } finally {
        x.dispose();
      }
      part.forEach(({ i }, k) => {
        sums[i] += psnr0 - psnrOf(mses[k], peak);
      });
      evaluations += part.length;
      done += part.length;
      options.onProgress?.(done, total);
    }
    return Array.from(sums, (s) => s / donorValues.length);
  };

  const effects = new Float32Array(rows * cols);
  const evaluated = new Uint8Array(rows * cols);
  const fineRects: { r: number; q: number }[] = [];
  let coarseResult: CemResult["coarse"] = null;
  if (coarse > 1) {
    const cr = Math.ceil(rows / coarse);
    const cc = Math.ceil(cols / coarse);
    const cells = Array.from({ length: cr * cc }, (_, i) => ({
      r: Math.floor(i / cc) * coarse,
      q: (i % cc) * coarse,
    }));
    const coarseEffects = await effectsOf(
      cells.map(({ r, q }) => blockRect(r, q, coarse)),
      cells.length * donorValues.length,
    );
    const top = Math.max(...coarseEffects.map(Math.abs));
    cells.forEach(({ r, q }, i) => {
      if (top > 0 && Math.abs(coarseEffects[i]) >= refine * top)
        for (let dr = 0; dr < coarse && r + dr < rows; dr++)
          for (let dq = 0; dq < coarse && q + dq < cols; dq++)
            fineRects.push({ r: r + dr, q: q + dq });
    });
    coarseResult = {
      cell: coarse * block,
      grid: [cr, cc],
      effects: Float32Array.from(coarseEffects),
    };
    done = 0;
  } else {
    for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) fineRects.push({ r, q });
  }
  const fine = await effectsOf(
    fineRects.map(({ r, q }) => blockRect(r, q)),
    fineRects.length * donorValues.length,
  );
  fineRects.forEach(({ r, q }, i) => {
    effects[r * cols + q] = fine[i];
    evaluated[r * cols + q] = 1;
  });
  return {
    block,
    grid: [rows, cols],
    effects,
    evaluated,
    coarse: coarseResult,
    psnr: psnr0,
    evaluations,
  };
}

/** The evaluated blocks with the largest positive and the most negative effects. */
export function strongestBlocks(
  r: CemResult,
  n = 10,
): { positive: BlockEffect[]; negative: BlockEffect[] } {
  const all: BlockEffect[] = [];
  r.effects.forEach((effect, i) => {
    if (r.evaluated[i]) all.push({ row: Math.floor(i / r.grid[1]), col: i % r.grid[1], effect });
  });
  const positive = all.filter((b) => b.effect > 0).sort((a, b) => b.effect - a.effect);
  const negative = all.filter((b) => b.effect < 0).sort((a, b) => a.effect - b.effect);
  return { positive: positive.slice(0, n), negative: negative.slice(0, n) };
}

async function regionValues(t: Tensor, r: CemRegion): Promise<Float32Array> {
  const s = tidy(() => slice(t, [0, 0, r.y, r.x], [t.shape[0], t.shape[1], r.size, r.size]));
  try {
    return Float32Array.from(await s.data());
  } finally {
    s.dispose();
  }
}

function checkInputs(
  lr: Tensor,
  reference: Tensor,
  region: CemRegion,
  donors: readonly Tensor[],
  o: { block: number; coarse: number; refine: number; batch: number },
): void {
  if (lr.rank !== 4 || lr.shape[0] !== 1)
    throw new Error(`cem: expected one LR image [1, C, h, w], got [${lr.shape}]`);
  if (reference.rank !== 4 || reference.shape[0] !== 1)
    throw new Error(`cem: expected one reference image [1, C, H, W], got [${reference.shape}]`);
  const [, , H, W] = reference.shape;
  const { x, y, size } = region;
  if (
    ![x, y, size].every(Number.isInteger) ||
    x < 0 ||
    y < 0 ||
    size < 1 ||
    x + size > W ||
    y + size > H
  )
    throw new Error(
      `cem: region ${x},${y},${size} must be integers inside the ${W}x${H} (WxH) reference`,
    );
  if (donors.length === 0) throw new Error("cem: needs at least one donor image");
  donors.forEach((d, i) => {
    if (d.shape.join() !== lr.shape.join())
      throw new Error(
        `cem: donor ${i} has shape [${d.shape}], expected the LR shape [${lr.shape}]`,
      );
  });
  for (const [name, v] of [
    ["block", o.block],
    ["coarse", o.coarse],
    ["batch", o.batch],
  ] as const)
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`cem: ${name} must be an integer >= 1, got ${v}`);
  if (!(o.refine >= 0 && o.refine <= 1))
    throw new Error(`cem: refine must be in [0, 1], got ${o.refine}`);
}
