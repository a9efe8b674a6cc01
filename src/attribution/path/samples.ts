/**
 * Discretised paths: K nodes, each with a point gamma_k and an increment d_k, so that a path
 * integral of the gradient is sum_k grad f(gamma_k) * d_k. Two constructions cover the methods:
 * quadrature on the parameter (IG: d_k = w_k gamma'(t_k)) and Riemann-Stieltjes sums on a grid
 * (Blur IG: d_k = (t_{k+1} - t_k) gamma'(tau_k); LAM: d_k = gamma(t_k) - gamma(t_{k-1})).
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { mul, sub } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { slice } from "../../ops/slice.ts";
import type { Path } from "./path.ts";
import { type Quadrature, type QuadratureRule, quadrature } from "./quadrature.ts";

export interface PathSamples {
  /** Number of nodes K. */
  readonly count: number;
  /** Parameter value of each node (for details and plots). */
  readonly params: Float64Array;
  /** Points gamma_k for nodes ks, replica-major: [ks.length * N, ...]. */
  points(ks: readonly number[]): Tensor;
  /** Increments d_k for nodes ks, same layout. */
  increments(ks: readonly number[]): Tensor;
  /** The baseline end gamma(from) [N, ...]. */
  start(): Tensor;
  /** The input end gamma(to) [N, ...]. */
  end(): Tensor;
}

function scaledRows(t: Tensor, scales: readonly number[]): Tensor {
  const n = t.shape[0] / scales.length;
  return concat(
    scales.map((w, j) => mul(slice(t, [j * n], [n]), w)),
    0,
  );
}

/** Quadrature on [0, 1] mapped onto the path's parameter range: d_k = w_k (to - from) gamma'(t_k). */
export function quadratureSamples(
  path: Path,
  rule: QuadratureRule | Quadrature,
  steps?: number,
): PathSamples {
  const q = typeof rule === "string" ? quadrature(rule, steps ?? 50) : rule;
  const span = path.to - path.from;
  const params = q.nodes.map((a) => path.from + a * span);
  return {
    count: params.length,
    params,
    points: (ks) => path.at(ks.map((k) => params[k])),
    increments: (ks) =>
      scaledRows(
        path.derivative(ks.map((k) => params[k])),
        ks.map((k) => q.weights[k] * span),
      ),
    start: () => path.at([path.from]),
    end: () => path.at([path.to]),
  };
}

export interface StieltjesOptions {
  /** Where each segment [t_k, t_k+1] is evaluated. */
  at: "left" | "right" | "middle";
  /**
   * "derivative": d_k = (t_k+1 - t_k) gamma'(tau_k) (Blur IG); "difference": d_k =
   * gamma(t_k+1) - gamma(t_k), exact by linearity for paths linear in the image (LAM).
   */
  increment: "derivative" | "difference";
}

/**
 * A Riemann-Stieltjes sum over the grid t_0 = from, ..., t_m = to (m segments, any spacing, e.g.
 * the sqrt schedule of Blur IG): one node per segment.
 */
export function stieltjesSamples(
  path: Path,
  grid: readonly number[],
  o: StieltjesOptions,
): PathSamples {
  if (grid.length < 2)
    throw new Error(`stieltjesSamples: the grid needs at least 2 points, got ${grid.length}`);
  if (grid[0] !== path.from || grid[grid.length - 1] !== path.to) {
    throw new Error(
      `stieltjesSamples: the grid must run from the path's baseline end ${path.from} to its input end ${path.to}, got ${grid[0]} .. ${grid[grid.length - 1]}`,
    );
  }
  const m = grid.length - 1;
  const tau = Float64Array.from({ length: m }, (_, k) =>
    o.at === "left" ? grid[k] : o.at === "right" ? grid[k + 1] : (grid[k] + grid[k + 1]) / 2,
  );
  const widths = Array.from({ length: m }, (_, k) => grid[k + 1] - grid[k]);
  return {
    count: m,
    params: tau,
    points: (ks) => path.at(ks.map((k) => tau[k])),
    increments: (ks) =>
      o.increment === "derivative"
        ? scaledRows(
            path.derivative(ks.map((k) => tau[k])),
            ks.map((k) => widths[k]),
          )
        : sub(path.at(ks.map((k) => grid[k + 1])), path.at(ks.map((k) => grid[k]))),
    start: () => path.at([path.from]),
    end: () => path.at([path.to]),
  };
}
