/** GradientSHAP: closed forms on linear and quadratic models. */
import { describe, expect, test } from "vitest";
import { gradientShap } from "../../src/attribution/methods/gradient-shap.ts";
import * as s from "../../src/index.ts";
import { expectClose, linearModel } from "./helpers.ts";

const D = 12;
const wRow = Array.from({ length: D }, (_, i) => Math.sin(i + 0.5));
const model = linearModel([wRow, wRow.map((v) => -v)], [0.3, 0]);

describe("gradientShap", () => {
  test("a linear model with one baseline and no noise gives (x - b) * w exactly", async () => {
    const x = s.randomUniform([2, 3, 2, 2], { seed: 1 });
    const r = await gradientShap(model, x, [0, 1], { baselines: 0.2, samples: 7, seed: 3 });
    const xv = x.dataSync();
    const want = Array.from(xv, (v, i) => (v - 0.2) * wRow[i % D] * (i < D ? 1 : -1));
    expectClose(r.map.dataSync(), want, 1e-6);
  });

  test("baselines drawn from a distribution: the mean of (x - b_drawn) w, and (x - E[b]) w in expectation", async () => {
    const x = s.randomUniform([1, 3, 2, 2], { seed: 2 });
    const dist = s.concat(
      [s.zeros([1, 3, 2, 2]), s.ones([1, 3, 2, 2]), s.fill([1, 3, 2, 2], 0.5)],
      0,
    );
    const samples = 3000;
    const r = await gradientShap(model, x, 0, {
      baselines: dist,
      samples,
      seed: 4,
      batchSize: 256,
    });
    const xv = x.dataSync();
    const levels = [0, 1, 0.5];
    const drawnMean = r.details.baselineIndex.reduce((a, b) => a + levels[b], 0) / samples;
    const exact = Array.from(xv, (v, i) => (v - drawnMean) * wRow[i]);
    expectClose(r.map.dataSync(), exact, 1e-5);
    // E[b] = 0.5; the draw mean's standard error is 0.41 / sqrt(3000) = 0.0075.
    const expected = Array.from(xv, (v, i) => (v - 0.5) * wRow[i]);
    expectClose(r.map.dataSync(), expected, 0.03);
  });

  test("f = sum x^2 from a zero baseline: the map is 2 mean(a) x^2 over the drawn path points", async () => {
    const sq = (t: s.Tensor) => s.reshape(s.sum(s.square(t), [1, 2, 3]), [-1, 1]);
    const x = s.randomNormal([1, 1, 3, 3], { seed: 6 });
    const r = await gradientShap(sq, x, 0, { samples: 9, seed: 1, batchSize: 2 });
    const meanA = r.details.alphas.reduce((a, b) => a + b, 0) / 9;
    expectClose(
      r.map.dataSync(),
      Array.from(x.dataSync(), (v) => 2 * meanA * v * v),
      1e-5,
    );
  });

  test("input noise (stdev) averages out on a linear model: E[map] = (x - b) w", async () => {
    const x = s.randomUniform([1, 3, 2, 2], { seed: 7 });
    const r = await gradientShap(model, x, 0, { stdev: 0.1, samples: 4000, seed: 2 });
    const want = Array.from(x.dataSync(), (v, i) => v * wRow[i]);
    // Per-pixel noise mean has standard error 0.1 / sqrt(4000) = 0.0016, times |w| <= 1.
    expectClose(r.map.dataSync(), want, 0.008);
  });

  test("bad options name the problem", async () => {
    const x = s.zeros([1, 3, 2, 2]);
    await expect(gradientShap(model, x, 0, { samples: 0 })).rejects.toThrow(/samples must be/);
    await expect(gradientShap(model, x, 0, { stdev: -1 })).rejects.toThrow(/stdev must be/);
  });
});
