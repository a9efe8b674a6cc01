/**
 * The metrics `salient batch` can compute per item and method, each one number per map. Random
 * metrics take the item's seed, so a resumed or sharded run reproduces them exactly.
 */

import { complexity, sparseness } from "../../attribution/metrics/complexity.ts";
import { deletionAuc, insertionAuc } from "../../attribution/metrics/deletion.ts";
import { infidelity } from "../../attribution/metrics/infidelity.ts";
import type { Model } from "../../attribution/types.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { didYouMean, UsageError } from "../args.ts";

export interface MetricInput {
  model: Model;
  /** [1, C, H, W]. */
  x: Tensor;
  target: number;
  /** [1, C or 1, H, W]. */
  map: Tensor;
  values: Float32Array;
  seed: number;
  batchSize?: number;
}

interface Metric {
  help: string;
  /** "lower" or "higher" is better. */
  better: "lower" | "higher";
  run(m: MetricInput): Promise<number> | number;
}

export const BATCH_METRICS: Readonly<Record<string, Metric>> = {
  deletion: {
    help: "deletion AUC (RISE): pixels removed in order of saliency",
    better: "lower",
    run: async (m) =>
      (await deletionAuc(m.model, m.x, m.target, m.map, { batchSize: m.batchSize })).auc[0],
  },
  insertion: {
    help: "insertion AUC (RISE): pixels put back onto a blurred image",
    better: "higher",
    run: async (m) =>
      (await insertionAuc(m.model, m.x, m.target, m.map, { batchSize: m.batchSize })).auc[0],
  },
  sparseness: {
    help: "Gini index of |map| (Quantus Sparseness)",
    better: "higher",
    run: (m) => sparseness(m.values),
  },
  complexity: {
    help: "entropy of |map| / sum |map| (Quantus Complexity)",
    better: "lower",
    run: (m) => complexity(m.values),
  },
  infidelity: {
    help: "infidelity (Captum, 10 Gaussian perturbations; needs an input-shaped map)",
    better: "lower",
    run: async (m) =>
      (
        await infidelity(m.model, m.x, m.target, m.map, { seed: m.seed, batchSize: m.batchSize })
      )[0],
  },
};

export const DEFAULT_METRICS = "deletion,insertion,sparseness";

export function parseMetrics(v: string): string[] {
  const names = v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const known = Object.keys(BATCH_METRICS);
  for (const n of names)
    if (!Object.hasOwn(BATCH_METRICS, n))
      throw new UsageError(
        `--metrics: unknown metric "${n}"${didYouMean(n, known, (s) => `"${s}"`)} (known: ${known.join(", ")})`,
      );
  return names;
}
