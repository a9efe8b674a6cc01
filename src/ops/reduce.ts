/** Reductions over axes (sum, max, min and those composed from them: mean, variance, logSumExp). */
import { backendOf, fromHandle, normalizeAxes, requireFloat } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { OpAttrs } from "../autodiff/op-attrs.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import type { ReduceOp } from "../kernels/backend.ts";
import { add, div, equal, mul, sub } from "./binary.ts";
import { broadcastTo } from "./broadcast.ts";
import { identity, reshape } from "./reshape.ts";
import { where } from "./select.ts";
import { abs, exp, log, square } from "./unary.ts";

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduceDef<K extends ReduceOp>(name: K, vjp: OpDef<K>["vjp"]): OpDef<K> {
  return defineOp({
    name,
    forward([x], { axes }) {
      requireFloat(name, x);
      const backend = backendOf(name, [x]);
      const shape = x.shape.filter((_, i) => !axes.includes(i));
      return fromHandle(backend.reduce(name, x, axes), shape, "float32", backend);
    },
    vjp,
  } as OpDef<K>);
}

export const sumOp: OpDef<"sum"> = reduceDef("sum", (dy, { inputs: [x], attrs: { axes } }) => [
  () => broadcastTo(reshape(dy, keptShape(x.shape, axes)), x.shape),
]);

// The gradient of max/min is shared evenly among tied extremes (like torch.amax).
const extremeGrad: OpDef<"max">["vjp"] = (dy, { inputs: [x], out, attrs: { axes } }) => [
  () => {
    const kept = keptShape(x.shape, axes);
    const mask = equal(x, reshape(out, kept));
    const count = reshape(sum(mask, axes), kept);
    return mul(mask, div(reshape(dy, kept), count));
  },
];
export const maxOp: OpDef<"max"> = reduceDef("max", extremeGrad);
export const minOp: OpDef<"min"> = reduceDef("min", extremeGrad as unknown as OpDef<"min">["vjp"]);

function reduceWith<K extends ReduceOp>(
  def: OpDef<K>,
  x: Tensor,
  axes: number | readonly number[] | undefined,
  keepDims: boolean,
) {
  const list =
    axes === undefined ? x.shape.map((_, i) => i) : typeof axes === "number" ? [axes] : axes;
  const ax = normalizeAxes(def.name, list, x.rank);
  const y = ax.length === 0 ? identity(x) : runOp(def, [x], { axes: ax } as OpAttrs[K]);
  return keepDims ? reshape(y, keptShape(x.shape, ax)) : y;
}

type Axes = number | readonly number[];

/** Sum over `axes` (all by default). */
export const sum = (x: Tensor, axes?: Axes, keepDims = false) =>
  reduceWith(sumOp, x, axes, keepDims);
/** Maximum over `axes` (all by default); the gradient is shared equally by tied maxima. */
export const max = (x: Tensor, axes?: Axes, keepDims = false) =>
  reduceWith(maxOp, x, axes, keepDims);
/** Minimum over `axes` (all by default); the gradient is shared equally by tied minima. */
export const min = (x: Tensor, axes?: Axes, keepDims = false) =>
  reduceWith(minOp, x, axes, keepDims);

function countOf(x: Tensor, axes?: Axes): number {
  const list =
    axes === undefined ? x.shape.map((_, i) => i) : typeof axes === "number" ? [axes] : axes;
  return normalizeAxes("mean", list, x.rank).reduce((n, a) => n * x.shape[a], 1);
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return div(sum(x, axes, keepDims), countOf(x, axes));
}

/** Variance over axes; `correction` 0 is the population variance (PyTorch unbiased=False). */
export function variance(x: Tensor, axes?: Axes, keepDims = false, correction = 0): Tensor {
  const m = mean(x, axes, true);
  const n = countOf(x, axes);
  return div(sum(square(sub(x, m)), axes, keepDims), n - correction);
}

/** log(sum(exp(x))) over `axes`, computed stably (shifted by the maximum). */
export function logSumExp(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  // Shift by the max for stability, but by 0 where the max is infinite (x - m would be
  // -inf - -inf = NaN): an all -inf group then gives -inf, as in PyTorch.
  const top = max(x, axes, true);
  const m = where(equal(abs(top), Infinity), 0, top);
  const s = log(sum(exp(sub(x, m)), axes, true));
  const y = add(s, m);
  if (keepDims) return y;
  const list =
    axes === undefined ? x.shape.map((_, i) => i) : typeof axes === "number" ? [axes] : axes;
  const ax = normalizeAxes("logSumExp", list, x.rank);
  return reshape(
    y,
    x.shape.filter((_, i) => !ax.includes(i)),
  );
}

export const argMaxOp: OpDef<"argMax"> = defineOp({
  name: "argMax",
  forward([x], { axis }) {
    const backend = backendOf("argMax", [x]);
    const shape = x.shape.filter((_, i) => i !== axis);
    return fromHandle(backend.argMax(x, axis), shape, "int32", backend);
  },
  vjp: () => [],
});

/** Index of the largest value along `axis` (int32; first one on ties). */
export function argMax(x: Tensor, axis = -1): Tensor {
  const [ax] = normalizeAxes("argMax", [axis], x.rank);
  return runOp(argMaxOp, [x], { axis: ax });
}
