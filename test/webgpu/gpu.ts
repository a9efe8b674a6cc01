/**
 * The WebGPU backend shared by the Deno test files. Creating it throws when no adapter exists, so
 * every test that needs it fails (never skips) on a machine without WebGPU.
 */
import { createWebGPUBackend, type WebGPUBackend } from "../../src/kernels/webgpu/index.ts";

let shared: Promise<WebGPUBackend> | null = null;

export function gpuBackend(): Promise<WebGPUBackend> {
  shared ??= createWebGPUBackend();
  return shared;
}

let sharedTiles: Promise<WebGPUBackend> | null = null;

/** A second backend on the same device (the embedding path) forced to workgroup-memory tiles. */
export function gpuBackendSharedTiles(): Promise<WebGPUBackend> {
  sharedTiles ??= gpuBackend().then((b) =>
    createWebGPUBackend({ device: b.device, tiling: "shared" }),
  );
  return sharedTiles;
}
