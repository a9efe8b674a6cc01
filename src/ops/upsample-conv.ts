/**
 * A convolution of a nearest-upsampled image, computed without the upsampled image: conv(k x k,
 * stride 1) of upsample(x, r) equals convs on x itself, one per output phase (each phase sees at
 * most ceil(k / r) + 1 source pixels per axis, so its taps merge), interleaved into the output.
 * From 16 output channels on, each phase runs as its own conv with only its own window of merged
 * taps (k = 3, r = 2: 2x2 taps, 2.25x fewer multiply-adds than the conv at high resolution), and
 * `interleave` places the phases. Below that, one conv with r*r times more output channels over
 * the merged kernel of every phase (zero taps included: about the multiply-adds of the plain conv)
 * and a depth-to-space, which suits a GEMM better when O is tiny (an SR network's RGB output
 * layer). Either way the r*r-times larger intermediate, the upsampling and its adjoint disappear.
 * The merged kernel is made with differentiable ops, so weight gradients flow too.
 */
import { derivedFromWeight } from "../autodiff/derived-from-weight.ts";
import { ruleFor } from "../autodiff/rule-set.ts";
import { state } from "../autodiff/state.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { add, mul } from "./binary.ts";
import { type Conv2dOptions, conv2d, resolvePadding } from "./conv.ts";
import { fill } from "./creation.ts";
import { interleavedConv2d, interleavedConvPays, type Pads } from "./interleaved-conv.ts";
import { pad } from "./pad.ts";
import { interleave, pixelShuffle } from "./pixel-shuffle.ts";
import { reshape } from "./reshape.ts";
import { upsample } from "./resize.ts";
import { reverse, slice } from "./slice.ts";
import { transpose } from "./transpose.ts";

/** One axis of the merge: the low-res kernel size and its padding before / after. */
interface AxisMerge {
  size: number;
  padBefore: number;
  padAfter: number;
}

function axisMerge(k: number, padBefore: number, r: number): AxisMerge {
  // Output pixel r*i + a, tap t reads upsampled pixel r*i + a + t - padBefore, i.e. low-res
  // pixel i + floor((a + t - padBefore) / r).
  const offset = (a: number, t: number) => Math.floor((a + t - padBefore) / r);
  const lo = offset(0, 0);
  const hi = offset(r - 1, k - 1);
  return { size: hi - lo + 1, padBefore: -lo, padAfter: hi };
}

/**
 * Sliding sums along the leading axis of t [k, ...]: row q of the result is the sum of the r taps
 * from (first + q) on (zeros outside the kernel), for q in [0, size * r). For phase a and low-res
 * offset t' the taps landing there are the run of r from (lo + t') r - a + padBefore (clipped to
 * the kernel); with first = lo r - (r - 1) + padBefore these runs are rows t' r + (r - 1 - a).
 * Sums of shifted slices, never a product with a 0/1 matrix: 0 * Inf would turn one infinite
 * weight into NaN in every merged tap.
 */
function runSums(t: Tensor, m: AxisMerge, padBefore: number, r: number): Tensor {
  const k = t.shape[0];
  const first = -m.padBefore * r - (r - 1) + padBefore;
  const before = Math.max(0, -first);
  const after = Math.max(0, first + m.size * r - 1 + r - k);
  const rest = t.shape.slice(1);
  const padded = pad(t, [[before, after], ...rest.map((): [number, number] => [0, 0])]);
  const rows = (j: number) =>
    slice(padded, [first + before + j, ...rest.map(() => 0)], [m.size * r, ...rest]);
  let sums = rows(0);
  for (let j = 1; j < r; j++) sums = add(sums, rows(j));
  return sums;
}

/**
 * w [O, C, kh, kw] -> [O * r * r, C, K'h, K'w]: output channel o * r * r + a * r + b holds the
 * merged taps of phase (a, b), each the sum of the original taps reading that low-res offset.
 */
