/**
 * Integrated Gradients (Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep Networks",
 * ICML 2017) on Captum's toy models (BasicModel, BasicModel2, BasicModel3 in
 * captum.testing.helpers.basic_models), and convergence of the quadrature rules.
 */
import { describe, expect, test } from "vitest";
import { gradient, integratedGradients, type QuadratureRule } from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { expectClose } from "./helpers.ts";

const col = (x: s.Tensor, i: number) => s.reshape(s.slice(x, [0, i], [-1, 1]), [-1, 1]);
// Captum BasicModel2: relu(relu(x1) - 1 - relu(x2)); BasicModel3: relu(relu(x1 - 1) - relu(x2)).
const model2 = (x: s.Tensor) => s.relu(s.sub(s.sub(s.relu(col(x, 0)), 1), s.relu(col(x, 1))));
const model3 = (x: s.Tensor) => s.relu(s.sub(s.relu(s.sub(col(x, 0), 1)), s.relu(col(x, 1))));
// Captum BasicModel: 1 - relu(1 - x), saturated for x >= 1.
const model1 = (x: s.Tensor) => s.sub(1, s.relu(s.sub(1, x)));

describe("IG toy models (Sundararajan et al. 2017; Captum basic_models)", () => {
  test("BasicModel2 and BasicModel3 at (3, 1) from 0 give (1.5, -0.5): implementation invariance", async () => {
    const x = s.tensor([[3, 1]]);
    for (const m of [model2, model3]) {
      // The kink sits at alpha = 1/2; an even Gauss-Legendre rule is symmetric about it, so exact.
      const r = await integratedGradients(m, x, 0, { steps: 50 });
      expectClose(r.map.dataSync(), [1.5, -0.5], 1e-5);
      expect(Math.abs(r.delta![0])).toBeLessThan(1e-5);
      expect(r.details.scores[0]).toBe(1);
      expect(r.details.baselineScores[0]).toBe(0);
    }
  });

  test("BasicModel at x = 1: the gradient is 0 (saturation) but IG = f(1) - f(0) = 1", async () => {
    const x = s.tensor([[1]]);
    const g = await gradient(model1, x, 0);
    expect(g.map.dataSync()[0]).toBe(0);
    const r = await integratedGradients(model1, x, 0, { steps: 20, quadrature: "riemann-middle" });
    expect(r.map.dataSync()[0]).toBeCloseTo(1, 6);
  });

  test("completeness: delta shrinks with n; Gauss-Legendre beats Riemann at equal n", async () => {
    // f(x) = sum sin(3 x): smooth along the straight path.
    const f = (x: s.Tensor) => s.sum(s.sin(s.mul(x, 3)), 1, true);
    const x = s.tensor([[1, 2, -0.7]]);
    const delta = async (rule: QuadratureRule, n: number) =>
      Math.abs((await integratedGradients(f, x, 0, { steps: n, quadrature: rule })).delta![0]);
    const gl8 = await delta("gausslegendre", 8);
    const left8 = await delta("riemann-left", 8);
    const left64 = await delta("riemann-left", 64);
    const trap8 = await delta("riemann-trapezoid", 8);
    // The exact deltas: f(x) - f(0) = sum sin(3 x_i), and the n-node sums by hand in float64
    // (IG_i = x_i sum_k w_k 3 cos(3 t_k x_i) with left nodes k / n, trapezoid nodes k / (n - 1)).
    const xs = [1, 2, -0.7];
    const exact = xs.reduce((a, v) => a + Math.sin(3 * v), 0);
    const byHand = (nodes: number[], weights: number[]) =>
      Math.abs(
        xs.reduce(
          (a, v) =>
            a + v * nodes.reduce((t, tk, k) => t + weights[k] * 3 * Math.cos(3 * tk * v), 0),
          0,
        ) - exact,
      );
    const range = (n: number) => Array.from({ length: n }, (_, k) => k);
    expect(left8).toBeCloseTo(
      byHand(
        range(8).map((k) => k / 8),
        range(8).map(() => 1 / 8),
      ),
      5,
    );
    expect(left64).toBeCloseTo(
      byHand(
        range(64).map((k) => k / 64),
        range(64).map(() => 1 / 64),
      ),
      5,
    );
    expect(trap8).toBeCloseTo(
      byHand(
        range(8).map((k) => k / 7),
        range(8).map((k) => (k === 0 || k === 7 ? 1 / 14 : 1 / 7)),
      ),
      5,
    );
    expect(gl8).toBeLessThan(1e-4);
    expect(left8).toBeGreaterThan(0.05);
    expect(left64).toBeLessThan(left8 / 4);
    expect(trap8).toBeLessThan(left8);
    expect(gl8).toBeLessThan(trap8 / 100);
  });
});
