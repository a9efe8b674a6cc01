/**
 * The CPU Winograd conv with its GEMMs split by output channels (wasm/winograd-chunks.ts), for
 * 3x3 convs with many channels: per chunk of images, winoblock step 1 fills V for every tile
 * group (shared between the threads by groups), then each thread takes chunks of output
 * channels, transforms their kernels into a buffer that stays in its cache and runs all points'
 * GEMMs on them, and winoblock step 3 turns M into outputs (shared by groups again). The whole
 * transformed kernel U is never written: with 512 x 512 kernels it is 16 MB in F(2x2, 3x3) and
 * 38 MB in F(4x4, 3x3), which the tile-block path writes and then reads back for every block.
 */
import type { Conv2dGeometry } from "../conv-geometry.ts";
import type { GemmSimd, WinoChunkArgs } from "./wasm/gemm-simd.ts";
import { chunkSplit, winoSplit } from "./wasm/gemm-threads.ts";
import { GEMM_WORKSPACE_FLOATS, gemmSimd, packScratch } from "./wasm/gemm-wasm.ts";
import { WINO_XI_SKEW } from "./wasm/winograd-block.ts";
import { copyOutPlanes, stageImages, winoTiles } from "./winograd-tiles.ts";

/** Output channels per A panel of the wasm GEMM (WASM_MR). */
const MR = 4;
/** Bytes of one thread's U chunk (all points of a few output panels): within its L2. */
const U_CHUNK_BYTES = 320 * 1024;
/** Floats of V and M together per chunk of images. */
const VM_FLOATS = 1 << 22;
/** Input floats staged per chunk of images. */
const CHUNK_FLOATS = 1 << 22;

/** Fewest input x output channels for which 3x3 convs take this path (setWinogradChunkedMin). */
let minKC = 256 * 256;

/**
 * Sets the fewest input x output channels for which 3x3 Winograd convs split their GEMMs by
 * output channels (Infinity: never); returns the previous value. For benchmarks and tests.
 */
export function setWinogradChunkedMin(kc: number): number {
  const prev = minKC;
  minKC = kc;
  return prev;
}

/** Whether the Winograd conv `g` (3x3) splits its GEMMs by output channels. */
export function winogradChunked(g: Conv2dGeometry): boolean {
  return g.kernelH === 3 && g.inChannels * g.outChannels >= minKC;
}

/** conv2dWinograd for the geometries winogradChunked accepts, with output tile m. */
export function conv2dWinogradChunked(
  x: Float32Array,
  w: Float32Array,
  g: Conv2dGeometry,
  bias: Float32Array | null,
  out: Float32Array,
  relu: boolean,
  flipped: boolean,
  m: 2 | 4,
): boolean {
  const s = gemmSimd() as GemmSimd;
  const points = (m + 2) * (m + 2);
  const { batch: N, inChannels: C, outChannels: K, inHeight: H, inWidth: W } = g;
  const { outHeight: Ho, outWidth: Wo } = g;
  const tiles = winoTiles(g, m);
  const { perImage, Hp, Wp, Ho2, Wo2 } = tiles;
  const mp = Math.ceil(K / MR);
  const perChunk = Math.max(1, Math.floor(U_CHUNK_BYTES / (points * C * MR * 4)));
  const skew = WINO_XI_SKEW / 4;
  const vPerImage = points * C * MR * perImage;
  const mPerImage = points * mp * MR * MR * perImage;
  const images = Math.max(
    1,
    Math.min(
      N,
      Math.floor(VM_FLOATS / (vPerImage + mPerImage)),
      Math.floor(CHUNK_FLOATS / (C * Hp * Wp)),
    ),
  );
  const groups = images * perImage;
  const align = (v: number) => Math.ceil(v / 16) * 16;
  // Layout after the GEMM workspace (floats): kernels (and 3 C 9 floats the last panel's
  // masked lanes may read), bias, padded input, staged input / padded output, V, M, two
  // threads' U chunks.
  const wAt = 0;
  const biasAt = align(w.length + 3 * C * 9);
  const xpAt = biasAt + align(mp * MR);
  const ioAt = xpAt + align(images * C * Hp * Wp);
  const vAt = ioAt + align(Math.max(images * C * H * W, images * K * Ho2 * Wo2));
  const mAt = vAt + align(points * (C * MR * groups + skew));
  const uAt = mAt + align(points * (mp * MR * MR * groups + skew));
  const uFloats = align(points * (perChunk * MR * C + skew));
  const flagAt = uAt + 2 * uFloats;
  const f = packScratch(s, flagAt + 16);
  const base = GEMM_WORKSPACE_FLOATS;
  const bytes = (floats: number) => 4 * (base + floats);
  f[base + flagAt] = 0;
  f.set(w, base + wAt);
  f.fill(0, base + biasAt, base + biasAt + mp * MR);
  if (bias !== null) f.set(bias.subarray(0, K), base + biasAt);
  const shared = { v: bytes(vAt), m: bytes(mAt) };
  const block = m === 4 ? "winoblock4" : "winoblock";
  const layout = { base, xp: xpAt, io: ioAt, bias: biasAt, flag: flagAt, u: null, v: vAt, m: mAt };
  for (let n0 = 0; n0 < N; n0 += images) {
    const count = Math.min(images, N - n0);
    const ngAll = count * perImage;
    const args = stageImages(
      s,
      f,
      x,
      g,
      tiles,
      layout,
      { n0, count, row0: 0 },
      {
        mp,
        relu,
        ngAll,
        stages: 1,
      },
    );
    const perBlock = Math.max(1, Math.ceil(ngAll / 8));
    winoSplit(s, block, args, ngAll, perBlock, shared, shared);
    const chunkArgs: WinoChunkArgs = [
      bytes(wAt),
      0,
      C,
      K,
      0,
      0,
      flipped ? 1 : 0,
      shared.v,
      shared.m,
      ngAll,
    ];
    const fn = m === 4 ? "winochunk4" : "winochunk";
    chunkSplit(s, fn, chunkArgs, mp, perChunk, bytes(uAt), bytes(uAt + uFloats));
    args[20] = 4;
    winoSplit(s, block, args, ngAll, perBlock, shared, shared);
    if (f[base + flagAt] !== 0) return false;
    copyOutPlanes(s, f, base + ioAt, Ho2, Wo2, out, n0 * K * Ho * Wo, count * K, Ho, Wo);
  }
  return true;
}
