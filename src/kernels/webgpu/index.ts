/** The WebGPU backend's public surface. */
export type { Tiling } from "./context.ts";
export { createWebGPUBackend, isSoftwareAdapter, type WebGPUBackendOptions } from "./create.ts";
export { checkKernelSource, type KernelSource } from "./kernel.ts";
export { WebGPUBackend } from "./webgpu-backend.ts";
