/**
 * A convolution of a nearest-upsampled image, computed without the upsampled image: conv(k x k,
 * stride 1) of upsample(x, r) equals a conv on x itself with r*r phases of merged taps (each
 * output phase sees at most ceil(k / r) + 1 source pixels per axis), followed by depth-to-space.
 * The multiply-adds stay about the same (the merged kernel covers every phase, so some of its
 * taps are zero for some phases), but the r*r-times larger intermediate, the upsampling and its
 * adjoint disappear, and the few-output-channel conv at the high resolution (the last layer of an
 * SR network) becomes a conv with r*r times more output channels at the low resolution, which
 * suits a GEMM. The merged kernel is made with differentiable ops, so weight gradients flow too.
 */

import { ruleFor } from "../autodiff/rule-set.ts";
import { state } from "../autodiff/state.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { mul } from "./binary.ts";
import { concat } from "./concat.ts";
import { type Conv2dOptions, conv2d, resolvePadding } from "./conv.ts";
import { fill } from "./creation.ts";
import { gather } from "./gather.ts";
import { pixelShuffle } from "./pixel-shuffle.ts";
import { sum } from "./reduce.ts";
import { reshape } from "./reshape.ts";
import { upsample } from "./resize.ts";
import { transpose } from "./transpose.ts";

/** One axis of the merge: for phase a and low-res tap t', which original taps t land there. */
interface AxisMerge {
  /** Low-res kernel size and its padding before / after. */
  size: number;
  padBefore: number;
  padAfter: number;
  /** hit[(a * size + t') * k + t] = 1 when original tap t reads low-res offset t' at phase a. */
  hit: Uint8Array;
}

function axisMerge(k: number, padBefore: number, r: number): AxisMerge {
  // Output pixel r*i + a, tap t reads upsampled pixel r*i + a + t - padBefore, i.e. low-res
  // pixel i + floor((a + t - padBefore) / r).
  const offset = (a: number, t: number) => Math.floor((a + t - padBefore) / r);
  const lo = offset(0, 0);
  const hi = offset(r - 1, k - 1);
  const size = hi - lo + 1;
  const hit = new Uint8Array(r * size * k);
  for (let a = 0; a < r; a++)
    for (let t = 0; t < k; t++) hit[(a * size + offset(a, t) - lo) * k + t] = 1;
  return { size, padBefore: -lo, padAfter: hi, hit };
}

/**
 * conv2d(upsample(x, scale, "nearest"), w, o) for x [N, C, H, W] and w [O, C, kh, kw]. Merged
 * when the conv has stride 1, dilation 1, one group and keeps the size (pads summing to k - 1
 * per axis), and no gradient-rule set replaces conv2d (LRP rules are not linear in the weights,
 * so merging taps would change them); otherwise the two ops run as written.
 */
export function nearestUpsampleConv2d(
  x: Tensor,
  w: Tensor,
  scale: number,
  o: Conv2dOptions = {},
): Tensor {
  const plain = () => conv2d(upsample(x, scale, "nearest"), w, o);
  if (x.rank !== 4 || w.rank !== 4 || !Number.isInteger(scale) || scale < 1) return plain();
  const one = (v: number | readonly [number, number] | undefined) =>
    v === undefined || (typeof v === "number" ? v === 1 : v[0] === 1 && v[1] === 1);
  if (!one(o.stride) || !one(o.dilation) || (o.groups ?? 1) !== 1 || scale === 1) return plain();
  if (ruleFor(state.rules, "conv2d") !== undefined) return plain();
  const [outC, inC, kh, kw] = w.shape;
  const upSize: [number, number] = [x.shape[2] * scale, x.shape[3] * scale];
  const [top, bottom, left, right] = resolvePadding(
    o.padding ?? 0,
    upSize,
    [kh, kw],
    [1, 1],
    [1, 1],
  );
  if (top + bottom !== kh - 1 || left + right !== kw - 1 || inC !== x.shape[1]) return plain();

  const my = axisMerge(kh, top, scale);
  const mx = axisMerge(kw, left, scale);
  const r2 = scale * scale;
  // Each merged tap is the sum of the original taps landing on it, gathered rather than
  // multiplied by a 0/1 matrix: 0 * Inf would turn one infinite weight into NaN in every merged
  // tap. Slots a tap does not fill read an appended zero column (index kh * kw).
  const cols = r2 * my.size * mx.size;
  const taps: number[][] = Array.from({ length: cols }, () => []);
  for (let a = 0; a < scale; a++)
    for (let b = 0; b < scale; b++)
      for (let sy = 0; sy < my.size; sy++)
        for (let sx = 0; sx < mx.size; sx++) {
          const col = ((a * scale + b) * my.size + sy) * mx.size + sx;
          for (let ty = 0; ty < kh; ty++)
            for (let tx = 0; tx < kw; tx++)
              if (my.hit[(a * my.size + sy) * kh + ty] && mx.hit[(b * mx.size + sx) * kw + tx])
                taps[col].push(ty * kw + tx);
        }
  const slots = Math.max(...taps.map((t) => t.length));
  const index = taps.flatMap((t) => [...t, ...new Array<number>(slots - t.length).fill(kh * kw)]);
  const flat = concat([reshape(w, [outC * inC, kh * kw]), fill([outC * inC, 1], 0)], 1);
  // w [O, C, kh, kw] -> [O * C, cols] -> [O, C, r, r, K'h, K'w] -> [O, r, r, C, K'h, K'w].
  const merged = sum(reshape(gather(flat, index, 1), [outC * inC, cols, slots]), [2]);
  const wm = reshape(
    transpose(reshape(merged, [outC, inC, scale, scale, my.size, mx.size]), [0, 2, 3, 1, 4, 5]),
    [outC * r2, inC, my.size, mx.size],
  );
  // Each output channel's bias repeats over its r*r phases (channel o*r*r + a*r + b).
  const bias = o.bias
    ? reshape(mul(reshape(o.bias, [outC, 1]), fill([1, r2], 1)), [outC * r2])
    : null;
  const y = conv2d(x, wm, {
    bias,
    padding: [my.padBefore, my.padAfter, mx.padBefore, mx.padAfter],
    relu: o.relu,
  });
  return pixelShuffle(y, scale, "torch");
}
