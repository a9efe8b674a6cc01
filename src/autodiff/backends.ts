/** Choosing the backend new tensors are made on, and moving tensors between backends. */
import type { Backend } from "../kernels/backend.ts";
import { resolveBackend, runInScope } from "./context.ts";
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

/**
 * Runs fn with `backend` as the default backend for new tensors.
 *
 * Like withRules, the scope covers fn's synchronous part and every salient method called there
 * (each keeps it until it settles). Your own code after an `await` inside fn is outside the
 * scope; when fn starts no method before its first await, making a tensor on the default backend
 * or starting a method outside every scope throws until fn's promise settles, instead of silently
 * using the outer backend (not detected after fn has started and awaited a method). Pass `{ backend }` to a method, or capture
 * `const ctx = engineContext()` before the await and use `ctx.run(...)` after it.
 */
export function withBackend<T>(backend: Backend | string, fn: () => T): T {
  const b = resolveBackend(backend, "withBackend");
  // Registered, as setBackend does, so memory() counts its bytes and its name resolves later.
  state.backends.set(b.name, b);
  return runInScope(state.activeRules, b, ["backend"], fn);
}
