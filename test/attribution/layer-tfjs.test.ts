/**
 * Layer methods on a TensorFlow.js layers model, the layer named by its Keras name: Grad-CAM and
 * LayerCAM against the definitions computed by TensorFlow.js itself (its own gradient of the head
 * at the layer's activation), the gradient-free and XGrad CAMs against their definitions evaluated
 * with TensorFlow.js (masked inputs, ablated activations, a power-iteration principal component),
 * the layer list with the default CAM layer, and FullGrad (fused activations tapped before the
 * activation) against its definition on gradients TensorFlow.js takes through its own ops.
 */
import { describe, expect, test } from "vitest";
import { gradCam, layerCam } from "../../src/attribution/index.ts";
import { ablationCam, eigenCam, scoreCam } from "../../src/attribution/methods/cam-family.ts";
import { fullGrad, fullGradBiases } from "../../src/attribution/methods/fullgrad.ts";
import { xGradCam } from "../../src/attribution/methods/grad-cam.ts";
import * as s from "../../src/index.ts";
import { defaultCamLayer, listLayers } from "../../src/models/io/layer-list.ts";
import { loadTfjsLayersModel } from "../../src/models/io/tfjs-layers.ts";
import { withTaps } from "../../src/models/nn/taps.ts";
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
    x.dispose();
  });
});

/** PyTorch's bilinear resize (align_corners=False) of one [h, w] plane to [H, W], in float64. */
function bilinear(v: ArrayLike<number>, h: number, w: number, H: number, W: number): Float64Array {
  const src = (o: number, n: number, N: number) => Math.max(0, ((o + 0.5) * n) / N - 0.5);
  const out = new Float64Array(H * W);
  for (let i = 0; i < H; i++) {
    const y = src(i, h, H);
    const y0 = Math.floor(y);
    const y1 = Math.min(y0 + 1, h - 1);
    const ly = y - y0;
    for (let j = 0; j < W; j++) {
      const x = src(j, w, W);
      const x0 = Math.floor(x);
      const x1 = Math.min(x0 + 1, w - 1);
      const lx = x - x0;
      const top = v[y0 * w + x0] * (1 - lx) + v[y0 * w + x1] * lx;
      const bot = v[y1 * w + x0] * (1 - lx) + v[y1 * w + x1] * lx;
      out[i * W + j] = top * (1 - ly) + bot * ly;
    }
  }
  return out;
}

/** pytorch-grad-cam's scale_cam_image on one plane: - min, then / (1e-7 + max). */
function scaled(v: number[]): number[] {
  const lo = Math.min(...v);
  const hi = Math.max(...v.map((e) => e - lo));
  return v.map((e) => (e - lo) / (1e-7 + hi));
}

