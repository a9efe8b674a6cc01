/** Per-pixel saliency of a map [N, C, H, W] (channels summed) and pixel rankings for the metrics. */
import type { Tensor } from "../../autodiff/tensor.ts";

/** Channel-summed saliency per example: N arrays of H * W values. */
export async function pixelSaliency(map: Tensor, api: string): Promise<Float64Array[]> {
  if (map.rank !== 4) throw new Error(`${api}: expected a map [N, C, H, W], got [${map.shape}]`);
  const [n, c, h, w] = map.shape;
  const v = await map.data();
  return Array.from({ length: n }, (_, i) => {
    const out = new Float64Array(h * w);
    for (let ch = 0; ch < c; ch++) {
      const off = (i * c + ch) * h * w;
      for (let p = 0; p < h * w; p++) out[p] += v[off + p];
    }
    for (let p = 0; p < h * w; p++) {
      if (!Number.isFinite(out[p]))
        throw new Error(`${api}: the map has a non-finite value at pixel ${p} of example ${i}`);
    }
    return out;
  });
}

/** Pixel indices by descending saliency; ties keep raster order (a stable sort). */
export function rankPixels(saliency: ArrayLike<number>): Int32Array {
  const idx = Array.from({ length: saliency.length }, (_, i) => i);
  idx.sort((a, b) => saliency[b] - saliency[a] || a - b);
  return Int32Array.from(idx);
}

/** Checks that a map and an input agree on N, H and W. */
export function checkMapFor(map: Tensor, x: Tensor, api: string): void {
  if (
    x.rank !== 4 ||
    map.rank !== 4 ||
    map.shape[0] !== x.shape[0] ||
    map.shape[2] !== x.shape[2] ||
    map.shape[3] !== x.shape[3]
  ) {
    throw new Error(
      `${api}: the map [${map.shape}] must match the input [${x.shape}] in N, H and W (an [N, C or 1, H, W] map)`,
    );
  }
}
