/**
 * Host-side arrays for the integer shape arithmetic of ONNX graphs (Shape -> Gather -> Concat ->
 * Reshape and the like) and for constants. Values are float64, so int64 shape values stay exact;
 * these never enter the tape. The engine's float32 tensors carry everything differentiable.
 */

import { Tensor } from "../../../autodiff/tensor.ts";
import { broadcastShapes, sizeOf, stridesOf } from "../../../kernels/shape.ts";
import { tensor } from "../../../ops/creation.ts";
import { checkedElements, formatShape } from "./sizes.ts";

export type HostDType =
  | "float32"
  | "float64"
  | "float16"
  | "bfloat16"
  | "int64"
  | "int32"
  | "int16"
  | "int8"
  | "uint64"
  | "uint32"
  | "uint16"
  | "uint8"
  | "bool";

export class HostArray {
  readonly size: number;
  constructor(
    readonly dtype: HostDType,
    readonly shape: readonly number[],
    readonly data: Float64Array,
  ) {
    this.size = sizeOf(shape);
    if (data.length !== this.size) {
      throw new Error(`host array: ${data.length} values for shape ${formatShape(shape)}`);
    }
  }
  get rank(): number {
    return this.shape.length;
  }
  static of(dtype: HostDType, shape: readonly number[], values: ArrayLike<number>): HostArray {
    return new HostArray(dtype, shape, Float64Array.from(values));
  }
}

export type Value = Tensor | HostArray;

export const isFloat = (d: HostDType) =>
  d === "float32" || d === "float64" || d === "float16" || d === "bfloat16";

/** Reads an engine tensor back to the host (CPU backend: synchronous). */
export function toHost(v: Value, what: string): HostArray {
  if (v instanceof HostArray) return v;
  let data: ArrayLike<number>;
  try {
    data = v.dataSync();
  } catch (e) {
    throw new Error(
      `${what} must be known on the host (a constant or initializer) on this backend: ${(e as Error).message}`,
    );
  }
  return HostArray.of(v.dtype === "int32" ? "int32" : "float32", v.shape, data);
}

/** Uploads a host array as a float32 engine tensor. */
export function toTensor(v: Value): Tensor {
  if (v instanceof Tensor) return v;
  return tensor(Float32Array.from(v.data), [...v.shape]);
}

/** Bit widths of the integer dtypes that wrap around exactly in float64 arithmetic. */
const WRAP_BITS: Partial<Record<HostDType, { bits: number; signed: boolean }>> = {
  int8: { bits: 8, signed: true },
  uint8: { bits: 8, signed: false },
  int16: { bits: 16, signed: true },
  uint16: { bits: 16, signed: false },
  int32: { bits: 32, signed: true },
  uint32: { bits: 32, signed: false },
};

/**
 * Rounds or truncates a computed value to what `dtype` can hold; integers up to 32 bits wrap
 * around as two's complement does (uint8 250 + 10 is 4), as ONNX runtimes compute them.
 */
function coerce(dtype: HostDType, v: number): number {
  if (dtype === "float32") return Math.fround(v);
  if (dtype === "bool") return v ? 1 : 0;
  if (isFloat(dtype)) return v;
  if (!Number.isFinite(v)) return v;
  const t = Math.trunc(v);
  const wrap = WRAP_BITS[dtype];
  if (!wrap) return t;
  const span = 2 ** wrap.bits;
  const u = ((t % span) + span) % span;
  return wrap.signed && u >= span / 2 ? u - span : u;
}

/** Index into `src` (of shape `from`) for each element of the broadcast shape `to`. */
function broadcastIndex(from: readonly number[], to: readonly number[], where: string): Int32Array {
  const n = checkedElements(where, "the broadcast result", to);
  const idx = new Int32Array(n);
  const lead = to.length - from.length;
  const srcStrides = stridesOf(from);
  const outStrides = stridesOf(to);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let ax = lead; ax < to.length; ax++) {
      const coord = Math.floor(i / outStrides[ax]) % to[ax];
      if (from[ax - lead] !== 1) src += coord * srcStrides[ax - lead];
    }
    idx[i] = src;
  }
  return idx;
}

