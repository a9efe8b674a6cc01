/**
 * 3x3 and 2x2 stride-1 convolutions by Winograd F(2x2, 3x3) and F(2x2, 2x2) on the wasm kernel:
 * 16 multiply-adds per 2x2 output tile and channel pair instead of 36 (2.25x fewer), or 9 instead
 * of 16 (1.78x), the rest being adds in the input and output transforms
 * (wasm/winograd-block.ts). The input gradient of such a conv is one too (the flipped kernel,
 * stride 1), so backward passes take this path as well; the 2x2 convs are those of upsample +
 * 3x3 conv run per output phase (ops/upsample-conv.ts).
 *
 * Per chunk of images: the input is staged in wasm memory and padded (padplanes) so that every
 * tile's 4x4 patch lies inside it; the output's tiles, in blocks sized to stay in cache, are
 * shared between the calling thread and the GEMM helper (winoSplit); the padded output planes
 * are cropped into `out`. Kernel transform U = G g G^T is computed here in float64.
 */

import { type Conv2dGeometry, isPlainWindow } from "../conv-geometry.ts";
import { activeGemmImpl } from "./gemm.ts";
import type { GemmSimd, WinoBlockArgs } from "./wasm/gemm-simd.ts";
import { winoSplit } from "./wasm/gemm-threads.ts";
import { GEMM_WORKSPACE_FLOATS, gemmSimd, packScratch } from "./wasm/gemm-wasm.ts";

/** Output channels per A panel of the wasm GEMM (WASM_MR). */
const MR = 4;
/** Floats of one thread's V and M blocks together (~384 KiB: within a core's L2). */
const BLOCK_FLOATS = 96 * 1024;
/** Input floats staged per chunk of images (bounds the wasm memory this path takes). */
const CHUNK_FLOATS = 1 << 22;
/** Largest channel counts taken (the transformed kernel, 16 x K x C, stays cache-sized). */
const MAX_CHANNELS = 512;

/** Fewest output channels for which Winograd beats the other paths (setWinogradMinOut). */
let minOut = 1;

/**
 * Sets the fewest output channels for which conv2dForward takes Winograd (Infinity: never);
 * returns the previous value. For benchmarks and tests that compare paths.
 */
export function setWinogradMinOut(channels: number): number {
  const prev = minOut;
  minOut = channels;
  return prev;
}

/**
 * Whether conv2dForward takes the Winograd path for `g`: from 4 tile groups (16 tiles of 2x2
 * outputs) per image on, where the kernel transform (K x C kernels, in JS) is small next to the
 * GEMMs. Per image, not per batch, so that a batch item's result never depends on the batch
 * size (the paths round differently). bench/winograd.ts: [1, 512, 7, 7] -> 512 (4 groups)
 * 0.88x the GEMM path's speed, [10, 512, 7, 7] 1.87x, [8, 32, 256, 256] -> 32 1.99x.
 */
export function winogradPays(g: Conv2dGeometry): boolean {
  const groups = Math.ceil(g.outHeight / 2) * Math.ceil(g.outWidth / 8);
  return g.outChannels >= minOut && groups >= 4 && winogradApplies(g);
}

/** Whether the Winograd path can compute `g`. */
export function winogradApplies(g: Conv2dGeometry): boolean {
  return (
    (g.kernelH === 3 || g.kernelH === 2) &&
    g.kernelW === g.kernelH &&
    g.groups === 1 &&
    isPlainWindow(g) &&
    g.inChannels <= MAX_CHANNELS &&
    g.outChannels <= MAX_CHANNELS &&
    activeGemmImpl() === "wasm" &&
    gemmSimd() !== null
  );
}

/**
 * out [N, K, outH, outW] = conv(x, w) + bias for a geometry winogradApplies() accepts, writing
 * every element of out; false (out half written) when an output is not finite. Then the caller
 * must compute the conv another way: Winograd's transforms add and subtract neighbouring
 * products that cancel, so an Inf in x or w gives NaN (Inf - Inf) where the direct sum gives
 * Inf, and even in outputs whose own window holds no Inf. A finite result implies finite
 * inputs (any Inf or NaN reaches some output through a non-zero or a 0 * Inf product).
 */
