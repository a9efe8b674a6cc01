/**
 * The WebGPU backend: every primitive of the Backend interface as hand-written WGSL, on a runtime
 * with a pipeline cache, a buffer pool and batched submission. Everything is synchronous except
 * read(), the only place that waits for the GPU.
 */

import type {
  Backend,
  BinaryOp,
  DataHandle,
  DType,
  GPUBufferView,
  PadMode,
  ReduceOp,
  TensorInfo,
  TypedArray,
  UnaryOp,
  UnaryParams,
} from "../backend.ts";
import type { Conv2dGeometry } from "../conv-geometry.ts";
import type { PoolGeometry } from "../pool-geometry.ts";
import { sizeOf } from "../shape.ts";
import type { AxisMap } from "../sparse-map.ts";
import type { KernelContext, Tiling } from "./context.ts";
import { GpuData, gpuData, HOST_COPY_LIMIT } from "./gpu-data.ts";
import { axisMap } from "./kernels/apply-axis-map.ts";
import { conv2d } from "./kernels/conv2d.ts";
import { conv2dBackpropFilter } from "./kernels/conv2d-filter.ts";
import * as ew from "./kernels/elementwise.ts";
import * as layout from "./kernels/layout.ts";
import { matmul } from "./kernels/matmul.ts";
import * as pool from "./kernels/pool2d.ts";
import { argMax, reduce } from "./kernels/reduce.ts";
import type { GpuRuntime } from "./runtime.ts";

// GPUBufferUsage flags (the constants are not globals everywhere, e.g. Node before Dawn loads).
const GPU_COPY_SRC = 0x04;
const GPU_STORAGE = 0x80;

export class WebGPUBackend implements Backend, KernelContext {
  readonly name = "webgpu";
  private bytes = 0;

  constructor(
    readonly rt: GpuRuntime,
    readonly tiling: Tiling,
    /** Adapter description, for reports ("llvmpipe (LLVM 15...)", a GPU's name, ...). */
    readonly adapterDescription: string,
    /** The adapter's info where known (vendor, architecture, ...), e.g. to hand to another library. */
    readonly adapterInfo: GPUAdapterInfo | undefined = undefined,
    /** Whether createWebGPUBackend requested the device (then dispose() destroys it). */
    private readonly ownsDevice = false,
  ) {}

  /**
   * Frees what the backend keeps besides tensors (cached axis maps, pooled free buffers) and
   * refuses any later use; destroys the device too when createWebGPUBackend requested it (a
   * device passed in stays the caller's). Tensors still alive should be disposed first.
   */
  dispose(): void {
    if (this.rt.isDisposed()) return;
    this.rt.dispose();
    if (this.ownsDevice) this.device.destroy();
  }

  get device(): GPUDevice {
    return this.rt.device;
  }

  output(shape: readonly number[], dtype: DType, op: string): GpuData {
    const bytes = sizeOf(shape) * 4;
    const buffer = this.rt.alloc(bytes, `${op} output [${shape}] (${dtype})`);
    this.bytes += bytes;
    return new GpuData(buffer, bytes, dtype);
  }

  upload(values: TypedArray, shape: readonly number[], dtype: DType): DataHandle {
    const n = sizeOf(shape);
    if (values.length !== n) {
      throw new Error(
        `webgpu upload: ${values.length} values for shape [${shape}] (${n} elements)`,
      );
    }
    const typed = dtype === "int32" ? Int32Array.from(values) : Float32Array.from(values);
    const buffer = this.rt.alloc(n * 4, `upload [${shape}] (${dtype})`);
    this.rt.write(buffer, typed);
    this.bytes += n * 4;
    const host = dtype === "int32" && n <= HOST_COPY_LIMIT ? (typed as Int32Array) : null;
    return new GpuData(buffer, n * 4, dtype, host);
  }

  /**
   * Storage over an application-owned buffer, without a copy: the values are the buffer's first
   * size x 4 bytes (kernels bind whole buffers, so there is no offset). The buffer must come from
   * this backend's device with STORAGE usage (and COPY_SRC for `data()`). Freeing the storage
   * never destroys or pools it; the application keeps it alive while the tensor is in use, and
   * does not write to it while queued work may still read it (call flush() first).
   */
  wrapGPUBuffer(buffer: GPUBuffer, shape: readonly number[], dtype: DType): DataHandle {
    this.rt.ensureAlive();
    const n = sizeOf(shape);
    const usage = buffer.usage;
    if ((usage & GPU_STORAGE) === 0) {
      throw new Error(
        `webgpu: the buffer to wrap needs STORAGE usage (GPUBufferUsage.STORAGE), got usage ${usage}`,
      );
    }
    if (buffer.size < n * 4) {
      throw new Error(
        `webgpu: the buffer to wrap holds ${buffer.size} bytes but a ${dtype} tensor [${shape}] needs ${n * 4}`,
      );
    }
    return new GpuData(buffer, n * 4, dtype, null, true);
  }

  /**
   * x's buffer, for the application to bind or copy from without a readback. Recorded work is
   * submitted first, so commands the application submits afterwards see the values. The buffer
   * stays the backend's: valid until the tensor (and every reshape of it) is disposed, after which
   * it is reused for other tensors; it may be larger than byteLength; never write to it.
   */
  exportGPUBuffer(x: TensorInfo): GPUBufferView {
    const d = gpuData(x);
    this.rt.submit();
    return { buffer: d.buffer, byteOffset: 0, byteLength: d.bytes };
  }

