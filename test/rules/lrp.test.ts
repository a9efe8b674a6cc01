/** LRP rules and composites against a float64 reference; conservation where theory demands it. */
import { describe, expect, test } from "vitest";
import { lrp } from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { convBatchNorm } from "../../src/models/nn/conv-batch-norm.ts";
import { BatchNorm2d, Conv2d } from "../../src/models/nn/index.ts";
import type { LrpComposite } from "../../src/rules/lrp.ts";
import {
  convAsDense,
  type DenseLayer,
  dense,
  type RefRule,
  refLrp,
  seeded,
} from "./lrp-reference.ts";

const H = 4;
const rnd = seeded(7);
const nd = (shape: number[], lo = -1, hi = 1): unknown =>
  shape.length === 0
    ? rnd(lo, hi)
    : Array.from({ length: shape[0] }, () => nd(shape.slice(1), lo, hi));
const w1 = nd([2, 1, 3, 3]) as number[][][][];
const b1 = nd([2], -0.3, 0.3) as number[];
const w2 = nd([2, 2, 3, 3]) as number[][][][];
const b2 = nd([2], -0.3, 0.3) as number[];
const w3 = nd([3, 2 * H * H]) as number[][];
const b3 = nd([3], -0.3, 0.3) as number[];
const x0 = nd([H * H], 0, 1) as number[];

const refLayers: DenseLayer[] = [
  convAsDense(w1, b1, 1, H, H, true),
  convAsDense(w2, b2, 2, H, H, true),
  dense(w3, b3, false),
];

const engineModel = (x: s.Tensor) => {
  const t = (v: unknown) => s.tensor(v as number[]);
  let h = s.relu(s.conv2d(x, t(w1), { bias: t(b1), padding: 1 }));
  h = s.relu(s.conv2d(h, t(w2), { bias: t(b2), padding: 1 }));
  return s.linear(s.reshape(h, [1, 2 * H * H]), t(w3), t(b3));
};
const input = () => s.reshape(s.tensor(x0), [1, 1, H, H]);

const eps: RefRule = { kind: "epsilon", eps: 1e-6 };
const zplus: RefRule = { kind: "zplus" };
const ab: RefRule = { kind: "alphabeta", alpha: 2, beta: 1 };
const flat: RefRule = { kind: "flat" };
const composites: [LrpComposite, RefRule[]][] = [
  ["epsilon", [eps, eps, eps]],
  ["epsilon-plus", [zplus, zplus, eps]],
  ["epsilon-plus-flat", [flat, zplus, eps]],
  ["epsilon-gamma-box", [{ kind: "box", low: 0, high: 1 }, { kind: "gamma", gamma: 0.25 }, eps]],
  ["epsilon-alpha2-beta1", [ab, ab, eps]],
  ["epsilon-alpha2-beta1-flat", [flat, ab, eps]],
];

function expectClose(actual: ArrayLike<number>, expected: number[], tol = 1e-4) {
  const scale = Math.max(1, ...expected.map(Math.abs));
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i])).toBeLessThan(tol * scale);
  }
}

describe("LRP composites match the float64 reference (conv, conv, dense net with biases)", () => {
  for (const [name, rules] of composites) {
    test(name, async () => {
      for (const target of [0, 2]) {
        const ref = refLrp(refLayers, rules, x0, target);
        const r = await lrp(engineModel, input(), target, { composite: name, box: [0, 1] });
        expectClose(await r.map.data(), ref.relevance);
        const total = ref.relevance.reduce((a, b) => a + b, 0);
        expect(r.details.scores[0]).toBeCloseTo(ref.score, 4);
        expect(r.details.delta[0]).toBeCloseTo(total - ref.score, 3);
      }
    });
  }

  test("single rules: w^2 on every layer, and gamma on every layer", async () => {
    for (const [rules, set] of [
      [[{ kind: "wsquare" }, { kind: "wsquare" }, { kind: "wsquare" }], s.lrpWSquareRules()],
      [Array(3).fill({ kind: "gamma", gamma: 0.5 }), s.lrpGammaRules(0.5)],
    ] as [RefRule[], s.RuleSet][]) {
      const ref = refLrp(refLayers, rules, x0, 1);
      const score = engineModel(input()).dataSync()[1];
      const g = s.withRules(set, () =>
        s.vjp((v: s.Tensor) => engineModel(v), [input()], s.tensor([[0, score, 0]])),
      );
      expectClose(g.grads[0].dataSync(), ref.relevance);
    }
  });
});

