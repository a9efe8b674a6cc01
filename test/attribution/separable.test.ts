/**
 * For an additively separable f(x) = sum_i g(x_i), every path method gives g(x_i) - g(x'_i) per
 * pixel (Integrated Gradients, Sundararajan et al. 2017; Blur IG, Xu et al. CVPR 2020, as PAIR
 * saliency's blur_ig test checks); SmoothGrad (Smilkov et al. 2017) and VarGrad (Adebayo et al.
 * 2018) of a quadratic have closed-form mean and variance.
 */
import { describe, expect, test } from "vitest";
import { blurIg, gradient, integratedGradients, smoothGrad } from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { expectClose, scipyBlur } from "./helpers.ts";

const H = 10;
const W = 12;
const sinModel = (x: s.Tensor) => s.sum(s.sin(x), [1, 2, 3], true);
const img = Array.from({ length: H * W }, (_, p) => {
  const y = Math.floor(p / W);
  const x = p % W;
  return 1.5 * Math.sin(0.7 * x) * Math.cos(0.45 * y) + 0.4 * ((x * 7 + y * 3) % 5) - 0.6;
});

describe("additively separable f = sum sin(x_i)", () => {
  test("IG gives sin(x_i) - sin(x'_i) per pixel", async () => {
    const x = s.tensor(img, [1, 1, H, W]);
    const base = img.map((v) => 0.3 * v - 0.2);
    const r = await integratedGradients(sinModel, x, 0, {
      baseline: s.tensor(base, [1, 1, H, W]),
      steps: 16,
    });
    expectClose(
      r.map.dataSync(),
      img.map((v, i) => Math.sin(v) - Math.sin(base[i])),
      2e-5,
    );
  });

  test("Blur IG gives sin(x_i) - sin(blur(x, sigma_max)_i) per pixel (PAIR's test), linear and sqrt schedules", async () => {
    const x = s.tensor(img, [1, 1, H, W]);
    for (const sqrt of [false, true]) {
      const sigmaMax = sqrt ? 4 : 2.5;
      const r = await blurIg(sinModel, x, 0, { sigmaMax, steps: 400, sqrt, batchSize: 100 });
      const baseline = scipyBlur(img, 1, H, W, sqrt ? Math.sqrt(sigmaMax) : sigmaMax);
      const want = img.map((v, i) => Math.sin(v) - Math.sin(baseline[i]));
      expectClose(r.map.dataSync(), want, 0.02);
      // Completeness to the blurred baseline: the delta is the discretisation error only.
      const total = want.reduce((a, b) => a + b, 0);
      expect(Math.abs(r.delta![0])).toBeLessThan(0.02 * Math.abs(total) + 0.05);
      expect(r.details.sigmas[400]).toBeCloseTo(sqrt ? 2 : 2.5, 12);
    }
  });

  test("Blur IG with PAIR's defaults (sigma_max 50, 100 steps) blurs to near the zero border baseline", async () => {
    const x = s.tensor(img, [1, 1, H, W]);
    const r = await blurIg(sinModel, x, 0, { batchSize: 50 });
    const baseline = scipyBlur(img, 1, H, W, 50);
    const want = img.map((v, i) => Math.sin(v) - Math.sin(baseline[i]));
    // Coarse steps near sigma = 0 (width 0.5) leave a visible but bounded discretisation error.
    const total = want.reduce((a, b) => a + b, 0);
    const sum = Array.from(r.map.dataSync()).reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - total)).toBeLessThan(0.1 * Math.abs(total));
    expect(r.details.baselineScores[0]).toBeCloseTo(
      baseline.reduce((a, v) => a + Math.sin(v), 0),
      4,
    );
  });

  test("quadratic f = sum a_i x_i^2: SmoothGrad -> 2 a x, VarGrad -> 4 a^2 sigma^2 (fixed seed)", async () => {
    const a = [0.5, -1, 2, 1.5, -0.25, 1, 0.75, -2, 1.25];
    const xv = [0.3, -0.8, 0.5, 1.2, -0.4, 0.9, -1.1, 0.2, 0.6];
    const A = s.keep(s.tensor(a, [1, 1, 3, 3]));
    const quad = (x: s.Tensor) => s.sum(s.mul(A, s.square(x)), [1, 2, 3], true);
    const x = s.tensor(xv, [1, 1, 3, 3]);
    const sigma = 0.5;
    const S = 4000;
    const opts = {
      samples: S,
      noise: sigma,
      noiseType: "absolute" as const,
      seed: 11,
      batchSize: 1000,
    };
    const sg = await smoothGrad(gradient, quad, x, 0, opts);
    // The sample mean of 2 a (x + e) has standard deviation 2 |a| sigma / sqrt(S): allow 5 of them.
    const sgv = sg.map.dataSync();
    a.forEach((ai, i) => {
      expect(Math.abs(sgv[i] - 2 * ai * xv[i])).toBeLessThan(
        (5 * 2 * Math.abs(ai) * sigma) / Math.sqrt(S),
      );
    });
    const vg = await smoothGrad(gradient, quad, x, 0, { ...opts, variant: "vargrad" });
    // The sample variance has relative standard deviation sqrt(2 / S) (2.2%): allow 12%.
    const vgv = vg.map.dataSync();
    a.forEach((ai, i) => {
      const want = 4 * ai * ai * sigma * sigma;
      expect(Math.abs(vgv[i] - want)).toBeLessThan(0.12 * want);
    });
    // Relative noise: sigma = 0.15 * (max - min) of the example.
    const rel = await smoothGrad(gradient, quad, x, 0, { samples: 2, seed: 1 });
    expect(rel.details.sigmas[0]).toBeCloseTo(0.15 * (1.2 - -1.1), 6);
  });
});
