/**
 * 3x3 and 2x2 stride-1 convolutions by Winograd on the wasm kernel: F(2x2, 3x3) and F(2x2, 2x2),
 * 16 multiply-adds per 2x2 output tile and channel pair instead of 36 (2.25x fewer), or 9 instead
 * of 16 (1.78x); from 16 channels and 24x24 outputs F(4x4, 3x3) (4x fewer) and F(4x4, 2x2)
 * (2.56x); the rest being adds in the input and output transforms (wasm/winograd-block.ts,
 * wasm/winograd-f4x4.ts). The input gradient of such a conv is one too (the flipped kernel,
 * stride 1), so backward passes take this path as well; the 2x2 convs are those of upsample +
 * 3x3 conv run per output phase (ops/upsample-conv.ts).
 *
 * Per piece (a chunk of images, or a band of a large image's rows): the input is staged in wasm
 * memory and padded (padplanes) so that every tile's patch lies inside it; the output's tiles,
 * in blocks sized to stay in cache, are shared between the calling thread and the GEMM helper
 * (winoSplitOpen); the padded output planes are cropped into `out`. With several pieces the
 * staging alternates between two buffers: while the helper starts on piece c's blocks, the
 * calling thread copies piece c - 1 out and stages piece c + 1, then joins (the serial copies
 * and padding were ~2 of every 8 ms per 256x256 image). Kernel transform U = G g G^T is computed
 * here in float64. */

import { type Conv2dGeometry, conv2dGeometry, isPlainWindow } from "../conv-geometry.ts";
import { conv2dWinogradChunked, winogradChunked } from "./conv2d-winograd-chunked.ts";
import { envSetting } from "./env-setting.ts";
import { activeGemmImpl } from "./gemm.ts";
import type { GemmSimd } from "./wasm/gemm-simd.ts";
import { winoSplitOpen } from "./wasm/gemm-threads.ts";
import { GEMM_WORKSPACE_FLOATS, gemmSimd, packScratch } from "./wasm/gemm-wasm.ts";
import { WINO_XI_SKEW } from "./wasm/winograd-block.ts";
import { cachedKernelTransform } from "./winograd-kernel-cache.ts";
import {
  bandTiles,
  copyOutPlanes,
  stageImages,
  type WinoPiece,
  type WinoTiles,
  winoTiles,
} from "./winograd-tiles.ts";

/** Output channels per A panel of the wasm GEMM (WASM_MR). */
const MR = 4;
/** Floats of one thread's V and M blocks together (~384 KiB: within a core's L2). */
const BLOCK_FLOATS = 96 * 1024;
/** Input floats staged per chunk of images (bounds the wasm memory this path takes). */
let chunkFloats = 1 << 22;

/**
 * Sets the input floats staged per chunk of images (at least one image a chunk); returns the
 * previous value. For tests that need several chunks on small inputs.
 */
export function setWinogradChunkFloats(floats: number): number {
  const prev = chunkFloats;
  chunkFloats = floats;
  return prev;
}
/**
 * Staged input floats beyond which an image goes through in bands of rows (setWinogradBandFloats):
 * a band's staged planes stay in cache while its tiles are transformed, and the bands of one
 * image alternate between two staging buffers as chunks of images do.
 */
let bandFloats = 1 << 19;

/**
 * Sets the staged input floats beyond which an image is split into bands of rows (Infinity:
 * never); returns the previous value. For tests and benchmarks (the results are the same).
 */
export function setWinogradBandFloats(floats: number): number {
  const prev = bandFloats;
  bandFloats = floats;
  return prev;
}
/** Largest channel counts taken (the transformed kernel, 16 x K x C, stays cache-sized). */
const MAX_CHANNELS = 512;

/** Whether convs of several chunks of images overlap staging with the blocks (setWinogradPipeline). */
let pipelineChunks = true;

/**
 * Turns the overlap of one chunk's blocks with the next chunk's staging on or off; returns the
 * previous setting. For tests and benchmarks that compare the two (the results are the same).
 */
export function setWinogradPipeline(on: boolean): boolean {
  const prev = pipelineChunks;
  pipelineChunks = on;
  return prev;
}

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

