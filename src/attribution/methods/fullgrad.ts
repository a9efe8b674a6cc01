/**
 * FullGrad (Srinivas & Fleuret 2019) as pytorch-grad-cam computes it: the input term |x * grad x|
 * plus, for every layer with a per-channel bias b (convolutions with a bias, and batch norms with
 * their effective bias b - mean * gamma / sqrt(var + eps)), the bias-gradient term |b_k * G_k| with
 * G = d f / d(layer output); d f / d b_k is the spatial sum of G_k, so taps on the layer outputs
 * give it without bias hooks. Every channel map is min-max normalised (img - min, / (1e-7 + max))
 * and resized bilinearly to the input, all are summed, and the sum is min-max normalised per
 * example into [0, 1]. Returns [N, 1, H, W].
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import { valueAndGrads } from "../../autodiff/grad.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { OnnxModel } from "../../models/io/onnx/model.ts";
import { preActivationTap, TfjsLayersModel } from "../../models/io/tfjs-layers.ts";
import { Conv2d } from "../../models/nn/conv.ts";
import { Linear } from "../../models/nn/linear.ts";
import type { Module } from "../../models/nn/module.ts";
import { BatchNorm2d } from "../../models/nn/norm.ts";
import { withTaps } from "../../models/nn/taps.ts";
import { add } from "../../ops/binary.ts";
import { ones, tensor, zeros } from "../../ops/creation.ts";
import { resize } from "../../ops/resize.ts";
import { checkImageCall, readScores } from "../evaluate.ts";
import { targetScores } from "../target.ts";
import type { Attribution, Model, Target } from "../types.ts";

/** A layer whose output carries a per-channel bias, and that bias. */
export interface BiasLayer {
  /** The layer's name as taps know it (module path, ONNX tensor or node name, tfjs layer). */
  layer: string;
  bias: ArrayLike<number>;
  /**
   * Left out where the layer's output is not [N, C, h, w] (a Keras Dense after a Flatten or a
   * pooling: its bias maps need a spatial layer, as pytorch-grad-cam leaves Linear out).
   */
  spatialOnly?: boolean;
}

/** Options of FullGrad: the bias layers (fullGradBiases lists them for a model). */
export interface FullGradOptions extends EngineOptions {
  biases: readonly BiasLayer[];
}

/** The bias layers used and the target scores. */
export interface FullGradDetails extends Record<string, unknown> {
  layers: string[];
  scores: number[];
}

/**
 * The bias layers of an ONNX graph, in evaluation order, tapped by output tensor name: every Conv
 * whose bias B is an initializer and every BatchNormalization (B - mean * scale / sqrt(var +
 * epsilon)), the ops behind PyTorch's Conv2d and BatchNorm2d. Gemm (Linear) is left out as in
 * pytorch-grad-cam, whose bias maps need a spatial layer. An exporter that folded a batch norm into
 * the preceding convolution leaves one bias (the folded one) where PyTorch had two.
 */
function onnxFullGradBiases(model: OnnxModel): BiasLayer[] {
  const w = model.weightMap();
  const values = (name: string | undefined) => (name ? w.get(name)?.values : undefined);
  const out: BiasLayer[] = [];
  for (const l of model.layerNames()) {
    if (!l.firstOutput) continue;
    if (l.opType === "Conv" && l.inputs.length === 3) {
      const b = values(l.inputs[2]);
      if (b) out.push({ layer: l.tensor, bias: Float32Array.from(b) });
    } else if (l.opType === "BatchNormalization") {
      const [g, b, mu, v] = l.inputs.slice(1, 5).map(values);
      if (!g || !b || !mu || !v) continue;
      const eps = l.attrs.float("epsilon", 1e-5);
      out.push({
        layer: l.tensor,
        bias: Float64Array.from(b, (bk, k) => bk - (mu[k] * g[k]) / Math.sqrt(v[k] + eps)),
      });
    }
  }
  return out;
}

/** Effective eval-mode bias of a batch norm: b - mean * gamma / sqrt(var + eps). */
async function batchNormBias(m: BatchNorm2d): Promise<Float64Array> {
  const [g, b, mu, v] = await Promise.all(
    [m.weight, m.bias, m.runningMean, m.runningVar].map((t) => t.data()),
  );
  return Float64Array.from(b, (bk, k) => bk - (mu[k] * g[k]) / Math.sqrt(v[k] + m.eps));
}

/**
 * The bias layers of a TensorFlow.js layers model, in file order: Conv2D and Dense with a bias,
 * tapped before their fused activation where they have one ("<layer>/preact": the bias term needs
 * the gradient at the biased output), Dense only where its output is spatial, and
 * BatchNormalization with its effective bias.
 */
async function tfjsFullGradBiases(model: TfjsLayersModel): Promise<BiasLayer[]> {
  const out: BiasLayer[] = [];
  for (const { name, className } of model.layerNames()) {
    const m = model.layerModule(name);
    const layer = model.hasPreActivation(name) ? preActivationTap(name) : name;
    if ((m instanceof Conv2d || m instanceof Linear) && m.bias) {
      const bias = Float32Array.from(await m.bias.data());
      out.push(className === "Dense" ? { layer, bias, spatialOnly: true } : { layer, bias });
    } else if (m instanceof BatchNorm2d) out.push({ layer: name, bias: await batchNormBias(m) });
  }
  return out;
}

/**
 * The bias layers of a model, in evaluation order, as pytorch-grad-cam's FullGrad selects them:
 * every Conv2d with a bias and every BatchNorm2d (its effective eval-mode bias) of a built-in
 * model; for an ONNX graph see onnxFullGradBiases, for a TensorFlow.js one tfjsFullGradBiases.
 */
