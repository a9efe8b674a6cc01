/**
 * HR image sets for the SR analyses (FAIG, feature analyses): one image or a folder of them,
 * centre-cropped, cropped to a multiple of the scale, downscaled (antialiased bicubic) and then
 * degraded (Gaussian blur of the LR image, or seeded Gaussian noise), in [0, 1].
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Tensor } from "../autodiff/tensor.ts";
import { tidy } from "../autodiff/tidy.ts";
import { add } from "../ops/binary.ts";
import { gaussianFilter } from "../ops/blur.ts";
import { tensor } from "../ops/creation.ts";
import { resize } from "../ops/resize.ts";
import { slice } from "../ops/slice.ts";
import { Random } from "../random.ts";
import { readImage } from "../viz/image-io-node.ts";
import { UsageError } from "./args.ts";

export type Degradation =
  | { kind: "none" }
  | { kind: "blur"; sigma: number }
  | { kind: "noise"; sigma: number };

/** "none", "blur:S" (Gaussian sigma in LR pixels) or "noise:S" (std in [0, 1] units). */
export function parseDegradation(v: string, flagName: string): Degradation {
  if (v === "none") return { kind: "none" };
  const m = /^(blur|noise):([0-9.eE+-]+)$/.exec(v);
  const s = m ? Number(m[2]) : Number.NaN;
  if (!m || !(s > 0) || !Number.isFinite(s))
    throw new UsageError(
      `--${flagName} must be none, blur:S (sigma > 0, LR pixels) or noise:S (std > 0, 0..1 units), got "${v}"`,
    );
  return { kind: m[1] as "blur" | "noise", sigma: s };
}

export const describeDegradation = (d: Degradation) =>
  d.kind === "none" ? "none" : `${d.kind}:${d.sigma}`;

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** The image files of --image (one) or --images (a folder), sorted by name. */
export function imageFiles(image: string | undefined, dir: string | undefined): string[] {
  if (!image === !dir) throw new UsageError("give exactly one of --image FILE and --images DIR");
  if (image) return [image];
  let names: string[];
  try {
    names = readdirSync(dir!).filter((n) => IMAGE_EXT.test(n) && statSync(join(dir!, n)).isFile());
  } catch (e) {
    throw new UsageError(`--images "${dir}" is not a readable folder: ${(e as Error).message}`);
  }
  if (!names.length) throw new UsageError(`--images "${dir}" holds no .png or .jpg images`);
  return names.sort().map((n) => join(dir!, n));
}

export interface SrPair {
  file: string;
  /** [1, 3, h, w] degraded LR image in [0, 1]. */
  lr: Tensor;
  /** [1, 3, h * scale, w * scale] HR image in [0, 1]. */
  hr: Tensor;
}

/** Reads an HR image and makes its (degraded) LR counterpart; `crop` 0 keeps the whole image. */
export function srPair(
  file: string,
  scale: number,
  crop: number,
  degradation: Degradation,
  seed = 0,
): SrPair {
  const img = readImage(file, 3);
  const side = (n: number) => Math.floor((crop > 0 ? Math.min(crop, n) : n) / scale);
  const h = side(img.height);
  const w = side(img.width);
  if (h < 2 || w < 2)
    throw new Error(`${file}: ${img.width}x${img.height} is too small for x${scale}`);
  const top = Math.floor((img.height - h * scale) / 2);
  const left = Math.floor((img.width - w * scale) / 2);
  return tidy(() => {
    const full = tensor(img.data, [1, 3, img.height, img.width]);
    const hr = slice(full, [0, 0, top, left], [1, 3, h * scale, w * scale]);
    let lr = resize(hr, [h, w], { mode: "antialias-bicubic" });
    if (degradation.kind === "blur")
      lr = gaussianFilter(lr, degradation.sigma, { border: "reflect" });
    if (degradation.kind === "noise") {
      const rng = new Random(seed);
      const n = Float32Array.from({ length: lr.size }, () => degradation.sigma * rng.normal());
      lr = add(lr, tensor(n, lr.shape));
    }
    return { file, lr, hr };
  });
}
