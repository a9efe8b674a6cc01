/**
 * Batched path integration of the input gradient: sum_k grad f(gamma_k) * d_k over a discretised
 * path, with the completeness delta sum(map) - (f(end) - f(start)) per example. Nodes are
 * evaluated several at a time (replicas of the N-example input per model call), and their
 * contributions are added in node order, so the result does not depend on the batch size.
 */
import type { RuleSet } from "../../autodiff/rule-set.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add, mul } from "../../ops/binary.ts";
import { zeros } from "../../ops/creation.ts";
import { slice } from "../../ops/slice.ts";
import { chunks, replicasPerCall } from "../batching.ts";
import { evalScores, perExampleSums, scoresAndGrad } from "../evaluate.ts";
import type { Model, Target } from "../types.ts";
import type { PathSamples } from "./samples.ts";

export interface IntegrateOptions {
  /** Rows per model call; nodes are batched as whole replicas of the input. */
  batchSize: number;
  /** A gradient-rule set active during every forward and backward pass. */
  rules?: RuleSet;
  /** Called after each batch of nodes with the number of nodes done. */
  onProgress?: (done: number, total: number) => void;
  /** Target scores at the path's end when the caller has them already (saves that forward). */
  endScores?: readonly number[];
}

export interface PathIntegral {
  /** sum_k grad f(gamma_k) * d_k, the input's shape; the caller owns it. */
  map: Tensor;
  /** Per example: sum(map) - (f(end) - f(start)). */
  delta: number[];
  /** Target scores at the input end and at the baseline end, per example. */
  endScores: number[];
  startScores: number[];
}

export async function integratePath(
  model: Model,
  samples: PathSamples,
  target: Target,
  examples: number,
  o: IntegrateOptions,
): Promise<PathIntegral> {
  const nodesPerCall = replicasPerCall(o.batchSize, examples);
  let acc: Tensor | null = null;
  try {
    for (const [a, b] of chunks(samples.count, nodesPerCall)) {
      const ks = Array.from({ length: b - a }, (_, j) => a + j);
      const next: Tensor = tidy(() => {
        const { grad } = scoresAndGrad(model, samples.points(ks), target, o.rules);
        const prod = mul(grad, samples.increments(ks));
        let sum = acc ?? zeros([examples, ...prod.shape.slice(1)]);
        for (let j = 0; j < ks.length; j++) sum = add(sum, slice(prod, [j * examples], [examples]));
        return keep(sum);
      });
      acc?.dispose();
      acc = next;
      o.onProgress?.(b, samples.count);
    }
    if (!acc) throw new Error("integratePath: the path has no nodes");
    const ends = tidy(() => keep(samples.end()));
    const starts = tidy(() => keep(samples.start()));
    let endScores: Float64Array;
    let startScores: Float64Array;
    try {
      endScores = o.endScores
        ? Float64Array.from(o.endScores)
        : await evalScores(model, ends, target, o.batchSize);
      startScores = await evalScores(model, starts, target, o.batchSize);
    } finally {
      ends.dispose();
      starts.dispose();
    }
    const sums = await perExampleSums(acc);
    const delta = sums.map((s, i) => s - (endScores[i] - startScores[i]));
    const map = acc;
    acc = null;
    return { map, delta, endScores: Array.from(endScores), startScores: Array.from(startScores) };
  } finally {
    acc?.dispose();
  }
}
