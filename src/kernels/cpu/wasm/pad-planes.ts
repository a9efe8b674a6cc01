/**
 * The convolution's zero-padded input planes, written in wasm (a third export of the GEMM module,
 * on the same memory): `padplanes(dst, src, channels, H, W, Hp, Wp, offY, offX)` zeroes
 * channels x Hp x Wp floats at dst and copies each H x W plane at src into its padded plane at
 * row offY, column offX; addresses in bytes. The JS loop it replaces spent about 3 ns per float
 * on the short rows of small maps (16x16), where a builtin call per row costs more than the row;
 * here a row is a few v128 copies.
 */
import { codeWriter, functionBody, uleb } from "./wasm-encode.ts";

export const PAD_PLANES_PARAMS = 9;

/**
 * The function body (locals + code + end) of padplanes, or with `phase` of "padphase": the same
 * arguments, but each source plane is 2H x 2W and its plane y, x is source row 2 y, column 2 x
 * (src pointing at the phase's first float: src + (a 2W + b) * 4 for phase (a, b)): one phase
 * of a twice-as-large gradient, deinterleaved and padded in one pass (conv2d-interleaved.ts).
 */
export function emitPadPlanes(phase = false): number[] {
  const P = { dst: 0, src: 1, ch: 2, H: 3, W: 4, Hp: 5, Wp: 6, offY: 7, offX: 8 };
  let n = PAD_PLANES_PARAMS;
  const L = { d: n++, c: n++, y: n++, i: n++, rowBytes: n++, vecBytes: n++, rowStep: n++ };
  const nLocals = n - PAD_PLANES_PARAMS;
  const w = codeWriter();
  const { code, e, get, set, tee, c32, whileBelow, addTo } = w;
  const ADD = 0x6a;
  const SUB = 0x6b;
  const MUL = 0x6c;
  const SHL = 0x74;
  const AND = 0x71;
  // memory.fill(dst, 0, ch * Hp * Wp * 4)
  get(P.dst);
  c32(0);
  get(P.ch);
  get(P.Hp);
  e(MUL);
  get(P.Wp);
  e(MUL);
  c32(2);
  e(SHL);
  e(0xfc);
  uleb(11, code);
  e(0x00);
  // rowBytes = W * 4; vecBytes = rowBytes & ~15; rowStep = Wp * 4
  get(P.W);
  c32(2);
  e(SHL);
  tee(L.rowBytes);
  c32(-16);
  e(AND);
  set(L.vecBytes);
  get(P.Wp);
  c32(2);
  e(SHL);
  set(L.rowStep);
  // d = dst + (offY * Wp + offX) * 4: channel 0's first data row
  get(P.dst);
  get(P.offY);
  get(P.Wp);
  e(MUL);
  get(P.offX);
  e(ADD);
  c32(2);
  e(SHL, ADD);
  set(L.d);
  whileBelow(
    L.c,
    () => get(P.ch),
    () => {
      whileBelow(
        L.y,
        () => get(P.H),
        () => {
          const row = { dst: L.d, src: P.src, i: L.i, vecBytes: L.vecBytes, rowBytes: L.rowBytes };
          if (phase) emitRowGather2(w, row);
          else emitRowCopy(w, row);
          // The next source row: W floats on, or two rows of 2W for a phase.
          addTo(P.src, () => {
            get(L.rowBytes);
            if (phase) {
              c32(2);
              e(SHL);
            }
          });
          addTo(L.d, () => get(L.rowStep));
          addTo(L.y, () => c32(1));
        },
      );
      // Past the rows below this plane's data and above the next plane's.
      addTo(L.d, () => {
        get(P.Hp);
        get(P.H);
        e(SUB);
        get(L.rowStep);
        e(MUL);
      });
      addTo(L.c, () => c32(1));
    },
  );

  return functionBody(nLocals, code);
}

/**
 * Copies one row of rowBytes bytes from src to dst (i32 locals holding byte addresses): whole
 * v128s (vecBytes = rowBytes & ~15), then the last floats one by one, each loaded before it is
 * stored (so dst may be below an overlapping src). `i` is a scratch local.
 */
export function emitRowCopy(
  w: ReturnType<typeof codeWriter>,
  l: { dst: number; src: number; i: number; vecBytes: number; rowBytes: number },
): void {
  const { e, get, c32, mem, simd, whileBelow, addTo } = w;
  const run = (end: number, step: number, loadStore: () => void, from?: () => void) =>
    whileBelow(
      l.i,
      () => get(end),
      () => {
        get(l.dst);
        get(l.i);
        e(0x6a);
        get(l.src);
        get(l.i);
        e(0x6a);
        loadStore();
        addTo(l.i, () => c32(step));
      },
      from,
    );
  run(l.vecBytes, 16, () => {
    simd(0x00, 0, 0); // v128.load (unaligned)
    simd(0x0b, 0, 0); // v128.store (unaligned)
  });
  run(
    l.rowBytes,
    4,
    () => {
      mem(0x2a, 2, 0); // f32.load
      mem(0x38, 2, 0); // f32.store
    },
    () => get(l.vecBytes),
  );
}

/** Lanes (bytes) 0 and 2 of two v128s a, b: [a0 a2 b0 b2]. */
const EVEN_LANES = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];

/**
 * Writes the rowBytes / 4 floats src[0], src[2], src[4], ... to dst: whole v128s from two loads
 * each (two lanes of each), then the last floats one by one. The vector loads reach one float
 * past the last one read (src may point one float into a row).
 */
function emitRowGather2(
  w: ReturnType<typeof codeWriter>,
  l: { dst: number; src: number; i: number; vecBytes: number; rowBytes: number },
): void {
  const { e, get, c32, mem, simd, whileBelow, addTo } = w;
  const ADD = 0x6a;
  const at = (base: number, twice: boolean) => {
    get(base);
    get(l.i);
    if (twice) {
      get(l.i);
      e(ADD);
    }
    e(ADD);
  };
  whileBelow(
    l.i,
    () => get(l.vecBytes),
    () => {
      at(l.dst, false);
      at(l.src, true);
      simd(0x00, 0, 0); // v128.load
      at(l.src, true);
      simd(0x00, 0, 16);
      simd(0x0d); // i8x16.shuffle
      e(...EVEN_LANES);
      simd(0x0b, 0, 0); // v128.store
      addTo(l.i, () => c32(16));
    },
  );
  whileBelow(
    l.i,
    () => get(l.rowBytes),
    () => {
      at(l.dst, false);
      at(l.src, true);
      mem(0x2a, 2, 0); // f32.load
      mem(0x38, 2, 0); // f32.store
      addTo(l.i, () => c32(4));
    },
    () => get(l.vecBytes),
  );
}
