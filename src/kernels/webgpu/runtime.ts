/**
 * The WebGPU runtime under the backend: pipeline cache, buffer pool, batched command submission
 * and readback. Ops record dispatches into one open compute pass; the pass is submitted every
 * `batchSize` dispatches and whenever something is read back, which is the only place that waits.
 */
import { BufferPool, type PoolKind, type PoolStats } from "./buffer-pool.ts";
import { type CompiledKernel, compileKernel, type KernelSource } from "./kernel.ts";
import { packUniforms, type UniformValues } from "./uniform-layout.ts";

export interface RuntimeOptions {
  /** Dispatches recorded before a submit (tfjs uses 15). */
  batchSize?: number;
  /** Bytes the pool's free lists may keep for reuse. */
  maxPooledBytes?: number;
}

export class GpuRuntime {
  readonly pool: BufferPool;
  readonly maxBindingBytes: number;
  private readonly maxGroups: number;
  private readonly batchSize: number;
  private readonly kernels = new Map<string, CompiledKernel>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private recorded = 0;
  private scratch: [PoolKind, GPUBuffer][] = [];
  private lostInfo: { reason: string; message: string } | null = null;
  private errors: string[] = [];
  /** Submits so far (for tests of batching). */
  submits = 0;

  constructor(
    readonly device: GPUDevice,
    opts: RuntimeOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 32;
    this.pool = new BufferPool(device, opts.maxPooledBytes ?? 512 * 2 ** 20);
    this.maxBindingBytes = device.limits.maxStorageBufferBindingSize;
    this.maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
    device.lost.then((info) => {
      this.lostInfo = { reason: String(info.reason), message: info.message };
    });
    device.addEventListener("uncapturederror", (ev) => {
      this.errors.push((ev as GPUUncapturedErrorEvent).error.message);
    });
  }

  /** Throws if the device is gone; every entry point of the backend calls this first. */
  ensureAlive(): void {
    if (!this.lostInfo) return;
    const { reason, message } = this.lostInfo;
    throw new Error(
      `WebGPU device lost (reason: ${reason}${message ? `; ${message}` : ""}): every tensor and ` +
        `buffer of the "webgpu" backend is gone. Create a new backend with createWebGPUBackend(); ` +
        `the "cpu" backend is unaffected and still usable.`,
    );
  }

  isLost(): boolean {
    return this.lostInfo !== null;
  }

  /** The compiled kernel for `key`, built by `make` on first use (pipeline cache). */
  kernel(key: string, make: () => KernelSource): CompiledKernel {
    let k = this.kernels.get(key);
    if (!k) {
      k = compileKernel(this.device, make(), (m) => this.errors.push(m));
      this.kernels.set(key, k);
    }
    return k;
  }

  get pipelineCount(): number {
    return this.kernels.size;
  }

  /** A storage buffer for a tensor; refuses sizes one binding cannot hold. */
  alloc(bytes: number, what: string): GPUBuffer {
    this.ensureAlive();
    if (bytes > this.maxBindingBytes) {
      throw new Error(
        `webgpu: ${what} needs ${bytes} bytes, more than this device's maxStorageBufferBindingSize ` +
          `(${this.maxBindingBytes} bytes); process it in smaller pieces (batch or tiles) or use the cpu backend`,
      );
    }
    return this.pool.acquire("storage", bytes);
  }

  /** Returns a tensor's buffer; if recorded commands may still use it, only after they are submitted. */
  release(buf: GPUBuffer): void {
    this.pool.release("storage", buf, this.recorded > 0);
  }

  /** A buffer that lives until the current batch is submitted (uniforms, maps, partial sums). */
  scratchBuffer(kind: "storage" | "uniform", bytes: number): GPUBuffer {
    const buf =
      kind === "storage" ? this.alloc(bytes, "a scratch buffer") : this.pool.acquire(kind, bytes);
    this.scratch.push([kind, buf]);
    return buf;
  }

