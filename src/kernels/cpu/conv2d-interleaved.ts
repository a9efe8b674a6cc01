/**
 * The CPU backend's interleaved conv: four convs of one input, differing only in their pads,
 * interleaved as the phases of a 2x upsampled output (nearest upsample x2 + conv, computed per
 * output phase by ops/interleaved-conv.ts). On the Winograd path the input is staged once and
 * the phases land interleaved in wasm memory; elsewhere, and where Winograd hands back a
 * non-finite result, each phase is its own conv and `interleave` places them.
 */
import { type Conv2dGeometry, conv2dGeometry } from "../conv-geometry.ts";
import { allocF32Unset, recycle } from "./buffers.ts";
import { conv2dFlippedKernel, conv2dForward } from "./conv2d.ts";
import {
  conv2dWinogradInterleaved,
  conv2dWinogradInterleavedInputGrad,
  winogradInterleaves,
} from "./conv2d-winograd.ts";
import { interleave, slice } from "./layout.ts";

/** Whether conv2dInterleaved takes its one-pass path for the phase geometries `gs`. */
export function interleavedConvPays(gs: readonly Conv2dGeometry[]): boolean {
  return winogradInterleaves(gs);
}

/**
 * out [N, K, 2 outH, 2 outW] with out[n, k, 2 y + a, 2 x + b] = (conv(x, ws[p], gs[p]) + bias)
 * [n, k, y, x] for p = a * 2 + b (then max(0, .) when relu).
 */
export function conv2dInterleaved(
  x: Float32Array,
  ws: readonly Float32Array[],
  gs: readonly Conv2dGeometry[],
  bias: Float32Array | null,
  relu: boolean,
): Float32Array {
  if (gs.length !== 4) {
    throw new Error(`conv2dInterleaved: expected 4 phases (factor 2), got ${gs.length}`);
  }
  const g = gs[0];
  if (winogradInterleaves(gs)) {
    const out = allocF32Unset(g.batch * g.outChannels * 4 * g.outHeight * g.outWidth);
    if (conv2dWinogradInterleaved(x, ws, gs, bias, out, relu)) return out;
    recycle(out);
  }
  const phases = gs.map((gp, p) => conv2dForward(x, ws[p], gp, bias, relu));
  const out = interleave(phases, [g.batch, g.outChannels, g.outHeight, g.outWidth], 2);
  for (const phase of phases) recycle(phase);
  return out;
}

/**
 * Whether conv2dInterleavedInputGrad takes its one-conv path for the forward phases `gs`: the
 * forward's own path (so the stacked conv, with 4x the output channels as inputs, takes
 * Winograd too: both have the same tiles).
 */
export function interleavedInputGradPays(gs: readonly Conv2dGeometry[]): boolean {
  return winogradInterleaves(gs) && 4 * gs[0].outChannels <= 512;
}

/**
 * dx [N, C, H, W] of conv2dInterleaved(x, ws, gs) for its output gradient dy [N, K, 2H, 2W]:
 * the sum over phases p = a * 2 + b of conv p's input gradient for dy[:, :, a::2, b::2].
 */
export function conv2dInterleavedInputGrad(
  dy: Float32Array,
  ws: readonly Float32Array[],
  gs: readonly Conv2dGeometry[],
): Float32Array {
  const { batch: N, inChannels: C, outChannels: K, inHeight: H, inWidth: W } = gs[0];
  if (interleavedInputGradPays(gs)) {
    const out = allocF32Unset(N * C * H * W);
    if (conv2dWinogradInterleavedInputGrad(dy, ws, gs, out)) return out;
    recycle(out);
  }
  let sum: Float32Array | null = null;
  for (let p = 0; p < 4; p++) {
    const { pad, kernelH: kh, kernelW: kw } = gs[p];
    const phase = slice(
      dy,
      [N, K, 2 * H, 2 * W],
      [0, 0, p >> 1, p & 1],
      [N, K, H, W],
      [1, 1, 2, 2],
    );
    const g = conv2dGeometry([N, K, H, W], [C, K, kh, kw], {
      stride: [1, 1],
      dilation: [1, 1],
      inputDilation: [1, 1],
      pad: [kh - 1 - pad[0], kh - 1 - pad[1], kw - 1 - pad[2], kw - 1 - pad[3]],
      groups: 1,
    });
    const dx = conv2dFlippedKernel(phase as Float32Array, ws[p], g);
    recycle(phase);
    if (sum === null) sum = dx;
    else {
      for (let i = 0; i < sum.length; i++) sum[i] += dx[i];
      recycle(dx);
    }
  }
  return sum as Float32Array;
}
