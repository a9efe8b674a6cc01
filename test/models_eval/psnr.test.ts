import { expect, test } from "vitest";
import { psnr } from "../../src/models/eval/psnr.ts";

test("PSNR of a uniform error e on luma is 20 log10(255 / e')", () => {
  // Adding d to every RGB channel changes Y by d * (65.481 + 128.553 + 24.966) / 255.
  const h = 4;
  const w = 5;
  const a = new Float64Array(3 * h * w).fill(100);
  const b = a.map((v) => v + 3);
  const dy = (3 * (65.481 + 128.553 + 24.966)) / 255;
  expect(psnr(a, b, h, w)).toBeCloseTo(20 * Math.log10(255 / dy), 10);
  expect(psnr(a, b, h, w, { luma: false })).toBeCloseTo(20 * Math.log10(255 / 3), 10);
  expect(psnr(a, a, h, w)).toBe(Number.POSITIVE_INFINITY);
});

test("shaved border pixels do not count", () => {
  const a = new Float64Array(3 * 6 * 6).fill(50);
  const b = Float64Array.from(a);
  for (let c = 0; c < 3; c++) b[c * 36] = 250; // corner pixel differs
  expect(psnr(a, b, 6, 6, { shave: 1 })).toBe(Number.POSITIVE_INFINITY);
  expect(psnr(a, b, 6, 6)).toBeLessThan(40);
  expect(() => psnr(a, b, 6, 6, { shave: 3 })).toThrow(/shave 3/);
});
