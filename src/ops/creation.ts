/** Making tensors: from values, constants, and seeded random draws. */

import { backendOf, checkShape, fromHandle } from "../autodiff/make.ts";
import { state } from "../autodiff/state.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import type { DType, TypedArray } from "../kernels/backend.ts";
import { sizeOf } from "../kernels/shape.ts";
import { Random } from "../random.ts";

type NestedNumbers = number | readonly NestedNumbers[];

function inferShape(v: NestedNumbers): number[] {
  const shape: number[] = [];
  let cur: NestedNumbers = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as NestedNumbers;
  }
  return shape;
}

/** A tensor from a typed array or (nested) numbers; `shape` defaults to the nesting. */
export function tensor(
  values: TypedArray | NestedNumbers,
  shape?: readonly number[],
  dtype: DType = values instanceof Int32Array ? "int32" : "float32",
): Tensor {
  const flat: ArrayLike<number> =
    typeof values === "number"
      ? [values]
      : ArrayBuffer.isView(values)
        ? (values as TypedArray)
        : ((values as readonly NestedNumbers[]).flat(Number.POSITIVE_INFINITY as 1) as number[]);
  const s =
    shape ?? (ArrayBuffer.isView(values) ? [flat.length] : inferShape(values as NestedNumbers));
  checkShape("tensor", s);
  const n = sizeOf(s);
  if (n !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fill shape [${s}] (${n} elements)`);
  }
  const typed = dtype === "int32" ? Int32Array.from(flat) : Float32Array.from(flat);
  return fromHandle(state.backend.upload(typed, s, dtype), s, dtype);
}

/** A rank-0 tensor. */
export function scalar(value: number, dtype: DType = "float32"): Tensor {
  return tensor([value], [], dtype);
}

/** A tensor of the given shape with every element `value`. */
export function fill(shape: readonly number[], value: number, dtype: DType = "float32"): Tensor {
  checkShape("fill", shape);
  return fromHandle(state.backend.fill(shape, value, dtype), shape, dtype);
}

/** A tensor of zeros. */
export const zeros = (shape: readonly number[], dtype: DType = "float32") => fill(shape, 0, dtype);
/** A tensor of ones. */
export const ones = (shape: readonly number[], dtype: DType = "float32") => fill(shape, 1, dtype);

/** A tensor shaped like x (same dtype and backend) filled with `value`. */
export function fillLike(x: Tensor, value: number): Tensor {
  const b = backendOf("fillLike", [x]);
  return fromHandle(b.fill(x.shape, value, x.dtype), x.shape, x.dtype, b);
}
/** Zeros shaped like x. */
export const zerosLike = (x: Tensor) => fillLike(x, 0);
/** Ones shaped like x. */
export const onesLike = (x: Tensor) => fillLike(x, 1);

/** [start, start + step, ...) below stop. */
export function arange(start: number, stop: number, step = 1, dtype: DType = "float32"): Tensor {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const v = dtype === "int32" ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = start + i * step;
  return tensor(v, [n], dtype);
}

/** The seed of a random draw (default 0), or a generator to continue. */
export interface RandomOptions {
  /** A seed or a generator to draw from (continues its stream). */
  seed?: number | Random;
}

function rng(o: RandomOptions): Random {
  return o.seed instanceof Random ? o.seed : new Random(o.seed ?? 0);
}

/**
 * Uniform draws in [low, high) (default [0, 1)) from a seeded generator: the same values on every
 * backend.
 */
export function randomUniform(
  shape: readonly number[],
  o: RandomOptions & { low?: number; high?: number } = {},
): Tensor {
  checkShape("randomUniform", shape);
  const r = rng(o);
  const lo = o.low ?? 0;
  const hi = o.high ?? 1;
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * r.uniform();
  return tensor(v, shape);
}

/**
 * Normal draws N(mean, std^2) (default N(0, 1)) from a seeded generator: the same values on every
 * backend.
 */
export function randomNormal(
  shape: readonly number[],
  o: RandomOptions & { mean?: number; std?: number } = {},
): Tensor {
  checkShape("randomNormal", shape);
  const r = rng(o);
  const m = o.mean ?? 0;
  const s = o.std ?? 1;
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = m + s * r.normal();
  return tensor(v, shape);
}
