/**
 * Image preparation for LAM as LAM_Demo's `prepare_images` does it: crop the HR image to a
 * multiple of the scale and make the LR image with PIL's bicubic downscale, kept at 8-bit levels
 * like the PNG the reference produces.
 */

import type { Tensor } from "../autodiff/tensor.ts";
import { tidy } from "../autodiff/tidy.ts";
import { tensor } from "../ops/creation.ts";
import { resize } from "../ops/resize.ts";
import { slice } from "../ops/slice.ts";
import { readImage } from "../viz/image-io-node.ts";
import { type RgbImage, toRgb } from "../viz/overlay.ts";

export interface LamImages {
  /** [1, 3, h, w] in [0, 1]. */
  lr: Tensor;
  /** The HR image (or null when only an LR image was given). */
  hr: RgbImage | null;
  /** The LR planes, for the panels. */
  lrValues: Float32Array;
}

/** `crop`: keep only the centred crop x crop pixels of the HR image first (for quick studies). */
export function lamImagesFromHr(path: string, scale: number, crop?: number): LamImages {
  const img = readImage(path, 3);
  const side = (n: number) => (crop ? Math.min(crop, n) : n);
  const top = Math.floor((img.height - side(img.height)) / 2);
  const left = Math.floor((img.width - side(img.width)) / 2);
  const h = Math.floor(side(img.height) / scale);
  const w = Math.floor(side(img.width) / scale);
  if (h < 2 || w < 2)
    throw new Error(`${path}: ${img.width}x${img.height} is too small for x${scale} LAM`);
  return tidy(() => {
    const full = tensor(img.data, [1, 3, img.height, img.width]);
    const hr = slice(full, [0, 0, top, left], [1, 3, h * scale, w * scale]);
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

export function lamImagesFromLr(path: string): LamImages {
  const img = readImage(path, 3);
  return { lr: tensor(img.data, [1, 3, img.height, img.width]), hr: null, lrValues: img.data };
}
