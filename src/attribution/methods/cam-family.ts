/**
 * The gradient-free members of the CAM family, as pytorch-grad-cam defines them, on a named layer
 * A [N, K, h, w]:
 * - Score-CAM (Wang et al. 2020): each channel A^k upsampled to the input (bilinear,
 *   align_corners, as torch's UpsamplingBilinear2d), min-max normalised (+1e-8) into a mask M^k;
 *   weights = softmax over k of f(x * M^k); map relu(sum_k w_k A^k).
 * - Ablation-CAM (Desai & Ramaswamy 2020): the model rerun with channel k of A replaced (by 0 when
 *   min A = 0, else by min A - 1e7, pytorch-grad-cam's AblationLayer); weights (f - f_k) / f.
 * - Eigen-CAM (Muhammad & Yeasin 2020): A as hw positions x K channels, centred per channel,
 *   projected on its first right singular vector. The SVD leaves that vector's sign arbitrary
 *   (pytorch-grad-cam inherits LAPACK's); here the projection's largest-magnitude entry is made
 *   positive (sklearn's svd_flip rule), so the map is reproducible. No target is used.
 * Each perturbation batch runs through the model in chunks of `batchSize` rows; the map is
 * relu'd (unless relu: false), upsampled to the input ([N, 1, H, W]), with the layer-resolution map
 * and weights in the details, as camMethod reports them.
 */
import { type EngineContext, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { withTaps } from "../../models/nn/taps.ts";
import { add, mul } from "../../ops/binary.ts";
import { tensor } from "../../ops/creation.ts";
import { resize } from "../../ops/resize.ts";
import { rowsPerCall } from "../batching.ts";
import { evalScores, evalScoresOf } from "../evaluate.ts";
import { recordLayer } from "../layer-gradient.ts";
import { targetScores } from "../target.ts";
import type { Attribution, BatchOptions, Model, Target } from "../types.ts";
import { type CamDetails, type CamOptions, camToInput, checkCamCall } from "./grad-cam.ts";

/** Options of Score-CAM, Ablation-CAM and Eigen-CAM: a CAM layer plus batching. */
export interface PerturbationCamOptions extends Omit<CamOptions, "grid">, BatchOptions {}

/** Which gradient-free CAM perturbationCam computes. */
export type PerturbationCamVariant = "scorecam" | "ablationcam" | "eigencam";

/** The layer's output [N, K, h, w] for x (the caller owns it). */
function layerActivation(model: Model, x: Tensor, layer: string, api: string): Tensor {
  return tidy(() => {
    const { output: a, calls } = recordLayer(model, x, layer);
    if (!a) {
      throw new Error(
        `${api}: layer "${layer}" was never reached in the forward pass; give the dotted path of a module (e.g. "features.4"), an ONNX tensor or node name, or a tfjs layer name (listLayers lists them)`,
      );
    }
    if (calls > 1)
      throw new Error(`${api}: layer "${layer}" ran ${calls} times in one forward pass`);
    if (a.rank !== 4) {
      throw new Error(
        `${api}: layer "${layer}" outputs [${a.shape}]; this method needs a convolutional layer [N, K, h, w]`,
      );
    }
    return keep(a);
  });
}

/** Row r of an example-major expansion (K rows per example) scores example floor(r / K)'s target. */
function expandedTarget(target: Target, n: number, k: number): Target {
  if (typeof target === "function") return target;
  const per = typeof target === "number" ? Array(n).fill(target) : target;
  const rows = Array.from({ length: n * k }, (_, r) => per[Math.floor(r / k)]);
  return (out: Tensor, off = 0) => targetScores(out, rows.slice(off, off + out.shape[0]));
}

/** Softmax over each row of a [N][K] score table. */
function softmaxRows(s: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, s[i * k + j]);
    let z = 0;
    for (let j = 0; j < k; j++) z += out[i * k + j] = Math.exp(s[i * k + j] - m);
    for (let j = 0; j < k; j++) out[i * k + j] /= z;
  }
  return out;
}

