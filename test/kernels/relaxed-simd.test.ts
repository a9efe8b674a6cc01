import { afterEach, describe, expect, it, vi } from "vitest";
import { instantiateGemmSimd, WASM_MR } from "../../src/kernels/cpu/wasm/gemm-simd.ts";
import { relaxedSimd } from "../../src/kernels/cpu/wasm/relaxed-simd.ts";

const EPS = 2 ** -23;

/**
 * gebp over kc = 2 on one MR x 4 tile: A = [-1, 1 + 2^-23] per row, B = [1, 1 - 2^-23] per
 * column, so C = -1 + (1 + 2^-23)(1 - 2^-23) = -2^-46 exactly when the second step is fused, and
 * 0 when the product is rounded first (1 - 2^-46 rounds to 1).
 */
function twoStepTile(fma: boolean): number[] {
  const s = instantiateGemmSimd(WASM_MR, false, fma);
  if (s === null) throw new Error("no wasm SIMD");
  const f = new Float32Array(s.memory.buffer);
  const a = 0;
  const b = 64;
  const c = 128;
  for (let r = 0; r < WASM_MR; r++) {
    f[a + r] = -1;
    f[a + WASM_MR + r] = 1 + EPS;
  }
  for (let j = 0; j < 4; j++) {
    f[b + j] = 1;
    f[b + 4 + j] = 1 - EPS;
  }
  s.gebp(2, 1, 1, 4 * a, 4 * b, 4 * c, 16, 0);
  return Array.from(f.subarray(c, c + 4 * WASM_MR));
}

describe("relaxed SIMD fused multiply-add", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("is available in this runtime (Node 20 after turning on V8's flag)", () => {
    expect(relaxedSimd()).toBe(true);
  });

  it("rounds once per step with relaxed_madd and twice with mul then add", () => {
    // Every x86-64 CPU since 2013 and every ARM64 CPU has FMA, so relaxed_madd fuses there.
    expect(twoStepTile(true)).toEqual(new Array(4 * WASM_MR).fill(-(2 ** -46)));
    expect(twoStepTile(false)).toEqual(new Array(4 * WASM_MR).fill(0));
  });

  it("both forms match a float64 GEMM on random blocks", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 30 - 1;
    };
    const kc = 37;
    const np = 3;
    const mp = 2;
    const rows = mp * WASM_MR;
    const A = Array.from({ length: kc * rows }, rand); // [panel][k][MR]
    const B = Array.from({ length: np * kc * 4 }, rand); // [panel][k][4]
    const want: number[] = [];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < np * 4; j++) {
        let sum = 0;
        const ap = Math.floor(i / WASM_MR);
        const bp = Math.floor(j / 4);
        for (let k = 0; k < kc; k++) {
          sum +=
            Math.fround(A[ap * kc * WASM_MR + k * WASM_MR + (i % WASM_MR)]) *
            Math.fround(B[bp * kc * 4 + k * 4 + (j % 4)]);
        }
        want.push(sum);
      }
    }
    for (const fma of [true, false]) {
      const s = instantiateGemmSimd(WASM_MR, false, fma);
      if (s === null) throw new Error("no wasm SIMD");
      const f = new Float32Array(s.memory.buffer);
      const b = 1024;
      const c = 2048;
      f.set(A, 0);
      f.set(B, b);
      s.gebp(kc, np, mp, 0, 4 * b, 4 * c, np * 16, 0);
      const got = Array.from(f.subarray(c, c + rows * np * 4));
      const err = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
      expect(err).toBeLessThan(2e-5);
      expect(s.fma).toBe(fma);
    }
  });

  it("SALIENT_CPU_FMA=0 keeps mul then add", async () => {
    vi.stubEnv("SALIENT_CPU_FMA", "0");
    vi.resetModules();
    const fresh = await import("../../src/kernels/cpu/wasm/relaxed-simd.ts");
    expect(fresh.relaxedSimd()).toBe(false);
    const gemm = await import("../../src/kernels/cpu/wasm/gemm-simd.ts");
    expect(gemm.instantiateGemmSimd()?.fma).toBe(false);
  });
});
