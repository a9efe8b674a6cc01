/**
 * Axiomatic metrics (Quantus's axiomatic family):
 * - completeness (Sundararajan et al. 2017): sum(a) = f(x) - f(x'), x' the baseline image
 *   (Quantus default "black", the image minimum); reported as the gap and whether it is within a
 *   relative tolerance (Quantus asks for exact equality, which float arithmetic rarely gives);
 * - non-sensitivity (Nguyen & Martinez 2020): the number of pixel groups (`featuresInStep` pixels
 *   in raster order) where the map and the model disagree about relevance: zero attribution
 *   (sum |a| < eps) but a model change (mean |f(x) - f(x with the group replaced)| >= eps), or the
 *   reverse. 0 is ideal. Quantus measures the change by the variance of repeated predictions,
 *   which is 0 for any fixed baseline; the mean absolute change is the paper's intent;
 * - input invariance (Kindermans et al. 2019): the model shifted to absorb a constant input shift,
 *   m'(x + c) = m(x), must get the same explanation of x + c as m of x (default c = -1).
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add, sub } from "../../ops/binary.ts";
import { checkInput } from "../evaluate.ts";
import type { BatchOptions, Model, Target } from "../types.ts";
import {
  type Baseline,
  checkPositiveInt,
  featuresInStep,
  forEachExample,
  prepare,
  stepGroups,
} from "./quantus-common.ts";

export interface CompletenessOptions extends BatchOptions, EngineOptions {
  /** The baseline image x': a Quantus baseline name or a value (default "black"). */
  baseline?: Baseline;
  /** Passed when |gap| <= tolerance * max(1, |f(x) - f(x')|) (default 1e-4). */
  tolerance?: number;
}

export interface CompletenessResult {
  /** sum(a) - (f(x) - f(x')) per example. */
  gap: number[];
  /** f(x) - f(x') per example. */
  difference: number[];
  passed: boolean[];
}

/** Completeness: does the map sum to the score difference between the input and the baseline? */
export async function completeness(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: CompletenessOptions = {},
): Promise<CompletenessResult> {
  const api = "completeness";
  const p = await prepare(model, x, target, map, o, "black", api);
  if (p.baseline === "uniform")
    throw new Error(`${api}: the baseline must be deterministic, not "uniform"`);
  const tol = o.tolerance ?? 1e-4;
  const gap: number[] = [];
  const difference: number[] = [];
  const passed: boolean[] = [];
  await forEachExample(p, async ({ img, sal, base, removal }) => {
    const all = Int32Array.from({ length: img.height * img.width }, (_, k) => k);
    const [fb] = await removal(1, () => all);
    let total = 0;
    for (const v of sal) total += v;
    const d = base - fb;
    gap.push(total - d);
    difference.push(d);
    passed.push(Math.abs(total - d) <= tol * Math.max(1, Math.abs(d)));
  });
  return { gap, difference, passed };
}

export interface NonSensitivityOptions extends BatchOptions, EngineOptions {
  /** Zero threshold for attributions and model changes (default 1e-5). */
  eps?: number;
  /** Repeats per group, used only for the random "uniform" baseline (default 100). */
  samples?: number;
  /** Pixels per group (default 1). */
  featuresInStep?: number;
  baseline?: Baseline;
  seed?: number;
}

/** Non-sensitivity: the number of pixel groups where the map's and the model's relevance disagree. */
export async function nonSensitivity(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: NonSensitivityOptions = {},
): Promise<number[]> {
  const api = "nonSensitivity";
  const p = await prepare(model, x, target, map, o, "black", api);
  const eps = o.eps ?? 1e-5;
  const step = featuresInStep(o, api);
  const samples = p.baseline === "uniform" ? (o.samples ?? 100) : 1;
  checkPositiveInt(samples, "samples", api);
  return forEachExample(p, async ({ img, sal, base, removal }) => {
    const hw = img.height * img.width;
    // Groups in raster order.
    const groups = stepGroups(
      Int32Array.from({ length: hw }, (_, k) => k),
      step,
    );
    const scores = await removal(groups.length * samples, (j) => groups[Math.floor(j / samples)]);
    let disagree = 0;
    groups.forEach((pixels, g) => {
      let change = 0;
      for (let r = 0; r < samples; r++) change += Math.abs(base - scores[g * samples + r]);
      change /= samples;
      let mass = 0;
      for (const px of pixels) mass += Math.abs(sal[px]);
      if (mass < eps !== change < eps) disagree++;
    });
    return disagree;
  });
}

/** An explanation of a batch under a given model: resolves to its map (the metric disposes it). */
export type ModelExplainer = (model: Model, x: Tensor) => Promise<Tensor>;

export interface InputInvarianceResult {
  /** max |a(m, x) - a(m', x + c)| per example. */
  maxAbsDiff: number[];
  /** Whether maxAbsDiff <= tolerance * max(1, max |a|). */
  passed: boolean[];
}

/**
 * Input invariance: explains x with `model`, and x + shift with the model that undoes the shift
 * first (the same function, as if its first layer's bias absorbed the shift); an input-invariant
 * method gives the same map.
 */
export async function inputInvariance(
  model: Model,
  explain: ModelExplainer,
  x: Tensor,
  o: { shift?: number; tolerance?: number } & EngineOptions = {},
): Promise<InputInvarianceResult> {
  const ctx = engineContext(o);
  await checkInput(x, "inputInvariance");
  const shift = o.shift ?? -1;
  if (!Number.isFinite(shift))
    throw new Error(`inputInvariance: shift must be a finite number, got ${shift}`);
  const tol = o.tolerance ?? 1e-5;
  const shifted: Model = (v) => model(sub(v, shift));
  const a = await ctx.run(() => explain(model, x));
  const va = await a.data();
  a.dispose();
  const xs = ctx.run(() => tidy(() => keep(add(x, shift))));
  let b: Tensor;
  try {
    b = await ctx.run(() => explain(shifted, xs));
  } finally {
    xs.dispose();
  }
  const vb = await b.data();
  b.dispose();
  if (va.length !== vb.length)
    throw new Error("inputInvariance: the two explanations differ in size");
  const n = x.shape[0];
  const per = va.length / n;
  const maxAbsDiff: number[] = [];
  const passed: boolean[] = [];
  for (let i = 0; i < n; i++) {
    let d = 0;
    let m = 0;
    for (let j = i * per; j < (i + 1) * per; j++) {
      d = Math.max(d, Math.abs(va[j] - vb[j]));
      m = Math.max(m, Math.abs(va[j]));
    }
    maxAbsDiff.push(d);
    passed.push(d <= tol * Math.max(1, m));
  }
  return { maxAbsDiff, passed };
}
