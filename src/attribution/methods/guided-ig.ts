/**
 * Guided integrated gradients (Kapishnikov et al. 2021), PAIR saliency's `guided_ig_impl` in
 * float64 on the host: the path starts at the baseline and, at each of `steps` steps, moves the
 * features with the smallest |gradient| (the `fraction` quantile, numpy's "lower" interpolation)
 * toward the input until the L1 distance to the input has shrunk by 1/steps, while no feature
 * may lag more than `maxDist` (in path fraction) behind the step's alpha. The attribution
 * accumulates (x_new - x_old) * grad(x_old); every feature ends at the input, so the map sums to
 * about f(x) - f(x'). PAIR's defaults: 200 steps, fraction 0.25, max_dist 0.02, baseline 0.
 * One gradient call per step, all examples in one batch.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { tensor } from "../../ops/creation.ts";
import { type BaselineSpec, makeBaseline } from "../baselines.ts";
import { checkCall, evalScores, readScores, scoresAndGrad } from "../evaluate.ts";
import type { Attribution, Model, Target } from "../types.ts";

/** Options of Guided IG (PAIR's names: x_steps, fraction, max_dist). */
export interface GuidedIgOptions extends EngineOptions {
  /** Default 0 (black), as PAIR. */
  baseline?: BaselineSpec;
  /** Default 200. */
  steps?: number;
  /** Share of features moved per inner iteration (default 0.25). */
  fraction?: number;
  /** Largest lag of a feature behind the path fraction (default 0.02). */
  maxDist?: number;
}

/** The parameters used, f(x) and f(x'). */
export interface GuidedIgDetails extends Record<string, unknown> {
  steps: number;
  fraction: number;
  maxDist: number;
  scores: number[];
  baselineScores: number[];
}

const EPSILON = 1e-9;

/** math.isclose(a, b, rel_tol=EPSILON, abs_tol=EPSILON). */
const isClose = (a: number, b: number) =>
  Math.abs(a - b) <= Math.max(EPSILON * Math.max(Math.abs(a), Math.abs(b)), EPSILON);

/** One example's walk: state and the update of PAIR's inner loop for one step. */
export class GuidedPath {
  readonly x: Float64Array;
  readonly attr: Float64Array;
  private readonly l1Total: number;

  constructor(
    readonly input: Float64Array,
    readonly baseline: Float64Array,
    readonly steps: number,
    readonly fraction: number,
    readonly maxDist: number,
  ) {
    this.x = Float64Array.from(baseline);
    this.attr = new Float64Array(input.length);
    let l1 = 0;
    for (let j = 0; j < input.length; j++) l1 += Math.abs(input[j] - baseline[j]);
    this.l1Total = l1;
  }

  /** Step `step` (0-based) with the gradient at the current point. */
  advance(step: number, gradActual: ArrayLike<number>): void {
    if (this.l1Total === 0) return;
    const { x, input, baseline } = this;
    const d = x.length;
    const grad = Float64Array.from(gradActual);
    const alpha = (step + 1) / this.steps;
    const alphaMin = Math.max(alpha - this.maxDist, 0);
    const alphaMax = Math.min(alpha + this.maxDist, 1);
    const at = (a: number, j: number) => baseline[j] + (input[j] - baseline[j]) * a;
    const l1Target = this.l1Total * (1 - (step + 1) / this.steps);
    const xOld = new Float64Array(d);
    const absG = new Float64Array(d);
    let gamma = Infinity;
    while (gamma > 1) {
      xOld.set(x);
      for (let j = 0; j < d; j++) {
        const span = input[j] - baseline[j];
        const xa = span !== 0 ? (x[j] - baseline[j]) / span : alphaMax;
        if (xa < alphaMin) x[j] = at(alphaMin, j);
      }
      let l1Current = 0;
      for (let j = 0; j < d; j++) l1Current += Math.abs(x[j] - input[j]);
      if (isClose(l1Target, l1Current)) {
        for (let j = 0; j < d; j++) this.attr[j] += (x[j] - xOld[j]) * gradActual[j];
        break;
      }
      for (let j = 0; j < d; j++) {
        if (x[j] === at(alphaMax, j)) grad[j] = Infinity;
        absG[j] = Math.abs(grad[j]);
      }
      const sorted = Float64Array.from(absG).sort();
      const threshold = sorted[Math.floor(this.fraction * (d - 1))];
      let l1S = 0;
      const sel = new Uint8Array(d);
      for (let j = 0; j < d; j++) {
        if (absG[j] <= threshold && grad[j] !== Infinity) {
          sel[j] = 1;
          l1S += Math.abs(x[j] - at(alphaMax, j));
        }
      }
      gamma = l1S > 0 ? (l1Current - l1Target) / l1S : Infinity;
      for (let j = 0; j < d; j++) {
        if (!sel[j]) continue;
        const xm = at(alphaMax, j);
        x[j] = gamma > 1 ? xm : x[j] + (xm - x[j]) * gamma;
      }
      for (let j = 0; j < d; j++) this.attr[j] += (x[j] - xOld[j]) * gradActual[j];
    }
  }
}

