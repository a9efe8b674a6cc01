/**
 * Metrics with known answers: infidelity (Yeh et al., NeurIPS 2019), deletion and insertion
 * (Petsiuk et al., BMVC 2018), the pointing game (Zhang et al., ECCV 2016), ROAD (Rong et al.,
 * ICML 2022), and localisation against a mask (NN-Explainer: Stalder et al., NeurIPS 2022).
 */
import { describe, expect, test } from "vitest";
import {
  curveAuc,
  deletionAuc,
  gradient,
  infidelity,
  insertionAuc,
  integratedGradients,
  localisation,
  maxSensitivity,
  noisyLinearImpute,
  pointingGame,
  road,
  spearman,
} from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { expectClose } from "./helpers.ts";

describe("infidelity (Yeh et al. 2019)", () => {
  const net = (x: s.Tensor) =>
    s.sum(s.mul(s.tanh(x), s.reshape(s.tensor([1, -2, 0.5, 3]), [1, 1, 2, 2])), [1, 2, 3], true);
  const x = s.keep(s.tensor([0.3, -0.8, 1.1, 0.4, -0.2, 0.9, 0.1, -1.3], [2, 1, 2, 2]));

  test("with I = x - x', infidelity equals the IG completeness delta squared", async () => {
    const ig = await integratedGradients(net, x, 0, { steps: 3, quadrature: "riemann-left" });
    // Baseline 0: I = x - 0, and the input-multiplied IG map is divided by x - 0 in the dot product.
    const infd = await infidelity(net, x, 0, ig.map, {
      perturb: (t) => s.add(t, 0),
      samples: 3,
      baseline: 0,
    });
    ig.delta!.forEach((d, i) => expect(infd[i]).toBeCloseTo(d * d, 6));
    expect(Math.abs(ig.delta![0])).toBeGreaterThan(1e-3);
  });

  test("normalised infidelity is invariant to rescaling the map; plain infidelity is not", async () => {
    const g = await gradient(net, x, 0);
    const scaled = s.mul(g.map, 7);
    const a = await infidelity(net, x, 0, g.map, { normalize: true, seed: 4 });
    const b = await infidelity(net, x, 0, scaled, { normalize: true, seed: 4 });
    expectClose(b, a, 1e-9 + 1e-6 * Math.max(...a));
    const c = await infidelity(net, x, 0, scaled, { seed: 4 });
    expect(c[0]).toBeGreaterThan(10 * (await infidelity(net, x, 0, g.map, { seed: 4 }))[0]);
  });
});

describe("deletion and insertion (Petsiuk et al. 2018)", () => {
  // The score is the fraction of the k "important" pixels not yet deleted (image of ones).
  const H = 6;
  const W = 5;
  const important = [3, 7, 12, 20, 28];
  const k = important.length;
  const ind = s.keep(
    s.tensor(
      Float32Array.from({ length: H * W }, (_, p) => (important.includes(p) ? 1 / k : 0)),
      [1, 1, H, W],
    ),
  );
  const frac = (x: s.Tensor) => s.sum(s.mul(x, ind), [1, 2, 3], true);
  const x = s.keep(s.ones([1, 1, H, W]));

  test("a perfect saliency map gives the analytic AUC k / (2n) at one pixel per step", async () => {
    const perfect = s.tensor(
      Float32Array.from({ length: H * W }, (_, p) => (important.includes(p) ? 2 + p : 0)),
      [1, 1, H, W],
    );
    const r = await deletionAuc(frac, x, 0, perfect, { pixelsPerStep: 1 });
    const n = H * W;
    expect(r.curves[0].length).toBe(n + 1);
    expectClose(r.curves[0].slice(0, k + 2), [1, 0.8, 0.6, 0.4, 0.2, 0, 0], 1e-6);
    expect(r.auc[0]).toBeCloseTo(k / (2 * n), 6);
    // Insertion from a zero substrate with the same order is the mirror image: 1 - k / (2n).
    const ins = await insertionAuc(frac, x, 0, perfect, { pixelsPerStep: 1, substrate: 0 });
    expect(ins.auc[0]).toBeCloseTo(1 - k / (2 * n), 6);
  });

  test("a random saliency on a constant model gives AUC = the constant; steps of W pixels by default", async () => {
    const constant = (t: s.Tensor) => s.add(s.mul(s.sum(t, [1, 2, 3], true), 0), 0.37);
    const r = await deletionAuc(constant, x, 0, s.randomUniform([1, 1, H, W], { seed: 3 }));
    expect(r.curves[0].length).toBe(H + 1);
    expect(r.auc[0]).toBeCloseTo(0.37, 6);
    expect(curveAuc([1, 0])).toBe(0.5);
  });
});

