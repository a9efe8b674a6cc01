/**
 * GradientSHAP / expected gradients (Lundberg & Lee 2017; Erion et al. 2021) as Captum
 * `GradientShap` computes it: for each of S samples and each example, a baseline b drawn uniformly
 * from a set of baselines, optional Gaussian noise on the input (x~ = x + e, e ~ N(0, stdev^2)),
 * and a point a ~ U(0, 1) on the straight path; the map is the mean over samples of
 * grad f(b + a (x~ - b)) * (x~ - b). For a linear model it is (x - E[b]) * w in expectation.
 * Draws come from a seeded generator in sample order, so the map does not depend on the batch size.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { tensor } from "../../ops/creation.ts";
import { Random } from "../../random.ts";
import { type BaselineSpec, makeBaseline } from "../baselines.ts";
import { replicasPerCall, rowsPerCall } from "../batching.ts";
import { checkCall, evalScores, readScores, scoresAndGrad } from "../evaluate.ts";
import type { Attribution, BatchOptions, Model, Target } from "../types.ts";

/** Options of GradientSHAP: the baselines, samples, input noise and seed. */
export interface GradientShapOptions extends BatchOptions, EngineOptions {
  /**
   * The baseline distribution: a tensor [B, ...] of B baselines shaped like one example (B other
   * than the batch size N), drawn uniformly per sample; or one baseline spec (default 0, black),
   * which is also how a tensor with N rows is read (one baseline per example).
   */
  baselines?: Tensor | BaselineSpec;
  /** Samples S (default 5, Captum's n_samples). */
  samples?: number;
  /** Standard deviation of the Gaussian noise added to the input (default 0, Captum's stdevs). */
  stdev?: number;
  seed?: number;
}

/** The samples, the baseline drawn and the path point of each (sample-major), and f(x). */
export interface GradientShapDetails extends Record<string, unknown> {
  samples: number;
  /** Index of the baseline drawn per sample and example, [S * N] sample-major. */
  baselineIndex: number[];
  /** The path point a per sample and example, [S * N] sample-major. */
  alphas: number[];
  scores: number[];
}

/** The baselines as float rows [B][per-example size], each either shared or per example. */
async function baselineRows(
  spec: Tensor | BaselineSpec,
  x: Tensor,
  api: string,
): Promise<{ rows: Float32Array; count: number; perExample: boolean }> {
  const sameAsExample =
    spec instanceof Tensor &&
    spec.rank === x.rank &&
    spec.shape.slice(1).every((d, i) => d === x.shape[i + 1]);
  if (spec instanceof Tensor && sameAsExample && spec.shape[0] !== x.shape[0]) {
    return { rows: Float32Array.from(await spec.data()), count: spec.shape[0], perExample: false };
  }
  const b = tidy(() => keep(makeBaseline(spec, x, api)));
  try {
    return { rows: Float32Array.from(await b.data()), count: 1, perExample: true };
  } finally {
    b.dispose();
  }
}

/**
 * GradientSHAP: the mean over samples of grad f(b + a (x~ - b)) * (x~ - b) with b drawn from the
 * baselines, a ~ U(0, 1) and x~ = x + noise; the input's shape.
 */
export async function gradientShap(
  model: Model,
  x: Tensor,
  target: Target,
  o: GradientShapOptions = {},
): Promise<Attribution<GradientShapDetails>> {
  const api = "gradientShap";
  const ctx = engineContext(o);
  await checkCall(x, target, api);
  const samples = o.samples ?? 5;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new Error(`${api}: samples must be a positive integer, got ${samples}`);
  }
  const stdev = o.stdev ?? 0;
  if (!(stdev >= 0) || !Number.isFinite(stdev)) {
    throw new Error(`${api}: stdev must be a non-negative number, got ${stdev}`);
  }
  const n = x.shape[0];
  const per = x.size / n;
  const xv = await x.data();
  const base = await ctx.run(() => baselineRows(o.baselines ?? 0, x, api));
  const rng = new Random(o.seed ?? 0);
  const perCall = replicasPerCall(rowsPerCall(x, o.batchSize, api), n);
  const acc = new Float64Array(x.size);
  const baselineIndex: number[] = [];
  const alphas: number[] = [];
  for (let s0 = 0; s0 < samples; s0 += perCall) {
    const k = Math.min(perCall, samples - s0);
    const points = new Float32Array(k * x.size);
    const diffs = new Float32Array(k * x.size);
    for (let r = 0; r < k * n; r++) {
      const i = r % n;
      const bi = base.count > 1 ? rng.int(base.count) : 0;
      const a = rng.uniform();
      baselineIndex.push(bi);
      alphas.push(a);
      const bOff = base.perExample ? i * per : bi * per;
      for (let j = 0; j < per; j++) {
        const noisy = xv[i * per + j] + (stdev > 0 ? stdev * rng.normal() : 0);
        const b = base.rows[bOff + j];
        points[r * per + j] = b + a * (noisy - b);
        diffs[r * per + j] = noisy - b;
      }
    }
    const { grad, value } = ctx.run(() =>
      tidy(() => {
        const r = scoresAndGrad(
          model,
          tensor(points, [k * n, ...x.shape.slice(1)]),
          target,
          undefined,
          s0 * n,
        );
        return { grad: keep(r.grad), value: keep(r.scores) };
      }),
    );
    try {
      const g = await grad.data();
      await readScores(value, api, s0 * n);
      for (let r = 0; r < k * n; r++) {
        const i = r % n;
        for (let j = 0; j < per; j++) acc[i * per + j] += g[r * per + j] * diffs[r * per + j];
      }
    } finally {
      grad.dispose();
      value.dispose();
    }
  }
  const out = new Float32Array(x.size);
  for (let j = 0; j < x.size; j++) out[j] = acc[j] / samples;
  const scores = Array.from(await evalScores(model, x, target, n, ctx, api));
  return {
    map: ctx.run(() => tensor(out, x.shape)),
    details: { samples, baselineIndex, alphas, scores },
  };
}
