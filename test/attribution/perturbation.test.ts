/**
 * Occlusion (Zeiler & Fergus, ECCV 2014) against PAIR saliency's occlusion test matrix and
 * Captum's Occlusion (mean over covering windows), batch invariance, feature-ablation call counts;
 * segments; RISE (Petsiuk, Das & Saenko, BMVC 2018).
 */
import { describe, expect, test } from "vitest";
import {
  featureAblation,
  gridSegments,
  leaveOneOut,
  occlusion,
  rise,
  riseMasks,
  slicSegments,
} from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { expectClose } from "./helpers.ts";

// PAIR occlusion_test.py: f(x) = 3 sum(x), 5x5 zeros with ones at [1,1] and [3,3], size 3, value 0.
const pairModel = (x: s.Tensor) => s.mul(s.sum(x, [1, 2, 3], true), 3);
const pairImage = () => {
  const v = new Float32Array(25);
  v[6] = 1;
  v[18] = 1;
  return s.tensor(v, [1, 1, 5, 5]);
};
const PAIR_EXPECTED = [
  [3, 6, 6, 3, 0],
  [6, 15, 18, 12, 3],
  [6, 18, 24, 18, 6],
  [3, 12, 18, 15, 6],
  [0, 3, 6, 6, 3],
];

describe("occlusion (Zeiler & Fergus 2014; PAIR and Captum variants)", () => {
  test("PAIR's golden matrix (sum over windows) and Captum's averaging variant", async () => {
    const r = await occlusion(pairModel, pairImage(), 0, { window: 3, aggregation: "sum" });
    expect(await r.map.array()).toEqual([[PAIR_EXPECTED]]);
    expect(r.details.positions).toEqual([3, 3]);
    // Windows covering each pixel of a 5x5 image, 3x3 window, stride 1: min(i+1, 3, 5-i) per axis.
    const cover = (i: number) => Math.min(i + 1, 3, 5 - i);
    const m = await occlusion(pairModel, pairImage(), 0, { window: 3 });
    const want = PAIR_EXPECTED.flatMap((row, y) => row.map((v, x) => v / (cover(y) * cover(x))));
    expectClose(m.map.dataSync(), want, 1e-6);
    expect(m.map.dataSync()[12]).toBeCloseTo(24 / 9, 6);
  });

  test("the result is identical for any batch size (perturbations per evaluation)", async () => {
    const net = (x: s.Tensor) =>
      s.sum(s.tanh(s.mul(x, s.reshape(s.arange(0, 48), [1, 3, 4, 4]))), [1, 2, 3], true);
    const x = s.randomNormal([2, 3, 4, 4], { seed: 3 });
    const ref = Array.from(
      (await occlusion(net, x, 0, { window: 2, stride: 1, batchSize: 1 })).map.dataSync(),
    );
    for (const batchSize of [3, 7, 64]) {
      const r = await occlusion(net, x, 0, { window: 2, stride: 1, batchSize });
      expect(Array.from(r.map.dataSync())).toEqual(ref);
    }
  });

  test("Captum window placement: starts 0, s, ... with the last window cut off; uncovered pixels stay 0", async () => {
    const x = s.ones([1, 1, 5, 5]);
    const r = await occlusion(pairModel, x, 0, { window: 2, stride: 3, aggregation: "sum" });
    // ceil((5 - 2) / 3) + 1 = 2 positions per axis: rows/cols {0,1} and {3,4}; row/col 2 uncovered.
    expect(r.details.positions).toEqual([2, 2]);
    const v = r.map.dataSync();
    for (let y = 0; y < 5; y++)
      for (let xx = 0; xx < 5; xx++) expect(v[y * 5 + xx]).toBe(y === 2 || xx === 2 ? 0 : 12);
    const cut = await occlusion(pairModel, x, 0, { window: 3, stride: 3, aggregation: "sum" });
    // Windows at 0 and 3; the second covers rows 3..4 only (cut off): 3 * 3 * 2 = 18 removed.
    expect(cut.map.dataSync()[0]).toBe(27);
    expect(cut.map.dataSync()[4 * 5 + 4]).toBe(12);
  });

  test("leave-one-out is the 1-pixel window (all channels)", async () => {
    const x = s.randomNormal([1, 2, 3, 3], { seed: 1 });
    const f = (t: s.Tensor) => s.sum(s.square(t), [1, 2, 3], true);
    const r = await leaveOneOut(f, x, 0);
    const xv = x.dataSync();
    const want = Array.from({ length: 18 }, (_, i) => xv[i % 9] ** 2 + xv[9 + (i % 9)] ** 2);
    expectClose(r.map.dataSync(), want, 1e-5);
  });

  test("feature ablation with k groups costs exactly k + 1 evaluations", async () => {
    let calls = 0;
    let rows = 0;
    const counted = (x: s.Tensor) => {
      calls++;
      rows += x.shape[0];
      return pairModel(x);
    };
    const mask = gridSegments(5, 5, 2);
    expect(new Set(mask).size).toBe(4);
    const r = await featureAblation(counted, pairImage(), 0, { mask, batchSize: 1 });
    expect(calls).toBe(5);
    expect(rows).toBe(5);
    calls = 0;
    rows = 0;
    await featureAblation(counted, pairImage(), 0, { mask, batchSize: 3 });
    expect(rows).toBe(5);
    expect(calls).toBe(1 + 2);
    // Grid cells: rows/cols {0,1,2} and {3,4}; the ones at [1,1] and [3,3] fall in cells 0 and 3.
    expect(r.details.groupScores).toEqual([[3], [0], [0], [3]]);
  });

  test("grid segments and SLIC superpixels follow colour edges and are connected", () => {
    expect(Array.from(gridSegments(4, 6, 2))).toEqual([
      0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 2, 2, 2, 3, 3, 3,
    ]);
    // A 24x24 RGB image: red left of column 10, blue right of it.
    const H = 24;
    const W = 24;
    const img = new Float32Array(3 * H * W);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const left = x < 10;
        img[y * W + x] = left ? 0.9 : 0.1;
        img[2 * H * W + y * W + x] = left ? 0.1 : 0.9;
      }
    }
    const seg = slicSegments(img, 3, H, W, { segments: 9 });
    const labels = new Set(seg);
    expect(labels.size).toBeGreaterThanOrEqual(4);
    expect(labels.size).toBeLessThanOrEqual(16);
    expect(Math.max(...labels)).toBe(labels.size - 1);
    for (const l of labels) {
      const px = [...seg.keys()].filter((p) => seg[p] === l);
      // No segment straddles the colour edge.
      expect(new Set(px.map((p) => p % W < 10)).size).toBe(1);
      // 4-connected: a flood fill from one pixel reaches all of them.
      const seen = new Set([px[0]]);
      const stack = [px[0]];
      while (stack.length) {
        const p = stack.pop()!;
        for (const q of [p - 1, p + 1, p - W, p + W]) {
          if (q < 0 || q >= H * W || Math.abs((q % W) - (p % W)) > 1 || seg[q] !== l || seen.has(q))
            continue;
          seen.add(q);
          stack.push(q);
        }
      }
      expect(seen.size).toBe(px.length);
    }
    expect(() => slicSegments(img, 2, H, W)).toThrow(/1- or 3-channel/);
  });
});