/** Score-CAM channel weights: softmax_k f(x * normalised upsampled A^k). */
async function scoreCamWeights(
  model: Model,
  x: Tensor,
  a: Tensor,
  target: Target,
  batchSize: number,
  ctx: EngineContext,
): Promise<Float64Array> {
  const [n, c, hh, ww] = x.shape;
  const k = a.shape[1];
  const up = ctx.run(() =>
    tidy(() => keep(resize(a, [hh, ww], { mode: "bilinear", alignCorners: true }))),
  );
  const masks = Float32Array.from(await up.data());
  up.dispose();
  const plane = hh * ww;
  for (let j = 0; j < n * k; j++) {
    const m = masks.subarray(j * plane, (j + 1) * plane);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of m) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    for (let p = 0; p < plane; p++) m[p] = (m[p] - lo) / (hi - lo + 1e-8);
  }
  const xv = await x.data();
  const scores = await evalScoresOf(
    model,
    n * k,
    (r0, r1) => {
      const rows = new Float32Array((r1 - r0) * c * plane);
      for (let r = r0; r < r1; r++) {
        const i = Math.floor(r / k);
        for (let ch = 0; ch < c; ch++) {
          const o = ((r - r0) * c + ch) * plane;
          const xo = (i * c + ch) * plane;
          for (let p = 0; p < plane; p++) rows[o + p] = xv[xo + p] * masks[r * plane + p];
        }
      }
      return tensor(rows, [r1 - r0, c, hh, ww]);
    },
    expandedTarget(target, n, k),
    batchSize,
    ctx,
    "scoreCam",
  );
  return softmaxRows(scores, n, k);
}

/** Ablation-CAM channel weights: (f - f_k) / f with channel k of the layer replaced. */
async function ablationCamWeights(
  model: Model,
  x: Tensor,
  a: Tensor,
  layer: string,
  target: Target,
  batchSize: number,
  ctx: EngineContext,
): Promise<Float64Array> {
  const [n] = x.shape;
  const k = a.shape[1];
  const av = await a.data();
  const per = a.size / n;
  const fill = Array.from({ length: n }, (_, i) => {
    let m = Infinity;
    for (let j = i * per; j < (i + 1) * per; j++) m = Math.min(m, av[j]);
    return m === 0 ? 0 : m - 1e7;
  });
  const base = await evalScores(model, x, target, batchSize, ctx, "ablationCam");
  let ablate: { keep: Tensor; value: Tensor } | null = null;
  const tapped: Model = (inp) =>
    withTaps({ [layer]: (out) => (ablate ? add(mul(out, ablate.keep), ablate.value) : out) }, () =>
      model(inp),
    );
  const xv = await x.data();
  const xPer = x.size / n;
  const scores = await evalScoresOf(
    tapped,
    n * k,
    (r0, r1) => {
      const rows = r1 - r0;
      const keepM = new Float32Array(rows * k).fill(1);
      const value = new Float32Array(rows * k);
      const inp = new Float32Array(rows * xPer);
      for (let r = r0; r < r1; r++) {
        const i = Math.floor(r / k);
        keepM[(r - r0) * k + (r % k)] = 0;
        value[(r - r0) * k + (r % k)] = fill[i];
        inp.set(xv.subarray(i * xPer, (i + 1) * xPer), (r - r0) * xPer);
      }
      ablate = { keep: tensor(keepM, [rows, k, 1, 1]), value: tensor(value, [rows, k, 1, 1]) };
      return tensor(inp, [rows, ...x.shape.slice(1)]);
    },
    expandedTarget(target, n, k),
    batchSize,
    ctx,
    "ablationCam",
  );
  const w = new Float64Array(n * k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) w[i * k + j] = (base[i] - scores[i * k + j]) / base[i];
  return w;
}

/** Symmetric eigen-decomposition by cyclic Jacobi rotations, float64: the top eigenvector. */
function topEigenvector(m: Float64Array, n: number): { value: number; vector: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p] ** 2;
      for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (a[i * n + i] > a[best * n + best]) best = i;
  return {
    value: a[best * n + best],
    vector: Float64Array.from({ length: n }, (_, k) => v[k * n + best]),
  };
}

/**
 * Eigen-CAM's projection for one example's activation [K, h * w]: the centred positions x channels
 * matrix times its first right singular vector, sign fixed so the largest-magnitude entry is
 * positive.
 */
