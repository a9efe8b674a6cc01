/**
 * A WebAssembly SIMD GEMM macro-kernel, assembled byte by byte at load time (no toolchain).
 *
 * `gebp(kc, np, mp, a, b, c, ldc, add)` multiplies a packed A block (mp micro panels of MR rows,
 * MR floats per k step) by a packed B block (np micro panels of 4 columns, 4 floats per k step,
 * panel q at b + q*kc*16 bytes) into C (row-major floats, row stride ldc bytes, 16-byte aligned
 * panel columns), adding to C when add != 0. Two adjacent 4-column B panels are read together,
 * so the register tile is MR x 8 (2*MR f32x4 accumulators) without changing the 4-wide panel
 * layout the convolution packers write. Each step is one relaxed_madd where relaxed SIMD is
 * available (relaxed-simd.ts: fused, one rounding, on CPUs with FMA), else mul then add, rounded
 * to float32 after each (unlike the TS kernel, which sums in float64).
 */

import { CROP_PLANES_PARAMS, emitCropPlanes } from "./crop-planes.ts";
import { DIRECT_CONV_PARAMS, emitDirectConv } from "./direct-conv-kernel.ts";
import { emitInterleavePlanes } from "./interleave-planes.ts";
import { emitPackCols, PACK_COLS_PARAMS } from "./pack-cols.ts";
import { emitPadPlanes, PAD_PLANES_PARAMS } from "./pad-planes.ts";
import { emitMulAdd, relaxedSimd } from "./relaxed-simd.ts";
import { emitScatterAdd, SCATTER_ADD_PARAMS } from "./scatter-add.ts";
import { codeWriter, exportSection, section, uleb } from "./wasm-encode.ts";
import { emitWinoBlock, WINO_BLOCK_PARAMS } from "./winograd-block.ts";
import { emitWinoChunk, WINO_CHUNK_PARAMS } from "./winograd-chunks.ts";

/**
 * Rows per A micro panel. 4x8 (8 accumulators + 2 B + 1 splat) leaves V8's register allocator
 * room: 6x8 (15 of the 15 XMM registers V8 hands out) spills and reloads accumulators in the
 * inner loop. In cache, by process CPU time on the 2-core AMD EPYC (Zen 4) dev machine
 * (bench/gemm-tile.ts): 4x8 44.7 GFLOP/s, 3x8 40.8, 5x8 35.3, 6x8 28.1, 8x8 28.3.
 */
export const WASM_MR = 4;

// Opcodes used below (core and 0xfd-prefixed SIMD).
const I32 = 0x7f;
const V128 = 0x7b;
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  tee: 0x22,
  i32eqz: 0x45,
  i32ltU: 0x49,
  i32geU: 0x4f,
  i32add: 0x6a,
  i32mul: 0x6c,
  i32shl: 0x74,
} as const;
const SIMD = {
  load: 0x00,
  splat32: 0x09,
  store: 0x0b,
  const: 0x0c,
};

/**
 * Builds the function body of gebp for a tile of MR rows; with `fma`, each step is one
 * relaxed_madd instead of mul then add.
 */
