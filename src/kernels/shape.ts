/**
 * Shape arithmetic shared by the engine, both backends and the model importers: sizes, row-major
 * strides, broadcasting and axis coalescing. One copy, so the CPU and WebGPU kernels walk a
 * broadcast the same way.
 */

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides of a contiguous array of this shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function shapeEq(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * NumPy broadcasting of two shapes; `what` names the caller in the error, which gives both shapes
 * and the first axis that disagrees.
 */
export function broadcastShapes(
  what: string,
  a: readonly number[],
  b: readonly number[],
): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${what}: shapes [${a}] and [${b}] cannot be broadcast together (axis ${i}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` read as if broadcast to `outShape` (0 along broadcast axes). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const off = outShape.length - shape.length;
  return outShape.map((_, i) => {
    const j = i - off;
    return j < 0 || shape[j] === 1 ? 0 : own[j];
  });
}

/**
 * Merges adjacent axes of a contiguous output wherever every operand walks them as one run (an
 * axis joins the next when each operand's stride there is its stride on the next axis times that
 * axis's length; 0 = 0 x n covers axes broadcast in both) and drops length-1 axes, so index math
 * runs over as few axes as possible. [N, C, H, W] against [C, 1, 1] becomes [N, C, H*W] with
 * strides [0, 1, 0]. Each operand's strides come back for the merged axes, innermost stride kept.
 */
export function coalesceAxes(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let ax = 0; ax < shape.length; ax++) {
    const d = shape[ax];
    if (d === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[ax] * d)) {
      outShape[last] *= d;
      for (let k = 0; k < strides.length; k++) outStrides[k][last] = strides[k][ax];
    } else {
      outShape.push(d);
      for (let k = 0; k < strides.length; k++) outStrides[k].push(strides[k][ax]);
    }
  }
  return { shape: outShape, strides: outStrides };
}
