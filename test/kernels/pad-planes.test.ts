import { describe, expect, it } from "vitest";
import { instantiateGemmSimd } from "../../src/kernels/cpu/wasm/gemm-simd.ts";

describe("padplanes (wasm)", () => {
  const s = instantiateGemmSimd();

  it.runIf(s !== null)("zero-pads each plane, whatever the row width and offsets", () => {
    const simd = s as NonNullable<typeof s>;
    simd.memory.grow(4);
    const f = new Float32Array(simd.memory.buffer);
    for (const [ch, H, W, offY, offX, below, right] of [
      [1, 1, 1, 0, 0, 0, 0],
      [2, 3, 3, 1, 1, 1, 1],
      [3, 4, 4, 2, 0, 0, 3],
      [2, 5, 5, 0, 2, 2, 0],
      [1, 16, 16, 1, 1, 1, 1],
      [2, 7, 17, 2, 2, 3, 1],
    ]) {
      const Hp = offY + H + below;
      const Wp = offX + W + right;
      const dst = 64;
      const src = dst + ch * Hp * Wp + 7; // not 16-byte aligned
      // Garbage where the padding goes: padplanes must zero it.
      f.fill(Number.NaN, dst, src);
      for (let i = 0; i < ch * H * W; i++) f[src + i] = i + 1;
      simd.padplanes(4 * dst, 4 * src, ch, H, W, Hp, Wp, offY, offX);
      const want: number[] = [];
      for (let c = 0; c < ch; c++) {
        for (let y = 0; y < Hp; y++) {
          for (let x = 0; x < Wp; x++) {
            const iy = y - offY;
            const ix = x - offX;
            const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
            want.push(inside ? (c * H + iy) * W + ix + 1 : 0);
          }
        }
      }
      expect(Array.from(f.subarray(dst, dst + ch * Hp * Wp))).toEqual(want);
    }
  });
});
