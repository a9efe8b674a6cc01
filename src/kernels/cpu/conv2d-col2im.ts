/**
 * The input gradient of a strided convolution as one GEMM and a col2im (Caffe's and PyTorch's
 * backward-data): cols = W^T dy holds, for every output pixel of the forward conv, what each of
 * its C kh kw taps sends back, and col2im adds each into dx at the input pixel that tap read.
 *
 * The phase split (conv2d-phases.ts) computes the same sums as stride^2 smaller convs; where the
 * forward conv has many output channels and few pixels (ResNet's 256 -> 512 stride-2 conv at
 * 14x14) those are four GEMMs of a few hundred columns, each with its own kernel gather and a
 * strided scatter of its result, and took twice the forward's time. Here the one GEMM has
 * C kh kw rows, the forward's output channels as its depth and every image's pixels as columns.
 */
import type { Conv2dGeometry } from "../conv-geometry.ts";
import { conv2dGeometry } from "../conv-geometry.ts";
import { allocF32, allocF32Unset, recycle } from "./buffers.ts";
import { colMatrix } from "./conv2d-col-matrix.ts";
import { ColPacker } from "./conv2d-packers.ts";
import { activeGemmImpl, gemmPackB } from "./gemm.ts";
import { gemmSimd } from "./wasm/gemm-wasm.ts";

/**
 * Fewest output channels of the forward conv (the GEMM's depth) for which col2im beats the phase
 * split: each cols entry costs one scalar add in col2im against that many multiply-adds in the
 * GEMM (bench/conv-shapes.ts, ResNet-18's strided convs at batch 10).
 */
let minDepth = 256;
/**
 * Sets the fewest forward output channels for which strided convs' input gradients take col2im
 * (Infinity: never); returns the previous value. For benchmarks and tests that compare paths.
 */
export function setCol2imMinDepth(channels: number): number {
  const prev = minDepth;
  minDepth = channels;
  return prev;
}

/** Largest cols block (floats): images go through in groups that keep it within this. */
const COLS_FLOATS = 1 << 21;

/**
 * Whether conv2dInputGradCol2im computes `g`: the conv, on dy, whose output is the input
 * gradient of a strided conv (its stride is g's input dilation), one group, no stride and at
 * least minDepth forward output channels, on the wasm GEMM.
 */
export function col2imInputGradPays(g: Conv2dGeometry): boolean {
  const [idh, idw] = g.inputDilation;
  return (
    (idh > 1 || idw > 1) &&
    g.stride[0] === 1 &&
    g.stride[1] === 1 &&
    g.groups === 1 &&
    g.inChannels >= minDepth &&
    activeGemmImpl() === "wasm" &&
    gemmSimd() !== null
  );
}

/**
 * dx [N, O, outH, outW] = conv(dy, w') for g (col2imInputGradPays) and the forward kernel
 * w [C, O, kh, kw] (w' its flip-swap, as conv2dFlippedKernel): for the forward conv of stride
 * s = g's input dilation, dilation d and pads pt, pl,
 *   dx[n, o, oy s + ky dh - pt, ox s + kx dw - pl] += sum_c w[c, o, ky, kx] dy[n, c, oy, ox].
 * Images go through in groups whose cols block stays within `colsFloats` (at least one image).
 */
export function conv2dInputGradCol2im(
  dy: Float32Array,
  w: Float32Array,
  g: Conv2dGeometry,
  colsFloats = COLS_FLOATS,
): Float32Array {
  const { batch: N, inChannels: C, outChannels: O, kernelH: kh, kernelW: kw } = g;
  const { inHeight: Hd, inWidth: Wd, outHeight: H, outWidth: W } = g;
  const [sy, sx] = g.inputDilation;
  const [dh, dw] = g.dilation;
  // The forward conv's pads (g's reach the kernel's far side).
  const pt = dh * (kh - 1) - g.pad[0];
  const pl = dw * (kw - 1) - g.pad[2];
  const rows = O * kh * kw;
  const P = Hd * Wd;
  const dx = allocF32(N * O * H * W);
  const images = Math.max(1, Math.min(N, Math.floor(colsFloats / (rows * P))));
  // dy's channels as the GEMM's depth: a pointwise conv's column matrix over `images` images.
  const pointwise = conv2dGeometry([N, C, Hd, Wd], [rows, C, 1, 1], {
    stride: [1, 1],
    dilation: [1, 1],
    inputDilation: [1, 1],
    pad: [0, 0, 0, 0],
    groups: 1,
  });
  const src = colMatrix(dy, pointwise);
  const packer = new ColPacker(src);
  const cols = allocF32Unset(rows * images * P);
  // Where each tap's columns land: the output pixels whose tap stays inside dx.
  const oyRange = axisRange(kh, Hd, H, sy, dh, pt);
  const oxRange = axisRange(kw, Wd, W, sx, dw, pl);
  for (let n0 = 0; n0 < N; n0 += images) {
    const count = Math.min(images, N - n0);
    const ld = count * P;
    src.setInput(n0 * C * P, count);
    // cols [rows, count P] = w^T [rows, C] dy [C, count P]; w^T's row m = (o kh + ky) kw + kx.
    gemmPackB(rows, ld, C, w, 0, rows, true, packer, cols, 0, ld, false, n0 > 0);
    for (let o = 0; o < O; o++)
      for (let ky = 0; ky < kh; ky++) {
        const [oy0, oy1] = oyRange[ky];
        for (let kx = 0; kx < kw; kx++) {
          const [ox0, ox1] = oxRange[kx];
          const row = ((o * kh + ky) * kw + kx) * ld;
          for (let n = 0; n < count; n++) {
            const plane = ((n0 + n) * O + o) * H * W;
            for (let oy = oy0; oy < oy1; oy++) {
              let at = plane + (oy * sy + ky * dh - pt) * W + ox0 * sx + kx * dw - pl;
              const from = row + n * P + oy * Wd;
              for (let ox = ox0; ox < ox1; ox++, at += sx) dx[at] += cols[from + ox];
            }
          }
        }
      }
  }
  recycle(cols);
  return dx;
}

/**
 * Per tap k along one axis: the output positions [first, end) of the forward conv (size `outs`)
 * whose tap k lands inside the input (size `size`): 0 <= pos s + k d - pad < size.
 */
function axisRange(
  taps: number,
  outs: number,
  size: number,
  s: number,
  d: number,
  pad: number,
): [number, number][] {
  const ranges: [number, number][] = [];
  for (let k = 0; k < taps; k++) {
    const off = k * d - pad;
    const first = Math.max(0, Math.ceil(-off / s));
    const end = Math.min(outs, Math.floor((size - 1 - off) / s) + 1);
    ranges.push([first, Math.max(first, end)]);
  }
  return ranges;
}
