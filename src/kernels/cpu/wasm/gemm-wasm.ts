/**
 * Driver for the wasm SIMD macro-kernel: the Goto/BLIS blocking of gemm.ts, with the packed
 * panels and the C block in wasm memory. Packing is JS (it reads the caller's Float32Arrays);
 * the kernel computes an MC x NC block of C into wasm memory, and C is copied in (when adding)
 * and out with Float32Array.set, i.e. memcpy, which is cheap next to the kc multiply-adds per
 * element.
 */
import type { CImages, GemmPackBArgs } from "../gemm.ts";
import { blockSizes } from "../gemm-blocking.ts";
import { packA } from "../gemm-pack-a.ts";
import { type GemmSimd, instantiateGemmSimd, WASM_MR } from "./gemm-simd.ts";
import { cpuThreads, gebpSplit, startHelper, threadsSupported } from "./gemm-threads.ts";

const MR = WASM_MR;
const KC = 256;
/** A block rows (multiple of MR; 72 keeps the common 64 and 68 output channels in one block). */
const MC = 18 * MR;
const NC = 2048;
/**
 * Largest packed op(A) (floats, k x rows padded to MR) kept whole in wasm memory, so a caller
 * multiplying the same A by several B (a convolution's weights by each batch item's columns)
 * packs it once: 72 rows x 2400 taps covers 3x3 over 256 channels and 5x5 over 96.
 */
const A_KEEP = MC * 2400;
/** Largest C (floats, rows padded to MR) computed whole in wasm memory (16 MiB). */
let wholeCFloats = 1 << 22;

/**
 * Sets the largest C computed whole in wasm memory (0: every C goes block by block); returns the
 * previous value. For tests and benchmarks that compare the two.
 */
export function setWholeCFloats(floats: number): number {
  const prev = wholeCFloats;
  wholeCFloats = floats;
  return prev;
}

let simd: GemmSimd | null | undefined;
/** The A operand whose panels lie packed whole at the start of wasm memory (see A_KEEP). */
let keptA: {
  a: Float32Array;
  aOff: number;
  lda: number;
  transA: boolean;
  m: number;
  k: number;
} | null = null;
let view = new Float32Array(0);

/**
 * The instantiated kernel, or null without wasm SIMD (instantiated once, on first use). Where a
 * second thread can help (gemm-threads.ts), the memory is shared and the helper worker starts
 * in the background here.
 */
export function gemmSimd(): GemmSimd | null {
  if (simd === undefined) {
    try {
      const shared = cpuThreads() === 2 && threadsSupported();
      simd = instantiateGemmSimd(WASM_MR, shared);
      if (simd?.shared) startHelper(simd);
    } catch {
      simd = null;
    }
  }
  return simd;
}

/**
 * The most floats one gemmPackBWasm call lays out (A, B and C blocks at their largest, each
 * 16-float aligned). The conv packer's scratch (tap table, padded input) starts here, so packing
 * data written before a GEMM call survives it.
 */
export const GEMM_WORKSPACE_FLOATS =
  Math.ceil(Math.max(KC * MC, A_KEEP) / 16) * 16 + Math.ceil((KC * NC) / 16) * 16 + MC * NC;

/**
 * A view of wasm memory with at least `floats` floats free from GEMM_WORKSPACE_FLOATS on (the
 * memory grows when needed, which replaces the view: take it again after this call).
 */
export function packScratch(s: GemmSimd, floats: number): Float32Array {
  return memoryView(s, GEMM_WORKSPACE_FLOATS + floats);
}

/** A Float32Array over the first `floats` floats of wasm memory, growing it when needed. */
function memoryView(s: GemmSimd, floats: number): Float32Array {
  const bytes = floats * 4;
  const have = s.memory.buffer.byteLength;
  if (have < bytes) s.memory.grow(Math.ceil((bytes - have) / 65536));
  // Growing detaches the old buffer, so the view is rebuilt whenever the buffer changed.
  if (view.buffer !== s.memory.buffer) view = new Float32Array(s.memory.buffer);
  return view;
}

/**
 * gemmPackB on the wasm kernel; same contract as gemm.ts's. `s` must be gemmSimd(). With
 * `sameA`, op(A) holds the same values as in the previous call (same array, offset, lda, transA,
 * m and k), and its panels are reused when that call left them packed whole (see A_KEEP).
 */