/**
 * Fewest output channels for which convs take F(4x4, 3x3) or F(4x4, 2x2) (setWinograd4x4Min),
 * and input channels unless there are twice as many output channels and 48x48 outputs;
 * SALIENT_WINOGRAD_4X4=0 in the environment turns both off at start-up. Each input channel's
 * transform serves every output channel, so with many outputs few input channels do not make
 * F(4x4) lose (2 threads: [1, 8, 128, 128] -> 32 0.77 against 0.88 ms in F(2x2), [4, 8, 56, 56]
 * -> 64 1.03 against 1.22, [8, 3, 256, 256] -> 32 16.3 against 16.7); few output channels do
 * ([1, 32, 256, 256] -> 3 3.6 against 3.1 ms, [1, 64, 64, 64] -> 8 even), and so do small
 * images of one channel ([10, 1, 28, 28] -> 16 0.27 against 0.20 ms).
 */
let min4x4 = envSetting("SALIENT_WINOGRAD_4X4") === "0" ? Number.POSITIVE_INFINITY : 16;
/**
 * Fewest output pixels per image for F(4x4, .): its kernel transform (36 points, in JS) costs
 * K x C x 36 per call whatever the image size, and pays off only over many tiles. bench/
 * winograd.ts, F(4x4) over F(2x2) at batch 10: 64 channels at 56x56 1.34x, 128 at 28x28 1.18x,
 * 256 at 14x14 1.06x, 512 at 7x7 0.74x; 32 channels at 256x256 (batch 8) 1.19x.
 */
const MIN_PIXELS_4X4 = 24 * 24;
/**
 * The same under 32 channels, where the transforms weigh more against the GEMMs: [10, 16, 28, 28]
 * -> 16 took 0.52 ms in F(4x4) against 0.49 in F(2x2), -> 32 0.82 against 0.80; at 32x32 F(4x4)
 * led (0.50 against 0.53). IG on the 28x28 ResNet: 2-3% faster (alternating, 16 rounds x 5).
 */
const MIN_PIXELS_4X4_FEW = 32 * 32;

/**
 * Sets the fewest output (and, see above, input) channels for which convs of at least 24x24
 * outputs take
 * F(4x4, 3x3) rather than F(2x2, 3x3), and F(4x4, 2x2) rather than F(2x2, 2x2) (Infinity:
 * never; 1: whenever the conv takes Winograd);
 * returns the previous value. F(4x4) multiplies 1.78x less but rounds about 10x more (transform
 * entries up to 8): with N(0, 1) inputs and kernels scaled by 1 / sqrt(9 C), 512 channels, its
 * largest error is about 3e-5 of outputs around 3, against 3e-6 for F(2x2) and 4e-6 for a float32
 * dot product; relative to the sum of |terms| of an output, about 1e-6.
 */
export function setWinograd4x4Min(channels: number): number {
  const prev = min4x4;
  min4x4 = channels;
  return prev;
}

/**
 * The output tile, 4 (F(4x4, 3x3) or F(4x4, 2x2)) or 2, of the Winograd path for `g`: 4 from
 * min4x4 output channels on, for outputs of MIN_PIXELS_4X4 (MIN_PIXELS_4X4_FEW under 32
 * channels) or where the GEMMs are split by output
 * channels (which transform the kernels in cache, conv2d-winograd-chunked.ts). F(4x4, 2x2)
 * multiplies 1.44x less than F(2x2, 2x2) (25 points per 16 outputs against 9 per 4): the
 * upsample + conv of the CLI's RDN-like net at [1, 32, 128, 128] took 5.77 ms against 6.29
 * forward and 5.63 against 6.63 for its input gradient (2 threads; 1 thread: 7.88 / 9.27 and
 * 7.94 / 10.16).
 */