export function firstPrincipalProjection(
  act: ArrayLike<number>,
  k: number,
  hw: number,
): Float64Array {
  const x = new Float64Array(hw * k);
  for (let c = 0; c < k; c++) {
    let mean = 0;
    for (let p = 0; p < hw; p++) mean += act[c * hw + p];
    mean /= hw;
    for (let p = 0; p < hw; p++) x[p * k + c] = act[c * hw + p] - mean;
  }
  const proj = new Float64Array(hw);
  if (k <= hw) {
    const g = new Float64Array(k * k);
    for (let p = 0; p < hw; p++)
      for (let i = 0; i < k; i++)
        for (let j = 0; j < k; j++) g[i * k + j] += x[p * k + i] * x[p * k + j];
    const { vector } = topEigenvector(g, k);
    for (let p = 0; p < hw; p++) for (let i = 0; i < k; i++) proj[p] += x[p * k + i] * vector[i];
  } else {
    const g = new Float64Array(hw * hw);
    for (let p = 0; p < hw; p++)
      for (let q = 0; q < hw; q++) {
        let s = 0;
        for (let i = 0; i < k; i++) s += x[p * k + i] * x[q * k + i];
        g[p * hw + q] = s;
      }
    const { value, vector } = topEigenvector(g, hw);
    const sv = Math.sqrt(Math.max(0, value));
    for (let p = 0; p < hw; p++) proj[p] = sv * vector[p];
  }
  let at = 0;
  for (let p = 1; p < hw; p++) if (Math.abs(proj[p]) > Math.abs(proj[at])) at = p;
  if (proj[at] < 0) for (let p = 0; p < hw; p++) proj[p] = -proj[p];
  return proj;
}

/**
 * Score-CAM, Ablation-CAM or Eigen-CAM at layer `o.layer`: [N, 1, H, W], with the layer map and
 * channel weights in the details.
 */
export async function perturbationCam(
  model: Model,
  x: Tensor,
  target: Target,
  variant: PerturbationCamVariant,
  o: PerturbationCamOptions,
): Promise<Attribution<CamDetails>> {
  const api = variant;
  const ctx = engineContext(o ?? {});
  await checkCamCall(x, target, o, api);
  const batchSize = rowsPerCall(x, o.batchSize, api);
  const a = ctx.run(() => layerActivation(model, x, o.layer, api));
  try {
    const [n, k, h, w] = a.shape;
    const av = await a.data();
    const layerMap = new Float32Array(n * h * w);
    let weights: Float64Array = new Float64Array(0);
    if (variant === "eigencam") {
      for (let i = 0; i < n; i++) {
        const proj = firstPrincipalProjection(
          av.subarray(i * k * h * w, (i + 1) * k * h * w),
          k,
          h * w,
        );
        layerMap.set(proj, i * h * w);
      }
    } else {
      weights =
        variant === "scorecam"
          ? await scoreCamWeights(model, x, a, target, batchSize, ctx)
          : await ablationCamWeights(model, x, a, o.layer, target, batchSize, ctx);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < k; c++) {
          const wc = weights[i * k + c];
          const off = (i * k + c) * h * w;
          for (let p = 0; p < h * w; p++) layerMap[i * h * w + p] += wc * av[off + p];
        }
      }
    }
    if (o.relu ?? true)
      for (let j = 0; j < layerMap.length; j++) layerMap[j] = Math.max(0, layerMap[j]);
    const scores =
      variant === "eigencam"
        ? []
        : Array.from(await evalScores(model, x, target, batchSize, ctx, api));
    const map = ctx.run(() =>
      tidy(() => keep(camToInput(tensor(layerMap, [n, 1, h, w]), x, o.upsample))),
    );
    return {
      map,
      details: {
        layer: o.layer,
        layerMap,
        layerShape: [n, 1, h, w],
        weights: Float32Array.from(weights),
        scores,
      },
    };
  } finally {
    a.dispose();
  }
}

/** Score-CAM (Wang et al. 2020, pytorch-grad-cam's definition), [N, 1, H, W]. */
export const scoreCam = (model: Model, x: Tensor, target: Target, o: PerturbationCamOptions) =>
  perturbationCam(model, x, target, "scorecam", o);
/** Ablation-CAM (Desai & Ramaswamy 2020, pytorch-grad-cam's definition), [N, 1, H, W]. */
export const ablationCam = (model: Model, x: Tensor, target: Target, o: PerturbationCamOptions) =>
  perturbationCam(model, x, target, "ablationcam", o);
/** Eigen-CAM (Muhammad & Yeasin 2020): the first principal component of the layer, [N, 1, H, W]. */
export const eigenCam = (model: Model, x: Tensor, target: Target, o: PerturbationCamOptions) =>
  perturbationCam(model, x, target, "eigencam", o);
