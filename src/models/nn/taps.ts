/**
 * Taps: scoped, functional access to a named module's output (what Grad-CAM and layer methods
 * need) without hooks that outlive a call. While a tap scope is active, the output of the module
 * at that dotted path is passed through the tap, which may record it or replace it.
 */
import type { Tensor } from "../../autodiff/tensor.ts";

/** Sees (and may replace) a module's output; the path is the module's dotted path. */
export type Tap = (output: Tensor, path: string) => Tensor;

let active: ReadonlyMap<string, Tap> = new Map();

/** Runs fn with taps on the modules at the given dotted paths; nothing outlives the call. */
export function withTaps<T>(taps: Record<string, Tap> | ReadonlyMap<string, Tap>, fn: () => T): T {
  const saved = active;
  const merged = new Map(saved);
  for (const [k, v] of taps instanceof Map ? taps : Object.entries(taps)) merged.set(k, v);
  active = merged;
  try {
    return fn();
  } finally {
    active = saved;
  }
}

export function applyTap(path: string, output: Tensor): Tensor {
  const tap = active.get(path);
  return tap ? tap(output, path) : output;
}

/** Whether a tap on `path` is active (a fused op that skips that module's output checks this). */
export function tapActive(path: string): boolean {
  return active.has(path);
}