describe("pointing game (Zhang et al. 2016)", () => {
  test("mask points 14, 15 and 16 px from the maximum: hit, miss, miss at tolerance 15 (strict <)", () => {
    const H = 40;
    const W = 40;
    const sal = new Float32Array(H * W);
    sal[20 * W + 5] = 1;
    const at = (d: number) => {
      const mask = new Uint8Array(H * W);
      mask[20 * W + 5 + d] = 1;
      return pointingGame(sal, mask, H, W, { tolerance: 15 });
    };
    expect(at(14).hit).toBe(true);
    expect(at(15).hit).toBe(false);
    expect(at(16).hit).toBe(false);
    expect(at(14).point).toEqual([20, 5]);
    // Diagonal: (10, 11) is sqrt(221) = 14.87 < 15 away.
    const mask = new Uint8Array(H * W);
    mask[30 * W + 16] = 1;
    expect(pointingGame(sal, mask, H, W).hit).toBe(true);
    expect(pointingGame(sal, mask, H, W, { tolerance: 0 }).hit).toBe(false);
  });
});

describe("ROAD (Rong et al. 2022)", () => {
  test("imputing an interior hole of a linear ramp (noise 0) reproduces the ramp exactly; borders do not", () => {
    const H = 9;
    const W = 10;
    const ramp = Float32Array.from({ length: 2 * H * W }, (_, i) => {
      const c = Math.floor(i / (H * W));
      const p = i % (H * W);
      return c === 0 ? 0.3 * (p % W) - 0.2 * Math.floor(p / W) + 1 : -0.1 * (p % W) + 0.5;
    });
    const known = new Uint8Array(H * W).fill(1);
    for (let y = 2; y <= 6; y++) for (let x = 3; x <= 7; x++) known[y * W + x] = 0;
    known[5 * W + 2] = 0;
    const out = noisyLinearImpute(ramp, 2, H, W, known, { noise: 0 });
    expectClose(out, ramp, 1e-5);
    const border = new Uint8Array(H * W).fill(1);
    for (let y = 0; y <= 2; y++) for (let x = 0; x <= 2; x++) border[y * W + x] = 0;
    const b = noisyLinearImpute(ramp, 2, H, W, border, { noise: 0 });
    expect(Math.abs(b[0] - ramp[0])).toBeGreaterThan(0.05);
    // ...yet every imputed pixel is still the weighted mean of its in-image neighbours (ROAD's
    // weights: 1/6 for the 4 direct neighbours, 1/12 for the diagonals).
    const neighbours: [number, number, number][] = [
      [0, 1, 1 / 6],
      [0, -1, 1 / 6],
      [1, 0, 1 / 6],
      [-1, 0, 1 / 6],
      [1, 1, 1 / 12],
      [1, -1, 1 / 12],
      [-1, 1, 1 / 12],
      [-1, -1, 1 / 12],
    ];
    for (let c = 0; c < 2; c++)
      for (let y = 0; y <= 2; y++)
        for (let x = 0; x <= 2; x++) {
          let sum = 0;
          let weight = 0;
          for (const [dy, dx, w] of neighbours) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || xx < 0 || yy >= H || xx >= W) continue;
            sum += w * b[c * H * W + yy * W + xx];
            weight += w;
          }
          expect(b[c * H * W + y * W + x]).toBeCloseTo(sum / weight, 5);
        }
    // Noise is added only at imputed pixels: known pixels keep their values exactly.
    const noisy = noisyLinearImpute(ramp, 2, H, W, known, { noise: 0.5, seed: 1 });
    for (let p = 0; p < 2 * H * W; p++) {
      if (known[p % (H * W)]) expect(noisy[p]).toBe(ramp[p]);
      else expect(noisy[p]).not.toBe(out[p]);
    }
  });

  test("ROAD on a model that reads the imputed region: MoRF removes the read pixels, LeRF keeps them", async () => {
    // f = sum of the centre 2x2 of a 6x6 image of a ramp (harmonic) plus a bump at the centre.
    const H = 6;
    const W = 6;
    const centre = [14, 15, 20, 21];
    const img = Array.from({ length: 36 }, (_, p) => 0.1 * (p % W) + (centre.includes(p) ? 2 : 0));
    const pick = s.keep(
      s.tensor(
        Float32Array.from({ length: 36 }, (_, p) => (centre.includes(p) ? 1 : 0)),
        [1, 1, H, W],
      ),
    );
    const model = (x: s.Tensor) => s.sum(s.mul(x, pick), [1, 2, 3], true);
    const x = s.tensor(img, [1, 1, H, W]);
    const map = s.tensor(
      Float32Array.from({ length: 36 }, (_, p) => (centre.includes(p) ? 1 : 0)),
      [1, 1, H, W],
    );
    const morf = await road(model, x, 0, map, { fractions: [4 / 36], noise: 0 });
    const lerf = await road(model, x, 0, map, { fractions: [4 / 36], noise: 0, order: "lerf" });
    // MoRF imputes the bump away: the centre follows the ramp, 0.1 * (2 + 3 + 2 + 3) = 1.
    expect(morf.scores[0][0]).toBeCloseTo(1, 5);
    expect(morf.base[0]).toBeCloseTo(9, 5);
    expect(lerf.scores[0][0]).toBeCloseTo(9, 5);
  });
});

