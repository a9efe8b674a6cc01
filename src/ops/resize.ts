/**
 * Image resizing of NCHW tensors as two separable axis maps: PyTorch F.interpolate semantics for
 * nearest / bilinear / bicubic (align_corners=False by default) and PIL's antialiased resize for
 * making low-resolution images. All are differentiable.
 */
import type { Tensor } from "../autodiff/tensor.ts";
import {
  antialiasResizeMap,
  bicubicMap,
  bilinearMap,
  nearestMap,
} from "../kernels/resample-maps.ts";
import type { AxisMap } from "../kernels/sparse-map.ts";
import { mapAxis } from "./map-axis.ts";
import { identity } from "./reshape.ts";

/**
 * Interpolation: nearest, bilinear, bicubic (PyTorch), or PIL's antialiased bicubic/bilinear (which
 * also filter when shrinking).
 */
export type ResizeMode =
  | "nearest"
  | "bilinear"
  | "bicubic"
  | "antialias-bicubic"
  | "antialias-bilinear";

/** Interpolation mode (default bilinear) and PyTorch's align_corners. */
export interface ResizeOptions {
  mode?: ResizeMode;
  alignCorners?: boolean;
}

function mapFor(mode: ResizeMode, inLen: number, outLen: number, alignCorners: boolean): AxisMap {
  switch (mode) {
    case "nearest":
      return nearestMap(inLen, outLen);
    case "bilinear":
      return bilinearMap(inLen, outLen, alignCorners);
    case "bicubic":
      return bicubicMap(inLen, outLen, alignCorners);
    case "antialias-bicubic":
      return antialiasResizeMap(inLen, outLen, "bicubic");
    case "antialias-bilinear":
      return antialiasResizeMap(inLen, outLen, "bilinear");
  }
}

/** Resizes the two spatial axes of [N, C, H, W] to [height, width]. */
export function resize(
  x: Tensor,
  [height, width]: readonly [number, number],
  o: ResizeOptions = {},
): Tensor {
  if (x.rank !== 4) throw new Error(`resize: expected [N, C, H, W], got [${x.shape}]`);
  if (![height, width].every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`resize: target size [${height}, ${width}] must be positive integers`);
  }
  const mode = o.mode ?? "bilinear";
  const ac = o.alignCorners ?? false;
  if (ac && mode !== "bilinear" && mode !== "bicubic") {
    throw new Error(`resize: alignCorners applies to bilinear and bicubic only, not ${mode}`);
  }
  if (mode === "nearest" && x.shape[2] !== height && x.shape[3] !== width) {
    // Nearest is a pure copy, so the order of the two axes does not change a bit of the result;
    // widening first keeps the last-axis pass (the slower, element-wise one) on the smaller
    // tensor and leaves whole-row copies for the height pass.
    const w = mapAxis(x, 3, mapFor(mode, x.shape[3], width, ac));
    return mapAxis(w, 2, mapFor(mode, x.shape[2], height, ac));
  }
  const h =
    x.shape[2] === height ? identity(x) : mapAxis(x, 2, mapFor(mode, x.shape[2], height, ac));
  return x.shape[3] === width ? h : mapAxis(h, 3, mapFor(mode, x.shape[3], width, ac));
}

/** Upsampling by an integer factor (nearest by default, as in SR networks). */
export function upsample(x: Tensor, scale: number, mode: ResizeMode = "nearest"): Tensor {
  if (!Number.isInteger(scale) || scale < 1)
    throw new Error(`upsample: scale ${scale} must be a positive integer`);
  return resize(x, [x.shape[2] * scale, x.shape[3] * scale], { mode });
}
