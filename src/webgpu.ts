/**
 * salient/webgpu: the WebGPU backend (browsers, Deno, and Node with a WebGPU binding). Create one
 * and pass it to setBackend / withBackend / toBackend from "salient".
 */
export { gpuBufferOf, tensorFromGPUBuffer } from "./autodiff/gpu-buffer.ts";
export type { GPUBufferView } from "./kernels/backend.ts";
export type { Tiling } from "./kernels/webgpu/context.ts";
export {
  createWebGPUBackend,
  isSoftwareAdapter,
  type WebGPUBackendOptions,
} from "./kernels/webgpu/create.ts";
export { checkKernelSource, type KernelSource } from "./kernels/webgpu/kernel.ts";
export { WebGPUBackend } from "./kernels/webgpu/webgpu-backend.ts";
