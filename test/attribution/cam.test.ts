/**
 * The CAM family (CAM: Zhou et al. 2016; Grad-CAM: Selvaraju et al. 2017; HiResCAM: Draelos &
 * Carin 2020; LayerCAM: Jiang et al. 2021) on a GAP + linear head,
 * y^c = sum_k w_k^c mean_ij A^k + b^c, where d y^c / d A^k_ij = w_k^c / (h w) everywhere; plus
 * Captum's LayerGradCam golden numbers on BasicModel_ConvNet_One_Conv.
 */
import { describe, expect, test } from "vitest";
import {
  GRADCAM_PP_EPS,
  gradCam,
  gradCamPlusPlus,
  guidedBackprop,
  guidedGradCam,
  hiResCam,
  layerCam,
} from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import {
  AdaptiveAvgPool2d,
  Conv2d,
  Flatten,
  Linear,
  ReLU,
  Sequential,
} from "../../src/models/nn/index.ts";
import { captumConvNet, captumConvNetInput } from "../helpers/captum-convnet.ts";
import { expectClose } from "./helpers.ts";

const K = 4;
const h = 5;
const w = 5;
function gapNet(kernel = 3) {
  const features = new Sequential(
    new Conv2d(2, K, kernel, { padding: kernel === 3 ? 1 : 0, seed: 21 }),
    new ReLU(),
  );
  const head = new Sequential(
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Linear(K, 3, { seed: 22 }),
  );
  const net = new Sequential(features, head);
  return { net, model: (x: s.Tensor) => net.call(x) };
}

/** A (post-ReLU features) and the head's weights, read straight from the modules. */
function parts(net: Sequential, x: s.Tensor) {
  const A = net.layers[0].call(x).dataSync();
  const lin = (net.layers[1] as Sequential).layers[2] as Linear;
  return { A, Wt: lin.weight.dataSync(), b: lin.bias!.dataSync() };
}

describe("CAM family on a GAP head", () => {
  const { net, model } = gapNet();
  const x = s.keep(s.randomNormal([1, 2, h, w], { seed: 23 }));
  const c = 1;
  const { A, Wt, b } = parts(net, x);
  const wk = (k: number) => Wt[c * K + k];
  const weighted = (f: (k: number) => number) =>
    Array.from({ length: h * w }, (_, p) => {
      let v = 0;
      for (let k = 0; k < K; k++) v += f(k) * A[k * h * w + p];
      return v;
    });

  test("Grad-CAM = relu(sum_k w_k A^k) / (h w), i.e. CAM / (h w); HiResCAM equals it", async () => {
    const want = weighted(wk).map((v) => Math.max(0, v) / (h * w));
    const gc = await gradCam(model, x, c, { layer: "0" });
    expect(gc.details.layerShape).toEqual([1, 1, h, w]);
    expectClose(gc.details.layerMap, want, 1e-6);
    expectClose(
      gc.details.weights,
      [0, 1, 2, 3].map((k) => wk(k) / (h * w)),
      1e-7,
    );
    // Same resolution as the input here, so the upsampled map is the layer map.
    expectClose(gc.map.dataSync(), want, 1e-6);
    const hr = await hiResCam(model, x, c, { layer: "0" });
    expectClose(hr.details.layerMap, want, 1e-6);
  });

  test("LayerCAM = sum_k relu(w_k) / (h w) A^k", async () => {
    const lc = await layerCam(model, x, c, { layer: "0" });
    expectClose(
      lc.details.layerMap,
      weighted((k) => Math.max(0, wk(k)) / (h * w)),
      1e-6,
    );
  });

  test("sum_ij HiResCAM without ReLU = y^c - b^c (faithfulness of GAP heads)", async () => {
    const hr = await hiResCam(model, x, c, { layer: "0", relu: false });
    const total = hr.details.layerMap.reduce((a, v) => a + v, 0);
    const y = model(x).dataSync()[c];
    expect(total).toBeCloseTo(y - b[c], 5);
    expect(hr.details.scores[0]).toBeCloseTo(y, 6);
  });

  test("Grad-CAM++ on a GAP head: weights h w relu(g) g^2 / (2 g^2 + sum_ij A g^3 + eps), g = w_k / (h w)", async () => {
    const weight = (k: number) => {
      const g = wk(k) / (h * w);
      let sumA = 0;
      for (let p = 0; p < h * w; p++) sumA += A[k * h * w + p];
      return (h * w * Math.max(0, g) * g * g) / (2 * g * g + sumA * g ** 3 + GRADCAM_PP_EPS);
    };
    const pp = await gradCamPlusPlus(model, x, c, { layer: "0" });
    expectClose(pp.details.weights, [0, 1, 2, 3].map(weight), 1e-4);
    expectClose(
      pp.details.layerMap,
      weighted(weight).map((v) => Math.max(0, v)),
      1e-4,
    );
  });

  test("Guided Grad-CAM with a spatially constant CAM equals guided backprop times that constant", async () => {
    // A 1x1 conv on a constant image gives constant activations, hence a constant CAM.
    const g = gapNet(1);
    const flat = s.mul(s.ones([1, 2, h, w]), s.reshape(s.tensor([0.7, -0.4]), [1, 2, 1, 1]));
    const cam = await gradCam(g.model, flat, 2, { layer: "0" });
    const camValue = cam.details.layerMap[0];
    expect(cam.details.layerMap.every((v) => Math.abs(v - camValue) < 1e-7)).toBe(true);
    // The constant by hand: relu(sum_k w_k A^k) / (h w) with the class-2 head weights, and not 0
    // (else the comparison below would hold trivially).
    const p = parts(g.net, flat);
    let z = 0;
    for (let k = 0; k < K; k++) z += p.Wt[2 * K + k] * p.A[k * h * w];
    expect(camValue).toBeCloseTo(Math.max(z, 0) / (h * w), 6);
    expect(camValue).toBeGreaterThan(1e-3);
    const gb = await guidedBackprop(g.model, flat, 2);
    expect(gb.map.dataSync().some((v) => v !== 0)).toBe(true);
    const ggc = await guidedGradCam(g.model, flat, 2, { layer: "0" });
    expectClose(
      ggc.map.dataSync(),
      Array.from(gb.map.dataSync(), (v) => v * camValue),
      1e-7,
    );
  });

  test("Captum LayerGradCam golden numbers on BasicModel_ConvNet_One_Conv (conv1, no ReLU)", async () => {
    const { model: m } = captumConvNet();
    const r = await gradCam(m, captumConvNetInput(), 0, {
      layer: "0",
      relu: false,
      upsample: "nearest",
    });
    expectClose(r.details.layerMap, [11.25, 13.5, 20.25, 22.5], 1e-5);
    // Nearest upsampling 2x2 -> 4x4 repeats each value in a 2x2 block (Captum's interpolate).
    expectClose(
      r.map.dataSync(),
      [
        11.25, 11.25, 13.5, 13.5, 11.25, 11.25, 13.5, 13.5, 20.25, 20.25, 22.5, 22.5, 20.25, 20.25,
        22.5, 22.5,
      ],
      1e-5,
    );
  });

  test("a layer the model never reaches, or a non-spatial layer, is a clear error", async () => {
    await expect(gradCam(model, x, 0, { layer: "features.9" })).rejects.toThrow(
      /layer "features.9" was never reached/,
    );
    await expect(gradCam(model, x, 0, { layer: "1.1" })).rejects.toThrow(
      /CAM methods need a convolutional layer/,
    );
  });
});
