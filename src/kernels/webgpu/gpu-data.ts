/** WebGPU tensor storage: a pooled buffer plus, for small int32 tensors, a host copy of the values. */
import type { DType } from "../backend.ts";

/** int32 tensors up to this many elements keep a host copy (indices: checked and inverted on the host). */
export const HOST_COPY_LIMIT = 1 << 16;

export class GpuData {
  freed = false;
  constructor(
    readonly buffer: GPUBuffer,
    /** Logical size: elements x 4. */
    readonly bytes: number,
    readonly dtype: DType,
    /** The values, when known on the host (small int32 uploads and fills). */
    readonly host: Int32Array | null = null,
    /** A buffer the application owns (wrapped, not allocated): never pooled or destroyed here. */
    readonly external = false,
  ) {}
}

export function gpuData(info: { handle: object }): GpuData {
  const d = info.handle;
  if (!(d instanceof GpuData)) {
    throw new Error("webgpu: this tensor's data does not live on the webgpu backend");
  }
  if (d.freed) throw new Error("webgpu: this tensor's buffer was already freed");
  return d;
}

export function bufferOf(info: { handle: object }): GPUBuffer {
  return gpuData(info).buffer;
}