describe("conservation and LRP-0 = gradient x input on bias-free ReLU networks", () => {
  const W1 = nd([6, 5]) as number[][];
  const W2 = nd([6, 6]) as number[][];
  const W3 = nd([5, 3]) as number[][]; // used as x @ W3 (matmul, as ONNX MatMul)
  const xs = nd([1, 5], -1, 1) as number[][];
  // matmul output, a residual addition and a concatenation: all bias-free and piecewise linear
  const net = (x: s.Tensor) => {
    const h = s.relu(s.linear(x, s.tensor(W1)));
    const r = s.add(h, s.relu(s.linear(h, s.tensor(W2))));
    const c = s.concat([s.slice(r, [0, 0], [1, 3]), s.slice(h, [0, 3], [1, 2])], 1);
    return s.matmul(c, s.tensor(W3));
  };

  test("sum of relevance = score, and the map = gradient x input (epsilon 0)", async () => {
    for (const target of [0, 1, 2]) {
      const x = s.tensor(xs);
      const r = await lrp(net, x, target, { epsilon: 0 });
      const g = s.grad((v: s.Tensor) => s.sum(s.slice(net(v), [0, target], [1, 1])))(x);
      const gxi = Array.from(g.dataSync()).map((v, i) => v * xs[0][i]);
      expectClose(await r.map.data(), gxi, 1e-5);
      expect(Math.abs(r.details.delta[0])).toBeLessThan(
        1e-5 * Math.max(1, Math.abs(r.details.scores[0])),
      );
    }
  });

  test("an op without an LRP rule fails, naming it", async () => {
    const bad = (x: s.Tensor) => s.exp(net(x));
    await expect(lrp(bad, s.tensor(xs), 0)).rejects.toThrow(/lrp: the recorded graph contains exp/);
  });

  test("unknown composites and bad options are refused by name", async () => {
    await expect(lrp(net, s.tensor(xs), 0, { composite: "plus" as LrpComposite })).rejects.toThrow(
      /unknown composite "plus" \(expected one of epsilon, epsilon-plus/,
    );
    await expect(lrp(net, s.tensor(xs), 0, { box: [1, 0] })).rejects.toThrow(/box must be/);
  });
});

describe("BatchNorm canonizer", () => {
  test("an eval-mode BatchNorm after a conv is folded into it under LRP rules", async () => {
    const conv = new Conv2d(1, 2, 3, { padding: 1 });
    const bn = new BatchNorm2d(2).eval();
    const gamma = [1.5, -0.7];
    const beta = [0.2, -0.4];
    const mean = [0.1, -0.2];
    const variance = [2, 0.5];
    (bn.weight as s.Variable).assign(s.tensor(gamma));
    (bn.bias as s.Variable).assign(s.tensor(beta));
    bn.runningMean.assign(s.tensor(mean));
    bn.runningVar.assign(s.tensor(variance));
    const W3 = nd([2, 2 * H * H]) as number[][];
    const model = (x: s.Tensor) =>
      s.linear(s.reshape(s.relu(convBatchNorm(conv, bn, x)), [1, 2 * H * H]), s.tensor(W3));
    const cw = (await conv.weight.array()) as number[][][][];
    const cb = Array.from(await conv.bias!.data());
    const scale = gamma.map((g, c) => g / Math.sqrt(variance[c] + bn.eps));
    const fw = cw.map((o, c) => o.map((ci) => ci.map((row) => row.map((v) => v * scale[c]))));
    const fb = cb.map((b, c) => (b - mean[c]) * scale[c] + beta[c]);
    const layers = [convAsDense(fw, fb, 1, H, H, true), dense(W3, [0, 0], false)];
    const ref = refLrp(layers, [eps, eps], x0, 1);
    const r = await lrp(model, input(), 1);
    expectClose(await r.map.data(), ref.relevance);
  });
});
