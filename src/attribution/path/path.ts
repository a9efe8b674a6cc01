/**
 * Paths from a baseline to the input, for path attribution methods (IG, Blur IG, LAM). A path
 * is a function of a real parameter t running from `from` (the baseline end) to `to` (the input
 * end), evaluated for many t at once: rows are stacked replica-major, so for an input of N
 * examples, `at([t0, t1])` is [2N, ...] with rows 0..N-1 at t0 and rows N..2N-1 at t1.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, div, mul, sub } from "../../ops/binary.ts";
import { gaussianFilter } from "../../ops/blur.ts";
import { concat } from "../../ops/concat.ts";

/** A path from a baseline to the input, evaluated for many parameter values at once. */
export interface Path {
  /** Parameter value at the baseline end. */
  readonly from: number;
  /** Parameter value at the input end. */
  readonly to: number;
  /** gamma(t) for every t, replica-major along the batch axis. */
  at(ts: readonly number[]): Tensor;
  /** gamma'(t) = d gamma / dt for every t, same layout. */
  derivative(ts: readonly number[]): Tensor;
}

const stackAt = (ts: readonly number[], f: (t: number) => Tensor): Tensor =>
  ts.length === 1 ? f(ts[0]) : concat(ts.map(f), 0);

/** The straight line gamma(a) = x' + a (x - x') for a in [0, 1] (integrated gradients). */
export function linearPath(baseline: Tensor, input: Tensor): Path {
  if (baseline.rank !== input.rank || baseline.shape.some((d, i) => d !== input.shape[i])) {
    throw new Error(
      `linearPath: the baseline [${baseline.shape}] must have the input's shape [${input.shape}]`,
    );
  }
  // Stateless (nothing to dispose); the endpoints are exact copies of the baseline and input.
  const point = (a: number) =>
    a === 0
      ? add(baseline, 0)
      : a === 1
        ? add(input, 0)
        : add(baseline, mul(sub(input, baseline), a));
  return {
    from: 0,
    to: 1,
    at: (ts) => stackAt(ts, point),
    derivative: (ts) => stackAt(ts, () => sub(input, baseline)),
  };
}

/** Options of the blur path: the finite-difference step and the Gaussian truncation. */
export interface BlurPathOptions {
  /** Step of the forward difference d gamma / d sigma ~ (gamma(s + h) - gamma(s)) / h. PAIR: 0.01. */
  gradStep?: number;
  /** scipy truncate (radius = int(truncate * sigma + 0.5)). */
  truncate?: number;
}

/**
 * The blur path of Blur IG: gamma(s) = gaussian_filter(x, s) per channel over H and W, zero
 * border (scipy mode "constant"), parameterised by the blur width s itself, from `sigmaMax`
 * (baseline) down to 0 (the input, since a zero-width blur is the identity).
 */
export function blurPath(input: Tensor, sigmaMax: number, o: BlurPathOptions = {}): Path {
  if (input.rank !== 4)
    throw new Error(`blurPath: expected an [N, C, H, W] input, got [${input.shape}]`);
  if (!(sigmaMax > 0)) throw new Error(`blurPath: sigmaMax must be positive, got ${sigmaMax}`);
  const h = o.gradStep ?? 0.01;
  if (!(h > 0)) throw new Error(`blurPath: gradStep must be positive, got ${h}`);
  const blur = (s: number) => gaussianFilter(input, s, { truncate: o.truncate ?? 4 });
  return {
    from: sigmaMax,
    to: 0,
    at: (ts) => stackAt(ts, blur),
    derivative: (ts) => stackAt(ts, (s) => div(sub(blur(s + h), blur(s)), h)),
  };
}
