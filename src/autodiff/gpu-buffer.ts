/**
 * Zero-copy exchange with a WebGPU application: tensors over GPUBuffers the application owns, and
 * a tensor's own GPUBuffer handed out without a readback. Works with any backend that implements
 * the optional `wrapGPUBuffer` / `exportGPUBuffer` kernels (the WebGPU backend does).
 */
import type { Backend, DType, GPUBufferView } from "../kernels/backend.ts";
import { checkShape, fromHandle } from "./make.ts";
import type { Tensor } from "./tensor.ts";

/**
 * A tensor whose values are the first size x 4 bytes of `buffer`, without a copy. The buffer must
 * belong to `backend`'s device (create the backend with `createWebGPUBackend({ device })` to share
 * the application's device) and have STORAGE usage (and COPY_SRC for `await t.data()`).
 *
 * The application keeps ownership: disposing the tensor never destroys or reuses the buffer, and
 * the buffer must outlive every use of the tensor. Ops never write into their inputs, so the
 * buffer is only read. Writes the application queues with `device.queue.writeBuffer` before
 * calling an op are seen by it; to overwrite the buffer while the engine may still have work
 * queued that reads it, flush that work first (`backend.flush()`).
 */
export function tensorFromGPUBuffer(
  backend: Backend,
  buffer: GPUBuffer,
  shape: readonly number[],
  dtype: DType = "float32",
): Tensor {
  if (!backend.wrapGPUBuffer) {
    throw new Error(
      `tensorFromGPUBuffer: the ${backend.name} backend cannot wrap a GPUBuffer; use a WebGPU backend`,
    );
  }
  checkShape("tensorFromGPUBuffer", shape);
  return fromHandle(backend.wrapGPUBuffer(buffer, shape, dtype), shape, dtype, backend);
}

/**
 * The GPUBuffer that holds t's values (bytes [byteOffset, byteOffset + byteLength), row-major
 * float32 or int32), for the application to bind or copy from without a readback. Queued engine
 * work is submitted first, so commands the application submits afterwards see the values.
 *
 * Lifetime: the buffer stays the engine's. It is valid until t (and every reshape of it) is
 * disposed; after that it is reused for other tensors, so copy out what you need first. Never
 * write into it or destroy it; it may be larger than byteLength.
 */
export function gpuBufferOf(t: Tensor): GPUBufferView {
  t.assertAlive("export the buffer of");
  const b = t.backend;
  if (!b.exportGPUBuffer) {
    throw new Error(
      `gpuBufferOf: tensor #${t.id} lives on the ${b.name} backend, which has no GPUBuffer; move it with toBackend() to a WebGPU backend`,
    );
  }
  return b.exportGPUBuffer(t);
}
