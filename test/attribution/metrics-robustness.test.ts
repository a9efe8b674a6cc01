/** Quantus robustness metrics where the explanation's change is linear in the input's. */
import { describe, expect, test } from "vitest";
import {
  avgSensitivity,
  continuity,
  gradient,
  inputXGradient,
  localLipschitzEstimate,
} from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { expectClose, linearModel } from "./helpers.ts";

const x = s.keep(s.tensor([0.3, -1.2, 0.8, 2.0, 0.5, -0.4, 1.1, 0.9], [2, 1, 2, 2]));
const uniformW = linearModel([[1.5, 1.5, 1.5, 1.5]], [0.2]);
const ixg = (m: (t: s.Tensor) => s.Tensor) => async (t: s.Tensor) =>
  (await inputXGradient(m, t, 0)).map;
const grad = (m: (t: s.Tensor) => s.Tensor) => async (t: s.Tensor) => (await gradient(m, t, 0)).map;

describe("local Lipschitz estimate", () => {
  test("input x gradient of 1.5 sum(x) moves by 1.5 d: the estimate is 1.5 for any noise", async () => {
    const r = await localLipschitzEstimate(ixg(uniformW), x, { samples: 5, seed: 2 });
    expectClose(r, [1.5, 1.5], 1e-5);
  });
  test("the gradient of sum(x^2) is 2x: estimate 2; a linear model's gradient does not move: 0", async () => {
    const sq = (t: s.Tensor) => s.sum(s.mul(t, t), [1, 2, 3]);
    expectClose(await localLipschitzEstimate(grad(sq), x, { samples: 4 }), [2, 2], 1e-5);
    expectClose(await localLipschitzEstimate(grad(uniformW), x, { samples: 4 }), [0, 0], 1e-7);
  });
});

describe("average sensitivity", () => {
  test("w * (x + d) - w * x = w * d: ||w * d|| / ||x|| for a fixed d = 0.1", async () => {
    const w = [0.5, -2, 1, 3];
    const f = linearModel([w], [0]);
    const r = await avgSensitivity(ixg(f), x, { samples: 3, perturb: (t) => s.fill(t.shape, 0.1) });
    const xv = Array.from(x.dataSync());
    const num = Math.sqrt(w.reduce((t, v) => t + (0.1 * v) ** 2, 0));
    const norm = (i: number) =>
      Math.sqrt(xv.slice(4 * i, 4 * i + 4).reduce((t, v) => t + v * v, 0));
    expectClose(r, [num / norm(0), num / norm(1)], 1e-6);
    expectClose(await avgSensitivity(grad(f), x, { samples: 3 }), [0, 0], 1e-7);
  });
});

describe("continuity", () => {
  // f = sum(x) on one row [1, 2, 3, 4]; 4 steps of 1 pixel, uncovered columns get the minimum 1.
  const row = s.keep(s.tensor([1, 2, 3, 4], [1, 1, 1, 4]));
  const sum = linearModel([[1, 1, 1, 1]], [0]);
  test("the shifted images score 7, 5, 4, 4; one tile of input x gradient sums to f: correlation 1", async () => {
    const [r] = await continuity(sum, ixg(sum), row, 0, { steps: 4, patchSize: 4, abs: false });
    expectClose(r.scores, [7, 5, 4, 4], 1e-6);
    expectClose(r.tileSums[0], [7, 5, 4, 4], 1e-6);
    expect(r.score).toBeCloseTo(1, 6);
  });
  test("a constant explanation (the gradient) does not follow the score: correlation 0", async () => {
    const [r] = await continuity(sum, grad(sum), row, 0, { steps: 4, patchSize: 2 });
    expect(r.tileSums).toEqual([
      [2, 2, 2, 2],
      [2, 2, 2, 2],
    ]);
    expect(r.score).toBe(0);
  });
});
