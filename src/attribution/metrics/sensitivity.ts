/**
 * Max-sensitivity (Yeh et al. 2019; Captum sensitivity_max): the largest relative change of the
 * explanation under small input perturbations, max_s ||phi(x + d_s) - phi(x)||_F / ||phi(x)||_F,
 * with d_s uniform in the L-infinity ball of radius 0.02 by default (10 samples).
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add } from "../../ops/binary.ts";
import { randomUniform } from "../../ops/creation.ts";
import { Random } from "../../random.ts";
import { checkInput } from "../evaluate.ts";

/** An explanation of an input batch: resolves to its map (the metric disposes it). */
export type Explainer = (x: Tensor) => Promise<Tensor>;

/**
 * Options of max-sensitivity: the L-infinity radius (default 0.02), the samples (default 10) and
 * the seed.
 */
export interface SensitivityOptions extends EngineOptions {
  radius?: number;
  samples?: number;
  seed?: number;
  /** Custom perturbation d (same shape as x); default uniform in [-radius, radius]. */
  perturb?: (x: Tensor, rng: Random, sample: number) => Tensor;
}

/**
 * Max-sensitivity per example: max over random perturbations d of ||phi(x + d) - phi(x)|| /
 * ||phi(x)|| (Frobenius norms); lower is more stable.
 */
export async function maxSensitivity(
  explain: Explainer,
  x: Tensor,
  o: SensitivityOptions = {},
): Promise<number[]> {
  // The explainer runs after awaits: re-enter the caller's rules and backend for each call.
  const ctx = engineContext(o);
  await checkInput(x, "maxSensitivity");
  const radius = o.radius ?? 0.02;
  const samples = o.samples ?? 10;
  if (!Number.isInteger(samples) || samples < 1)
    throw new Error(`maxSensitivity: samples must be a positive integer, got ${samples}`);
  const rng = new Random(o.seed ?? 0);
  const n = x.shape[0];
  const base = await ctx.run(() => explain(x));
  const b = Float64Array.from(await base.data());
  const per = base.size / n;
  base.dispose();
  const norms = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = i * per; j < (i + 1) * per; j++) s += b[j] * b[j];
    return Math.sqrt(s);
  });
  const worst = new Array<number>(n).fill(0);
  for (let s = 0; s < samples; s++) {
    const moved = ctx.run(() =>
      tidy(() => {
        const d = o.perturb
          ? o.perturb(x, rng, s)
          : add(randomUniform(x.shape, { low: -radius, high: radius, seed: rng }), 0);
        return keep(add(x, d));
      }),
    );
    let m: Tensor;
    try {
      m = await ctx.run(() => explain(moved));
    } finally {
      moved.dispose();
    }
    const v = await m.data();
    m.dispose();
    for (let i = 0; i < n; i++) {
      let diff = 0;
      for (let j = i * per; j < (i + 1) * per; j++) diff += (v[j] - b[j]) ** 2;
      const rel = norms[i] > 0 ? Math.sqrt(diff) / norms[i] : Math.sqrt(diff);
      worst[i] = Math.max(worst[i], rel);
    }
  }
  return worst;
}