export function winogradTile(g: Conv2dGeometry): 2 | 4 {
  if (g.outChannels < min4x4) return 2;
  const pixels = g.outHeight * g.outWidth;
  // Few input channels: from twice the output channels and four times the pixels only.
  if (g.inChannels < min4x4 && (g.outChannels < 2 * min4x4 || pixels < 4 * MIN_PIXELS_4X4)) {
    return 2;
  }
  const few = Math.min(g.inChannels, g.outChannels) < 2 * min4x4;
  const large = pixels >= (few ? MIN_PIXELS_4X4_FEW : MIN_PIXELS_4X4);
  return min4x4 <= 1 || large || winogradChunked(g) ? 4 : 2;
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
 * out [N, K, outH, outW] = conv(x, w) + bias (then max(0, .) when relu) for a geometry
 * winogradApplies() accepts; with `flipped`, w is [C, K, r, r], the kernel of the conv whose
 * input gradient this conv is, and the conv's kernel its flip-swap w[c, k, r-1-i, r-1-j] (read
 * so by the kernel transform: no flipped copy is made). Writes
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
  relu = false,
  flipped = false,
): boolean {
  const m = winogradTile(g);
  if (winogradChunked(g)) return conv2dWinogradChunked(x, w, g, bias, out, relu, flipped, m);
  return winogradPhases(x, [{ w, g }], bias, out, relu, flipped);
}

/**
 * Whether conv2dWinogradInterleaved computes the phases `gs` (r = 2: four convs of x that differ
 * only in their pads) in one pass: each must take the tile-block Winograd path with the same tile.
 */
export function winogradInterleaves(gs: readonly Conv2dGeometry[]): boolean {
  if (gs.length !== 4) return false;
  const [g0] = gs;
  return gs.every(
    (g) =>
      winogradPays(g) &&
      !winogradChunked(g) &&
      winogradTile(g) === winogradTile(g0) &&
      g.kernelH === g0.kernelH &&
      g.outHeight === g0.outHeight &&
      g.outWidth === g0.outWidth,
  );
}

/**
 * out [N, K, 2 outH, 2 outW]: the four convs of x with kernels ws[a * 2 + b] and geometries
 * gs[a * 2 + b] (winogradInterleaves) interleaved, out[n, k, 2 y + a, 2 x + b] = conv_ab[n, k,
 * y, x], plus bias (then max(0, .) when relu): nearest upsample x2 + conv computed per output
 * phase (ops/interleaved-conv.ts). The input is staged once for all four (each phase reads it at
 * its own offset) and the depth-to-space happens in wasm before the one copy out. False as
 * conv2dWinograd (a non-finite output; out half written).
 */
export function conv2dWinogradInterleaved(
  x: Float32Array,
  ws: readonly Float32Array[],
  gs: readonly Conv2dGeometry[],
  bias: Float32Array | null,
  out: Float32Array,
  relu: boolean,
): boolean {
  return winogradPhases(
    x,
    ws.map((w, i) => ({ w, g: gs[i] })),
    bias,
    out,
    relu,
    false,
  );
}

/**
 * dx [N, C, H, W] of conv2dWinogradInterleaved's x for its output gradient dy [N, K, 2H, 2W]
 * (gs: the forward phases, winogradInterleaves): the sum over phases p = a * 2 + b of conv p's
 * input gradient for dy[:, :, a::2, b::2]. All four share dx's tiles, so they are one conv
 * with 4K input channels: the phases of dy, each deinterleaved and padded for its own input-
 * gradient conv as it is staged (padphase), and their flip-swapped kernels side by side. No
 * strided slices, no sum of four gradients. False as conv2dWinograd (a non-finite output).
 */
export function conv2dWinogradInterleavedInputGrad(
  dy: Float32Array,
  ws: readonly Float32Array[],
  gs: readonly Conv2dGeometry[],
  out: Float32Array,
): boolean {
  const s = gemmSimd() as GemmSimd;
  const { batch: N, inChannels: C, outChannels: K, inHeight: H, inWidth: W } = gs[0];
  const { kernelH: kh, kernelW: kw } = gs[0];
  const taps = kh * kw;
  // wcat[c, p K + k] = w_p[k, c] rotated 180 degrees.
  const wcat = new Float32Array(C * 4 * K * taps);
  for (let p = 0; p < 4; p++)
    for (let k = 0; k < K; k++)
      for (let c = 0; c < C; c++) {
        const from = (k * C + c) * taps;
        const to = (c * 4 * K + p * K + k) * taps;
        for (let t = 0; t < taps; t++) wcat[to + t] = ws[p][from + taps - 1 - t];
      }
  // The stacked conv's geometry: only its sizes matter, padphase places each phase.
  const g = conv2dGeometry([N, 4 * K, H, W], [C, 4 * K, kh, kw], {
    stride: [1, 1],
    dilation: [1, 1],
    inputDilation: [1, 1],
    pad: [0, kh - 1, 0, kw - 1],
    groups: 1,
  });
  const stage = (xp: number, io: number, count: number, Hp: number, Wp: number) => {
    for (let n = 0; n < count; n++)
      for (let p = 0; p < 4; p++) {
        const [a, b] = [p >> 1, p & 1];
        const pad = gs[p].pad;
        // Phase (a, b) of image n: its first float is (a 2W + b) into the image's planes.
        const src = io + 4 * (n * K * 4 * H * W + a * 2 * W + b);
        const dst = xp + 4 * (n * 4 * K + p * K) * Hp * Wp;
        s.padphase(dst, src, K, H, W, Hp, Wp, kh - 1 - pad[0], kw - 1 - pad[2]);
      }
  };
  return winogradPhases(dy, [{ w: wcat, g }], null, out, false, false, stage);
}

