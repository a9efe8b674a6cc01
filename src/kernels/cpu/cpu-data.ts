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