export function hostBinary(
  a: HostArray,
  b: HostArray,
  f: (x: number, y: number) => number,
  what: string,
  dtype: HostDType = a.dtype,
): HostArray {
  const shape = broadcastShapes(what, a.shape, b.shape);
  const ia = broadcastIndex(a.shape, shape, what);
  const ib = broadcastIndex(b.shape, shape, what);
  const out = new Float64Array(ia.length);
  for (let i = 0; i < out.length; i++) out[i] = coerce(dtype, f(a.data[ia[i]], b.data[ib[i]]));
  return new HostArray(dtype, shape, out);
}

export function hostExpand(a: HostArray, shape: readonly number[], where: string): HostArray {
  const to = broadcastShapes(where, a.shape, shape);
  const idx = broadcastIndex(a.shape, to, where);
  return new HostArray(
    a.dtype,
    to,
    Float64Array.from(idx, (i) => a.data[i]),
  );
}

export function hostWhere(c: HostArray, a: HostArray, b: HostArray, where: string): HostArray {
  const shape = broadcastShapes(where, broadcastShapes(where, c.shape, a.shape), b.shape);
  const [ic, ia, ib] = [c, a, b].map((t) => broadcastIndex(t.shape, shape, where));
  const out = new Float64Array(ic.length);
  for (let i = 0; i < out.length; i++) out[i] = c.data[ic[i]] ? a.data[ia[i]] : b.data[ib[i]];
  return new HostArray(a.dtype, shape, out);
}

export function hostCast(a: HostArray, dtype: HostDType): HostArray {
  return new HostArray(
    dtype,
    a.shape,
    a.data.map((v) => coerce(dtype, v)),
  );
}

export function hostTranspose(a: HostArray, perm: readonly number[]): HostArray {
  const shape = perm.map((p) => a.shape[p]);
  const inStrides = stridesOf(a.shape);
  const outStrides = stridesOf(shape);
  const out = new Float64Array(a.size);
  for (let i = 0; i < a.size; i++) {
    let src = 0;
    for (let ax = 0; ax < shape.length; ax++) {
      src += (Math.floor(i / outStrides[ax]) % shape[ax]) * inStrides[perm[ax]];
    }
    out[i] = a.data[src];
  }
  return new HostArray(a.dtype, shape, out);
}

/** Per-axis index lists: out[i0, i1, ...] = a[idx[0][i0], idx[1][i1], ...]. */
export function hostTake(
  a: HostArray,
  idx: readonly (readonly number[])[],
  where: string,
): HostArray {
  const shape = idx.map((l) => l.length);
  const inStrides = stridesOf(a.shape);
  const outStrides = stridesOf(shape);
  const n = checkedElements(where, "the result", shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let ax = 0; ax < shape.length; ax++) {
      src += idx[ax][Math.floor(i / outStrides[ax]) % shape[ax]] * inStrides[ax];
    }
    out[i] = a.data[src];
  }
  return new HostArray(a.dtype, shape, out);
}

export function hostConcat(xs: readonly HostArray[], axis: number, where: string): HostArray {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
  const outer = sizeOf(shape.slice(0, axis));
  const out = new Float64Array(checkedElements(where, "the result", shape));
  let p = 0;
  for (let o = 0; o < outer; o++) {
    for (const x of xs) {
      const chunk = x.size / outer;
      out.set(x.data.subarray(o * chunk, (o + 1) * chunk), p);
      p += chunk;
    }
  }
  return new HostArray(xs[0].dtype, shape, out);
}

export function hostReshape(a: HostArray, shape: readonly number[]): HostArray {
  return new HostArray(a.dtype, shape, a.data);
}
