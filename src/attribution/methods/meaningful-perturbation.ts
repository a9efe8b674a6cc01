/**
 * Meaningful perturbation (Fong & Vedaldi 2017): the smallest, smoothest deletion mask that
 * removes the class evidence. A low-resolution mask m (1 = keep; 28 x 28 at 224 px, scaled to the
 * input) is upsampled bilinearly and blends the input with a perturbed copy,
 * Phi(x; m) = m x + (1 - m) x~ (x~ a Gaussian blur of sigma 10 at 224 px, a constant, or seeded
 * Gaussian noise), and Adam (learning rate 0.1, 300 steps) minimises
 *   lambda1 ||1 - m||_1 + lambda2 TV_beta(m) + f_c(Phi(x(. - tau); m)),
 * with the paper's lambda1 = 1e-4, lambda2 = 1e-2, beta = 3, f_c the softmax probability of the
 * class and tau a random jitter of up to 4 px (at 224) per step. The norms are sums over the
 * paper's 28 x 28 grid (a mask of another size is resized to it for them), so the balance of the
 * terms does not change with the input size. The map is 1 - m at the input size: the deleted
 * (salient) region.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import { valueAndGrads } from "../../autodiff/grad.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { Variable } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { Adam } from "../../models/train/optim.ts";
import { add, mul, sub } from "../../ops/binary.ts";
import { gaussianFilter } from "../../ops/blur.ts";
import { tensor } from "../../ops/creation.ts";
import { pad } from "../../ops/pad.ts";
import { mean, sum } from "../../ops/reduce.ts";
import { resize } from "../../ops/resize.ts";
import { slice } from "../../ops/slice.ts";
import { abs, clamp } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { checkImageCall } from "../evaluate.ts";
import { targetScores } from "../target.ts";
import type { Attribution, Model, Target } from "../types.ts";
import {
  exampleOf,
  exampleTarget,
  type MaskScore,
  nonNegative,
  positiveInt,
  scoreTarget,
  totalVariation,
} from "./mask-common.ts";

/** Options of meaningful perturbation; sizes given at 224 px are scaled to the input. */
export interface MeaningfulPerturbationOptions extends EngineOptions {
  /** Adam steps (default 300). */
  iterations?: number;
  /** Adam learning rate (default 0.1). */
  learningRate?: number;
  /** L1 weight on 1 - m (default 1e-4, summed over a 28 x 28 grid). */
  l1?: number;
  /** Total-variation weight (default 1e-2, summed over a 28 x 28 grid). */
  tv?: number;
  /** TV exponent beta (default 3). */
  tvBeta?: number;
  /** Mask side in cells (default 28 at 224 px, scaled, at least 2). */
  maskSize?: number;
  /** blur (default), constant, or noise. */
  perturbation?: "blur" | "constant" | "noise";
  /** Blur sigma in pixels (default 10 at 224 px, scaled). */
  blurSigma?: number;
  /** The constant of the constant perturbation (default 0), or the noise std (default 0.2). */
  value?: number;
  /** Largest random shift per step in pixels (default 4 at 224 px, scaled; 0 turns jitter off). */
  jitter?: number;
  seed?: number;
  /** probability (softmax of an index target; default) or target (as given). */
  score?: MaskScore;
}

/** What `meaningfulPerturbation` used (defaults resolved) and what its final masks reached. */
export interface MeaningfulPerturbationDetails extends Record<string, unknown> {
  /** Adam steps run. */
  iterations: number;
  /** Side of the square mask grid, in cells. */
  maskSize: number;
  /** Per example: the score of the input perturbed by the final mask (no jitter). */
  maskedScore: number[];
  /** Per example: the mean of 1 - m, the deleted fraction. */
  deleted: number[];
}

/** The perturbed copy x~ of one example [1, C, H, W]. */
function perturbedCopy(
  x: Tensor,
  kind: "blur" | "constant" | "noise",
  sigma: number,
  value: number,
  rng: Random,
): Tensor {
  if (kind === "blur") return gaussianFilter(x, sigma, { border: "replicate" });
  if (kind === "constant") return mul(add(mul(x, 0), 1), value);
  const v = new Float32Array(x.size);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal() * value;
  return add(x, tensor(v, x.shape));
}

/** Shifts [1, C, H, W] by (dy, dx) pixels, repeating the edge (x(. - tau)). */
function shift(x: Tensor, dy: number, dx: number): Tensor {
  if (dy === 0 && dx === 0) return x;
  const [, c, h, w] = x.shape;
  const padded = pad(
    x,
    [
      [0, 0],
      [0, 0],
      [dy, 0],
      [dx, 0],
    ],
    "replicate",
  );
  return slice(padded, [0, 0, 0, 0], [1, c, h, w]);
}