/**
 * The tile-block Winograd driver: one conv (one phase) or the four phases of an interleaved
 * conv, which share x, K, the kernel size and the output size, and differ only in their pads.
 * `stage` (one phase only) replaces padplanes in staging x.
 *
 * The input goes through in pieces: chunks of whole images, or, for an image whose staged planes
 * exceed bandFloats, bands of its rows (winoPieces). Several pieces alternate between two staging
 * buffers: while the helper starts on piece c's blocks, this thread copies piece c - 1 out and
 * stages piece c + 1, then joins.
 */
function winogradPhases(
  x: Float32Array,
  phases: readonly { w: Float32Array; g: Conv2dGeometry }[],
  bias: Float32Array | null,
  out: Float32Array,
  relu: boolean,
  flipped: boolean,
  stage?: (xp: number, io: number, count: number, Hp: number, Wp: number) => void,
): boolean {
  const s = gemmSimd() as GemmSimd;
  const g = phases[0].g;
  const r = g.kernelH as 2 | 3;
  const m = winogradTile(g);
  const alpha = m + r - 1;
  const points = alpha * alpha;
  const { batch: N, inChannels: C, outChannels: K, inHeight: H, inWidth: W } = g;
  const { outHeight: Ho, outWidth: Wo } = g;
  const tiles = winoTiles(g, m);
  // One staged input for every phase: padded by the largest top and left pads, phase p read
  // from (top - its top pad) rows and (left - its left pad) columns further on.
  const top = Math.max(...phases.map((p) => p.g.pad[0]));
  const left = Math.max(...phases.map((p) => p.g.pad[2]));
  const Hp = tiles.Hp + Math.max(...phases.map((p) => top - p.g.pad[0]));
  const Wp = tiles.Wp + Math.max(...phases.map((p) => left - p.g.pad[2]));
  const staged = { ...tiles, Hp, Wp };
  const stagedGeometry = { ...g, pad: [top, 0, left, 0] as const };
  const mp = Math.ceil(K / MR);
  const groupRows = tiles.Ho2 / tiles.tH;
  const { pieces, most } = winoPieces(N, C, staged, groupRows, stage === undefined);
  const pieceTiles = bandTiles(staged, groupRows, most.rows);
  // Groups per block: V (points x C x 4 per group) and M (points x 4 mp x 4) within
  // BLOCK_FLOATS, and at most a sixteenth of a piece's groups, so that the two threads end
  // together (with 8 blocks of [10, 16, 28, 28], one thread took 5 and the other waited ~1/5 of
  // the conv); even, because gebp pairs panels. Any blocking gives the same result.
  const fit = Math.floor(BLOCK_FLOATS / (4 * points * (C + MR * mp)));
  const share = 2 * Math.ceil((most.images * pieceTiles.perImage) / 32);
  const perBlock = Math.max(2, Math.min(64, fit - (fit % 2), share));
  const align = (v: number) => Math.ceil(v / 16) * 16;
  // Layout after the GEMM workspace (floats): each phase's U, bias, then per staging buffer the
  // padded input, the staged input / padded outputs of the phases (the stage is consumed before
  // any output is written) and the interleaved output (phases only); then two threads' V and M.
  // Each point's block of U, V and M is WINO_XI_SKEW bytes further on than packed (4K aliasing).
  const skew = WINO_XI_SKEW / 4;
  const uFloats = align(points * (mp * MR * C + skew));
  const biasAt = phases.length * uFloats;
  const xpAt = biasAt + align(mp * MR);
  const xpFloats = align(most.images * C * pieceTiles.Hp * Wp);
  const phaseFloats = align(most.images * K * pieceTiles.Ho2 * pieceTiles.Wo2);
  const stagedRows = Math.min(H, pieceTiles.Hp);
  const ioFloats = align(Math.max(most.images * C * stagedRows * W, phases.length * phaseFloats));
  const interleaved = phases.length > 1;
  const outRows = Math.min(Ho, pieceTiles.Ho2);
  const ilFloats = interleaved ? align(most.images * K * phases.length * outRows * Wo) : 0;
  const pipelined = pieces.length > 1 && pipelineChunks;
  const bufferFloats = xpFloats + ioFloats + ilFloats;
  const vFloats = align(points * (C * MR * perBlock + skew));
  const mFloats = align(points * (mp * MR * MR * perBlock + skew));
  const scratchAt = xpAt + (pipelined ? 2 : 1) * bufferFloats;
  const flagAt = scratchAt + 2 * (vFloats + mFloats);
  const f = packScratch(s, flagAt + 16);
  const base = GEMM_WORKSPACE_FLOATS;
  f[base + flagAt] = 0;
  f.fill(0, base + biasAt, base + biasAt + mp * MR);
  if (bias !== null) f.set(bias.subarray(0, K), base + biasAt);
  const bytes = (floats: number) => 4 * (base + floats);
  const scratch = (t: number) => ({
    v: bytes(scratchAt + t * (vFloats + mFloats)),
    m: bytes(scratchAt + t * (vFloats + mFloats) + vFloats),
  });
  const fn =
    m === 4 ? (r === 3 ? "winoblock4" : "winoblock42") : r === 3 ? "winoblock" : "winoblock2";
  const layout = { base, xp: 0, io: 0, bias: biasAt, flag: flagAt, u: 0, v: null, m: null };
  const outPerImage = K * phases.length * Ho * Wo;
  const pad = stage && ((xp: number, io: number, n: number) => stage(xp, io, n, Hp, Wp));
  phases.forEach(({ w }, p) =>
    cachedKernelTransform(
      f,
      base + p * uFloats,
      uFloats,
      w,
      `F(${m}, ${r}) ${K}x${C}${flipped ? " flipped" : ""}`,
      () => writeKernelTransform(f, base + p * uFloats, w, r, m, K, C, mp, flipped),
    ),
  );
  // Piece c's staging buffer: its padded input, staged input / output planes, interleaved output.
  const buffer = (c: number) => {
    const xp = xpAt + (pipelined ? c % 2 : 0) * bufferFloats;
    return { xp, io: xp + xpFloats, il: xp + xpFloats + ioFloats };
  };
  const tilesOf = (c: number) => bandTiles(staged, groupRows, pieces[c].rows);
  const stageOptions = { mp, relu, ngAll: 0, stages: 7 };
  const stagePiece = (c: number) => {
    const { xp, io } = buffer(c);
    const at = { ...layout, xp, io };
    return stageImages(s, f, x, stagedGeometry, tilesOf(c), at, pieces[c], stageOptions, pad);
  };
  const copyOut = (c: number) => {
    const { n0, count, row0 } = pieces[c];
    const { io, il } = buffer(c);
    const t = tilesOf(c);
    const rows = Math.min(t.Ho2, Ho - row0);
    if (interleaved) {
      s.interleaveplanes(bytes(il), bytes(io), count * K, t.Ho2, t.Wo2, rows, Wo, 4 * phaseFloats);
      if (rows === Ho) {
        const n = count * outPerImage;
        out.set(f.subarray(base + il, base + il + n), n0 * outPerImage);
      } else {
        // A band: rows 2 row0 .. of each output plane (2 Ho x 2 Wo).
        for (let k = 0; k < K; k++) {
          const from = base + il + k * 4 * rows * Wo;
          out.set(
            f.subarray(from, from + 4 * rows * Wo),
            (n0 * K + k) * 4 * Ho * Wo + 4 * row0 * Wo,
          );
        }
      }
    } else if (rows === Ho) {
      copyOutPlanes(s, f, base + io, t.Ho2, t.Wo2, out, n0 * K * Ho * Wo, count * K, Ho, Wo);
    } else {
      if (t.Wo2 !== Wo || t.Ho2 !== rows)
        s.cropplanes(bytes(io), bytes(io), K, t.Ho2, t.Wo2, rows, Wo);
      for (let k = 0; k < K; k++) {
        const from = base + io + k * rows * Wo;
        out.set(f.subarray(from, from + rows * Wo), (n0 * K + k) * Ho * Wo + row0 * Wo);
      }
    }
  };
  let args = stagePiece(0);
  for (let c = 0; c < pieces.length; c++) {
    let next: typeof args | null = null;
    for (let p = 0; p < phases.length; p++) {
      const gp = phases[p].g;
      const shift = (top - gp.pad[0]) * Wp + (left - gp.pad[2]);
      const phaseArgs = [...args] as typeof args;
      phaseArgs[0] = args[0] + 4 * shift;
      phaseArgs[8] = args[8] + 4 * p * uFloats;
      phaseArgs[12] = args[12] + 4 * p * phaseFloats;
      const groups = pieces[c].count * tilesOf(c).perImage;
      const join = winoSplitOpen(s, fn, phaseArgs, groups, perBlock, scratch(0), scratch(1));
      // While the helper starts on piece c, this thread frees the other buffer (piece c - 1
      // out) and fills it (piece c + 1 in), then takes what is left of the blocks.
      if (pipelined && p === 0) {
        if (c > 0) copyOut(c - 1);
        if (c + 1 < pieces.length) next = stagePiece(c + 1);
      }
      join();
      if (f[base + flagAt] !== 0) return false;
    }
    if (!pipelined) {
      copyOut(c);
      if (c + 1 < pieces.length) next = stagePiece(c + 1);
    }
    if (next !== null) args = next;
  }
  if (pipelined) copyOut(pieces.length - 1);
  return true;
}

