/** A linear model f(x) = w . x + b has closed-form attributions for every method. */
import { describe, expect, test } from "vitest";
import {
  featureAblation,
  gradient,
  inputXGradient,
  integratedGradients,
  occlusion,
  QUADRATURE_RULES,
  saliency,
  smoothGrad,
} from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { expectClose, linearModel, scipyBlur } from "./helpers.ts";

// Inputs [2, 1, 2, 3]: D = 6 features, K = 3 classes.
const W = [
  [0.5, -1.25, 2, 0.75, -0.5, 1.5],
  [-2, 0.25, 1, -1, 3, 0.5],
  [1, 1, -1, 2, 0.25, -0.75],
];
const B = [0.1, -0.3, 0.7];
const model = linearModel(W, B);
const xv = [0.2, 0.9, -0.4, 1.3, 0.05, -0.7, 1.1, -0.2, 0.6, 0.3, -1.5, 0.8];
const x = s.keep(s.tensor(xv, [2, 1, 2, 3]));
const wOf = (k: number) => [...W[k], ...W[k]];

describe("linear model", () => {
  test("gradient = w, saliency = |w|, Captum's abs gradient = |w|, gradient x input = w * x", async () => {
    const g = await gradient(model, x, 1);
    expectClose(g.map.dataSync(), wOf(1), 0);
    expect(g.details.scores[0]).toBeCloseTo(
      W[1].reduce((a, w, i) => a + w * xv[i], B[1]),
      5,
    );
    const sal = await saliency(model, x, 1);
    expect(sal.map.shape).toEqual([2, 1, 2, 3]);
    expectClose(sal.map.dataSync(), wOf(1).map(Math.abs), 0);
    const a = await gradient(model, x, 1, { abs: true });
    expectClose(a.map.dataSync(), wOf(1).map(Math.abs), 0);
    const ixg = await inputXGradient(model, x, 2);
    expectClose(
      ixg.map.dataSync(),
      wOf(2).map((w, i) => w * xv[i]),
      1e-7,
    );
  });

  test("per-example target lists and callables pick each row's own score", async () => {
    const g = await gradient(model, x, [0, 2]);
    expectClose(g.map.dataSync(), [...W[0], ...W[2]], 0);
    // A callable: logit 1 minus logit 0, one score per row.
    const col = (out: s.Tensor, k: number) => s.reshape(s.slice(out, [0, k], [-1, 1]), [-1]);
    const f = await gradient(model, x, (out) => s.sub(col(out, 1), col(out, 0)));
    expectClose(
      f.map.dataSync(),
      wOf(1).map((w, i) => w - wOf(0)[i]),
      1e-7,
    );
  });

  test("IG with any baseline is w * (x - x') exactly, with delta 0, for every rule and n", async () => {
    const base = s.keep(
      s.tensor(
        xv.map((_v, i) => 0.1 * i - 0.3),
        [2, 1, 2, 3],
      ),
    );
    for (const rule of QUADRATURE_RULES) {
      for (const n of rule === "riemann-trapezoid" ? [2, 5] : [1, 2, 5]) {
        const r = await integratedGradients(model, x, 0, {
          quadrature: rule,
          steps: n,
          baseline: base,
        });
        const bv = base.dataSync();
        expectClose(
          r.map.dataSync(),
          wOf(0).map((w, i) => w * (xv[i] - bv[i])),
          2e-6,
        );
        for (const d of r.delta!) expect(Math.abs(d)).toBeLessThan(2e-6);
        r.map.dispose();
      }
    }
  });

  test("IG scores both path ends in one model call where they fit, per-example targets kept", async () => {
    const rows: number[] = [];
    const counted = (v: s.Tensor) => {
      rows.push(v.shape[0]);
      return model(v);
    };
    const base = xv.map((_v, i) => 0.05 * i - 0.2);
    const score = (k: number, v: number[], e: number) =>
      W[k].reduce((a, w, i) => a + w * v[6 * e + i], B[k]);
    const check = async (batchSize: number, calls: number[]) => {
      rows.length = 0;
      const r = await integratedGradients(counted, x, [0, 2], {
        steps: 4,
        batchSize,
        baseline: s.tensor(base, [2, 1, 2, 3]),
      });
      expect(rows).toEqual(calls);
      expectClose(r.details.scores, [score(0, xv, 0), score(2, xv, 1)], 1e-6);
      expectClose(r.details.baselineScores, [score(0, base, 0), score(2, base, 1)], 1e-6);
      expectClose(r.delta!, [0, 0], 2e-6);
      r.map.dispose();
    };
    // 4 path nodes x 2 examples in one call, then input and baseline rows together.
    await check(8, [8, 4]);
    // 3 rows a call: the ends' 4 rows take two calls (rows 0-2, then 3).
    await check(3, [2, 2, 2, 2, 3, 1]);
  });

  test("IG baselines: scalar, broadcast tensor, black, white, blur, uniform noise, function", async () => {
    const img = s.keep(s.tensor(xv, [2, 1, 2, 3]));
    const check = async (spec: Parameters<typeof integratedGradients>[3], base: number[]) => {
      const r = await integratedGradients(model, img, 2, { ...spec, steps: 3 });
      expectClose(
        r.map.dataSync(),
        wOf(2).map((w, i) => w * (xv[i] - base[i])),
        3e-6,
      );
      expectClose(r.delta!, [0, 0], 3e-6);
    };
    await check(
      { baseline: 0.25 },
      xv.map(() => 0.25),
    );
    await check(
      { baseline: "black" },
      xv.map(() => 0),
    );
    await check(
      { baseline: "white" },
      xv.map(() => 1),
    );
    const one = [0.3, -0.1, 0.2, 0.0, 0.5, 0.4];
    await check({ baseline: s.tensor(one, [1, 1, 2, 3]) }, [...one, ...one]);
    await check(
      { baseline: (t) => s.mul(t, 0.5) },
      xv.map((v) => 0.5 * v),
    );
    const blurred = [
      ...scipyBlur(xv.slice(0, 6), 1, 2, 3, 0.8),
      ...scipyBlur(xv.slice(6), 1, 2, 3, 0.8),
    ];
    await check({ baseline: { kind: "blur", sigma: 0.8 } }, blurred);
    const u = s.randomUniform([2, 1, 2, 3], { seed: 7 }).dataSync();
    await check(
      { baseline: { kind: "uniform", low: -1, high: 3, seed: 7 } },
      Array.from(u, (v) => -1 + 4 * v),
    );
    await expect(
      integratedGradients(model, img, 0, { baseline: s.zeros([3, 1, 2, 3]) }),
    ).rejects.toThrow(/baseline has shape \[3,1,2,3\]; expected the input's shape \[2,1,2,3\]/);
  });

  test("SmoothGrad = w for any noise, SmoothGrad^2 = w^2, VarGrad = 0", async () => {
    for (const variant of ["mean", "squared", "vargrad"] as const) {
      const r = await smoothGrad(gradient, model, x, 1, {
        samples: 6,
        noise: 0.5,
        variant,
        seed: 3,
      });
      const w = wOf(1);
      const want =
        variant === "mean" ? w : variant === "squared" ? w.map((v) => v * v) : w.map(() => 0);
      expectClose(r.map.dataSync(), want, 1e-5);
    }
  });

  test("occlusion with a 1-pixel window and fill 0 is w * x; windows follow the mean/sum closed forms", async () => {
    const img = s.keep(s.tensor(xv.slice(0, 6), [1, 1, 2, 3]));
    const r = await occlusion(model, img, 0, { window: 1 });
    expectClose(
      r.map.dataSync(),
      W[0].map((w, i) => w * xv[i]),
      1e-6,
    );
    // A 2x2 window, stride 1 on 2x3: windows {0,1,3,4} and {1,2,4,5}; each removes sum w_q x_q.
    const contrib = W[0].map((w, i) => w * xv[i]);
    const win = [
      [0, 1, 3, 4],
      [1, 2, 4, 5],
    ].map((idx) => ({ idx, v: idx.reduce((a, q) => a + contrib[q], 0) }));
    const sum = [0, 1, 2, 3, 4, 5].map((p) =>
      win.filter((w) => w.idx.includes(p)).reduce((a, w) => a + w.v, 0),
    );
    const cnt = [0, 1, 2, 3, 4, 5].map((p) => win.filter((w) => w.idx.includes(p)).length);
    const rs = await occlusion(model, img, 0, { window: 2, aggregation: "sum" });
    expectClose(rs.map.dataSync(), sum, 1e-6);
    const rm = await occlusion(model, img, 0, { window: 2, aggregation: "mean" });
    expectClose(
      rm.map.dataSync(),
      sum.map((v, p) => v / cnt[p]),
      1e-6,
    );
    // Feature ablation on groups: each pixel gets its group's summed contribution.
    const mask = [5, 5, 9, 2, 2, 9];
    const fa = await featureAblation(model, img, 0, { mask });
    const group = (l: number) => mask.reduce((a, m, q) => (m === l ? a + contrib[q] : a), 0);
    expectClose(fa.map.dataSync(), mask.map(group), 1e-6);
  });
});
