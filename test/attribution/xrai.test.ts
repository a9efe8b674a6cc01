/** Felzenszwalb segmentation and XRAI: hand-computed graphs, known region orders, closed-form IG. */
import { describe, expect, test } from "vitest";
import { xrai, xraiRank } from "../../src/attribution/methods/xrai.ts";
import { felzenszwalbSegments } from "../../src/attribution/segments/felzenszwalb.ts";
import { dilateRegion, xraiRegions } from "../../src/attribution/segments/xrai-regions.ts";
import * as s from "../../src/index.ts";
import { expectClose, linearModel } from "./helpers.ts";

const regionsOf = (...rs: number[][]) => rs.map((r) => Int32Array.from(r));

describe("felzenszwalbSegments", () => {
  test("a piecewise-constant image splits exactly into its pieces, labelled in raster order", () => {
    // Quadrants of 0, 1 / 0.5, 0.25: zero-weight edges merge each quadrant before any edge of
    // weight >= 0.25 is seen, and those exceed 0 + k / |C| for k = 1 / 255.
    const h = 6;
    const w = 8;
    const img = new Float64Array(h * w);
    const truth = new Int32Array(h * w);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const q = (y < 3 ? 0 : 2) + (x < 4 ? 0 : 1);
        img[y * w + x] = [0, 1, 0.5, 0.25][q];
        truth[y * w + x] = q;
      }
    expect(Array.from(felzenszwalbSegments(img, 1, h, w, { sigma: 0, minSize: 0 }))).toEqual(
      Array.from(truth),
    );
  });

  test("colour distance: pieces differing in one channel only are still separated", () => {
    // 3 channels, 4 x 4; left half (0, 0, 0), right half (0, 0, 0.5): distance 0.5 across.
    const img = new Float64Array(3 * 16);
    for (let y = 0; y < 4; y++) for (let x = 2; x < 4; x++) img[32 + y * 4 + x] = 0.5;
    const l = Array.from(felzenszwalbSegments(img, 3, 4, 4, { sigma: 0, minSize: 0 }));
    expect(l).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
  });

  test("the k / |C| threshold on a 3-pixel path, by hand", () => {
    // Pixels [0, 0.1, 0.35]: edges 0.1 (pixels 0-1), then 0.25 (1-2). The first merges iff
    // 0.1 < k. The second merges iff 0.25 < min(0.1 + k / 2, k): k > 0.3, not just k > 0.25.
    const img = [0, 0.1, 0.35];
    const seg = (k: number, minSize = 0) =>
      Array.from(felzenszwalbSegments(img, 1, 1, 3, { scale: k * 255, sigma: 0, minSize }));
    expect(seg(0.09)).toEqual([0, 1, 2]);
    expect(seg(0.15)).toEqual([0, 0, 1]);
    expect(seg(0.28)).toEqual([0, 0, 1]); // 0.25 < k alone, but 0.1 + 0.14 < 0.25
    expect(seg(0.31)).toEqual([0, 0, 0]);
    // minSize 2: the lone pixel 2 is merged into its neighbour afterwards.
    expect(seg(0.15, 2)).toEqual([0, 0, 0]);
    // [0, 0.1, 0.5, 0.55] at k = 0.15: pieces {0, 1} and {2, 3}, both of size 2, which minSize 2
    // keeps and minSize 3 merges.
    const path = (minSize: number) =>
      Array.from(
        felzenszwalbSegments([0, 0.1, 0.5, 0.55], 1, 1, 4, {
          scale: 0.15 * 255,
          sigma: 0,
          minSize,
        }),
      );
    expect(path(2)).toEqual([0, 0, 1, 1]);
    expect(path(3)).toEqual([0, 0, 0, 0]);
  });

  test("Gaussian smoothing keeps a constant image one segment; bad input is named", () => {
    expect(new Set(felzenszwalbSegments(new Float64Array(25).fill(0.3), 1, 5, 5)).size).toBe(1);
    expect(() => felzenszwalbSegments([0, 1], 1, 1, 3)).toThrow(/2 values do not make/);
    expect(() => felzenszwalbSegments([0, 1, 2], 1, 1, 3, { minSize: -1 })).toThrow(/minSize/);
    expect(() => felzenszwalbSegments([0, Number.NaN, 2], 1, 1, 3)).toThrow(/non-finite/);
  });
});

describe("XRAI regions", () => {
  test("dilation by a disk of radius 2 adds exactly the pixels within distance 2", () => {
    const d = dilateRegion(Int32Array.from([2 * 7 + 3]), 7, 7, 2);
    const want: number[] = [];
    for (let y = 0; y < 7; y++)
      for (let x = 0; x < 7; x++) if ((y - 2) ** 2 + (x - 3) ** 2 <= 4) want.push(y * 7 + x);
    expect(Array.from(d)).toEqual(want);
  });

  test("two flat halves give, at every scale, the two halves (no resize, no dilation)", () => {
    const img = new Float64Array(20 * 20);
    for (let y = 0; y < 20; y++) for (let x = 10; x < 20; x++) img[y * 20 + x] = 1;
    const r = xraiRegions(img, 1, 20, 20, { resizeTo: 0, dilation: 0, scales: [50, 100] });
    const left = Array.from({ length: 200 }, (_, i) => Math.floor(i / 10) * 20 + (i % 10));
    expect(r.map((x) => Array.from(x))).toEqual([
      left,
      left.map((p) => p + 10),
      left,
      left.map((p) => p + 10),
    ]);
  });
});

