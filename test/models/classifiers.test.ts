/**
 * The classifiers' Grad-CAM layers: tapping the named layer and replacing its output by zeros must
 * leave exactly what the rest of the network makes of zeros, which has a closed form in the head's
 * weights. (Numerical parity with PyTorch is in sr-zoo.test.ts.) Also FSRCNN's fast deconvolution
 * against the engine's transposed convolution.
 */
import { describe, expect, test } from "vitest";
import { grad } from "../../src/autodiff/grad.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { ResNet } from "../../src/models/classifiers/resnet.ts";
import { SmallCnn } from "../../src/models/classifiers/small-cnn.ts";
import { VggNet } from "../../src/models/classifiers/vgg.ts";
import type { Module } from "../../src/models/nn/module.ts";
import { withTaps } from "../../src/models/nn/taps.ts";
import { subPixelTransposedConv } from "../../src/models/zoo/fsrcnn.ts";
import { mul } from "../../src/ops/binary.ts";
import { conv2dTranspose } from "../../src/ops/conv.ts";
import { randomUniform, zerosLike } from "../../src/ops/creation.ts";
import { sum } from "../../src/ops/reduce.ts";

function logitsWithZeroedLayer(model: Module, layer: string, shape: number[]) {
  let seen: number[] = [];
  const y = tidy(() =>
    withTaps(
      {
        [layer]: (t) => {
          seen = [...t.shape];
          return zerosLike(t);
        },
      },
      () => model.call(randomUniform(shape, { seed: 3 })).dataSync(),
    ),
  );
  return { y: Array.from(y), seen };
}

const values = (m: Module, key: string) => Array.from(m.stateDict().get(key)!.dataSync());

describe("Grad-CAM layers", () => {
  test("SmallCnn: zeroing features.4 leaves the linear layer's bias", () => {
    const m = new SmallCnn({ seed: 1 });
    const { y, seen } = logitsWithZeroedLayer(m, SmallCnn.gradCamLayer, [2, 1, 28, 28]);
    expect(seen).toEqual([2, 32, 14, 14]);
    const b = values(m, "classifier.2.bias");
    expect(y).toEqual([...b, ...b]);
  });

  test("VggNet: zeroing the last ReLU leaves W2 relu(b1) + b2", () => {
    const m = new VggNet({ seed: 2 }).eval();
    expect(m.gradCamLayer).toBe(VggNet.gradCamLayer);
    const { y, seen } = logitsWithZeroedLayer(m, VggNet.gradCamLayer, [1, 1, 16, 16]);
    expect(seen).toEqual([1, 64, 8, 8]);
    const b1 = values(m, "classifier.1.bias").map((v) => Math.max(v, 0));
    const w2 = values(m, "classifier.4.weight");
    const b2 = values(m, "classifier.4.bias");
    const want = b2.map((b, o) => b + b1.reduce((s, h, i) => s + w2[o * b1.length + i] * h, 0));
    y.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
  });

  test("ResNet: zeroing layer3 leaves the fc bias", () => {
    const m = new ResNet({ seed: 3 }).eval();
    expect(m.gradCamLayer).toBe(ResNet.gradCamLayer);
    const { y, seen } = logitsWithZeroedLayer(m, ResNet.gradCamLayer, [1, 1, 12, 12]);
    expect(seen).toEqual([1, 64, 3, 3]);
    expect(y).toEqual(values(m, "fc.bias"));
  });
});

describe("FSRCNN's sub-pixel transposed conv", () => {
  test("equals conv2dTranspose (stride s, padding 4, output padding s - 1), value and input gradient", () => {
    for (const s of [1, 2, 4]) {
      tidy(() => {
        const x = randomUniform([2, 3, 5, 4], { seed: s, low: -1, high: 1 });
        const w = randomUniform([3, 2, 9, 9], { seed: 10 + s, low: -1, high: 1 });
        const b = randomUniform([2], { seed: 20 + s });
        const ref = (v: Tensor) =>
          conv2dTranspose(v, w, { bias: b, stride: s, padding: 4, outputPadding: s - 1 });
        const fast = (v: Tensor) => subPixelTransposedConv(v, w, b, s);
        const want = ref(x).dataSync();
        const got = fast(x).dataSync();
        expect(got.length).toBe(want.length);
        got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
        const g = randomUniform([2, 2, 5 * s, 4 * s], { seed: 30 + s });
        const gw = grad((v) => sum(mul(ref(v), g)))(x).dataSync();
        const gf = grad((v) => sum(mul(fast(v), g)))(x).dataSync();
        gf.forEach((v, i) => expect(v).toBeCloseTo(gw[i], 4));
      });
    }
  });
});
