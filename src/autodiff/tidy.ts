/** Memory scopes: every tensor made inside `tidy` is disposed at its end unless returned or kept. */
import { state } from "./state.ts";
import { Tensor } from "./tensor.ts";

function collect(value: unknown, out: Set<Tensor>): void {
  if (value instanceof Tensor) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, out);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out);
  else if (
    value &&
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    for (const v of Object.values(value)) collect(v, out);
  }
}

/**
 * Runs fn and disposes every tensor it made except those it returns (or keeps); fn must be
 * synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope = { tensors: [] as Tensor[] };
  state.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    // A failing scope frees what it made, like a finished one that returns nothing.
    state.scopes.pop();
    for (const t of scope.tensors) if (!t.kept) state.dispose(t);
    throw e;
  }
  state.scopes.pop();
  if (result instanceof Promise) {
    throw new Error("tidy: the function returned a Promise; tidy scopes must be synchronous");
  }
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  const parent = state.scopes[state.scopes.length - 1];
  for (const t of scope.tensors) {
    if (survivors.has(t)) {
      if (parent) parent.tensors.push(t);
    } else if (!t.kept) state.dispose(t);
  }
  return result;
}

/** Exempts a tensor from every enclosing `tidy`; the caller disposes it. */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}

/** Disposes every tensor in a value (a tensor, or arrays and objects holding tensors). */
export function dispose(value: unknown): void {
  const all = new Set<Tensor>();
  collect(value, all);
  for (const t of all) state.dispose(t);
}

/** Live tensors and backend bytes, for leak checks. */
export function memory(): { tensors: number; bytes: number } {
  return { tensors: state.liveTensors, bytes: state.liveBytes() };
}

/** fn's result with the largest number of live backend bytes seen while it ran. */
export interface PeakBytes<T> {
  value: T;
  /** Live bytes (all backends) when fn started. */
  startBytes: number;
  /** The most live bytes at any moment while fn ran (>= startBytes). */
  peakBytes: number;
}

/**
 * Runs fn (synchronous or async) and reports the high-water mark of live tensor bytes while it
 * ran: storage of live tensors on every registered backend, not the backends' kernel scratch or
 * buffer pools. Nests; for an async fn, work that other callers interleave is counted too.
 */
export function trackPeakBytes<T>(fn: () => Promise<T>): Promise<PeakBytes<T>>;
export function trackPeakBytes<T>(fn: () => T): PeakBytes<T>;
export function trackPeakBytes<T>(fn: () => T | Promise<T>): PeakBytes<T> | Promise<PeakBytes<T>> {
  const outer = state.peakBytes;
  const startBytes = state.liveBytes();
  state.peakBytes = startBytes;
  const finish = (value: T): PeakBytes<T> => {
    const peakBytes = Math.max(state.peakBytes, state.liveBytes());
    state.peakBytes = Math.max(outer, peakBytes);
    return { value, startBytes, peakBytes };
  };
  const restore = () => {
    state.peakBytes = Math.max(outer, state.peakBytes);
  };
  let result: T | Promise<T>;
  try {
    result = fn();
  } catch (e) {
    restore();
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(finish, (e) => {
      restore();
      throw e;
    });
  }
  return finish(result);
}
