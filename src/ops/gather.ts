/** gather along an axis by int32 indices, and its adjoint scatterAdd (each the other's gradient). */
import { backendOf, fromHandle, normalizeAxes } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { tensor } from "./creation.ts";

export const gatherOp: OpDef<"gather"> = defineOp({
  name: "gather",
  forward([x, indices], { axis }) {
    const backend = backendOf("gather", [x, indices]);
    const shape = [...x.shape];
    shape[axis] = indices.size;
    return fromHandle(backend.gather(x, indices, axis), shape, x.dtype, backend);
  },
  vjp(dy, { inputs: [x, indices], attrs: { axis } }) {
    return [() => runOp(scatterAddOp, [dy, indices], { axis, length: x.shape[axis] }), null];
  },
});

export const scatterAddOp: OpDef<"scatterAdd"> = defineOp({
  name: "scatterAdd",
  forward([updates, indices], { axis, length }) {
    const backend = backendOf("scatterAdd", [updates, indices]);
    const shape = [...updates.shape];
    shape[axis] = length;
    return fromHandle(
      backend.scatterAdd(updates, indices, axis, length),
      shape,
      "float32",
      backend,
    );
  },
  vjp(dy, { inputs: [, indices], attrs: { axis } }) {
    return [() => runOp(gatherOp, [dy, indices], { axis }), null];
  },
});

function asIndices(op: string, indices: Tensor | readonly number[]): Tensor {
  if (Array.isArray(indices)) return tensor(Int32Array.from(indices as number[]));
  const t = indices as Tensor;
  if (t.dtype !== "int32" || t.rank !== 1) {
    throw new Error(`${op}: indices must be a 1-D int32 tensor, got ${t.dtype} [${t.shape}]`);
  }
  return t;
}

/** Picks entries along `axis` (out-of-range indices are an error). */
export function gather(x: Tensor, indices: Tensor | readonly number[], axis = 0): Tensor {
  const [ax] = normalizeAxes("gather", [axis], x.rank);
  return runOp(gatherOp, [x, asIndices("gather", indices)], { axis: ax });
}

/** Adds `updates` into a zero tensor whose `axis` has `length` entries, at the given indices. */
export function scatterAdd(
  updates: Tensor,
  indices: Tensor | readonly number[],
  axis: number,
  length: number,
): Tensor {
  const [ax] = normalizeAxes("scatterAdd", [axis], updates.rank);
  const idx = asIndices("scatterAdd", indices);
  if (idx.size !== updates.shape[ax]) {
    throw new Error(
      `scatterAdd: ${idx.size} indices for axis ${ax} of updates [${updates.shape}] (expected ${updates.shape[ax]})`,
    );
  }
  return runOp(scatterAddOp, [updates, idx], { axis: ax, length });
}
