/**
 * LAM's images from files: an HR image prepared as LAM_Demo's `prepare_images` does it (the
 * platform-neutral lamImagesFromHr), or an LR image used as it is.
 */

import { lamImagesFromHr as fromHr, type LamImages } from "../attribution/lam/input.ts";
import { tensor } from "../ops/creation.ts";
import { readImage } from "../viz/image-io-node.ts";

export type { LamImages };

/** `crop`: keep only the centred crop x crop pixels of the HR image first (for quick studies). */
export function lamImagesFromHr(path: string, scale: number, crop?: number): LamImages {
  const img = readImage(path, 3);
  const full = tensor(img.data, [1, 3, img.height, img.width]);
  try {
    return fromHr(full, scale, crop);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  } finally {
    full.dispose();
  }
}

export function lamImagesFromLr(path: string): LamImages {
  const img = readImage(path, 3);
  return { lr: tensor(img.data, [1, 3, img.height, img.width]), hr: null, lrValues: img.data };
}
