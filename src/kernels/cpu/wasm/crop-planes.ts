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
  const { code, e, get, set, tee, c32, whileBelow, addTo } = w;
  const SUB = 0x6b;
  const MUL = 0x6c;
  const SHL = 0x74;
  const AND = 0x71;
  // rowBytes = cols * 4; vecBytes = rowBytes & ~15; srcStep = pW * 4;
  // skip = (pH - rows) * srcStep: the padded rows below a plane's data.
  get(P.cols);
  c32(2);
  e(SHL);
  tee(L.rowBytes);
  c32(-16);
  e(AND);
  set(L.vecBytes);
  get(P.pW);
  c32(2);
  e(SHL);
  set(L.srcStep);
  get(P.pH);
  get(P.rows);
  e(SUB);
  get(L.srcStep);
  e(MUL);
  set(L.skip);
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
