/**
 * The depth-to-space of the interleaved Winograd conv, in wasm (an export of the GEMM module, on
 * its memory): `interleaveplanes(dst, src, planes, pH, pW, rows, cols, phaseBytes)` takes four
 * phases, each `planes` padded pH x pW planes (phase a * 2 + b at src + (a * 2 + b) phaseBytes),
 * and writes contiguous 2 rows x 2 cols planes at dst with out[2 y + a][2 x + b] = phase (a, b)
 * [y][x] (the top-left rows x cols of each padded plane); addresses in bytes. Four floats of
 * two phases become eight output floats with two shuffles, where the JS loop it replaces stored
 * one float at a time (3.2 ms for the 8 MB output of the CLI net's second upsampling).
 */
import { emitPlaneSteps } from "./crop-planes.ts";
import { codeWriter, functionBody } from "./wasm-encode.ts";

/** Lanes (bytes) of two phases' row vectors a, b: [a0 b0 a1 b1] and [a2 b2 a3 b3]. */
const LOW_PAIRS = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
const HIGH_PAIRS = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];

/** The function body (locals + code + end) of interleaveplanes (8 i32 parameters). */
export function emitInterleavePlanes(): number[] {
  const P = { dst: 0, src: 1, planes: 2, pH: 3, pW: 4, rows: 5, cols: 6, phaseBytes: 7 };
  let n = 8;
  const L = {
    p: n++,
    y: n++,
    i: n++,
    s: n++,
    sa: n++,
    sb: n++,
    rowBytes: n++,
    vecBytes: n++,
    rowStep: n++,
    skip: n++,
  };
  const nLocals = n - 8;
  const w = codeWriter();
  const { code, e, get, set, tee, c32, whileBelow, addTo, mem, simd } = w;
  const ADD = 0x6a;
  const SHL = 0x74;
  emitPlaneSteps(w, P, L);
  get(P.src);
  set(L.s);
  // dst + 2 i: the output address of source byte i.
  const outAt = () => {
    get(P.dst);
    get(L.i);
    get(L.i);
    e(ADD);
    e(ADD);
  };
  const at = (base: number) => {
    get(base);
    get(L.i);
    e(ADD);
  };
  /** One output row from phases (a, 0) at sa and (a, 1) at sb; dst moves past it. */
  const row = () => {
    whileBelow(
      L.i,
      () => get(L.vecBytes),
      () => {
        for (const [lanes, offset] of [
          [LOW_PAIRS, 0],
          [HIGH_PAIRS, 16],
        ] as const) {
          outAt();
          at(L.sa);
          simd(0x00, 0, 0); // v128.load
          at(L.sb);
          simd(0x00, 0, 0);
          simd(0x0d); // i8x16.shuffle
          e(...lanes);
          simd(0x0b, 0, offset); // v128.store
        }
        addTo(L.i, () => c32(16));
      },
    );
    whileBelow(
      L.i,
      () => get(L.rowBytes),
      () => {
        for (const [from, offset] of [
          [L.sa, 0],
          [L.sb, 4],
        ] as const) {
          outAt();
          at(from);
          mem(0x2a, 2, 0); // f32.load
          mem(0x38, 2, offset); // f32.store
        }
        addTo(L.i, () => c32(4));
      },
      () => get(L.vecBytes),
    );
    addTo(P.dst, () => {
      get(L.rowBytes);
      c32(1);
      e(SHL);
    });
  };
  whileBelow(
    L.p,
    () => get(P.planes),
    () => {
      whileBelow(
        L.y,
        () => get(P.rows),
        () => {
          for (const a of [0, 1]) {
            // sa = s + 2 a phaseBytes (phase (a, 0)); sb = sa + phaseBytes (phase (a, 1)).
            get(L.s);
            if (a === 1) {
              get(P.phaseBytes);
              c32(1);
              e(SHL);
              e(ADD);
            }
            tee(L.sa);
            get(P.phaseBytes);
            e(ADD);
            set(L.sb);
            row();
          }
          addTo(L.s, () => get(L.rowStep));
          addTo(L.y, () => c32(1));
        },
      );
      addTo(L.s, () => get(L.skip));
      addTo(L.p, () => c32(1));
    },
  );
  return functionBody(nLocals, code);
}