function emitGebp(mr: number, fma: boolean): number[] {
  // Params: 0 kc, 1 np, 2 mp, 3 a, 4 b, 5 c, 6 ldc, 7 add.
  const P = { kc: 0, np: 1, mp: 2, a: 3, b: 4, c: 5, ldc: 6, add: 7 };
  // i32 locals.
  let next = 8;
  const L = {
    j: next++,
    i: next++,
    ap: next++,
    bp: next++,
    bEnd: next++,
    bPanel: next++,
    kc16: next++,
    cRow: next++,
    addr: next++,
  };
  const nI32 = next - 8;
  const vBase = next;
  const accs = (h: number, r: number) => vBase + r * 2 + h;
  const vb0 = vBase + mr * 2;
  const vb1 = vb0 + 1;
  const va = vb0 + 2;
  const nV128 = mr * 2 + 3;

  const { code, e, get, set, c32, simd } = codeWriter();

  /** Tile over `halves` (1 or 2) panels starting at panel j; then j += halves. */
  const tile = (halves: number) => {
    // bPanel = b + j * kc16
    get(P.b);
    get(L.j);
    get(L.kc16);
    e(OP.i32mul, OP.i32add);
    set(L.bPanel);
    // cRow = c + j*16 ; ap = a ; i = 0
    get(P.c);
    get(L.j);
    c32(4);
    e(OP.i32shl, OP.i32add);
    set(L.cRow);
    get(P.a);
    set(L.ap);
    c32(0);
    set(L.i);
    e(OP.block, 0x40, OP.loop, 0x40);
    // while (i < mp)
    get(L.i);
    get(P.mp);
    e(OP.i32geU, OP.brIf, 1);
    // accumulators: load C or zero
    get(P.add);
    e(OP.if, 0x40);
    get(L.cRow);
    set(L.addr);
    for (let r = 0; r < mr; r++) {
      for (let h = 0; h < halves; h++) {
        get(L.addr);
        simd(SIMD.load, 2, h * 16);
        set(accs(h, r));
      }
      if (r + 1 < mr) {
        get(L.addr);
        get(P.ldc);
        e(OP.i32add);
        set(L.addr);
      }
    }
    e(OP.else);
    for (let r = 0; r < mr; r++) {
      for (let h = 0; h < halves; h++) {
        simd(SIMD.const);
        for (let z = 0; z < 16; z++) e(0);
        set(accs(h, r));
      }
    }
    e(OP.end);
    // bp = bPanel; bEnd = bPanel + kc16
    get(L.bPanel);
    e(OP.tee);
    uleb(L.bp, code);
    get(L.kc16);
    e(OP.i32add);
    set(L.bEnd);
    e(OP.loop, 0x40);
    get(L.bp);
    simd(SIMD.load, 2, 0);
    set(vb0);
    if (halves === 2) {
      get(L.bp);
      get(L.kc16);
      e(OP.i32add);
      simd(SIMD.load, 2, 0);
      set(vb1);
    }
    for (let r = 0; r < mr; r++) {
      get(L.ap);
      simd(SIMD.splat32, 2, r * 4);
      set(va);
      for (let h = 0; h < halves; h++) {
        emitMulAdd(
          simd,
          fma,
          () => get(accs(h, r)),
          () => get(va),
          () => get(h === 0 ? vb0 : vb1),
        );
        set(accs(h, r));
      }
    }
    get(L.ap);
    c32(mr * 4);
    e(OP.i32add);
    set(L.ap);
    get(L.bp);
    c32(16);
    e(OP.i32add);
    e(OP.tee);
    uleb(L.bp, code);
    get(L.bEnd);
    e(OP.i32ltU, OP.brIf, 0);
    e(OP.end);
    // store accumulators
    get(L.cRow);
    set(L.addr);
    for (let r = 0; r < mr; r++) {
      for (let h = 0; h < halves; h++) {
        get(L.addr);
        get(accs(h, r));
        simd(SIMD.store, 2, h * 16);
      }
      get(L.addr);
      get(P.ldc);
      e(OP.i32add);
      set(L.addr);
    }
    // cRow = addr (next MR rows); i++
    get(L.addr);
    set(L.cRow);
    get(L.i);
    c32(1);
    e(OP.i32add);
    set(L.i);
    e(OP.br, 0);
    e(OP.end, OP.end);
    get(L.j);
    c32(halves);
    e(OP.i32add);
    set(L.j);
  };

  // kc16 = kc * 16 ; j = 0
  get(P.kc);
  c32(4);
  e(OP.i32shl);
  set(L.kc16);
  c32(0);
  set(L.j);
  // while (j + 2 <= np) tile(2)
  e(OP.block, 0x40, OP.loop, 0x40);
  get(L.j);
  c32(2);
  e(OP.i32add);
  get(P.np);
  e(0x4b /* i32.gt_u */, OP.brIf, 1);
  tile(2);
  e(OP.br, 0, OP.end, OP.end);
  // if (j < np) tile(1)
  get(L.j);
  get(P.np);
  e(OP.i32ltU, OP.if, 0x40);
  tile(1);
  e(OP.end, OP.end);

  const body: number[] = [];
  uleb(2, body); // two local declarations
  uleb(nI32, body);
  body.push(I32);
  uleb(nV128, body);
  body.push(V128);
  body.push(...code);
  return body;
}

