/** Wrapping backend handles into tensors, and checks shared by every op. */
import type { Backend, DataHandle, DType } from "../kernels/backend.ts";
import { state } from "./state.ts";
import { Storage, Tensor } from "./tensor.ts";

export function fromHandle(
  handle: DataHandle,
  shape: readonly number[],
  dtype: DType = "float32",
  backend: Backend = state.backend,
): Tensor {
  return new Tensor(new Storage(backend, handle), [...shape], dtype);
}

/** The backend all inputs live on; mixing backends is an error that names both. */
export function backendOf(op: string, inputs: readonly Tensor[]): Backend {
  const b = inputs[0]?.backend ?? state.backend;
  for (const x of inputs) {
    if (x.backend !== b) {
      throw new Error(
        `${op}: inputs live on different backends (${b.name} and ${x.backend.name}); move them with toBackend() first`,
      );
    }
  }
  return b;
}

export function requireFloat(op: string, ...xs: Tensor[]): void {
  for (const x of xs) {
    if (x.dtype !== "float32")
      throw new Error(`${op}: expected a float32 tensor, got ${x.dtype} [${x.shape}]`);
  }
}

/** Normalises possibly negative axes, rejecting out-of-range or repeated ones. */
export function normalizeAxes(op: string, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new Error(`${op}: axis ${a} is out of range for a tensor of rank ${rank}`);
    }
    return a < 0 ? a + rank : a;
  });
  if (new Set(out).size !== out.length) throw new Error(`${op}: repeated axis in [${axes}]`);
  return out.sort((x, y) => x - y);
}

export function checkShape(op: string, shape: readonly number[]): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${op}: shape [${shape}] must contain non-negative integers`);
  }
}
