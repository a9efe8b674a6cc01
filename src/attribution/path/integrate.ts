/**
 * Batched path integration of the input gradient: sum_k grad f(gamma_k) * d_k over a discretised
 * path, with the completeness delta sum(map) - (f(end) - f(start)) per example. Nodes are
 * evaluated several at a time (replicas of the N-example input per model call), and their
 * contributions are added in node order, so the result does not depend on the batch size. A model
 * that fails on a batch but runs on one row (a graph exported with a fixed batch of 1) is then
 * evaluated one row per call, which it says once (onNotice, and `note` in the result).
 */
import { type EngineContext, engineContext } from "../../autodiff/context.ts";
import type { RuleSet } from "../../autodiff/rule-set.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add, mul } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { zeros } from "../../ops/creation.ts";
import { sum as sumAll } from "../../ops/reduce.ts";
import { slice } from "../../ops/slice.ts";
import { oneRowNote, replicasPerCall, rowByRow, runsOnOneRow } from "../batching.ts";
import { evalScores, perExampleSums, scoresAndGrad } from "../evaluate.ts";
import type { Model, Target } from "../types.ts";
import type { PathSamples } from "./samples.ts";

/** Options of integratePath: rows per model call, rules, progress callback and context. */
export interface IntegrateOptions {
  /** Rows per model call; nodes are batched as whole replicas of the input. */
  batchSize: number;
  /** A gradient-rule set active during every forward and backward pass. */
  rules?: RuleSet;
  /** Called after each batch of nodes with the number of nodes done. */
  onProgress?: (done: number, total: number) => void;
  /** Target scores at the path's end when the caller has them already (saves that forward). */
  endScores?: readonly number[];
  /** The engine context every pass runs in (default: the one active when called). */
  context?: EngineContext;
  /** The method's name, for errors. */
  api?: string;
  /** Called once if the model only runs one row per call (the note says why). */
  onNotice?: (message: string) => void;
}

/** The integrated map, the completeness delta and the scores at both ends, per example. */
export interface PathIntegral {
  /** sum_k grad f(gamma_k) * d_k, the input's shape; the caller owns it. */
  map: Tensor;
  /** Per example: sum(map) - (f(end) - f(start)). */
  delta: number[];
  /** Target scores at the input end and at the baseline end, per example. */
  endScores: number[];
  startScores: number[];
  /** Set when the model failed on a batch and was evaluated one row per call instead. */
  note?: string;
}

/**
 * sum_k grad f(gamma_k) * d_k over a sampled path (the core of IG, Blur IG and LAM), batched
 * without changing the result.
 */
export async function integratePath(
  model: Model,
  samples: PathSamples,
  target: Target,
  examples: number,
  o: IntegrateOptions,
): Promise<PathIntegral> {
  const ctx = o.context ?? engineContext();
  const api = o.api ?? "integratePath";
  let nodesPerCall = replicasPerCall(o.batchSize, examples);
  let m = model;
  let note: string | undefined;
  let acc: Tensor | null = null;
  // Sum of the target scores at every node, read once at the end: NaN anywhere on the path shows.
  let nodeScores: Tensor | null = null;
  try {
    for (let a = 0; a < samples.count; ) {
      const b = Math.min(samples.count, a + nodesPerCall);
      const ks = Array.from({ length: b - a }, (_, j) => a + j);
      let next: { sum: Tensor; scores: Tensor };
      try {
        next = ctx.run(() =>
          tidy(() => {
            const { scores, grad } = scoresAndGrad(m, samples.points(ks), target, o.rules);
            const prod = mul(grad, samples.increments(ks));
            let sum = acc ?? zeros([examples, ...prod.shape.slice(1)]);
            for (let j = 0; j < ks.length; j++)
              sum = add(sum, slice(prod, [j * examples], [examples]));
            const s = sumAll(scores);
            return { sum: keep(sum), scores: keep(nodeScores ? add(nodeScores, s) : s) };
          }),
        );
      } catch (e) {
        const rows = ks.length * examples;
        if (note !== undefined || rows === 1 || !oneRowWorks(m, samples, a, ctx)) throw e;
        note = oneRowNote(api, rows, e);
        o.onNotice?.(note);
        m = rowByRow(model);
        nodesPerCall = 1;
        continue;
      }
      acc?.dispose();
      nodeScores?.dispose();
      acc = next.sum;
      nodeScores = next.scores;
      o.onProgress?.(b, samples.count);
      a = b;
    }
    if (!acc) throw new Error(`${api}: the path has no nodes`);
    // Both ends in one batch where they fit (one forward instead of two: at batch 1 a
    // network's weights, not its activations, are what a forward streams through).
    const rows = ctx.run(() =>
      tidy(() => keep(o.endScores ? samples.start() : concat([samples.end(), samples.start()], 0))),
    );
    let endScores: Float64Array;
    let startScores: Float64Array;
    try {
      const scores = await evalScores(m, rows, target, o.batchSize, ctx, api);
      endScores = o.endScores ? Float64Array.from(o.endScores) : scores.subarray(0, examples);
      startScores = o.endScores ? scores : scores.subarray(examples);
    } finally {
      rows.dispose();
    }
    const nodeTotal = (await (nodeScores as Tensor).data())[0];
    if (!Number.isFinite(nodeTotal)) {
      throw new Error(
        `${api}: the model output for the target is ${nodeTotal} at a point inside the path (finite at both ends); attributions need a finite score along the whole path (look for overflow, 0/0 or log of a negative value)`,
      );
    }
    const sums = await perExampleSums(acc);
    // Finite scores at both ends but a NaN sum: the model or its gradient was NaN along the path.
    const bad = sums.findIndex((s) => Number.isNaN(s));
    if (bad >= 0) {
      throw new Error(
        `${api}: the attribution for example ${bad} is NaN although the scores at both ends are finite: the model's gradient is NaN somewhere along the path (look for overflow, 0/0 or a non-differentiable point such as sqrt at 0)`,
      );
    }
    const delta = sums.map((s, i) => s - (endScores[i] - startScores[i]));
    const map = acc;
    acc = null;
    return {
      map,
      delta,
      endScores: Array.from(endScores),
      startScores: Array.from(startScores),
      ...(note !== undefined ? { note } : {}),
    };
  } finally {
    acc?.dispose();
    nodeScores?.dispose();
  }
}

/** Whether the model runs on the first row of path node k alone. */
function oneRowWorks(model: Model, samples: PathSamples, k: number, ctx: EngineContext): boolean {
  return ctx.run(() => tidy(() => runsOnOneRow(model, samples.points([k]))));
}
