/** Synthetic models whose evidence sits in one known patch, for the optimised-mask tests. */
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { keep } from "../../src/autodiff/tidy.ts";
import { concat, mul, reshape, sum, tensor, zeros } from "../../src/index.ts";

export interface Patch {
  y: number;
  x: number;
  side: number;
}

/**
 * A size x size checkerboard image [1, 1, size, size] and a two-class model whose class-0 logit
 * is scale / side^2 * sum over the patch of (+x on white squares, -x on black ones) and whose
 * class-1 logit is 0. On the checkerboard class 0 scores `scale`; blurring or flattening the
 * patch to a constant scores 0, and nothing outside the patch matters.
 */
export function checkerPatchModel(
  size: number,
  patch: Patch,
  scale: number,
): { model: (x: Tensor) => Tensor; image: Tensor } {
  const img = new Float32Array(size * size);
  const w = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const white = (x + y) % 2;
      img[y * size + x] = white;
      const inside =
        y >= patch.y && y < patch.y + patch.side && x >= patch.x && x < patch.x + patch.side;
      if (inside) w[y * size + x] = ((white ? 1 : -1) * (2 * scale)) / (patch.side * patch.side);
    }
  }
  const W = keep(tensor(w, [1, size * size]));
  const model = (x: Tensor) => {
    const n = x.shape[0];
    const logit = sum(mul(reshape(x, [n, size * size]), W), 1, true);
    return concat([logit, zeros([n, 1])], 1);
  };
  return { model, image: keep(tensor(img, [1, 1, size, size])) };
}
