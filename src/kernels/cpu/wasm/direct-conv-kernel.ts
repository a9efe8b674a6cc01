/**
 * The direct (unpacked) wasm SIMD convolution kernel for layers with few output channels, an
 * export of the GEMM module (gemm-simd.ts) so that the GEMM's helper thread can run it too
 * (direct-conv.ts drives it): per tap, two f32x4 loads of 8 consecutive pixels and one splat per
 * output channel, 4 output channels x 8 pixels of accumulators (stride 1, no dilation).
 *
 * `dconv(C, kh, kw, Wp, planeP, rows, cols8, x, w, out, outPlane)`: out[o][y][x0..x0+8] for
 * y < rows, x0 < cols8 (multiple of 8), o < 4; x is [C][Hp][Wp] (padded input), w is
 * [C][kh][kw][4] (4 output channels, zero where absent), out row stride cols8, plane stride
 * outPlane floats. All pointers in bytes, strides in floats. Output row y reads input rows
 * y .. y + kh - 1 only, so a block of rows is the same call with x and out moved on.
 */
import { emitMulAdd } from "./relaxed-simd.ts";
import { codeWriter, uleb } from "./wasm-encode.ts";

const I32 = 0x7f;
const V128 = 0x7b;

export const DIRECT_CONV_PARAMS = 11;

/** The function body of dconv (relaxed_madd when `fma`). */
export function emitDirectConv(fma: boolean): number[] {
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
