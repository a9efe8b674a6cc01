/**
 * LAM's input as LAM_Demo's `prepare_images` makes it: the HR image cropped to a multiple of the
 * scale (optionally to a centred square first) and downscaled with antialiased bicubic (PIL's
 * BICUBIC) to 8-bit levels, like the PNG the reference writes; plus the check that a model really
 * upscales that LR image by the scale. Platform neutral: `salient lam` reads files into these,
 * the explorer decodes dropped images into them.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import { tensor } from "../../ops/creation.ts";
import { resize } from "../../ops/resize.ts";
import { slice } from "../../ops/slice.ts";
import { type RgbImage, toRgb } from "../../viz/overlay.ts";

/** LAM's input (Gu & Dong 2021): the LR image the SR model sees and the HR image it came from. */
export interface LamImages {
  /** [1, 3, h, w] in [0, 1]. */
  lr: Tensor;
  /** The HR image as cropped (null when only an LR image was given). */
  hr: RgbImage | null;
  /** The LR values (channel planes), for the panels. */
  lrValues: Float32Array;
}

/** Where the HR image is cut: rows top..top + height * scale, columns left..left + width * scale. */
export interface LamCrop {
  top: number;
  left: number;
  /** LR size; the HR crop is scale times this. */
  height: number;
  width: number;
}

/**
 * The HR crop for an image of height x width: centred on the `crop` x `crop` square when `crop` is
 * given (> 0), then cut down to a multiple of the scale at its bottom and right.
 */
export function lamCrop(height: number, width: number, scale: number, crop?: number): LamCrop {
  if (!(Number.isInteger(scale) && scale >= 1))
    throw new Error(`LAM scale must be an integer >= 1, got ${scale}`);
  const side = (n: number) => (crop && crop > 0 ? Math.min(crop, n) : n);
  const h = Math.floor(side(height) / scale);
  const w = Math.floor(side(width) / scale);
  if (h < 2 || w < 2)
    throw new Error(
      `${width}x${height} is too small for x${scale} LAM (the LR image needs at least 2x2 pixels, so the HR image at least ${2 * scale}x${2 * scale})`,
    );
  return {
    top: Math.floor((height - side(height)) / 2),
    left: Math.floor((width - side(width)) / 2),
    height: h,
    width: w,
  };
}

/** The LR input from an HR image [1, 3, H, W] in [0, 1] (not disposed). */
export function lamImagesFromHr(hrImage: Tensor, scale: number, crop?: number): LamImages {
  const [n, c, height, width] = hrImage.shape;
  if (hrImage.rank !== 4 || n !== 1 || c !== 3)
    throw new Error(
      `lamImagesFromHr: expected an RGB image [1, 3, H, W], got [${hrImage.shape.join(", ")}]`,
    );
  const { top, left, height: h, width: w } = lamCrop(height, width, scale, crop);
  return tidy(() => {
    const hr = slice(hrImage, [0, 0, top, left], [1, 3, h * scale, w * scale]);
    const down = resize(hr, [h, w], { mode: "antialias-bicubic" }).dataSync();
    const lrValues = Float32Array.from(
      down,
      (v) => Math.round(255 * Math.min(1, Math.max(0, v))) / 255,
    );
    return {
      lr: tensor(lrValues, [1, 3, h, w]),
      hr: toRgb(hr.dataSync(), 3, h * scale, w * scale),
      lrValues,
    };
  });
}

/** What is wrong with an SR model's output shape for an h x w LR image at `scale`, if anything. */
export type SrOutputProblem =
  /** Not an RGB image larger than the input: not an SR model at all. */
  | { kind: "not-upscaled"; expected: [number, number, number, number] }
  /** An upscaled image, but by another factor than `scale`. */
  | { kind: "wrong-scale"; expected: [number, number]; observedScale: number };

/** null when `out` is [1, 3, h * scale, w * scale]; otherwise what it is instead. */
export function srOutputProblem(
  out: readonly number[],
  h: number,
  w: number,
  scale: number,
): SrOutputProblem | null {
  if (out.length !== 4 || out[1] !== 3 || !(out[2] > h && out[3] > w))
    return { kind: "not-upscaled", expected: [1, 3, h * scale, w * scale] };
  if (out[2] !== h * scale || out[3] !== w * scale)
    return { kind: "wrong-scale", expected: [h * scale, w * scale], observedScale: out[2] / h };
  return null;
}
