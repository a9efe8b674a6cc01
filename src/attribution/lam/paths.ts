/**
 * The paths LAM integrates along, on the shared path module: the progressive blur parameterised
 * by the blur width sigma (from the baseline's sigma down to 0), and straight lines from a black
 * or a blurred baseline (the paper's ablation). LAM samples them with a right-endpoint
 * Riemann-Stieltjes sum whose increments are differences of path images, exact by linearity.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { div, sub } from "../../ops/binary.ts";
import { lamGaussianBlur } from "../../ops/blur.ts";
import { concat } from "../../ops/concat.ts";
import { zerosLike } from "../../ops/creation.ts";
import { linearPath, type Path } from "../path/path.ts";
import { type PathSamples, stieltjesSamples } from "../path/samples.ts";

/**
 * LAM's path: the progressive blur (default), or a straight line from black or from the blurred
 * image.
 */
export type LamPathKind = "blur" | "linear-black" | "linear-blur";

/** The blur width of the baseline, the number of steps and the blur kernel size. */
export interface LamPathOptions {
  /** Largest blur (the baseline's). Default 1.2. */
  sigma: number;
  /** Number of steps m. Default 50. */
  fold: number;
  /** Gaussian kernel size l (odd recommended; even sizes are asymmetric as in the reference). Default 9. */
  l: number;
}

/**
 * gamma(s) = I (*) K_s with the reference's l x l kernel (std s + 1e-5) and reflect-101 borders.
 * At s = 0 the kernel is a delta, so gamma(0) is the input (shifted by a pixel for even l, where
 * the reference's kernel centre is off cv2's anchor).
 */
export function progressiveBlurPath(input: Tensor, sigma: number, l: number): Path {
  const blur = (s: number) => lamGaussianBlur(input, s, l);
  const at = (ts: readonly number[]) => (ts.length === 1 ? blur(ts[0]) : concat(ts.map(blur), 0));
  const h = 1e-3;
  return {
    from: sigma,
    to: 0,
    at,
    derivative: (ts) => div(sub(at(ts.map((s) => s + h)), at(ts)), h),
  };
}

function linspace(a: number, b: number, n: number): number[] {
  return Array.from({ length: n + 1 }, (_, k) => (k === n ? b : a + ((b - a) * k) / n));
}

/** The discretised path: gamma_k at the right end of each of the `fold` segments. */
export function lamSamples(kind: LamPathKind, input: Tensor, o: LamPathOptions): PathSamples {
  if (!(o.sigma >= 0 && Number.isFinite(o.sigma)))
    throw new Error(`LAM: sigma ${o.sigma} must be a finite number >= 0`);
  if (!Number.isInteger(o.fold) || o.fold < 1)
    throw new Error(`LAM: fold ${o.fold} must be a positive integer`);
  if (!Number.isInteger(o.l) || o.l < 1)
    throw new Error(`LAM: kernel size l ${o.l} must be a positive integer`);
  const stieltjes = { at: "right", increment: "difference" } as const;
  if (kind === "blur") {
    return stieltjesSamples(
      progressiveBlurPath(input, o.sigma, o.l),
      linspace(o.sigma, 0, o.fold),
      stieltjes,
    );
  }
  const baseline =
    kind === "linear-black" ? zerosLike(input) : lamGaussianBlur(input, o.sigma, o.l);
  return stieltjesSamples(linearPath(baseline, input), linspace(0, 1, o.fold), stieltjes);
}
