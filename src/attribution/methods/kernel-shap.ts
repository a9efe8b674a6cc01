/**
 * KernelSHAP (Lundberg & Lee 2017) over pixel groups (Captum `KernelShap` with a feature mask):
 * coalitions z of the M groups (present = input, absent = fill), a linear surrogate fitted by
 * Shapley-kernel-weighted least squares in float64, with the efficiency constraints imposed exactly
 * (phi_0 = f(empty), sum phi = f(x) - f(empty)) where Captum approximates them by a weight of 1e6
 * on the two endpoint samples.
 * - samples >= 2^M: every coalition once, weighted by the Shapley kernel
 *   (M - 1) / (C(M, |z|) |z| (M - |z|)); the fit is then exactly the Shapley values.
 * - otherwise Captum's scheme: the two endpoints, then samples - 2 coalitions whose size k in
 *   1..M-1 is drawn with probability proportional to (M - 1) / (k (M - k)) and whose members are
 *   uniform among the subsets of that size, each with weight 1 (the kernel is in the sampling).
 * Each pixel gets its group's value (all channels). Samples come from a seeded generator in order,
 * so the result does not depend on the batch size.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { Random } from "../../random.ts";
import type { Attribution, Model, Target } from "../types.ts";
import {
  type CoalitionOptions,
  coalitionCall,
  exampleScores,
  scoreCoalitions,
  spreadCallToPixels,
} from "./coalitions.ts";
import { weightedLeastSquares } from "./least-squares.ts";

/** Options of KernelSHAP: the pixel groups, the fill of absent groups, the sample count and seed. */
export interface KernelShapOptions extends CoalitionOptions {
  /** Coalitions evaluated, endpoints included (default 25, Captum's n_samples). */
  samples?: number;
}

/** The features, the per-feature Shapley estimates and how they were obtained. */
export interface KernelShapDetails extends Record<string, unknown> {
  labels: number[];
  /** phi per example and feature, [N][M]. */
  values: number[][];
  /** True when every coalition was evaluated (exact Shapley values). */
  exact: boolean;
  /** Coalitions evaluated, endpoints included. */
  coalitions: number;
  /** f(x) and f(all features absent) per example. */
  scores: number[];
  emptyScores: number[];
}

/** log2 of the largest coalition count enumerated. */
const MAX_ENUMERATED_FEATURES = 24;

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** Every coalition but the full one (the empty one first), with its Shapley kernel weight. */
function enumerated(m: number): { present: Uint8Array; weights: Float64Array } {
  const count = 2 ** m - 1;
  const present = new Uint8Array(count * m);
  const weights = new Float64Array(count);
  for (let c = 0; c < count; c++) {
    let size = 0;
    for (let j = 0; j < m; j++) {
      if ((c >> j) & 1) {
        present[c * m + j] = 1;
        size++;
      }
    }
    weights[c] = size === 0 ? 0 : (m - 1) / (binomial(m, size) * size * (m - size));
  }
  return { present, weights };
}

/** The empty coalition, then `draws` coalitions sampled as Captum does, weight 1 each. */
function sampled(
  m: number,
  draws: number,
  rng: Random,
): { present: Uint8Array; weights: Float64Array } {
  const present = new Uint8Array((draws + 1) * m);
  const weights = new Float64Array(draws + 1).fill(1);
  weights[0] = 0;
  const sizeP = Array.from({ length: m - 1 }, (_, i) => (m - 1) / ((i + 1) * (m - 1 - i)));
  const total = sizeP.reduce((a, b) => a + b, 0);
  const order = Array.from({ length: m }, (_, i) => i);
  for (let d = 1; d <= draws; d++) {
    let u = rng.uniform() * total;
    let k = 1;
    while (k < m - 1 && u >= sizeP[k - 1]) u -= sizeP[k++ - 1];
    // A uniform k-subset: the first k of a partial Fisher-Yates shuffle.
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(m - i);
      [order[i], order[j]] = [order[j], order[i]];
      present[d * m + order[i]] = 1;
    }
  }
  return { present, weights };
}

/**
 * The Shapley-kernel fit with phi_0 = f(empty) and sum phi = delta imposed: the last feature is
 * eliminated (phi_M = delta - sum of the others) and the rest solved by weighted least squares.
 */
function constrainedShapleyFit(
  present: Uint8Array,
  weights: Float64Array,
  y: Float64Array,
  empty: number,
  delta: number,
  m: number,
): Float64Array {
  if (m === 1) return Float64Array.of(delta);
  const rows = weights.length;
  const p = m - 1;
  const xs = new Float64Array(rows * p);
  const t = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const last = present[r * m + p];
    for (let j = 0; j < p; j++) xs[r * p + j] = present[r * m + j] - last;
    t[r] = y[r] - empty - last * delta;
  }
  const head = weightedLeastSquares(xs, t, weights, p);
  const phi = new Float64Array(m);
  let s = 0;
  for (let j = 0; j < p; j++) {
    phi[j] = head[j];
    s += head[j];
  }
  phi[p] = delta - s;
  return phi;
}

/**
 * KernelSHAP over the pixel groups of `o.mask`: each pixel gets its group's Shapley estimate (exact
 * when samples >= 2^groups); the input's shape.
 */
export async function kernelShap(
  model: Model,
  x: Tensor,
  target: Target,
  o: KernelShapOptions,
): Promise<Attribution<KernelShapDetails>> {
  const api = "kernelShap";
  const call = await coalitionCall(model, x, target, o, api);
  const n = x.shape[0];
  const m = call.features.labels.length;
  const samples = o.samples ?? 25;
  if (!Number.isInteger(samples) || samples < 2) {
    throw new Error(`${api}: samples must be an integer >= 2 (the two endpoints), got ${samples}`);
  }
  const exact = m <= MAX_ENUMERATED_FEATURES && samples >= 2 ** m;
  const { present, weights } = exact
    ? enumerated(m)
    : sampled(m, samples - 2, new Random(o.seed ?? 0));
  const rows = weights.length;
  const { scores, base } = await scoreCoalitions(call, present);
  const values: number[][] = [];
  const emptyScores: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = exampleScores(scores, rows, n, i);
    const empty = y[0];
    emptyScores.push(empty);
    values.push(Array.from(constrainedShapleyFit(present, weights, y, empty, base[i] - empty, m)));
  }
  return {
    map: spreadCallToPixels(call, values),
    details: {
      labels: call.features.labels,
      values,
      exact,
      coalitions: rows + 1,
      scores: Array.from(base),
      emptyScores,
    },
  };
}
