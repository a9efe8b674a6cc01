/**
 * The WebGPU runtime under the backend: pipeline cache, buffer pool, batched command submission,
 * a bounded cache of uploaded constant data (axis maps) and readback. Ops record dispatches into
 * one open compute pass; the pass is submitted every `batchSize` dispatches and whenever something
 * is read back, which is the only place that waits.
 */
import { BufferPool, type PoolKind, type PoolStats } from "./buffer-pool.ts";
import { type CompiledKernel, compileKernel, type KernelSource } from "./kernel.ts";
import { packUniforms, type UniformValues } from "./uniform-layout.ts";

export interface RuntimeOptions {
  /** Dispatches recorded before a submit (tfjs uses 15). */
  batchSize?: number;
  /** Bytes the pool's free lists may keep for reuse. */
  maxPooledBytes?: number;
  /** Entries and bytes the constant-upload cache (axis maps) may keep; least recently used go first. */
  maxConstantEntries?: number;
  maxConstantBytes?: number;
}

type HostArray = Int32Array | Float32Array | Uint32Array;

/** One cached upload: the host arrays it was made from (a private copy) and their buffers. */
interface ConstantEntry {
  readonly key: string;
  readonly host: HostArray[];
  readonly buffers: GPUBuffer[];
  readonly bytes: number;
  evicted: boolean;
}

export interface ConstantCacheStats {
  constantEntries: number;
  constantBytes: number;
  constantHits: number;
  constantMisses: number;
  constantEvictions: number;
}

