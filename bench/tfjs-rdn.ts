/**
 * RDN slim x4 and LAM's work as tfjs sees them, shared by the tfjs peers of bench/rdn.ts,
 * bench/lam.ts and bench/webgpu.ts (Node and Deno): the Keras graph as tfjs ops, the
 * progressive-blur path on the host, and the gradient-magnitude detector.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { upscalerPackageDir } from "../src/models/io/tfjs/node.ts";

export const RDN_DIR = join(upscalerPackageDir("esrgan-slim"), "models", "x4");

/**
 * RDN slim x4's Keras graph (the package's model.json and shard) as tfjs ops. `fused`: each conv
 * with its bias as one tf.fused.conv2d (tfjs's fastest forward). Unfused (the default): conv2d then
 * bias add, for gradients: tf.grad through fused conv2d (and so through the LayersModel) computes
 * every filter and bias gradient along with the input gradient (tfjs-cpu spends nearly all its
 * time in Conv2DBackpropFilter, tfjs-wasm has no such kernel); plain ops need only
 * Conv2DBackpropInput, the fair comparison.
 */
export function tfjsRdn(fused = false): {
  run: (x: tf.Tensor4D) => tf.Tensor4D;
  dispose: () => void;
} {
  const json = JSON.parse(readFileSync(join(RDN_DIR, "model.json"), "utf8"));
  const bytes = readFileSync(join(RDN_DIR, json.weightsManifest[0].paths[0]));
  const flat = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
  const weights = new Map<string, tf.Tensor>();
  let offset = 0;
  for (const w of json.weightsManifest[0].weights as { name: string; shape: number[] }[]) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    weights.set(w.name, tf.tensor(flat.subarray(offset, offset + n), w.shape));
    offset += n;
  }
  type Layer = {
    class_name: string;
    name: string;
    config: Record<string, unknown>;
    inbound_nodes: [string, number, number, object][][];
  };
  const config = json.modelTopology.model_config.config;
  const layers: Layer[] = config.layers;
  const outName: string = config.output_layers[0][0];
  const run = (x: tf.Tensor4D): tf.Tensor4D => {
    const v = new Map<string, tf.Tensor4D>();
    for (const l of layers) {
      const ins = (l.inbound_nodes[0] ?? []).map((n) => v.get(n[0]) as tf.Tensor4D);
      let y: tf.Tensor4D;
      switch (l.class_name) {
        case "InputLayer":
          y = x;
          break;
        case "Conv2D": {
          const filter = weights.get(`${l.name}/kernel`) as tf.Tensor4D;
          const bias = weights.get(`${l.name}/bias`) as tf.Tensor1D;
          const pad = l.config.padding as "same" | "valid";
          y = fused
            ? tf.fused.conv2d({ x: ins[0], filter, bias, strides: 1, pad })
            : tf.add(tf.conv2d(ins[0], filter, 1, pad), bias);
          if (l.config.activation === "relu") y = tf.relu(y);
          else if (l.config.activation !== "linear")
            throw new Error(`activation ${l.config.activation}`);
          break;
        }
        case "Activation":
          if (l.config.activation !== "relu") throw new Error(`activation ${l.config.activation}`);
          y = tf.relu(ins[0]);
          break;
        case "Concatenate":
          y = tf.concat(ins, 3);
          break;
        case "Add":
          y = tf.addN(ins);
          break;
        case "UpSampling2D": {
          const [sh, sw] = l.config.size as number[];
          y = tf.image.resizeNearestNeighbor(ins[0], [ins[0].shape[1] * sh, ins[0].shape[2] * sw]);
          break;
        }
        default:
          throw new Error(`RDN layer ${l.class_name} not handled`);
      }
      v.set(l.name, y);
    }
    return v.get(outName) as tf.Tensor4D;
  };
  return { run, dispose: () => tf.dispose([...weights.values()]) };
}

