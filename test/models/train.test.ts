/** Training helpers against closed forms: loader order, schedules, losses, PSNR, luma. */
import { describe, expect, test } from "vitest";
import { tidy } from "../../src/autodiff/tidy.ts";
import { batchesPerEpoch, shuffledBatches } from "../../src/models/train/data-loader.ts";
import { l1, mse } from "../../src/models/train/losses.ts";
import { cosineSchedule, stepSchedule } from "../../src/models/train/schedule.ts";
import { downscale, modcrop, psnr, rgbToY } from "../../src/models/train/sr-data.ts";
import { tensor } from "../../src/ops/creation.ts";

describe("shuffledBatches", () => {
  test("each epoch visits every index once, in a seeded order that changes per epoch", () => {
    const epochs = [...shuffledBatches(10, 2, { batchSize: 4, seed: 5 })];
    expect(epochs.map((b) => b.indices.length)).toEqual([4, 4, 2, 4, 4, 2]);
    const first = epochs.slice(0, 3).flatMap((b) => [...b.indices]);
    const second = epochs.slice(3).flatMap((b) => [...b.indices]);
    expect([...first].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...second].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(first).not.toEqual(second);
    const again = [...shuffledBatches(10, 2, { batchSize: 4, seed: 5 })].flatMap((b) => [
      ...b.indices,
    ]);
    expect(again).toEqual([...first, ...second]);
    expect(batchesPerEpoch(10, 4)).toBe(3);
    expect([...shuffledBatches(10, 1, { batchSize: 4, dropLast: true })].length).toBe(
      batchesPerEpoch(10, 4, true),
    );
    expect(() => [...shuffledBatches(10, 1, { batchSize: 0 })]).toThrow(
      /batchSize must be a positive integer/,
    );
  });
});

describe("schedules", () => {
  test("cosine: linear warm-up, half-way at the mean of base and floor, floor at the end", () => {
    const s = cosineSchedule(1, 110, { warmup: 10, floor: 0.1 });
    expect(s(0)).toBeCloseTo(0.1, 12);
    expect(s(9)).toBeCloseTo(1, 12);
    expect(s(10)).toBeCloseTo(1, 12);
    expect(s(60)).toBeCloseTo(0.55, 12);
    expect(s(110)).toBeCloseTo(0.1, 12);
    expect(() => cosineSchedule(1, 5, { warmup: 5 })).toThrow(/must exceed warmup/);
  });
  test("step: multiplies by gamma every `every` steps", () => {
    const s = stepSchedule(0.5, 3, 0.1);
    expect([0, 2, 3, 6].map(s).map((v) => +v.toPrecision(6))).toEqual([0.5, 0.5, 0.05, 0.005]);
  });
});

describe("regression losses and PSNR", () => {
  test("mse and l1 of known differences", () => {
    tidy(() => {
      const a = tensor([1, 2, 3, 4], [2, 2]);
      const b = tensor([1, 0, 6, 3], [2, 2]);
      expect(mse(a, b).dataSync()[0]).toBeCloseTo((0 + 4 + 9 + 1) / 4, 6);
      expect(l1(a, b).dataSync()[0]).toBeCloseTo((0 + 2 + 3 + 1) / 4, 6);
    });
  });
  test("psnr: 20 log10(peak / rmse), border shaved", () => {
    const a = new Float32Array(16).fill(0.5);
    const b = new Float32Array(16).fill(0.5);
    b[0] = 0; // in the border: ignored with shave 1
    b[5] = 0.6; // inner 2x2: mse = 0.01 / 4
    expect(psnr(a, b, 4, 4, { shave: 1 })).toBeCloseTo(10 * Math.log10(1 / (0.01 / 4)), 4);
    expect(() => psnr(a, b, 4, 4, { shave: 2 })).toThrow(/leaves no pixels/);
  });
});

describe("SR data", () => {
  test("rgbToY is MATLAB's rgb2ycbcr luma", () => {
    const y = rgbToY({ height: 1, width: 3, data: new Float32Array([0, 1, 1, 0, 1, 1, 0, 1, 0]) });
    expect(y.data[0]).toBeCloseTo(16 / 255, 6); // black
    expect(y.data[1]).toBeCloseTo(235 / 255, 4); // white
    expect(y.data[2]).toBeCloseTo((16 + 65.481 + 128.553) / 255, 6); // yellow
  });
  test("modcrop and downscale keep constants constant at the right size", () => {
    const img = { height: 5, width: 7, data: new Float32Array(35).fill(0.25) };
    const c = modcrop(img, 2);
    expect([c.height, c.width]).toEqual([4, 6]);
    tidy(() => {
      const lr = downscale(tensor(c.data, [1, 1, 4, 6]), 2);
      expect(lr.shape).toEqual([1, 1, 2, 3]);
      for (const v of lr.dataSync()) expect(v).toBeCloseTo(0.25, 6);
    });
  });
});
