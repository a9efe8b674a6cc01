/**
 * Direct (unpacked) wasm SIMD convolution for layers with few output channels (RGB output layers
 * such as RDN's 48 -> 3, RDB growth convs 64 -> 4). As GEMM these pack every im2col element for
 * only 2*O flops, so packing dominates (1.1-1.3 GFLOP/s at O = 3); here the kernel reads the
 * zero-padded input directly: per tap, two f32x4 loads of 8 consecutive pixels and one splat per
 * output channel, 4 output channels x 8 pixels of accumulators (stride 1, no dilation).
 *
 * `dconv(C, kh, kw, Wp, planeP, rows, cols8, x, w, out, outPlane)`: out[o][y][x0..x0+8] for
 * y < rows, x0 < cols8 (multiple of 8), o < 4; x is [C][Hp][Wp] (padded input), w is
 * [C][kh][kw][4] (4 output channels, zero where absent), out row stride cols8, plane stride
 * outPlane floats. All pointers in bytes, strides in floats.
 */
import { activeGemmImpl } from "../gemm.ts";
import { emitMulAdd, relaxedSimd } from "./relaxed-simd.ts";
import { codeWriter, instantiateGenerated, section, uleb } from "./wasm-encode.ts";

const I32 = 0x7f;
const V128 = 0x7b;

function body(fma: boolean): number[] {
  const P = {
    C: 0,
    kh: 1,
    kw: 2,
    Wp: 3,
    plane: 4,
    rows: 5,
    cols: 6,
    x: 7,
    w: 8,
    out: 9,
    oPlane: 10,
  };
  let n = 11;
  const L = {
    y: n++,
    x0: n++,
    c: n++,
    ky: n++,
    kx: n++,
    rowP: n++,
    tapP: n++,
    wp: n++,
    chanP: n++,
    o: n++,
  };
  const nI32 = n - 11;
  const acc = (o: number, h: number) => n + o * 2 + h;
  const v0 = n + 8;
  const v1 = n + 9;
  const ws = n + 10;
  const nV = 11;
  const { code, e, get, set, c32, simd } = codeWriter();
  const inc = (l: number, by: number | (() => void)) => {
    get(l);
    if (typeof by === "number") c32(by);
    else by();
    e(0x6a);
    set(l);
  };
  /** loop { body; l += step; br_if (l < limit) } with l = 0 first. Assumes limit > 0. */
  const forLoop = (l: number, limit: () => void, step: number, inner: () => void) => {
    c32(0);
    set(l);
    e(0x03, 0x40);
    inner();
    inc(l, step);
    get(l);
    limit();
    e(0x49, 0x0d, 0); // i32.lt_u, br_if 0
    e(0x0b);
  };
  const bytes = (l: number) => () => {
    get(l);
    c32(2);
    e(0x74); // shl
  };

  forLoop(
    L.y,
    () => get(P.rows),
    1,
    () => {
      forLoop(
        L.x0,
        () => get(P.cols),
        8,
        () => {
          for (let o = 0; o < 4; o++)
            for (let h = 0; h < 2; h++) {
              simd(0x0c);
              for (let z = 0; z < 16; z++) e(0);
              set(acc(o, h));
            }
          // chanP = x + (y * Wp + x0) * 4 ; wp = w
          get(P.x);
          get(L.y);
          get(P.Wp);
          e(0x6c);
          get(L.x0);
          e(0x6a);
          c32(2);
          e(0x74, 0x6a);
          set(L.chanP);
          get(P.w);
          set(L.wp);
          forLoop(
            L.c,
            () => get(P.C),
            1,
            () => {
              get(L.chanP);
              set(L.rowP);
              forLoop(
                L.ky,
                () => get(P.kh),
                1,
                () => {
                  get(L.rowP);
                  set(L.tapP);
                  forLoop(
                    L.kx,
                    () => get(P.kw),
                    1,
                    () => {
                      get(L.tapP);
                      simd(0x00, 2, 0);
                      set(v0);
                      get(L.tapP);
                      simd(0x00, 2, 16);
                      set(v1);
                      for (let o = 0; o < 4; o++) {
                        get(L.wp);
                        simd(0x09, 2, o * 4);
                        set(ws);
                        for (let h = 0; h < 2; h++) {
                          emitMulAdd(
                            simd,
                            fma,
                            () => get(acc(o, h)),
                            () => get(ws),
                            () => get(h === 0 ? v0 : v1),
                          );
                          set(acc(o, h));
                        }
                      }
                      inc(L.tapP, 4);
                      inc(L.wp, 16);
                    },
                  );
                  inc(L.rowP, bytes(P.Wp));
                },
              );
              inc(L.chanP, bytes(P.plane));
            },
          );
          // store: out + ((y * cols + x0) * 4) + o * oPlane * 4
          get(P.out);
          get(L.y);
          get(P.cols);
          e(0x6c);
          get(L.x0);
          e(0x6a);
          c32(2);
          e(0x74, 0x6a);
          set(L.o);
          for (let o = 0; o < 4; o++) {
            for (let h = 0; h < 2; h++) {
              get(L.o);
              get(acc(o, h));
              simd(0x0b, 2, h * 16);
            }
            if (o < 3) inc(L.o, bytes(P.oPlane));
          }
        },
      );
    },
  );
  const b: number[] = [];
  uleb(2, b);
  uleb(nI32, b);
  b.push(I32);
  uleb(nV, b);
  b.push(V128);
  b.push(...code, 0x0b);
  return b;
}

