/** Seeded shuffling minibatch loader: every epoch visits each example once, in a fresh order. */
import { Random } from "../../random.ts";

/** A Fisher-Yates permutation of 0..n-1 drawn from `rng`. */
export function permutation(n: number, rng: Random): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export interface LoaderOptions {
  batchSize: number;
  seed?: number | Random;
  /** Drop the last, smaller batch of each epoch (keeps batch statistics comparable). */
  dropLast?: boolean;
}

/** Index batches for `epochs` passes over `count` examples; the same seed gives the same order. */
export function* shuffledBatches(
  count: number,
  epochs: number,
  o: LoaderOptions,
): Generator<{ epoch: number; indices: Uint32Array }> {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
    throw new Error(`shuffledBatches: batchSize must be a positive integer, got ${o.batchSize}`);
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`shuffledBatches: need at least one example, got count ${count}`);
  }
  const rng = o.seed instanceof Random ? o.seed : new Random(o.seed ?? 0);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = permutation(count, rng);
    for (let from = 0; from < count; from += o.batchSize) {
      const to = Math.min(from + o.batchSize, count);
      if (o.dropLast && to - from < o.batchSize) break;
      yield { epoch, indices: order.subarray(from, to) };
    }
  }
}

/** Number of batches one epoch yields. */
export function batchesPerEpoch(count: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}