describe("max-sensitivity and rank correlation", () => {
  test("with deterministic perturbations d_s = s * 0.01, f = sum x^2 / 2 gives max_s ||d_s|| / ||x||", async () => {
    const f = (x: s.Tensor) => s.mul(s.sum(s.square(x), [1, 2, 3], true), 0.5);
    const x = s.tensor([0.6, -0.8, 0, 0], [1, 1, 2, 2]);
    const sens = await maxSensitivity(async (v) => (await gradient(f, v, 0)).map, x, {
      samples: 4,
      perturb: (t, _rng, k) => s.fillLike(t, 0.01 * k),
    });
    expect(sens[0]).toBeCloseTo((0.03 * 2) / 1, 6);
    const lin = (v: s.Tensor) => s.sum(s.mul(v, 3), [1, 2, 3], true);
    expect((await maxSensitivity(async (v) => (await gradient(lin, v, 0)).map, x))[0]).toBe(0);
  });

  test("Spearman: 1 for any increasing map, -1 for decreasing, average ranks for ties", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 35, 100])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // Ranks [1.5, 1.5, 3] vs [1, 2, 3]: r = 0.866...
    expect(spearman([5, 5, 7], [1, 2, 3])).toBeCloseTo(Math.sqrt(3) / 2, 12);
  });
});

describe("localisation against a mask (NN-Explainer's constant baselines)", () => {
  const mask = Array.from({ length: 20 }, (_, i) => (i < 5 ? 1 : 0));
  const a = 5 / 20;
  test("map '1' gives IoU = a, F1 = 2a / (1 + a), overlap = a; map '0' gives 0, 0, 1 - a; 'perfect' gives 1", () => {
    const one = localisation(
      mask.map(() => 1),
      mask,
    );
    expect(one.iou.every((v) => Math.abs(v - a) < 1e-12)).toBe(true);
    expect(one.meanF1).toBeCloseTo((2 * a) / (1 + a), 12);
    expect(one.continuousIoU).toBeCloseTo(a, 12);
    expect(one.overlap).toBeCloseTo(a, 12);
    const zero = localisation(
      mask.map(() => 0),
      mask,
    );
    expect(zero.meanIoU).toBe(0);
    expect(zero.meanF1).toBe(0);
    expect(zero.continuousIoU).toBe(0);
    expect(zero.overlap).toBeCloseTo(1 - a, 12);
    const perfect = localisation(mask, mask);
    expect(perfect.meanIoU).toBe(1);
    expect(perfect.meanF1).toBe(1);
    expect(perfect.continuousIoU).toBe(1);
    expect(perfect.continuousF1).toBe(1);
    expect(perfect.overlap).toBe(1);
    expect(perfect.softAccuracy).toBe(1);
  });

  test("a half-strength map: IoU is 1 below the 0.5 threshold and 0 above; continuous IoU = 0.5", () => {
    const half = localisation(
      mask.map((m) => m * 0.5),
      mask,
      { normalise: "none" },
    );
    expect(half.iou).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0]);
    expect(half.continuousIoU).toBeCloseTo(0.5, 12);
    expect(half.continuousF1).toBeCloseTo((2 * 2.5) / (2.5 + 5), 12);
  });
});
