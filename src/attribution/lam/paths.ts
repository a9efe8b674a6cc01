/**
 * The paths LAM integrates along, as image sequences gamma_0 (baseline) .. gamma_m (= input) on
 * the LR input. The attribution is the right-endpoint Riemann-Stieltjes sum
 * sum_k grad D(F(gamma_k)) * (gamma_k - gamma_{k-1}), which telescopes exactly for linear D o F.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul, sub } from "../../ops/binary.ts";
import { lamGaussianBlur } from "../../ops/blur.ts";
import { zerosLike } from "../../ops/creation.ts";

export type LamPathKind = "blur" | "linear-black" | "linear-blur";

export interface LamPathOptions {
  /** Largest blur (the baseline's). Default 1.2. */
  sigma: number;
  /** Number of steps m. Default 50. */
  fold: number;
  /** Gaussian kernel size l (odd recommended; even sizes are asymmetric as in the reference). Default 9. */
  l: number;
}

export interface LamPath {
  readonly steps: number;
  /** gamma_k for k = 0..steps, each [1, C, h, w]. */
  image(k: number): Tensor;
}

/** Progressive blurring: sigma_k = linspace(sigma, 0, fold + 1)[k]. */
function blurPath(input: Tensor, o: LamPathOptions): LamPath {
  return {
    steps: o.fold,
    image: (k) => lamGaussianBlur(input, o.sigma * (1 - k / o.fold), o.l),
  };
}

/** Straight line from a baseline: gamma_k = x' + (k / fold) (x - x'). */
function linearPath(input: Tensor, baseline: Tensor, fold: number): LamPath {
  return {
    steps: fold,
    image: (k) => (k === fold ? input : add(baseline, mul(sub(input, baseline), k / fold))),
  };
}

export function makeLamPath(kind: LamPathKind, input: Tensor, o: LamPathOptions): LamPath {
  if (!(o.sigma >= 0 && Number.isFinite(o.sigma)))
    throw new Error(`LAM: sigma ${o.sigma} must be a finite number >= 0`);
  if (!Number.isInteger(o.fold) || o.fold < 1)
    throw new Error(`LAM: fold ${o.fold} must be a positive integer`);
  if (!Number.isInteger(o.l) || o.l < 1)
    throw new Error(`LAM: kernel size l ${o.l} must be a positive integer`);
  switch (kind) {
    case "blur":
      return blurPath(input, o);
    case "linear-black":
      return linearPath(input, zerosLike(input), o.fold);
    case "linear-blur":
      return linearPath(input, lamGaussianBlur(input, o.sigma, o.l), o.fold);
  }
}