/** FNV-1a over the 32-bit words of the arrays (with their lengths), as 8 hex digits. */
function contentHash(arrays: readonly HostArray[]): string {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    h = Math.imul(h ^ a.length, 0x01000193);
    const words = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

function sameContent(a: readonly HostArray[], b: readonly HostArray[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    const x = a[k];
    const y = b[k];
    if (x.length !== y.length || x.constructor !== y.constructor) return false;
    const xw = new Uint32Array(x.buffer, x.byteOffset, x.length);
    const yw = new Uint32Array(y.buffer, y.byteOffset, y.length);
    for (let i = 0; i < xw.length; i++) if (xw[i] !== yw[i]) return false;
  }
  return true;
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
  private lostInfo: { reason: string; message: string; buffers: number; bytes: number } | null =
    null;
  private disposed = false;
  private errors: string[] = [];
  /** Constant uploads by content key, in least-recently-used-first order. */
  private readonly constants = new Map<string, ConstantEntry>();
  /** The same entries by the identity of the object they were uploaded for (the fast path). */
  private readonly constantsByOwner = new WeakMap<object, ConstantEntry>();
  private constantBytes = 0;
  private constantHits = 0;
  private constantMisses = 0;
  private constantEvictions = 0;
  private readonly maxConstantEntries: number;
  private readonly maxConstantBytes: number;
  /** Submits so far (for tests of batching). */
  submits = 0;

  constructor(
    readonly device: GPUDevice,
    opts: RuntimeOptions = {},
    /** What this device is (the adapter's description), for error messages. */
    readonly label = "WebGPU device",
  ) {
    this.batchSize = opts.batchSize ?? 32;
    this.pool = new BufferPool(device, opts.maxPooledBytes ?? 512 * 2 ** 20);
    this.maxConstantEntries = opts.maxConstantEntries ?? 256;
    this.maxConstantBytes = opts.maxConstantBytes ?? 32 * 2 ** 20;
    this.maxBindingBytes = device.limits.maxStorageBufferBindingSize;
    this.maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
    device.lost.then((info) => {
      // What was on the device when it went: every buffer handed out (tensors, cached constants).
      const st = this.pool.stats();
      this.lostInfo = {
        reason: String(info.reason),
        message: info.message,
        buffers: st.inUseBuffers,
        bytes: st.inUseBytes,
      };
    });
    device.addEventListener("uncapturederror", (ev) => {
      this.errors.push((ev as GPUUncapturedErrorEvent).error.message);
    });
  }

  /** Throws if the device is gone or the backend disposed; every entry point calls this first. */
  ensureAlive(): void {
    if (this.disposed) {
      throw new Error(
        `webgpu: this backend (${this.label}) was disposed; create a new one with createWebGPUBackend()`,
      );
    }
    if (!this.lostInfo) return;
    const { reason, message, buffers, bytes } = this.lostInfo;
    throw new Error(
      `WebGPU device lost (${this.label}; reason: ${reason}${message ? `; ${message}` : ""}): ` +
        `the ${buffers} buffer(s) (${bytes} bytes) the "webgpu" backend held on it (tensors, ` +
        `cached axis maps, unsubmitted work) are gone, and ` +
        `every webgpu tensor with them. Create a new backend with createWebGPUBackend(); ` +
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

  /**
   * Storage buffers holding `arrays`, uploaded once and kept across calls (axis maps, whose
   * host data are immutable). Looked up by the identity of `owner` first, then by content, so a
   * map rebuilt with the same values (every resize builds a fresh one) is not uploaded again.
   * Bounded (entries and bytes, least recently used evicted); freed by dispose(). Empty arrays get
   * a zeroed 4-byte buffer (bindings cannot be empty).
   */
  constantBuffers(owner: object, arrays: readonly HostArray[], what: string): GPUBuffer[] {
    this.ensureAlive();
    const byOwner = this.constantsByOwner.get(owner);
    if (byOwner && !byOwner.evicted) return this.hit(byOwner);
    const key = `${arrays.map((a) => `${a.constructor.name}:${a.length}`).join(",")}#${contentHash(arrays)}`;
    const found = this.constants.get(key);
    if (found && sameContent(found.host, arrays)) {
      this.constantsByOwner.set(owner, found);
      return this.hit(found);
    }
    if (found) this.evict(found); // a hash collision: the newer content wins the slot
    this.constantMisses++;
    const buffers = arrays.map((a) => {
      const bytes = Math.max(a.byteLength, 4);
      if (bytes > this.maxBindingBytes) {
        throw new Error(
          `webgpu: ${what} needs ${bytes} bytes, more than this device's maxStorageBufferBindingSize (${this.maxBindingBytes} bytes)`,
        );
      }
      const buf = this.pool.acquire("storage", bytes);
      this.write(buf, a);
      return buf;
    });
    const entry: ConstantEntry = {
      key,
      host: arrays.map((a) => a.slice()),
      buffers,
      bytes: buffers.reduce((n, b) => n + b.size, 0),
      evicted: false,
    };
    this.constants.set(key, entry);
    this.constantsByOwner.set(owner, entry);
    this.constantBytes += entry.bytes;
    for (const e of this.constants.values()) {
      if (
        this.constants.size <= this.maxConstantEntries &&
        this.constantBytes <= this.maxConstantBytes
      )
        break;
      if (e !== entry) this.evict(e);
    }
    return buffers;
  }

  private hit(e: ConstantEntry): GPUBuffer[] {
    this.constantHits++;
    // Most recently used moves to the end of the eviction order.
    this.constants.delete(e.key);
    this.constants.set(e.key, e);
    return e.buffers;
  }

  /** Drops a cached upload; recorded-but-unsubmitted commands may still read it, so deferred. */
  private evict(e: ConstantEntry): void {
    if (e.evicted) return;
    e.evicted = true;
    this.constants.delete(e.key);
    this.constantBytes -= e.bytes;
    this.constantEvictions++;
    if (this.lostInfo) return;
    for (const b of e.buffers) this.pool.release("storage", b, this.recorded > 0);
  }

  /** Frees every cached constant upload (the next use uploads again). */
  clearConstants(): void {
    for (const e of [...this.constants.values()]) this.evict(e);
  }

  /**
   * Submits pending work, frees the cached constants and the pool's free buffers, and refuses any
   * later use. Buffers of tensors still alive are the caller's (or go with the device).
   */
  dispose(): void {
    if (this.disposed) return;
    if (!this.lostInfo) this.submit();
    this.clearConstants();
    this.pool.close();
    this.disposed = true;
  }

  isDisposed(): boolean {
    return this.disposed;
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

  stats(): PoolStats & ConstantCacheStats & { pipelines: number; submits: number } {
    return {
      ...this.pool.stats(),
      constantEntries: this.constants.size,
      constantBytes: this.constantBytes,
      constantHits: this.constantHits,
      constantMisses: this.constantMisses,
      constantEvictions: this.constantEvictions,
      pipelines: this.kernels.size,
      submits: this.submits,
    };
  }
}
