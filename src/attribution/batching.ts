/**
 * Batch sizing and chunking shared by every method that evaluates many perturbed inputs, and the
 * fallback to one row per call for models that only accept a batch of 1.
 */
import type { Tensor } from "../autodiff/tensor.ts";
import { tidy } from "../autodiff/tidy.ts";
import { concat } from "../ops/concat.ts";
import { slice } from "../ops/slice.ts";
import type { Model } from "./types.ts";

/** Input elements per model call for the default batch size (about 4 MB of float32 input). */
const DEFAULT_BUDGET = 1 << 20;
const DEFAULT_MAX_ROWS = 64;

/** Rows per model call: the caller's choice, or a bound on memory by the input size. */
export function rowsPerCall(x: Tensor, batchSize: number | undefined, api: string): number {
  if (batchSize !== undefined) {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(`${api}: batchSize must be a positive integer, got ${batchSize}`);
    }
    return batchSize;
  }
  const perRow = x.size / Math.max(1, x.shape[0]);
  return Math.max(1, Math.min(DEFAULT_MAX_ROWS, Math.floor(DEFAULT_BUDGET / Math.max(1, perRow))));
}

/** [start, end) ranges of `count` items in groups of at most `size`. */
export function* chunks(count: number, size: number): Generator<[number, number]> {
  for (let s = 0; s < count; s += size) yield [s, Math.min(count, s + size)];
}

/**
 * How many whole replicas of an N-example batch fit in `rows` rows (at least one): path steps
 * and noise samples are batched as replicas of the whole input.
 */
export function replicasPerCall(rows: number, examples: number): number {
  return Math.max(1, Math.floor(rows / examples));
}

/**
 * The model evaluated one row per call, rows concatenated: for graphs exported with a fixed batch
 * of 1 (their reshapes hold the constant 1), still one differentiable function of the whole batch.
 */
export function rowByRow(model: Model): Model {
  return (x) =>
    x.shape[0] === 1
      ? model(x)
      : concat(
          Array.from({ length: x.shape[0] }, (_, i) => model(slice(x, [i], [1]))),
          0,
        );
}

/**
 * Whether a model that just failed on a batch runs on its first row alone (then it only accepts
 * batch 1 and the caller falls back to rowByRow); any error of the one-row call means no.
 */
export function runsOnOneRow(model: Model, x: Tensor): boolean {
  try {
    tidy(() => {
      model(slice(x, [0], [1]));
    });
    return true;
  } catch {
    return false;
  }
}

/** What a method says (once) when it falls back to one row per model call. */
export function oneRowNote(api: string, rows: number, error: unknown): string {
  const why = error instanceof Error ? error.message : String(error);
  return `${api}: the model fails on a batch of ${rows} rows but runs on one (a graph exported with a fixed batch of 1?), so it is evaluated one row per call; the batch error was: ${why}`;
}