/** Guided IG from the baseline (default 0) with PAIR's defaults; the input's shape. */
export async function guidedIg(
  model: Model,
  x: Tensor,
  target: Target,
  o: GuidedIgOptions = {},
): Promise<Attribution<GuidedIgDetails>> {
  const api = "guidedIg";
  const ctx = engineContext(o);
  await checkCall(x, target, api);
  const steps = o.steps ?? 200;
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`${api}: steps must be a positive integer, got ${steps}`);
  const fraction = o.fraction ?? 0.25;
  if (!(fraction >= 0 && fraction <= 1))
    throw new Error(`${api}: fraction must be in [0, 1], got ${fraction}`);
  const maxDist = o.maxDist ?? 0.02;
  if (!(maxDist >= 0 && maxDist <= 1))
    throw new Error(`${api}: maxDist must be in [0, 1], got ${maxDist}`);
  const n = x.shape[0];
  const per = x.size / n;
  const b = ctx.run(() => tidy(() => keep(makeBaseline(o.baseline ?? 0, x, api))));
  let bv: Float32Array;
  try {
    bv = Float32Array.from(await b.data());
  } finally {
    b.dispose();
  }
  const xv = await x.data();
  const paths = Array.from(
    { length: n },
    (_, i) =>
      new GuidedPath(
        Float64Array.from(xv.subarray(i * per, (i + 1) * per)),
        Float64Array.from(bv.subarray(i * per, (i + 1) * per)),
        steps,
        fraction,
        maxDist,
      ),
  );
  let baselineScores: number[] = [];
  for (let step = 0; step < steps; step++) {
    const point = new Float32Array(x.size);
    paths.forEach((p, i) => point.set(p.x, i * per));
    const { grad, scores } = ctx.run(() =>
      tidy(() => {
        const r = scoresAndGrad(model, tensor(point, x.shape), target);
        return { grad: keep(r.grad), scores: keep(r.scores) };
      }),
    );
    try {
      const s = await readScores(scores, api);
      if (step === 0) baselineScores = Array.from(s);
      const g = await grad.data();
      paths.forEach((p, i) => p.advance(step, g.subarray(i * per, (i + 1) * per)));
    } finally {
      grad.dispose();
      scores.dispose();
    }
  }
  const out = new Float32Array(x.size);
  paths.forEach((p, i) => out.set(p.attr, i * per));
  const end = Array.from(await evalScores(model, x, target, n, ctx, api));
  const map = ctx.run(() => tensor(out, x.shape));
  const sums = paths.map((p) => p.attr.reduce((a, v) => a + v, 0));
  return {
    map,
    delta: sums.map((s, i) => s - (end[i] - baselineScores[i])),
    details: { steps, fraction, maxDist, scores: end, baselineScores },
  };
}