/**
 * The pieces winogradPhases stages in turn: chunks of as many whole images as chunkFloats
 * holds, or, where one image's staged planes (C x t.Hp x t.Wp) exceed bandFloats and `bands`,
 * bands of each image's group rows whose staged planes fit bandFloats. Each piece gives its
 * first image, image count, first output row (row0, also its first padded input row) and group
 * rows; `most` the largest piece's images and group rows (the buffers' sizes).
 */
function winoPieces(N: number, C: number, t: WinoTiles, groupRows: number, bands: boolean) {
  const imageFloats = C * t.Hp * t.Wp;
  const pieces: (WinoPiece & { rows: number })[] = [];
  if (!bands || imageFloats <= bandFloats) {
    const images = Math.max(1, Math.min(N, Math.floor(chunkFloats / imageFloats)));
    for (let n0 = 0; n0 < N; n0 += images)
      pieces.push({ n0, count: Math.min(images, N - n0), row0: 0, rows: t.tH });
    return { pieces, most: { images, rows: t.tH } };
  }
  // Group rows per band: its padded planes are groupRows rows a group row, plus the rows below.
  const extra = t.Hp - groupRows * t.tH;
  const perBand = Math.floor((bandFloats / (C * t.Wp) - extra) / groupRows);
  const rows = Math.max(1, Math.min(t.tH, perBand));
  for (let n0 = 0; n0 < N; n0++)
    for (let gr = 0; gr < t.tH; gr += rows)
      pieces.push({ n0, count: 1, row0: gr * groupRows, rows: Math.min(rows, t.tH - gr) });
  return { pieces, most: { images: 1, rows } };
}

