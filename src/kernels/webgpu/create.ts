/**
 * createWebGPUBackend: wraps a GPUDevice the caller already has (to embed in a WebGPU app), or
 * requests one from navigator.gpu (browsers, Deno), or from the `webgpu` npm package (Dawn) in
 * Node. The package is imported dynamically through a variable so bundles for browsers and Deno
 * never pull it in.
 */
import type { Tiling } from "./context.ts";
import { GpuRuntime, type RuntimeOptions } from "./runtime.ts";
import { WebGPUBackend } from "./webgpu-backend.ts";

/**
 * Options of createWebGPUBackend: an existing device (or adapter options to request one), and the
 * matmul/conv tiling.
 */
export interface WebGPUBackendOptions extends RuntimeOptions {
  /** Use this device instead of requesting one. */
  device?: GPUDevice;
  /** Passed to requestAdapter() when no device is given. */
  adapter?: GPURequestAdapterOptions;
  /**
   * Matmul/conv variant. "auto" (default) picks barrier-free register tiles on software adapters
   * (llvmpipe/lavapipe, SwiftShader), where barriers are slow, and workgroup-memory tiles elsewhere.
   */
  tiling?: Tiling | "auto";
}

const HOW_TO_GET_AN_ADAPTER =
  "On Linux without a GPU install Mesa's software Vulkan driver (apt-get install -y mesa-vulkan-drivers) " +
  "and run under Deno; in Chrome/Chromium enable WebGPU (--enable-unsafe-webgpu on Linux); in Node " +
  "install the `webgpu` package (Dawn) and a Vulkan/Metal/D3D12 driver.";

async function gpuApi(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (proc?.versions?.node) {
    const spec = "webgpu";
    let mod: { create: (opts: string[]) => GPU; globals: object };
    try {
      mod = await import(/* @vite-ignore */ spec);
    } catch (e) {
      throw new Error(
        `WebGPU is not available: this Node has no navigator.gpu and the \`webgpu\` package could not be loaded (${(e as Error).message}). ${HOW_TO_GET_AN_ADAPTER}`,
      );
    }
    // Dawn's constants (GPUBufferUsage, ...) are not globals in Node until installed.
    Object.assign(globalThis, mod.globals);
    return mod.create([]);
  }
  throw new Error(`WebGPU is not available here (no navigator.gpu). ${HOW_TO_GET_AN_ADAPTER}`);
}

/** Software rasterisers: barriers are slow there, so the register-tiled kernels are used. */
export function isSoftwareAdapter(
  info:
    | { description?: string; vendor?: string; device?: string; isFallbackAdapter?: boolean }
    | undefined,
): boolean {
  if (!info) return false;
  if (info.isFallbackAdapter) return true;
  return /llvmpipe|lavapipe|swiftshader|software/i.test(
    `${info.description} ${info.vendor} ${info.device}`,
  );
}

async function requestDevice(opts: GPURequestAdapterOptions | undefined): Promise<{
  device: GPUDevice;
  info: GPUAdapterInfo | undefined;
}> {
  const gpu = await gpuApi();
  const adapter = await gpu.requestAdapter(opts);
  if (!adapter) {
    throw new Error(
      `No WebGPU adapter found (requestAdapter() returned null). ${HOW_TO_GET_AN_ADAPTER}`,
    );
  }
  const l = adapter.limits;
  // Ask for the adapter's own limits where larger tensors or tiles need them.
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    },
  });
  return { device, info: adapter.info };
}

/**
 * A WebGPU backend: on `opts.device` if given (the app keeps owning it), else on a device requested
 * from navigator.gpu or, in Node, the `webgpu` package.
 */
export async function createWebGPUBackend(opts: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
  let device = opts.device;
  let info: GPUAdapterInfo | undefined;
  const ownsDevice = !device;
  if (device) {
    info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  } else {
    ({ device, info } = await requestDevice(opts.adapter));
  }
  const tiling: Tiling =
    opts.tiling && opts.tiling !== "auto"
      ? opts.tiling
      : isSoftwareAdapter(info)
        ? "registers"
        : "shared";
  const description = info
    ? [info.vendor, info.architecture, info.description].filter(Boolean).join(" ")
    : "unknown adapter";
  return new WebGPUBackend(
    new GpuRuntime(device, opts, description),
    tiling,
    description,
    info,
    ownsDevice,
  );
}
