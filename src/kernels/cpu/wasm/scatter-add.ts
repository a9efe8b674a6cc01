/**
 * col2im's accumulation in wasm (an export of the GEMM module, on its memory):
 * `scatteradd(src, srcRow, rows, count, dst, dstRow, dstStep)` adds, for r < rows and k < count,
 *   f32[src + r srcRow + 4 k] into f32[dst + r dstRow + k dstStep]
 * (addresses and strides in bytes). The strided input gradient (conv2d-col2im.ts) adds each row
 * of the GEMM's C block, one tap's contributions, into dx this way while C is still in wasm
 * memory: in JS the same loop ran at 2-3 ns an element (40-50 ms of a ResNet stem's gradient).
 */
import { codeWriter, functionBody } from "./wasm-encode.ts";

export const SCATTER_ADD_PARAMS = 7;

/** The function body (locals + code + end) of scatteradd. */
export function emitScatterAdd(): number[] {
  const P = { src: 0, srcRow: 1, rows: 2, count: 3, dst: 4, dstRow: 5, dstStep: 6 };
  let n = SCATTER_ADD_PARAMS;
  const L = { r: n++, k: n++, s: n++, d: n++ };
  const nLocals = n - SCATTER_ADD_PARAMS;
  const w = codeWriter();
  const { code, e, get, set, c32, whileBelow, addTo, mem } = w;
  const F32_LOAD = 0x2a;
  const F32_STORE = 0x38;
  whileBelow(
    L.r,
    () => get(P.rows),
    () => {
      get(P.src);
      set(L.s);
      get(P.dst);
      set(L.d);
      whileBelow(
        L.k,
        () => get(P.count),
        () => {
          get(L.d);
          get(L.d);
          mem(F32_LOAD, 2, 0);
          get(L.s);
          mem(F32_LOAD, 2, 0);
          e(0x92); // f32.add
          mem(F32_STORE, 2, 0);
          addTo(L.s, () => c32(4));
          addTo(L.d, () => get(P.dstStep));
          addTo(L.k, () => c32(1));
        },
      );
      addTo(P.src, () => get(P.srcRow));
      addTo(P.dst, () => get(P.dstRow));
      addTo(L.r, () => c32(1));
    },
  );
  return functionBody(nLocals, code);
}
