/**
 * LRP's BatchNorm canonizer for Sequential models: an eval BatchNorm1d after a Linear (and a
 * BatchNorm2d after a Conv2d) runs folded into the layer under LRP rules only; checked against a
 * float64 reference on the folded dense layers, and by conservation where the folded net has no
 * biases.
 */
import { describe, expect, test } from "vitest";
import { lrp } from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { MultiLabelCnn } from "../../src/models/classifiers/multi-label-cnn.ts";
import { BatchNorm1d, BatchNorm2d, Linear, ReLU, Sequential } from "../../src/models/nn/index.ts";
import { dense, refLrp, seeded } from "./lrp-reference.ts";

const rnd = seeded(21);
const mat = (r: number, c: number, lo = -1, hi = 1) =>
  Array.from({ length: r }, () => Array.from({ length: c }, () => rnd(lo, hi)));

function expectClose(actual: ArrayLike<number>, expected: number[], tol = 1e-4) {
  const scale = Math.max(1, ...expected.map(Math.abs));
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i] - expected[i])).toBeLessThan(tol * scale);
}

/** Linear(4, 5) -> BatchNorm1d(5) -> ReLU -> Linear(5, 3, no bias), with set norm statistics. */
function net(o: { gamma: number[]; beta: number[]; mean: number[]; variance: number[] }) {
  const first = new Linear(4, 5, { seed: 3 });
  const bn = new BatchNorm1d(5);
  const last = new Linear(5, 3, { bias: false, seed: 4 });
  const model = new Sequential(first, bn, new ReLU(), last).eval();
  (bn.weight as s.Variable).assign(s.tensor(o.gamma));
  (bn.bias as s.Variable).assign(s.tensor(o.beta));
  bn.runningMean.assign(s.tensor(o.mean));
  bn.runningVar.assign(s.tensor(o.variance));
  return { model, first, bn, last };
}

/** The pair folded in float64: W * s per output row, (b - mean) * s + beta. */
async function folded(first: Linear, bn: BatchNorm1d, o: Parameters<typeof net>[0]) {
  const w = (await first.weight.array()) as number[][];
  const b = Array.from(await (first.bias as s.Tensor).data());
  const scale = o.gamma.map((g, c) => g / Math.sqrt(o.variance[c] + bn.eps));
  return {
    W: w.map((row, c) => row.map((v) => v * scale[c])),
    b: b.map((v, c) => (v - o.mean[c]) * scale[c] + o.beta[c]),
  };
}

const stats = {
  gamma: [1.4, -0.6, 0.9, 2.1, 0.5],
  beta: [0.2, -0.3, 0.1, 0.05, -0.1],
  mean: [0.3, -0.2, 0.15, -0.4, 0.05],
  variance: [1.5, 0.4, 2.2, 0.8, 1.1],
};
const x0 = mat(1, 4, 0, 1)[0];

describe("Linear + BatchNorm1d under LRP", () => {
  test("LRP-epsilon and LRP z+ equal the float64 reference on the folded dense layers", async () => {
    const { model, first, bn, last } = net(stats);
    const f = await folded(first, bn, stats);
    const W2 = (await last.weight.array()) as number[][];
    const layers = [dense(f.W, f.b, true), dense(W2, [0, 0, 0], false)];
    for (const [rule, refRule] of [
      ["epsilon", eps],
      ["zplus", zplus],
    ] as const) {
      for (const target of [0, 2]) {
        const ref = refLrp(layers, [refRule, refRule], x0, target);
        const r = await lrp((v) => model.call(v), s.tensor([x0]), target, { rule });
        expectClose(await r.map.data(), ref.relevance);
        expect(r.details.scores[0]).toBeCloseTo(ref.score, 5);
      }
    }
  });

  test("LRP z+ conserves relevance through the folded pair (the norm's shift would absorb a share)", async () => {
    // z+ ignores biases, so each folded layer passes on all of its relevance; run unfolded, the
    // norm's per-channel add would give its constant shift a share.
    const { model } = net(stats);
    for (const target of [0, 1, 2]) {
      const r = await lrp((v) => model.call(v), s.tensor([x0]), target, { rule: "zplus" });
      const total = Array.from(await r.map.data()).reduce((a, b) => a + b, 0);
      expect(Math.abs(total - r.details.scores[0])).toBeLessThan(
        1e-5 * Math.max(1, Math.abs(total)),
      );
    }
  });

  test("outside LRP the two modules run as written; folded, the output is the same function", async () => {
    const { model, first, bn, last } = net(stats);
    const x = s.tensor([x0, mat(1, 4)[0]]);
    const plain = await model.call(x).data();
    const byHand = await last.call(s.relu(bn.call(first.call(x)))).data();
    expect(Array.from(plain)).toEqual(Array.from(byHand));
    const r = await lrp((v) => model.call(v), x, [0, 1]);
    const f = await folded(first, bn, stats);
    const W2 = (await last.weight.array()) as number[][];
    const layers = [dense(f.W, f.b, true), dense(W2, [0, 0, 0], false)];
    expect(r.details.scores[0]).toBeCloseTo(refLrp(layers, [eps, eps], x0, 0).score, 5);
  });

  test("BatchNorm1d refuses an input that is not [N, C] or [N, C, L]", () => {
    const bn = new BatchNorm1d(3).eval();
    expect(() => bn.call(s.zeros([1, 3, 2, 2]))).toThrow(
      /BatchNorm1d "": expected input \[N, 3\] or \[N, 3, L\], got \[1,3,2,2\]/,
    );
  });
});

describe("Conv2d + BatchNorm2d in a Sequential under LRP", () => {
  test("MultiLabelCnn with batch norm: LRP (epsilon-plus) equals LRP of its fused copy (norms folded by hand)", async () => {
    const model = new MultiLabelCnn({
      channels: [4, 4, 6, 8],
      classes: 3,
      batchNorm: true,
      seed: 2,
    });
    const r = seeded(5);
    for (const m of model.features.layers) {
      if (!(m instanceof BatchNorm2d)) continue;
      const c = m.channels;
      const v = (lo: number, hi: number) => s.tensor(Array.from({ length: c }, () => r(lo, hi)));
      (m.weight as s.Variable).assign(v(-1.5, 1.5));
      (m.bias as s.Variable).assign(v(-0.2, 0.2));
      m.runningMean.assign(v(-0.3, 0.3));
      m.runningVar.assign(v(0.5, 2));
    }
    model.eval();
    const fused = model.fused();
    const x = s.tensor(
      Float32Array.from({ length: 16 * 16 }, () => r(0, 1)),
      [1, 1, 16, 16],
    );
    const o = { composite: "epsilon-plus" } as const;
    const a = await lrp((v) => model.call(v), x, 1, o);
    const b = await lrp((v) => fused.call(v), x, 1, o);
    const bm = Array.from(await b.map.data());
    expectClose(await a.map.data(), bm, 1e-4);
  });
});

const eps = { kind: "epsilon", eps: 1e-6 } as const;
const zplus = { kind: "zplus" } as const;
