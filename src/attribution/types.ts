/**
 * The shared vocabulary of attribution methods (DESIGN principle 7): a method is a plain function
 * of (model, input, target, options) that resolves to { map, delta?, details }.
 */
import type { Tensor } from "../autodiff/tensor.ts";

/** Any differentiable function of an input batch [N, ...] to an output batch [N, ...]. */
export type Model = (x: Tensor) => Tensor;

/**
 * A callable target: maps the model output for B rows to one score per row, shape [B].
 * `rowOffset` is the index of the first row when a larger batch is evaluated in chunks.
 */
export type TargetFn = (output: Tensor, rowOffset?: number) => Tensor;

/**
 * What to explain: one class index for every example, one index per example (row r of a batch
 * uses entry r mod length, so a per-example list also covers replicated rows), or a callable.
 */
export type Target = number | readonly number[] | TargetFn;

/**
 * What every attribution method resolves to: the map, the completeness delta for path methods, and
 * method-specific details.
 */
export interface Attribution<D = Record<string, unknown>> {
  /** The attribution map; the caller owns it (dispose when done). */
  map: Tensor;
  /** Completeness delta per example: sum(map) - (f(input) - f(baseline)), for path methods. */
  delta?: number[];
  details: D;
}

/** The signature every method shares, so wrappers (SmoothGrad) can take any of them. */
export type AttributionMethod<O = unknown, D = Record<string, unknown>> = (
  model: Model,
  x: Tensor,
  target: Target,
  options?: O,
) => Promise<Attribution<D>>;

/** Batching of model evaluations; results never depend on it. */
export interface BatchOptions {
  /** Rows per model call (path steps, noise samples, occlusion windows); results do not depend on it. */
  batchSize?: number;
}
