/** Quantus axiomatic metrics on a linear model, where every attribution is known in closed form. */
import { describe, expect, test } from "vitest";
import {
  completeness,
  gradient,
  inputInvariance,
  inputXGradient,
  integratedGradients,
  nonSensitivity,
} from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { linearModel } from "./helpers.ts";

// f(x) = w . x + 0.5 on 1 x 2 x 3 images; two examples.
const w = [0.5, -1, 0, 2, 0, 1.5];
const f = linearModel([w], [0.5]);
const xv = [0.2, 0.9, -0.4, 0.7, 0.1, 0.3, 1.0, -0.6, 0.5, 0.2, 0.8, -0.1];
const x = s.keep(s.tensor(xv, [2, 1, 2, 3]));
const dot = (a: number[], b: number[]) => a.reduce((t, v, i) => t + v * b[i], 0);

describe("completeness", () => {
  test("IG on a linear model is complete against the same baseline: gap 0", async () => {
    const ig = await integratedGradients(f, x, 0, { baseline: 0, steps: 4 });
    const r = await completeness(f, x, 0, ig.map, { baseline: 0 });
    for (let i = 0; i < 2; i++) {
      expect(r.difference[i]).toBeCloseTo(dot(w, xv.slice(6 * i, 6 * i + 6)), 5);
      expect(Math.abs(r.gap[i])).toBeLessThan(1e-5);
    }
    expect(r.passed).toEqual([true, true]);
  });

  test("the default black baseline is the image minimum; w * (x - min) is complete, w is not", async () => {
    const mins = [Math.min(...xv.slice(0, 6)), Math.min(...xv.slice(6))];
    const exact = s.tensor(
      xv.map((v, k) => w[k % 6] * (v - mins[Math.floor(k / 6)])),
      [2, 1, 2, 3],
    );
    const r = await completeness(f, x, 0, exact);
    expect(r.passed).toEqual([true, true]);
    const grad = (await gradient(f, x, 0)).map;
    const g = await completeness(f, x, 0, grad);
    const sumW = w.reduce((a, b) => a + b, 0);
    for (let i = 0; i < 2; i++) {
      const diff = dot(
        w,
        xv.slice(6 * i, 6 * i + 6).map((v) => v - mins[i]),
      );
      expect(g.gap[i]).toBeCloseTo(sumW - diff, 5);
    }
    expect(g.passed).toEqual([false, false]);
  });

  test("a uniform-noise baseline is refused", async () => {
    await expect(completeness(f, x, 0, x, { baseline: "uniform" })).rejects.toThrow(
      /deterministic/,
    );
  });
});

describe("non-sensitivity", () => {
  // Baseline 0 on an image of ones: removing pixel p changes f by exactly |w_p|.
  const ones = s.keep(s.ones([1, 1, 2, 3]));
  test("w * x agrees with the model everywhere: 0 disagreements", async () => {
    const map = s.tensor(w, [1, 1, 2, 3]);
    expect(await nonSensitivity(f, ones, 0, map, { baseline: 0 })).toEqual([0]);
  });
  test("a constant map credits the two pixels the model ignores: 2 disagreements", async () => {
    expect(await nonSensitivity(f, ones, 0, s.ones([1, 1, 2, 3]), { baseline: 0 })).toEqual([2]);
  });
  test("a map that zeroes one relevant pixel: 1; in groups of 2 pixels every group agrees", async () => {
    const map = s.tensor([0.5, 0, 0, 2, 0, 1.5], [1, 1, 2, 3]);
    expect(await nonSensitivity(f, ones, 0, map, { baseline: 0 })).toEqual([1]);
    // Pairs {0, 1}, {2, 3}, {4, 5}: removing each changes f (by 0.5, 2, 1.5) and each has mass.
    expect(await nonSensitivity(f, ones, 0, map, { baseline: 0, featuresInStep: 2 })).toEqual([0]);
  });
});

describe("input invariance", () => {
  test("the gradient is invariant to an input shift absorbed by the model; input x gradient is not", async () => {
    const grad = await inputInvariance(f, async (m, v) => (await gradient(m, v, 0)).map, x);
    expect(grad.passed).toEqual([true, true]);
    expect(Math.max(...grad.maxAbsDiff)).toBeLessThan(1e-6);
    // w * x against w * (x - 1): the difference is |w| everywhere, at most 2.
    const ixg = await inputInvariance(f, async (m, v) => (await inputXGradient(m, v, 0)).map, x);
    expect(ixg.passed).toEqual([false, false]);
    for (const d of ixg.maxAbsDiff) expect(d).toBeCloseTo(2, 5);
  });
});
