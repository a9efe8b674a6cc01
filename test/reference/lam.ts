/**
 * Float64 references for LAM (Gu & Dong, "Interpreting Super-Resolution Networks with Local
 * Attribution Maps", CVPR 2021; the LAM_Demo code's `attr_grad`, `grad_abs_norm` and `gini`),
 * written from those definitions without the engine.
 */

export interface Window64 {
  x: number;
  y: number;
  size: number;
}

/**
 * LAM_Demo `attr_grad`: forward differences dV, dH of a [C, H, W] planar image inside the window
 * (the last row and column of the image have none), sqrt(dV^2 + dH^2) summed over channels and
 * window.
 */
export function windowGradientMagnitude(
  img: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  w: Window64,
): number {
  const rows = Math.min(w.size, height - w.y - 1);
  const cols = Math.min(w.size, width - w.x - 1);
  let total = 0;
  for (let c = 0; c < channels; c++)
    for (let y = w.y; y < w.y + rows; y++)
      for (let x = w.x; x < w.x + cols; x++) {
        const at = (yy: number, xx: number) => img[(c * height + yy) * width + xx];
        const dv = at(y, x) - at(y + 1, x);
        const dh = at(y, x) - at(y, x + 1);
        total += Math.sqrt(dv * dv + dh * dh);
      }
  return total;
}

/**
 * LAM's diffusion index of a [C, h, w] map: |sum over channels| divided by its maximum, shifted by
 * 1e-7, and DI = 100 (1 - G) with G = sum_ij |x_i - x_j| / (2 n sum x): the Gini coefficient as a
 * mean absolute difference, not the sorted form the library uses.
 */
export function diffusionIndexByPairs(
  map: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
): number {
  const px = height * width;
  const x = new Float64Array(px);
  for (let p = 0; p < px; p++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += map[c * px + p];
    x[p] = Math.abs(s);
  }
  let max = 0;
  for (const v of x) max = Math.max(max, v);
  for (let p = 0; p < px; p++) x[p] = (max > 0 ? x[p] / max : 0) + 1e-7;
  let pairs = 0;
  let total = 0;
  for (let i = 0; i < px; i++) {
    total += x[i];
    for (let j = 0; j < px; j++) pairs += Math.abs(x[i] - x[j]);
  }
  return 100 * (1 - pairs / (2 * px * total));
}
