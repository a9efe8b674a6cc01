/** CPU data-movement kernels: transpose, strided slice, pad, concat, gather and its adjoint. */

import type { PadMode, TypedArray } from "../backend.ts";
import { sizeOf, stridesOf } from "../shape.ts";
import { allocF32, allocF32Unset, allocI32 } from "./buffers.ts";

function like(x: TypedArray, n: number): TypedArray {
  return x instanceof Int32Array ? allocI32(n) : allocF32(n);
}

/** like(), for kernels that write every element: a recycled float buffer is not zeroed first. */
function likeUnset(x: TypedArray, n: number): TypedArray {
  return x instanceof Int32Array ? allocI32(n) : allocF32Unset(n);
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
  // Every element is written (a copy or `fill`).
  const out = likeUnset(x, sizeOf(outShape));
  const rank = outShape.length;
  if (rank === 0) {
    out[0] = x[0];
    return out;
  }
  const last = maps[rank - 1];
  const len = outShape[rank - 1];
  // Short rows (a pixel shuffle's inner axes, r and W) walk the last two axes in one inner loop:
  // the odometer below costs as much per row as a few copies.
  if (rank >= 2 && len < 64 && maps[rank - 2].every((m) => m >= 0) && last.every((m) => m >= 0)) {
    return gatherInnerPairs(x, out, outShape, maps, fill);
  }
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
  // A last-axis map with a constant step and no fill (m, m + s, ...) reads each row in one
  // tight loop; step 1 copies rows with set().
  const step = len > 1 ? last[1] - last[0] : 1;
  // Both ends in range (a -1 fill entry can look like the next step of a descending run).
  let affine = last[0] >= 0 && last[len - 1] >= 0;
  for (let i = 1; affine && i < len; i++) affine = last[i] === last[0] + i * step;
  const run = affine && step === 1 && len >= 16;
  for (let start = 0; start < out.length; start += len) {
    if (!valid) out.fill(fill, start, start + len);
    else if (run) {
      const from = base + last[0];
      out.set(x.subarray(from, from + len), start);
    } else if (affine) {
      let from = base + last[0];
      for (let i = 0; i < len; i++, from += step) out[start + i] = x[from];
    } else {
      for (let i = 0; i < len; i++) {
        const m = last[i];
        out[start + i] = m < 0 ? fill : x[base + m];
      }
    }
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      if (idx[ax] < outShape[ax]) break;
      idx[ax] = 0;
    }
    recompute();
  }
  return out;
}

/** gatherSeparable when the last two axes' maps have no fill entries: one inner loop over both. */
function gatherInnerPairs(
  x: TypedArray,
  out: TypedArray,
  outShape: readonly number[],
  maps: Int32Array[],
  fill: number,
): TypedArray {
  const rank = outShape.length;
  const last = maps[rank - 1];
  const prev = maps[rank - 2];
  const len = outShape[rank - 1];
  const rows = outShape[rank - 2];
  const block = len * rows;
  const idx = new Array<number>(Math.max(rank - 2, 0)).fill(0);
  for (let start = 0; start < out.length; start += block) {
    let base = 0;
    let valid = true;
    for (let ax = 0; ax < rank - 2; ax++) {
      const m = maps[ax][idx[ax]];
      if (m < 0) valid = false;
      base += m;
    }
    if (!valid) out.fill(fill, start, start + block);
    else {
      let o = start;
      for (let j = 0; j < rows; j++) {
        const b = base + prev[j];
        for (let i = 0; i < len; i++) out[o++] = x[b + last[i]];
      }
    }
    for (let ax = rank - 3; ax >= 0; ax--) {
      idx[ax]++;
      if (idx[ax] < outShape[ax]) break;
      idx[ax] = 0;
    }
  }
  return out;
}

/**
 * The same transpose on fewer axes: size-1 axes dropped, and input axes that stay adjacent and in
 * order in perm merged into one (e.g. [O, C, kh, kw] -> [C, O, kh, kw] is [O, C, kh*kw]).
 */
