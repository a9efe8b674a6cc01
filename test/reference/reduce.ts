/** Float64 references of reductions, softmax and the normalisation layers. */
import { type Nd, ravel, sizeOf, unravel } from "./nd.ts";

/** Normalises possibly negative axes; undefined means all axes. */
export function axesOf(rank: number, axes?: number | readonly number[]): number[] {
  const list =
    axes === undefined
      ? Array.from({ length: rank }, (_, i) => i)
      : typeof axes === "number"
        ? [axes]
        : [...axes];
  return list.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

/**
 * Groups the elements of x by their index outside `axes`: returns the output shape (reduced axes
 * removed, or kept as 1) and, per output element, the list of input values in row-major order.
 */
function groups(x: Nd, axes: readonly number[], keepDims: boolean) {
  const outShapeKept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const n = sizeOf(outShapeKept);
  const vals: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, ax) => (axes.includes(ax) ? 0 : v));
    vals[ravel(idx, outShapeKept)].push(x.data[i]);
  }
  const shape = keepDims ? outShapeKept : x.shape.filter((_, i) => !axes.includes(i));
  return { shape, vals };
}

export function reduceRef(
  x: Nd,
  axes: number | readonly number[] | undefined,
  keepDims: boolean,
  f: (vs: number[]) => number,
): Nd {
  const { shape, vals } = groups(x, axesOf(x.shape.length, axes), keepDims);
  return { shape, data: Float64Array.from(vals.map(f)) };
}

export const sumOf = (vs: number[]) => vs.reduce((a, b) => a + b, 0);
export const maxOf = (vs: number[]) => vs.reduce((a, b) => Math.max(a, b), -Infinity);
export const minOf = (vs: number[]) => vs.reduce((a, b) => Math.min(a, b), Infinity);
export const meanOf = (vs: number[]) => sumOf(vs) / vs.length;
export const varianceOf = (vs: number[], correction = 0) => {
  const m = meanOf(vs);
  return sumOf(vs.map((v) => (v - m) ** 2)) / (vs.length - correction);
};
export const logSumExpOf = (vs: number[]) => {
  const m = maxOf(vs);
  return m + Math.log(sumOf(vs.map((v) => Math.exp(v - m))));
};

/** Index of the first maximum along one axis (axis removed). */
export function argMaxRef(x: Nd, axis: number): Nd {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  return reduceRef(x, [ax], false, (vs) => {
    let best = 0;
    for (let i = 1; i < vs.length; i++) if (vs[i] > vs[best]) best = i;
    return best;
  });
}

/** Applies f to every 1-D fibre along `axis` (values in order), writing the results in place. */
export function alongAxis(x: Nd, axis: number, f: (fibre: number[]) => number[]): Nd {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  const out = new Float64Array(x.data.length);
  const n = x.shape[ax];
  const stride = sizeOf(x.shape.slice(ax + 1));
  const outer = sizeOf(x.shape.slice(0, ax));
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < stride; s++) {
      const base = o * n * stride + s;
      const fibre = Array.from({ length: n }, (_, k) => x.data[base + k * stride]);
      const r = f(fibre);
      for (let k = 0; k < n; k++) out[base + k * stride] = r[k];
    }
  }
  return { shape: [...x.shape], data: out };
}

/** softmax_i = exp(x_i) / sum_j exp(x_j). */
export function softmaxRef(x: Nd, axis: number): Nd {
  return alongAxis(x, axis, (v) => {
    const e = v.map((t) => Math.exp(t));
    const s = sumOf(e);
    return e.map((t) => t / s);
  });
}

/** logSoftmax_i = x_i - log sum_j exp(x_j). */
export function logSoftmaxRef(x: Nd, axis: number): Nd {
  return alongAxis(x, axis, (v) => {
    const l = Math.log(sumOf(v.map((t) => Math.exp(t))));
    return v.map((t) => t - l);
  });
}

/** PyTorch eval-mode batch norm: (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]. */
export function batchNormRef(
  x: Nd,
  mean: Nd,
  variance: Nd,
  weight: Nd | null,
  bias: Nd | null,
  eps: number,
): Nd {
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const c = unravel(i, x.shape)[1];
    let y = (x.data[i] - mean.data[c]) / Math.sqrt(variance.data[c] + eps);
    if (weight) y *= weight.data[c];
    if (bias) y += bias.data[c];
    out[i] = y;
  }
  return { shape: [...x.shape], data: out };
}

/** Training-mode batch norm: statistics over every axis but 1 (biased variance for y). */
export function batchNormTrainRef(
  x: Nd,
  weight: Nd | null,
  bias: Nd | null,
  eps: number,
): { y: Nd; mean: Nd; variance: Nd; unbiasedVariance: Nd } {
  const c = x.shape[1];
  const per: number[][] = Array.from({ length: c }, () => []);
  for (let i = 0; i < x.data.length; i++) per[unravel(i, x.shape)[1]].push(x.data[i]);
  const mean = { shape: [c], data: Float64Array.from(per.map(meanOf)) };
  const variance = { shape: [c], data: Float64Array.from(per.map((v) => varianceOf(v))) };
  const unbiasedVariance = {
    shape: [c],
    data: Float64Array.from(per.map((v) => varianceOf(v, v.length > 1 ? 1 : 0))),
  };
  return {
    y: batchNormRef(x, mean, variance, weight, bias, eps),
    mean,
    variance,
    unbiasedVariance,
  };
}

/** F.layer_norm over the last k axes, with elementwise weight and bias of that trailing shape. */
export function layerNormRef(
  x: Nd,
  k: number,
  weight: Nd | null,
  bias: Nd | null,
  eps: number,
): Nd {
  const inner = sizeOf(x.shape.slice(x.shape.length - k));
  const out = new Float64Array(x.data.length);
  for (let o = 0; o < x.data.length; o += inner) {
    const v = Array.from(x.data.subarray(o, o + inner));
    const m = meanOf(v);
    const s = Math.sqrt(varianceOf(v) + eps);
    for (let j = 0; j < inner; j++) {
      let y = (v[j] - m) / s;
      if (weight) y *= weight.data[j];
      if (bias) y += bias.data[j];
      out[o + j] = y;
    }
  }
  return { shape: [...x.shape], data: out };
}