describe("RISE", () => {
  test("masks: binary grid cells upsampled (values in [0, 1]), mean near the keep probability, seeded; keep 1 and one cell by hand", () => {
    const m = riseMasks(400, 16, 16, { cells: 4, keep: 0.3, seed: 5 });
    expect(m.every((v) => v >= 0 && v <= 1)).toBe(true);
    const mean = m.reduce((a, b) => a + b, 0) / m.length;
    expect(Math.abs(mean - 0.3)).toBeLessThan(0.03);
    expect(Array.from(riseMasks(3, 16, 16, { cells: 4, keep: 0.3, seed: 5 }))).toEqual(
      Array.from(m.subarray(0, 3 * 256)),
    );
    // keep = 1 keeps every cell: every mask is all ones, whatever the shift.
    expect(riseMasks(20, 16, 16, { cells: 4, keep: 1, seed: 5 }).every((v) => v === 1)).toBe(true);
    // One cell: the upsampled grid is constant, so each mask is all 0 or all 1.
    const one = riseMasks(200, 6, 6, { cells: 1, keep: 0.3, seed: 7 });
    let kept = 0;
    for (let n = 0; n < 200; n++) {
      const first = one[n * 36];
      expect(first === 0 || first === 1).toBe(true);
      expect(one.subarray(n * 36, (n + 1) * 36).every((v) => v === first)).toBe(true);
      kept += first;
    }
    // Bernoulli(0.3) over 200 masks: standard error sqrt(0.21 / 200) = 0.032; allow 3.
    expect(Math.abs(kept / 200 - 0.3)).toBeLessThan(0.1);
  });

  test("a model that reads one pixel gets its RISE peak there; batch size does not change the map", async () => {
    const q = 5 * 12 + 7;
    const pick = s.keep(
      s.tensor(
        Float32Array.from({ length: 144 }, (_, i) => (i === q ? 1 : 0)),
        [1, 1, 12, 12],
      ),
    );
    const model = (x: s.Tensor) => s.sum(s.mul(x, pick), [1, 2, 3], true);
    const x = s.ones([1, 1, 12, 12]);
    const r = await rise(model, x, 0, {
      masks: 300,
      cells: 4,
      seed: 2,
      scores: "target",
      batchSize: 300,
    });
    const v = Array.from(r.map.dataSync());
    // f(x * M) = M(q), so saliency_p = sum_n M_n(q) M_n(p) / (N p1) exactly, from the same masks.
    const masks = riseMasks(300, 12, 12, { cells: 4, seed: 2 });
    const want = Array.from({ length: 144 }, (_, p) => {
      let acc = 0;
      for (let n = 0; n < 300; n++) acc += masks[n * 144 + q] * masks[n * 144 + p];
      return acc / (300 * 0.5);
    });
    expectClose(v, want, 1e-5);
    // And the peak is at q or a neighbour (the masks are smooth over 3-pixel cells).
    const peak = v.indexOf(Math.max(...v));
    expect(Math.abs(Math.floor(peak / 12) - 5)).toBeLessThanOrEqual(1);
    expect(Math.abs((peak % 12) - 7)).toBeLessThanOrEqual(1);
    const r2 = await rise(model, x, 0, {
      masks: 300,
      cells: 4,
      seed: 2,
      scores: "target",
      batchSize: 7,
    });
    expect(Array.from(r2.map.dataSync())).toEqual(v);
  });
});
