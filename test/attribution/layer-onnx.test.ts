/**
 * Layer methods on imported graphs: Grad-CAM, Grad-CAM++, HiResCAM, LayerCAM and Guided Grad-CAM
 * on a tiny CNN, a tiny ViT and a tiny Swin-like classifier exported from PyTorch, against float64
 * references of the definitions (pytorch-grad-cam; token layers laid out by reshape_transform),
 * the layer named by ONNX tensor name and by node name.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  gradCam,
  gradCamPlusPlus,
  guidedGradCam,
  hiResCam,
  layerCam,
} from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { defaultCamLayer, listLayers } from "../../src/models/io/layer-list.ts";
import { loadOnnx } from "../../src/models/io/onnx/model.ts";
import { expectClose } from "./helpers.ts";

const DIR = "test/fixtures/layers/";
type Ref = Record<string, number[]> & { target: number; layerShape: number[] };
const refs = JSON.parse(readFileSync(`${DIR}references.json`, "utf8"));
const load = (name: string) =>
  loadOnnx(new Uint8Array(readFileSync(`${DIR}${name}.onnx`)), { name: `${name}.onnx` });
const input16 = () => s.tensor(Float32Array.from(refs.input16), [1, 3, 16, 16]);

/** Largest |x| of the reference, for a tolerance relative to its scale. */
const scale = (v: number[]) => Math.max(1e-12, ...v.map(Math.abs));

const CAMS = {
  gradcam: gradCam,
  "gradcam++": gradCamPlusPlus,
  hirescam: hiResCam,
  layercam: layerCam,
};

async function checkCams(file: string, ref: Ref, layer: string, rel = 1e-4) {
  const net = load(file);
  const model = (x: s.Tensor) => net.call(x);
  const x = input16();
  for (const [name, method] of Object.entries(CAMS)) {
    const r = await method(model, x, ref.target, { layer });
    expect(r.details.layerShape).toEqual([1, 1, ...ref.layerShape]);
    expectClose(r.details.layerMap, ref[name], rel * scale(ref[name]));
    r.map.dispose();
  }
  const g = await guidedGradCam(model, x, ref.target, { layer });
  expectClose(g.map.dataSync(), ref.guidedGradCam, rel * scale(ref.guidedGradCam));
  g.map.dispose();
  x.dispose();
}

describe("layer methods on an ONNX CNN", () => {
  test("the CAM family at a tensor name matches the float64 definitions", async () => {
    await checkCams("cnn", refs.cnn, "/relu3/Relu_output_0");
  });
  test("the same layer named by its node name gives the same maps", async () => {
    await checkCams("cnn", refs.cnn, "/relu3/Relu");
  });
  test("an earlier layer (before the last conv) matches too", async () => {
    await checkCams("cnn", refs.cnnRelu2, "/relu2/Relu");
  });
  test("listLayers gives shapes; the default CAM layer is the last map before global pooling", () => {
    const net = load("cnn");
    const x = input16();
    const layers = listLayers(net, x);
    const relu3 = layers.find((l) => l.name === "/relu3/Relu_output_0");
    expect(relu3).toMatchObject({ alias: "/relu3/Relu", kind: "Relu", shape: [1, 8, 8, 8] });
    expect(layers.find((l) => l.alias === "/conv1/Conv")?.shape).toEqual([1, 4, 16, 16]);
    expect(defaultCamLayer(layers)?.name).toBe("/relu3/Relu_output_0");
    x.dispose();
  });
  test("an unknown layer name says what a layer may be", async () => {
    const net = load("cnn");
    const x = input16();
    await expect(gradCam((v) => net.call(v), x, 0, { layer: "/nope" })).rejects.toThrow(
      /never reached.*ONNX graph/,
    );
    x.dispose();
  });
});

describe("layer methods on transformer token layers", () => {
  test("tiny ViT: tokens [1, 17, 16] with a class token on the inferred 4x4 grid", async () => {
    await checkCams("vit", refs.vit, "/blocks/blocks.0/norm1/LayerNormalization_output_0");
    await checkCams("vit", refs.vit, "/blocks/blocks.0/norm1/LayerNormalization");
  });
  test("tiny ViT with an explicit grid gives the same maps and reports the layout", async () => {
    const net = load("vit");
    const x = input16();
    const layer = "/blocks/blocks.0/norm1/LayerNormalization";
    const r = await gradCam((v) => net.call(v), x, refs.vit.target, { layer, grid: [4, 4] });
    expectClose(r.details.layerMap, refs.vit.gradcam, 1e-4 * scale(refs.vit.gradcam));
    expect(r.details.tokens).toEqual({ classTokens: 1, grid: [4, 4] });
    await expect(
      gradCam((v) => net.call(v), x, refs.vit.target, { layer, grid: [3, 5] }),
    ).rejects.toThrow(/17 tokens; a 3x5 grid needs 15 \(or 16 with a class token\)/);
    r.map.dispose();
    x.dispose();
  });
  test("tiny Swin-like: 16 tokens (no class token) of a shifted-window block", async () => {
    await checkCams("swin", refs.swin, "/blocks/blocks.1/norm1/LayerNormalization_output_0");
    await checkCams("swin", refs.swin, "/blocks/blocks.1/norm1/LayerNormalization");
  });
});
