/** CPU data-movement kernels: transpose, strided slice, pad, concat, gather and its adjoint. */
import type { PadMode, TypedArray } from "../backend.ts";
import { sizeOf, stridesOf } from "./cpu-data.ts";

function like(x: TypedArray, n: number): TypedArray {
  return x instanceof Int32Array ? new Int32Array(n) : new Float32Array(n);
}

/**
 * Copies out[i] = x[offset(i)] where offset is separable per axis: offset = sum_ax maps[ax][i_ax]
 * (a map entry of -1 on any axis writes `fill`). Transpose, slice and pad are all this.
 */
function gatherSeparable(
  x: TypedArray,
  outShape: readonly number[],
  maps: Int32Array[],
  fill = 0,
): TypedArray {
  const out = like(x, sizeOf(outShape));
  const rank = outShape.length;
  if (rank === 0) {
    out[0] = x[0];
    return out;
  }
  const last = maps[rank - 1];
  const len = outShape[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let base = 0;
  let valid = true;
  const recompute = () => {
    base = 0;
    valid = true;
    for (let ax = 0; ax < rank - 1; ax++) {
      const m = maps[ax][idx[ax]];
      if (m < 0) valid = false;
      base += m;
    }
  };
  recompute();
  for (let start = 0; start < out.length; start += len) {
    if (valid) {
      for (let i = 0; i < len; i++) {
        const m = last[i];
        out[start + i] = m < 0 ? fill : x[base + m];
      }
    } else out.fill(fill, start, start + len);
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      if (idx[ax] < outShape[ax]) break;
      idx[ax] = 0;
    }
    recompute();
  }
  return out;
}

export function transpose(
  x: TypedArray,
  shape: readonly number[],
  perm: readonly number[],
): TypedArray {
  const strides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]);
  const maps = perm.map((p) => Int32Array.from({ length: shape[p] }, (_, i) => i * strides[p]));
  return gatherSeparable(x, outShape, maps);
}

export function slice(
  x: TypedArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  step: readonly number[],
): TypedArray {
  const strides = stridesOf(shape);
  const maps = size.map((n, ax) =>
    Int32Array.from({ length: n }, (_, i) => (begin[ax] + i * step[ax]) * strides[ax]),
  );
  return gatherSeparable(x, size, maps);
}

/** Source index along an axis of length n for padded position p (may be out of range). */
function padSource(p: number, n: number, mode: PadMode): number {
  if (p >= 0 && p < n) return p;
  if (mode === "constant") return -1;
  if (mode === "replicate") return p < 0 ? 0 : n - 1;
  // reflect without repeating the edge (PyTorch "reflect", OpenCV BORDER_REFLECT_101)
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let q = ((p % period) + period) % period;
  if (q >= n) q = period - q;
  return q;
}

export function pad(
  x: TypedArray,
  shape: readonly number[],
  pads: readonly (readonly [number, number])[],
  mode: PadMode,
  value: number,
): TypedArray {
  const strides = stridesOf(shape);
  const outShape = shape.map((d, ax) => d + pads[ax][0] + pads[ax][1]);
  const maps = outShape.map((n, ax) =>
    Int32Array.from({ length: n }, (_, i) => {
      const s = padSource(i - pads[ax][0], shape[ax], mode);
      return s < 0 ? -1 : s * strides[ax];
    }),
  );
  return gatherSeparable(x, outShape, maps, value);
}

export function concat(
  xs: readonly { values: TypedArray; shape: readonly number[] }[],
  axis: number,
  outShape: readonly number[],
): TypedArray {
  const out = like(xs[0].values, sizeOf(outShape));
  const outer = sizeOf(outShape.slice(0, axis));
  const innerOut = sizeOf(outShape.slice(axis));
  let offset = 0;
  for (const { values, shape } of xs) {
    const chunk = sizeOf(shape.slice(axis));
    for (let o = 0; o < outer; o++) {
      out.set(values.subarray(o * chunk, (o + 1) * chunk), o * innerOut + offset);
    }
    offset += chunk;
  }
  return out;
}

function checkIndex(i: number, n: number, op: string): void {
  if (!(i >= 0 && i < n))
    throw new Error(`${op}: index ${i} is out of range for an axis of length ${n}`);
}

export function gather(
  x: TypedArray,
  shape: readonly number[],
  indices: TypedArray,
  axis: number,
): TypedArray {
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const n = shape[axis];
  const out = like(x, outer * indices.length * inner);
  for (const i of indices) checkIndex(i, n, "gather");
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < indices.length; j++) {
      const src = (o * n + indices[j]) * inner;
      out.set(x.subarray(src, src + inner), (o * indices.length + j) * inner);
    }
  }
  return out;
}

export function scatterAdd(
  updates: TypedArray,
  shape: readonly number[],
  indices: TypedArray,
  axis: number,
  length: number,
): Float32Array {
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const m = indices.length;
  const out = new Float32Array(outer * length * inner);
  for (const i of indices) checkIndex(i, length, "scatterAdd");
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const dst = (o * length + indices[j]) * inner;
      const src = (o * m + j) * inner;
      for (let k = 0; k < inner; k++) out[dst + k] += updates[src + k];
    }
  }
  return out;
}
