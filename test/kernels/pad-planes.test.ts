/** padplanes, cropplanes and scatteradd (wasm), against their definitions. */
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
      // Garbage where the padding goes: padplanes must zero it (and nothing past the planes).
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
      expect(Array.from(f.subarray(dst + ch * Hp * Wp, src)).every(Number.isNaN)).toBe(true);
    }
  });
});

describe("cropplanes (wasm)", () => {
  const s = instantiateGemmSimd();

  it.runIf(s !== null)("copies each plane's top-left rows x cols out, in place too", () => {
    const simd = s as NonNullable<typeof s>;
    simd.memory.grow(4);
    const f = new Float32Array(simd.memory.buffer);
    for (const [planes, pH, pW, rows, cols, inPlace] of [
      [1, 1, 1, 1, 1, false],
      [2, 4, 8, 3, 5, false],
      [3, 32, 32, 28, 28, true],
      [2, 8, 8, 7, 7, true],
      [5, 6, 9, 6, 9, true],
      [2, 5, 19, 2, 17, false],
    ] as const) {
      const src = 64 + 3; // not 16-byte aligned
      for (let i = 0; i < planes * pH * pW; i++) f[src + i] = i + 1;
      const dst = inPlace ? src : src + planes * pH * pW + 5;
      if (!inPlace) f.fill(Number.NaN, dst, dst + planes * rows * cols + 8);
      simd.cropplanes(4 * dst, 4 * src, planes, pH, pW, rows, cols);
      const want: number[] = [];
      for (let p = 0; p < planes; p++)
        for (let y = 0; y < rows; y++)
          for (let x = 0; x < cols; x++) want.push((p * pH + y) * pW + x + 1);
      expect(Array.from(f.subarray(dst, dst + planes * rows * cols))).toEqual(want);
      // Nothing past the cropped planes is written.
      if (!inPlace) expect(Number.isNaN(f[dst + planes * rows * cols])).toBe(true);
    }
  });
});

describe("scatteradd (wasm)", () => {
  const s = instantiateGemmSimd();

  it.runIf(s !== null)("adds rows of src into strided rows of dst, nothing else", () => {
    const simd = s as NonNullable<typeof s>;
    simd.memory.grow(4);
    const f = new Float32Array(simd.memory.buffer);
    for (const [rows, count, srcRow, dstRow, step] of [
      [1, 1, 1, 1, 1],
      [1, 7, 7, 0, 2],
      [3, 5, 9, 40, 2],
      [4, 3, 3, 25, 3],
      [2, 6, 6, 12, 1],
    ]) {
      const src = 16 + 3;
      const dst = 4096 + 1;
      const span = (rows - 1) * dstRow + (count - 1) * step + 1;
      for (let i = 0; i < rows * srcRow; i++) f[src + i] = 0.5 * i + 1;
      for (let i = -4; i < span + 4; i++) f[dst + i] = 1000 + i;
      simd.scatteradd(4 * src, 4 * srcRow, rows, count, 4 * dst, 4 * dstRow, 4 * step);
      const want = Float32Array.from({ length: span + 8 }, (_, i) => 1000 + i - 4);
      for (let r = 0; r < rows; r++)
        for (let k = 0; k < count; k++)
          want[4 + r * dstRow + k * step] += 0.5 * (r * srcRow + k) + 1;
      expect(Array.from(f.subarray(dst - 4, dst + span + 4))).toEqual(Array.from(want));
    }
  });
});
