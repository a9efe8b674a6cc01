/**
 * The bundled Fashion-MNIST classifier: the shipped weights (inlined base64 == the .safetensors
 * file) give the same logits as a float64 forward pass written from PyTorch's definitions on the
 * first 500 test images, the engine's accuracy there is the reference's (counted here against the
 * labels), and the accuracy the package reports for the first 2000 is what the engine measures.
 * Needs Debian's dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist).
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, test } from "vitest";
import { tensor } from "../../src/index.ts";
import {
  fashionCnnAccuracy,
  fashionCnnWeights,
  loadFashionCnn,
} from "../../src/models/classifiers/fashion-cnn.ts";
import { SmallCnn } from "../../src/models/classifiers/small-cnn.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { accuracy } from "../../src/models/train/fit-classifier.ts";
import { type Nd, nd } from "../reference/nd.ts";
import { conv2dRef, linearRef, maxPool2dRef } from "../reference/nn.ts";

/** Images run through the float64 reference (its naive loops take about 5 s for 500). */
const IMAGES = 500;
const weightsFile = readFileSync(
  new URL("../../src/models/weights/fashion-cnn.safetensors", import.meta.url),
);

/**
 * A safetensors reader written from the format's description (8-byte little-endian header
 * length, a JSON header of { name: { dtype, shape, data_offsets } }, then the raw data): float32
 * tensors only, which is what the file holds.
 */
function readSafetensorsF32(bytes: Uint8Array): Map<string, Nd> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  const out = new Map<string, Nd>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets } = entry as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    expect(dtype, name).toBe("F32");
    const start = 8 + headerLen + data_offsets[0];
    // Copied out (a Node Buffer's slice is a view into a shared pool), then read as float32.
    const raw = Uint8Array.from(bytes.subarray(start, 8 + headerLen + data_offsets[1]));
    const values = new Float32Array(raw.buffer);
    out.set(name, nd(shape, values));
  }
  return out;
}

/** SmallCnn in float64: conv3x3 pad 1, ReLU, maxpool 2, conv3x3 pad 1, ReLU, maxpool 2, linear. */
function referenceLogits(p: Map<string, Nd>, x: Nd): Nd {
  const get = (k: string) => {
    const v = p.get(k);
    if (!v) throw new Error(`fashion-cnn.safetensors has no ${k}`);
    return v;
  };
  const conv = {
    stride: [1, 1],
    pad: [1, 1, 1, 1],
    dilation: [1, 1],
    groups: 1,
  } as const;
  const pool = { kernel: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false } as const;
  let h = conv2dRef(x, get("features.0.weight"), conv, get("features.0.bias"), true);
  h = maxPool2dRef(h, pool);
  h = conv2dRef(h, get("features.3.weight"), conv, get("features.3.bias"), true);
  h = maxPool2dRef(h, pool);
  const n = h.shape[0];
  return linearRef(
    { shape: [n, h.data.length / n], data: h.data },
    get("classifier.2.weight"),
    get("classifier.2.bias"),
  );
}

const argMax = (row: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
};

describe("bundled fashion-cnn", () => {
  const data = loadFashionMnist("test");
  let ref: Nd;

  beforeAll(() => {
    const px = data.height * data.width;
    const x = nd(
      [IMAGES, 1, data.height, data.width],
      Array.from(data.images.subarray(0, IMAGES * px), (v) => v / 255),
    );
    ref = referenceLogits(readSafetensorsF32(weightsFile), x);
  }, 120_000);

  test("the inlined weights are the shipped safetensors file", () => {
    expect(Buffer.from(fashionCnnWeights()).equals(weightsFile)).toBe(true);
  });

  test("its logits equal a float64 forward pass of the shipped weights", () => {
    const model = loadFashionCnn();
    expect(model).toBeInstanceOf(SmallCnn);
    const px = data.height * data.width;
    const x = Float32Array.from(data.images.subarray(0, IMAGES * px), (v) => v / 255);
    const got = model.call(tensor(x, [IMAGES, 1, data.height, data.width])).dataSync();
    let scale = 0;
    for (const v of ref.data) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref.data[i]));
    expect(got).toHaveLength(IMAGES * 10);
    expect(worst).toBeLessThan(1e-5 * scale);
  });

  test("the engine's accuracy is the float64 reference's; the reported accuracy is measured", () => {
    let correct = 0;
    for (let i = 0; i < IMAGES; i++) {
      if (argMax(ref.data.subarray(i * 10, (i + 1) * 10)) === data.labels[i]) correct++;
    }
    const want = correct / IMAGES;
    const model = loadFashionCnn();
    // A float32 argmax may differ only where two logits tie to float32 precision: at most one image.
    expect(Math.abs(accuracy(model, data, IMAGES) - want)).toBeLessThanOrEqual(1 / IMAGES);
    // A trained classifier, not chance (10%): small Fashion-MNIST CNNs reach about 90%.
    expect(want).toBeGreaterThanOrEqual(0.88);
    // The number the package reports (model card, README) for the first 2000 is what it measures.
    const acc2000 = accuracy(model, data, 2000);
    console.log(
      `fashion-cnn: ${(100 * want).toFixed(2)}% on the first ${IMAGES} test images (float64), ${(100 * acc2000).toFixed(2)}% on 2000`,
    );
    expect(Math.abs(fashionCnnAccuracy.first2000 - acc2000)).toBeLessThanOrEqual(1 / 2000);
  });
});
