/**
 * Single-threaded float32 GEMM (Goto/BLIS structure). Where the runtime has WebAssembly SIMD,
 * gemmPackB hands the blocks to a wasm macro-kernel generated at load time (wasm/gemm-wasm.ts,
 * ~3x faster); the plain TypeScript kernel below is the fallback (setGemmImpl("ts") forces it).
 * In Node the wasm kernel splits large blocks with a worker thread (wasm/gemm-threads.ts,
 * bitwise the same results; SALIENT_CPU_THREADS=1 or setCpuThreads(1) keeps one thread); the
 * TypeScript kernel always runs on one thread.
 *
 * Both operands are packed into one reusable scratch array so that the micro-kernel reads
 * contiguous memory whatever the transposes and leading dimensions are: A into MR-row micro
 * panels (p-major, MR values per k step), B into NR-column micro panels (NR values per k step).
 *
 * Measured choices (bench/README.md has the numbers):
 * - The scratch is a plain JS array of doubles (PACKED_DOUBLE_ELEMENTS), not a typed array: V8
 *   emits about 4 instructions per element load for it against about 6 for a Float32Array or
 *   Float64Array (no external-pointer arithmetic, no float32 -> float64 conversion), and the loads
 *   dominate the micro-kernel's instruction count.
 * - 4x4 register tile: the most consistent of 2x4 .. 8x8 in V8. V8 allocates 15 XMM registers
 *   on x64 and hoists all loads of a k step above the arithmetic, so larger tiles only spill.
 * - `(i + c) | 0` index arithmetic keeps V8 from emitting overflow checks on every index.
 */

import { envSetting } from "./env-setting.ts";
import { blockSizes } from "./gemm-blocking.ts";
import { type PanelBuffer, packA } from "./gemm-pack-a.ts";
import { gemmPackBWasm, gemmSimd } from "./wasm/gemm-wasm.ts";

export {
  cpuThreads,
  gemmThreadsActive,
  setCpuThreads,
  setGemmSplitMinWork,
} from "./wasm/gemm-threads.ts";

const MR = 4;
/** Panel width every BPacker writes (columns of op(B) per panel). */
export const NR = 4;
/** Depth of one packed block; 256 x 4 doubles per micro panel stays in L1. */
const KC = 256;
/** Rows of A packed at once (MC x KC doubles = 128 KiB, L2-resident). */
const MC = 64;
/** Columns of B packed at once (KC x NC doubles = 4 MiB, L3-resident). */
const NC = 2048;

/** Grown on demand; bounded by (MC + NC) * KC doubles (4.3 MB) whatever the problem size. */
let scratch: number[] = [];
/** Edge tiles are computed in full here, then the valid part is copied out. */
const tile = new Float32Array(MR * NR);

/** Filled by push of a double so V8 keeps it PACKED_DOUBLE_ELEMENTS (no holes, unboxed). */
function newDoubleArray(n: number): number[] {
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push(0.5);
  return a;
}

/**
 * C[4x4] (+)= Apanel * Bpanel over kc steps. `s` holds both packed panels; the A panel starts
 * at `ai` (4 values per step), the B panel at `bi` (4 values per step).
 */
function kernel4x4(
  kc: number,
  s: number[],
  ai: number,
  bi: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  add: boolean,
): void {
  let c00 = 0;
  let c01 = 0;
  let c02 = 0;
  let c03 = 0;
  let c10 = 0;
  let c11 = 0;
  let c12 = 0;
  let c13 = 0;
  let c20 = 0;
  let c21 = 0;
  let c22 = 0;
  let c23 = 0;
  let c30 = 0;
  let c31 = 0;
  let c32 = 0;
  let c33 = 0;
  for (let p = 0; p < kc; p++) {
    const b0 = s[bi];
    const b1 = s[(bi + 1) | 0];
    const b2 = s[(bi + 2) | 0];
    const b3 = s[(bi + 3) | 0];
    const a0 = s[ai];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    const a1 = s[(ai + 1) | 0];
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    const a2 = s[(ai + 2) | 0];
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    const a3 = s[(ai + 3) | 0];
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
    ai = (ai + 4) | 0;
    bi = (bi + 4) | 0;
  }
  // Stored inline: a helper per row is not inlined into this large function (7% slower).
  const r1 = ci + ldc;
  const r2 = r1 + ldc;
  const r3 = r2 + ldc;
  c[ci] = add ? c[ci] + c00 : c00;
  c[ci + 1] = add ? c[ci + 1] + c01 : c01;
  c[ci + 2] = add ? c[ci + 2] + c02 : c02;
  c[ci + 3] = add ? c[ci + 3] + c03 : c03;
  c[r1] = add ? c[r1] + c10 : c10;
  c[r1 + 1] = add ? c[r1 + 1] + c11 : c11;
  c[r1 + 2] = add ? c[r1 + 2] + c12 : c12;
  c[r1 + 3] = add ? c[r1 + 3] + c13 : c13;
  c[r2] = add ? c[r2] + c20 : c20;
  c[r2 + 1] = add ? c[r2 + 1] + c21 : c21;
  c[r2 + 2] = add ? c[r2 + 2] + c22 : c22;
  c[r2 + 3] = add ? c[r2 + 3] + c23 : c23;
  c[r3] = add ? c[r3] + c30 : c30;
  c[r3 + 1] = add ? c[r3 + 1] + c31 : c31;
  c[r3 + 2] = add ? c[r3 + 2] + c32 : c32;
  c[r3 + 3] = add ? c[r3 + 3] + c33 : c33;
}

