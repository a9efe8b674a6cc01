/**
 * LIME (Ribeiro et al. 2016) over pixel groups, with Captum `Lime`'s defaults: samples coalitions
 * z with each feature present with probability 1/2, weights each by the exponential kernel
 * exp(-d^2 / (2 width^2)) of the cosine distance d = 1 - cos(x, x_z) between the input and the
 * perturbed input (flattened, per example; width 1), and fits sklearn's weighted Lasso
 * (alpha 0.01, with an intercept) in float64; alpha 0 gives weighted least squares. Each pixel gets
 * its group's coefficient (all channels). Samples come from a seeded generator in order.
 */
import { Tensor } from "../../autodiff/tensor.ts";
import { Random } from "../../random.ts";
import type { Fill } from "../perturb.ts";
import type { Attribution, Model, Target } from "../types.ts";
import {
  type CoalitionOptions,
  coalitionCall,
  exampleScores,
  type Features,
  scoreCoalitions,
  spreadCallToPixels,
} from "./coalitions.ts";
import { weightedLasso } from "./least-squares.ts";

/** Options of LIME: pixel groups, fill, samples, seed, the Lasso penalty and the kernel width. */
export interface LimeOptions extends CoalitionOptions {
  /** Random coalitions (default 50, Captum's n_samples). */
  samples?: number;
  /** L1 penalty of the surrogate (default 0.01, Captum's SkLearnLasso); 0 = least squares. */
  alpha?: number;
  /** Width of the exponential cosine-distance kernel (default 1). */
  kernelWidth?: number;
}

/** The features, the surrogate's coefficients and intercept, and the sample weights. */
export interface LimeDetails extends Record<string, unknown> {
  labels: number[];
  /** Surrogate coefficients [N][M]. */
  values: number[][];
  intercepts: number[];
  /** The coalitions sampled, [samples][M] of 0/1. */
  coalitions: number[][];
  /** Kernel weight of each sample per example, [N][samples]. */
  weights: number[][];
  scores: number[];
}

/** exp(-d^2 / (2 width^2)) with d the cosine distance of x and each perturbed x_z, per example. */
async function kernelWeights(
  x: Tensor,
  fill: Fill,
  features: Features,
  present: Uint8Array,
  width: number,
): Promise<number[][]> {
  const [n, c, h, w] = x.shape;
  const m = features.labels.length;
  const xv = await x.data();
  const fv = fill instanceof Tensor ? await fill.data() : null;
  const count = present.length / m;
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    // Per feature: sum x^2, sum x f, sum f^2 over its pixels and channels.
    const xx = new Float64Array(m);
    const xf = new Float64Array(m);
    const ff = new Float64Array(m);
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < h * w; p++) {
        const at = (i * c + ch) * h * w + p;
        const a = xv[at];
        const f = fv ? fv[at] : (fill as number);
        const g = features.index[p];
        xx[g] += a * a;
        xf[g] += a * f;
        ff[g] += f * f;
      }
    }
    const norm = Math.sqrt(xx.reduce((s, v) => s + v, 0));
    const row: number[] = [];
    for (let r = 0; r < count; r++) {
      let dot = 0;
      let sq = 0;
      for (let g = 0; g < m; g++) {
        const on = present[r * m + g];
        dot += on ? xx[g] : xf[g];
        sq += on ? xx[g] : ff[g];
      }
      const denom = norm * Math.sqrt(sq);
      const d = 1 - (denom > 0 ? dot / denom : 0);
      row.push(Math.exp(-(d * d) / (2 * width * width)));
    }
    out.push(row);
  }
  return out;
}

/**
 * LIME over the pixel groups of `o.mask`: each pixel gets its group's coefficient in the weighted
 * Lasso surrogate; the input's shape.
 */
export async function lime(
  model: Model,
  x: Tensor,
  target: Target,
  o: LimeOptions,
): Promise<Attribution<LimeDetails>> {
  const api = "lime";
  const call = await coalitionCall(model, x, target, o, api);
  const { features, fill } = call;
  const n = x.shape[0];
  const m = features.labels.length;
  const samples = o.samples ?? 50;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new Error(`${api}: samples must be a positive integer, got ${samples}`);
  }
  const alpha = o.alpha ?? 0.01;
  if (!(alpha >= 0) || !Number.isFinite(alpha)) {
    throw new Error(`${api}: alpha must be a non-negative number, got ${alpha}`);
  }
  const width = o.kernelWidth ?? 1;
  if (!(width > 0) || !Number.isFinite(width)) {
    throw new Error(`${api}: kernelWidth must be a positive number, got ${width}`);
  }
  const rng = new Random(o.seed ?? 0);
  const present = new Uint8Array(samples * m);
  for (let j = 0; j < present.length; j++) present[j] = rng.uniform() < 0.5 ? 1 : 0;
  const { scores, base } = await scoreCoalitions(call, present);
  const weights = await kernelWeights(x, fill, features, present, width);
  const xs = Float64Array.from(present);
  const values: number[][] = [];
  const intercepts: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = exampleScores(scores, samples, n, i);
    const fit = weightedLasso(xs, y, Float64Array.from(weights[i]), m, alpha);
    values.push(Array.from(fit.coef));
    intercepts.push(fit.intercept);
  }
  return {
    map: spreadCallToPixels(call, values),
    details: {
      labels: features.labels,
      values,
      intercepts,
      coalitions: Array.from({ length: samples }, (_, r) =>
        Array.from(present.subarray(r * m, (r + 1) * m)),
      ),
      weights,
      scores: Array.from(base),
    },
  };
}
