/** LIME: exact recovery of an additive model, Captum's cosine kernel, and the Lasso optimality conditions. */
import { describe, expect, test } from "vitest";
import { lime } from "../../src/attribution/methods/lime.ts";
import { gridSegments } from "../../src/attribution/segments/grid.ts";
import * as s from "../../src/index.ts";
import { expectClose } from "./helpers.ts";

const H = 6;
const mask = gridSegments(H, H, 3);

/** The image with absent groups set to the fill, as plain numbers. */
function perturbed(xv: ArrayLike<number>, present: number[], fill: number, c: number): number[] {
  const out = Array.from(xv);
  for (let ch = 0; ch < c; ch++)
    for (let p = 0; p < H * H; p++) if (!present[mask[p]]) out[ch * H * H + p] = fill;
  return out;
}

describe("lime", () => {
  test("alpha 0 on an additive model recovers each group's contribution exactly", async () => {
    const wv = Array.from({ length: 2 * H * H }, (_, i) => Math.sin(3 * i));
    const wt = s.keep(s.tensor(wv, [1, 2, H, H]));
    const model = (x: s.Tensor) => s.reshape(s.add(s.sum(s.mul(x, wt), [1, 2, 3]), 0.5), [-1, 1]);
    const x = s.randomUniform([1, 2, H, H], { seed: 4 });
    const r = await lime(model, x, 0, { mask, alpha: 0, samples: 60, seed: 1 });
    const xv = x.dataSync();
    const want = new Array(9).fill(0);
    for (let i = 0; i < 2 * H * H; i++) want[mask[i % (H * H)]] += wv[i] * xv[i];
    expectClose(r.details.values[0], want, 1e-5);
    expect(r.details.intercepts[0]).toBeCloseTo(0.5, 5);
  });

  test("sample weights are exp(-d^2 / 2) of the cosine distance to the input (Captum's kernel)", async () => {
    const model = (x: s.Tensor) => s.reshape(s.sum(s.square(x), [1, 2, 3]), [-1, 1]);
    const x = s.randomUniform([1, 1, H, H], { seed: 8 });
    const fill = 0.3;
    const r = await lime(model, x, 0, { mask, fill, samples: 20, seed: 2 });
    const xv = Array.from(x.dataSync());
    const nx = Math.hypot(...xv);
    r.details.coalitions.forEach((z, j) => {
      const p = perturbed(xv, z, fill, 1);
      const cos = xv.reduce((a, v, i) => a + v * p[i], 0) / (nx * Math.hypot(...p));
      expect(r.details.weights[0][j]).toBeCloseTo(Math.exp(-((1 - cos) ** 2) / 2), 10);
    });
  });

  test("the default Lasso fit (alpha 0.01) satisfies its optimality (KKT) conditions", async () => {
    const model = (x: s.Tensor) =>
      s.reshape(
        s.tanh(
          s.sum(s.mul(x, s.reshape(s.div(s.arange(0, H * H), H * H), [1, 1, H, H])), [1, 2, 3]),
        ),
        [-1, 1],
      );
    const xs = s.mul(s.randomUniform([1, 1, H, H], { seed: 3 }), 0.3);
    const r = await lime(model, xs, 0, { mask, samples: 50, seed: 5 });
    const xv = xs.dataSync();
    const zs = r.details.coalitions;
    const y = zs.map((z) => model(s.tensor(perturbed(xv, z, 0, 1), [1, 1, H, H])).dataSync()[0]);
    const w = r.details.weights[0];
    const beta = r.details.values[0];
    const b0 = r.details.intercepts[0];
    const sw = w.reduce((a, v) => a + v, 0);
    const resid = zs.map((z, k) => y[k] - b0 - z.reduce((a, v, j) => a + v * beta[j], 0));
    // The intercept makes the weighted residual mean zero.
    expect(resid.reduce((a, v, k) => a + w[k] * v, 0) / sw).toBeCloseTo(0, 8);
    let active = 0;
    for (let j = 0; j < 9; j++) {
      const g = zs.reduce((a, z, k) => a + w[k] * z[j] * resid[k], 0) / sw;
      if (beta[j] !== 0) {
        active++;
        expect(g).toBeCloseTo(0.01 * Math.sign(beta[j]), 7);
      } else expect(Math.abs(g)).toBeLessThanOrEqual(0.01 + 1e-9);
    }
    expect(active).toBeGreaterThan(0);
  });

  test("bad options name the problem", async () => {
    const model = (x: s.Tensor) => s.reshape(s.sum(x, [1, 2, 3]), [-1, 1]);
    const x = s.zeros([1, 1, H, H]);
    await expect(lime(model, x, 0, { mask, alpha: -1 })).rejects.toThrow(/alpha must be/);
    await expect(lime(model, x, 0, { mask, samples: 0 })).rejects.toThrow(/samples must be/);
    await expect(lime(model, x, 0, { mask, kernelWidth: 0 })).rejects.toThrow(/kernelWidth/);
  });
});
