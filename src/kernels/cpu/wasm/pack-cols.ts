/**
 * The convolution's im2col packer as a wasm function (a second export of the GEMM module, so it
 * writes straight into the packed-B block in the same memory). The JS packer spends about 2 ns
 * per packed value on index arithmetic and bounds checks; here a panel of 4 consecutive output
 * pixels of one row at stride 1 is one unaligned v128 load and one store per tap.
 *
 * `packcols(dst, xp, taps, kc, q0, np, outW, rowStep, sw, imgPix, imgStride)` writes np full
 * 4-pixel panels for output pixels q0 .. q0 + 4*np - 1 (row-major over the output, outW per row,
 * imgPix per image: several images make one wide B), kc taps each: panel value (t, j) =
 * xp[base(q0 + 4p + j) + taps[t]] with base(q) = img * imgStride + (r / outW) * rowStep +
 * (r % outW) * sw for img = q / imgPix, r = q % imgPix, where xp is the zero-padded input (every
 * tap of every pixel in bounds) and taps holds byte offsets (i32). dst, xp and taps are byte
 * addresses; rowStep, sw and imgStride are in floats.
 * Panels that cross a row end, or any stride other than 1, take four scalar loads per tap.
 */
import { codeWriter, functionBody } from "./wasm-encode.ts";

export const PACK_COLS_PARAMS = 11;

/** The function body (locals + code + end) of packcols. */
export function emitPackCols(): number[] {
  const P = {
    dst: 0,
    xp: 1,
    taps: 2,
    kc: 3,
    q0: 4,
    np: 5,
    outW: 6,
    rowStep: 7,
    sw: 8,
    imgPix: 9,
    imgStride: 10,
  };
  let n = PACK_COLS_PARAMS;
  const L = {
    p: n++,
    q: n++,
    img: n++,
    y: n++,
    x: n++,
    b0: n++,
    b1: n++,
    b2: n++,
    b3: n++,
    tp: n++,
    te: n++,
    l: n++,
    t: n++,
  };
  const nLocals = n - PACK_COLS_PARAMS;
  const { code, e, get, set, tee, c32, mem, simd: simdMem } = codeWriter();
  const ADD = 0x6a;
  const SUB = 0x6b;
  const MUL = 0x6c;
  const DIVU = 0x6e;
  const SHL = 0x74;
  const AND = 0x71;
  const EQ = 0x46;
  const LTU = 0x49;
  const GEU = 0x4f;
  const I32_LOAD = 0x28;
  const F32_LOAD = 0x2a;
  const F32_STORE = 0x38;

  /** bytes of pixel base: xp + ((img * imgStride + y * rowStep + x * sw) << 2), from locals. */
  const base = (y: number, x: number) => {
    get(P.xp);
    get(L.img);
    get(P.imgStride);
    e(MUL);
    get(y);
    get(P.rowStep);
    e(MUL, ADD);
    get(x);
    get(P.sw);
    e(MUL, ADD);
    c32(2);
    e(SHL, ADD);
  };
  /** img = q' / imgPix; then y, x: row and column of r = q' - img * imgPix; for q' = q + j. */
  const split = (j: number) => {
    get(L.q);
    if (j > 0) {
      c32(j);
      e(ADD);
    }
    tee(L.t);
    get(P.imgPix);
    e(DIVU);
    tee(L.img);
    get(P.imgPix);
    e(MUL);
    set(L.x);
    get(L.t);
    get(L.x);
    e(SUB);
    tee(L.t);
    get(P.outW);
    e(DIVU);
    tee(L.y);
    get(P.outW);
    e(MUL);
    set(L.x);
    get(L.t);
    get(L.x);
    e(SUB);
    set(L.x);
  };
  /** tp += 4; dst += 16; br_if (tp < te) to the enclosing loop. */
  const step = () => {
    get(P.dst);
    c32(16);
    e(ADD);
    set(P.dst);
    get(L.tp);
    c32(4);
    e(ADD);
    tee(L.tp);
    get(L.te);
    e(LTU, 0x0d, 0);
  };

  c32(0);
  set(L.p);
  e(0x02, 0x40, 0x03, 0x40); // block, loop
  get(L.p);
  get(P.np);
  e(GEU, 0x0d, 1); // br_if 1: done
  // q = q0 + 4p
  get(P.q0);
  get(L.p);
  c32(2);
  e(SHL, ADD);
  set(L.q);
  split(0);
  base(L.y, L.x);
  set(L.b0);
  get(P.taps);
  set(L.tp);
  get(P.taps);
  get(P.kc);
  c32(2);
  e(SHL, ADD);
  set(L.te);
  // Contiguous panel: sw == 1 and the 4 pixels on one row (x + 3 < outW).
  get(P.sw);
  c32(1);
  e(EQ);
  get(L.x);
  c32(3);
  e(ADD);
  get(P.outW);
  e(LTU, AND);
  e(0x04, 0x40); // if
  e(0x03, 0x40); // loop
  get(P.dst);
  get(L.b0);
  get(L.tp);
  mem(I32_LOAD, 2, 0);
  e(ADD);
  simdMem(0x00, 0, 0); // v128.load (unaligned)
  simdMem(0x0b, 4, 0); // v128.store (dst is 16-byte aligned)
  step();
  e(0x0b); // end loop
  e(0x05); // else
  for (const [j, b] of [
    [1, L.b1],
    [2, L.b2],
    [3, L.b3],
  ]) {
    split(j);
    base(L.y, L.x);
    set(b);
  }
  e(0x03, 0x40); // loop
  get(L.tp);
  mem(I32_LOAD, 2, 0);
  set(L.l);
  [L.b0, L.b1, L.b2, L.b3].forEach((b, j) => {
    get(P.dst);
    get(b);
    get(L.l);
    e(ADD);
    mem(F32_LOAD, 2, 0);
    mem(F32_STORE, 2, 4 * j);
  });
  step();
  e(0x0b); // end loop
  e(0x0b); // end if
  get(L.p);
  c32(1);
  e(ADD);
  set(L.p);
  e(0x0c, 0); // br 0
  e(0x0b, 0x0b); // end loop, end block

  return functionBody(nLocals, code);
}
