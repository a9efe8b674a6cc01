/**
 * Super-resolution training data from ordinary photographs: the luminance channel (FSRCNN and
 * most SR papers train and evaluate on Y), random high-resolution patches, and their
 * low-resolution versions made by antialiased bicubic downscaling (as MATLAB's imresize does).
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { tensor } from "../../ops/creation.ts";
import { resize } from "../../ops/resize.ts";
import type { Random } from "../../random.ts";

export interface GreyImage {
  height: number;
  width: number;
  /** [H, W] in [0, 1]. */
  data: Float32Array;
}

/** ITU-R BT.601 luma as MATLAB's rgb2ycbcr computes it (studio range [16, 235] / 255). */
export function rgbToY(rgb: { height: number; width: number; data: Float32Array }): GreyImage {
  const hw = rgb.height * rgb.width;
  if (rgb.data.length !== 3 * hw) {
    throw new Error(
      `rgbToY: expected [3, ${rgb.height}, ${rgb.width}] data, got ${rgb.data.length} values`,
    );
  }
  const out = new Float32Array(hw);
  for (let p = 0; p < hw; p++) {
    out[p] =
      (16 + 65.481 * rgb.data[p] + 128.553 * rgb.data[hw + p] + 24.966 * rgb.data[2 * hw + p]) /
      255;
  }
  return { height: rgb.height, width: rgb.width, data: out };
}

/** Crops to a multiple of `scale` (SR evaluation's "modcrop"). */
export function modcrop(img: GreyImage, scale: number): GreyImage {
  const h = img.height - (img.height % scale);
  const w = img.width - (img.width % scale);
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) out.set(img.data.subarray(y * img.width, y * img.width + w), y * w);
  return { height: h, width: w, data: out };
}

/** The whole image as [1, 1, H, W]. */
export function greyTensor(img: GreyImage): Tensor {
  return tensor(img.data, [1, 1, img.height, img.width]);
}

/** Antialiased bicubic downscaling of [N, C, H, W] by an integer factor. */
export function downscale(hr: Tensor, scale: number): Tensor {
  const [, , h, w] = hr.shape;
  if (h % scale || w % scale) {
    throw new Error(`downscale: ${h}x${w} is not divisible by the scale ${scale}`);
  }
  return resize(hr, [h / scale, w / scale], { mode: "antialias-bicubic" });
}

/**
 * A batch of random `size` x `size` high-resolution patches [n, 1, size, size], each mirrored
 * left-right with probability 1/2; images are picked in proportion to their area.
 */
export function randomPatches(
  images: readonly GreyImage[],
  n: number,
  size: number,
  rng: Random,
): Tensor {
  const usable = images.filter((im) => im.height >= size && im.width >= size);
  if (!usable.length) throw new Error(`randomPatches: no image is at least ${size}x${size}`);
  const areas = usable.map((im) => im.height * im.width);
  const total = areas.reduce((a, b) => a + b, 0);
  const out = new Float32Array(n * size * size);
  for (let i = 0; i < n; i++) {
    let r = rng.uniform() * total;
    let k = 0;
    while (r >= areas[k] && k < usable.length - 1) r -= areas[k++];
    const im = usable[k];
    const top = rng.int(im.height - size + 1);
    const left = rng.int(im.width - size + 1);
    const mirror = rng.uniform() < 0.5;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const sx = mirror ? size - 1 - x : x;
        out[(i * size + y) * size + x] = im.data[(top + y) * im.width + left + sx];
      }
    }
  }
  return tensor(out, [n, 1, size, size]);
}

/** PSNR in dB between two same-size arrays of values in [0, peak], ignoring a `shave`-pixel border. */
export function psnr(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  height: number,
  width: number,
  o: { shave?: number; peak?: number } = {},
): number {
  if (a.length !== height * width || b.length !== height * width) {
    throw new Error(`psnr: expected ${height}x${width} values, got ${a.length} and ${b.length}`);
  }
  const s = o.shave ?? 0;
  const peak = o.peak ?? 1;
  let se = 0;
  let n = 0;
  for (let y = s; y < height - s; y++) {
    for (let x = s; x < width - s; x++) {
      const d = a[y * width + x] - b[y * width + x];
      se += d * d;
      n++;
    }
  }
  if (n === 0) throw new Error(`psnr: shave ${s} leaves no pixels of ${height}x${width}`);
  return 10 * Math.log10((peak * peak) / (se / n));
}