export function conv2dWinograd(
  x: Float32Array,
  w: Float32Array,
  g: Conv2dGeometry,
  bias: Float32Array | null,
  out: Float32Array,
): boolean {
  const s = gemmSimd() as GemmSimd;
  const r = g.kernelH as 2 | 3;
  const points = (r + 1) * (r + 1);
  const { batch: N, inChannels: C, outChannels: K, inHeight: H, inWidth: W } = g;
  const { outHeight: Ho, outWidth: Wo } = g;
  const tH = Math.ceil(Ho / 2);
  const tWg = Math.ceil(Wo / 8);
  const Hp = 2 * tH + 2;
  const Wp = 8 * tWg + 2;
  const Ho2 = 2 * tH;
  const Wo2 = 8 * tWg;
  const mp = Math.ceil(K / MR);
  const perImage = tH * tWg;
  const images = Math.max(1, Math.min(N, Math.floor(CHUNK_FLOATS / (C * Hp * Wp))));
  // Groups per block: V (points x C x 4 per group) and M (points x 4 mp x 4) within
  // BLOCK_FLOATS; even, because gebp pairs panels.
  const fit = Math.floor(BLOCK_FLOATS / (4 * points * (C + MR * mp)));
  const perBlock = Math.max(2, Math.min(64, fit - (fit % 2)));
  const align = (v: number) => Math.ceil(v / 16) * 16;
  // Layout after the GEMM workspace (floats): U, bias, padded input, staged input / padded
  // output (the stage is consumed before any output is written), two threads' V and M.
  const uFloats = align(points * mp * MR * C);
  const biasAt = uFloats;
  const xpAt = biasAt + align(mp * MR);
  const xpFloats = align(images * C * Hp * Wp);
  const ioAt = xpAt + xpFloats;
  const ioFloats = align(Math.max(images * C * H * W, images * K * Ho2 * Wo2));
  const vFloats = align(points * C * MR * perBlock);
  const mFloats = align(points * mp * MR * MR * perBlock);
  const scratchAt = ioAt + ioFloats;
  const flagAt = scratchAt + 2 * (vFloats + mFloats);
  const f = packScratch(s, flagAt + 16);
  const base = GEMM_WORKSPACE_FLOATS;
  f[base + flagAt] = 0;
  writeKernelTransform(f, base, w, r, K, C, mp);
  f.fill(0, base + biasAt, base + biasAt + mp * MR);
  if (bias !== null) f.set(bias.subarray(0, K), base + biasAt);
  const bytes = (floats: number) => 4 * (base + floats);
  const scratch = (t: number) => ({
    v: bytes(scratchAt + t * (vFloats + mFloats)),
    m: bytes(scratchAt + t * (vFloats + mFloats) + vFloats),
  });
  for (let n0 = 0; n0 < N; n0 += images) {
    const count = Math.min(images, N - n0);
    f.set(x.subarray(n0 * C * H * W, (n0 + count) * C * H * W), base + ioAt);
    s.padplanes(bytes(xpAt), bytes(ioAt), count * C, H, W, Hp, Wp, g.pad[0], g.pad[2]);
    const args: WinoBlockArgs = [
      bytes(xpAt),
      C,
      Hp * Wp * 4,
      Wp * 4,
      tH,
      tWg,
      0,
      0,
      bytes(0),
      mp,
      0,
      0,
      bytes(ioAt),
      K,
      Ho2 * Wo2 * 4,
      Wo2 * 4,
      bytes(biasAt),
      bytes(flagAt),
    ];
    winoSplit(s, r, args, count * perImage, perBlock, scratch(0), scratch(1));
    if (f[base + flagAt] !== 0) return false;
    cropPlanes(f, base + ioAt, Ho2, Wo2, out, n0 * K * Ho * Wo, count * K, Ho, Wo);
  }
  return true;
}