describe("xraiRank", () => {
  // attr [10, 0, 4, 4, 1, 1, 2, 2]; regions R0 {0,1} (mean 5), R1 {1,2,3}, R2 {2,3,4,5}, R3 {6,7}.
  const attr = [10, 0, 4, 4, 1, 1, 2, 2];
  const regions = regionsOf([0, 1], [1, 2, 3], [2, 3, 4, 5], [6, 7]);

  test("greedy by the mean attribution of the newly covered pixels", () => {
    // R0 (5); then R1's new pixels {2,3} (4) beat R2 (2.5) and R3 (2); then R3 (2) beats R2's
    // new {4,5} (1); then R2 (1).
    const r = xraiRank(attr, regions, { minPixelDiff: 1 });
    expectClose(r.map, [5, 5, 4, 4, 1, 1, 2, 2], 1e-12);
    expect(Array.from(r.ranks)).toEqual([1, 1, 2, 2, 4, 4, 3, 3]);
    expect(r.added).toBe(4);
  });

  test("area threshold stops early; the rest gets its mean attribution and the last rank", () => {
    // Covered 2/8 <= 0.25 goes on; 4/8 stops. Rest {4..7}: (1 + 1 + 2 + 2) / 4.
    const r = xraiRank(attr, regions, { minPixelDiff: 1, areaThreshold: 0.25 });
    expectClose(r.map, [5, 5, 4, 4, 1.5, 1.5, 1.5, 1.5], 1e-12);
    expect(Array.from(r.ranks)).toEqual([1, 1, 2, 2, 3, 3, 3, 3]);
  });

  test("regions adding fewer than minPixelDiff pixels are dropped", () => {
    // minPixelDiff 3: R0, R3 dropped; R1 (8/3) wins; then R2 adds only {4,5}: dropped.
    const r = xraiRank(attr, regions, { minPixelDiff: 3 });
    const rest = (10 + 1 + 1 + 2 + 2) / 5;
    expectClose(r.map, [rest, 8 / 3, 8 / 3, 8 / 3, rest, rest, rest, rest], 1e-12);
    expect(Array.from(r.ranks)).toEqual([2, 1, 1, 1, 2, 2, 2, 2]);
  });

  test("ranks follow the gain, not the order of addition", () => {
    // R0 {0,1,2} (10/3) is added first; R1 {2,3} then adds only pixel 3, gain 4 > 10/3.
    const r = xraiRank([5, 5, 0, 4], regionsOf([0, 1, 2], [2, 3]), { minPixelDiff: 1 });
    expectClose(r.map, [10 / 3, 10 / 3, 10 / 3, 4], 1e-12);
    expect(Array.from(r.ranks)).toEqual([2, 2, 2, 1]);
  });

  test("bad options and regions are named", () => {
    expect(() => xraiRank(attr, regions, { areaThreshold: 2 })).toThrow(/areaThreshold/);
    expect(() => xraiRank(attr, regionsOf([0, 8]))).toThrow(/region 0 has pixel 8/);
  });
});

describe("xrai", () => {
  test("a linear model: IG from min and max baselines is w * (x - (min + max) / 2), then ranked", async () => {
    // f = w . x: IG from a constant baseline b is w * (x - b) for any quadrature.
    const c = 2;
    const h = 3;
    const w = 4;
    const wt = Array.from({ length: c * h * w }, (_, i) => Math.cos(3 * i + 1));
    const model = linearModel([wt], [0]);
    const x = s.randomUniform([1, c, h, w], { seed: 7 });
    const xv = Array.from(x.dataSync());
    const mid = (Math.min(...xv) + Math.max(...xv)) / 2;
    const ig = xv.map((v, i) => wt[i] * (v - mid));
    const merged = Array.from({ length: h * w }, (_, p) => Math.max(ig[p], ig[h * w + p]));
    const regions = regionsOf([0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [0, 4, 8]);
    const r = await xrai(model, x, 0, { steps: 5, regions: [regions], minPixelDiff: 1 });
    const want = xraiRank(merged, regions, { minPixelDiff: 1 });
    expect(r.map.shape).toEqual([1, 1, h, w]);
    expectClose(r.map.dataSync(), want.map, 1e-5);
    expect(Array.from(r.details.ranks[0])).toEqual(Array.from(want.ranks));
  });

  test("default (Felzenszwalb) regions: the half the model reads is ranked first", async () => {
    // 16 x 16, left half 0.2, right half 0.8; f reads only the right half, so IG is 0.3 there and
    // 0 on the left. Whatever the exact split, the right half's region (dilated by 5) wins, and
    // the far-left columns (beyond the dilation) come last with value 0.
    const n = 16;
    const img = Array.from({ length: n * n }, (_, p) => (p % n < n / 2 ? 0.2 : 0.8));
    const model = linearModel([img.map((_, p) => (p % n < n / 2 ? 0 : 1))], [0]);
    const r = await xrai(model, s.tensor(img, [1, 1, n, n]), 0, { steps: 4 });
    const ranks = r.details.ranks[0];
    const map = r.map.dataSync();
    const last = Math.max(...ranks);
    for (let y = 0; y < n; y++) {
      for (const x of [10, 15]) {
        expect(ranks[y * n + x]).toBe(1);
        expect(map[y * n + x]).toBeGreaterThan(0);
      }
      for (const x of [0, 1]) {
        expect(ranks[y * n + x]).toBe(last);
        expect(map[y * n + x]).toBe(0);
      }
    }
    expect(last).toBeGreaterThan(1);
    // The first region's value is its mean attribution: 0.3 on its right-half pixels, 0 elsewhere.
    const first = Array.from(ranks.keys()).filter((p) => ranks[p] === 1);
    const rightShare = first.filter((p) => p % n >= n / 2).length / first.length;
    for (const p of first) expect(map[p]).toBeCloseTo(0.3 * rightShare, 5);
  });
});
