/**
 * Score-CAM, XGrad-CAM, Eigen-CAM, Ablation-CAM and FullGrad against float64 references written
 * from pytorch-grad-cam's definitions (scripts/fixtures/make_cam_family_fixtures.py), on the same
 * tiny CNN built in and imported from ONNX; Score-CAM on a network whose channel scores are
 * computable by hand.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  ablationCam,
  eigenCam,
  firstPrincipalProjection,
  scoreCam,
} from "../../src/attribution/methods/cam-family.ts";
import { fullGrad, fullGradBiases } from "../../src/attribution/methods/fullgrad.ts";
import { xGradCam } from "../../src/attribution/methods/grad-cam.ts";
import * as s from "../../src/index.ts";
import { loadOnnx } from "../../src/models/io/onnx/model.ts";
import { Conv2d, Flatten, Sequential } from "../../src/models/nn/index.ts";
import { camFamilyNet, camFamilyRef } from "./cam-family-net.ts";
import { expectClose } from "./helpers.ts";

const DIR = "test/fixtures/cam-family/";
const ref = camFamilyRef;
const input = () => s.tensor(Float32Array.from(ref.input), [2, 2, 8, 8]);
const rel = (v: number[]) => 1e-4 * Math.max(1e-12, ...v.map(Math.abs));
const builtIn = camFamilyNet;

const onnxNet = () =>
  loadOnnx(new Uint8Array(readFileSync(`${DIR}cnn.onnx`)), { name: "cnn.onnx" });

async function checkLayerCams(model: (x: s.Tensor) => s.Tensor, layer: string) {
  const x = input();
  const t = ref.targets;
  for (const [name, method] of [
    ["xgradcam", xGradCam],
    ["scorecam", scoreCam],
    ["ablationcam", ablationCam],
    ["eigencam", eigenCam],
  ] as const) {
    const r = await method(model, x, t, { layer, batchSize: 5 });
    expect(r.details.layerShape, name).toEqual(ref.layerShape);
    expectClose(r.details.layerMap, ref[name].layerMap, rel(ref[name].layerMap));
    if (ref[name].weights)
      expectClose(r.details.weights, ref[name].weights, rel(ref[name].weights));
    expect(r.map.shape).toEqual([2, 1, 8, 8]);
    r.map.dispose();
  }
}

describe("CAM family against pytorch-grad-cam's definitions", () => {
  test("built-in model: XGrad-CAM, Score-CAM, Ablation-CAM, Eigen-CAM at layer 5", async () => {
    const net = builtIn();
    await checkLayerCams((x) => net.call(x), "5");
  });

  test("built-in model: FullGrad with the conv and batch-norm biases", async () => {
    const net = builtIn();
    const biases = await fullGradBiases(net);
    expect(biases.map((b) => b.layer)).toEqual(["0", "1", "4"]);
    const r = await fullGrad((x) => net.call(x), input(), ref.targets, { biases });
    expectClose(r.map.dataSync(), ref.fullgrad.map, 1e-4);
  });

  test("ONNX import of the same model: the layer CAMs", async () => {
    const net = onnxNet();
    const layers = s.listLayers(net, s.zeros([1, 2, 8, 8])).map((l) => l.name);
    const relu = layers.filter((n) => /Relu/.test(n) && n.endsWith("_output_0"));
    await checkLayerCams((x) => net.call(x), relu[relu.length - 1]);
  });

  test("ONNX import: FullGrad finds the Conv biases (batch norm folded by the exporter)", async () => {
    const net = onnxNet();
    const biases = await fullGradBiases(net);
    // Two convolutions: conv0 with the batch norm folded in, then conv4.
    expect(biases.length).toBe(2);
    biases.forEach((b, j) => {
      expectClose(b.bias, ref.fullgradOnnx.biases[j], 1e-5);
    });
    const r = await fullGrad((x) => net.call(x), input(), ref.targets, { biases });
    expectClose(r.map.dataSync(), ref.fullgradOnnx.map, 1e-4);
  });

  test("ONNX with a BatchNormalization node: FullGrad reads conv, BN and conv biases", async () => {
    const net = loadOnnx(new Uint8Array(readFileSync(`${DIR}cnn-bn.onnx`)), { name: "cnn-bn" });
    const biases = await fullGradBiases(net);
    expect(biases.length).toBe(3);
    const r = await fullGrad((x) => net.call(x), input(), ref.targets, { biases });
    expectClose(r.map.dataSync(), ref.fullgrad.map, 1e-4);
  });
});

describe("Score-CAM known answer", () => {
  test("channel scores by hand: a model that sums the masked image", async () => {
    // Layer "0" is a 1x1 conv with identity weights on a 2-channel 2x2 input, so A = x; the head
    // sums the input. Each mask is the channel min-max normalised (its own upsampling to the same
    // size is the identity), and the score of x * M^k is sum_c sum_p x_c(p) M^k(p).
    const net = new Sequential(new Conv2d(2, 2, 1, { bias: false }), new Flatten());
    net.loadStateDict(
      new Map([
        [
          "0.weight",
          s.tensor([
            [[[1]], [[0]]],
            [[[0]], [[1]]],
          ]),
        ],
      ]),
    );
    const head = (x: s.Tensor) => s.reshape(s.sum(net.call(x), [1], true), [-1, 1]);
    const xv = [0, 1, 2, 3, 4, 0, 2, 1];
    const x = s.tensor(xv, [1, 2, 2, 2]);
    const masks = [
      [0, 1, 2, 3].map((v) => v / (3 + 1e-8)),
      [4, 0, 2, 1].map((v) => v / (4 + 1e-8)),
    ];
    const sc = masks.map((m) => [0, 1, 2, 3].reduce((a, p) => a + (xv[p] + xv[4 + p]) * m[p], 0));
    const z = Math.exp(sc[0]) + Math.exp(sc[1]);
    const w = sc.map((v) => Math.exp(v) / z);
    const r = await scoreCam(head, x, 0, { layer: "0" });
    expectClose(r.details.weights, w, 1e-6);
    expectClose(
      r.details.layerMap,
      [0, 1, 2, 3].map((p) => w[0] * xv[p] + w[1] * xv[4 + p]),
      1e-5,
    );
  });

  test("Eigen-CAM's projection: a rank-one activation projects onto its spatial pattern", () => {
    // A_k(p) = c_k u(p): centred, the matrix is (u - mean u) c^T, so the projection is
    // |c| (u - mean u), sign-fixed by its largest entry.
    const u = [3, -1, 0.5, 2];
    const c = [0.5, -2, 1];
    const act = c.flatMap((ck) => u.map((up) => ck * up));
    const mu = u.reduce((a, b) => a + b, 0) / 4;
    const norm = Math.hypot(...c);
    // u - mean u = [1.875, -2.125, -0.625, 0.875]: the largest entry is negative, so it flips.
    expectClose(
      firstPrincipalProjection(act, 3, 4),
      u.map((v) => -norm * (v - mu)),
      1e-9,
    );
  });
});
