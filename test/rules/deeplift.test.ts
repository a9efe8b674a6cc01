/** DeepLIFT (Rescale) and DeepLiftShap: closed forms, summation-to-delta, and a PyTorch reference. */
import { readFileSync } from "node:fs";
import { describe, expect, test, vi } from "vitest";
import { deepLift, deepLiftShap } from "../../src/attribution/methods/deeplift.ts";
import * as s from "../../src/index.ts";
import { loadFashionCnn } from "../../src/models/classifiers/fashion-cnn.ts";
import { deepLiftRules } from "../../src/rules/deeplift.ts";
import { seeded } from "./lrp-reference.ts";

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number) {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i])).toBeLessThan(tol * scale);
  }
}

describe("closed forms", () => {
  test("one sigmoid unit: the map is sigmoid(w x) - sigmoid(w x0), exactly the score difference", async () => {
    const w = 1.7;
    const model = (v: s.Tensor) => s.sigmoid(s.mul(v, w));
    const r = await deepLift(model, s.tensor([[0.8], [-0.3]]), 0, { baseline: 0.25 });
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    expectClose(
      await r.map.data(),
      [sig(w * 0.8) - sig(w * 0.25), sig(-w * 0.3) - sig(w * 0.25)],
      1e-6,
    );
  });

  test("zero baseline on a bias-free ReLU net: DeepLIFT = gradient x input", async () => {
    const rnd = seeded(3);
    const m = (r: number, c: number) =>
      Array.from({ length: r }, () => Array.from({ length: c }, () => rnd()));
    const W1 = s.tensor(m(6, 4));
    const W2 = s.tensor(m(5, 6));
    const W3 = s.tensor(m(3, 5));
    const net = (v: s.Tensor) => s.linear(s.relu(s.linear(s.relu(s.linear(v, W1)), W2)), W3);
    const x = s.tensor(m(3, 4));
    for (const t of [0, 2]) {
      const dl = await deepLift(net, x, t);
      const gxi = await s.inputXGradient(net, x, t);
      expectClose(await dl.map.data(), await gxi.map.data(), 1e-5);
    }
  });

  test("summation-to-delta holds to rounding on a net with biases, tanh and sigmoid", async () => {
    const rnd = seeded(9);
    const m = (r: number, c: number) =>
      Array.from({ length: r }, () => Array.from({ length: c }, () => rnd()));
    const W1 = s.tensor(m(5, 4));
    const b1 = s.tensor(m(1, 5)[0]);
    const W2 = s.tensor(m(3, 5));
    const net = (v: s.Tensor) => s.linear(s.tanh(s.sigmoid(s.linear(v, W1, b1))), W2);
    const r = await deepLift(net, s.tensor(m(2, 4)), [1, 2], { baseline: 0.3 });
    const f = r.details.scores.map((v, i) => v - r.details.baselineScores[i]);
    for (const [i, d] of (r.delta ?? []).entries())
      expect(Math.abs(d)).toBeLessThan(1e-5 * Math.max(1, Math.abs(f[i])));
  });

  test("the Rescale rules refuse a batch that is not [inputs; references]", () => {
    expect(() =>
      s.withRules(deepLiftRules(), () =>
        s.vjp((v: s.Tensor) => s.relu(v), [s.tensor([[1], [2], [3]])], s.tensor([[1], [1], [1]])),
      ),
    ).toThrow(
      /deeplift: relu saw a batch of 3 rows; the Rescale rule needs \[inputs; references\]/,
    );
  });
});

describe("max pooling (Captum's maxpool rule)", () => {
  test("one 2x2 window whose reference wins: the pooled delta goes to the reference's argmax", async () => {
    // y = max(1, 3, 2, 0) = 3, y0 = max(4, 0, 0, 0) = 4, so max(y, y0) = 4: the input's winner gets
    // dy * (4 - 4) = 0 and the reference's winner (0, 0) gets dy * (3 - 4) = -1; its multiplier is
    // -1 / (1 - 4), so the map there is -1 = y - y0. (1, 1) has x = x0 (the gradient, 0 off the
    // winner); the plain gradient would have given [[0, 3], [0, 0]] instead.
    const pool = (v: s.Tensor) => s.reshape(s.maxPool2d(v, { kernel: 2 }), [v.shape[0], 1]);
    const x = s.tensor([1, 3, 2, 0], [1, 1, 2, 2]);
    const x0 = s.tensor([4, 0, 0, 0], [1, 1, 2, 2]);
    const r = await deepLift(pool, x, 0, { baseline: x0 });
    expectClose(await r.map.data(), [-1, 0, 0, 0], 1e-6);
    expect(Math.abs(r.delta?.[0] ?? 1)).toBeLessThan(1e-6);
  });

  test("the input's winner above the reference: the map is y - y0 at the input's argmax", async () => {
    const pool = (v: s.Tensor) => s.reshape(s.maxPool2d(v, { kernel: 2 }), [v.shape[0], 1]);
    const x = s.tensor([1, 5, 2, 0], [1, 1, 2, 2]);
    const x0 = s.tensor([4, 0, 0, 0.5], [1, 1, 2, 2]);
    const r = await deepLift(pool, x, 0, { baseline: x0 });
    // max(y, y0) = 5: the input's winner (0, 1) gets 5 - 4 = 1, the reference's winner 5 - 5 = 0.
    expectClose(await r.map.data(), [0, 1, 0, 0], 1e-6);
  });

  test("summation-to-delta holds to float32 rounding on the trained fashion-cnn", async () => {
    const model = loadFashionCnn();
    const rnd = seeded(5);
    const x = s.tensor(
      Float32Array.from({ length: 2 * 28 * 28 }, () => rnd(0, 1)),
      [2, 1, 28, 28],
    );
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      for (const baseline of [0, 0.5]) {
        const r = await deepLift((v) => model.call(v), x, [3, 7], { baseline });
        const f = r.details.scores.map((v, i) => v - r.details.baselineScores[i]);
        for (const [i, d] of (r.delta ?? []).entries())
          expect(Math.abs(d)).toBeLessThan(1e-5 * Math.max(1, Math.abs(f[i])));
        r.map.dispose();
      }
      expect(warn.mock.calls.map((c) => String(c[0])).join("\n")).not.toMatch(/maxPool2d/);
    } finally {
      warn.mockRestore();
    }
  });
});

