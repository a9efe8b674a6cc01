/** Turning a target (index, per-example list, or callable) into one score per batch row. */
import type { Tensor } from "../autodiff/tensor.ts";
import { mul } from "../ops/binary.ts";
import { tensor } from "../ops/creation.ts";
import { sum } from "../ops/reduce.ts";
import { reshape } from "../ops/reshape.ts";
import { softmax } from "../ops/softmax.ts";
import type { Target, TargetFn } from "./types.ts";

function checkIndex(i: number, classes: number, where: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= classes) {
    throw new Error(
      `target: ${where} is ${i}, but the model output has ${classes} entries per example (expected an integer in [0, ${classes - 1}])`,
    );
  }
}

/** Checks a target against the number of examples before any work is done. */
export function validateTarget(target: Target, examples: number): void {
  if (typeof target === "function") return;
  if (typeof target === "number") {
    if (!Number.isInteger(target) || target < 0) {
      throw new Error(`target: expected a non-negative integer class index, got ${target}`);
    }
    return;
  }
  if (!Array.isArray(target)) {
    throw new Error("target: expected a class index, a list of indices, or a function");
  }
  if (target.length !== examples) {
    throw new Error(
      `target: the list has ${target.length} entries but the input has ${examples} examples (one index per example)`,
    );
  }
}

/**
 * Scores [B] of the target in a model output [B, ...] (an index addresses the flattened
 * per-row output). Row r of a list target uses entry (r + rowOffset) mod length, so a chunk of a
 * larger batch passes its first row's index as the offset.
 */
export function targetScores(output: Tensor, target: Target, rowOffset = 0): Tensor {
  const rows = output.shape[0];
  if (output.rank === 0) throw new Error("target: the model returned a scalar; expected [N, ...]");
  if (typeof target === "function") {
    const s = target(output, rowOffset);
    if (s.size !== rows || !(s.rank === 1 || (s.rank === 2 && s.shape[1] === 1) || s.rank === 0)) {
      throw new Error(
        `target: the target function returned shape [${s.shape}] for an output of ${rows} rows; expected one score per row, [${rows}]`,
      );
    }
    return s.rank === 1 ? s : reshape(s, [rows]);
  }
  const flat = reshape(output, [rows, output.size / rows]);
  const classes = flat.shape[1];
  const list = typeof target === "number" ? [target] : target;
  if (list.length === 0) throw new Error("target: the list of indices is empty");
  const oneHot = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const e = (r + rowOffset) % list.length;
    checkIndex(list[e], classes, list.length === 1 ? "the index" : `the index for example ${e}`);
    oneHot[r * classes + list[e]] = 1;
  }
  return sum(mul(flat, tensor(oneHot, [rows, classes])), 1);
}

/** A callable target: the softmax probability of class `index` (RISE, deletion/insertion). */
export function probabilityOf(index: number | readonly number[]): TargetFn {
  return (output, rowOffset = 0) => {
    if (output.rank === 0) {
      throw new Error(
        "probabilityOf: the model returned a scalar; expected class scores [N, classes]",
      );
    }
    return targetScores(softmax(reshape(output, [output.shape[0], -1])), index, rowOffset);
  };
}
