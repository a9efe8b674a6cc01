import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, test } from "vitest";
import { tidy } from "../../src/autodiff/tidy.ts";
import { loadUpscalerModel, upscalerPackageDir } from "../../src/models/io/tfjs/node.ts";
import { readTfjsWeights } from "../../src/models/io/tfjs/weights.ts";
import { loadTfjsLayersModel } from "../../src/models/io/tfjs-layers.ts";
import { tensor } from "../../src/ops/creation.ts";
import { transpose } from "../../src/ops/transpose.ts";
import {
  ensureTfjs,
  randomiseWeights,
  saveArtifacts,
  tf,
  tfjsPredict,
  tfl,
} from "./tfjs-reference.ts";

/** The top-left size x size crop of the package fixture as NHWC floats scaled to `range`. */
function fixtureCrop(size: number, range: number): Float32Array {
  const png = PNG.sync.read(
    readFileSync(join(upscalerPackageDir("esrgan-slim"), "assets/fixture.png")),
  );
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++)
        out[(y * size + x) * 3 + c] = (png.data[(y * png.width + x) * 4 + c] * range) / 255;
  return out;
}

// Crops keep tfjs-cpu (the reference, ~0.4 GFLOP/s) fast: slim 24x24, medium 16x16, thick (7.2M
// parameters) 8x8.
const CASES = [
  ["esrgan-slim", 24],
  ["esrgan-medium", 16],
  ["esrgan-thick", 8],
] as const;

describe("tfjs layers-model import matches tfjs on the UpscalerJS fixture (x4)", () => {
  for (const [pkg, size] of CASES) {
    test(`${pkg} on a ${size}x${size} crop`, async () => {
      const t0 = performance.now();
      const up = loadUpscalerModel(pkg, 4);
      const input = fixtureCrop(size, up.range[1]);
      const t1 = performance.now();
      const ref = await tfjsPredict(up.dir, input, [1, size, size, 3]);
      const t2 = performance.now();
      const ours = tidy(() => {
        const x = transpose(tensor(input, [1, size, size, 3]), [0, 3, 1, 2]);
        return transpose(up.model.call(x), [0, 2, 3, 1]).dataSync();
      });
      const t3 = performance.now();
      expect(ref.shape).toEqual([1, 4 * size, 4 * size, 3]);
      let maxErr = 0;
      let maxRef = 0;
      for (let i = 0; i < ours.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(ours[i] - ref.values[i]));
        maxRef = Math.max(maxRef, Math.abs(ref.values[i]));
      }
      console.log(
        `${pkg} ${size}x${size}: max |ours - tfjs| = ${maxErr.toExponential(2)} (relative ${(maxErr / maxRef).toExponential(2)}); load ${(t1 - t0).toFixed(0)} ms, tfjs forward ${(t2 - t1).toFixed(0)} ms, ours ${(t3 - t2).toFixed(0)} ms`,
      );
      expect(ours.length).toBe(ref.values.length);
      expect(maxRef).toBeGreaterThan(up.range[1] * 0.1); // a real image came out, not zeros
      expect(maxErr / maxRef).toBeLessThan(1e-3);
    });
  }
});

/** A two-conv model with its weights, small enough to write by hand. */
function tinyModel(extra: object[] = []) {
  const conv = (name: string, inbound: string, filters: number) => ({
    class_name: "Conv2D",
    name,
    config: {
      name,
      filters,
      kernel_size: [1, 1],
      strides: [1, 1],
      padding: "same",
      activation: "relu",
      use_bias: true,
    },
    inbound_nodes: [[[inbound, 0, 0, {}]]],
  });
  const json = {
    format: "layers-model",
    modelTopology: {
      model_config: {
        class_name: "Functional",
        config: {
          layers: [
            {
              class_name: "InputLayer",
              name: "in",
              config: { name: "in", batch_input_shape: [null, null, null, 2] },
              inbound_nodes: [],
            },
            conv("a", "in", 3),
            ...extra,
          ],
          input_layers: [["in", 0, 0]],
          output_layers: [[extra.length ? (extra.at(-1) as { name: string }).name : "a", 0, 0]],
        },
      },
    },
    weightsManifest: [
      {
        paths: ["w.bin"],
        weights: [
          { name: "a/kernel", shape: [1, 1, 2, 3], dtype: "float32" },
          { name: "a/bias", shape: [3], dtype: "float32" },
        ],
      },
    ],
  };
  // kernel[0,0,i,o] = i - o, bias = [1, 5, -1]
  const w = new Float32Array([0, -1, -2, 1, 0, -1, 1, 5, -1]);
  return { json, shard: new Uint8Array(w.buffer) };
}

