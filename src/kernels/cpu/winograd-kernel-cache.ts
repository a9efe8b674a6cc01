/**
 * Transformed Winograd kernels (U = G g G^T, packed for the GEMM) kept across calls. A model's
 * weights are the same from call to call, and the transform (in JS, float64) cost as much as
 * the GEMMs on small images: 1.6 ms of a 35 ms forward of the CLI's RDN-like net at 64x64 LR,
 * where each upsampling conv transforms four phase kernels every call. Entries are found by the
 * kernel's bits (a hash, then a full comparison), so a buffer reused for other weights, or
 * weights changed in place by training, never hit a stale entry; the result is bitwise the same.
 */

/** Floats of U (and of the kernel kept to compare with) beyond which an entry is not kept. */
const MAX_ENTRY_FLOATS = 1 << 20;
/** Floats all entries hold together at most (16 MiB of U and 16 MiB of kernels). */
const MAX_TOTAL_FLOATS = 1 << 22;

interface Entry {
  bits: Int32Array;
  u: Float32Array;
}

/** Most recently used last (Map keeps insertion order). */
const entries = new Map<string, Entry>();
let totalFloats = 0;

/** The 32-bit hash entries are found by (exported for tests that need two kernels that collide). */
export function hashBits(bits: Int32Array): number {
  let h = 0x811c9dc5 ^ bits.length;
  for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i], 0x01000193);
  return h >>> 0;
}

function sameBits(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Fills f[at, at + floats) with the transform of kernel w that `write` computes there; from
 * the cache where the same kernel bits came with the same `layout` (the transform's variant and
 * packing) before. `layout` must determine everything `write` writes besides w's values.
 */
export function cachedKernelTransform(
  f: Float32Array,
  at: number,
  floats: number,
  w: Float32Array,
  layout: string,
  write: () => void,
): void {
  if (floats > MAX_ENTRY_FLOATS || w.length > MAX_ENTRY_FLOATS) {
    write();
    return;
  }
  const bits = new Int32Array(w.buffer, w.byteOffset, w.length);
  const key = `${layout}|${hashBits(bits)}`;
  const hit = entries.get(key);
  if (hit !== undefined && sameBits(hit.bits, bits)) {
    f.set(hit.u, at);
    entries.delete(key);
    entries.set(key, hit);
    return;
  }
  write();
  if (hit !== undefined) {
    entries.delete(key);
    totalFloats -= hit.u.length + hit.bits.length;
  }
  const entry = { bits: bits.slice(), u: f.slice(at, at + floats) };
  entries.set(key, entry);
  totalFloats += floats + bits.length;
  for (const [k, e] of entries) {
    if (totalFloats <= MAX_TOTAL_FLOATS) break;
    entries.delete(k);
    totalFloats -= e.u.length + e.bits.length;
  }
}

/** Drops every entry; returns how many there were (tests). */
export function clearKernelTransformCache(): number {
  const n = entries.size;
  entries.clear();
  totalFloats = 0;
  return n;
}