function directConvModuleBytes(fma: boolean): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [1, 0x60, 11];
  for (let i = 0; i < 11; i++) types.push(I32);
  types.push(0);
  section(1, types, out);
  section(3, [1, 0], out);
  section(5, [1, 0x00, 1], out);
  const exp: number[] = [2];
  for (const [name, kind] of [
    ["mem", 2],
    ["dconv", 0],
  ] as const) {
    uleb(name.length, exp);
    for (const ch of name) exp.push(ch.charCodeAt(0));
    exp.push(kind, 0);
  }
  section(7, exp, out);
  const f = body(fma);
  const codeSec: number[] = [1];
  uleb(f.length, codeSec);
  codeSec.push(...f);
  section(10, codeSec, out);
  return new Uint8Array(out);
}

type Dconv = (...args: number[]) => void;
let inst: { memory: WebAssembly.Memory; dconv: Dconv } | null | undefined;

function instance(): { memory: WebAssembly.Memory; dconv: Dconv } | null {
  if (inst === undefined) {
    const i = instantiateGenerated(directConvModuleBytes(relaxedSimd()));
    inst = i && { memory: i.exports.mem as WebAssembly.Memory, dconv: i.exports.dconv as Dconv };
  }
  return inst;
}

export function directConvAvailable(): boolean {
  return instance() !== null;
}

/**
 * Whether the conv paths may take the direct kernel: it is there and the wasm GEMM is in use
 * (SALIENT_CPU_GEMM=ts forces every conv onto the TypeScript kernels).
 */
export function directConvUsable(): boolean {
  return activeGemmImpl() === "wasm" && directConvAvailable();
}

/**
 * out[o, oy, ox] (+ nothing else) for one batch item and group: og output channels from cg input
 * channels, stride 1, no dilation, pads >= 0. x at xOff is [cg][H][W]; w at wOff is
 * [og][cg][kh][kw]; writes out at outOff as [og][outH][outW].
 */
export function directConv(
  x: Float32Array,
  xOff: number,
  cg: number,
  H: number,
  W: number,
  w: Float32Array,
  wOff: number,
  og: number,
  kh: number,
  kw: number,
  padTop: number,
  padLeft: number,
  outH: number,
  outW: number,
  out: Float32Array,
  outOff: number,
): void {
  const s = instance();
  if (s === null) throw new Error("directConv: wasm SIMD unavailable");
  const cols = Math.ceil(outW / 8) * 8;
  const Wp = cols + kw - 1;
  const Hp = outH + kh - 1;
  const plane = Hp * Wp;
  const xFloats = cg * plane;
  const wBase = Math.ceil(xFloats / 16) * 16;
  const oBase = wBase + Math.ceil((cg * kh * kw * 4) / 16) * 16;
  const oPlane = outH * cols;
  const total = oBase + 4 * oPlane;
  const have = s.memory.buffer.byteLength;
  if (have < total * 4) s.memory.grow(Math.ceil((total * 4 - have) / 65536));
  const f = new Float32Array(s.memory.buffer);
  // Zero-padded input; rows and columns outside [0, H) x [0, W) stay zero.
  f.fill(0, 0, xFloats);
  const rowsIn = Math.min(H, Hp - padTop);
  const colsIn = Math.min(W, Wp - padLeft);
  for (let c = 0; c < cg; c++) {
    for (let iy = 0; iy < rowsIn; iy++) {
      const src = xOff + (c * H + iy) * W;
      f.set(x.subarray(src, src + colsIn), c * plane + (iy + padTop) * Wp + padLeft);
    }
  }
  for (let o0 = 0; o0 < og; o0 += 4) {
    const on = Math.min(4, og - o0);
    // Weights [c][ky][kx][4 outputs].
    let d = wBase;
    for (let c = 0; c < cg; c++)
      for (let t = 0; t < kh * kw; t++, d += 4)
        for (let j = 0; j < 4; j++)
          f[d + j] = j < on ? w[wOff + ((o0 + j) * cg + c) * kh * kw + t] : 0;
    s.dconv(cg, kh, kw, Wp, plane, outH, cols, 0, wBase * 4, oBase * 4, oPlane);
    for (let j = 0; j < on; j++)
      for (let oy = 0; oy < outH; oy++) {
        const src = oBase + j * oPlane + oy * cols;
        out.set(f.subarray(src, src + outW), outOff + ((o0 + j) * outH + oy) * outW);
      }
  }
}