/**
 * U_xi = (G g G^T)[i][j] for each output channel k and input channel c (g its r x r kernel),
 * packed as gebp's A operand of block xi = alpha i + j: mp panels of MR output channels, C steps
 * of MR floats (rows K .. mp * MR - 1 zero).
 */
function writeKernelTransform(
  f: Float32Array,
  at: number,
  w: Float32Array,
  r: 2 | 3,
  K: number,
  C: number,
  mp: number,
): void {
  const alpha = r + 1;
  const xiFloats = mp * MR * C;
  f.fill(0, at, at + alpha * alpha * xiFloats);
  const gg = new Float64Array(alpha * r);
  for (let k = 0; k < K; k++) {
    const panel = at + Math.floor(k / MR) * C * MR + (k % MR);
    for (let c = 0; c < C; c++) {
      const o = (k * C + c) * r * r;
      // G g then (G g) G^T, unrolled: a generic loop over G took 80 ms for 512 x 512 kernels.
      if (r === 3) transform3(w, o, gg, f, panel + c * MR, xiFloats);
      else transform2(w, o, gg, f, panel + c * MR, xiFloats);
    }
  }
}

/**
 * (G g G^T) of the 3x3 kernel at w[o..] into f[at + xi * stride]; G = [1 0 0; 1/2 1/2 1/2;
 * 1/2 -1/2 1/2; 0 0 1] (points 0, 1, -1, infinity).
 */
function transform3(
  w: Float32Array,
  o: number,
  gg: Float64Array,
  f: Float32Array,
  at: number,
  stride: number,
): void {
  for (let col = 0; col < 3; col++) {
    const a = w[o + col];
    const b = w[o + 3 + col];
    const d = w[o + 6 + col];
    gg[col] = a;
    gg[3 + col] = (a + b + d) / 2;
    gg[6 + col] = (a - b + d) / 2;
    gg[9 + col] = d;
  }
  for (let i = 0; i < 4; i++) {
    const a = gg[3 * i];
    const b = gg[3 * i + 1];
    const d = gg[3 * i + 2];
    const x = at + 4 * i * stride;
    f[x] = a;
    f[x + stride] = (a + b + d) / 2;
    f[x + 2 * stride] = (a - b + d) / 2;
    f[x + 3 * stride] = d;
  }
}

/**
 * (G g G^T) of the 2x2 kernel at w[o..] into f[at + xi * stride]; G = [1 0; 1 1; 0 1] (points 0,
 * 1, infinity).
 */
function transform2(
  w: Float32Array,
  o: number,
  gg: Float64Array,
  f: Float32Array,
  at: number,
  stride: number,
): void {
  for (let col = 0; col < 2; col++) {
    const a = w[o + col];
    const b = w[o + 2 + col];
    gg[col] = a;
    gg[2 + col] = a + b;
    gg[4 + col] = b;
  }
  for (let i = 0; i < 3; i++) {
    const a = gg[2 * i];
    const b = gg[2 * i + 1];
    const x = at + 3 * i * stride;
    f[x] = a;
    f[x + stride] = a + b;
    f[x + 2 * stride] = b;
  }
}

/** Copies the top-left rows x cols of `planes` padded planes (pH x pW floats at f[at]) into dst. */
function cropPlanes(
  f: Float32Array,
  at: number,
  pH: number,
  pW: number,
  dst: Float32Array,
  dstAt: number,
  planes: number,
  rows: number,
  cols: number,
): void {
  for (let p = 0; p < planes; p++) {
    const src = at + p * pH * pW;
    const d = dstAt + p * rows * cols;
    if (pW === cols) {
      dst.set(f.subarray(src, src + rows * cols), d);
      continue;
    }
    for (let y = 0; y < rows; y++) {
      dst.set(f.subarray(src + y * pW, src + y * pW + cols), d + y * cols);
    }
  }
}