export function gemmPackBWasm(s: GemmSimd, ...args: GemmPackBArgs): void {
  const [
    m,
    n,
    k,
    a,
    aOff,
    lda,
    transA,
    packer,
    c,
    cOff,
    ldc,
    accumulate,
    sameA,
    cImages,
    bias,
    sink,
  ] = args;
  const { kcMax, mcMax, ncMax } = blockSizes(m, n, k, { kc: KC, mc: MC, nc: NC, mr: MR, nr: 4 });
  // With a single block of rows (m <= MC, e.g. up to 72 output channels) the C block stays in
  // wasm memory across the k blocks: copied in once (when accumulating) and out once.
  const resident = m <= MC;
  // A small enough single block of rows is packed whole (block pc at pc * mcMax), once for
  // every call that passes sameA.
  const keepA = resident && k * mcMax <= A_KEEP;
  // Layout (floats): A, B block, C block, each starting on a 64-byte cache line.
  const align = (v: number) => Math.ceil(v / 16) * 16;
  const bBase = align(keepA ? k * mcMax : kcMax * mcMax);
  const cBase = align(bBase + kcMax * ncMax);
  // Or the whole of C, rows nPad floats apart, past the workspace and the packer's data: every
  // block is computed in place and C goes out in one copy (per row where C's rows are split or
  // strided), not one per row and block (4480 builtin copies in a ResNet stem at batch 10, 9-13
  // ms of its 50). A private memory only where it need not grow, which would detach the views
  // the packer holds.
  // (gebp writes whole panels of MR rows: the rows are padded to them.)
  const nPad = Math.ceil(n / 4) * 4;
  const wholeFloats = Math.ceil(m / MR) * MR * nPad;
  const wholeAt = align(Math.max(GEMM_WORKSPACE_FLOATS, packer.wasmEnd?.() ?? 0));
  const whole =
    sink === undefined &&
    wholeFloats <= wholeCFloats &&
    (s.shared || 4 * (wholeAt + wholeFloats) <= s.memory.buffer.byteLength);
  const f = memoryView(s, whole ? wholeAt + wholeFloats : cBase + mcMax * ncMax);
  if (whole) {
    if (accumulate) {
      for (let i = 0; i < m; i++)
        copyRow(f, wholeAt + i * nPad, c, cOff + i * ldc, 0, n, cImages, true);
    } else if (bias !== undefined) {
      for (let i = 0; i < m; i++) f.fill(bias[i], wholeAt + i * nPad, wholeAt + (i + 1) * nPad);
    }
  }
  const kept = keptA;
  const reuseA =
    sameA &&
    keepA &&
    kept !== null &&
    kept.a === a &&
    kept.aOff === aOff &&
    kept.lda === lda &&
    kept.transA === transA &&
    kept.m === m &&
    kept.k === k;
  if (keepA && !reuseA) {
    for (let pc = 0; pc < k; pc += kcMax) {
      packA(f, pc * mcMax, MR, a, aOff, lda, transA, 0, m, pc, Math.min(kcMax, k - pc));
    }
  }
  keptA = keepA ? { a, aOff, lda, transA, m, k } : null;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    const ncPad = Math.ceil(nc / 4) * 4;
    for (let pc = 0; pc < k; pc += kcMax) {
      const kc = Math.min(kcMax, k - pc);
      // The first k block starts from the bias, written into the C block here rather than
      // filled into C and copied in (two passes over the output saved). A sink takes every k
      // block's product as it is.
      const blocks = sink === undefined && !whole;
      const fromBias = blocks && bias !== undefined && !accumulate && pc === 0;
      const add = whole
        ? accumulate || bias !== undefined || pc > 0
        : blocks && (accumulate || pc > 0 || fromBias);
      const copyIn = blocks && (accumulate || pc > 0) && !(resident && pc > 0);
      const copyOut = blocks && (!resident || pc + kc >= k);
      // With the wasm packer, the threads computing the panels pack them (first row block).
      const wasmPack = packer.wasmPanels?.(f, bBase, pc, kc, jc, nc) ?? null;
      if (wasmPack === null) packer.pack(f, bBase, pc, kc, jc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        const aBase = keepA ? pc * mcMax : 0;
        if (!keepA) packA(f, aBase, MR, a, aOff, lda, transA, ic, mc, pc, kc);
        if (fromBias) {
          for (let i = 0; i < mc; i++) {
            f.fill(bias[ic + i], cBase + i * ncPad, cBase + (i + 1) * ncPad);
          }
        } else if (copyIn) {
          for (let i = 0; i < mc; i++) {
            copyRow(f, cBase + i * ncPad, c, cOff + (ic + i) * ldc, jc, nc, cImages, true);
          }
        }
        gebpSplit(
          s,
          ic === 0 ? wasmPack : null,
          kc,
          ncPad / 4,
          Math.ceil(mc / MR),
          aBase * 4,
          bBase * 4,
          whole ? 4 * (wholeAt + ic * nPad + jc) : cBase * 4,
          whole ? nPad * 4 : ncPad * 4,
          +add,
        );
        if (copyOut) {
          for (let i = 0; i < mc; i++) {
            copyRow(f, cBase + i * ncPad, c, cOff + (ic + i) * ldc, jc, nc, cImages, false);
          }
        }
        sink?.({ at: cBase, ld: ncPad, ic, mc, jc, nc });
      }
    }
  }
  if (!whole) return;
  if (cImages === undefined && ldc === n && nPad === n) {
    c.set(f.subarray(wholeAt, wholeAt + m * n), cOff);
  } else {
    for (let i = 0; i < m; i++)
      copyRow(f, wholeAt + i * nPad, c, cOff + i * ldc, 0, n, cImages, false);
  }
}

/**
 * Runs shorter than this are copied in a loop rather than through a subarray view: the view
 * costs more than the copy for a 7x7 image's 49 columns (a 512 -> 256 stride-2 input gradient
 * 38.8 -> 29.9 ms), while a 14x14 image's 196 copy faster through the view (27 vs 33 ms).
 */
const SHORT_RUN = 64;

/**
 * Copies columns jc .. jc + nc of the C row starting at c[row] into wasm memory at f[w..] (`into`)
 * or back, a run per image when C's columns are split into images.
 */
function copyRow(
  f: Float32Array,
  w: number,
  c: Float32Array,
  row: number,
  jc: number,
  nc: number,
  images: CImages | undefined,
  into: boolean,
): void {
  const cols = images?.cols ?? jc + nc;
  const stride = images?.stride ?? 0;
  for (let j = jc; j < jc + nc; ) {
    const img = Math.floor(j / cols);
    const col = j - img * cols;
    const len = Math.min(cols - col, jc + nc - j);
    const at = row + img * stride + col;
    const wj = w + j - jc;
    if (len < SHORT_RUN) {
      if (into) for (let i = 0; i < len; i++) f[wj + i] = c[at + i];
      else for (let i = 0; i < len; i++) c[at + i] = f[wj + i];
    } else if (into) f.set(c.subarray(at, at + len), wj);
    else c.set(f.subarray(wj, wj + len), at);
    j += len;
  }
}