/** Packs op(B)[pc:pc+kc, jc:jc+nc] into NR-column panels at s[o..] (layout: see BPacker). */
function packB(
  s: PanelBuffer,
  o: number,
  b: Float32Array,
  bOff: number,
  ldb: number,
  transB: boolean,
  pc: number,
  kc: number,
  jc: number,
  nc: number,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    if (!transB) {
      // op(B)[p, j] = b[p * ldb + j]: each step copies NR contiguous floats.
      let src = bOff + pc * ldb + jc + jr;
      if (nr === NR) {
        for (let p = 0; p < kc; p++) {
          s[o] = b[src];
          s[o + 1] = b[src + 1];
          s[o + 2] = b[src + 2];
          s[o + 3] = b[src + 3];
          o += NR;
          src += ldb;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let j = 0; j < NR; j++) s[o + j] = j < nr ? b[src + j] : 0;
          o += NR;
          src += ldb;
        }
      }
    } else {
      // op(B)[p, j] = b[j * ldb + p]: walk NR rows of b in step, each contiguous in p.
      const src = bOff + (jc + jr) * ldb + pc;
      for (let j = 0; j < NR; j++) {
        let d = o + j;
        if (j < nr) {
          const row = src + j * ldb;
          for (let p = 0; p < kc; p++) {
            s[d] = b[row + p];
            d += NR;
          }
        } else {
          for (let p = 0; p < kc; p++) {
            s[d] = 0;
            d += NR;
          }
        }
      }
      o += kc * NR;
    }
  }
}

/**
 * Which micro-kernel runs: "wasm" (SIMD, when the runtime supports it), "ts" (the portable
 * fallback), or "auto" (wasm when available). SALIENT_CPU_GEMM=ts in the environment forces
 * the fallback at start-up.
 */
export type GemmImpl = "auto" | "wasm" | "ts";
let impl: GemmImpl = envImpl();

function envImpl(): GemmImpl {
  return envSetting("SALIENT_CPU_GEMM") === "ts" ? "ts" : "auto";
}

/** Selects the micro-kernel; "wasm" throws where the runtime has no wasm SIMD. */
export function setGemmImpl(which: GemmImpl): void {
  if (which === "wasm" && gemmSimd() === null) throw new Error("wasm SIMD is not available");
  impl = which;
}

/** The kernel gemm calls now resolve to. */
export function activeGemmImpl(): "wasm" | "ts" {
  return impl !== "ts" && gemmSimd() !== null ? "wasm" : "ts";
}

/**
 * Writes op(B)[pc:pc+kc, jc:jc+nc] into s[o..] as NR-column panels: panel q (columns
 * jc + q*NR ..) occupies s[o + q*kc*NR ..], step p's NR values at + p*NR, columns past nc
 * zero. Lets callers such as the convolution pack straight from their own layout (implicit
 * im2col) instead of materialising B.
 */
export interface BPacker {
  pack(...range: PackRange): void;
  /**
   * Optional, for the wasm GEMM: packs only what the wasm packer cannot (a last partial panel)
   * and returns the wasm packer's arguments for the full panels, so the threads that compute
   * the panels can pack them first (gemm-threads.ts); null when the wasm packer does not apply.
   */
  wasmPanels?(...range: PackRange): WasmPanels | null;
  /**
   * Optional, for the wasm GEMM: the float index in its memory past what the packer keeps there
   * (its staged input), so the GEMM's own data beyond its workspace goes after it.
   */
  wasmEnd?(): number;
}

/** What a BPacker packs: op(B)[pc:pc+kc, jc:jc+nc] into s from offset o. */
export type PackRange = [s: PanelBuffer, o: number, pc: number, kc: number, jc: number, nc: number];

/** packcols arguments for the full 4-pixel panels of one packed B block (byte addresses). */
export interface WasmPanels {
  xp: number;
  taps: number;
  /** First output pixel of the block (panel p starts at q0 + 4p). */
  q0: number;
  /** Full panels, packed by packcols; panels from here on are already packed. */
  full: number;
  outW: number;
  rowStep: number;
  sw: number;
  /** Output pixels per image, and floats per padded image (B spans several images). */
  imgPix: number;
  imgStride: number;
}

/** Packs a row-major B (or B^T) from a Float32Array. */
export class DenseBPacker implements BPacker {
  constructor(
    readonly b: Float32Array,
    readonly bOff: number,
    readonly ldb: number,
    readonly transB: boolean,
  ) {}
  pack(s: PanelBuffer, o: number, pc: number, kc: number, jc: number, nc: number): void {
    packB(s, o, this.b, this.bOff, this.ldb, this.transB, pc, kc, jc, nc);
  }
}

