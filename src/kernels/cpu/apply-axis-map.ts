import type { AxisMap } from "../sparse-map.ts";
import { allocF32 } from "./buffers.ts";

/**
 * Applies `map` along `axis` of a row-major tensor: the output has shape[axis] replaced by
 * map.outLength. Two loop orders: for the last axis each output element is a short dot product
 * over one contiguous row; for any other axis (notably H of NCHW, the second-to-last) each map
 * weight scales a whole contiguous inner block, an axpy loop the JIT can vectorise.
 */
export function applyAxisMap(
  x: Float32Array,
  shape: readonly number[],
  axis: number,
  map: AxisMap,
): Float32Array {
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    throw new Error(`applyAxisMap: axis ${axis} out of range for shape [${shape}]`);
  }
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`applyAxisMap: shape [${shape}] must hold non-negative integers`);
    }
    size *= d;
  }
  if (x.length !== size) {
    throw new Error(
      `applyAxisMap: data length ${x.length} does not match shape [${shape}] (${size})`,
    );
  }
  if (shape[axis] !== map.inLength) {
    throw new Error(
      `applyAxisMap: shape[${axis}] = ${shape[axis]} but the map expects inLength ${map.inLength}`,
    );
  }
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  let inner = 1;
  for (let i = axis + 1; i < rank; i++) inner *= shape[i];
  const inLen = map.inLength;
  const outLen = map.outLength;
  const { rowStart, cols, weights } = map;
  const out = allocF32(outer * outLen * inner);

  const nnz = rowStart[outLen] - rowStart[0];
  // One unit weight per output row (nearest resizing, crops, flips): a gather.
  let gather = nnz === outLen;
  if (gather) {
    for (let o = 0; o < outLen; o++) {
      const j = rowStart[o];
      if (rowStart[o + 1] !== j + 1 || weights[j] !== 1) {
        gather = false;
        break;
      }
    }
  }

  if (inner === 1) {
    // Integer-factor nearest upsampling: input i fills outputs i*r .. i*r + r - 1.
    const r = outLen / inLen;
    let repeat = gather && Number.isInteger(r);
    for (let o = 0; repeat && o < outLen; o++) repeat = cols[rowStart[o]] === Math.floor(o / r);
    if (repeat) {
      for (let b = 0; b < outer; b++) {
        let s = b * inLen;
        let d = b * outLen;
        for (let i = 0; i < inLen; i++, s++) {
          const v = x[s];
          for (let k = 0; k < r; k++) out[d++] = v;
        }
      }
      return out;
    }
    // Its transpose: output o sums inputs o*r .. o*r + r - 1 with unit weights (in float64, like
    // the general loop below).
    const q = inLen / outLen;
    let pool = !gather && Number.isInteger(q) && nnz === inLen && rowStart[0] === 0;
    for (let j = 0; pool && j < nnz; j++) pool = cols[j] === j && weights[j] === 1;
    for (let o = 0; pool && o <= outLen; o++) pool = rowStart[o] === o * q;
    if (pool) {
      for (let b = 0; b < outer; b++) {
        let s = b * inLen;
        const dst = b * outLen;
        for (let o = 0; o < outLen; o++) {
          let acc = 0;
          for (let k = 0; k < q; k++) acc += x[s++];
          out[dst + o] = acc;
        }
      }
      return out;
    }
    if (gather) {
      const first = rowStart[0];
      for (let b = 0; b < outer; b++) {
        const src = b * inLen;
        const dst = b * outLen;
        for (let o = 0; o < outLen; o++) out[dst + o] = x[src + cols[first + o]];
      }
      return out;
    }
    for (let b = 0; b < outer; b++) {
      const src = b * inLen;
      const dst = b * outLen;
      for (let o = 0; o < outLen; o++) {
        let acc = 0;
        for (let j = rowStart[o], e = rowStart[o + 1]; j < e; j++)
          acc += weights[j] * x[src + cols[j]];
        out[dst + o] = acc;
      }
    }
    return out;
  }

  for (let b = 0; b < outer; b++) {
    const src = b * inLen * inner;
    const dst = b * outLen * inner;
    for (let o = 0; o < outLen; o++) {
      const d = dst + o * inner;
      const j0 = rowStart[o];
      const e = rowStart[o + 1];
      if (j0 === e) continue;
      // The first term is stored (the output starts at zero), the rest are added.
      const s0 = src + cols[j0] * inner;
      if (gather) {
        out.set(x.subarray(s0, s0 + inner), d);
        continue;
      }
      const w0 = weights[j0];
      // Terms are added in order with a float32 rounding after each (Math.fround), exactly as
      // storing into the output after every term would; two or three terms per pass halve or
      // third the output traffic.
      let j = j0 + 1;
      if (e - j0 === 2 || e - j0 === 4) {
        const w1 = weights[j];
        const s1 = src + cols[j] * inner;
        for (let k = 0; k < inner; k++) out[d + k] = Math.fround(w0 * x[s0 + k]) + w1 * x[s1 + k];
        j++;
      } else if (e - j0 >= 3) {
        const w1 = weights[j];
        const s1 = src + cols[j] * inner;
        const w2 = weights[j + 1];
        const s2 = src + cols[j + 1] * inner;
        for (let k = 0; k < inner; k++) {
          out[d + k] = Math.fround(Math.fround(w0 * x[s0 + k]) + w1 * x[s1 + k]) + w2 * x[s2 + k];
        }
        j += 2;
      } else {
        for (let k = 0; k < inner; k++) out[d + k] = w0 * x[s0 + k];
      }
      for (; j + 1 < e; j += 2) {
        const wa = weights[j];
        const sa = src + cols[j] * inner;
        const wb = weights[j + 1];
        const sb = src + cols[j + 1] * inner;
        for (let k = 0; k < inner; k++) {
          out[d + k] = Math.fround(out[d + k] + wa * x[sa + k]) + wb * x[sb + k];
        }
      }
      if (j < e) {
        const w = weights[j];
        const s = src + cols[j] * inner;
        for (let k = 0; k < inner; k++) out[d + k] += w * x[s + k];
      }
    }
  }
  return out;
}
