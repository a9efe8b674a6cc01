/** Batch sizing and chunking shared by every method that evaluates many perturbed inputs. */
import type { Tensor } from "../autodiff/tensor.ts";

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
