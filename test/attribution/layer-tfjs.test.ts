/**
 * Layer methods on a TensorFlow.js layers model, the layer named by its Keras name: Grad-CAM and
 * LayerCAM against the definitions computed by TensorFlow.js itself (its own gradient of the head
 * at the layer's activation), and the layer list with the default CAM layer.
 */
import { describe, expect, test } from "vitest";
import { gradCam, layerCam } from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { defaultCamLayer, listLayers } from "../../src/models/io/layer-list.ts";
import { loadTfjsLayersModel } from "../../src/models/io/tfjs-layers.ts";
import { ensureTfjs, randomiseWeights, saveArtifacts, tf, tfl } from "../models/tfjs-reference.ts";
import { expectClose } from "./helpers.ts";

async function build() {
  await ensureTfjs();
  const input = tfl.input({ shape: [8, 8, 3] });
  const conv1 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", name: "c1" });
  const act1 = tfl.layers.reLU({ name: "r1" });
  const conv2 = tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: "same", name: "c2" });
  const feat = tfl.layers.reLU({ name: "feat" });
  const gap = tfl.layers.globalAveragePooling2d({ name: "gap" });
  const dense = tfl.layers.dense({ units: 3, name: "logits" });
  const a = feat.apply(conv2.apply(act1.apply(conv1.apply(input)))) as tfl.SymbolicTensor;
  const m = tfl.model({ inputs: input, outputs: dense.apply(gap.apply(a)) as tfl.SymbolicTensor });
  randomiseWeights(m, 5);
  const features = tfl.model({ inputs: input, outputs: a });
  const head = (f: import("@tensorflow/tfjs-core").Tensor) =>
    dense.apply(gap.apply(f)) as import("@tensorflow/tfjs-core").Tensor;
  return { m, features, head };
}

describe("layer methods on a tfjs layers model", () => {
  test("Grad-CAM and LayerCAM at a Keras layer name match TensorFlow.js's own gradient", async () => {
    const { m, features, head } = await build();
    const nhwc = Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5);
    const target = 1;
    // The reference, in TensorFlow.js: A, G = d logit_target / d A, then the definitions.
    const ref = tf.tidy(() => {
      const A = features.predict(
        tf.tensor(nhwc, [1, 8, 8, 3]),
      ) as import("@tensorflow/tfjs-core").Tensor4D;
      const G = tf.grad((f) => tf.sum(tf.slice(head(f), [0, target], [1, 1])))(A);
      const w = tf.mean(G, [1, 2], true);
      const gc = tf.relu(tf.sum(tf.mul(w, A), 3));
      const lc = tf.relu(tf.sum(tf.mul(tf.relu(G), A), 3));
      return { gradcam: gc.dataSync(), layercam: lc.dataSync() };
    });
    const { json, shard } = await saveArtifacts(m);
    const ours = loadTfjsLayersModel(json, () => shard);
    const model = (x: s.Tensor) => ours.call(x);
    const x = s.transpose(s.tensor(nhwc, [1, 8, 8, 3]), [0, 3, 1, 2]);
    const gc = await gradCam(model, x, target, { layer: "feat" });
    const lc = await layerCam(model, x, target, { layer: "feat" });
    const scale = Math.max(...ref.gradcam, ...ref.layercam);
    expect(Math.max(...ref.gradcam)).toBeGreaterThan(0);
    expectClose(gc.details.layerMap, ref.gradcam, 1e-5 * scale);
    expectClose(lc.details.layerMap, ref.layercam, 1e-5 * scale);
    const layers = listLayers(ours, x);
    expect(layers.map((l) => [l.name, l.shape])).toEqual([
      ["c1", [1, 4, 8, 8]],
      ["r1", [1, 4, 8, 8]],
      ["c2", [1, 5, 8, 8]],
      ["feat", [1, 5, 8, 8]],
      ["gap", [1, 5]],
      ["logits", [1, 3]],
    ]);
    expect(defaultCamLayer(layers)?.name).toBe("feat");
    s.dispose([x, gc.map, lc.map]);
  });
});