/**
 * Meaningful perturbation: one deletion mask per example, map [N, 1, H, W] = 1 - m (the region
 * whose removal destroys the target score).
 */
export async function meaningfulPerturbation(
  model: Model,
  x: Tensor,
  target: Target,
  o: MeaningfulPerturbationOptions = {},
): Promise<Attribution<MeaningfulPerturbationDetails>> {
  const api = "meaningfulPerturbation";
  const ctx = engineContext(o);
  await checkImageCall(x, target, api);
  const [n, , h, w] = x.shape;
  const scale = Math.min(h, w) / 224;
  const iterations = positiveInt(o.iterations ?? 300, "iterations", api, 0);
  const size = positiveInt(o.maskSize ?? Math.max(2, Math.round(28 * scale)), "maskSize", api, 1);
  const lr = nonNegative(o.learningRate ?? 0.1, "learningRate", api);
  const l1 = nonNegative(o.l1 ?? 1e-4, "l1", api);
  const tv = nonNegative(o.tv ?? 1e-2, "tv", api);
  const beta = nonNegative(o.tvBeta ?? 3, "tvBeta", api);
  const kind = o.perturbation ?? "blur";
  if (!["blur", "constant", "noise"].includes(kind))
    throw new Error(`${api}: perturbation must be blur, constant or noise, got "${kind}"`);
  const sigma = nonNegative(o.blurSigma ?? 10 * scale, "blurSigma", api);
  const value = o.value ?? (kind === "noise" ? 0.2 : 0);
  const maxShift = Math.round(nonNegative(o.jitter ?? 4 * scale, "jitter", api));
  const score = o.score ?? "probability";
  const rng = new Random(o.seed ?? 0);

  const maps = new Float32Array(n * h * w);
  const maskedScore: number[] = [];
  const deleted: number[] = [];
  for (let i = 0; i < n; i++) {
    const ti = scoreTarget(exampleTarget(target, i, n, api), score);
    const { xi, pert } = ctx.run(() =>
      tidy(() => {
        const xi = exampleOf(x, i);
        return { xi: keep(add(xi, 0)), pert: keep(perturbedCopy(xi, kind, sigma, value, rng)) };
      }),
    );
    const mask = ctx.run(() =>
      tidy(
        () =>
          new Variable(tensor(new Float32Array(size * size).fill(1), [1, 1, size, size]), "mask"),
      ),
    );
    const adam = new Adam(lr);
    const blend = (m: Tensor, img: Tensor, alt: Tensor) => {
      const up = resize(m, [h, w], { mode: "bilinear" });
      return add(mul(img, up), mul(alt, sub(1, up)));
    };
    try {
      for (let t = 0; t < iterations; t++) {
        const dy = maxShift ? rng.int(maxShift + 1) : 0;
        const dx = maxShift ? rng.int(maxShift + 1) : 0;
        const g = ctx.run(() =>
          tidy(() => {
            const { grads } = valueAndGrads((m: Tensor) => {
              const s = targetScores(model(blend(m, shift(xi, dy, dx), shift(pert, dy, dx))), ti);
              // The norms are sums over the paper's 28 x 28 grid, whatever the mask size.
              const grid = size === 28 ? m : resize(m, [28, 28], { mode: "bilinear" });
              const area = mul(mean(abs(sub(1, grid))), l1 * 28 * 28);
              const smooth = mul(sum(totalVariation(grid, beta)), tv * 28 * 27);
              return add(add(sum(s), area), smooth);
            })([mask]);
            return keep(grads[0]);
          }),
        );
        ctx.run(() => {
          adam.step(new Map([[mask, g]]));
          g.dispose();
          tidy(() => mask.assign(clamp(mask, 0, 1)));
        });
      }
      const { s, up } = ctx.run(() =>
        tidy(() => ({
          s: keep(targetScores(model(blend(mask, xi, pert)), ti)),
          up: keep(sub(1, resize(mask, [h, w], { mode: "bilinear" }))),
        })),
      );
      maskedScore.push((await s.data())[0]);
      const u = (await up.data()) as Float32Array;
      s.dispose();
      up.dispose();
      maps.set(u, i * h * w);
      let d = 0;
      for (const v of u) d += v;
      deleted.push(d / (h * w));
    } finally {
      xi.dispose();
      pert.dispose();
      mask.dispose();
    }
  }
  return {
    map: ctx.run(() => tensor(maps, [n, 1, h, w])),
    details: { iterations, maskSize: size, maskedScore, deleted },
  };
}
