import type { TypedArray } from "../backend.ts";

/** CPU storage: a typed array wrapped so the engine can treat every backend's handles alike. */
export class CpuData {
  constructor(readonly values: TypedArray) {}
}

export function valuesOf(info: { handle: object }): TypedArray {
  return (info.handle as CpuData).values;
}

export function f32(info: { handle: object }): Float32Array {
  const v = (info.handle as CpuData).values;
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

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
