/** CPU reductions over any set of axes. */

import type { ReduceOp, TypedArray } from "../backend.ts";
import { sizeOf, stridesOf } from "../shape.ts";
import { allocF32, allocI32 } from "./buffers.ts";

/**
 * Calls `visit(outIndex, offsets)` once per output element with the flat input offsets of the
 * elements it reduces, so every reduction shares one traversal.
 */
function reductionLayout(shape: readonly number[], axes: readonly number[]) {
  const strides = stridesOf(shape);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const keptShape = kept.map((i) => shape[i]);
  const keptStrides = kept.map((i) => strides[i]);
  const redShape = axes.map((i) => shape[i]);
  const redStrides = axes.map((i) => strides[i]);
  // Offsets of one reduction group relative to its base, computed once.
  const groupSize = sizeOf(redShape);
  const group = new Int32Array(groupSize);
  const idx = new Array<number>(redShape.length).fill(0);
  for (let g = 0, off = 0; g < groupSize; g++) {
    group[g] = off;
    for (let ax = redShape.length - 1; ax >= 0; ax--) {
      idx[ax]++;
      off += redStrides[ax];
      if (idx[ax] < redShape[ax]) break;
      off -= redStrides[ax] * redShape[ax];
      idx[ax] = 0;
    }
  }
  const outSize = sizeOf(keptShape);
  const bases = new Int32Array(outSize);
  const kidx = new Array<number>(keptShape.length).fill(0);
  for (let o = 0, off = 0; o < outSize; o++) {
    bases[o] = off;
    for (let ax = keptShape.length - 1; ax >= 0; ax--) {
      kidx[ax]++;
      off += keptStrides[ax];
      if (kidx[ax] < keptShape[ax]) break;
      off -= keptStrides[ax] * keptShape[ax];
      kidx[ax] = 0;
    }
  }
  return { bases, group };
}

export function reduce(
  op: ReduceOp,
  x: TypedArray,
  shape: readonly number[],
  axes: readonly number[],
): Float32Array {
  const { bases, group } = reductionLayout(shape, axes);
  const out = allocF32(bases.length);
  const n = group.length;
  for (let o = 0; o < bases.length; o++) {
    const base = bases[o];
    if (op === "sum") {
      // Accumulate in float64: sums of many float32 values lose digits otherwise.
      let acc = 0;
      for (let g = 0; g < n; g++) acc += x[base + group[g]];
      out[o] = acc;
    } else {
      let acc = op === "max" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      for (let g = 0; g < n; g++) {
        const v = x[base + group[g]];
        if (Number.isNaN(v)) {
          acc = v;
          break;
        }
        if (op === "max" ? v > acc : v < acc) acc = v;
      }
      out[o] = acc;
    }
  }
  return out;
}

export function argMax(x: TypedArray, shape: readonly number[], axis: number): Int32Array {
  const { bases, group } = reductionLayout(shape, [axis]);
  const out = allocI32(bases.length);
  for (let o = 0; o < bases.length; o++) {
    let best = 0;
    let bestV = x[bases[o]];
    for (let g = 1; g < group.length; g++) {
      const v = x[bases[o] + group[g]];
      if (v > bestV || (Number.isNaN(v) && !Number.isNaN(bestV))) {
        best = g;
        bestV = v;
      }
    }
    out[o] = best;
  }
  return out;
}