/**
 * LAM's progressive-blur path on the host, in float64, as the reference (LAM_Demo) builds it: an
 * l x l Gaussian (std sigma + 1e-5, coordinates floor(-l/2)+1 .. floor(l/2), normalised) correlated
 * per channel with OpenCV's reflect-101 border (anchor floor(l/2)), at the blur widths
 * sigma (1 - k/fold), k = 0..fold. Returns the fold path images at the right end of each segment
 * and their increments gamma(t_k+1) - gamma(t_k), each [fold, h, w, c] (NHWC, as tfjs wants).
 */
export function hostBlurPath(
  x: Float32Array,
  [c, h, w]: readonly number[],
  sigma: number,
  l: number,
  fold: number,
) {
  const reflect101 = (i: number, n: number) => {
    if (n === 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  const blur = (s: number): Float64Array => {
    const first = Math.floor(-l / 2) + 1;
    const std = s + 1e-5;
    const k = Array.from({ length: l }, (_, i) => Math.exp(-((first + i) ** 2) / (2 * std * std)));
    const total = k.reduce((a, b) => a + b, 0);
    const taps = k.map((v) => v / total);
    const anchor = Math.floor(l / 2);
    const rows = new Float64Array(c * h * w);
    const out = new Float64Array(c * h * w); // NHWC
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++) {
          let acc = 0;
          for (let i = 0; i < l; i++)
            acc += taps[i] * x[(ch * h + reflect101(y + i - anchor, h)) * w + xx];
          rows[(ch * h + y) * w + xx] = acc;
        }
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++) {
          let acc = 0;
          for (let i = 0; i < l; i++)
            acc += taps[i] * rows[(ch * h + y) * w + reflect101(xx + i - anchor, w)];
          out[(y * w + xx) * c + ch] = acc;
        }
    return out;
  };
  // The grid as src/attribution/lam/paths.ts spaces it (linspace(sigma, 0, fold)).
  const grid = Array.from({ length: fold + 1 }, (_, k) =>
    k === fold ? 0 : sigma - (sigma * k) / fold,
  );
  const images = grid.map(blur);
  const n = c * h * w;
  const points = new Float32Array(fold * n);
  const increments = new Float32Array(fold * n);
  for (let k = 0; k < fold; k++) {
    for (let i = 0; i < n; i++) {
      points[k * n + i] = images[k + 1][i];
      increments[k * n + i] = images[k + 1][i] - images[k][i];
    }
  }
  return { points, increments };
}

/**
 * The LAM gradient-magnitude detector on NHWC SR outputs, per batch item, summed over the batch:
 * sqrt(dV^2 + dH^2) of forward differences over the window (one extra row and column, truncated at
 * the image edge), summed over channels and window. sqrt's derivative at 0 is taken as 0, as ours
 * does (RDN's nearest upsampling before its last conv gives exactly flat spots), with plain ops.
 */
export function tfjsGradientMagnitude(
  sr: tf.Tensor4D,
  win: { x: number; y: number; size: number },
) {
  const [b, hh, ww, c] = sr.shape;
  const rows = Math.min(win.size + 1, hh - win.y);
  const cols = Math.min(win.size + 1, ww - win.x);
  const crop = tf.slice(sr, [0, win.y, win.x, 0], [b, rows, cols, c]);
  const r = rows - 1;
  const k = cols - 1;
  const base = tf.slice(crop, [0, 0, 0, 0], [b, r, k, c]);
  const dv = tf.sub(base, tf.slice(crop, [0, 1, 0, 0], [b, r, k, c]));
  const dh = tf.sub(base, tf.slice(crop, [0, 0, 1, 0], [b, r, k, c]));
  const q = tf.add(tf.square(dv), tf.square(dh));
  // mask = sign(q) (q >= 0; tfjs's Sign has a zero gradient, Greater none): sqrt(q + 1 - mask) * mask
  // is sqrt(q) where q > 0 and 0 where q = 0, with a finite slope (times 0) at 0.
  const mask = tf.sign(q);
  return tf.sum(tf.mul(tf.sqrt(tf.add(q, tf.sub(1, mask))), mask));
}
