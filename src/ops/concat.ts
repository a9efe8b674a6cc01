/** Concatenation along an axis; the gradient is the matching slices. */
import { backendOf, fromHandle, normalizeAxes } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { identity, reshape } from "./reshape.ts";
import { slice } from "./slice.ts";

export const concatOp: OpDef<"concat"> = defineOp({
  name: "concat",
  forward(xs, { axis }) {
    const backend = backendOf("concat", xs);
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
    return fromHandle(backend.concat(xs, axis, shape), shape, xs[0].dtype, backend);
  },
  vjp(dy, { inputs, attrs: { axis } }) {
    let start = 0;
    return inputs.map((x) => {
      const begin = x.shape.map((_, i) => (i === axis ? start : 0));
      start += x.shape[axis];
      return () => slice(dy, begin, x.shape);
    });
  },
});

/** Joins tensors along an existing axis; shapes must agree elsewhere. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error("concat: needs at least one tensor");
  const [ax] = normalizeAxes("concat", [axis], xs[0].rank);
  for (const x of xs) {
    if (x.rank !== xs[0].rank || x.shape.some((d, i) => i !== ax && d !== xs[0].shape[i])) {
      throw new Error(
        `concat: shapes ${xs.map((t) => `[${t.shape}]`).join(", ")} differ outside axis ${ax}`,
      );
    }
    if (x.dtype !== xs[0].dtype)
      throw new Error(`concat: mixed dtypes ${xs[0].dtype} and ${x.dtype}`);
  }
  if (xs.length === 1) return identity(xs[0]);
  return runOp(concatOp, xs, { axis: ax });
}

/** Joins equally shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error("stack: needs at least one tensor");
  const ax = axis < 0 ? axis + xs[0].rank + 1 : axis;
  return concat(
    xs.map((x) => reshapeInsert(x, ax)),
    ax,
  );
}

function reshapeInsert(x: Tensor, ax: number): Tensor {
  return reshape(x, [...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)]);
}
