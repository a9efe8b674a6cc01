/**
 * DeepLIFT with the Rescale rule and DeepLiftShap, as Captum's DeepLift / DeepLiftShap: the model
 * runs on [x; x'] under the Rescale rule set (rules/deeplift.ts), and the map is (x - x') times
 * the multipliers reaching the input. Summation-to-delta makes sum(map) = f(x) - f(x') exactly on
 * networks of linear ops and elementwise nonlinearities; the gap is reported as `delta`.
 * DeepLiftShap averages DeepLIFT over a distribution of baselines.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import { valueAndGrads } from "../../autodiff/grad.ts";
import { withRules } from "../../autodiff/rule-set.ts";
import { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add, mul, sub } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { ones } from "../../ops/creation.ts";
import { slice } from "../../ops/slice.ts";
import { deepLiftRules } from "../../rules/deeplift.ts";
import { type BaselineSpec, makeBaseline } from "../baselines.ts";
import { checkCall, checkFinite, perExampleSums, readScores } from "../evaluate.ts";
import { targetScores } from "../target.ts";
import type { Attribution, Model, Target } from "../types.ts";

/** Options of DeepLIFT: the baseline (default 0), as integrated gradients takes it. */
export interface DeepLiftOptions extends EngineOptions {
  baseline?: BaselineSpec;
}

/** Target scores at the input and at the baseline(s). */
export interface DeepLiftDetails extends Record<string, unknown> {
  scores: number[];
  /** f(baseline) per example (the mean over baselines for DeepLiftShap). */
  baselineScores: number[];
}

const firstRows = (t: Tensor, n: number) =>
  slice(t, [0, ...t.shape.slice(1).map(() => 0)], [n, ...t.shape.slice(1)]);

/** One DeepLIFT pass: the map and the scores of [x; baseline] (2N numbers). */
async function deepLiftOnce(
  model: Model,
  x: Tensor,
  baseline: Tensor,
  target: Target,
  ctx: ReturnType<typeof engineContext>,
): Promise<{ map: Tensor; scores: number[] }> {
  const n = x.shape[0];
  const { map, scores } = ctx.run(() =>
    withRules(deepLiftRules(), () =>
      tidy(() => {
        // Both halves carry the target, as in Captum: the max-pool rule routes the reference
        // half's share of the pooled delta with the reference half's signal.
        const seed = ones([2 * n]);
        const { value, grads } = valueAndGrads((v: Tensor) => targetScores(model(v), target))(
          [concat([x, baseline], 0)],
          seed,
        );
        const m = mul(sub(x, baseline), firstRows(grads[0], n));
        return { map: keep(m), scores: keep(value) };
      }),
    ),
  );
  try {
    return { map, scores: Array.from(await readScores(scores, "deepLift")) };
  } catch (e) {
    map.dispose();
    throw e;
  } finally {
    scores.dispose();
  }
}

/**
 * DeepLIFT (Rescale): (x - x') times the Rescale multipliers; the input's shape, with the
 * summation-to-delta gap sum(map) - (f(x) - f(x')) per example. The model must treat batch rows
 * independently (it runs on [x; x']).
 */
export async function deepLift(
  model: Model,
  x: Tensor,
  target: Target,
  o: DeepLiftOptions = {},
): Promise<Attribution<DeepLiftDetails>> {
  const ctx = engineContext(o);
  await checkCall(x, target, "deepLift");
  const baseline = ctx.run(() => tidy(() => keep(makeBaseline(o.baseline ?? 0, x, "deepLift"))));
  try {
    await checkFinite(baseline, "deepLift", "baseline");
    const { map, scores } = await deepLiftOnce(model, x, baseline, target, ctx);
    const n = x.shape[0];
    return withDelta(map, scores.slice(0, n), scores.slice(n));
  } finally {
    baseline.dispose();
  }
}

/** Options of DeepLiftShap: the baseline distribution, [K, ...input shape without the batch]. */
export interface DeepLiftShapOptions extends EngineOptions {
  /** K baselines stacked on axis 0 (each row is one baseline for every example). */
  baselines: Tensor;
}

/**
 * DeepLiftShap (Captum): the mean over K baselines of DeepLIFT; delta is sum(map) - (f(x) -
 * mean_k f(b_k)) per example.
 */
export async function deepLiftShap(
  model: Model,
  x: Tensor,
  target: Target,
  o: DeepLiftShapOptions,
): Promise<Attribution<DeepLiftDetails>> {
  const ctx = engineContext(o);
  await checkCall(x, target, "deepLiftShap");
  const b = o?.baselines;
  if (
    !(b instanceof Tensor) ||
    b.rank !== x.rank ||
    b.shape.some((d, i) => i > 0 && d !== x.shape[i])
  ) {
    throw new Error(
      `deepLiftShap: baselines must be a tensor [K, ${x.shape.slice(1)}] (K baselines of the input's shape), got ${b instanceof Tensor ? `[${b.shape}]` : typeof b}`,
    );
  }
  await checkFinite(b, "deepLiftShap", "baselines");
  const k = b.shape[0];
  const n = x.shape[0];
  let total: Tensor | undefined;
  const f0 = new Array<number>(n).fill(0);
  let f: number[] = [];
  try {
    for (let i = 0; i < k; i++) {
      const bi = ctx.run(() =>
        tidy(() => keep(makeBaseline(firstRowsAt(b, i), x, "deepLiftShap"))),
      );
      try {
        const r = await deepLiftOnce(model, x, bi, target, ctx);
        f = r.scores.slice(0, n);
        r.scores.slice(n).forEach((v, j) => {
          f0[j] += v / k;
        });
        const prev: Tensor | undefined = total;
        total = ctx.run(() => tidy(() => keep(prev ? add(prev, r.map) : mul(r.map, 1))));
        prev?.dispose();
        r.map.dispose();
      } finally {
        bi.dispose();
      }
    }
    const sum = total as Tensor;
    const map = ctx.run(() => tidy(() => keep(mul(sum, 1 / k))));
    sum.dispose();
    total = undefined;
    return withDelta(map, f, f0);
  } finally {
    total?.dispose();
  }
}

/** The attribution with its completeness gap per example: sum(map) - (f(x) - f(baseline)). */
async function withDelta(
  map: Tensor,
  f: number[],
  f0: number[],
): Promise<Attribution<DeepLiftDetails>> {
  const sums = await perExampleSums(map);
  return {
    map,
    delta: sums.map((s, i) => s - (f[i] - f0[i])),
    details: { scores: f, baselineScores: f0 },
  };
}

/** Row i of t as [1, ...]. */
function firstRowsAt(t: Tensor, i: number): Tensor {
  return slice(t, [i, ...t.shape.slice(1).map(() => 0)], [1, ...t.shape.slice(1)]);
}
