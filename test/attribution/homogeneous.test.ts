/**
 * A bias-free ReLU / max-pool network is positively homogeneous (f(a x) = a f(x) for a > 0), so by
 * Euler's theorem gradient x input is complete and IG from 0 equals it (Ancona et al., "Towards
 * better understanding of gradient-based attribution methods", ICLR 2018); and the presets.
 */
import { describe, expect, test } from "vitest";
import {
  gradient,
  inputXGradient,
  integratedGradients,
  lrp,
  occlusion,
  PRESETS,
  quadrature,
  smoothGrad,
} from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from "../../src/models/nn/index.ts";
import { expectClose } from "./helpers.ts";

const net = new Sequential(
  new Conv2d(2, 5, 3, { padding: 1, bias: false, seed: 41 }),
  new ReLU(),
  new MaxPool2d({ kernel: 2 }),
  new Conv2d(5, 4, 3, { padding: 1, bias: false, seed: 42 }),
  new ReLU(),
  new Flatten(),
  new Linear(4 * 3 * 3, 3, { bias: false, seed: 43 }),
);
const model = (x: s.Tensor) => net.call(x);
const x = s.keep(s.randomUniform([2, 2, 6, 6], { seed: 44, low: -1, high: 1 }));
const sum = (v: ArrayLike<number>, from: number, to: number) => {
  let t = 0;
  for (let i = from; i < to; i++) t += v[i];
  return t;
};

describe("bias-free ReLU network (Euler's theorem)", () => {
  test("Euler: sum of x * grad f = f(x) per example", async () => {
    const r = await inputXGradient(model, x, [0, 2]);
    const v = r.map.dataSync();
    expect(sum(v, 0, 72)).toBeCloseTo(r.details.scores[0], 5);
    expect(sum(v, 72, 144)).toBeCloseTo(r.details.scores[1], 5);
    expect(Math.abs(r.details.scores[0])).toBeGreaterThan(1e-3);
  });

  test("IG from 0 with right, middle or Gauss-Legendre nodes equals gradient x input at any n", async () => {
    const ixg = Array.from((await inputXGradient(model, x, [0, 2])).map.dataSync());
    for (const rule of ["riemann-right", "riemann-middle", "gausslegendre"] as const) {
      for (const steps of [1, 3]) {
        const r = await integratedGradients(model, x, [0, 2], { quadrature: rule, steps });
        expectClose(r.map.dataSync(), ixg, 1e-5);
      }
    }
  });

  test("grids that include alpha = 0 lose the node's 1/n share (ReLU'(0) = 0 at the zero input)", async () => {
    const ixg = Array.from((await inputXGradient(model, x, [0, 2])).map.dataSync());
    const n = 4;
    const left = await integratedGradients(model, x, [0, 2], {
      quadrature: "riemann-left",
      steps: n,
    });
    expectClose(
      left.map.dataSync(),
      ixg.map((v) => v * (1 - 1 / n)),
      1e-5,
    );
    // PAIR's linspace(0, 1, n) with weights 1/n: the same loss, (n - 1)/n.
    const pair = await integratedGradients(model, x, [0, 2], PRESETS.pair.integratedGradients);
    const n2 = PRESETS.pair.integratedGradients.steps!;
    expect(quadrature("linspace", n2).nodes[0]).toBe(0);
    expectClose(
      pair.map.dataSync(),
      ixg.map((v) => v * (1 - 1 / n2)),
      1e-5,
    );
  });
});

describe("presets reproduce the libraries' defaults", () => {
  test("captum: |gradient|, absolute noise 1.0 with 5 samples; pair: summed occlusion of size 15", async () => {
    const g = await gradient(model, x, 1);
    const a = await gradient(model, x, 1, PRESETS.captum.gradient);
    expect(Array.from(a.map.dataSync())).toEqual(Array.from(g.map.dataSync(), Math.abs));
    const sg = await smoothGrad(gradient, model, x, 1, { ...PRESETS.captum.smoothGrad, seed: 1 });
    expect(sg.details.samples).toBe(5);
    expect(sg.details.sigmas).toEqual([1, 1]);
    const big = s.randomUniform([1, 1, 16, 16], { seed: 2 });
    const three = (t: s.Tensor) => s.mul(s.sum(t, [1, 2, 3], true), 3);
    const r = await occlusion(three, big, 0, PRESETS.pair.occlusion);
    expect(r.details.window).toEqual([15, 15]);
    expect(r.details.positions).toEqual([2, 2]);
    // Corner pixel (0, 0) is covered by one window only; summed, it gets 3 * sum of that window.
    const bv = big.dataSync();
    let w00 = 0;
    for (let y = 0; y < 15; y++) for (let xx = 0; xx < 15; xx++) w00 += bv[y * 16 + xx];
    expect(r.map.dataSync()[0]).toBeCloseTo(3 * w00, 3);
    // SmoothGrad with the captum preset on the linear f = 3 sum(x): every noisy gradient is 3,
    // so the mean over the 5 samples is exactly 3 at every pixel, whatever the noise.
    const sgLinear = await smoothGrad(gradient, three, big, 0, {
      ...PRESETS.captum.smoothGrad,
      seed: 1,
    });
    expect(sgLinear.details.samples).toBe(5);
    for (const v of sgLinear.map.dataSync()) expect(v).toBeCloseTo(3, 5);
  });
});

describe("LRP through the rule sets (LRP-0 = gradient x input on ReLU nets, Ancona et al. 2018)", () => {
  test("LRP-0 equals gradient x input; relevance is conserved without biases and not with them", async () => {
    const ixg = await inputXGradient(model, x, [0, 2]);
    const r0 = await lrp(model, x, [0, 2], { epsilon: 0 });
    expectClose(r0.map.dataSync(), ixg.map.dataSync(), 1e-5);
    r0.details.totals.forEach((t, i) => expect(t).toBeCloseTo(r0.details.scores[i], 4));
    const biased = new Sequential(
      new Conv2d(2, 4, 3, { padding: 1, seed: 51 }),
      new ReLU(),
      new Flatten(),
      new Linear(4 * 6 * 6, 3, { seed: 52 }),
    );
    const bm = (v: s.Tensor) => biased.call(v);
    const lb = await lrp(bm, x, 1, { epsilon: 0 });
    expectClose(lb.map.dataSync(), (await inputXGradient(bm, x, 1)).map.dataSync(), 1e-5);
    expect(Math.abs(lb.details.totals[0] - lb.details.scores[0])).toBeGreaterThan(1e-3);
    // LRP-epsilon with a large epsilon absorbs relevance: the total shrinks towards 0.
    const big = await lrp(model, x, [0, 2], { epsilon: 100 });
    expect(Math.abs(big.details.totals[0])).toBeLessThan(Math.abs(r0.details.totals[0]));
  });
});