describe("tfjs layers-model import: small graphs and refusals", () => {
  test("a 1x1 conv with fused relu computes relu(W x + b) in NCHW", () => {
    const { json, shard } = tinyModel();
    const m = loadTfjsLayersModel(json, () => shard);
    // one pixel, channels (2, 5): out_o = relu(2*(0-o) + 5*(1-o) + b_o) = relu(5 - 7o + b_o)
    const y = m.call(tensor([2, 5], [1, 2, 1, 1])).dataSync();
    expect(Array.from(y)).toEqual([6, 3, 0]);
  });

  test("PixelShuffle2x is TensorFlow's depth-to-space (channel (i*2 + j)*C + c)", () => {
    const json = {
      modelTopology: {
        model_config: {
          class_name: "Functional",
          config: {
            layers: [
              {
                class_name: "InputLayer",
                name: "in",
                config: { batch_input_shape: [null, null, null, 8] },
                inbound_nodes: [],
              },
              {
                class_name: "PixelShuffle2x",
                name: "ps",
                config: { scale: 2 },
                inbound_nodes: [[["in", 0, 0, {}]]],
              },
            ],
            input_layers: [["in", 0, 0]],
            output_layers: [["ps", 0, 0]],
          },
        },
      },
      weightsManifest: [],
    };
    const m = loadTfjsLayersModel(json, () => new Uint8Array());
    // Input channel k holds k; output (c, i, j) comes from channel (i*2 + j)*2 + c.
    const y = m.call(tensor([0, 1, 2, 3, 4, 5, 6, 7], [1, 8, 1, 1]));
    expect(y.shape).toEqual([1, 2, 2, 2]);
    expect(Array.from(y.dataSync())).toEqual([0, 2, 4, 6, 1, 3, 5, 7]);
  });

  test("an unknown layer class is refused, naming the layer and the class", () => {
    const { json, shard } = tinyModel([
      {
        class_name: "Cropping2D",
        name: "crop",
        config: { name: "crop" },
        inbound_nodes: [[["a", 0, 0, {}]]],
      },
    ]);
    expect(() => loadTfjsLayersModel(json, () => shard)).toThrow(
      /layer "crop" has class "Cropping2D"/,
    );
  });

  test("a truncated shard is refused, naming the weight and the bytes it needs", () => {
    const { json, shard } = tinyModel();
    expect(() => loadTfjsLayersModel(json, () => shard.subarray(0, 30))).toThrow(
      /weight "a\/bias" \[3\] needs 12 bytes at offset 24.*hold only 30 bytes/,
    );
  });

  test("extra shard bytes, a missing weight and an unused weight are refused", () => {
    const { json, shard } = tinyModel();
    const longer = new Uint8Array(shard.length + 4);
    longer.set(shard);
    expect(() => loadTfjsLayersModel(json, () => longer)).toThrow(
      /hold 40 bytes but the manifest describes 36/,
    );
    const noBias = structuredClone(json);
    noBias.weightsManifest[0].weights.pop();
    expect(() => loadTfjsLayersModel(noBias, () => shard.subarray(0, 24))).toThrow(
      /needs weight "a\/bias"/,
    );
    const extra = structuredClone(json);
    extra.weightsManifest[0].weights.push({ name: "ghost/kernel", shape: [1], dtype: "float32" });
    const more = new Uint8Array(40);
    more.set(shard);
    expect(() => loadTfjsLayersModel(extra, () => more)).toThrow(
      /belong to no layer: ghost\/kernel/,
    );
  });

  test("a kernel whose shape disagrees with the layer config is refused", () => {
    const { json, shard } = tinyModel();
    const bad = structuredClone(json);
    (
      bad.modelTopology.model_config.config.layers[1] as { config: { filters: number } }
    ).config.filters = 4;
    expect(() => loadTfjsLayersModel(bad, () => shard)).toThrow(
      /kernel has 3 filters, config says 4/,
    );
  });

  test("NCHW inputs with the wrong channel count are refused", () => {
    const { json, shard } = tinyModel();
    const m = loadTfjsLayersModel(json, () => shard);
    expect(() => m.call(tensor([1, 2, 3], [1, 3, 1, 1]))).toThrow(
      /expects 2 channels in NCHW layout/,
    );
  });
});

