/**
 * Conv + eval-mode BatchNorm folded into one conv (convBatchNorm, used by the ResNet): the folded
 * conv against a float64 conv followed by the BN formula; the whole ResNet folded against the
 * same network with folding switched off (an identity tap on every conv keeps each conv's own
 * output, which disables folding there), for logits, input gradients and parameter gradients;
 * taps on a conv still see its own (pre-BN) output; LRP rule sets fold (their canonizer), other
 * sets that replace conv2d do not.
 */
import { describe, expect, test } from "vitest";
import { grad, variableGrads } from "../../src/autodiff/grad.ts";
import { type RuleSet, withRules } from "../../src/autodiff/rule-set.ts";
import type { Tensor, Variable } from "../../src/autodiff/tensor.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { ResNet } from "../../src/models/classifiers/resnet.ts";
import { Conv2d } from "../../src/models/nn/conv.ts";
import { convBatchNorm } from "../../src/models/nn/conv-batch-norm.ts";
import type { Module } from "../../src/models/nn/module.ts";
import { BatchNorm2d } from "../../src/models/nn/norm.ts";
import { type Tap, withTaps } from "../../src/models/nn/taps.ts";
import { tensor } from "../../src/ops/creation.ts";
import { sum } from "../../src/ops/reduce.ts";
import { ops } from "../../src/ops/registry.ts";
import { lrpEpsilonRules } from "../../src/rules/lrp.ts";
import { conv2dRef } from "../reference/nn.ts";
import { Rng } from "../reference/rng.ts";

/** Gives every BatchNorm of `m` running statistics and affine parameters far from 0 / 1. */
function randomiseNorms(m: Module, r: Rng): void {
  for (const [, mod] of m.namedModules()) {
    if (!(mod instanceof BatchNorm2d)) continue;
    const c = mod.channels;
    const vec = (lo: number, hi: number) =>
      tensor(
        Float32Array.from({ length: c }, () => r.uniform(lo, hi)),
        [c],
      );
    (mod.runningMean as Variable).assign(vec(-0.5, 0.5));
    (mod.runningVar as Variable).assign(vec(0.3, 2));
    (mod.weight as Variable).assign(vec(0.5, 1.5));
    (mod.bias as Variable).assign(vec(-0.5, 0.5));
  }
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return err / scale;
}

/** An identity tap on every conv of `m`: each conv's output is then needed, so nothing folds. */
function unfolded<T>(m: Module, fn: () => T): T {
  const taps: Record<string, Tap> = {};
  for (const [path, mod] of m.namedModules()) if (mod instanceof Conv2d) taps[path] = (t) => t;
  return withTaps(taps, fn);
}

describe("conv + BatchNorm folding", () => {
  test("folded conv (stride 2, bias) against a float64 conv and the BN formula", () => {
    const r = new Rng(5);
    const conv = new Conv2d(3, 4, 3, { stride: 2, padding: 1, seed: 1 });
    const bn = new BatchNorm2d(4, 1e-3);
    randomiseNorms(bn, r);
    bn.eval();
    const xs = Float32Array.from({ length: 2 * 3 * 9 * 9 }, () => r.uniform(-1, 1));
    const got = tidy(() => convBatchNorm(conv, bn, tensor(xs, [2, 3, 9, 9])).dataSync());
    const nd = (t: Tensor) => ({ shape: [...t.shape], data: Float64Array.from(t.dataSync()) });
    const z = conv2dRef(
      { shape: [2, 3, 9, 9], data: Float64Array.from(xs) },
      nd(conv.weight),
      { stride: [2, 2], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 },
      nd(conv.bias as Tensor),
    );
    const [mean, variance, w, b] = [bn.runningMean, bn.runningVar, bn.weight, bn.bias].map((t) =>
      Array.from(t.dataSync()),
    );
    const plane = 5 * 5;
    const want = z.data.map((v, i) => {
      const c = Math.floor(i / plane) % 4;
      return ((v - mean[c]) / Math.sqrt(variance[c] + 1e-3)) * w[c] + b[c];
    });
    expect(got.length).toBe(want.length);
    expect(maxRelDiff(got, want)).toBeLessThan(1e-6);
  });

  test("ResNet: folded logits, input gradient and parameter gradients equal the unfolded network", () => {
    const r = new Rng(9);
    const m = new ResNet({ seed: 2 });
    randomiseNorms(m, r);
    m.eval();
    const xs = Float32Array.from({ length: 2 * 28 * 28 }, () => r.uniform(0, 1));
    const run = () =>
      tidy(() => {
        const x = tensor(xs, [2, 1, 28, 28]);
        const logits = Array.from(m.call(x).dataSync());
        const gx = Array.from(grad((t) => sum(m.call(t)))(x).dataSync());
        const params = [
          m.conv1.weight,
          m.bn1.weight,
          m.stages[1].layers[0].namedParameters()[0][1],
        ] as Variable[];
        const { grads } = variableGrads(() => sum(m.call(x)), params);
        return { logits, gx, gp: params.map((p) => Array.from(grads.get(p)!.dataSync())) };
      });
    const folded = run();
    const plain = unfolded(m, run);
    expect(maxRelDiff(folded.logits, plain.logits)).toBeLessThan(1e-5);
    expect(maxRelDiff(folded.gx, plain.gx)).toBeLessThan(1e-5);
    folded.gp.forEach((g, i) => expect(maxRelDiff(g, plain.gp[i])).toBeLessThan(1e-5));
  });

  test("a tap on a conv sees that conv's own output, not the normalised one", () => {
    const r = new Rng(4);
    const m = new ResNet({ seed: 1 });
    randomiseNorms(m, r);
    m.eval();
    const x = tensor(
      Float32Array.from({ length: 28 * 28 }, () => r.uniform(0, 1)),
      [1, 1, 28, 28],
    );
    let seen: number[] = [];
    const record: Tap = (t) => {
      seen = Array.from(t.dataSync());
      return t;
    };
    tidy(() => withTaps({ conv1: record }, () => m.call(x)));
    const own = tidy(() => Array.from(m.conv1.call(x).dataSync()));
    expect(seen).toEqual(own);
  });

  test("LRP rule sets fold BN into the conv (canonizer); other sets replacing conv2d do not", () => {
    const r = new Rng(6);
    const m = new ResNet({ seed: 4 });
    randomiseNorms(m, r);
    m.eval();
    const xs = Float32Array.from({ length: 28 * 28 }, () => r.uniform(0, 1));
    const relevance = (rules: RuleSet) => () =>
      withRules(rules, () =>
        tidy(() => Array.from(grad((t) => sum(m.call(t)))(tensor(xs, [1, 1, 28, 28])).dataSync())),
      );
    // The epsilon rule on a conv then on BN differs from the rule on the folded conv.
    const lrp = relevance(lrpEpsilonRules(1e-6));
    expect(lrp()).not.toEqual(unfolded(m, lrp));
    // A set that replaces conv2d without asking for the fold runs the two layers apart.
    const plain: RuleSet = { conv2d: (dy, ctx) => ops.conv2d.vjp(dy, ctx) };
    const other = relevance(plain);
    expect(other()).toEqual(unfolded(m, other));
  });
});
