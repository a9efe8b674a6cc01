/** What a kernel launcher needs from the backend: the runtime and a way to allocate outputs. */
import type { DType } from "../backend.ts";
import type { GpuData } from "./gpu-data.ts";
import type { GpuRuntime } from "./runtime.ts";

/**
 * How matmul and conv kernels tile: "shared" stages tiles in workgroup memory (fast on real GPUs),
 * "registers" keeps them in registers without barriers (fast on software adapters, where barriers
 * are slow).
 */
export type Tiling = "shared" | "registers";

export interface KernelContext {
  readonly rt: GpuRuntime;
  /** Matmul and conv variant: workgroup shared-memory tiles, or barrier-free register tiles. */
  readonly tiling: Tiling;
  /** A fresh output tensor buffer (counted in liveBytes); `op` names it in size errors. */
  output(shape: readonly number[], dtype: DType, op: string): GpuData;
  /** Frees an intermediate made with output() (reused only after pending work is submitted). */
  free(data: GpuData): void;
}