/** Maximum pages of the shared memory variant (a shared memory must declare one): 4 GiB. */
const SHARED_MAX_PAGES = 65536;

/**
 * The complete module: one exported memory "mem" and fourteen functions, "gebp" (above),
 * "packcols" (the convolution's im2col packer, pack-cols.ts), "padplanes" (its padded input,
 * pad-planes.ts), "winoblock", "winoblock2", "winoblock4" and "winoblock42" (Winograd F(2x2,
 * 3x3), F(2x2, 2x2), F(4x4, 3x3) and F(4x4, 2x2) on a block of tiles, winograd-block.ts, which
 * call gebp), "winochunk" and
 * "winochunk4" (their GEMMs split by output channels, winograd-chunks.ts), "cropplanes" (their
 * outputs' unpadding, crop-planes.ts), "interleaveplanes" (the interleaved conv's depth-to-space,
 * interleave-planes.ts), "padphase" (its gradient's phases, pad-planes.ts), "scatteradd" (col2im's
 * accumulation, scatter-add.ts) and "dconv" (the direct conv for few output channels,
 * direct-conv-kernel.ts), which share that memory. With
 * `shared`, the memory is imported instead (env.mem, shared, at most SHARED_MAX_PAGES pages) and
 * re-exported, so a second instance in a worker thread runs the same code on the same memory.
 */
function gemmSimdModuleBytes(mr: number, shared: boolean, fma: boolean): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(8, types);
  for (const params of [
    8,
    PACK_COLS_PARAMS,
    PAD_PLANES_PARAMS,
    WINO_BLOCK_PARAMS,
    DIRECT_CONV_PARAMS,
    WINO_CHUNK_PARAMS,
    CROP_PLANES_PARAMS,
    SCATTER_ADD_PARAMS,
  ]) {
    types.push(0x60);
    uleb(params, types);
    for (let i = 0; i < params; i++) types.push(I32);
    uleb(0, types);
  }
  section(1, types, out);
  if (shared) {
    // One import: "env" "mem", a memory (kind 2) with limits flags 3 (max present, shared).
    const imp: number[] = [1, 3, 0x65, 0x6e, 0x76, 3, 0x6d, 0x65, 0x6d, 0x02, 0x03, 1];
    uleb(SHARED_MAX_PAGES, imp);
    section(2, imp, out);
  }
  // gebp, packcols, padplanes, winoblock(2), dconv, winoblock4, winochunk(4), cropplanes,
  // interleaveplanes (gebp's type: eight i32s), padphase (padplanes' type), scatteradd,
  // winoblock42
  section(3, [14, 0, 1, 2, 3, 3, 4, 3, 5, 5, 6, 0, 2, 7, 3], out);
  if (!shared) section(5, [1, 0x00, 1], out); // one memory, min 1 page, no max
  exportSection(
    [
      ["mem", 2, 0],
      ["gebp", 0, 0],
      ["packcols", 0, 1],
      ["padplanes", 0, 2],
      ["winoblock", 0, 3],
      ["winoblock2", 0, 4],
      ["dconv", 0, 5],
      ["winoblock4", 0, 6],
      ["winochunk", 0, 7],
      ["winochunk4", 0, 8],
      ["cropplanes", 0, 9],
      ["interleaveplanes", 0, 10],
      ["padphase", 0, 11],
      ["scatteradd", 0, 12],
      ["winoblock42", 0, 13],
    ],
    out,
  );
  const codeSec: number[] = [];
  const bodies = [
    emitGebp(mr, fma),
    emitPackCols(),
    emitPadPlanes(),
    emitWinoBlock(0, 3),
    emitWinoBlock(0, 2),
    emitDirectConv(fma),
    emitWinoBlock(0, 3, 4),
    emitWinoChunk(0, 2),
    emitWinoChunk(0, 4),
    emitCropPlanes(),
    emitInterleavePlanes(),
    emitPadPlanes(true),
    emitScatterAdd(),
    emitWinoBlock(0, 2, 4),
  ];
  uleb(bodies.length, codeSec);
  for (const body of bodies) {
    uleb(body.length, codeSec);
    codeSec.push(...body);
  }
  section(10, codeSec, out);
  return new Uint8Array(out);
}

