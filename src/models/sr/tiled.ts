/**
 * Super-resolution of images of any size, tile by tile: each tile is computed with `margin` LR
 * pixels of context that are then dropped, so memory stays bounded and, for a network whose
 * receptive field fits in the margin, the result equals one pass over the whole image.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import { slice } from "../../ops/slice.ts";

/** Tile size and context of upscaleTiled. */
export interface TileOptions {
  /** Tile side in LR pixels. */
  tile: number;
  /** Context in LR pixels around each tile, computed then dropped. */
  margin: number;
  /** Called after each tile is upscaled and stitched, with the tiles done and the total. */
  onTile?: (done: number, total: number) => void;
}

/** The stitched output of upscaleTiled. */
export interface Tiled {
  /** [C, H * scale, W * scale], C being the model's output channels. */
  values: Float32Array;
  shape: [number, number, number];
  tiles: number;
}

/** Tile starts along an axis of `n` pixels. */
const starts = (n: number, tile: number) =>
  Array.from({ length: Math.ceil(n / tile) }, (_, i) => i * tile);

/** Runs `run` ([1, C, h, w] -> [1, C', h s, w s]) over `lr` [1, C, H, W] tile by tile. */
export async function upscaleTiled(
  run: (x: Tensor) => Tensor,
  lr: Tensor,
  scale: number,
  o: TileOptions,
): Promise<Tiled> {
  const [n, c, h, w] = lr.shape;
  if (n !== 1 || lr.rank !== 4)
    throw new Error(`upscale: expected one image [1, C, H, W], got [${lr.shape}]`);
  if (!Number.isInteger(o.tile) || o.tile < 1)
    throw new Error(`upscale: tile must be a positive integer, got ${o.tile}`);
  if (!Number.isInteger(o.margin) || o.margin < 0)
    throw new Error(`upscale: margin must be a non-negative integer, got ${o.margin}`);
  const rows = starts(h, o.tile);
  const cols = starts(w, o.tile);
  const total = rows.length * cols.length;
  const H = h * scale;
  const W = w * scale;
  let out: Float32Array | null = null;
  let channels = 0;
  let done = 0;
  for (const ty of rows) {
    for (const tx of cols) {
      // The tile's interior [ty, ty + th) x [tx, tx + tw) and its padded crop.
      const th = Math.min(o.tile, h - ty);
      const tw = Math.min(o.tile, w - tx);
      const y0 = Math.max(0, ty - o.margin);
      const x0 = Math.max(0, tx - o.margin);
      const y1 = Math.min(h, ty + th + o.margin);
      const x1 = Math.min(w, tx + tw + o.margin);
      const sr = tidy(() => run(slice(lr, [0, 0, y0, x0], [1, c, y1 - y0, x1 - x0])));
      const [, oc, sh, sw] = sr.shape;
      if (sh !== (y1 - y0) * scale || sw !== (x1 - x0) * scale) {
        sr.dispose();
        throw new Error(
          `upscale: the model turned a ${x1 - x0}x${y1 - y0} tile into ${sw}x${sh}, not the x${scale} asked for`,
        );
      }
      const v = await sr.data();
      sr.dispose();
      if (!out) {
        channels = oc;
        out = new Float32Array(oc * H * W);
      }
      const oy = (ty - y0) * scale;
      const ox = (tx - x0) * scale;
      for (let k = 0; k < channels; k++)
        for (let y = 0; y < th * scale; y++) {
          const src = (k * sh + oy + y) * sw + ox;
          out.set(v.subarray(src, src + tw * scale), (k * H + ty * scale + y) * W + tx * scale);
        }
      o.onTile?.(++done, total);
    }
  }
  return { values: out ?? new Float32Array(), shape: [channels, H, W], tiles: total };
}