/**
 * U_xi = (G g G^T)[i][j] for each output channel k and input channel c (g its r x r kernel),
 * packed as gebp's A operand of block xi = alpha i + j (blocks mp * MR * C floats + the skew
 * apart): mp panels of MR output channels, C steps of MR floats (rows K .. mp * MR - 1 zero).
 * With `flipped`, g is w[c, k] read backwards (see conv2dWinograd).
 */
function writeKernelTransform(
  f: Float32Array,
  at: number,
  w: Float32Array,
  r: 2 | 3,
  m: 2 | 4,
  K: number,
  C: number,
  mp: number,
  flipped: boolean,
): void {
  const points = (m + r - 1) * (m + r - 1);
  const taps = r * r;
  // Tap t of kernel (k, c) is w[o + d t]: forwards from (k C + c) taps, or backwards from the
  // last tap of (c K + k).
  const d = flipped ? -1 : 1;
  const xiFloats = mp * MR * C + WINO_XI_SKEW / 4;
  // Every float is written below except the last panel's rows K .. mp * MR - 1.
  if (K < mp * MR) {
    const last = at + (mp - 1) * C * MR;
    for (let xi = 0; xi < points; xi++)
      for (let c = 0; c < C; c++) {
        const row = last + xi * xiFloats + c * MR;
        f.fill(0, row + (K % MR), row + MR);
      }
  }
  // Panel by panel, a panel's MR kernels of one input channel together: they fill adjacent
  // floats of each block, so every cache line written is complete before the next.
  for (let k0 = 0; k0 < K; k0 += MR) {
    const panel = at + (k0 / MR) * C * MR;
    const rows = Math.min(MR, K - k0);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < rows; i++) {
        const k = k0 + i;
        const o = flipped ? (c * K + k) * taps + taps - 1 : (k * C + c) * taps;
        // G g then (G g) G^T, unrolled: a generic loop over G took 80 ms for 512 x 512 kernels.
        const to = panel + c * MR + i;
        if (m === 4 && r === 3) transform4x4(w, o, d, f, to, xiFloats);
        else if (m === 4) transform4x2(w, o, d, f, to, xiFloats);
        else if (r === 3) transform3(w, o, d, f, to, xiFloats);
        else transform2(w, o, d, f, to, xiFloats);
      }
    }
  }
}

