/**
 * Tensors computed from a weight alone, kept with the weight between calls: an upsample + conv
 * merges its kernel's taps into four phase kernels with about twenty small ops, which took
 * ~1.5 ms of a 34 ms forward of the CLI's RDN-like net, every call, for the same weights.
 *
 * Safe because storage is immutable (a Variable's `assign` swaps its storage, never writes into
 * it), so an entry keyed by the storage can never go stale; it is disposed when that storage is
 * freed. Taken only while no gradient tape watches the weight: a parameter gradient needs the
 * ops that make the derived tensors on the tape, so then they are made afresh.
 */
import { state } from "./state.ts";
import type { Tensor } from "./tensor.ts";
import { keep, tidy } from "./tidy.ts";

/**
 * `make()` (tensors computed from w only, through differentiable ops), or the tensors an earlier
 * call with the same w storage, shape and `key` made. The caller must not dispose them.
 */
export function derivedFromWeight(w: Tensor, key: string, make: () => Tensor[]): Tensor[] {
  if (state.tapes.some((tape) => tape.isTracked(w))) return make();
  const storage = w.storage;
  const full = `${key}|${w.dtype}[${w.shape}]`;
  const hit = storage.derived?.get(full);
  if (hit?.every((t) => !t.isDisposed)) return hit;
  for (const t of hit ?? []) t.dispose();
  // Made in a scope of their own, so that their intermediates are freed.
  const made = tidy(make);
  // A view of w's own storage would keep it from ever being freed, and so itself: not kept.
  if (made.some((t) => t.storage === storage)) return made;
  for (const t of made) keep(t);
  storage.derived ??= new Map();
  storage.derived.set(full, made);
  return made;
}
