/**
 * Quantus faithfulness metrics on linear models f(x) = w . x + b, where removing pixel p (baseline
 * 0) lowers f by exactly w_p x_p, so the map w * x is perfectly faithful.
 */
import { describe, expect, test } from "vitest";
import {
  faithfulnessCorrelation,
  faithfulnessEstimate,
  irof,
  monotonicityArya,
  monotonicityCorrelation,
  pixelFlipping,
  regionPerturbation,
  selectivity,
  sensitivityN,
} from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { expectClose, linearModel } from "./helpers.ts";

const img = (v: number[], h: number, w: number, n = 1) => s.keep(s.tensor(v, [n, 1, h, w]));

// 2 x 2: contributions w * x = [1, -2, 3, -0.5] on an image of ones.
const w4 = [1, -2, 3, -0.5];
const f4 = linearModel([w4], [0.25]);
const ones4 = img([1, 1, 1, 1], 2, 2);
const exact4 = img(w4, 2, 2);

// 4 x 4 with 2 x 2 tiles summing to TL 1, TR 4, BL 2, BR 3.
const w16 = Array.from({ length: 16 }, (_, p) => {
  const top = p < 8;
  const left = p % 4 < 2;
  return top ? (left ? 0.25 : 1) : left ? 0.5 : 0.75;
});
const f16 = linearModel([w16], [0]);
const ones16 = img(new Array(16).fill(1), 4, 4);
const map16 = img(w16, 4, 4);

describe("faithfulness correlation and estimate", () => {
  const w = [0.3, -1.2, 2, 0.7, -0.4, 1.1, 0.05, -2.5, 0.9];
  const f = linearModel([w], [0.1]);
  const xv = [0.5, 1.5, -0.3, 0.8, 1.2, -1, 0.4, 0.6, 2];
  const x = img(xv, 3, 3);
  const exact = img(
    w.map((v, k) => v * xv[k]),
    3,
    3,
  );
  test("w * x correlates perfectly (1) with the drops; a constant map has no correlation (0)", async () => {
    const opts = { baseline: 0, runs: 25, subsetSize: 4, seed: 3 } as const;
    expect((await faithfulnessCorrelation(f, x, 0, exact, opts))[0]).toBeCloseTo(1, 5);
    expect((await faithfulnessCorrelation(f, x, 0, s.ones([1, 1, 3, 3]), opts))[0]).toBe(0);
    expect((await faithfulnessEstimate(f, x, 0, exact, { baseline: 0 }))[0]).toBeCloseTo(1, 5);
    // The negated map is perfectly anti-faithful.
    const neg = s.neg(exact);
    expect((await faithfulnessEstimate(f, x, 0, neg, { baseline: 0 }))[0]).toBeCloseTo(-1, 5);
  });
  test("a subset larger than the image is refused", async () => {
    await expect(faithfulnessCorrelation(f, x, 0, exact)).rejects.toThrow(
      /subsetSize 224 is larger than the image \(9 pixels\)/,
    );
  });
});

describe("monotonicity", () => {
  test("Arya: pixels return in ascending order of a; the curve is b + running sums", async () => {
    // Ascending: -2, -0.5, 1, 3 -> f = 0.25 - 2, -2.5 + 0.25, -1.5 + 0.25, 1.5 + 0.25.
    const [r] = await monotonicityArya(f4, ones4, 0, exact4, { baseline: 0 });
    expectClose(r.curve, [-1.75, -2.25, -1.25, 1.75], 1e-6);
    expect(r.monotonic).toBe(false);
    const pos = linearModel([[1, 2, 3, 0.5]], [0]);
    const [q] = await monotonicityArya(pos, ones4, 0, img([1, 2, 3, 0.5], 2, 2), { baseline: 0 });
    expectClose(q.curve, [0.5, 1.5, 3.5, 6.5], 1e-6);
    expect(q.monotonic).toBe(true);
  });
  test("Nguyen & Martinez: Spearman of a with the squared drops a^2 / f^2", async () => {
    const pos = linearModel([[1, 2, 3, 0.5]], [0]);
    const r = await monotonicityCorrelation(pos, ones4, 0, img([1, 2, 3, 0.5], 2, 2), {
      baseline: 0,
    });
    expect(r[0]).toBeCloseTo(1, 12);
    // a = [1, -2, 3, -0.5] ranks [3, 1, 4, 2]; a^2 ranks [2, 3, 4, 1]; sum d^2 = 6 -> 1 - 36/60.
    const m = await monotonicityCorrelation(f4, ones4, 0, exact4, { baseline: 0 });
    expect(m[0]).toBeCloseTo(0.4, 12);
  });
});

