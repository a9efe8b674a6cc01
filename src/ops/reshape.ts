/** Reshape and its relatives: views that share storage with their input. */

import { checkShape, normalizeAxes } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import { Tensor } from "../autodiff/tensor.ts";
import { sizeOf } from "../kernels/shape.ts";

export const reshapeOp: OpDef<"reshape"> = defineOp({
  name: "reshape",
  forward([x], { shape }) {
    x.storage.refs++;
    return new Tensor(x.storage, shape, x.dtype);
  },
  vjp(dy, { inputs: [x] }) {
    return [() => reshape(dy, x.shape)];
  },
});

/** A shape for messages; rank 0 says so, and a missing entry shows as `undefined`. */
const show = (s: readonly number[]) =>
  s.length === 0 ? "[] (a scalar)" : `[${s.map((d) => String(d)).join(",")}]`;

/** Reshape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  if (!s.every((d) => Number.isInteger(d) && d >= -1)) {
    throw new Error(
      `reshape: target shape ${show(shape)} must hold integers >= -1 (input ${show(x.shape)})`,
    );
  }
  const free = s.indexOf(-1);
  if (free >= 0) {
    const known = s.reduce((a, d, i) => (i === free ? a : a * d), 1);
    if (known === 0 || x.size % known !== 0) {
      throw new Error(
        `reshape: cannot infer -1 in ${show(shape)} for the ${x.size} elements of ${show(x.shape)}`,
      );
    }
    s[free] = x.size / known;
  }
  checkShape("reshape", s);
  const n = sizeOf(s);
  if (n !== x.size) {
    throw new Error(
      `reshape: cannot reshape [${x.shape}] (${x.size} elements) to [${shape}] (${n} elements)`,
    );
  }
  return runOp(reshapeOp, [x], { shape: s });
}

/**
 * A new tensor over the same storage. Ops whose result would equal their input return this
 * instead of the input itself, so disposing a result never disposes the caller's tensor.
 */
export function identity(x: Tensor): Tensor {
  return runOp(reshapeOp, [x], { shape: x.shape });
}

/** Flattens axes [start, end] into one (PyTorch torch.flatten). */
export function flatten(x: Tensor, start = 1, end = -1): Tensor {
  // Normalised one at a time: start and end may name the same axis (flatten(x, 0, -1) of a 1-D x).
  const [a] = normalizeAxes("flatten", [start], x.rank);
  const [b] = normalizeAxes("flatten", [end], x.rank);
  if (a > b)
    throw new Error(`flatten: start axis ${start} is after end axis ${end} of [${x.shape}]`);
  const mid = sizeOf(x.shape.slice(a, b + 1));
  return reshape(x, [...x.shape.slice(0, a), mid, ...x.shape.slice(b + 1)]);
}

/** Inserts a size-1 axis at `axis` (negative counts from the end). */
export function expandDims(x: Tensor, axis: number): Tensor {
  const ax = axis < 0 ? axis + x.rank + 1 : axis;
  if (ax < 0 || ax > x.rank)
    throw new Error(`expandDims: axis ${axis} out of range for rank ${x.rank}`);
  return reshape(x, [...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)]);
}

/** Removes the given size-1 axes (all size-1 axes when none are given). */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  const drop = axes
    ? normalizeAxes("squeeze", axes, x.rank)
    : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of drop) {
    if (x.shape[a] !== 1)
      throw new Error(`squeeze: axis ${a} of [${x.shape}] has size ${x.shape[a]}, not 1`);
  }
  return reshape(
    x,
    x.shape.filter((_, i) => !drop.includes(i)),
  );
}