  /** Uploads `data` into a scratch storage buffer. */
  scratchData(data: Int32Array | Float32Array | Uint32Array): GPUBuffer {
    const buf = this.scratchBuffer("storage", data.byteLength);
    this.write(buf, data);
    return buf;
  }

  write(buf: GPUBuffer, data: Int32Array | Float32Array | Uint32Array): void {
    // Typed arrays here never sit on a SharedArrayBuffer; the cast only narrows the type.
    if (data.byteLength > 0)
      this.device.queue.writeBuffer(buf, 0, data as ArrayBufferView<ArrayBuffer>);
  }

  /**
   * Records one dispatch: `buffers` by WGSL binding name, uniform values by field name.
   * `groups` may exceed the per-dimension limit in x only if the kernel folds y into x.
   */
  dispatch(
    k: CompiledKernel,
    buffers: Record<string, GPUBuffer>,
    uniforms: UniformValues,
    groups: readonly [number, number?, number?],
  ): void {
    this.ensureAlive();
    const [gx, gy = 1, gz = 1] = groups;
    if (gx === 0 || gy === 0 || gz === 0) return;
    if (gx > this.maxGroups || gy > this.maxGroups || gz > this.maxGroups) {
      throw new Error(
        `WebGPU kernel "${k.name}": dispatch [${gx}, ${gy}, ${gz}] exceeds maxComputeWorkgroupsPerDimension (${this.maxGroups}); the tensor is too large for this kernel`,
      );
    }
    const entries: GPUBindGroupEntry[] = [];
    for (const b of k.bindings) {
      if (b.kind === "uniform") {
        const ubuf = this.scratchBuffer("uniform", k.uniforms.size);
        this.device.queue.writeBuffer(ubuf, 0, packUniforms(k.name, k.uniforms, uniforms));
        entries.push({ binding: b.binding, resource: { buffer: ubuf, size: k.uniforms.size } });
      } else {
        const buf = buffers[b.name];
        if (!buf)
          throw new Error(`WebGPU kernel "${k.name}": no buffer given for binding "${b.name}"`);
        entries.push({ binding: b.binding, resource: { buffer: buf } });
      }
    }
    const bindGroup = this.device.createBindGroup({ layout: k.bindGroupLayout, entries });
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    this.pass.setPipeline(k.pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(gx, gy, gz);
    this.recorded++;
    if (this.recorded >= this.batchSize) this.submit();
  }

  /** Submits everything recorded so far, then recycles what that batch was holding. */
  submit(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.submits++;
    }
    this.recorded = 0;
    for (const [kind, buf] of this.scratch) this.pool.release(kind, buf, false);
    this.scratch = [];
    this.pool.flushPending();
  }

  /** Copies `bytes` of `buf` back to the host; the only wait in the backend. */
  async read(buf: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.ensureAlive();
    if (bytes === 0) {
      this.submit();
      return new ArrayBuffer(0);
    }
    const staging = this.pool.acquire("readback", bytes);
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(buf, 0, staging, 0, bytes);
    this.submit();
    try {
      await staging.mapAsync(1 /* GPUMapMode.READ */, 0, bytes);
    } catch (e) {
      this.ensureAlive();
      throw new Error(`webgpu: reading back ${bytes} bytes failed: ${(e as Error).message}`);
    }
    const copy = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    this.pool.release("readback", staging, false);
    this.throwErrors();
    return copy;
  }

  /** Surfaces validation or compile errors reported asynchronously since the last check. */
  throwErrors(): void {
    if (this.errors.length === 0) return;
    const all = this.errors;
    this.errors = [];
    throw new Error(`WebGPU reported ${all.length} error(s): ${all.join(" | ")}`);
  }

  stats(): PoolStats & { pipelines: number; submits: number } {
    return { ...this.pool.stats(), pipelines: this.kernels.size, submits: this.submits };
  }
}
