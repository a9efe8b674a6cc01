/**
 * The CPU backend's interleaved conv: four convs of one input, differing only in their pads,
 * interleaved as the phases of a 2x upsampled output (nearest upsample x2 + conv, computed per
 * output phase by ops/interleaved-conv.ts). On the Winograd path the input is staged once and
 * the phases land interleaved in wasm memory; elsewhere, and where Winograd hands back a
 * non-finite result, each phase is its own conv and `interleave` places them.
 */
import type { Conv2dGeometry } from "../conv-geometry.ts";
import { allocF32Unset, recycle } from "./buffers.ts";
import { conv2dForward } from "./conv2d.ts";
import { conv2dWinogradInterleaved, winogradInterleaves } from "./conv2d-winograd.ts";
import { interleave } from "./layout.ts";

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
