/**
 * Packing of the A operand for the blocked GEMMs (the TypeScript micro-kernel and the wasm SIMD
 * one): op(A)[ic:ic+mc, pc:pc+kc] laid out as mr-row panels, each panel column-major over k, so
 * the micro-kernel reads mr consecutive values per step.
 */

/** Packing target: the TS kernel's double array, or a Float32Array over wasm memory. */
export type PanelBuffer = number[] | Float32Array;

/**
 * Packs op(A)[ic:ic+mc, pc:pc+kc] into `mr`-row panels at s[o..], zero-padding the last panel;
 * returns the offset just past what it wrote.
 */
export function packA(
  s: PanelBuffer,
  o: number,
  mr: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  transA: boolean,
  ic: number,
  mc: number,
  pc: number,
  kc: number,
): number {
  for (let ir = 0; ir < mc; ir += mr) {
    const rows = Math.min(mr, mc - ir);
    if (transA) {
      // op(A)[i, p] = a[p * lda + i]: `rows` contiguous floats per step.
      let src = aOff + pc * lda + ic + ir;
      if (rows === 4 && mr === 4) {
        for (let p = 0; p < kc; p++) {
          s[o] = a[src];
          s[o + 1] = a[src + 1];
          s[o + 2] = a[src + 2];
          s[o + 3] = a[src + 3];
          o += 4;
          src += lda;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let i = 0; i < mr; i++) s[o + i] = i < rows ? a[src + i] : 0;
          o += mr;
          src += lda;
        }
      }
    } else {
      // op(A)[i, p] = a[i * lda + p]: read each row contiguously, scatter with stride mr.
      const src = aOff + (ic + ir) * lda + pc;
      for (let i = 0; i < mr; i++) {
        let d = o + i;
        if (i < rows) {
          const row = src + i * lda;
          for (let p = 0; p < kc; p = (p + 1) | 0) {
            s[d] = a[(row + p) | 0];
            d = (d + mr) | 0;
          }
        } else {
          for (let p = 0; p < kc; p++, d += mr) s[d] = 0;
        }
      }
      o += kc * mr;
    }
  }
  return o;
}
