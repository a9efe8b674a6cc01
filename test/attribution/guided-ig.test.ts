/**
 * Guided IG: the greedy path by hand on a separable model, the IG limit, completeness, and a
 * float64 reference written from PAIR saliency's guided_ig_impl with PyTorch gradients
 * (scripts/fixtures/make_guided_ig_fixtures.py) on the CAM-family CNN.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { guidedIg } from "../../src/attribution/methods/guided-ig.ts";
import * as s from "../../src/index.ts";
import { camFamilyNet } from "./cam-family-net.ts";
import { expectClose, linearModel } from "./helpers.ts";

/** f(x) = sum_i a_i x_i^2 over the 4 pixels of a [N, 1, 1, 4] input. */
const a = s.keep(s.tensor([1, 2, 3, 4], [1, 1, 1, 4]));
const quad = (x: s.Tensor) => s.reshape(s.sum(s.mul(a, s.square(x)), [1, 2, 3]), [-1, 1]);

describe("guidedIg", () => {
  test("the greedy path by hand: 4 steps, fraction 1/4, no lag limit", async () => {
    // From 0 to 1. Step 1: all gradients 0, so every feature moves a quarter (attr 0). Step 2:
    // grads 2 a x = [.5, 1, 1.5, 2]; feature 0 runs to 1 (attr .75 * .5), then feature 1 covers
    // the remaining .25 of L1 (attr .25 * 1). Step 3: grads [2, 2, 1.5, 2]; feature 2 runs to 1
    // (.75 * 1.5), then features 1 and 3 share the remaining .25 (gamma .2: +.1 * 2, +.15 * 2).
    // Step 4: grads [2, 2.4, 6, 3.2]; feature 1 to 1 (.4 * 2.4), then feature 3 (.6 * 3.2).
    const x = s.ones([1, 1, 1, 4]);
    const r = await guidedIg(quad, x, 0, { steps: 4, fraction: 0.25, maxDist: 1 });
    expectClose(r.map.dataSync(), [0.375, 1.41, 1.125, 2.22], 1e-6);
    expect(r.delta![0]).toBeCloseTo(0.375 + 1.41 + 1.125 + 2.22 - 10, 5);
  });

  test("maxDist 0 pins every feature to the straight line: left-Riemann IG", async () => {
    // sum_k (1/n) x 2 a (k/n) x over k = 0..n-1 = a x^2 (n - 1) / n.
    const xv = [0.5, -1, 2, 0.3];
    const n = 10;
    const r = await guidedIg(quad, s.tensor(xv, [1, 1, 1, 4]), 0, { steps: n, maxDist: 0 });
    expectClose(
      r.map.dataSync(),
      xv.map((v, i) => ((i + 1) * v * v * (n - 1)) / n),
      1e-6,
    );
  });

  test("a linear model gets w * (x - x') exactly with PAIR's defaults", async () => {
    const w = Array.from({ length: 12 }, (_, i) => Math.sin(2 * i + 1));
    const model = linearModel([w], [0.1]);
    const x = s.randomUniform([2, 3, 2, 2], { seed: 4 });
    const r = await guidedIg(model, x, 0, { baseline: 0.5 });
    const xv = x.dataSync();
    expectClose(
      r.map.dataSync(),
      Array.from(xv, (v, i) => (v - 0.5) * w[i % 12]),
      1e-5,
    );
    for (const d of r.delta!) expect(Math.abs(d)).toBeLessThan(1e-4);
  });

  test("bad options name the problem", async () => {
    const x = s.ones([1, 1, 1, 4]);
    await expect(guidedIg(quad, x, 0, { steps: 0 })).rejects.toThrow(/steps must be/);
    await expect(guidedIg(quad, x, 0, { fraction: 2 })).rejects.toThrow(/fraction must be/);
    await expect(guidedIg(quad, x, 0, { maxDist: -1 })).rejects.toThrow(/maxDist must be/);
  });
});

describe("guidedIg against PAIR's guided_ig_impl (float64, PyTorch gradients)", () => {
  const ref = JSON.parse(readFileSync("test/fixtures/guided-ig/references.json", "utf8"));

  for (const setting of ["pairDefaults", "wideLag"]) {
    test(`${setting}: maps to 1e-4 relative, sums near f(x) - f(x')`, async () => {
      const r0 = ref[setting];
      const net = camFamilyNet();
      const x = s.tensor(Float32Array.from(ref.input), ref.shape);
      const r = await guidedIg((v) => net.forward(v), x, ref.targets, {
        baseline: r0.baseline,
        steps: r0.steps,
        fraction: r0.fraction,
        maxDist: r0.maxDist,
      });
      const want = r0.map as number[];
      expectClose(r.map.dataSync(), want, 1e-4 * Math.max(...want.map(Math.abs)));
      r.details.scores.forEach((f, i) =>
        expect(f - r.details.baselineScores[i]).toBeCloseTo(r0.scoreGap[i], 5),
      );
      r.map.dispose();
      x.dispose();
    });
  }
});
