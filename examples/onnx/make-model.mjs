#!/usr/bin/env node
/**
 * Writes examples/onnx/tiny-cnn.onnx, a 10-class classifier for 28x28 grey images (Conv 3x3 with
 * 4 filters, Relu, 2x2 MaxPool, Flatten, Gemm), and tiny-cnn.expected.json: its logits on the
 * bundled Fashion-MNIST image assets/fashion-mnist/test-0.png, computed here in plain JavaScript
 * (no salient code), so the example's output can be checked against an independent forward pass.
 * The weights are seeded pseudo-random numbers: the model is a stand-in for a trained one.
 *
 * Run from the repository root: node examples/onnx/make-model.mjs && npx biome check --write examples/onnx
 * Encoded with onnx-proto (a devDependency of the repository, an independent protobuf encoder).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import onnxProto from "onnx-proto";
import { PNG } from "pngjs";

const { onnx } = onnxProto;
const here = dirname(fileURLToPath(import.meta.url));
const FLOAT = 1;
const [H, W, K, CLASSES] = [28, 28, 4, 10];
const FEATURES = K * (H / 2) * (W / 2);

/** mulberry32: small, seeded, reproducible. Values in [-scale, scale). */
function random(seed, n, scale) {
  let a = seed >>> 0;
  return Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 * scale - scale;
  });
}
// Rounded to float32, as the ONNX file stores them, so the reference uses the same numbers.
const f32 = (xs) => Array.from(Float32Array.from(xs));
const convW = f32(random(1, K * 9, 0.5));
const convB = f32(random(2, K, 0.1));
const gemmW = f32(random(3, CLASSES * FEATURES, 0.05));
const gemmB = f32(random(4, CLASSES, 0.1));

const tensor = (name, dims, floatData) => ({ name, dataType: FLOAT, dims, floatData });
const valueInfo = (name, dims) => ({
  name,
  type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});
const ints = (name, values) => ({ name, type: 7, ints: values });
const model = onnx.ModelProto.create({
  irVersion: 8,
  producerName: "salient examples/onnx/make-model.mjs",
  opsetImport: [{ domain: "", version: 13 }],
  graph: {
    name: "tiny-cnn",
    node: [
      {
        opType: "Conv",
        input: ["image", "conv.weight", "conv.bias"],
        output: ["conv"],
        attribute: [ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1])],
      },
      { opType: "Relu", input: ["conv"], output: ["relu"] },
      {
        opType: "MaxPool",
        input: ["relu"],
        output: ["pool"],
        attribute: [ints("kernel_shape", [2, 2]), ints("strides", [2, 2])],
      },
      { opType: "Flatten", input: ["pool"], output: ["flat"] },
      {
        opType: "Gemm",
        input: ["flat", "fc.weight", "fc.bias"],
        output: ["logits"],
        attribute: [{ name: "transB", type: 2, i: 1 }],
      },
    ],
    initializer: [
      tensor("conv.weight", [K, 1, 3, 3], convW),
      tensor("conv.bias", [K], convB),
      tensor("fc.weight", [CLASSES, FEATURES], gemmW),
      tensor("fc.bias", [CLASSES], gemmB),
    ],
    input: [valueInfo("image", [1, 1, H, W])],
    output: [valueInfo("logits", [1, CLASSES])],
  },
});
writeFileSync(join(here, "tiny-cnn.onnx"), onnx.ModelProto.encode(model).finish());

// The reference forward pass, in float64 on the float32 weights.
const png = PNG.sync.read(
  readFileSync(join(here, "..", "..", "assets", "fashion-mnist", "test-0.png")),
);
const x = Array.from({ length: H * W }, (_, p) => {
  const [r, g, b] = [png.data[4 * p], png.data[4 * p + 1], png.data[4 * p + 2]];
  return Math.floor((r * 299 + g * 587 + b * 114) / 1000) / 255; // luma, as readImage(path, 1)
});
const at = (i, j) => (i < 0 || j < 0 || i >= H || j >= W ? 0 : x[i * W + j]);
const pooled = [];
for (let k = 0; k < K; k++) {
  const relu = (i, j) => {
    let s = convB[k];
    for (let di = 0; di < 3; di++)
      for (let dj = 0; dj < 3; dj++) s += convW[k * 9 + di * 3 + dj] * at(i + di - 1, j + dj - 1);
    return Math.max(0, s);
  };
  for (let i = 0; i < H / 2; i++)
    for (let j = 0; j < W / 2; j++)
      pooled.push(
        Math.max(
          relu(2 * i, 2 * j),
          relu(2 * i, 2 * j + 1),
          relu(2 * i + 1, 2 * j),
          relu(2 * i + 1, 2 * j + 1),
        ),
      );
}
const logits = gemmB.map((b, c) => pooled.reduce((s, v, f) => s + v * gemmW[c * FEATURES + f], b));
const expected = { image: "fashion-mnist/test-0.png", logits };
writeFileSync(join(here, "tiny-cnn.expected.json"), `${JSON.stringify(expected, null, 2)}\n`);
console.log(`wrote tiny-cnn.onnx and tiny-cnn.expected.json to ${here}`);
