import type { AxisMap } from "../axis-map.ts";

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
  const out = new Float32Array(outer * outLen * inner);

  if (inner === 1) {
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
      for (let j = rowStart[o], e = rowStart[o + 1]; j < e; j++) {
        const w = weights[j];
        const s = src + cols[j] * inner;
        for (let k = 0; k < inner; k++) out[d + k] += w * x[s + k];
      }
    }
  }
  return out;
}