/**
 * (G g G^T) of the 3x3 kernel g (tap t at w[o + d t]) into f[at + xi * s] for F(4x4, 3x3); G = [1/4 0 0;
 * -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1] (wasm/winograd-f4x4.ts).
 */
function transform4x4(
  w: Float32Array,
  o: number,
  d: number,
  f: Float32Array,
  at: number,
  s: number,
): void {
  // G g, column by column (columns b = 0, 1, 2 of g): rows 0..5 of each. Products with the
  // reciprocals in float64, not divisions (60 a kernel took 20 ms for 512 x 512 kernels).
  const g0 = w[o];
  const g1 = w[o + d];
  const g2 = w[o + 2 * d];
  const g3 = w[o + 3 * d];
  const g4 = w[o + 4 * d];
  const g5 = w[o + 5 * d];
  const g6 = w[o + 6 * d];
  const g7 = w[o + 7 * d];
  const g8 = w[o + 8 * d];
  const e0 = g0 + g6;
  const e1 = g1 + g7;
  const e2 = g2 + g8;
  const q0 = g0 * R24 + g6 * R6;
  const q1 = g1 * R24 + g7 * R6;
  const q2 = g2 * R24 + g8 * R6;
  row4x4(g0 * 0.25, g1 * 0.25, g2 * 0.25, f, at, s);
  row4x4((e0 + g3) * -R6, (e1 + g4) * -R6, (e2 + g5) * -R6, f, at + 6 * s, s);
  row4x4((e0 - g3) * -R6, (e1 - g4) * -R6, (e2 - g5) * -R6, f, at + 12 * s, s);
  row4x4(q0 + g3 * R12, q1 + g4 * R12, q2 + g5 * R12, f, at + 18 * s, s);
  row4x4(q0 - g3 * R12, q1 - g4 * R12, q2 - g5 * R12, f, at + 24 * s, s);
  row4x4(g6, g7, g8, f, at + 30 * s, s);
}

/**
 * (G g G^T) of the 2x2 kernel g (tap t at w[o + d t]) into f[at + xi * s] for F(4x4, 2x2); G =
 * [1/2 0; -1/2 -1/2; -1/6 1/6; 1/6 1/3; 0 1] (wasm/winograd-f4x4.ts).
 */
function transform4x2(
  w: Float32Array,
  o: number,
  d: number,
  f: Float32Array,
  at: number,
  s: number,
): void {
  const g0 = w[o];
  const g1 = w[o + d];
  const g2 = w[o + 2 * d];
  const g3 = w[o + 3 * d];
  // Rows of G g (columns b = 0, 1 of g), each times G^T.
  row4x2(g0 * 0.5, g1 * 0.5, f, at, s);
  row4x2((g0 + g2) * -0.5, (g1 + g3) * -0.5, f, at + 5 * s, s);
  row4x2((g2 - g0) * R6, (g3 - g1) * R6, f, at + 10 * s, s);
  row4x2((g0 + 2 * g2) * R6, (g1 + 2 * g3) * R6, f, at + 15 * s, s);
  row4x2(g2, g3, f, at + 20 * s, s);
}