  async read(x: TensorInfo): Promise<TypedArray> {
    const d = gpuData(x);
    if (d.external && (d.buffer.usage & GPU_COPY_SRC) === 0) {
      throw new Error(
        "webgpu: reading a wrapped buffer back needs COPY_SRC usage (GPUBufferUsage.COPY_SRC); copy it with an op first (e.g. add(t, 0)) or create the buffer with COPY_SRC",
      );
    }
    const bytes = await this.rt.read(d.buffer, d.bytes);
    return x.dtype === "int32" ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  free(data: DataHandle): void {
    const d = data as GpuData;
    if (d.freed) return;
    d.freed = true;
    if (d.external) return; // the application's buffer: not counted, pooled or destroyed here
    this.bytes -= d.bytes;
    // A lost device has no pool to return to; the buffers are gone with it. After dispose() the
    // pool destroys what comes back.
    if (!this.rt.isLost()) this.rt.release(d.buffer);
  }

  liveBytes(): number {
    return this.bytes;
  }

  /**
   * Pool, pipeline and constant-cache statistics (buffers created, in use, pooled; pipelines;
   * submits; cached axis-map uploads with hits and misses).
   */
  stats(): ReturnType<GpuRuntime["stats"]> {
    return this.rt.stats();
  }

  /** Submits any recorded work without waiting for it. */
  flush(): void {
    this.rt.submit();
  }

  fill(shape: readonly number[], value: number, dtype: DType): DataHandle {
    this.rt.ensureAlive();
    if (dtype === "int32" && sizeOf(shape) <= HOST_COPY_LIMIT) {
      // Small int fills (index tensors) keep their values on the host too.
      return this.upload(new Int32Array(sizeOf(shape)).fill(value), shape, dtype);
    }
    return ew.fill(this, shape, value, dtype);
  }
  cast(x: TensorInfo, dtype: DType): DataHandle {
    this.rt.ensureAlive();
    return ew.cast(this, x, dtype);
  }
  unary(op: UnaryOp, x: TensorInfo, params?: UnaryParams): DataHandle {
    this.rt.ensureAlive();
    return ew.unary(this, op, x, params);
  }
  binary(op: BinaryOp, a: TensorInfo, b: TensorInfo, outShape: readonly number[]): DataHandle {
    this.rt.ensureAlive();
    return ew.binary(this, op, a, b, outShape);
  }
  select(c: TensorInfo, a: TensorInfo, b: TensorInfo, outShape: readonly number[]): DataHandle {
    this.rt.ensureAlive();
    return ew.select(this, c, a, b, outShape);
  }
  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[]): DataHandle {
    this.rt.ensureAlive();
    return reduce(this, op, x, axes);
  }
  argMax(x: TensorInfo, axis: number): DataHandle {
    this.rt.ensureAlive();
    return argMax(this, x, axis);
  }

  transpose(x: TensorInfo, perm: readonly number[]): DataHandle {
    this.rt.ensureAlive();
    return layout.transpose(this, x, perm);
  }
  slice(
    x: TensorInfo,
    begin: readonly number[],
    size: readonly number[],
    step: readonly number[],
  ): DataHandle {
    this.rt.ensureAlive();
    return layout.slice(this, x, begin, size, step);
  }
  pad(
    x: TensorInfo,
    pads: readonly (readonly [number, number])[],
    mode: PadMode,
    value: number,
  ): DataHandle {
    this.rt.ensureAlive();
    return layout.pad(this, x, pads, mode, value);
  }
  concat(xs: readonly TensorInfo[], axis: number, outShape: readonly number[]): DataHandle {
    this.rt.ensureAlive();
    return layout.concat(this, xs, axis, outShape);
  }
  interleave(xs: readonly TensorInfo[], r: number): DataHandle {
    this.rt.ensureAlive();
    return layout.interleave(this, xs, r);
  }
  gather(x: TensorInfo, indices: TensorInfo, axis: number): DataHandle {
    this.rt.ensureAlive();
    return layout.gather(this, x, indices, axis);
  }
  scatterAdd(updates: TensorInfo, indices: TensorInfo, axis: number, length: number): DataHandle {
    this.rt.ensureAlive();
    return layout.scatterAdd(this, updates, indices, axis, length);
  }

  matmul(a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): DataHandle {
    this.rt.ensureAlive();
    return matmul(this, a, b, transA, transB);
  }

  conv2d(
    x: TensorInfo,
    w: TensorInfo,
    geom: Conv2dGeometry,
    bias: TensorInfo | null,
    relu: boolean,
  ): DataHandle {
    this.rt.ensureAlive();
    return conv2d(this, x, w, geom, bias, relu);
  }
  conv2dBackpropFilter(x: TensorInfo, dy: TensorInfo, geom: Conv2dGeometry): DataHandle {
    this.rt.ensureAlive();
    return conv2dBackpropFilter(this, x, dy, geom);
  }

  maxPool2d(x: TensorInfo, geom: PoolGeometry): { out: DataHandle; argmax: DataHandle } {
    this.rt.ensureAlive();
    return pool.maxPool2d(this, x, geom);
  }
  maxPool2dBackward(dy: TensorInfo, argmax: TensorInfo, geom: PoolGeometry): DataHandle {
    this.rt.ensureAlive();
    return pool.maxPool2dBackward(this, dy, argmax, geom);
  }
  avgPool2d(x: TensorInfo, geom: PoolGeometry): DataHandle {
    this.rt.ensureAlive();
    return pool.avgPool2d(this, x, geom);
  }
  avgPool2dBackward(dy: TensorInfo, geom: PoolGeometry): DataHandle {
    this.rt.ensureAlive();
    return pool.avgPool2dBackward(this, dy, geom);
  }

  axisMap(x: TensorInfo, axis: number, map: AxisMap): DataHandle {
    this.rt.ensureAlive();
    return axisMap(this, x, axis, map);
  }
}