export async function fullGradBiases(model: Module): Promise<BiasLayer[]> {
  if (model instanceof OnnxModel) return onnxFullGradBiases(model);
  if (model instanceof TfjsLayersModel) return tfjsFullGradBiases(model);
  const out: BiasLayer[] = [];
  for (const [path, m] of model.namedModules()) {
    if (m instanceof Conv2d && m.bias)
      out.push({ layer: path, bias: Float32Array.from(await m.bias.data()) });
    else if (m instanceof BatchNorm2d) out.push({ layer: path, bias: await batchNormBias(m) });
  }
  return out;
}

/** img - min, then / (1e-7 + max), in place (pytorch-grad-cam's scale_cam_image). */
function scaleInPlace(v: Float64Array | Float32Array, off: number, len: number): void {
  let lo = Infinity;
  for (let p = off; p < off + len; p++) lo = Math.min(lo, v[p]);
  let hi = -Infinity;
  for (let p = off; p < off + len; p++) {
    v[p] -= lo;
    hi = Math.max(hi, v[p]);
  }
  for (let p = off; p < off + len; p++) v[p] /= 1e-7 + hi;
}

/** FullGrad: input-gradient and bias-gradient maps, normalised and summed, [N, 1, H, W] in [0, 1]. */
export async function fullGrad(
  model: Model,
  x: Tensor,
  target: Target,
  o: FullGradOptions,
): Promise<Attribution<FullGradDetails>> {
  const api = "fullGrad";
  const ctx = engineContext(o ?? {});
  await checkImageCall(x, target, api);
  const listed = o?.biases;
  if (!Array.isArray(listed)) {
    throw new Error(
      `${api}: options.biases must list the bias layers ({ layer, bias }); fullGradBiases(model) finds them in a built-in model`,
    );
  }
  const [n, c, hh, ww] = x.shape;
  // Pass 1: the shape of every bias layer's output.
  const shapes = new Map<string, number[]>();
  ctx.run(() =>
    tidy(() => {
      const taps: Record<string, (t: Tensor) => Tensor> = {};
      for (const b of listed) {
        taps[b.layer] = (t) => {
          if (shapes.has(b.layer))
            throw new Error(`${api}: layer "${b.layer}" ran more than once in one forward pass`);
          shapes.set(b.layer, [...t.shape]);
          return t;
        };
      }
      withTaps(taps, () => model(x));
    }),
  );
  for (const b of listed) {
    const s = shapes.get(b.layer);
    if (!s)
      throw new Error(`${api}: bias layer "${b.layer}" was never reached in the forward pass`);
    if (b.spatialOnly && s.length !== 4) continue;
    if (s.length !== 4 || s[1] !== b.bias.length) {
      throw new Error(
        `${api}: bias layer "${b.layer}" outputs [${s}]; expected [N, ${b.bias.length}, h, w] for its ${b.bias.length} biases`,
      );
    }
  }
  const biases = listed.filter((b) => shapes.get(b.layer)!.length === 4);
  // Pass 2: d f / dx and d f / d(layer output) in one backward pass, through zero offsets.
  const { gx, gl, scores } = ctx.run(() =>
    tidy(() => {
      const offsets = biases.map((b) => zeros(shapes.get(b.layer)!));
      const { value, grads } = valueAndGrads((xin: Tensor, ...zs: Tensor[]) => {
        const taps: Record<string, (t: Tensor) => Tensor> = {};
        biases.forEach((b, j) => {
          taps[b.layer] = (t) => add(t, zs[j]);
        });
        return withTaps(taps, () => targetScores(model(xin), target));
      })([x, ...offsets], ones([n]));
      return { gx: keep(grads[0]), gl: grads.slice(1).map((g) => keep(g)), scores: keep(value) };
    }),
  );
  try {
    const sc = Array.from(await readScores(scores, api));
    const xv = await x.data();
    const gxv = await gx.data();
    const total = new Float64Array(n * hh * ww);
    const plane = hh * ww;
    const term = new Float64Array(plane);
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const off = (i * c + ch) * plane;
        for (let p = 0; p < plane; p++) term[p] = Math.abs(xv[off + p] * gxv[off + p]);
        scaleInPlace(term, 0, plane);
        for (let p = 0; p < plane; p++) total[i * plane + p] += term[p];
      }
    }
    for (let j = 0; j < biases.length; j++) {
      const [, k, h, w] = shapes.get(biases[j].layer)!;
      const g = await gl[j].data();
      const maps = new Float32Array(n * k * h * w);
      for (let i = 0; i < n; i++) {
        for (let q = 0; q < k; q++) {
          const off = (i * k + q) * h * w;
          for (let p = 0; p < h * w; p++) maps[off + p] = Math.abs(biases[j].bias[q] * g[off + p]);
          scaleInPlace(maps, off, h * w);
        }
      }
      const up = ctx.run(() =>
        tidy(() => keep(resize(tensor(maps, [n, k, h, w]), [hh, ww], { mode: "bilinear" }))),
      );
      const uv = await up.data();
      up.dispose();
      for (let i = 0; i < n; i++)
        for (let q = 0; q < k; q++)
          for (let p = 0; p < plane; p++) total[i * plane + p] += uv[(i * k + q) * plane + p];
    }
    for (let i = 0; i < n; i++) scaleInPlace(total, i * plane, plane);
    return {
      map: ctx.run(() => tensor(Float32Array.from(total), [n, 1, hh, ww])),
      details: { layers: biases.map((b) => b.layer), scores: sc },
    };
  } finally {
    gx.dispose();
    for (const g of gl) g.dispose();
    scores.dispose();
  }
}
