/**
 * Records the staging of the CPU Winograd paths: runs `f` with the GEMM module's padplanes
 * wrapped, and returns f's result and the staged row count (padplanes' H) of each call, in order.
 */
import type { GemmSimd } from "../../src/kernels/cpu/wasm/gemm-simd.ts";
import { gemmSimd } from "../../src/kernels/cpu/wasm/gemm-wasm.ts";

export function recordStaging<T>(f: () => T): { result: T; staged: number[] } {
  const s = gemmSimd() as GemmSimd;
  const staged: number[] = [];
  const pad = s.padplanes;
  s.padplanes = (...a: Parameters<GemmSimd["padplanes"]>) => {
    staged.push(a[3]);
    pad(...a);
  };
  try {
    return { result: f(), staged };
  } finally {
    s.padplanes = pad;
  }
}
