/**
 * A kernel is WGSL text plus the TypeScript layout of its uniform struct. Compiling one reflects
 * the WGSL (bindings -> bind-group layout, uniform struct checked against the TS layout), then
 * builds the pipeline. Shader compile errors arrive asynchronously through an error scope and are
 * reported, with the kernel's name, by the next read().
 */
import { type KernelBinding, reflectKernel } from "./reflect.ts";
import { layoutUniforms, type UniformField, type UniformLayout } from "./uniform-layout.ts";

/** A compute kernel's WGSL source and entry point, as checkKernelSource takes it. */
export interface KernelSource {
  /** Human-readable name used in every error about this kernel. */
  readonly name: string;
  readonly wgsl: string;
  readonly uniforms: readonly UniformField[];
}

export interface CompiledKernel {
  readonly name: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly bindings: readonly KernelBinding[];
  readonly uniforms: UniformLayout;
}

/** Checks a kernel's WGSL against its TypeScript uniform layout without a device. */
export function checkKernelSource(src: KernelSource): {
  bindings: readonly KernelBinding[];
  uniforms: UniformLayout;
  entryPoint: string;
} {
  const uniforms = layoutUniforms(src.name, src.uniforms);
  const { bindings, entryPoint } = reflectKernel(src.name, src.wgsl, uniforms);
  return { bindings, uniforms, entryPoint };
}

export function compileKernel(
  device: GPUDevice,
  src: KernelSource,
  onError: (message: string) => void,
): CompiledKernel {
  const { bindings, uniforms, entryPoint } = checkKernelSource(src);
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code: src.wgsl, label: src.name });
  const bindGroupLayout = device.createBindGroupLayout({
    label: src.name,
    entries: bindings.map((b) => ({
      binding: b.binding,
      visibility: 0x4, // GPUShaderStage.COMPUTE
      buffer: { type: b.kind },
    })),
  });
  const pipeline = device.createComputePipeline({
    label: src.name,
    layout: device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
    compute: { module, entryPoint },
  });
  device.popErrorScope().then(
    (err) => {
      if (err) onError(`WebGPU kernel "${src.name}" failed to compile: ${err.message}`);
    },
    () => {},
  );
  return { name: src.name, pipeline, bindGroupLayout, bindings, uniforms };
}
