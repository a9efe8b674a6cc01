/** KernelSHAP: exact Shapley values by enumeration; Captum's sampling scheme; bad input. */
import { describe, expect, test } from "vitest";
import { kernelShap } from "../../src/attribution/methods/kernel-shap.ts";
import { gridSegments } from "../../src/attribution/segments/grid.ts";
import * as s from "../../src/index.ts";
import { expectClose } from "./helpers.ts";

/** A non-additive model: tanh of a weighted sum plus a product of two pixel sums. */
const weightsFor = (h: number, w: number) =>
  s.keep(
    s.reshape(s.tensor(Array.from({ length: h * w }, (_, i) => Math.sin(i + 1))), [1, 1, h, w]),
  );

function modelFor(h: number, w: number) {
  const wt = weightsFor(h, w);
  return (x: s.Tensor) => {
    const lin = s.sum(s.mul(x, wt), [1, 2, 3]);
    const left = s.sum(s.slice(x, [0, 0, 0, 0], [-1, -1, -1, Math.floor(w / 2)]), [1, 2, 3]);
    const right = s.sum(s.slice(x, [0, 0, 0, Math.floor(w / 2)], [-1, -1, -1, -1]), [1, 2, 3]);
    return s.reshape(s.add(s.tanh(lin), s.mul(s.mul(left, right), 0.1)), [-1, 1]);
  };
}

/** Exact Shapley values by enumerating every coalition, features absent = fill. */
function exactShapley(f: (present: boolean[]) => number, m: number): number[] {
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const phi = new Array(m).fill(0);
  for (let mask = 0; mask < 2 ** m; mask++) {
    const size = [...Array(m).keys()].filter((j) => (mask >> j) & 1).length;
    for (let j = 0; j < m; j++) {
      if ((mask >> j) & 1) continue;
      const wgt = (fact(size) * fact(m - size - 1)) / fact(m);
      const without = [...Array(m).keys()].map((q) => ((mask >> q) & 1) === 1);
      const withJ = without.map((v, q) => v || q === j);
      phi[j] += wgt * (f(withJ) - f(without));
    }
  }
  return phi;
}

describe("kernelShap", () => {
  for (const [cells, h, w] of [
    [2, 4, 4],
    [3, 6, 6],
  ] as const) {
    test(`samples >= 2^M enumerates every coalition: exact Shapley values (${cells * cells} features)`, async () => {
      const model = modelFor(h, w);
      const x = s.randomUniform([1, 2, h, w], { seed: 5 });
      const mask = gridSegments(h, w, cells);
      const m = cells * cells;
      const fill = 0.25;
      const xv = x.dataSync();
      const f = (present: boolean[]) => {
        const v = Float32Array.from(xv);
        for (let ch = 0; ch < 2; ch++)
          for (let p = 0; p < h * w; p++) if (!present[mask[p]]) v[ch * h * w + p] = fill;
        return model(s.tensor(v, [1, 2, h, w])).dataSync()[0];
      };
      const want = exactShapley(f, m);
      const r = await kernelShap(model, x, 0, { mask, fill, samples: 2 ** m, batchSize: 37 });
      expect(r.details.exact).toBe(true);
      expect(r.details.coalitions).toBe(2 ** m);
      expectClose(r.details.values[0], want, 1e-5);
      // Every pixel carries its group's value, in every channel.
      const map = r.map.dataSync();
      for (let p = 0; p < h * w; p++) {
        expect(map[p]).toBeCloseTo(want[mask[p]], 5);
        expect(map[h * w + p]).toBe(map[p]);
      }
      // Efficiency: the values sum to f(x) - f(empty).
      const sum = want.reduce((a, b) => a + b, 0);
      expect(r.details.scores[0] - r.details.emptyScores[0]).toBeCloseTo(sum, 5);
    });
  }

  test("sampled coalitions: efficiency holds exactly and an additive model is recovered", async () => {
    // f(x) = w . x is additive over groups: phi_g = sum over g of w (x - fill), for any sample set
    // that spans the features.
    const h = 8;
    const wv = Array.from({ length: h * h }, (_, i) => Math.cos(i));
    const wt = s.keep(s.tensor(wv, [1, 1, h, h]));
    const model = (x: s.Tensor) => s.reshape(s.sum(s.mul(x, wt), [1, 2, 3]), [-1, 1]);
    const x = s.randomUniform([2, 1, h, h], { seed: 2 });
    const mask = gridSegments(h, h, 4);
    const r = await kernelShap(model, x, 0, { mask, samples: 200, seed: 3 });
    expect(r.details.exact).toBe(false);
    const xv = x.dataSync();
    for (let i = 0; i < 2; i++) {
      const want = new Array(16).fill(0);
      for (let p = 0; p < h * h; p++) want[mask[p]] += wv[p] * xv[i * h * h + p];
      expectClose(r.details.values[i], want, 1e-4);
    }
  });

  test("the result does not depend on the batch size; the seed changes the samples", async () => {
    const model = modelFor(6, 6);
    const x = s.randomUniform([1, 1, 6, 6], { seed: 9 });
    const mask = gridSegments(6, 6, 3);
    const a = await kernelShap(model, x, 0, { mask, samples: 40, seed: 1, batchSize: 1 });
    const b = await kernelShap(model, x, 0, { mask, samples: 40, seed: 1, batchSize: 64 });
    expect(b.details.values).toEqual(a.details.values);
    const c = await kernelShap(model, x, 0, { mask, samples: 40, seed: 2 });
    expect(c.details.values).not.toEqual(a.details.values);
  });

  test("bad input names the problem", async () => {
    const x = s.zeros([1, 1, 4, 4]);
    const model = (t: s.Tensor) => s.reshape(s.sum(t, [1, 2, 3]), [-1, 1]);
    await expect(kernelShap(model, x, 0, { mask: [0, 1] })).rejects.toThrow(
      /one integer label per pixel/,
    );
    await expect(
      kernelShap(model, x, 0, { mask: gridSegments(4, 4, 2), samples: 1 }),
    ).rejects.toThrow(/samples must be an integer >= 2/);
  });
});