/** gebp's arguments (see the top of this file); addresses and ldc in bytes, add 0 or 1. */
export type GebpArgs = [
  kc: number,
  np: number,
  mp: number,
  a: number,
  b: number,
  c: number,
  ldc: number,
  add: number,
];

export type Gebp = (...args: GebpArgs) => void;

/**
 * See pack-cols.ts: (dst, xp, taps, kc, q0, np, outW, rowStep, sw, imgPix, imgStride),
 * addresses in bytes.
 */
export type PackCols = (
  dst: number,
  xp: number,
  taps: number,
  kc: number,
  q0: number,
  np: number,
  outW: number,
  rowStep: number,
  sw: number,
  imgPix: number,
  imgStride: number,
) => void;

/** See pad-planes.ts: (dst, src, channels, H, W, Hp, Wp, offY, offX), addresses in bytes. */
export type PadPlanes = (
  dst: number,
  src: number,
  channels: number,
  H: number,
  W: number,
  Hp: number,
  Wp: number,
  offY: number,
  offX: number,
) => void;

/** See winograd-block.ts; addresses and strides in bytes. */
export type WinoBlock = (...args: WinoBlockArgs) => void;
export type WinoBlockArgs = [
  xp: number,
  C: number,
  planeBytes: number,
  rowBytes: number,
  tH: number,
  tWg: number,
  g0: number,
  ng: number,
  u: number,
  mp: number,
  v: number,
  m: number,
  out: number,
  K: number,
  outPlaneBytes: number,
  outRowBytes: number,
  bias: number,
  flag: number,
  relu: number,
  ngAll: number,
  stages: number,
];

/** See crop-planes.ts: (dst, src, planes, pH, pW, rows, cols), addresses in bytes. */
export type CropPlanes = (
  dst: number,
  src: number,
  planes: number,
  pH: number,
  pW: number,
  rows: number,
  cols: number,
) => void;

/** See scatter-add.ts: (src, srcRow, rows, count, dst, dstRow, dstStep), in bytes. */
export type ScatterAdd = (
  src: number,
  srcRow: number,
  rows: number,
  count: number,
  dst: number,
  dstRow: number,
  dstStep: number,
) => void;

/** See interleave-planes.ts: cropplanes' arguments and then phaseBytes, in bytes. */
export type InterleavePlanes = (...args: [...Parameters<CropPlanes>, phaseBytes: number]) => void;

/** See winograd-chunks.ts; addresses in bytes. */
export type WinoChunkArgs = [
  w: number,
  u: number,
  C: number,
  K: number,
  p0: number,
  np: number,
  flipped: number,
  v: number,
  m: number,
  ngAll: number,
];
export type WinoChunk = (...args: WinoChunkArgs) => void;

/** See direct-conv-kernel.ts: (C, kh, kw, Wp, planeP, rows, cols8, x, w, out, outPlane). */
export type DirectConvArgs = [
  C: number,
  kh: number,
  kw: number,
  Wp: number,
  plane: number,
  rows: number,
  cols: number,
  x: number,
  w: number,
  out: number,
  outPlane: number,
];
export type DirectConvKernel = (...args: DirectConvArgs) => void;

