/** Host-side shape arithmetic for the WebGPU kernels: strides and dimension collapsing. */

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
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
 * Merges adjacent axes of a contiguous output wherever every operand walks them as one (stride of
 * the outer axis = stride of the inner axis x its length) and drops length-1 axes, so index math
 * in the kernels runs over as few axes as possible and one pipeline serves many shapes.
 */
export function collapse(
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
      strides.forEach((s, k) => {
        outStrides[k][last] = s[ax];
      });
    } else {
      outShape.push(d);
      strides.forEach((s, k) => {
        outStrides[k].push(s[ax]);
      });
    }
  }
  return { shape: outShape, strides: outStrides };
}
