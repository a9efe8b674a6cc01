/**
 * The inverse of padplanes, in wasm (an export of the GEMM module, on its memory):
 * `cropplanes(dst, src, planes, pH, pW, rows, cols)` copies the top-left rows x cols of each of
 * `planes` pH x pW planes at src into contiguous rows x cols planes at dst; addresses in bytes.
 * dst may be src (or before it): every float moves to a lower or equal address, and each vector
 * is loaded before anything at or after it is stored. The Winograd paths' outputs come back this
 * way: the JS loop of a builtin copy per row spent ~170 us on the 4480 rows of [10, 16, 28, 28],
 * a third of that conv.
 */
import { emitRowCopy } from "./pad-planes.ts";
import { codeWriter, functionBody } from "./wasm-encode.ts";

export const CROP_PLANES_PARAMS = 7;

/** The function body (locals + code + end) of cropplanes. */
export function emitCropPlanes(): number[] {
  const P = { dst: 0, src: 1, planes: 2, pH: 3, pW: 4, rows: 5, cols: 6 };
  let n = CROP_PLANES_PARAMS;
  const L = { p: n++, y: n++, i: n++, rowBytes: n++, vecBytes: n++, srcStep: n++, skip: n++ };
  const nLocals = n - CROP_PLANES_PARAMS;
  const w = codeWriter();
  const { code, get, c32, whileBelow, addTo } = w;
  emitPlaneSteps(w, P, { ...L, rowStep: L.srcStep });
  whileBelow(
    L.p,
    () => get(P.planes),
    () => {
      whileBelow(
        L.y,
        () => get(P.rows),
        () => {
          emitRowCopy(w, {
            dst: P.dst,
            src: P.src,
            i: L.i,
            vecBytes: L.vecBytes,
            rowBytes: L.rowBytes,
          });
          addTo(P.dst, () => get(L.rowBytes));
          addTo(P.src, () => get(L.srcStep));
          addTo(L.y, () => c32(1));
        },
      );
      addTo(P.src, () => get(L.skip));
      addTo(L.p, () => c32(1));
    },
  );
  return functionBody(nLocals, code);
}

/**
 * Sets the locals of a walk over padded pH x pW planes, rows x cols of each: rowBytes = cols * 4,
 * vecBytes = rowBytes & ~15 (whole v128s), rowStep = pW * 4 and skip = (pH - rows) * rowStep
 * (the padded rows below a plane's data). Shared by cropplanes and interleaveplanes.
 */
export function emitPlaneSteps(
  w: ReturnType<typeof codeWriter>,
  p: { cols: number; pW: number; pH: number; rows: number },
  l: { rowBytes: number; vecBytes: number; rowStep: number; skip: number },
): void {
  const { e, get, set, tee, c32 } = w;
  get(p.cols);
  c32(2);
  e(0x74); // i32.shl
  tee(l.rowBytes);
  c32(-16);
  e(0x71); // i32.and
  set(l.vecBytes);
  get(p.pW);
  c32(2);
  e(0x74);
  set(l.rowStep);
  get(p.pH);
  get(p.rows);
  e(0x6b); // i32.sub
  get(l.rowStep);
  e(0x6c); // i32.mul
  set(l.skip);
}