function mergeTaps(
  w: Tensor,
  my: AxisMerge,
  top: number,
  mx: AxisMerge,
  left: number,
  r: number,
): Tensor {
  const [o, c, kh, kw] = w.shape;
  // Rows first on [kh, kw, O C], then columns on [kw, rows, O C].
  const byRows = runSums(reshape(transpose(w, [2, 3, 0, 1]), [kh, kw, o * c]), my, top, r);
  const both = runSums(transpose(byRows, [1, 0, 2]), mx, left, r);
  // Rows of both: t'x r + (r - 1 - b); columns: t'y r + (r - 1 - a).
  const split = reverse(reshape(both, [mx.size, r, my.size, r, o, c]), [1, 3]);
  // [t'x, b, t'y, a, O, C] -> [O, a, b, C, t'y, t'x].
  return reshape(transpose(split, [4, 3, 1, 5, 2, 0]), [o * r * r, c, my.size, mx.size]);
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
  // w [O, C, kh, kw] -> [O, C, r * K'h, r * K'w] -> [O, C, r, K'h, r, K'w] -> [O, r, r, C, K'h, K'w].
  const merge = () => mergeTaps(w, my, top, mx, left, scale);
  const key = `upsample-conv ${scale} ${top} ${left}`;
  if (outC >= phaseSplitMinOut) {
    const rows = { k: kh, pad: top, m: my };
    const cols = { k: kw, pad: left, m: mx };
    const phases = derivedFromWeight(w, `${key} phases`, () =>
      phaseKernels(merge(), rows, cols, scale),
    );
    return phaseSplitConv(x, phases, rows, cols, scale, o);
  }
  const [wm] = derivedFromWeight(w, key, () => [merge()]);
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

/**
 * Low-res taps phase `a` reads: rows [first, last] of the merged kernel (the merged kernel
 * covers every phase, so each phase uses only its own window of it).
 */
function phaseWindow(a: number, { k, pad, m }: AxisPlan, r: number) {
  const first = Math.floor((a - pad) / r) + m.padBefore;
  const last = Math.floor((a + k - 1 - pad) / r) + m.padBefore;
  return { first, size: last - first + 1 };
}

/**
 * Fewest output channels for which one conv per phase, each with only its own window of the
 * merged taps, beats the single merged conv, whose zero taps cost multiply-adds: the windows
 * hold fewer taps (k = 3, r = 2: 2x2 of the merged 3x3, 2.25x fewer multiply-adds than the conv at
 * high resolution; k = 5: 3x3 of 4x4), but each phase is a GEMM with O rows instead of one with
 * r*r*O, which a GEMM only handles well when O is not tiny.
 */
let phaseSplitMinOut = 16;

/**
 * Whether running conv(upsample(x)) as low-res convs saves work: always with the per-phase convs
 * (O >= the threshold: fewer multiply-adds, no upsampled image); with the single merged conv only
 * when it reduces channels (O < C), because its depth-to-space then moves O channels at the high
 * resolution where the upsample moved C, and its multiply-adds equal the plain conv's.
 */
export function upsampleConvPays(outC: number, inC: number): boolean {
  return outC >= phaseSplitMinOut || outC < inC;
}

/** Sets the fewest output channels that take the per-phase convs; returns the previous value (bench/upsample-conv.ts). */
export function setPhaseSplitMinOut(n: number): number {
  const prev = phaseSplitMinOut;
  phaseSplitMinOut = n;
  return prev;
}

/** One axis of the original conv: its kernel size, its padding before, and its merge. */
interface AxisPlan {
  k: number;
  pad: number;
  m: AxisMerge;
}

/** Phase (a, b)'s kernel (index a r + b): its window of the merged taps wm. */
function phaseKernels(wm: Tensor, rows: AxisPlan, cols: AxisPlan, r: number): Tensor[] {
  const [or2, c] = wm.shape;
  const outC = or2 / (r * r);
  const w6 = reshape(wm, [outC, r, r, c, rows.m.size, cols.m.size]);
  const kernels: Tensor[] = [];
  for (let a = 0; a < r; a++) {
    const ya = phaseWindow(a, rows, r);
    for (let b = 0; b < r; b++) {
      const xb = phaseWindow(b, cols, r);
      const size = [outC, 1, 1, c, ya.size, xb.size];
      const window = slice(w6, [0, a, b, 0, ya.first, xb.first], size);
      kernels.push(reshape(window, [outC, c, ya.size, xb.size]));
    }
  }
  return kernels;
}

/**
 * The r*r phases as separate convs on x, phase (a, b) with its kernel (phaseKernels) and the
 * pads that align it, interleaved into the output (interleave: depth-to-space without
 * stacking); for r = 2, one interleavedConv2d where the backend runs the four in one pass.
 */
function phaseSplitConv(
  x: Tensor,
  kernels: readonly Tensor[],
  rows: AxisPlan,
  cols: AxisPlan,
  r: number,
  o: Conv2dOptions,
): Tensor {
  const pads: Pads[] = [];
  for (let a = 0; a < r; a++) {
    const ya = phaseWindow(a, rows, r);
    for (let b = 0; b < r; b++) {
      const xb = phaseWindow(b, cols, r);
      const padTop = rows.m.padBefore - ya.first;
      const padLeft = cols.m.padBefore - xb.first;
      pads.push([padTop, ya.size - 1 - padTop, padLeft, xb.size - 1 - padLeft]);
    }
  }
  if (r === 2 && interleavedConvPays(x, kernels, pads)) {
    return interleavedConv2d(x, kernels, pads, { bias: o.bias ?? null, relu: o.relu });
  }
  const phases = kernels.map((w, p) =>
    conv2d(x, w, { bias: o.bias ?? null, padding: pads[p], relu: o.relu }),
  );
  return interleave(phases, r);
}