describe("FullGrad on a tfjs layers model", () => {
  test("fused Conv2D/Dense activations are tapped before the activation; the map matches TensorFlow.js gradients", async () => {
    await ensureTfjs();
    type T = import("@tensorflow/tfjs-core").Tensor;
    const input = tfl.input({ shape: [8, 8, 3] });
    const c1 = tfl.layers.conv2d({
      filters: 4,
      kernelSize: 3,
      padding: "same",
      activation: "relu",
      name: "c1",
    });
    const bn = tfl.layers.batchNormalization({ name: "bn" });
    const pool = tfl.layers.maxPooling2d({ poolSize: 2, name: "pool" });
    const d4 = tfl.layers.dense({ units: 5, activation: "tanh", name: "d4" });
    const c2 = tfl.layers.conv2d({
      filters: 6,
      kernelSize: 3,
      padding: "same",
      activation: "relu",
      name: "c2",
    });
    const gap = tfl.layers.globalAveragePooling2d({ name: "gap" });
    const logits = tfl.layers.dense({ units: 3, name: "logits" });
    let h = input as tfl.SymbolicTensor;
    for (const l of [c1, bn, pool, d4, c2, gap, logits]) h = l.apply(h) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: input, outputs: h });
    randomiseWeights(m, 11);
    const target = 2;
    const nhwc = Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => Math.cos(i * 0.23) * 0.5 + 0.5);

    // The reference forward in TensorFlow.js ops with zero offsets added to every biased output
    // (before the activation), so tf.grads gives d f / d(biased output).
    const w = (l: { getWeights(): T[] }) => l.getWeights();
    const [k1, b1] = w(c1);
    const [gamma, beta, mu, vr] = w(bn);
    const [k4, b4] = w(d4);
    const [k2, b2] = w(c2);
    const [kl, bl] = w(logits);
    const xIn = tf.tensor(nhwc, [1, 8, 8, 3]);
    const offsets = [
      [1, 8, 8, 4],
      [1, 8, 8, 4],
      [1, 4, 4, 5],
      [1, 4, 4, 6],
    ].map((sh) => tf.zeros(sh));
    const forward = (x: T, o1: T, ob: T, o4: T, o2: T) => {
      const z1 = tf.add(tf.add(tf.conv2d(x as never, k1 as never, 1, "same"), b1), o1);
      const zb = tf.add(
        tf.batchNorm(tf.relu(z1), mu as never, vr as never, beta as never, gamma as never, 1e-3),
        ob,
      );
      const p = tf.maxPool(zb as never, 2, 2, "valid");
      const z4 = tf.add(
        tf.reshape(tf.add(tf.matMul(tf.reshape(p, [16, 4]), k4 as never), b4), [1, 4, 4, 5]),
        o4,
      );
      const z2 = tf.add(tf.add(tf.conv2d(tf.tanh(z4) as never, k2 as never, 1, "same"), b2), o2);
      const g = tf.mean(tf.relu(z2), [1, 2]);
      return { z1, out: tf.add(tf.matMul(g as never, kl as never), bl) };
    };
    const viaLayers = Array.from((m.predict(xIn) as T).dataSync());
    const manual = forward(xIn, ...(offsets as [T, T, T, T]));
    expectClose(manual.out.dataSync(), viaLayers, 1e-5);
    const grads = tf
      .grads((x: T, o1: T, ob: T, o4: T, o2: T) =>
        tf.sum(tf.slice(forward(x, o1, ob, o4, o2).out, [0, target], [1, 1])),
      )([xIn, ...offsets])
      .map((g) => Array.from(g.dataSync()));

    // FullGrad's definition on those gradients (NHWC), in float64.
    const bnBias = Array.from(beta.dataSync(), (b, k) => {
      const g = gamma.dataSync()[k];
      return b - (mu.dataSync()[k] * g) / Math.sqrt(vr.dataSync()[k] + 1e-3);
    });
    const total = new Float64Array(64);
    const addPlanes = (g: number[], bias: number[] | null, hw: number, C: number) => {
      for (let k = 0; k < C; k++) {
        const plane = Array.from({ length: hw * hw }, (_, p) =>
          Math.abs((bias ? bias[k] : nhwc[p * C + k]) * g[p * C + k]),
        );
        const up = bilinear(scaled(plane), hw, hw, 8, 8);
        for (let p = 0; p < 64; p++) total[p] += up[p];
      }
    };
    addPlanes(grads[0], null, 8, 3);
    addPlanes(grads[1], Array.from(b1.dataSync()), 8, 4);
    addPlanes(grads[2], bnBias, 8, 4);
    addPlanes(grads[3], Array.from(b4.dataSync()), 4, 5);
    addPlanes(grads[4], Array.from(b2.dataSync()), 4, 6);
    const want = scaled(Array.from(total));

    const { json, shard } = await saveArtifacts(m);
    const ours = loadTfjsLayersModel(json, () => shard);
    const model = (x: s.Tensor) => ours.call(x);
    const x = s.transpose(s.tensor(nhwc, [1, 8, 8, 3]), [0, 3, 1, 2]);
    // The pre-activation tap sees the conv before its ReLU (negative values included).
    let pre: number[] = [];
    const record = (t: s.Tensor) => {
      pre = Array.from(t.dataSync());
      return t;
    };
    withTaps({ "c1/preact": record }, () => model(x));
    const z1 = Array.from(
      s
        .transpose(s.tensor(Float32Array.from(manual.z1.dataSync()), [1, 8, 8, 4]), [0, 3, 1, 2])
        .dataSync(),
    );
    expect(Math.min(...z1)).toBeLessThan(0);
    expectClose(pre, z1, 1e-5);

    const biases = await fullGradBiases(ours);
    expect(biases.map((b) => b.layer)).toEqual([
      "c1/preact",
      "bn",
      "d4/preact",
      "c2/preact",
      "logits",
    ]);
    expectClose(biases[1].bias, bnBias, 1e-6);
    const r = await fullGrad(model, x, target, { biases });
    // The Dense after the pooling has no spatial output: left out, as pytorch-grad-cam does.
    expect(r.details.layers).toEqual(["c1/preact", "bn", "d4/preact", "c2/preact"]);
    expectClose(r.map.dataSync(), want, 1e-4);
    s.dispose([x, r.map]);
  });
});
