/**
 * The Y-channel SR path composed by hand from the BT.601 studio-range formulas (MATLAB
 * rgb2ycbcr / ycbcr2rgb, float64): an oracle for yChannelSr and the CLI's 1-channel models.
 */
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { add, mul, sub } from "../../src/ops/binary.ts";
import { concat } from "../../src/ops/concat.ts";
import { fill, tensor } from "../../src/ops/creation.ts";
import { resize } from "../../src/ops/resize.ts";
import { split } from "../../src/ops/slice.ts";
import { Random } from "../../src/random.ts";

/** [3, h, w] RGB in [0, 1] -> [Y, Cb, Cr] planes in [0, 1] (x / 255 of the 8-bit formulas). */
function bt601(rgb: Float32Array, n: number): [Float32Array, Float32Array, Float32Array] {
  const [y, cb, cr] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [rgb[i], rgb[n + i], rgb[2 * n + i]];
    y[i] = (16 + 65.481 * r + 128.553 * g + 24.966 * b) / 255;
    cb[i] = (128 - 37.797 * r - 74.203 * g + 112 * b) / 255;
    cr[i] = (128 + 112 * r - 93.786 * g - 18.214 * b) / 255;
  }
  return [y, cb, cr];
}

/** The inverse: R = (Y-16)/219 + 1.402 (Cr-128)/224, etc. (Kr 0.299, Kb 0.114), values in [0, 1]. */
function bt601Inverse(y: Float32Array, cb: Float32Array, cr: Float32Array): Float64Array {
  const n = y.length;
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const l = (255 * y[i] - 16) / 219;
    const u = (255 * cb[i] - 128) / 224;
    const v = (255 * cr[i] - 128) / 224;
    out[i] = l + 1.402 * v;
    out[n + i] = l - ((0.114 * 1.772) / 0.587) * u - ((0.299 * 1.402) / 0.587) * v;
    out[2 * n + i] = l + 1.772 * u;
  }
  return out;
}

/** The Y path composed by hand: [1, 3, h, w] RGB -> [3, s h, s w] values. */
export function yPathByHand(
  runY: (y: Tensor) => Tensor,
  rgb: Float32Array,
  h: number,
  w: number,
  s: number,
): Float64Array {
  const [y, cb, cr] = bt601(rgb, h * w);
  return tidy(() => {
    const ySr = runY(tensor(y, [1, 1, h, w])).dataSync() as Float32Array;
    const up = (p: Float32Array) =>
      resize(tensor(p, [1, 1, h, w]), [h * s, w * s], {
        mode: "bicubic",
      }).dataSync() as Float32Array;
    return bt601Inverse(ySr, up(cb), up(cr));
  });
}

export function randomImage(h: number, w: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: 3 * h * w }, () => rng.uniform());
}

/**
 * The same path as differentiable ops written from the formulas (per-channel scalar multiply-adds,
 * not the library's YCbCr matrices): x [1, 3, h, w] -> [1, 3, s h, s w].
 */
export function yPathOps(runY: (y: Tensor) => Tensor, s: number): (x: Tensor) => Tensor {
  const lin = (terms: [Tensor, number][], offset: number) =>
    terms.reduce((acc, [t, c]) => add(acc, mul(t, c)), fill(terms[0][0].shape, offset));
  return (x) => {
    const [r, g, b] = split(x, [1, 1, 1], 1);
    const y = lin(
      [
        [r, 65.481 / 255],
        [g, 128.553 / 255],
        [b, 24.966 / 255],
      ],
      16 / 255,
    );
    const cb = lin(
      [
        [r, -37.797 / 255],
        [g, -74.203 / 255],
        [b, 112 / 255],
      ],
      128 / 255,
    );
    const cr = lin(
      [
        [r, 112 / 255],
        [g, -93.786 / 255],
        [b, -18.214 / 255],
      ],
      128 / 255,
    );
    const size: [number, number] = [x.shape[2] * s, x.shape[3] * s];
    const l = lin([[runY(y), 255 / 219]], -16 / 219);
    const u = lin([[resize(cb, size, { mode: "bicubic" }), 255 / 224]], -128 / 224);
    const v = lin([[resize(cr, size, { mode: "bicubic" }), 255 / 224]], -128 / 224);
    return concat(
      [
        add(l, mul(v, 1.402)),
        sub(l, add(mul(u, (0.114 * 1.772) / 0.587), mul(v, (0.299 * 1.402) / 0.587))),
        add(l, mul(u, 1.772)),
      ],
      1,
    );
  };
}