/** One row (a, b) of G g times G^T (F(4x4, 2x2)), into f[at + j s], j = 0..4. */
function row4x2(a: number, b: number, f: Float32Array, at: number, s: number): void {
  f[at] = a * 0.5;
  f[at + s] = (a + b) * -0.5;
  f[at + 2 * s] = (b - a) * R6;
  f[at + 3 * s] = (a + 2 * b) * R6;
  f[at + 4 * s] = b;
}

const R6 = 1 / 6;
const R12 = 1 / 12;
const R24 = 1 / 24;

/** One row (a, b, d) of G g times G^T (F(4x4, 3x3)), into f[at + j s], j = 0..5. */
function row4x4(a: number, b: number, d: number, f: Float32Array, at: number, s: number): void {
  const e = a + d;
  const q = a * R24 + d * R6;
  f[at] = a * 0.25;
  f[at + s] = (e + b) * -R6;
  f[at + 2 * s] = (e - b) * -R6;
  f[at + 3 * s] = q + b * R12;
  f[at + 4 * s] = q - b * R12;
  f[at + 5 * s] = d;
}

/**
 * (G g G^T) of the 3x3 kernel g (tap t at w[o + d t]) into f[at + xi * s]; G = [1 0 0; 1/2 1/2 1/2;
 * 1/2 -1/2 1/2; 0 0 1] (points 0, 1, -1, infinity).
 */
function transform3(
  w: Float32Array,
  o: number,
  d: number,
  f: Float32Array,
  at: number,
  s: number,
): void {
  // Locals, not a scratch array: V8 keeps them in float64 registers (the rounding is the same).
  const w0 = w[o];
  const w1 = w[o + d];
  const w2 = w[o + 2 * d];
  const w6 = w[o + 6 * d];
  const w7 = w[o + 7 * d];
  const w8 = w[o + 8 * d];
  const p0 = (w0 + w[o + 3 * d] + w6) / 2;
  const p1 = (w1 + w[o + 4 * d] + w7) / 2;
  const p2 = (w2 + w[o + 5 * d] + w8) / 2;
  const m0 = (w0 - w[o + 3 * d] + w6) / 2;
  const m1 = (w1 - w[o + 4 * d] + w7) / 2;
  const m2 = (w2 - w[o + 5 * d] + w8) / 2;
  row3(w0, w1, w2, f, at, s);
  row3(p0, p1, p2, f, at + 4 * s, s);
  row3(m0, m1, m2, f, at + 8 * s, s);
  row3(w6, w7, w8, f, at + 12 * s, s);
}

/** One row (a, b, d) of G g times G^T, into f[at], f[at + s], f[at + 2 s], f[at + 3 s]. */
function row3(a: number, b: number, d: number, f: Float32Array, at: number, s: number): void {
  f[at] = a;
  f[at + s] = (a + b + d) / 2;
  f[at + 2 * s] = (a - b + d) / 2;
  f[at + 3 * s] = d;
}

/**
 * (G g G^T) of the 2x2 kernel g (tap t at w[o + d t]) into f[at + xi * s]; G = [1 0; 1 1; 0 1] (points 0,
 * 1, infinity).
 */
function transform2(
  w: Float32Array,
  o: number,
  d: number,
  f: Float32Array,
  at: number,
  s: number,
): void {
  const w0 = w[o];
  const w1 = w[o + d];
  const w2 = w[o + 2 * d];
  const w3 = w[o + 3 * d];
  row2(w0, w1, f, at, s);
  row2(w0 + w2, w1 + w3, f, at + 3 * s, s);
  row2(w2, w3, f, at + 6 * s, s);
}

/** One row (a, b) of G g times G^T, into f[at], f[at + s], f[at + 2 s]. */
function row2(a: number, b: number, f: Float32Array, at: number, s: number): void {
  f[at] = a;
  f[at + s] = a + b;
  f[at + 2 * s] = b;
}