function coalesceTranspose(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  const keep = perm.filter((p) => shape[p] !== 1);
  const groups: number[][] = [];
  for (const p of keep) {
    const g = groups[groups.length - 1];
    if (g && g[g.length - 1] + 1 === p) g.push(p);
    else groups.push([p]);
  }
  // Number the groups in input order.
  const byInput = [...groups].sort((a, b) => a[0] - b[0]);
  const newShape = byInput.map((g) => g.reduce((n, p) => n * shape[p], 1));
  const newPerm = groups.map((g) => byInput.indexOf(g));
  return { shape: newShape, perm: newPerm };
}

export function transpose(
  x: TypedArray,
  shape0: readonly number[],
  perm0: readonly number[],
): TypedArray {
  const { shape, perm } = coalesceTranspose(shape0, perm0);
  if (perm.every((p, i) => p === i)) {
    const out = like(x, x.length);
    out.set(x);
    return out;
  }
  const strides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]);
  const rank = shape.length;
  // A short output row (a pixel shuffle's r) whose input row is long: walk the input in order
  // (contiguous reads) and write each row with its output stride.
  if (outShape[rank - 1] < 16 && shape[rank - 1] >= 64) return transposeByInput(x, shape, perm);
  // [A, B, k] -> [B, A, k] (a conv weight's [O, C, kh*kw] -> [C, O, kh*kw]): in tiles.
  if (perm[0] === 1 && perm[1] === 0 && (rank === 2 || (rank === 3 && perm[2] === 2))) {
    return swapTiled(x, shape[0], shape[1], rank === 3 ? shape[2] : 1);
  }
  const maps = perm.map((p) => Int32Array.from({ length: shape[p] }, (_, i) => i * strides[p]));
  return gatherSeparable(x, outShape, maps);
}

/**
 * x [A, B, k] -> [B, A, k] in tiles of TILE x TILE blocks of k: either loop order alone strides
 * one side by a whole row (B * k or A * k floats) per block, a cache and TLB miss each.
 */
function swapTiled(x: TypedArray, A: number, B: number, k: number): TypedArray {
  const TILE = 16;
  const out = likeUnset(x, x.length);
  for (let a0 = 0; a0 < A; a0 += TILE) {
    const a1 = Math.min(A, a0 + TILE);
    for (let b0 = 0; b0 < B; b0 += TILE) {
      const b1 = Math.min(B, b0 + TILE);
      for (let b = b0; b < b1; b++) {
        let o = (b * A + a0) * k;
        for (let a = a0; a < a1; a++) {
          const from = (a * B + b) * k;
          for (let i = 0; i < k; i++) out[o++] = x[from + i];
        }
      }
    }
  }
  return out;
}

/** transpose as a scatter in input order: inner loop over the input's last axis. */
function transposeByInput(
  x: TypedArray,
  shape: readonly number[],
  perm: readonly number[],
): TypedArray {
  const rank = shape.length;
  const outStrides = stridesOf(perm.map((p) => shape[p]));
  // The output stride of each input axis.
  const dst = new Array<number>(rank);
  perm.forEach((p, i) => {
    dst[p] = outStrides[i];
  });
  const out = likeUnset(x, x.length);
  const len = shape[rank - 1];
  const step = dst[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let base = 0;
  for (let start = 0; start < x.length; start += len) {
    let o = base;
    for (let i = 0; i < len; i++, o += step) out[o] = x[start + i];
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      base += dst[ax];
      if (idx[ax] < shape[ax]) break;
      base -= dst[ax] * shape[ax];
      idx[ax] = 0;
    }
  }
  return out;
}

/**
 * The same strided slice on fewer axes: an axis merges into the one before it when it is taken
 * whole in the same direction (step 1 from 0, or step -1 from the end) and the one before has
 * that step too, e.g. a channel range of NCHW is one contiguous run per batch item.
 */