describe("tfjs layers-model import of more layer kinds matches tfjs", () => {
  test("Sequential: strided valid conv, BatchNormalization, MaxPooling2D, dilated conv, Flatten, Dense", async () => {
    await ensureTfjs();
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [11, 11, 2],
          filters: 4,
          kernelSize: 3,
          strides: 2,
          padding: "valid",
          activation: "relu",
        }),
        tfl.layers.batchNormalization({ epsilon: 0.01 }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({
          filters: 3,
          kernelSize: 2,
          dilationRate: 2,
          padding: "same",
          activation: "tanh",
        }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 5, activation: "softmax" }),
      ],
    });
    await expectSameAsTfjs(m, [2, 11, 11, 2], 11);
  });

  test("Functional: Add, Concatenate, UpSampling2D, LeakyReLU, AveragePooling2D, GlobalAveragePooling2D, Dense", async () => {
    await ensureTfjs();
    const input = tfl.input({ shape: [6, 6, 3] });
    const a = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: "same" })
      .apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers
      .conv2d({ filters: 4, kernelSize: 1, useBias: false })
      .apply(input) as tfl.SymbolicTensor;
    const sum = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
    const act = tfl.layers.leakyReLU({ alpha: 0.1 }).apply(sum) as tfl.SymbolicTensor;
    const cat = tfl.layers.concatenate({ axis: -1 }).apply([act, input]) as tfl.SymbolicTensor;
    const up = tfl.layers.upSampling2d({ size: [2, 2] }).apply(cat) as tfl.SymbolicTensor;
    const pooled = tfl.layers.averagePooling2d({ poolSize: 3 }).apply(up) as tfl.SymbolicTensor;
    const gap = tfl.layers.globalAveragePooling2d({}).apply(pooled) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 3 }).apply(gap) as tfl.SymbolicTensor;
    await expectSameAsTfjs(tfl.model({ inputs: input, outputs: out }), [2, 6, 6, 3], 12);
  });
});

async function expectSameAsTfjs(
  m: import("@tensorflow/tfjs-layers").LayersModel,
  shape: number[],
  seed: number,
) {
  randomiseWeights(m, seed);
  const { json, shard } = await saveArtifacts(m);
  const ours = loadTfjsLayersModel(json, () => shard);
  const n = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed));
  const ref = tf.tidy(() =>
    (m.predict(tf.tensor(x, shape)) as import("@tensorflow/tfjs-core").Tensor).dataSync(),
  );
  const y = tidy(() => {
    const nchw = transpose(tensor(x, shape), [0, 3, 1, 2]);
    const out = ours.call(nchw);
    return (out.rank === 4 ? transpose(out, [0, 2, 3, 1]) : out).dataSync();
  });
  expect(y.length).toBe(ref.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    err = Math.max(err, Math.abs(y[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  expect(scale).toBeGreaterThan(0);
  expect(err / scale).toBeLessThan(1e-5);
}

describe("tfjs weight manifests", () => {
  test("uint8/uint16 (min + scale) and float16 quantised weights are expanded", () => {
    const manifest = [
      {
        paths: ["a.bin", "b.bin"],
        weights: [
          {
            name: "q8",
            shape: [3],
            dtype: "float32",
            quantization: { dtype: "uint8", min: -1, scale: 0.5 },
          },
          {
            name: "q16",
            shape: [2],
            dtype: "float32",
            quantization: { dtype: "uint16", min: 10, scale: 0.25 },
          },
          { name: "h", shape: [3], dtype: "float32", quantization: { dtype: "float16" } },
          { name: "i", shape: [1], dtype: "int32" },
        ],
      },
    ];
    // Shards are concatenated: a.bin holds the three uint8 codes, b.bin the rest.
    const b = new Uint8Array(4 + 6 + 4);
    const view = new DataView(b.buffer);
    view.setUint16(0, 4, true);
    view.setUint16(2, 1000, true);
    [0x3c00, 0xc000, 0x3555].forEach((h, i) => view.setUint16(4 + 2 * i, h, true)); // 1, -2, ~1/3
    view.setInt32(10, -7, true);
    const shards: Record<string, Uint8Array> = { "a.bin": new Uint8Array([0, 3, 255]), "b.bin": b };
    const w = readTfjsWeights(manifest, (p) => shards[p]);
    expect(Array.from(w.get("q8")!.values)).toEqual([-1, 0.5, 126.5]);
    expect(Array.from(w.get("q16")!.values)).toEqual([11, 260]);
    expect(Array.from(w.get("h")!.values)).toEqual([1, -2, Math.fround(0.333251953125)]);
    expect(Array.from(w.get("i")!.values)).toEqual([-7]);
    expect(() =>
      readTfjsWeights(
        [{ paths: ["a.bin"], weights: [{ name: "z", shape: [1], dtype: "complex64" }] }],
        () => new Uint8Array(8),
      ),
    ).toThrow(/weight "z" has dtype "complex64"/);
  });
});
