/** FAIG against closed forms: one changed filter, a one-weight quadratic, IG completeness. */
import { describe, expect, test } from "vitest";
import { faig, maskEffects, maskFilters, rankFilters } from "../../src/attribution/sr/faig.ts";
import { variableGrads } from "../../src/autodiff/grad.ts";
import type { Variable } from "../../src/autodiff/tensor.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { ReLU } from "../../src/models/nn/activation.ts";
import { Conv2d } from "../../src/models/nn/conv.ts";
import type { Module } from "../../src/models/nn/module.ts";
import { PixelShuffle } from "../../src/models/nn/reshaping.ts";
import { Sequential } from "../../src/models/nn/sequential.ts";
import { mse } from "../../src/models/train/losses.ts";
import { randomUniform, tensor } from "../../src/ops/creation.ts";

const tinySr = (seed: number) =>
  new Sequential(
    new Conv2d(3, 6, 3, { padding: 1, seed }),
    new ReLU(),
    new Conv2d(6, 12, 3, { padding: 1, seed: seed + 1 }),
    new PixelShuffle(2),
  );

const samples = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    input: randomUniform([1, 3, 6, 6], { seed: 10 + i }),
    target: randomUniform([1, 3, 12, 12], { seed: 20 + i }),
  }));

/** Adds `amount` to every weight of one filter (output channel) of a conv layer. */
function perturbFilter(m: Module, layer: string, filter: number, amount: number): void {
  const w = m.stateDict().get(`${layer}.weight`)!;
  const v = Float32Array.from(w.dataSync());
  const per = w.size / w.shape[0];
  for (let i = filter * per; i < (filter + 1) * per; i++) v[i] += amount;
  tidy(() => w.assign(tensor(v, w.shape)));
}

describe("FAIG", () => {
  test("of two networks that differ in one filter ranks that filter first, all others zero", async () => {
    const baseline = tinySr(1);
    const target = tinySr(1);
    perturbFilter(target, "0", 4, 0.3);
    const run = (x: import("../../src/autodiff/tensor.ts").Tensor) => target.call(x);
    const data = samples(2);
    const before = Float32Array.from(target.stateDict().get("0.weight")!.dataSync());
    const r = await faig(target, baseline, run, data, { steps: 8 });
    const top = rankFilters(r.layers);
    expect(top[0]).toMatchObject({ layer: "0", filter: 4 });
    for (const f of top.slice(1)) expect(f.score).toBe(0);
    // The score by hand: the midpoint rule over 8 networks baseline + alpha (target - baseline),
    // each filter weight's gradient averaged over alpha, times its change 0.3, absolute, summed,
    // then averaged over the samples.
    let scoreByHand = 0;
    for (const d of data) {
      const mean = new Float64Array(3 * 3 * 3);
      for (let k = 0; k < 8; k++) {
        const point = tinySr(1);
        perturbFilter(point, "0", 4, 0.3 * ((k + 0.5) / 8));
        const w = point.stateDict().get("0.weight")! as Variable;
        const { value, grads } = variableGrads(() => mse(point.call(d.input), d.target), [w]);
        value.dispose();
        const g = grads.get(w)!.dataSync();
        for (let i = 0; i < mean.length; i++) mean[i] += g[4 * mean.length + i] / 8;
      }
      scoreByHand += mean.reduce((s, v) => s + Math.abs(v * 0.3), 0) / data.length;
    }
    expect(top[0].score).toBeCloseTo(scoreByHand, 5);
    // and the score bounds the signed path integral, which is the loss change up to delta
    expect(top[0].score).toBeGreaterThanOrEqual(
      Math.abs(r.lossTarget - r.lossBaseline + r.delta) * (1 - 1e-6),
    );
    // the target's parameters are restored after the path walk
    expect(Float32Array.from(target.stateDict().get("0.weight")!.dataSync())).toEqual(before);

    // masking the top filter (taking the baseline's values) gives the baseline's output back
    const inputs = data.map((d) => d.input);
    const want =
      tidy(() =>
        inputs.reduce((s, x) => s + mse(target.call(x), baseline.call(x)).dataSync()[0], 0),
      ) / inputs.length;
    const [effect] = await maskEffects(target, baseline, run, inputs, top, [1 / top.length]);
    expect(effect.filters).toBe(1);
    expect(effect.topMse).toBeCloseTo(want, 7);
    const undo = await maskFilters(target, baseline, [{ layer: "0", filter: 4 }]);
    tidy(() => {
      const a = target.call(inputs[0]).dataSync();
      const b = baseline.call(inputs[0]).dataSync();
      a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 6));
    });
    undo();
    expect(Float32Array.from(target.stateDict().get("0.weight")!.dataSync())).toEqual(before);
  });

  test("one weight, quadratic loss: the score is |L(target) - L(baseline)| (midpoint rule exact)", async () => {
    // y = w x with a 1x1 conv and no bias; loss = mean((w x - t)^2)
    const make = (w: number) => {
      const m = new Sequential(new Conv2d(1, 1, 1, { bias: false }));
      tidy(() =>
        m
          .stateDict()
          .get("0.weight")!
          .assign(tensor([w], [1, 1, 1, 1])),
      );
      return m;
    };
    const target = make(2);
    const baseline = make(0.5);
    const x = [1, -2, 3, 0.5];
    const t = [1, 1, 2, -1];
    const input = tensor(x, [1, 1, 2, 2]);
    const y = tensor(t, [1, 1, 2, 2]);
    const L = (w: number) => x.reduce((s, xi, i) => s + (w * xi - t[i]) ** 2, 0) / x.length;
    const r = await faig(target, baseline, (z) => target.call(z), [{ input, target: y }], {
      steps: 3,
    });
    expect(r.lossTarget).toBeCloseTo(L(2), 5);
    expect(r.lossBaseline).toBeCloseTo(L(0.5), 5);
    expect(r.layers[0].scores[0]).toBeCloseTo(Math.abs(L(2) - L(0.5)), 4);
    expect(r.delta).toBeCloseTo(0, 4);
  });

  test("completeness: signed integrated gradients sum to the loss change", async () => {
    const baseline = tinySr(3);
    const target = tinySr(7);
    const r = await faig(target, baseline, (z) => target.call(z), samples(1), { steps: 64 });
    // the two losses are the mean squared errors of each network, by hand
    const [d] = samples(1);
    const mseOf = (m: Module) => {
      const y = Array.from(m.call(d.input).dataSync());
      const t = d.target.dataSync();
      return y.reduce((s, v, i) => s + (v - t[i]) ** 2, 0) / y.length;
    };
    expect(r.lossTarget).toBeCloseTo(mseOf(target), 6);
    expect(r.lossBaseline).toBeCloseTo(mseOf(baseline), 6);
    const change = r.lossTarget - r.lossBaseline;
    expect(Math.abs(change)).toBeGreaterThan(1e-3);
    expect(Math.abs(r.delta)).toBeLessThan(0.02 * Math.abs(change));
  });

  test("bad input is refused with what was expected", async () => {
    const a = tinySr(1);
    const b = new Sequential(new Conv2d(3, 5, 3, { padding: 1 }));
    await expect(faig(a, b, (z) => a.call(z), samples(1))).rejects.toThrow(/same architecture/);
    await expect(faig(a, tinySr(2), (z) => a.call(z), [])).rejects.toThrow(/at least one sample/);
    await expect(faig(a, tinySr(2), (z) => a.call(z), samples(1), { steps: 0 })).rejects.toThrow(
      /steps must be a positive integer/,
    );
  });
});
