/**
 * Infidelity (Yeh et al. 2019; Captum captum/metrics/_core/infidelity.py): how well I . phi predicts
 * the change f(x) - f(x - I) under random perturbations I, INFD = E[(I . phi - (f(x) - f(x - I)))^2].
 * With `normalize`, phi is first rescaled by the best beta = E[ab] / E[a^2] (a = I . phi,
 * b = the score change), which makes the metric invariant to the map's scale.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { sub } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { randomNormal } from "../../ops/creation.ts";
import { Random } from "../../random.ts";
import { rowsPerCall } from "../batching.ts";
import { checkCall, perturbedAndCleanScores } from "../evaluate.ts";
import type { BatchOptions, Model, Target } from "../types.ts";

/** Draws a perturbation I of x's shape (the perturbed input is x - I). */
export type Perturbation = (x: Tensor, rng: Random) => Tensor;

/** Options of infidelity: the perturbation, how many, and whether to rescale the map first. */
export interface InfidelityOptions extends BatchOptions, EngineOptions {
  /** Default: Gaussian I ~ N(0, 0.1^2) per element. */
  perturb?: Perturbation;
  /** Number of perturbations (Captum's n_perturb_samples, default 10). */
  samples?: number;
  normalize?: boolean;
  seed?: number;
  /** The baseline of an input-multiplied map (see above). */
  baseline?: number | Tensor;
}

/** A perturbation I ~ N(0, std^2) per element (default std 0.1, Captum's example). */
export const gaussianPerturbation =
  (std = 0.1): Perturbation =>
  (x, rng) =>
    randomNormal(x.shape, { std, seed: rng });

/**
 * Infidelity per example, E[(I . map - (f(x) - f(x - I)))^2] over random perturbations I; lower is
 * better. `map` has the input's shape.
 */
export async function infidelity(
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: InfidelityOptions = {},
): Promise<number[]> {
  const ctx = engineContext(o);
  await checkCall(x, target, "infidelity");
  if (map.rank !== x.rank || map.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(`infidelity: the map [${map.shape}] must have the input's shape [${x.shape}]`);
  }
  const samples = o.samples ?? 10;
  if (!Number.isInteger(samples) || samples < 1)
    throw new Error(`infidelity: samples must be a positive integer, got ${samples}`);
  const perturb = o.perturb ?? gaussianPerturbation();
  const rng = new Random(o.seed ?? 0);
  const n = x.shape[0];
  const per = x.size / n;
  const phi = await map.data();
  const xv = await x.data();
  const bv =
    o.baseline === undefined
      ? null
      : typeof o.baseline === "number"
        ? null
        : await o.baseline.data();
  if (bv && bv.length !== x.size) {
    throw new Error(`infidelity: the baseline must have the input's shape [${x.shape}]`);
  }
  // 1 / (x - x') per element for input-multiplied maps (1 where x = x', Captum's default_denom).
  const scale = (j: number) => {
    if (o.baseline === undefined) return 1;
    const d = xv[j] - (bv ? bv[j] : (o.baseline as number));
    return d === 0 ? 1 : 1 / d;
  };
  const perts: Tensor[] = [];
  const a = new Float64Array(samples * n);
  try {
    for (let s = 0; s < samples; s++) {
      const I = ctx.run(() => tidy(() => keep(perturb(x, rng))));
      perts.push(I);
      if (I.rank !== x.rank || I.shape.some((d, k) => d !== x.shape[k])) {
        throw new Error(
          `infidelity: the perturbation has shape [${I.shape}]; expected the input's [${x.shape}]`,
        );
      }
      const iv = await I.data();
      for (let i = 0; i < n; i++) {
        let dot = 0;
        for (let j = i * per; j < (i + 1) * per; j++) dot += iv[j] * scale(j) * phi[j];
        a[s * n + i] = dot;
      }
    }
    const batch = rowsPerCall(x, o.batchSize, "infidelity");
    const moved = ctx.run(() =>
      tidy(() =>
        keep(
          concat(
            perts.map((I) => sub(x, I)),
            0,
          ),
        ),
      ),
    );
    const { perturbed: after, clean: before } = await perturbedAndCleanScores(
      model,
      moved,
      x,
      target,
      batch,
      ctx,
      "infidelity",
    );
    return Array.from({ length: n }, (_, i) => {
      let ab = 0;
      let aa = 0;
      for (let s = 0; s < samples; s++) {
        const ai = a[s * n + i];
        ab += ai * (before[i] - after[s * n + i]);
        aa += ai * ai;
      }
      const beta = o.normalize ? (aa > 0 ? ab / aa : 0) : 1;
      let err = 0;
      for (let s = 0; s < samples; s++)
        err += (beta * a[s * n + i] - (before[i] - after[s * n + i])) ** 2;
      return err / samples;
    });
  } finally {
    for (const I of perts) I.dispose();
  }
}
