/** Small models with known attributions, and comparison helpers, for the attribution tests. */
import { expect } from "vitest";
import * as s from "../../src/index.ts";

export type T = s.Tensor;

/** Asserts |a - b| <= tol elementwise, reporting the first offending index. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (!(worst <= tol)) {
    throw new Error(
      `max |diff| ${worst} > ${tol} at ${at}: got ${actual[at]}, expected ${expected[at]}`,
    );
  }
}

export const values = (t: T) => Array.from(t.dataSync());

/** f(x) = W flatten(x) + b for x [N, ...]; W [K, D]. */
export function linearModel(w: number[][], b: number[]) {
  const W = s.keep(s.tensor(w));
  const B = s.keep(s.tensor(b));
  return (x: T) => s.linear(s.reshape(x, [x.shape[0], -1]), W, B);
}

/** scipy.ndimage.gaussian_filter over the last two axes of [C, H, W] values, zero border, truncate 4 (float64, independent of the engine). */
export function scipyBlur(
  v: ArrayLike<number>,
  c: number,
  h: number,
  w: number,
  sigma: number,
): Float64Array {
  const radius = Math.trunc(4 * sigma + 0.5);
  const k: number[] = [];
  for (let i = -radius; i <= radius; i++)
    k.push(sigma === 0 ? (i === 0 ? 1 : 0) : Math.exp(-(i * i) / (2 * sigma * sigma)));
  const tot = k.reduce((a, b) => a + b, 0);
  const kk = k.map((x) => x / tot);
  const tmp = new Float64Array(c * h * w);
  const out = new Float64Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let acc = 0;
        for (let t = -radius; t <= radius; t++) {
          const yy = y + t;
          if (yy >= 0 && yy < h) acc += kk[t + radius] * v[(ch * h + yy) * w + x];
        }
        tmp[(ch * h + y) * w + x] = acc;
      }
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let acc = 0;
        for (let t = -radius; t <= radius; t++) {
          const xx = x + t;
          if (xx >= 0 && xx < w) acc += kk[t + radius] * tmp[(ch * h + y) * w + xx];
        }
        out[(ch * h + y) * w + x] = acc;
      }
    }
  }
  return out;
}
