/** Choosing the backend new tensors are made on, and moving tensors between backends. */
import type { Backend } from "../kernels/backend.ts";
import { fromHandle } from "./make.ts";
import { state } from "./state.ts";
import type { Tensor } from "./tensor.ts";

export function registerBackend(backend: Backend): void {
  state.backends.set(backend.name, backend);
}

/** Makes `backend` (or the registered backend of that name) the default for new tensors. */
export function setBackend(backend: Backend | string): Backend {
  const b = typeof backend === "string" ? state.backends.get(backend) : backend;
  if (!b) {
    throw new Error(
      `setBackend: no backend named "${backend}" (registered: ${[...state.backends.keys()].join(", ")})`,
    );
  }
  state.backends.set(b.name, b);
  state.backend = b;
  return b;
}

export function getBackend(): Backend {
  return state.backend;
}

/** Copies a tensor to another backend (reads back, so it is async). */
export async function toBackend(t: Tensor, backend: Backend | string): Promise<Tensor> {
  const b = typeof backend === "string" ? state.backends.get(backend) : backend;
  if (!b) throw new Error(`toBackend: no backend named "${backend}"`);
  if (b === t.backend) return t;
  const values = await t.data();
  return fromHandle(b.upload(values, t.shape, t.dtype), t.shape, t.dtype, b);
}

/** Runs fn with `backend` as the default backend for new tensors. */
export function withBackend<T>(backend: Backend | string, fn: () => T): T {
  const saved = state.backend;
  setBackend(backend);
  try {
    return fn();
  } finally {
    state.backend = saved;
  }
}