function coalesceSlice(
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  step: readonly number[],
): { shape: number[]; begin: number[]; size: number[]; step: number[] } {
  const out = { shape: [shape[0]], begin: [begin[0]], size: [size[0]], step: [step[0]] };
  for (let ax = 1; ax < shape.length; ax++) {
    const n = shape[ax];
    const k = out.shape.length - 1;
    const whole =
      size[ax] === n &&
      ((step[ax] === 1 && begin[ax] === 0) || (step[ax] === -1 && begin[ax] === n - 1));
    if (whole && step[ax] === out.step[k]) {
      out.begin[k] = out.begin[k] * n + begin[ax];
      out.shape[k] *= n;
      out.size[k] *= n;
    } else {
      out.shape.push(n);
      out.begin.push(begin[ax]);
      out.size.push(size[ax]);
      out.step.push(step[ax]);
    }
  }
  return out;
}

export function slice(
  x: TypedArray,
  shape0: readonly number[],
  begin0: readonly number[],
  size0: readonly number[],
  step0: readonly number[],
): TypedArray {
  if (shape0.length === 0 || size0.some((d) => d === 0)) {
    return gatherSlice(x, shape0, begin0, size0, step0);
  }
  const { shape, begin, size, step } = coalesceSlice(shape0, begin0, size0, step0);
  if (shape.length === 2 && step[0] === 1 && step[1] === -1 && size[1] === shape[1]) {
    return reverseRows(x, begin[0], size[0], shape[1]);
  }
  return gatherSlice(x, shape, begin, size, step);
}

/** Rows first .. first + rows - 1 of x [*, len], each reversed (a conv kernel's flip). */
function reverseRows(x: TypedArray, first: number, rows: number, len: number): TypedArray {
  const out = likeUnset(x, rows * len);
  let o = 0;
  for (let r = first; r < first + rows; r++) {
    for (let i = (r + 1) * len - 1; i >= r * len; i--) out[o++] = x[i];
  }
  return out;
}

function gatherSlice(
  x: TypedArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  step: readonly number[],
): TypedArray {
  const strides = stridesOf(shape);
  const rank = shape.length;
  const mapOf = (ax: number) => {
    const m = new Int32Array(size[ax]);
    for (let i = 0; i < m.length; i++) m[i] = (begin[ax] + i * step[ax]) * strides[ax];
    return m;
  };
  if (rank > 0 && step[rank - 1] === 1 && size[rank - 1] >= 16) {
    // Contiguous rows (after coalescing, often one long run): no per-element map for them.
    const len = size[rank - 1];
    const outer = size.slice(0, rank - 1);
    const maps = outer.map((_, ax) => mapOf(ax));
    const out = like(x, sizeOf(size));
    const idx = new Array<number>(rank - 1).fill(0);
    const first = begin[rank - 1];
    for (let start = 0; start < out.length; start += len) {
      let from = first;
      for (let ax = 0; ax < rank - 1; ax++) from += maps[ax][idx[ax]];
      out.set(x.subarray(from, from + len), start);
      for (let ax = rank - 2; ax >= 0; ax--) {
        if (++idx[ax] < outer[ax]) break;
        idx[ax] = 0;
      }
    }
    return out;
  }
  return gatherSeparable(
    x,
    size,
    size.map((_, ax) => mapOf(ax)),
  );
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
  const out = allocF32(outer * length * inner);
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

/** Backend.interleave on the CPU: each phase's rows written with stride r into their output rows. */
export function interleave(
  xs: readonly Float32Array[],
  shape: readonly number[],
  r: number,
): Float32Array {
  const [n, c, h, w] = shape;
  const plane = h * w;
  const outW = w * r;
  const outPlane = plane * r * r;
  // Every element is written: the phases cover each output pixel once.
  const out = allocF32Unset(n * c * outPlane);
  // Output rows in order, each written front to back from its r phases (sequential writes).
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < h; y++) {
      const from = p * plane + y * w;
      for (let a = 0; a < r; a++) {
        const o = p * outPlane + (r * y + a) * outW;
        if (r === 2) {
          const x0 = xs[2 * a];
          const x1 = xs[2 * a + 1];
          for (let i = 0, q = o; i < w; i++, q += 2) {
            out[q] = x0[from + i];
            out[q + 1] = x1[from + i];
          }
        } else {
          for (let b = 0; b < r; b++) {
            const x = xs[a * r + b];
            for (let i = 0, q = o + b; i < w; i++, q += r) out[q] = x[from + i];
          }
        }
      }
    }
  }
  return out;
}