describe("sensitivity-n", () => {
  test("w * x: the removed set's sum equals the drop for every n, so each correlation is 1", async () => {
    const xv = [1, 2, 0.5, 3, -1, 0.5, 2, 1, 0.2, 0.3, 4, -2];
    const x = img(xv, 2, 2, 3);
    const exact = img(
      xv.map((v, k) => v * w4[k % 4]),
      2,
      2,
      3,
    );
    const r = await sensitivityN(f4, x, 0, exact, { baseline: 0, nMaxPercentage: 0.5 });
    expect(r.n).toEqual([1, 2]);
    expectClose(r.correlation, [1, 1], 1e-6);
    await expect(sensitivityN(f4, ones4, 0, exact4)).rejects.toThrow(/at least 2/);
  });
});

describe("curves", () => {
  test("pixel flipping: descending 3, 1, -0.5, -2 removed from f = 1.75", async () => {
    const [r] = await pixelFlipping(f4, ones4, 0, exact4, { baseline: 0 });
    expectClose(r.curve, [-1.25, -2.25, -1.75, 0.25], 1e-6);
    expect(r.score).toBeCloseTo(-4.5, 5);
  });
  test("pixel flipping's default black baseline is the image minimum", async () => {
    const sum = linearModel([[1, 1, 1, 1]], [0]);
    const x = img([3, 1, 2, 5], 2, 2);
    // Descending 5, 3, 2, 1, each replaced by the minimum 1: 11 -> 7, 5, 4, 4.
    const [r] = await pixelFlipping(sum, x, 0, x);
    expectClose(r.curve, [7, 5, 4, 4], 1e-6);
  });
  test("selectivity: tiles TR 4, BR 3, BL 2, TL 1 leave f = 6, 3, 1, 0", async () => {
    const [r] = await selectivity(f16, ones16, 0, map16, { baseline: 0, patchSize: 2 });
    expectClose(r.curve, [6, 3, 1, 0], 1e-6);
    expect(r.score).toBeCloseTo(7, 5);
  });
  test("region perturbation: the best patches are the tiles, drops 4, 7, 9, 10, AOPC 30 / 5", async () => {
    const [r] = await regionPerturbation(f16, ones16, 0, map16, { baseline: 0, patchSize: 2 });
    expectClose(r.curve, [4, 7, 9, 10], 1e-6);
    expect(r.score).toBeCloseTo(6, 5);
    const [one] = await regionPerturbation(f16, ones16, 0, map16, {
      baseline: 0,
      patchSize: 2,
      regionsEvaluation: 1,
    });
    expectClose(one.curve, [4], 1e-6);
  });
  test("IROF: segments by mean a; relative curve 0.6, 0.3, 0.1, 0; area over it 4 - 0.7", async () => {
    const tiles = Int32Array.from({ length: 16 }, (_, p) => (p < 8 ? 0 : 2) + (p % 4 < 2 ? 0 : 1));
    const [r] = await irof(f16, ones16, 0, map16, { baseline: 0, segments: tiles });
    expectClose(r.curve, [0.6, 0.3, 0.1, 0], 1e-6);
    expect(r.score).toBeCloseTo(3.3, 5);
  });
  test("IROF's default baseline is the channel mean: [3, 1] -> [2, 1] -> [2, 2]", async () => {
    const sum = linearModel([[1, 1]], [0]);
    const x = img([3, 1], 1, 2);
    const [r] = await irof(sum, x, 0, img([5, 1], 1, 2), { segments: Int32Array.from([0, 1]) });
    expectClose(r.curve, [0.75, 1], 1e-6);
    expect(r.score).toBeCloseTo(2 - 0.875, 6);
  });
});