/**
 * C[m x n] = (accumulate ? C : 0) + op(A)[m x k] * op(B)[k x n], all row-major.
 * op(A) = A ([m x k], lda >= k) or A^T (A stored [k x m], lda >= m) when transA; likewise B
 * ([k x n], ldb >= n, or stored [n x k], ldb >= k). Products are summed in float64 within each
 * k block and rounded to float32 when stored into C (float32 throughout in the wasm kernel).
 * `sameA`: see gemmPackB.
 */
export function gemm(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  transA: boolean,
  b: Float32Array,
  bOff: number,
  ldb: number,
  transB: boolean,
  c: Float32Array,
  cOff: number,
  ldc: number,
  accumulate: boolean,
  sameA = false,
): void {
  gemmPackB(
    m,
    n,
    k,
    a,
    aOff,
    lda,
    transA,
    new DenseBPacker(b, bOff, ldb, transB),
    c,
    cOff,
    ldc,
    accumulate,
    sameA,
  );
}

/** gemmPackB's arguments, which the wasm driver takes as they are. */
export type GemmPackBArgs = [
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  transA: boolean,
  packer: BPacker,
  c: Float32Array,
  cOff: number,
  ldc: number,
  accumulate: boolean,
  sameA?: boolean,
  cImages?: CImages,
  /** C = rowBias[i] + (A B)[i] on row i (with accumulate false): a conv's bias, added for free. */
  rowBias?: Float32Array,
  /** C's blocks go to this instead of c (wasm kernel only; c, cOff, ldc and the rest unused). */
  sink?: CSink,
];

/**
 * Takes C's blocks in wasm memory in place of C: rows ic .. ic + mc - 1, columns jc .. jc + nc - 1
 * of the product over one block of k, at float `at` of the GEMM module's memory with rows `ld`
 * floats apart. Each k block's partial product arrives separately (the sink adds them up).
 */
export type CSink = (block: {
  at: number;
  ld: number;
  ic: number;
  mc: number;
  jc: number;
  nc: number;
}) => void;

/**
 * C's columns split into images (wasm kernel only): column j is column j % cols of image
 * floor(j / cols), whose rows start `stride` floats after the previous image's; ldc is the row
 * stride within an image. A convolution over several batch items at once writes NCHW this way.
 */
export interface CImages {
  cols: number;
  stride: number;
}

/**
 * gemm with op(B) supplied by a packer rather than stored as a matrix. `sameA` promises that
 * op(A) holds the same values as in the previous gemmPackB call (same array, offset, lda,
 * transA, m and k), so the wasm kernel may reuse its packed panels.
 */
export function gemmPackB(...args: GemmPackBArgs): void {
  const [m, n, k, a, aOff, lda, transA, packer, c, cOff, ldc, accumulate] = args;
  if (m <= 0 || n <= 0) return;
  const simd = impl === "ts" ? null : gemmSimd();
  if (args[13] !== undefined && (simd === null || k <= 0)) {
    throw new Error("gemmPackB: C split into images (cImages) needs the wasm kernel and k > 0");
  }
  if (args[15] !== undefined && (simd === null || k <= 0)) {
    throw new Error("gemmPackB: a C sink needs the wasm kernel and k > 0");
  }
  if (k <= 0) {
    if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + n);
    return;
  }
  if (simd !== null) {
    gemmPackBWasm(simd, ...args);
    return;
  }
  const rowBias = args[14];
  if (rowBias !== undefined && !accumulate) {
    for (let i = 0; i < m; i++) c.fill(rowBias[i], cOff + i * ldc, cOff + i * ldc + n);
    gemmPackB(m, n, k, a, aOff, lda, transA, packer, c, cOff, ldc, true, args[12]);
    return;
  }
  const { kcMax, mcMax, ncMax } = blockSizes(m, n, k, { kc: KC, mc: MC, nc: NC, mr: MR, nr: NR });
  const bBase = kcMax * mcMax;
  if (scratch.length < bBase + kcMax * ncMax) scratch = newDoubleArray(bBase + kcMax * ncMax);
  const s = scratch;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kcMax) {
      const kc = Math.min(kcMax, k - pc);
      const add = accumulate || pc > 0;
      packer.pack(s, bBase, pc, kc, jc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(s, 0, MR, a, aOff, lda, transA, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          const bi = bBase + jr * kc;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            const ci = cOff + (ic + ir) * ldc + jc + jr;
            if (mr === MR && nr === NR) {
              kernel4x4(kc, s, ir * kc, bi, c, ci, ldc, add);
            } else {
              kernel4x4(kc, s, ir * kc, bi, tile, 0, NR, false);
              for (let i = 0; i < mr; i++) {
                const row = ci + i * ldc;
                for (let j = 0; j < nr; j++) {
                  c[row + j] = add ? c[row + j] + tile[i * NR + j] : tile[i * NR + j];
                }
              }
            }
          }
        }
      }
    }
  }
}
