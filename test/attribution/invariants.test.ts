/**
 * Engineering invariants: batch-size invariance of batched methods,
 * batch = per-example attribution, seeded reproducibility, inputs never mutated, no leaked tensors.
 */
import { describe, expect, test } from "vitest";
import {
  blurIg,
  classModelVisualization,
  gradCam,
  gradient,
  integratedGradients,
  occlusion,
  smoothGrad,
} from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from "../../src/models/nn/index.ts";
import { expectClose } from "./helpers.ts";

const net = new Sequential(
  new Conv2d(2, 4, 3, { padding: 1, seed: 31 }),
  new ReLU(),
  new MaxPool2d({ kernel: 2 }),
  new Flatten(),
  new Linear(4 * 4 * 4, 3, { seed: 32 }),
);
const model = (x: s.Tensor) => net.call(x);
const x = s.keep(s.randomNormal([3, 2, 8, 8], { seed: 33 }));
const targets = [2, 0, 1];
const arr = (t: s.Tensor) => Array.from(t.dataSync());

describe("invariants", () => {
  test("IG, Blur IG and SmoothGrad give identical maps for any batch size", async () => {
    const ig = async (batchSize: number) =>
      integratedGradients(model, x, targets, { steps: 7, batchSize });
    const ref = await ig(1);
    for (const b of [2, 5, 100]) {
      const r = await ig(b);
      expect(arr(r.map)).toEqual(arr(ref.map));
      expect(r.delta).toEqual(ref.delta);
    }
    const bi = async (batchSize: number) =>
      blurIg(model, x, targets, { steps: 6, sigmaMax: 3, batchSize });
    expect(arr((await bi(4)).map)).toEqual(arr((await bi(1)).map));
    const sg = async (batchSize: number) =>
      smoothGrad(gradient, model, x, targets, { samples: 5, seed: 4, batchSize });
    expect(arr((await sg(3)).map)).toEqual(arr((await sg(1000)).map));
  });

  test("attributing a batch with per-example targets equals attributing each example", async () => {
    const all = await integratedGradients(model, x, targets, { steps: 5 });
    const cam = await gradCam(model, x, targets, { layer: "1" });
    const per = x.size / 3;
    for (let i = 0; i < 3; i++) {
      const xi = s.slice(x, [i], [1]);
      const one = await integratedGradients(model, xi, targets[i], { steps: 5 });
      expectClose(one.map.dataSync(), arr(all.map).slice(i * per, (i + 1) * per), 1e-6);
      expect(one.delta![0]).toBeCloseTo(all.delta![i], 5);
      const c = await gradCam(model, xi, targets[i], { layer: "1" });
      expectClose(c.map.dataSync(), arr(cam.map).slice(i * 64, (i + 1) * 64), 1e-6);
    }
  });

  test("seeded methods are reproducible, and a different seed changes them", async () => {
    const a = await smoothGrad(gradient, model, x, 1, { samples: 3, seed: 7 });
    const b = await smoothGrad(gradient, model, x, 1, { samples: 3, seed: 7 });
    const c = await smoothGrad(gradient, model, x, 1, { samples: 3, seed: 8 });
    expect(arr(a.map)).toEqual(arr(b.map));
    expect(arr(a.map)).not.toEqual(arr(c.map));
  });

  test("inputs are not mutated; repeated attributions leave no tensors behind", async () => {
    const before = arr(x);
    const start = s.zeros([1, 2, 8, 8]);
    const run = async () => {
      for (const r of [
        await integratedGradients(model, x, targets, { steps: 4, batchSize: 2 }),
        await smoothGrad(integratedGradients, model, x, targets, {
          samples: 2,
          methodOptions: { steps: 2 },
        }),
        await gradCam(model, x, 0, { layer: "1" }),
        await occlusion(model, x, 1, { window: 3, stride: 2 }),
        await blurIg(model, x, 1, { steps: 3, sigmaMax: 2 }),
        await classModelVisualization(model, start, 0, { steps: 3 }),
      ]) {
        r.map.dispose();
      }
    };
    await run();
    const live = s.memory().tensors;
    for (let i = 0; i < 3; i++) await run();
    expect(s.memory().tensors).toBe(live);
    expect(arr(x)).toEqual(before);
  });

  test("bad inputs and targets are clear errors", async () => {
    const nan = s.tensor([1, Number.NaN, 2, 3], [1, 1, 2, 2]);
    await expect(gradient(model, nan, 0)).rejects.toThrow(/input contains NaN at flat index 1/);
    await expect(gradient(model, x, [0, 1])).rejects.toThrow(
      /2 entries but the input has 3 examples/,
    );
    await expect(gradient(model, x, 3)).rejects.toThrow(
      /index is 3, but the model output has 3 entries/,
    );
    await expect(integratedGradients(model, x, 0, { steps: 0 })).rejects.toThrow(
      /positive integer/,
    );
    await expect(occlusion(model, x, 0, { window: 9 })).rejects.toThrow(
      /window height must be an integer in \[1, 8\]/,
    );
    await expect(gradient(model, x, (o) => o)).rejects.toThrow(/expected one score per row, \[3\]/);
  });
});

describe("class model visualisation (Simonyan et al.)", () => {
  test("for a linear score w . I, ascent gives I_t = w / (2 lambda) (1 - (1 - 2 lambda lr)^t) exactly", async () => {
    const w = [0.5, -1, 2, 0.25];
    const lin = (t: s.Tensor) =>
      s.linear(s.reshape(t, [t.shape[0], -1]), s.tensor([w, w.map((v) => -v)]));
    const l2 = 0.1;
    const lr = 0.5;
    const steps = 12;
    const r = await classModelVisualization(lin, s.zeros([1, 1, 2, 2]), 0, { steps, lr, l2 });
    const f = 1 - (1 - 2 * l2 * lr) ** steps;
    expectClose(
      r.map.dataSync(),
      w.map((v) => (v / (2 * l2)) * f),
      1e-5,
    );
    // The score rises monotonically and the objective matches S - lambda |I|^2.
    const sc = r.details.scores[0];
    expect(sc.length).toBe(steps + 1);
    for (let t = 1; t < sc.length; t++) expect(sc[t]).toBeGreaterThan(sc[t - 1]);
    const I = w.map((v) => (v / (2 * l2)) * f);
    const S = I.reduce((a, v, i) => a + v * w[i], 0);
    expect(r.details.objective[0]).toBeCloseTo(S - l2 * I.reduce((a, v) => a + v * v, 0), 4);
    const clipped = await classModelVisualization(lin, s.zeros([1, 1, 2, 2]), 0, {
      steps,
      lr,
      l2,
      clip: [0, 1],
    });
    expect(Math.min(...clipped.map.dataSync())).toBe(0);
    expect(Math.max(...clipped.map.dataSync())).toBe(1);
  });
});
