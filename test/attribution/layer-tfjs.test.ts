/**
 * Layer methods on a TensorFlow.js layers model, the layer named by its Keras name: Grad-CAM and
 * LayerCAM against the definitions computed by TensorFlow.js itself (its own gradient of the head
 * at the layer's activation), the gradient-free and XGrad CAMs against their definitions evaluated
 * with TensorFlow.js (masked inputs, ablated activations, a power-iteration principal component),
 * and the layer list with the default CAM layer.
 */
import { describe, expect, test } from "vitest";
import { gradCam, layerCam } from "../../src/attribution/index.ts";
import { ablationCam, eigenCam, scoreCam } from "../../src/attribution/methods/cam-family.ts";
import { fullGradBiases } from "../../src/attribution/methods/fullgrad.ts";
import { xGradCam } from "../../src/attribution/methods/grad-cam.ts";
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

  test("XGrad-CAM, Score-CAM, Ablation-CAM and Eigen-CAM match their definitions in TensorFlow.js", async () => {
    const { m, features, head } = await build();
    const nhwc = Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5);
    const target = 1;
    type T = import("@tensorflow/tfjs-core").Tensor;
    const logit = (f: T) => tf.slice(head(f), [0, target], [1, 1]).dataSync()[0];
    const relu = (v: number[]) => v.map((e) => Math.max(e, 0));
    const xIn = tf.tensor(nhwc, [1, 8, 8, 3]);
    const A = features.predict(xIn) as T;
    const a = Array.from(A.dataSync()); // [8, 8, 5] (NHWC)
    const K = 5;
    const P = 64;
    const chan = (k: number) => Array.from({ length: P }, (_, p) => a[p * K + k]);
    const weighted = (w: number[]) =>
      relu(
        Array.from({ length: P }, (_, p) => w.reduce((acc, wk, k) => acc + wk * a[p * K + k], 0)),
      );
    // XGrad-CAM: w_k = sum(G_k A_k) / (sum A_k + 1e-7).
    const G = Array.from(
      tf
        .grad((f: T) => tf.sum(tf.slice(head(f), [0, target], [1, 1])))(A)
        .dataSync(),
    );
    const xw = Array.from({ length: K }, (_, k) => {
      const ak = chan(k);
      const num = ak.reduce((acc, v, p) => acc + v * G[p * K + k], 0);
      return num / (ak.reduce((acc, v) => acc + v, 0) + 1e-7);
    });
    // Score-CAM: the layer is input-sized, so each mask is A_k min-max normalised (+1e-8).
    const sc = Array.from({ length: K }, (_, k) => {
      const ak = chan(k);
      const lo = Math.min(...ak);
      const hi = Math.max(...ak);
      const mask = tf.tensor(
        ak.map((v) => (v - lo) / (hi - lo + 1e-8)),
        [1, 8, 8, 1],
      );
      return logit(features.predict(tf.mul(xIn, mask)) as T);
    });
    const z = sc.reduce((acc, v) => acc + Math.exp(v - Math.max(...sc)), 0);
    const sw = sc.map((v) => Math.exp(v - Math.max(...sc)) / z);
    // Ablation-CAM: channel k replaced by 0 when min A = 0 (else min A - 1e7); (f - f_k) / f.
    const f0 = logit(A);
    const minA = Math.min(...a);
    const fill = minA === 0 ? 0 : minA - 1e7;
    const aw = Array.from({ length: K }, (_, k) => {
      const ab = a.map((v, i) => (i % K === k ? fill : v));
      return (f0 - logit(tf.tensor(ab, [1, 8, 8, K]))) / f0;
    });
    // Eigen-CAM: centred activations [P, K] projected on the top right singular vector (power
    // iteration on the K x K scatter matrix), sign so the largest |entry| is positive, ReLU.
    const mean = Array.from({ length: K }, (_, k) => chan(k).reduce((acc, v) => acc + v, 0) / P);
    const c = Array.from({ length: P }, (_, p) =>
      Array.from({ length: K }, (_, k) => a[p * K + k] - mean[k]),
    );
    const S = Array.from({ length: K }, (_, i) =>
      Array.from({ length: K }, (_, j) => c.reduce((acc, r) => acc + r[i] * r[j], 0)),
    );
    let v = Array.from({ length: K }, (_, i) => 1 + i * 0.1);
    for (let it = 0; it < 2000; it++) {
      const u = S.map((row) => row.reduce((acc, sij, j) => acc + sij * v[j], 0));
      const norm = Math.hypot(...u);
      v = u.map((e) => e / norm);
    }
    let proj = c.map((r) => r.reduce((acc, e, k) => acc + e * v[k], 0));
    const big = proj.reduce((bi, e, i) => (Math.abs(e) > Math.abs(proj[bi]) ? i : bi), 0);
    if (proj[big] < 0) proj = proj.map((e) => -e);
    const eig = relu(proj);

    const { json, shard } = await saveArtifacts(m);
    const ours = loadTfjsLayersModel(json, () => shard);
    const model = (x: s.Tensor) => ours.call(x);
    const x = s.transpose(s.tensor(nhwc, [1, 8, 8, 3]), [0, 3, 1, 2]);
    const layer = "feat";
    for (const [name, r, w, want] of [
      ["xgradcam", await xGradCam(model, x, target, { layer }), xw, weighted(xw)],
      ["scorecam", await scoreCam(model, x, target, { layer }), sw, weighted(sw)],
      ["ablationcam", await ablationCam(model, x, target, { layer }), aw, weighted(aw)],
      ["eigencam", await eigenCam(model, x, target, { layer }), null, eig],
    ] as const) {
      const scale = Math.max(...want.map(Math.abs));
      expect(scale, name).toBeGreaterThan(0);
      if (w) expectClose(r.details.weights, w, 1e-4 * Math.max(...w.map(Math.abs)));
      expectClose(r.details.layerMap, want, 1e-4 * scale);
      r.map.dispose();
    }
    // FullGrad needs pre-activation outputs, which a Keras Conv2D does not expose: a clear refusal.
    await expect(fullGradBiases(ours)).rejects.toThrow(/TensorFlow.js layers models/);
    x.dispose();
  });
});
