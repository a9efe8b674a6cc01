/**
 * Pieces shared by the optimised-mask methods (meaningful perturbation, extremal perturbations,
 * iGOS++): each optimises one example at a time, so a batch target is narrowed to that example,
 * and the scores are logits or softmax probabilities.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, pow, sub } from "../../ops/binary.ts";
import { mean } from "../../ops/reduce.ts";
import { slice } from "../../ops/slice.ts";
import { abs, square } from "../../ops/unary.ts";
import { probabilityOf } from "../target.ts";
import type { Target } from "../types.ts";

/** Which score a mask method optimises: the softmax probability of an index target, or the target as given. */
export type MaskScore = "probability" | "target";

/**
 * The target of example i, for a batch whose rows are all perturbed copies of that example. A
 * callable target cannot be narrowed, so it is accepted for a single example only.
 */
export function exampleTarget(target: Target, i: number, n: number, api: string): Target {
  if (typeof target === "number") return target;
  if (typeof target === "function") {
    if (n !== 1) {
      throw new Error(
        `${api}: a callable target needs a single example (it cannot be narrowed to one of ${n}); pass a class index or one index per example`,
      );
    }
    return target;
  }
  return target[i % target.length];
}

/** The score to optimise: softmax probability of an index target, or the target itself. */
export function scoreTarget(target: Target, score: MaskScore): Target {
  return score === "probability" && typeof target !== "function" ? probabilityOf(target) : target;
}

/** Example i of an [N, ...] batch as [1, ...]. */
export function exampleOf(x: Tensor, i: number): Tensor {
  return slice(x, [i], [1]);
}

/**
 * Total variation of masks [A, 1, h, w]: mean |vertical difference|^beta + mean |horizontal
 * difference|^beta, one value per mask [A] (iGOS and meaningful perturbation's TV_beta).
 */
export function totalVariation(m: Tensor, beta: number): Tensor {
  const [a, , h, w] = m.shape;
  const dv = sub(
    slice(m, [0, 0, 1, 0], [a, 1, h - 1, w]),
    slice(m, [0, 0, 0, 0], [a, 1, h - 1, w]),
  );
  const dh = sub(
    slice(m, [0, 0, 0, 1], [a, 1, h, w - 1]),
    slice(m, [0, 0, 0, 0], [a, 1, h, w - 1]),
  );
  const pw = (d: Tensor) => (beta === 2 ? square(d) : beta === 1 ? abs(d) : powAbs(d, beta));
  const terms = [];
  if (h > 1) terms.push(mean(pw(dv), [1, 2, 3]));
  if (w > 1) terms.push(mean(pw(dh), [1, 2, 3]));
  if (terms.length === 0) return mean(sub(m, m), [1, 2, 3]);
  return terms.length === 1 ? terms[0] : add(terms[0], terms[1]);
}

function powAbs(d: Tensor, beta: number): Tensor {
  // |d|^beta with a gradient of 0 at d = 0 for beta > 1 (abs' = sign there).
  return pow(abs(d), beta);
}

/** Checks a positive integer option, naming the method and option. */
export function positiveInt(v: number, name: string, api: string, min = 1): number {
  if (!Number.isInteger(v) || v < min)
    throw new Error(`${api}: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

/** Checks a finite non-negative number option. */
export function nonNegative(v: number, name: string, api: string): number {
  if (!(Number.isFinite(v) && v >= 0))
    throw new Error(`${api}: ${name} must be a finite number >= 0, got ${v}`);
  return v;
}