describe("PyTorch reference (Captum's Rescale definitions, float64)", () => {
  const fx = JSON.parse(readFileSync("test/fixtures/deeplift/small-cnn.json", "utf8"));
  const p = (k: string) => s.tensor(Float32Array.from(fx.params[k]), fx.shapes[k]);
  const model = (x: s.Tensor) => {
    let h = s.relu(s.conv2d(x, p("w1"), { bias: p("b1"), padding: 1 }));
    h = s.tanh(s.conv2d(h, p("w2"), { bias: p("b2"), padding: 1 }));
    h = s.reshape(s.avgPool2d(h, { kernel: 2 }), [x.shape[0], 36]);
    h = s.sigmoid(s.linear(h, p("w3"), p("b3")));
    return s.linear(h, p("w4"), p("b4"));
  };
  const x = () => s.tensor(Float32Array.from(fx.x), [2, 3, 6, 6]);

  test("the network reproduces the logits", () => {
    expectClose(model(x()).dataSync(), fx.logits, 1e-5);
  });

  test("DeepLIFT with a zero and a noise baseline", async () => {
    const zero = await deepLift(model, x(), fx.targets);
    expectClose(await zero.map.data(), fx.deepliftZero, 1e-4);
    for (const d of zero.delta ?? []) expect(Math.abs(d)).toBeLessThan(1e-4);
    const noise = s.tensor(Float32Array.from(fx.noiseBaseline), [1, 3, 6, 6]);
    const r = await deepLift(model, x(), fx.targets, { baseline: noise });
    expectClose(await r.map.data(), fx.deepliftNoise, 1e-4);
  });

  test("DeepLiftShap over three baselines", async () => {
    const baselines = s.tensor(Float32Array.from(fx.shapBaselines), [3, 3, 6, 6]);
    const r = await deepLiftShap(model, x(), fx.targets, { baselines });
    expectClose(await r.map.data(), fx.deepliftShap, 1e-4);
    for (const d of r.delta ?? []) expect(Math.abs(d)).toBeLessThan(1e-4);
  });

  test("DeepLiftShap refuses baselines of the wrong shape", async () => {
    await expect(
      deepLiftShap(model, x(), fx.targets, { baselines: s.zeros([3, 3, 5, 5]) }),
    ).rejects.toThrow(/deepLiftShap: baselines must be a tensor \[K, 3,6,6\]/);
  });
});

describe("PyTorch reference with max pooling (Captum's maxpool rule, float64)", () => {
  const fx = JSON.parse(readFileSync("test/fixtures/deeplift/small-cnn.json", "utf8")).maxPool;
  const p = (k: string) => s.tensor(Float32Array.from(fx.params[k]), fx.shapes[k]);
  const model = (x: s.Tensor) => {
    let h = s.maxPool2d(s.relu(s.conv2d(x, p("w1"), { bias: p("b1"), padding: 1 })), { kernel: 2 });
    h = s.maxPool2d(s.tanh(s.conv2d(h, p("w2"), { bias: p("b2") })), { kernel: 2 });
    return s.linear(s.reshape(h, [x.shape[0], 5]), p("w3"), p("b3"));
  };
  const x = () => s.tensor(Float32Array.from(fx.x), [2, 3, 8, 8]);

  test("the network reproduces the logits", () => {
    expectClose(model(x()).dataSync(), fx.logits, 1e-5);
  });

  test("DeepLIFT with a zero and a noise baseline matches, and sums to the score difference", async () => {
    const zero = await deepLift(model, x(), [0, 2]);
    expectClose(await zero.map.data(), fx.deepliftZero, 1e-4);
    const noise = s.tensor(Float32Array.from(fx.noiseBaseline), [1, 3, 8, 8]);
    const r = await deepLift(model, x(), [0, 2], { baseline: noise });
    expectClose(await r.map.data(), fx.deepliftNoise, 1e-4);
    for (const d of [...(zero.delta ?? []), ...(r.delta ?? [])])
      expect(Math.abs(d)).toBeLessThan(1e-5);
  });
});