export interface GemmSimd {
  memory: WebAssembly.Memory;
  /** The compiled module (for a worker's instance when the memory is shared). */
  module: WebAssembly.Module;
  /** True when `memory` is a shared memory (SharedArrayBuffer-backed). */
  shared: boolean;
  /** True when gebp multiplies and adds with relaxed_madd (relaxed-simd.ts). */
  fma: boolean;
  gebp: Gebp;
  packcols: PackCols;
  padplanes: PadPlanes;
  winoblock: WinoBlock;
  winoblock2: WinoBlock;
  winoblock4: WinoBlock;
  winoblock42: WinoBlock;
  winochunk: WinoChunk;
  winochunk4: WinoChunk;
  cropplanes: CropPlanes;
  interleaveplanes: InterleavePlanes;
  /** padplanes of one phase (every second row and column) of 2H x 2W planes, pad-planes.ts. */
  padphase: PadPlanes;
  scatteradd: ScatterAdd;
  dconv: DirectConvKernel;
}

/** The kernels an instance of the module exports. */
function kernelsOf(inst: WebAssembly.Instance) {
  const x = inst.exports;
  return {
    gebp: x.gebp as unknown as Gebp,
    packcols: x.packcols as unknown as PackCols,
    padplanes: x.padplanes as unknown as PadPlanes,
    winoblock: x.winoblock as unknown as WinoBlock,
    winoblock2: x.winoblock2 as unknown as WinoBlock,
    winoblock4: x.winoblock4 as unknown as WinoBlock,
    winoblock42: x.winoblock42 as unknown as WinoBlock,
    winochunk: x.winochunk as unknown as WinoChunk,
    winochunk4: x.winochunk4 as unknown as WinoChunk,
    cropplanes: x.cropplanes as unknown as CropPlanes,
    interleaveplanes: x.interleaveplanes as unknown as InterleavePlanes,
    padphase: x.padphase as unknown as PadPlanes,
    scatteradd: x.scatteradd as unknown as ScatterAdd,
    dconv: x.dconv as unknown as DirectConvKernel,
  };
}

/**
 * Instantiates the kernel, or returns null where the runtime lacks wasm SIMD; with relaxed_madd
 * where the runtime has relaxed SIMD, unless `fmaWanted` is false. With `shared`,
 * tries the shared-memory variant first and falls back to a private memory where shared wasm
 * memories are unavailable (browsers without cross-origin isolation).
 */
export function instantiateGemmSimd(
  mr = WASM_MR,
  shared = false,
  fmaWanted = true,
): GemmSimd | null {
  if (typeof WebAssembly !== "object") return null;
  // relaxedSimd() also turns the feature on where it is behind a flag (Node 20).
  const fma = fmaWanted && relaxedSimd();
  if (shared) {
    try {
      const bytes = gemmSimdModuleBytes(mr, true, fma);
      if (WebAssembly.validate(bytes)) {
        const memory = new WebAssembly.Memory({
          initial: 1,
          maximum: SHARED_MAX_PAGES,
          shared: true,
        } as WebAssembly.MemoryDescriptor);
        if (typeof SharedArrayBuffer === "function" && memory.buffer instanceof SharedArrayBuffer) {
          const module = new WebAssembly.Module(bytes);
          const inst = new WebAssembly.Instance(module, { env: { mem: memory } });
          return { memory, module, shared: true, fma, ...kernelsOf(inst) };
        }
      }
    } catch {
      // Fall through to the private memory.
    }
  }
  const bytes = gemmSimdModuleBytes(mr, false, fma);
  if (!WebAssembly.validate(bytes)) return null;
  const module = new WebAssembly.Module(bytes);
  const inst = new WebAssembly.Instance(module, {});
  return {
    memory: inst.exports.mem as WebAssembly.Memory,
    module,
    shared: false,
    fma,
    ...kernelsOf(inst),
  };
}
